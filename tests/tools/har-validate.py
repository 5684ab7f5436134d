#!/usr/bin/env python3
"""har-validate.py HAR_FILE: is it HTTP Archive 1.2, by its JSON Schema?

Validates against tests/fixtures/har-schema/ (the npm package har-schema
2.0.0, the schema har-validator uses) with python3-jsonschema, formats
checked (date-time, ipv4, ipv6: serverIPAddress is one of the two), then
what the schema cannot say but HAR 1.2 does: timings' send, wait and
receive are not negative, the others -1 or more, and an entry's time is the
sum of its timings that are not -1 (ssl is part of connect).
Exit 0 when valid; 1 with the errors on stdout.
"""
import json
import os
import sys
import warnings

import jsonschema

# RefResolver is deprecated in newer jsonschema, the only way in Debian 12's 4.10.
warnings.filterwarnings("ignore", category=DeprecationWarning)

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "har-schema")
store = {}
for name in os.listdir(here):
    if name.endswith(".json"):
        with open(os.path.join(here, name)) as f:
            schema = json.load(f)
        store[schema["$id"]] = schema
        store[schema["$id"].rstrip("#")] = schema

har = json.load(open(sys.argv[1]))
root = store["har.json#"]
resolver = jsonschema.RefResolver(base_uri="har.json#", referrer=root, store=store)
validator = jsonschema.Draft6Validator(root, resolver=resolver,
                                       format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(har), key=lambda e: list(e.path))
for e in errors[:20]:
    print("schema: %s: %s" % ("/".join(str(p) for p in e.path), e.message))

bad = len(errors)
for i, entry in enumerate(har["log"]["entries"]):
    t = entry["timings"]
    for k in ("send", "wait", "receive"):
        if t[k] < 0:
            print("entry %d: timings.%s %s < 0" % (i, k, t[k]))
            bad += 1
    for k in ("blocked", "dns", "connect", "ssl"):
        if k in t and t[k] < -1:
            print("entry %d: timings.%s %s < -1" % (i, k, t[k]))
            bad += 1
    total = sum(t[k] for k in ("blocked", "dns", "connect", "send", "wait", "receive")
                if k in t and t[k] != -1)
    if abs(total - entry["time"]) > 0.002:
        print("entry %d: time %s, its timings add up to %s" % (i, entry["time"], total))
        bad += 1
sys.exit(1 if bad else 0)

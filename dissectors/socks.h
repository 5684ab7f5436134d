/*
 * socks.h - the SOCKS dissector: SOCKS4 (the NEC protocol), SOCKS4a (a
 * host name instead of an address) and SOCKS5 (RFC 1928, with the
 * username/password method of RFC 1929), recognised by the client's first
 * message on any port.  It reads the handshake of both directions, records
 * the target the client asked for, and when the server grants a CONNECT
 * hands the rest of both directions to the flow layer, which probes what
 * the tunnel carries (docs/stacking.md).  A refusal, or a handshake cut
 * short or malformed, is a `socks-error` finding.
 */
#ifndef KALENS_SOCKS_H
#define KALENS_SOCKS_H

#include "dissect.h"

extern const struct dissector socks_dissector;

#endif

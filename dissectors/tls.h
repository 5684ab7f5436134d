/*
 * tls.h - the TLS dissector: recognises TLS by its first record, walks the
 * record layer of both directions (records split across segments,
 * handshake messages split across records), reads the ClientHello and
 * ServerHello (tls_hello.h), counts application data, and summarises the
 * connection's TLS facts (conn_record.h).
 *
 * With a key log (dissect_conn_info.keylog) that has the connection's
 * secrets, records are opened (tls_crypto.h) and the application data goes,
 * in order, to the HTTP/1 dissector as if it were cleartext; records that
 * do not authenticate are findings and reach it as gaps.  Without keys,
 * application data is skipped by length, never copied.
 */
#ifndef KALENS_TLS_H
#define KALENS_TLS_H

#include "dissect.h"

extern const struct dissector tls_dissector;

#endif

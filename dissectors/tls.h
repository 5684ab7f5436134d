/*
 * tls.h - the TLS dissector without keys: recognises TLS by its first
 * record, walks the record layer of both directions (records split across
 * segments, handshake messages split across records), reads the
 * ClientHello and ServerHello (tls_hello.h) and counts application data,
 * and summarises the connection's TLS facts (conn_record.h).  Application
 * data is skipped by length, never copied.  Decryption with a key log is a
 * later step of the project.
 */
#ifndef KALENS_TLS_H
#define KALENS_TLS_H

#include "dissect.h"

extern const struct dissector tls_dissector;

#endif

/*
 * tls_detect.h - recognises TLS connections so they are stored as
 * protocol 'tls' instead of 'unknown'.  It reads nothing further: TLS
 * decryption (with a key log) is a later step of the project.
 */
#ifndef KALENS_TLS_DETECT_H
#define KALENS_TLS_DETECT_H

#include "dissect.h"

extern const struct dissector tls_detect_dissector;

#endif

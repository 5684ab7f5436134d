/*
 * starttls.h - the STARTTLS dissector: the cleartext start of SMTP, IMAP,
 * POP3 and FTP sessions, recognised by the server's greeting ("220 ",
 * "* OK", "+OK"), read line by line only as far as the command that
 * switches to TLS: SMTP STARTTLS answered 220 (RFC 3207), IMAP STARTTLS
 * answered OK (RFC 9051 §6.2.1), POP3 STLS answered +OK (RFC 2595 §4),
 * FTP AUTH TLS answered 234 (RFC 4217 §4).  From the next byte on, both
 * directions are handed to the TLS dissector by the flow layer
 * (docs/stacking.md).  A refusal is a `starttls-refused` finding.
 */
#ifndef KALENS_STARTTLS_H
#define KALENS_STARTTLS_H

#include "dissect.h"

extern const struct dissector starttls_dissector;

#endif

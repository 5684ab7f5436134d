/*
 * http1.h - the HTTP/1.x dissector: requests and responses of a TCP
 * connection, paired first-in-first-out, with what each side said about
 * persistence (docs/keepalive.md).
 */
#ifndef KALENS_HTTP1_H
#define KALENS_HTTP1_H

#include "dissect.h"

/* Requests waiting for a response, per connection, before the oldest is
 * stored without one (a capture of only the client side). */
#define HTTP1_PENDING_MAX 256

/* Bytes kept of each string of a pending request (URI, Host, ...); longer
 * values are stored cut. */
#define HTTP1_STRING_KEEP 2048

extern const struct dissector http1_dissector;

#endif

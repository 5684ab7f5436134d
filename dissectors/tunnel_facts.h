/*
 * tunnel_facts.h - a connection that carried a tunnel: how it was asked
 * for (an HTTP CONNECT, a SOCKS request) and to where.  The tunnel columns
 * of `connections`; written by the dissector that saw the tunnel accepted
 * (http1.c, socks.c).  What ran inside is the next layer's (the `stack`
 * column, docs/stacking.md).
 */
#ifndef KALENS_TUNNEL_FACTS_H
#define KALENS_TUNNEL_FACTS_H

#include "conn_record.h"
#include "facts.h"

struct tunnel_facts {
	const char *kind;             /* "connect", "socks4", "socks4a", "socks5"; static */
	char target[264];             /* "host:port", "[2001:db8::1]:443" */
};

extern const struct fact_section tunnel_facts_section;

#endif

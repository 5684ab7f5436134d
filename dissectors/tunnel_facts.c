/*
 * tunnel_facts.c - the tunnel section of `connections` (tunnel_facts.h).
 */
#include "tunnel_facts.h"

static const char *const tunnel_kinds[] = { "connect", "socks4", "socks4a", "socks5", NULL };

/* One line per column: name, type, flags, allowed words, unit, meaning,
 * what NULL means, and its value from `f`, the struct tunnel_facts. */
#define TUNNEL_COLUMNS(X) \
	X(tunnel, TEXT, 0, tunnel_kinds, "", \
	  "how a tunnel was opened on the connection and accepted: `connect` (HTTP " \
	  "`CONNECT` answered 2xx), `socks4`, `socks4a`, `socks5` (the SOCKS server granted " \
	  "the request)", \
	  "no tunnel", \
	  cv_text(f->kind)) \
	X(tunnel_target, TEXT, 0, NULL, "", \
	  "where the tunnel leads, as the client asked: `example.org:443`, " \
	  "`192.0.2.7:80`, `[2001:db8::1]:443`", \
	  "no tunnel", \
	  f->kind ? cv_text_nonempty(f->target) : cv_null())

#define COLUMN_REC struct tunnel_facts
COLUMNS_DEFINE(TUNNEL_COLUMNS, tunnel_columns)
#undef COLUMN_REC

const struct fact_section tunnel_facts_section = {
	.name = "tunnel",
	.size = sizeof(struct tunnel_facts),
	.init = NULL,
	.columns = COLUMN_LIST(tunnel_columns),
};

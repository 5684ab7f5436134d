/*
 * conn_record.c - the TCP columns of `connections`, and the names of the
 * conn_record enums as stored.
 *
 * These strings are part of the documented schema (docs/schema.md,
 * connections.close_initiator and connections.close_kind): changing one
 * breaks every saved query, so they only ever gain new values.
 */
#include "conn_record.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

const char *conn_closer_name(enum conn_closer c)
{
	switch (c) {
	case CONN_CLOSER_CLIENT: return "client";
	case CONN_CLOSER_SERVER: return "server";
	case CONN_CLOSER_NONE: break;
	}
	return NULL;
}

const char *conn_close_kind_name(enum conn_close_kind k)
{
	switch (k) {
	case CONN_CLOSE_OPEN: return "open";
	case CONN_CLOSE_FIN: return "fin";
	case CONN_CLOSE_RST: return "rst";
	case CONN_CLOSE_IDLE: return "idle";
	case CONN_CLOSE_EVICTED: return "evicted";
	}
	/* Out of range only through a bad cast: NULL, so the store refuses
	 * the row instead of recording a guess. */
	return NULL;
}

const char *const conn_closer_names[] = { "client", "server", NULL };
const char *const conn_close_kind_names[] = { "fin", "rst", "idle", "open", "evicted", NULL };

const char *conn_ip_text(uint8_t ip_version, const uint8_t ip[16], char *buf, size_t len)
{
	int af = ip_version == 4 ? AF_INET : ip_version == 6 ? AF_INET6 : 0;
	if (!af || !inet_ntop(af, ip, buf, (socklen_t)len))
		return NULL;
	return buf;
}

/* One line per column: name, type, flags, allowed words, unit, meaning,
 * what NULL means, and its value from `f`, the struct conn_record. */
#define CONN_COLUMNS(X) \
	X(id, INTEGER, COL_KEY, NULL, "", \
	  "connection number, unique in the database, given when the connection began (so " \
	  "increasing in the order connections began within a run); `requests.conn_id` and " \
	  "`findings.conn_id` refer to it", \
	  "", \
	  f->id > 0 ? cv_int(f->id) : cv_null()) \
	X(run_id, INTEGER, COL_RUN, NULL, "", \
	  "the run (`runs.id`) it was read in", \
	  "", \
	  cv_null()) \
	X(client_ip, TEXT, COL_NOT_NULL, NULL, "", \
	  "client address, `192.0.2.10` or `2001:db8::1` (RFC 5952 form, no brackets)", \
	  "", \
	  cv_text_copy(conn_ip_text(f->ip_version, f->client_ip, buf, len))) \
	X(client_port, INTEGER, COL_NOT_NULL, NULL, "", \
	  "client TCP port", \
	  "", \
	  cv_int(f->client_port)) \
	X(server_ip, TEXT, COL_NOT_NULL, NULL, "", \
	  "server address, as `client_ip`", \
	  "", \
	  cv_text_copy(conn_ip_text(f->ip_version, f->server_ip, buf, len))) \
	X(server_port, INTEGER, COL_NOT_NULL, NULL, "", \
	  "server TCP port", \
	  "", \
	  cv_int(f->server_port)) \
	X(ip_version, INTEGER, COL_NOT_NULL, NULL, "", \
	  "4 or 6", \
	  "", \
	  cv_int(f->ip_version)) \
	X(first_seen, REAL, COL_NOT_NULL, NULL, "s, epoch", \
	  "capture time of its first packet", \
	  "", \
	  cv_seconds(f->first_seen)) \
	X(last_seen, REAL, COL_NOT_NULL, NULL, "s, epoch", \
	  "capture time of its last packet", \
	  "", \
	  cv_seconds(f->last_seen)) \
	X(syn_seen, INTEGER, COL_NOT_NULL, NULL, "0/1", \
	  "the client's SYN was captured (0: picked up mid-stream, roles inferred)", \
	  "", \
	  cv_bool(f->syn_seen)) \
	X(handshake_rtt, REAL, 0, NULL, "s", \
	  "from the client's SYN to the client's ACK of the SYN-ACK (Wireshark's iRTT), as " \
	  "seen at the capture point", \
	  "not measured: SYN, SYN-ACK or that ACK missing from the capture", \
	  cv_seconds_if(f->has_handshake_rtt, f->handshake_rtt)) \
	X(close_initiator, TEXT, 0, conn_closer_names, "", \
	  "`client` or `server`: the side that began the close — the sender of the first " \
	  "FIN or RST, unless a TLS `close_notify` (or fatal alert) of the other side came " \
	  "before it (docs/keepalive.md, \"Who closed\"); `tcp_close_initiator` is TCP's view " \
	  "alone", \
	  "no FIN or RST seen (`close_kind` is `open`, `idle` or `evicted`)", \
	  cv_text(conn_closer_name(f->close_initiator))) \
	X(close_kind, TEXT, COL_NOT_NULL, conn_close_kind_names, "", \
	  "how it ended, see below", \
	  "", \
	  cv_text(conn_close_kind_name(f->close_kind))) \
	X(close_ts, REAL, 0, NULL, "s, epoch", \
	  "capture time the close began: that first FIN or RST, or the TLS alert before it " \
	  "that `close_initiator` follows", \
	  "`close_kind` is `open`, `idle` or `evicted`", \
	  cv_seconds_if(f->close_kind == CONN_CLOSE_FIN || f->close_kind == CONN_CLOSE_RST, f->close_ts)) \
	X(tcp_close_initiator, TEXT, 0, conn_closer_names, "", \
	  "`client` or `server`: the side that sent the first FIN or RST (what tshark's " \
	  "reading of the TCP flags says)", \
	  "no FIN or RST seen", \
	  cv_text(conn_closer_name(f->tcp_close_initiator))) \
	X(packets_to_server, INTEGER, 0, NULL, "packets", \
	  "TCP segments captured from client to server", \
	  "never NULL", \
	  cv_u64(f->packets[KL_TO_SERVER])) \
	X(packets_to_client, INTEGER, 0, NULL, "packets", \
	  "TCP segments captured from server to client", \
	  "never NULL", \
	  cv_u64(f->packets[KL_TO_CLIENT])) \
	X(bytes_to_server, INTEGER, 0, NULL, "bytes", \
	  "TCP payload bytes client to server, as on the wire, retransmissions included", \
	  "never NULL", \
	  cv_u64(f->bytes[KL_TO_SERVER])) \
	X(bytes_to_client, INTEGER, 0, NULL, "bytes", \
	  "the same, server to client", \
	  "never NULL", \
	  cv_u64(f->bytes[KL_TO_CLIENT])) \
	X(gap_bytes, INTEGER, 0, NULL, "bytes", \
	  "bytes of the two streams that were never captured (lost by the capture, cut by " \
	  "the snap length, or skipped at a memory cap), both directions", \
	  "never NULL", \
	  cv_u64(f->gap_bytes)) \
	X(retransmitted_bytes, INTEGER, 0, NULL, "bytes", \
	  "payload bytes captured again after the same stream bytes had already been " \
	  "captured (retransmissions), both directions", \
	  "never NULL", \
	  cv_u64(f->retransmitted_bytes)) \
	X(one_sided, INTEGER, 0, NULL, "0/1", \
	  "packets were captured in one direction only (asymmetric routing, a filter, or a " \
	  "SYN never answered)", \
	  "never NULL", \
	  cv_bool(f->one_sided)) \
	X(protocol, TEXT, COL_NOT_NULL, NULL, "", \
	  "the application protocol recognised by a dissector from the content (not the " \
	  "port): `http/1.1` or `http/1.0` (the version of the client's first request; " \
	  "without requests, of the first response), `http` (HTTP/1 recognised, no version " \
	  "known), `http/2` (HTTP/2: by the client's connection preface, or after an " \
	  "`Upgrade: h2c` and a `101`; HTTP/2 inside TLS stays `tls`, with `alpn` `h2`), " \
	  "`tls` (it starts with a TLS handshake record; its handshake facts are in the " \
	  "`tls_*`, `sni`, `alpn`, `cipher` columns; when it was decrypted with `--keylog` " \
	  "(`decrypted` = 1) the HTTP/1 or HTTP/2 inside fills the HTTP columns below and " \
	  "`requests`, exactly as for cleartext), `unknown` when no dissector claimed the " \
	  "connection", \
	  "", \
	  cv_text(f->protocol ? f->protocol : "unknown")) \
	X(stack, TEXT, 0, NULL, "", \
	  "the protocols read on the connection when one ran inside another, outermost " \
	  "first: `http/1.1 > tls > http/1.1` (TLS inside an HTTP `CONNECT` tunnel), " \
	  "`socks5 > http/1.1`, `smtp > tls` (after `STARTTLS`), `http/1.1 > http/2` " \
	  "(`Upgrade: h2c`), `tls > http/2` (decrypted); see [stacking.md](stacking.md)", \
	  "one protocol, or none recognised", \
	  strchr(f->stack, '>') ? cv_text(f->stack) : cv_null()) \
	X(stored_seq, INTEGER, COL_SEQ, NULL, "", \
	  "the order the connection was stored in within its run (1, 2, …: connections are " \
	  "numbered when they begin but stored when they end); `kalens ship` sends a run's " \
	  "connections in this order", \
	  "stored by a kalens before this column", \
	  cv_null())

#define COLUMN_REC struct conn_record
COLUMNS_DEFINE(CONN_COLUMNS, conn_column_array)
#undef COLUMN_REC

const struct column_list conn_columns = COLUMN_LIST(conn_column_array);

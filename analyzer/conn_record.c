/*
 * conn_record.c - names of the conn_record enums, as stored in SQLite.
 *
 * These strings are part of the documented schema (docs/schema.md,
 * connections.close_initiator and connections.close_kind): changing one
 * breaks every saved query, so they only ever gain new values.
 */
#include "conn_record.h"

#include <stddef.h>

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
	}
	/* Out of range only through a bad cast: NULL, so the store refuses
	 * the row instead of recording a guess. */
	return NULL;
}

void conn_record_summary_defaults(struct conn_record *r)
{
	r->requests = r->responses = 0;
	r->has_max_idle = false;
	r->max_idle = 0;
	r->ka_timeout_advertised = r->ka_max_advertised = -1;
	r->expected_persistent = -1;
	r->has_idle_before_close = false;
	r->idle_before_close = 0;
	r->close_announced_by = CONN_CLOSER_NONE;
	r->close_announced_seq = 0;
	r->close_on_persistent_request = false;
	r->ka_max_first = -1;
	r->pipelined_requests = 0;
	r->last_request_ts = 0;
	r->last_request_seq = 0;
	r->tls_version = r->tls_cipher = 0;
	r->tls_sni[0] = r->tls_alpn[0] = '\0';
	r->tls_resumed = -1;
	r->has_tls_handshake = false;
	r->tls_handshake = 0;
	r->tls_records[0] = r->tls_records[1] = 0;
	r->tls_exchanges = 0;
	r->tls_decrypted = false;
	r->h2 = false;
	r->h2_streams = 0;
	r->h2_peak_streams = 0;
	r->h2_settings_max_streams = r->h2_initial_window = -1;
	r->h2_goaway_by = CONN_CLOSER_NONE;
	r->h2_goaway_error = r->h2_goaway_last_stream = -1;
	r->h2_rst_streams = 0;
	r->has_h2_ping_rtt = false;
	r->h2_ping_rtt = 0;
	r->has_reuse_saved = false;
	r->reuse_saved = 0;
}

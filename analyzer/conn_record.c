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

/*
 * records.h - what dissectors report, on its way to the store.
 *
 * A dissector describes each application request (one row of `requests`)
 * and each notable event (one row of `findings`) as a plain value and hands
 * it to a struct dissect_output; the receiver copies what it keeps before
 * returning, so strings may point into the dissector's own buffers.
 * Connections are numbered when they begin (conn_id), so a request can be
 * stored before its connection's row, which is written when it ends.
 */
#ifndef KALENS_RECORDS_H
#define KALENS_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "columns.h"
#include "findings.h"
#include "kl.h"

struct request_record {
	int64_t conn_id;
	uint64_t seq;                    /* 1-based position on the connection */
	const char *method, *uri, *host, *version;   /* NULL: not seen */
	int status;                      /* final status; 0: no response seen */
	unsigned interim;                /* 1xx responses before the final one */
	kl_time request_ts, request_end_ts;          /* 0: not seen */
	kl_time response_ts, response_end_ts;        /* 0: not seen / not complete */
	const char *req_connection, *req_keep_alive; /* raw header values, NULL: absent */
	const char *req_proxy_connection;
	const char *resp_connection, *resp_keep_alive;
	int64_t request_body_bytes, response_body_bytes;   /* -1: unknown */
	bool pipelined;                  /* sent before the previous response ended */
	bool has_idle_before;
	kl_time idle_before;             /* previous response's end to this request */
	const char *upgrade;             /* protocol switched to (101 Upgrade, "CONNECT"), or NULL */
	uint32_t stream_id;              /* HTTP/2 stream; 0: HTTP/1 */
	const char *response_version;    /* the final response's: "HTTP/1.0", "HTTP/2"; NULL: none;
					  * static storage (http_version_name) */
};

/* The string fields of a request_record, which a receiver that keeps the
 * record past the call must copy (storeq.c). */
#define REQUEST_RECORD_STRINGS(X)                                                         \
	X(method) X(uri) X(host) X(version) X(req_connection) X(req_keep_alive)          \
	X(req_proxy_connection) X(resp_connection) X(resp_keep_alive) X(upgrade)

struct finding_record {
	int64_t conn_id;
	uint64_t request_seq;            /* 0: not about one request */
	kl_time ts;
	enum finding_kind kind;          /* findings.h */
	const char *detail;              /* NULL or a short text */
};

/* Connection attempts never answered, from one client to one server port,
 * added up (attempts.h): a connection all of whose packets were the
 * client's SYNs is counted here instead of being a row of `connections`
 * (docs/schema.md, "attempts"). */
struct attempt_record {
	uint8_t ip_version;              /* 4 or 6 */
	uint8_t client_ip[16], server_ip[16];
	uint16_t server_port;
	uint64_t attempts;               /* connections (distinct client ports or ISNs) */
	uint64_t syn_packets;            /* SYNs, retransmissions included */
	kl_time first_seen, last_seen;   /* first SYN, last SYN */
};

/* "HTTP/1.1" for 1.1, from static storage; "HTTP/9.9" at most. */
const char *http_version_name(unsigned major, unsigned minor);

/* The columns of `requests` and `findings` (docs/schema.md); `f` is the
 * record. */
extern const struct column_list request_columns;
extern const struct column_list finding_columns;
extern const struct column_list attempt_columns;

/* Where a dissector's records go; both callbacks copy what they keep. */
struct dissect_output {
	void (*request)(void *ctx, const struct request_record *r);
	void (*finding)(void *ctx, const struct finding_record *f);
	void *ctx;
};

#endif

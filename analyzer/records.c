/*
 * records.c - the columns of `requests`, `findings` and `attempts` (records.h).
 */
#include "records.h"

#include "conn_record.h"

/* One line per column: name, type, flags, allowed words, unit, meaning,
 * what NULL means, and its value from `f`, the record. */
#define REQUEST_COLUMNS(X) \
	X(id, INTEGER, COL_KEY, NULL, "", \
	  "request number, unique in the database", \
	  "", \
	  cv_null()) \
	X(conn_id, INTEGER, COL_NOT_NULL, NULL, "", \
	  "its connection (`connections.id`)", \
	  "", \
	  cv_int(f->conn_id)) \
	X(run_id, INTEGER, COL_RUN, NULL, "", \
	  "its run (`runs.id`)", \
	  "", \
	  cv_null()) \
	X(seq, INTEGER, COL_NOT_NULL, NULL, "", \
	  "1-based position on its connection (Zeek's `trans_depth`); HTTP/2: the order the " \
	  "streams began in", \
	  "", \
	  cv_u64(f->seq)) \
	X(method, TEXT, 0, NULL, "", \
	  "request method as sent (`GET`)", \
	  "never NULL in practice", \
	  cv_text(f->method)) \
	X(uri, TEXT, 0, NULL, "", \
	  "request target as sent (`/index.html`, `*`, `host:443`), cut at 2048 bytes", \
	  "never NULL in practice", \
	  cv_text(f->uri)) \
	X(host, TEXT, 0, NULL, "", \
	  "the `Host` header", \
	  "no Host header", \
	  cv_text(f->host)) \
	X(version, TEXT, 0, NULL, "", \
	  "`HTTP/1.1`, `HTTP/1.0`, or a malformed version as written (`HTTP/1.`, read as " \
	  "1.0); `HTTP/2` for an HTTP/2 stream (the request of an h2c upgrade keeps the " \
	  "`HTTP/1.1` it was sent with)", \
	  "never NULL in practice", \
	  cv_text(f->version)) \
	X(status, INTEGER, 0, NULL, "", \
	  "status code of the final response", \
	  "no response seen (lost from the capture, or never sent)", \
	  f->status ? cv_int(f->status) : cv_null()) \
	X(interim_responses, INTEGER, 0, NULL, "", \
	  "1xx responses before the final one (`100 Continue`)", \
	  "never NULL", \
	  cv_int(f->interim)) \
	X(request_ts, REAL, 0, NULL, "s, epoch", \
	  "capture time of the segment carrying the request's first byte", \
	  "never NULL", \
	  f->request_ts ? cv_seconds(f->request_ts) : cv_null()) \
	X(request_end_ts, REAL, 0, NULL, "s, epoch", \
	  "capture time of its last byte (end of its body)", \
	  "the request was not seen whole", \
	  f->request_end_ts ? cv_seconds(f->request_end_ts) : cv_null()) \
	X(response_ts, REAL, 0, NULL, "s, epoch", \
	  "first byte of the first response to it (an interim one included)", \
	  "no response seen", \
	  f->response_ts ? cv_seconds(f->response_ts) : cv_null()) \
	X(response_end_ts, REAL, 0, NULL, "s, epoch", \
	  "last byte of the final response", \
	  "no complete final response", \
	  f->response_end_ts ? cv_seconds(f->response_end_ts) : cv_null()) \
	X(req_connection, TEXT, 0, NULL, "", \
	  "the request's `Connection` header value as sent, several fields joined with " \
	  "`, `, cut at 255 bytes", \
	  "header absent", \
	  cv_text(f->req_connection)) \
	X(req_keep_alive, TEXT, 0, NULL, "", \
	  "the request's `Keep-Alive` header value, as `req_connection`", \
	  "header absent", \
	  cv_text(f->req_keep_alive)) \
	X(resp_connection, TEXT, 0, NULL, "", \
	  "the final response's `Connection` header value, as `req_connection`", \
	  "header absent", \
	  cv_text(f->resp_connection)) \
	X(resp_keep_alive, TEXT, 0, NULL, "", \
	  "the final response's `Keep-Alive` header value, as `req_connection`", \
	  "header absent", \
	  cv_text(f->resp_keep_alive)) \
	X(request_body_bytes, INTEGER, 0, NULL, "bytes", \
	  "body bytes on the wire after the head (chunk framing included)", \
	  "the request was not seen whole", \
	  cv_int_or_null(f->request_body_bytes)) \
	X(response_body_bytes, INTEGER, 0, NULL, "bytes", \
	  "the same for the final response (bytes lost in a gap count: the framing says how " \
	  "many there were)", \
	  "no complete final response", \
	  cv_int_or_null(f->response_body_bytes)) \
	X(pipelined, INTEGER, COL_NOT_NULL, NULL, "0/1", \
	  "sent before the response to the previous request had ended", \
	  "", \
	  cv_bool(f->pipelined)) \
	X(idle_before, REAL, 0, NULL, "s", \
	  "from the end of the previous response on the connection to this request's first " \
	  "byte", \
	  "the first request, or pipelined", \
	  cv_seconds_if(f->has_idle_before, f->idle_before)) \
	X(upgrade, TEXT, 0, NULL, "", \
	  "what the connection switched to after this request: the `Upgrade` value of a " \
	  "`101` response (`websocket`, `h2c`), or `CONNECT` for a tunnel; HTTP/1 parsing " \
	  "stops there. After `h2c` the rest is HTTP/2: this request is stream 1, the `101` " \
	  "counted in `interim_responses`, and `status` is the final status that came over " \
	  "HTTP/2 (RFC 7540 §3.2)", \
	  "no switch", \
	  cv_text(f->upgrade)) \
	X(req_proxy_connection, TEXT, 0, NULL, "", \
	  "the request's `Proxy-Connection` value (sent by some clients to proxies)", \
	  "header absent", \
	  cv_text(f->req_proxy_connection)) \
	X(stream_id, INTEGER, 0, NULL, "", \
	  "HTTP/2 stream identifier (RFC 9113 §5.1.1: odd for the client's, even for pushed " \
	  "ones; 1 for the request of an h2c upgrade)", \
	  "HTTP/1", \
	  f->stream_id ? cv_int(f->stream_id) : cv_null()) \
	X(response_version, TEXT, 0, NULL, "", \
	  "the final response's version as its status line gave it: `HTTP/1.1`, `HTTP/1.0` (a " \
	  "server that answers an HTTP/1.1 request with HTTP/1.0 keeps the connection only if " \
	  "it says `keep-alive`: finding `http10-response`), `HTTP/2` on an HTTP/2 stream", \
	  "no response seen (rows before schema 6: not recorded)", \
	  cv_text(f->response_version))


#define COLUMN_REC struct request_record
COLUMNS_DEFINE(REQUEST_COLUMNS, request_column_array)
#undef COLUMN_REC

const struct column_list request_columns = COLUMN_LIST(request_column_array);

#define FINDING_COLUMNS(X) \
	X(id, INTEGER, COL_KEY, NULL, "", \
	  "finding number", \
	  "", \
	  cv_null()) \
	X(run_id, INTEGER, COL_RUN, NULL, "", \
	  "its run", \
	  "", \
	  cv_null()) \
	X(conn_id, INTEGER, 0, NULL, "", \
	  "its connection", \
	  "not about one connection", \
	  f->conn_id > 0 ? cv_int(f->conn_id) : cv_null()) \
	X(request_seq, INTEGER, 0, NULL, "", \
	  "`requests.seq` of the request it is about, on that connection", \
	  "not about one request", \
	  f->request_seq ? cv_u64(f->request_seq) : cv_null()) \
	X(ts, REAL, 0, NULL, "s, epoch", \
	  "capture time when it was noticed", \
	  "unknown", \
	  f->ts ? cv_seconds(f->ts) : cv_null()) \
	X(kind, TEXT, COL_NOT_NULL, NULL, "", \
	  "what, below", \
	  "", \
	  cv_text(finding_kind_name(f->kind))) \
	X(detail, TEXT, 0, NULL, "", \
	  "a short human-readable precision (`7240 bytes missing to the client at offset " \
	  "7240`)", \
	  "nothing to add", \
	  cv_text(f->detail))


#define COLUMN_REC struct finding_record
COLUMNS_DEFINE(FINDING_COLUMNS, finding_column_array)
#undef COLUMN_REC

const struct column_list finding_columns = COLUMN_LIST(finding_column_array);

#define ATTEMPT_COLUMNS(X) \
	X(id, INTEGER, COL_KEY, NULL, "", \
	  "row number", \
	  "", \
	  cv_null()) \
	X(run_id, INTEGER, COL_RUN, NULL, "", \
	  "its run", \
	  "", \
	  cv_null()) \
	X(ip_version, INTEGER, COL_NOT_NULL, NULL, "", \
	  "4 or 6", \
	  "", \
	  cv_int(f->ip_version)) \
	X(client_ip, TEXT, COL_NOT_NULL, NULL, "", \
	  "the address that sent the SYNs", \
	  "", \
	  cv_text_copy(conn_ip_text(f->ip_version, f->client_ip, buf, len))) \
	X(server_ip, TEXT, COL_NOT_NULL, NULL, "", \
	  "the address they went to", \
	  "", \
	  cv_text_copy(conn_ip_text(f->ip_version, f->server_ip, buf, len))) \
	X(server_port, INTEGER, COL_NOT_NULL, NULL, "", \
	  "the port they went to", \
	  "", \
	  cv_int(f->server_port)) \
	X(attempts, INTEGER, COL_NOT_NULL, NULL, "", \
	  "connections that client began to that port and nothing answered: every packet " \
	  "of each was the client's SYN", \
	  "", \
	  cv_u64(f->attempts)) \
	X(syn_packets, INTEGER, COL_NOT_NULL, NULL, "", \
	  "their SYNs, retransmissions included", \
	  "", \
	  cv_u64(f->syn_packets)) \
	X(first_seen, REAL, COL_NOT_NULL, NULL, "s, epoch", \
	  "the first of those SYNs", \
	  "", \
	  cv_seconds(f->first_seen)) \
	X(last_seen, REAL, COL_NOT_NULL, NULL, "s, epoch", \
	  "the last of them", \
	  "", \
	  cv_seconds(f->last_seen))

#define COLUMN_REC struct attempt_record
COLUMNS_DEFINE(ATTEMPT_COLUMNS, attempt_column_array)
#undef COLUMN_REC

const struct column_list attempt_columns = COLUMN_LIST(attempt_column_array);

#define HTTP_VERSION_ROW_(m) "HTTP/" #m ".0", "HTTP/" #m ".1", "HTTP/" #m ".2", "HTTP/" #m ".3", \
	"HTTP/" #m ".4", "HTTP/" #m ".5", "HTTP/" #m ".6", "HTTP/" #m ".7", "HTTP/" #m ".8", \
	"HTTP/" #m ".9"

const char *http_version_name(unsigned major, unsigned minor)
{
	static const char *const names[100] = {
		HTTP_VERSION_ROW_(0), HTTP_VERSION_ROW_(1), HTTP_VERSION_ROW_(2), HTTP_VERSION_ROW_(3),
		HTTP_VERSION_ROW_(4), HTTP_VERSION_ROW_(5), HTTP_VERSION_ROW_(6), HTTP_VERSION_ROW_(7),
		HTTP_VERSION_ROW_(8), HTTP_VERSION_ROW_(9),
	};
	return names[(major > 9 ? 9 : major) * 10 + (minor > 9 ? 9 : minor)];
}

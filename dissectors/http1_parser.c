/*
 * http1_parser.c - see http1_parser.h.
 *
 * One state machine per direction.  The head is found by looking for its
 * empty line with memchr; when it lies inside one piece it is parsed where
 * it is, otherwise the pieces are gathered in `buf` (bounded by the head
 * limit).  The start line is checked as soon as it is complete, so a stream
 * that is not HTTP, or a false resynchronisation point, is given up after
 * one line instead of after a whole head limit.
 */
#include "http1_parser.h"

#include <stdlib.h>
#include <string.h>

enum state {
	S_IDLE,          /* between messages */
	S_HEAD,          /* inside a head */
	S_BODY_LEN,      /* Content-Length body */
	S_CHUNK_SIZE,    /* chunk-size line */
	S_CHUNK_DATA,    /* chunk data */
	S_CHUNK_END,     /* the CRLF after chunk data */
	S_TRAILERS,      /* trailer section */
	S_BODY_EOF,      /* body until the connection closes */
	S_RESYNC,        /* looking for the next message start */
	S_TUNNEL,        /* no longer HTTP/1 */
	S_DONE,          /* after eof */
};

#define CHUNK_LINE_MAX 1024u     /* chunk-size line, extensions included */

/* A raw header value kept for the store, several fields joined. */
struct raw_value {
	char b[HTTP1_VALUE_KEEP];
	size_t n;
};

/* The joined raw values of one head, which struct http1_head points into:
 * on the stack of the call that parses the head and reports it, so a
 * parser between heads holds none of it. */
struct head_raws {
	struct raw_value conn, ka, pc;
};

struct http1_parser {
	bool requests;
	bool any_message;            /* a head was parsed on this stream */
	bool not_http;               /* the stream's first bytes were not HTTP */
	bool tunnel;                 /* switched protocols: no longer HTTP/1 */
	uint64_t fed;                /* stream bytes fed and gaps, before this piece */
	uint64_t tunnel_at;          /* stream offset where the tunnel's bytes begin */
	enum state st;
	size_t head_limit;
	const struct http1_callbacks *cb;
	void *ctx;

	kl_time msg_ts;              /* first byte of the current message */
	uint64_t remaining;          /* body or chunk bytes still to skip */
	uint64_t body_bytes;
	uint64_t skipped;            /* while resynchronising */
	bool line_start;             /* resync: the next byte starts a line */
	bool after_gap;              /* a gap since the last message head began */

	/* Head gathering across pieces. */
	uint8_t *buf;
	size_t blen, bcap;
	size_t line_bytes;           /* bytes of the current line so far */
	bool line_only_cr;           /* ... and they are a single CR */
	bool first_line_checked;
	bool tentative;              /* a resync candidate: no start line yet */
	bool empty_lines_before;     /* empty lines were skipped before this message */
	size_t chunk_line;           /* bytes of the current chunk-size/trailer line */
	uint64_t chunk_size;
	int chunk_digits;
	bool chunk_ext;              /* past the size digits (extension or OWS) */
	bool chunk_bad;
	size_t trailer_bytes;
};

/* ---- small helpers ------------------------------------------------------ */

/* RFC 9110 §5.6.2 token characters, by byte value. */
static const bool tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
	['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static inline bool is_tchar(uint8_t c)
{
	return tchar[c];
}

/* A method's characters: a token's, but no lower-case letter.  Methods
 * are case-sensitive tokens (RFC 9110 §9.1) and every registered one is
 * upper-case; a lower-case word at the start of a line is some other
 * protocol's far more often than an unregistered method. */
static inline bool is_mchar(uint8_t c)
{
	return tchar[c] && !(c >= 'a' && c <= 'z');
}

/* The whitespace that may separate request-line parts (RFC 9112 §3). */
static inline bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool span_ieq(const uint8_t *p, size_t n, const char *lit)
{
	size_t m = strlen(lit);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

static void trim(const uint8_t **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* Append ", value" (or "value") to a fixed buffer, cutting at its size. */
static void join_raw(struct raw_value *dst, const uint8_t *v, size_t n)
{
	size_t len = dst->n;
	if (len && len + 2 < HTTP1_VALUE_KEEP) {
		memcpy(dst->b + len, ", ", 2);
		len += 2;
	}
	size_t room = HTTP1_VALUE_KEEP - 1 - len;
	if (n > room)
		n = room;
	memcpy(dst->b + len, v, n);
	dst->b[len + n] = '\0';
	dst->n = len + n;
}

/* Connection-style token list -> HTTP1_CONN_* flags. */
static unsigned conn_tokens(const uint8_t *p, size_t n)
{
	unsigned f = 0;
	while (n) {
		const uint8_t *comma = memchr(p, ',', n);
		size_t len = comma ? (size_t)(comma - p) : n;
		const uint8_t *t = p;
		size_t tn = len;
		trim(&t, &tn);
		if (tn) {
			if (span_ieq(t, tn, "keep-alive"))
				f |= HTTP1_CONN_KEEP_ALIVE;
			else if (span_ieq(t, tn, "close"))
				f |= HTTP1_CONN_CLOSE;
			else if (span_ieq(t, tn, "upgrade"))
				f |= HTTP1_CONN_UPGRADE;
			else
				f |= HTTP1_CONN_OTHER;
		}
		if (!comma)
			break;
		p = comma + 1;
		n -= len + 1;
	}
	return f;
}

/* A non-negative decimal with optional quotes and spaces; -1 if none. */
static int64_t loose_number(const uint8_t *p, size_t n)
{
	trim(&p, &n);
	if (n && *p == '"') {
		p++;
		n--;
		if (n && p[n - 1] == '"')
			n--;
		trim(&p, &n);
	}
	if (!n)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Keep-Alive: timeout=5, max=100 (tolerant of spaces, quotes, case,
 * ';' separators and unknown parameters). */
static void keep_alive_params(const uint8_t *p, size_t n, struct http1_head *h)
{
	while (n) {
		size_t len = 0;
		while (len < n && p[len] != ',' && p[len] != ';')
			len++;
		const uint8_t *eq = memchr(p, '=', len);
		if (eq) {
			const uint8_t *name = p;
			size_t nn = (size_t)(eq - p);
			trim(&name, &nn);
			int64_t v = loose_number(eq + 1, (size_t)(p + len - (eq + 1)));
			if (span_ieq(name, nn, "timeout"))
				h->ka_timeout = v;
			else if (span_ieq(name, nn, "max"))
				h->ka_max = v;
		}
		if (len == n)
			break;
		p += len + 1;
		n -= len + 1;
	}
}

/* Content-Length: one value or a list of identical ones (RFC 9110 §8.6). */
static bool content_length(const uint8_t *p, size_t n, int64_t *out)
{
	bool any = false;
	while (true) {
		const uint8_t *comma = memchr(p, ',', n);
		size_t len = comma ? (size_t)(comma - p) : n;
		const uint8_t *t = p;
		size_t tn = len;
		trim(&t, &tn);
		if (!tn)
			return false;
		int64_t v = 0;
		for (size_t i = 0; i < tn; i++) {
			if (t[i] < '0' || t[i] > '9' || v > (INT64_MAX - (t[i] - '0')) / 10)
				return false;
			v = v * 10 + (t[i] - '0');
		}
		if (*out >= 0 && *out != v)
			return false;
		*out = v;
		any = true;
		if (!comma)
			break;
		p = comma + 1;
		n -= len + 1;
	}
	return any;
}

/* Transfer-Encoding: is the final coding chunked? */
static bool te_final_chunked(const uint8_t *p, size_t n)
{
	const uint8_t *last = p;
	size_t ln = n;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ',') {
			last = p + i + 1;
			ln = n - i - 1;
		}
	}
	const uint8_t *semi = memchr(last, ';', ln);
	if (semi)
		ln = (size_t)(semi - last);
	trim(&last, &ln);
	return span_ieq(last, ln, "chunked");
}

/* ---- start lines ---------------------------------------------------------- */

int http1_looks_like_start(bool requests, const uint8_t *p, size_t n)
{
	if (requests) {
		/* METHOD then SP or HTAB (HTAB: RFC 9112 §3 lets a recipient
		 * split on whitespace). */
		size_t i = 0;
		while (i < n && i < HTTP1_METHOD_MAX && is_mchar(p[i]))
			i++;
		if (i == n)
			return 2;             /* at most HTTP1_METHOD_MAX so far: a space may follow */
		if (i == 0 || !is_ws(p[i]))
			return 0;
		/* The HTTP/2 connection preface is not an HTTP/1 request. */
		static const char preface[] = "PRI * HTTP/2";
		size_t m = n < sizeof preface - 1 ? n : sizeof preface - 1;
		if (memcmp(p, preface, m) == 0)
			return m < sizeof preface - 1 ? 2 : 0;
		return 1;
	}
	static const char pre[] = "HTTP/1.";
	size_t m = n < 7 ? n : 7;
	if (memcmp(p, pre, m) != 0)
		return 0;
	return n < 7 ? 2 : 1;
}

/* ---- evidence of HTTP/1 (the dissector's probe) ---------------------------- */

static bool span_is(const uint8_t *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/* The methods whose name alone, with a target's start, is taken as HTTP
 * when a request-line does not end within the bytes a probe may see:
 * RFC 9110 §9, PATCH (RFC 5789), WebDAV (RFC 4918), and the common WebDAV
 * extensions (REPORT RFC 3253, MKCALENDAR RFC 4791, SEARCH RFC 5323). */
static bool registered_method(const uint8_t *m, size_t n)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
		"PATCH",
		"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK",
		"REPORT", "MKCALENDAR", "SEARCH",
	};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (span_is(m, n, methods[i]))
			return true;
	return false;
}

static bool is_alpha(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Is [t, t+n) a request-target of a form RFC 9112 §3.2 allows for method
 * [m, m+mn)?  `whole`: the target is complete; else it is the start of one
 * (n >= 1) and the answer is whether it can still become one. */
static bool target_form_ok(const uint8_t *m, size_t mn, const uint8_t *t, size_t n, bool whole)
{
	if (n == 0)
		return false;
	if (span_is(m, mn, "CONNECT") && t[0] != '/') {
		/* authority-form (§3.2.3): uri-host ":" port; the host a
		 * reg-name, IPv4 or [IPv6] (RFC 3986 §3.2.2).  (A CONNECT with
		 * an origin-form target is invalid, but is HTTP all the same:
		 * servers answer it 400.) */
		size_t colon = 0;
		for (size_t i = 0; i < n; i++) {
			uint8_t c = t[i];
			if (c == ':')
				colon = i;
			else if (!is_alpha(c) && !is_digit(c) && !strchr("-._~%!$&'()*+,;=[]", c))
				return false;
		}
		if (!whole)
			return true;
		size_t digits = n - colon - 1;
		if (colon == 0 || digits == 0 || digits > 5)
			return false;
		for (size_t i = colon + 1; i < n; i++)
			if (!is_digit(t[i]))
				return false;
		return true;
	}
	if (t[0] == '/')
		return true;                  /* origin-form (§3.2.1) */
	if (t[0] == '*')                      /* asterisk-form (§3.2.4) */
		return n == 1 && span_is(m, mn, "OPTIONS");
	/* absolute-form (§3.2.2): scheme ":" ... (RFC 3986 §3.1). */
	if (!is_alpha(t[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (t[i] == ':')
			return true;
		if (!is_alpha(t[i]) && !is_digit(t[i]) && t[i] != '+' && t[i] != '-' && t[i] != '.')
			return false;
	}
	return !whole;
}

/* The request-line was cut before its end: what the bytes so far say. */
static int evidence_cut(bool last, bool enough)
{
	if (!last)
		return 2;
	return enough ? 1 : 0;
}

int http1_evidence(bool requests, const uint8_t *p, size_t n, bool last)
{
	const uint8_t *q = p, *end = p + n;
	if (!requests) {
		/* status-line = HTTP-version SP status-code (RFC 9112 §4) */
		static const char pre[] = "HTTP/1.";
		for (size_t i = 0; i < 12; i++, q++) {
			if (q == end)
				return evidence_cut(last, false);
			bool ok = i < 7 ? *q == (uint8_t)pre[i] : i == 8 ? *q == ' ' : is_digit(*q);
			if (!ok)
				return 0;
		}
		return 1;
	}
	while (q < end && (*q == '\r' || *q == '\n'))
		q++;                          /* §2.2: empty lines before a request-line */
	const uint8_t *m = q;
	while (q < end && (size_t)(q - m) < HTTP1_METHOD_MAX && is_mchar(*q))
		q++;
	size_t mn = (size_t)(q - m);
	if (q == end)
		return evidence_cut(last, false);
	if (mn == 0 || !is_ws(*q))
		return 0;
	while (q < end && is_ws(*q))
		q++;
	const uint8_t *t = q;
	while (q < end && *q > ' ' && *q != 0x7f)
		q++;
	size_t tn = (size_t)(q - t);
	if (q == end) {
		if (tn && !target_form_ok(m, mn, t, tn, false))
			return 0;
		return evidence_cut(last, tn && registered_method(m, mn));
	}
	bool enough = registered_method(m, mn);
	if (*q == '\r' || *q == '\n') {
		/* No HTTP-version: an HTTP/0.9 simple-request, "GET" and a
		 * target (which the parser reports as an error), or no HTTP. */
		if (!span_is(m, mn, "GET") || !target_form_ok(m, mn, t, tn, true))
			return 0;
		q += *q == '\r';
		if (q == end)
			return evidence_cut(last, enough);
		return *q == '\n' ? 1 : 0;
	}
	if (!is_ws(*q) || !target_form_ok(m, mn, t, tn, true))
		return 0;
	while (q < end && is_ws(*q))
		q++;
	/* "HTTP/" is the evidence: DIGIT "." DIGIT and the line's end
	 * should follow, but a request whose version is malformed ("HTTP/1.")
	 * is one all the same: the parser reads it as 1.0, servers answer it
	 * (400), and tshark and Zeek count it. */
	static const char version[] = "HTTP/";
	for (size_t i = 0; i < 5; i++, q++) {
		if (q == end)
			return evidence_cut(last, enough);
		if (*q != (uint8_t)version[i])
			return 0;
	}
	return 1;
}

/* "HTTP/x.y" -> version; false if it is not one. */
static bool parse_version(const uint8_t *p, size_t n, struct http1_head *h)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return false;
	h->version_major = (uint8_t)(p[5] - '0');
	h->version_minor = (uint8_t)(p[7] - '0');
	return true;
}

/* The request line as nearly every client sends it: one SP between the
 * parts, a well-formed version; found with memchr (the per-message path).
 * false: read it the lenient way (parse_start_line). */
static bool parse_request_line_strict(const uint8_t *p, size_t n, struct http1_head *h)
{
	const uint8_t *end = p + n;
	const uint8_t *sp1 = memchr(p, ' ', n);
	if (!sp1 || sp1 == p || sp1 + 1 >= end || is_ws(sp1[1]))
		return false;
	for (const uint8_t *q = p; q < sp1; q++)
		if (!is_tchar(*q))
			return false;
	const uint8_t *t = sp1 + 1;
	const uint8_t *sp2 = memchr(t, ' ', (size_t)(end - t));
	if (!sp2 || sp2 + 1 >= end || is_ws(sp2[1]) || is_ws(end[-1]) ||
	    memchr(t, '\t', (size_t)(sp2 - t)))
		return false;
	const uint8_t *v = sp2 + 1;
	if (!parse_version(v, (size_t)(end - v), h))
		return false;
	h->method.p = (const char *)p;
	h->method.n = (size_t)(sp1 - p);
	h->target.p = (const char *)t;
	h->target.n = (size_t)(sp2 - t);
	h->version.p = (const char *)v;
	h->version.n = (size_t)(end - v);
	return true;
}

static bool parse_start_line(bool requests, const uint8_t *p, size_t n, struct http1_head *h)
{
	if (memchr(p, '\0', n))
		return false;
	if (requests && parse_request_line_strict(p, n, h))
		return true;
	if (requests) {
		/* RFC 9112 §3: method SP request-target SP HTTP-version, read
		 * on whitespace-delimited word boundaries (runs of SP and
		 * HTAB), as §3 allows a recipient; anything but one SP between
		 * the parts, or whitespace after the version, is said
		 * (HTTP1_LENIENT_WHITESPACE). */
		const uint8_t *end = p + n, *q = p;
		while (q < end && !is_ws(*q))
			q++;
		if (q == p || q == end)
			return false;
		for (const uint8_t *c = p; c < q; c++)
			if (!is_tchar(*c))
				return false;
		h->method.p = (const char *)p;
		h->method.n = (size_t)(q - p);
		const uint8_t *t = q;
		while (t < end && is_ws(*t))
			t++;
		bool strict = t - q == 1 && *q == ' ';
		/* The target is most of the line: find its end with memchr. */
		const uint8_t *te = memchr(t, ' ', (size_t)(end - t));
		const uint8_t *tab = memchr(t, '\t', (size_t)((te ? te : end) - t));
		if (tab)
			te = tab;
		if (!te)
			te = end;
		if (te == t || te == end)
			return false;
		h->target.p = (const char *)t;
		h->target.n = (size_t)(te - t);
		const uint8_t *v = te;
		while (v < end && is_ws(*v))
			v++;
		strict = strict && v - te == 1 && *te == ' ';
		size_t vn = (size_t)(end - v);
		while (vn && is_ws(v[vn - 1]))
			vn--;
		if (vn == 0)
			return false;
		strict = strict && v + vn == end;
		if (!strict)
			h->lenient |= HTTP1_LENIENT_WHITESPACE;
		h->version.p = (const char *)v;
		h->version.n = vn;
		if (parse_version(v, vn, h))
			return true;
		/* "HTTP/" with a malformed number ("HTTP/1."): a request all the
		 * same (the server answers it, typically 400); read as 1.0. */
		if (vn >= 5 && vn <= 16 && memcmp(v, "HTTP/", 5) == 0) {
			h->version_major = 1;
			h->version_minor = 0;
			h->version_malformed = true;
			return true;
		}
		return false;
	}
	if (n < 12 || !parse_version(p, 8, h) || p[8] != ' ')
		return false;
	h->version.p = (const char *)p;
	h->version.n = 8;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (n > 12 && p[12] != ' ')
		return false;
	h->reason.p = (const char *)(n > 13 ? p + 13 : p + n);
	h->reason.n = n > 13 ? n - 13 : 0;
	return h->status >= 100;
}

/* ---- heads ---------------------------------------------------------------- */

enum head_result {
	HEAD_OK,
	HEAD_INCOMPLETE,    /* no empty line yet: nothing to report */
	HEAD_SYNTAX,        /* no usable start line: nothing to report */
	HEAD_BAD_LENGTH,    /* reported, but its body length cannot be trusted */
	HEAD_BAD_FIELD,     /* reported (fields before the bad line), then an error */
};

/* Parse the head at the start of [p, p+n); *used is set to its length
 * (through the LF of the empty line) unless the result is HEAD_INCOMPLETE
 * or HEAD_SYNTAX. */
static enum head_result parse_head(struct http1_parser *ps, const uint8_t *p, size_t n,
				   struct http1_head *h, struct head_raws *raws, size_t *used)
{
	memset(h, 0, sizeof *h);
	h->is_request = ps->requests;
	h->content_length = -1;
	h->ka_timeout = h->ka_max = -1;
	raws->conn.n = raws->ka.n = raws->pc.n = 0;
	raws->conn.b[0] = raws->ka.b[0] = raws->pc.b[0] = '\0';

	const uint8_t *end = p + n;
	const uint8_t *nl = memchr(p, '\n', n);
	if (!nl)
		return HEAD_INCOMPLETE;
	size_t ln = (size_t)(nl - p);
	bool bare_lf = false;             /* RFC 9112 §2.2: LF alone ends a line */
	if (ln && p[ln - 1] == '\r')
		ln--;
	else
		bare_lf = true;
	if (http1_looks_like_start(ps->requests, p, ln) != 1 ||
	    !parse_start_line(ps->requests, p, ln, h))
		return HEAD_SYNTAX;
	if (ps->empty_lines_before)
		h->lenient |= HTTP1_LENIENT_EMPTY_LINES;
	bool bad_length = false, bad_field = false, complete = false;
	for (const uint8_t *line = nl + 1; line < end;) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			break;
		const uint8_t *next = nl + 1;
		ln = (size_t)(nl - line);
		if (ln && line[ln - 1] == '\r')
			ln--;
		else
			bare_lf = true;
		if (ln == 0) {
			complete = true;             /* the empty line ending the head */
			*used = (size_t)(next - p);
			break;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			/* obs-fold (RFC 9112 §5.2): a continuation of the previous
			 * value; nothing kalens uses is folded in practice. */
			line = next;
			continue;
		}
		/* The name runs to the colon, token characters only: one pass
		 * finds the colon and checks the name.  Every line of the head
		 * ends in LF (the head ends with an empty line), which is not a
		 * token character: the scan needs no length check. */
		size_t nn = 0;
		while (is_tchar(line[nn]))
			nn++;
		const uint8_t *colon = nn < ln && line[nn] == ':' ? line + nn : NULL;
		if (!colon || nn == 0) {
			/* RFC 9112 §5.1: no colon, or whitespace or other non-token
			 * bytes in the name (a request smuggling pattern): the
			 * message is broken from here on. */
			bad_field = true;
			complete = true;
			*used = n;
			break;
		}
		{
			const uint8_t *name = line;
			const uint8_t *v = colon + 1;
			size_t vn = ln - nn - 1;
			/* Values are trimmed only for the names kalens reads. */
			switch (nn) {
			case 4:
				if (span_ieq(name, nn, "host") && !h->host.p) {
					trim(&v, &vn);
					h->host.p = (const char *)v;
					h->host.n = vn;
				}
				break;
			case 7:
				if (span_ieq(name, nn, "upgrade") && !h->upgrade.p) {
					trim(&v, &vn);
					h->upgrade.p = (const char *)v;
					h->upgrade.n = vn;
				}
				break;
			case 10:
				if (span_ieq(name, nn, "connection")) {
					trim(&v, &vn);
					h->has_connection = true;
					h->connection |= conn_tokens(v, vn);
					join_raw(&raws->conn, v, vn);
				} else if (span_ieq(name, nn, "keep-alive")) {
					trim(&v, &vn);
					h->has_keep_alive = true;
					keep_alive_params(v, vn, h);
					join_raw(&raws->ka, v, vn);
				}
				break;
			case 14:
				if (span_ieq(name, nn, "content-length") &&
				    !content_length(v, vn, &h->content_length))
					bad_length = true;
				break;
			case 16:
				if (span_ieq(name, nn, "proxy-connection")) {
					trim(&v, &vn);
					h->has_proxy_connection = true;
					h->proxy_connection |= conn_tokens(v, vn);
					join_raw(&raws->pc, v, vn);
				}
				break;
			case 17:
				if (span_ieq(name, nn, "transfer-encoding")) {
					trim(&v, &vn);
					h->transfer_encoding = true;
					h->chunked = te_final_chunked(v, vn);
				}
				break;
			default:
				break;
			}
		}
		line = next;
	}
	h->connection_raw.p = raws->conn.b;
	h->connection_raw.n = raws->conn.n;
	h->keep_alive_raw.p = raws->ka.b;
	h->keep_alive_raw.n = raws->ka.n;
	h->proxy_connection_raw.p = raws->pc.b;
	h->proxy_connection_raw.n = raws->pc.n;
	if (bare_lf)
		h->lenient |= HTTP1_LENIENT_BARE_LF;
	if (!complete)
		return HEAD_INCOMPLETE;
	/* A NUL anywhere in a head is invalid (RFC 9112 §2.2 lets a recipient
	 * reject it); one scan of the head instead of one per value. */
	if (memchr(p, '\0', *used))
		return HEAD_SYNTAX;
	if (bad_field)
		return HEAD_BAD_FIELD;
	return bad_length ? HEAD_BAD_LENGTH : HEAD_OK;
}

/* ---- state changes ------------------------------------------------------ */

static void message_done(struct http1_parser *p, kl_time ts)
{
	p->st = S_IDLE;
	p->cb->done(p->ctx, p->body_bytes, ts);
}

static void start_resync(struct http1_parser *p, uint64_t skipped, bool line_start)
{
	p->st = S_RESYNC;
	p->empty_lines_before = false;
	p->skipped = skipped;
	p->line_start = line_start;
	p->blen = 0;
}

static void fail(struct http1_parser *p, enum http1_error e, uint64_t skipped,
		 bool line_start, kl_time ts)
{
	if (!p->any_message && e == HTTP1_ERR_SYNTAX)
		p->not_http = true;
	p->cb->error(p->ctx, e, ts);
	start_resync(p, skipped, line_start);
}

static void reset_chunk_line(struct http1_parser *p)
{
	p->chunk_line = 0;
	p->chunk_size = 0;
	p->chunk_digits = 0;
	p->chunk_ext = p->chunk_bad = false;
}

/* The head [h, h+n) is complete: report it and choose the body framing. */
static void head_report(struct http1_parser *p, struct http1_head *h, enum head_result r,
			size_t n, kl_time ts);

static void head_complete(struct http1_parser *p, const uint8_t *h, size_t n, kl_time ts)
{
	struct http1_head head;
	struct head_raws raws;
	size_t used = n;
	enum head_result r = parse_head(p, h, n, &head, &raws, &used);
	/* The head ends with its empty line, so it cannot be incomplete. */
	if (r == HEAD_SYNTAX || r == HEAD_INCOMPLETE) {
		fail(p, HTTP1_ERR_SYNTAX, n, true, ts);
		return;
	}
	head_report(p, &head, r, n, ts);
}

/* The common case: the whole head is in this piece, within the limit, and
 * well formed.  One pass parses it.  Anything else (a head split across
 * pieces, too large, malformed) is left to the line-by-line path, which
 * reports it: 0, and nothing has changed.  Else the head's length. */
static size_t head_in_one_piece(struct http1_parser *p, const uint8_t *d, size_t n, kl_time ts)
{
	struct http1_head head;
	struct head_raws raws;
	size_t lim = n < p->head_limit ? n : p->head_limit, used = 0;
	enum head_result r = parse_head(p, d, lim, &head, &raws, &used);
	if (r != HEAD_OK && r != HEAD_BAD_LENGTH)
		return 0;
	p->first_line_checked = true;
	if (p->tentative) {
		p->tentative = false;
		p->cb->resync(p->ctx, p->skipped, ts);
	}
	head_report(p, &head, r, used, ts);
	return used;
}

/* Report the parsed head [n bytes] and choose the body framing. */
static void head_report(struct http1_parser *p, struct http1_head *h, enum head_result r,
			size_t n, kl_time ts)
{
	p->any_message = true;
	h->head_bytes = n;
	enum http1_body_hint hint = p->cb->head(p->ctx, h, p->msg_ts);
	p->empty_lines_before = false;
	p->body_bytes = 0;
	p->blen = 0;
	if (r == HEAD_BAD_FIELD) {
		fail(p, HTTP1_ERR_SYNTAX, 0, true, ts);
		return;
	}
	if (r == HEAD_BAD_LENGTH && !(h->transfer_encoding && h->chunked)) {
		fail(p, HTTP1_ERR_BAD_LENGTH, 0, true, ts);
		return;
	}
	if (p->requests) {
		if (hint == HTTP1_BODY_TUNNEL && !h->transfer_encoding && h->content_length <= 0) {
			/* CONNECT or an upgrade: what follows may not be HTTP/1;
			 * the owner resumes the parser if the server declines. */
			p->st = S_TUNNEL;
			p->tunnel = true;
			p->cb->done(p->ctx, 0, ts);
			return;
		}
		if (h->transfer_encoding && !h->chunked) {
			fail(p, HTTP1_ERR_BAD_LENGTH, 0, true, ts);   /* RFC 9112 §6.3 item 4 */
		} else if (h->chunked) {
			p->st = S_CHUNK_SIZE;
		} else if (h->content_length > 0) {
			p->st = S_BODY_LEN;
			p->remaining = (uint64_t)h->content_length;
		} else {
			message_done(p, ts);
		}
		reset_chunk_line(p);
		return;
	}
	int s = h->status;
	if (s == 101 || (hint == HTTP1_BODY_TUNNEL && s >= 200 && s < 300)) {
		p->st = S_TUNNEL;
		p->tunnel = true;
		p->cb->done(p->ctx, 0, ts);
		p->cb->tunnel(p->ctx, ts);
		return;
	}
	if ((s >= 100 && s < 200) || s == 204 || s == 304 || hint == HTTP1_BODY_NONE) {
		message_done(p, ts);
		return;
	}
	reset_chunk_line(p);
	if (h->chunked)
		p->st = S_CHUNK_SIZE;
	else if (h->transfer_encoding)
		p->st = S_BODY_EOF;
	else if (h->content_length >= 0) {
		p->remaining = (uint64_t)h->content_length;
		if (p->remaining == 0)
			message_done(p, ts);
		else
			p->st = S_BODY_LEN;
	} else {
		p->st = S_BODY_EOF;
	}
}

static bool buf_append(struct http1_parser *p, const uint8_t *d, size_t n)
{
	if (p->blen + n > p->head_limit)
		return false;
	if (p->blen + n > p->bcap) {
		size_t cap = p->bcap ? p->bcap : 256;
		while (cap < p->blen + n)
			cap *= 2;
		if (cap > p->head_limit)
			cap = p->head_limit;
		uint8_t *b = realloc(p->buf, cap);
		if (!b)
			return false;
		p->buf = b;
		p->bcap = cap;
	}
	memcpy(p->buf + p->blen, d, n);
	p->blen += n;
	return true;
}

/* Is [line, line+n) (LF excluded) a start line of this direction? */
static bool start_line_ok(const struct http1_parser *p, const uint8_t *line, size_t n)
{
	if (n && line[n - 1] == '\r')
		n--;
	struct http1_head h;
	memset(&h, 0, sizeof h);
	return http1_looks_like_start(p->requests, line, n) == 1 &&
	       parse_start_line(p->requests, line, n, &h);
}

/* The head was abandoned after `skipped` bytes: an error, or for a resync
 * candidate, just more skipping. */
static void head_failed(struct http1_parser *p, enum http1_error e, uint64_t skipped,
			bool line_start, kl_time ts)
{
	if (p->tentative) {
		start_resync(p, p->skipped + skipped, line_start);
		return;
	}
	fail(p, e, skipped, line_start, ts);
}

/* Consume head bytes from d[0, n); returns how many were used.  With
 * nothing gathered yet, the head starts at d[0]. */
static size_t feed_head(struct http1_parser *p, const uint8_t *d, size_t n, kl_time ts)
{
	if (!p->blen && !p->first_line_checked && p->line_bytes == 0) {
		size_t used = head_in_one_piece(p, d, n, ts);
		if (used)
			return used;
	}
	size_t i = 0, appended = 0;
	while (i < n) {
		const uint8_t *nl = memchr(d + i, '\n', n - i);
		if (!nl) {
			size_t seg = n - i;
			p->line_only_cr = p->line_bytes + seg == 1 && d[i] == '\r';
			p->line_bytes += seg;
			break;
		}
		size_t e = (size_t)(nl - d);
		size_t seg = e - i;
		size_t total = p->line_bytes + seg;
		bool empty = total == 0 || (total == 1 && (seg == 1 ? d[i] == '\r' : p->line_only_cr));
		p->line_bytes = 0;
		p->line_only_cr = false;
		i = e + 1;

		/* Head bytes through this line.  Over the limit, the head is
		 * abandoned at this line's end, however the pieces broke. */
		size_t so_far = p->blen + (i - appended);
		if (so_far > p->head_limit) {
			head_failed(p, HTTP1_ERR_HEAD_TOO_LARGE, so_far, true, ts);
			return i;
		}
		if (!p->first_line_checked) {
			p->first_line_checked = true;
			const uint8_t *line = d;
			size_t ln = e;
			if (p->blen) {
				if (!buf_append(p, d, i)) {
					head_failed(p, HTTP1_ERR_HEAD_TOO_LARGE, p->blen + i, true, ts);
					return i;
				}
				appended = i;
				line = p->buf;
				ln = p->blen - 1;
			}
			if (!start_line_ok(p, line, ln)) {
				head_failed(p, HTTP1_ERR_SYNTAX, p->blen ? p->blen : i, true, ts);
				return i;
			}
			if (p->tentative) {
				p->tentative = false;
				p->cb->resync(p->ctx, p->skipped, ts);
			}
			continue;
		}
		if (empty) {
			if (p->blen) {
				if (!buf_append(p, d + appended, i - appended)) {
					head_failed(p, HTTP1_ERR_HEAD_TOO_LARGE, p->blen + i - appended, true, ts);
					return i;
				}
				head_complete(p, p->buf, p->blen, ts);
			} else {
				head_complete(p, d, i, ts);
			}
			return i;
		}
	}
	/* The piece ended inside the head: gather it for the next piece. */
	if (!buf_append(p, d + appended, n - appended)) {
		head_failed(p, HTTP1_ERR_HEAD_TOO_LARGE, p->blen + n - appended, false, ts);
		return n;
	}
	/* Inside the start line: give up as soon as its first bytes rule it
	 * out, as when they all arrive in one piece (S_IDLE, feed_resync). */
	if (!p->first_line_checked && http1_looks_like_start(p->requests, p->buf, p->blen) == 0)
		head_failed(p, HTTP1_ERR_SYNTAX, p->blen, false, ts);
	return n;
}

static void begin_head(struct http1_parser *p, kl_time ts, bool tentative)
{
	p->after_gap = false;
	p->st = S_HEAD;
	p->msg_ts = ts;
	p->blen = 0;
	p->line_bytes = 0;
	p->line_only_cr = false;
	p->first_line_checked = false;
	p->tentative = tentative;
}

/* One byte of a chunk-size line. */
static void chunk_size_byte(struct http1_parser *p, uint8_t c, kl_time ts)
{
	p->body_bytes++;
	if (++p->chunk_line > CHUNK_LINE_MAX) {
		fail(p, HTTP1_ERR_BAD_LENGTH, 0, false, ts);
		return;
	}
	if (c == '\n') {
		if (p->chunk_digits == 0 || p->chunk_bad) {
			fail(p, HTTP1_ERR_BAD_LENGTH, 0, true, ts);
		} else if (p->chunk_size == 0) {
			p->st = S_TRAILERS;
			p->line_bytes = 0;
			p->line_only_cr = false;
			p->trailer_bytes = 0;
		} else {
			p->st = S_CHUNK_DATA;
			p->remaining = p->chunk_size;
		}
		return;
	}
	if (p->chunk_ext)
		return;
	int v = c >= '0' && c <= '9' ? c - '0' : (lower(c) >= 'a' && lower(c) <= 'f') ? lower(c) - 'a' + 10 : -1;
	if (v >= 0) {
		if (++p->chunk_digits > 15)
			p->chunk_bad = true;
		p->chunk_size = p->chunk_size * 16 + (uint64_t)v;
	} else if (c == ';' || c == ' ' || c == '\t' || c == '\r') {
		p->chunk_ext = true;
	} else {
		p->chunk_bad = true;
	}
}

/* Looking for the next line that starts like a message. */
static size_t feed_resync(struct http1_parser *p, const uint8_t *d, size_t n, kl_time ts)
{
	size_t i = 0;
	while (i < n) {
		if (p->line_start && http1_looks_like_start(p->requests, d + i, n - i) != 0) {
			begin_head(p, ts, true);
			return i;
		}
		const uint8_t *nl = memchr(d + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - d) + 1 : n;
		p->skipped += e - i;
		p->line_start = nl != NULL;
		i = e;
	}
	return n;
}

void http1_parser_feed(struct http1_parser *p, const uint8_t *d, size_t n, kl_time ts)
{
	size_t i = 0;
	/* Resynchronising after a gap: a piece (a TCP segment) may start a
	 * message even where no line ended before it: senders start a message
	 * in a new segment when the one before ended (tshark reads each
	 * segment so).  Only after a gap: without one, where a stream is cut
	 * into pieces changes nothing. */
	if (p->st == S_RESYNC && p->after_gap)
		p->line_start = true;
	while (i < n) {
		switch (p->st) {
		case S_IDLE:
			/* RFC 9112 §2.2: empty lines before a message are ignored
			 * (and said in its head). */
			while (i < n && (d[i] == '\r' || d[i] == '\n')) {
				p->empty_lines_before = true;
				i++;
			}
			if (i < n) {
				/* A message must start like one: give up on the
				 * first byte that rules it out, not a line later. */
				if (http1_looks_like_start(p->requests, d + i, n - i) == 0) {
					const uint8_t *nl = memchr(d + i, '\n', n - i);
					size_t e = nl ? (size_t)(nl - d) + 1 : n;
					fail(p, HTTP1_ERR_SYNTAX, e - i, nl != NULL, ts);
					i = e;
					break;
				}
				begin_head(p, ts, false);
			}
			break;
		case S_HEAD:
			i += feed_head(p, d + i, n - i, ts);
			if (p->st == S_TUNNEL)
				p->tunnel_at = p->fed + i;
			break;
		case S_BODY_LEN:
		case S_CHUNK_DATA: {
			size_t k = n - i < p->remaining ? n - i : (size_t)p->remaining;
			i += k;
			p->remaining -= k;
			p->body_bytes += k;
			if (p->remaining == 0) {
				if (p->st == S_BODY_LEN) {
					message_done(p, ts);
				} else {
					p->st = S_CHUNK_END;
					p->chunk_line = 0;
				}
			}
			break;
		}
		case S_CHUNK_SIZE:
			while (i < n && p->st == S_CHUNK_SIZE)
				chunk_size_byte(p, d[i++], ts);
			break;
		case S_CHUNK_END: {
			uint8_t c = d[i++];
			p->body_bytes++;
			if (c == '\n') {
				p->st = S_CHUNK_SIZE;
				reset_chunk_line(p);
			} else if (c == '\r' && p->chunk_line == 0) {
				p->chunk_line = 1;
			} else {
				fail(p, HTTP1_ERR_BAD_LENGTH, 1, false, ts);
			}
			break;
		}
		case S_TRAILERS: {
			uint8_t c = d[i++];
			p->body_bytes++;
			if (++p->trailer_bytes > p->head_limit) {
				fail(p, HTTP1_ERR_HEAD_TOO_LARGE, 0, false, ts);
				break;
			}
			if (c == '\n') {
				bool empty = p->line_bytes == 0 || p->line_only_cr;
				p->line_bytes = 0;
				p->line_only_cr = false;
				if (empty)
					message_done(p, ts);
			} else {
				p->line_only_cr = p->line_bytes == 0 && c == '\r';
				p->line_bytes++;
			}
			break;
		}
		case S_BODY_EOF:
			p->body_bytes += n - i;
			i = n;
			break;
		case S_RESYNC:
			i += feed_resync(p, d + i, n - i, ts);
			break;
		case S_TUNNEL:
		case S_DONE:
			i = n;
			break;
		}
	}
	p->fed += n;
}

void http1_parser_gap(struct http1_parser *p, uint64_t len, kl_time ts)
{
	p->fed += len;
	p->after_gap = true;
	switch (p->st) {
	case S_IDLE:
		/* Whole messages may have been in the gap, or none: the next
		 * byte may start one. */
		start_resync(p, len, true);
		break;
	case S_HEAD:
		head_failed(p, HTTP1_ERR_GAP, p->blen + len, true, ts);
		break;
	case S_BODY_LEN:
		if (len < p->remaining) {
			p->remaining -= len;
			p->body_bytes += len;
		} else {
			/* The body ended inside the gap. */
			p->body_bytes += p->remaining;
			uint64_t rest = len - p->remaining;
			message_done(p, ts);
			if (rest)
				start_resync(p, rest, true);
		}
		break;
	case S_CHUNK_DATA:
		if (len < p->remaining) {
			p->remaining -= len;
			p->body_bytes += len;
		} else {
			fail(p, HTTP1_ERR_GAP, len, true, ts);
		}
		break;
	case S_CHUNK_SIZE:
	case S_CHUNK_END:
	case S_TRAILERS:
		fail(p, HTTP1_ERR_GAP, len, true, ts);
		break;
	case S_BODY_EOF:
		p->body_bytes += len;
		break;
	case S_RESYNC:
		p->skipped += len;
		p->line_start = true;
		break;
	case S_TUNNEL:
	case S_DONE:
		break;
	}
}

void http1_parser_eof(struct http1_parser *p, kl_time ts)
{
	switch (p->st) {
	case S_BODY_EOF:
		message_done(p, ts);
		break;
	case S_HEAD:
		if (!p->tentative)
			p->cb->error(p->ctx, HTTP1_ERR_GAP, ts);
		break;
	case S_BODY_LEN:
	case S_CHUNK_SIZE:
	case S_CHUNK_DATA:
	case S_CHUNK_END:
	case S_TRAILERS:
		p->cb->error(p->ctx, HTTP1_ERR_GAP, ts);
		break;
	default:
		break;
	}
	p->st = S_DONE;
	free(p->buf);
	p->buf = NULL;
	p->bcap = p->blen = 0;
}

bool http1_parser_tunnel_at(const struct http1_parser *p, uint64_t *off)
{
	if (!p->tunnel)
		return false;
	*off = p->tunnel_at;
	return true;
}

void http1_parser_resume(struct http1_parser *p)
{
	if (p->st != S_TUNNEL || !p->requests)
		return;
	p->st = S_IDLE;
	p->tunnel = false;
	p->fed = p->tunnel_at;        /* the owner feeds what came since again */
}

bool http1_parser_active(const struct http1_parser *p)
{
	return !p->not_http && !p->tunnel;
}

struct http1_parser *http1_parser_new(bool requests, size_t head_limit,
				      const struct http1_callbacks *cb, void *ctx)
{
	struct http1_parser *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->requests = requests;
	p->head_limit = head_limit < HTTP1_HEAD_LIMIT_MIN ? HTTP1_HEAD_LIMIT_MIN : head_limit;
	p->cb = cb;
	p->ctx = ctx;
	p->st = S_IDLE;
	return p;
}

size_t http1_parser_mem(const struct http1_parser *p)
{
	return p ? kl_heap_bytes(sizeof *p) + (p->bcap ? kl_heap_bytes(p->bcap) : 0) : 0;
}

void http1_parser_free(struct http1_parser *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p);
}

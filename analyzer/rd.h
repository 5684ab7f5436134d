/*
 * rd.h - a checking cursor over packet bytes.
 *
 * Every read of packet data goes through these helpers: each one tests the
 * bytes that remain before it reads, and on a short read it latches `bad`
 * and returns 0, so a decoder can read a whole header and check once at
 * the end (tcpdump's GET_* macros, without the longjmp: kalens updates state
 * while parsing and must not jump over it).  Wire structs are never
 * overlaid on packet memory.  A length-prefixed part is read through a
 * sub-cursor (rd_sub, rd_vec8, rd_vec16): the parent latches only when the
 * prefix or the part runs past its own end, a short read inside the part
 * latches the sub-cursor alone.
 */
#ifndef KALENS_RD_H
#define KALENS_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;                /* next unread byte */
	const uint8_t *end;              /* one past the last captured byte */
	bool bad;                        /* a read ran past `end` */
};

static inline struct rd rd_make(const uint8_t *p, size_t n)
{
	struct rd r = { p, p + n, false };
	return r;
}

static inline size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static inline bool rd_need(struct rd *r, size_t n)
{
	if (r->bad || rd_left(r) < n) {
		r->bad = true;
		return false;
	}
	return true;
}

static inline uint8_t rd_u8(struct rd *r)
{
	if (!rd_need(r, 1))
		return 0;
	return *r->p++;
}

static inline uint16_t rd_be16(struct rd *r)
{
	if (!rd_need(r, 2))
		return 0;
	uint16_t v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return v;
}

static inline uint16_t rd_le16(struct rd *r)
{
	if (!rd_need(r, 2))
		return 0;
	uint16_t v = (uint16_t)((unsigned)r->p[1] << 8 | r->p[0]);
	r->p += 2;
	return v;
}

static inline uint32_t rd_be32(struct rd *r)
{
	if (!rd_need(r, 4))
		return 0;
	uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
		     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return v;
}

static inline uint32_t rd_le32(struct rd *r)
{
	if (!rd_need(r, 4))
		return 0;
	uint32_t v = (uint32_t)r->p[3] << 24 | (uint32_t)r->p[2] << 16 |
		     (uint32_t)r->p[1] << 8 | r->p[0];
	r->p += 4;
	return v;
}

/* A 24-bit big-endian number (TLS handshake lengths, HTTP/2 frame lengths). */
static inline uint32_t rd_be24(struct rd *r)
{
	if (!rd_need(r, 3))
		return 0;
	uint32_t v = (uint32_t)r->p[0] << 16 | (uint32_t)r->p[1] << 8 | r->p[2];
	r->p += 3;
	return v;
}

/* Skip n bytes. */
static inline void rd_skip(struct rd *r, size_t n)
{
	if (rd_need(r, n))
		r->p += n;
}

/* Borrow n bytes: returns a pointer into the packet, or NULL (and latches). */
static inline const uint8_t *rd_span(struct rd *r, size_t n)
{
	if (!rd_need(r, n))
		return NULL;
	const uint8_t *s = r->p;
	r->p += n;
	return s;
}

/* A cursor over the next n bytes, skipped here; if they are not all
 * there, this cursor latches and the one returned is empty and bad. */
static inline struct rd rd_sub(struct rd *r, size_t n)
{
	struct rd s = { r->p, r->p, true };
	if (!rd_need(r, n))
		return s;
	s.end = r->p + n;
	s.bad = false;
	r->p += n;
	return s;
}

/* The body of a vector with a 1-byte length prefix (TLS <0..2^8-1>), as rd_sub. */
static inline struct rd rd_vec8(struct rd *r)
{
	return rd_sub(r, rd_u8(r));
}

/* The body of a vector with a 2-byte big-endian length prefix (TLS <0..2^16-1>), as rd_sub. */
static inline struct rd rd_vec16(struct rd *r)
{
	return rd_sub(r, rd_be16(r));
}

/* No read has run past the end (yet). */
static inline bool rd_ok(const struct rd *r)
{
	return !r->bad;
}

/* Bytes remain and no read has failed: the test of a loop over a list. */
static inline bool rd_more(const struct rd *r)
{
	return !r->bad && r->p < r->end;
}

/* Every byte was read and no read failed: the cursor was consumed exactly. */
static inline bool rd_done(const struct rd *r)
{
	return !r->bad && r->p == r->end;
}

#endif

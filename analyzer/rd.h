/*
 * rd.h - a checking cursor over packet bytes.
 *
 * Every read of packet data goes through these helpers: each one tests the
 * bytes that remain before it reads, and on a short read it latches `bad`
 * and returns 0, so a decoder can read a whole header and check once at
 * the end (tcpdump's GET_* macros, without the longjmp: kalens updates state
 * while parsing and must not jump over it).  Wire structs are never
 * overlaid on packet memory.
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

#endif

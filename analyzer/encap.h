/*
 * encap.h - the tunnels a run's packets came through, and the tunnel
 * columns of `connections`.
 *
 * Mirrored traffic from many hosts overlaps in address space (every VPC
 * has its 10.0.0.5), so the flow table keys a connection by its inner
 * 5-tuple plus the identity of the innermost tunnel its packets came in.
 * This table numbers those identities: an exact one per direction as seen
 * (kinds, VNI/key/session/TEID, outer source and destination), and a
 * "domain" shared by both directions of one tunnel: the outer addresses
 * in either order, and the identifier except GTP-U's TEID, which each
 * direction of a GTP-U tunnel chooses for itself (3GPP TS 29.281).  The
 * domain is what goes into the flow key.  Numbers are small and stable
 * for the run; the table is bounded: past its size, further tunnels share
 * one overflow domain (counted) and are stored without their identity.
 *
 * The `encap` section of `connections` (facts.h) holds each direction's
 * tunnel, as the first packet that way came; the flow layer writes it.
 */
#ifndef KALENS_ENCAP_H
#define KALENS_ENCAP_H

#include <stdint.h>

#include "decode.h"
#include "facts.h"

/* Domains are 24-bit numbers (the flow key has three bytes for them). */
#define ENCAP_DOMAIN_NONE 0u           /* not tunnelled */
#define ENCAP_DOMAIN_OVERFLOW 0xfffffeu /* a tunnel past the table's size */
#define ENCAP_DOMAIN_ANY 0xffffffu      /* flow.c: "in some tunnel", for pairing */
#define ENCAP_TABLE_MAX 0xfffff0u

struct encap_table;

/* At most `max` identities (<= ENCAP_TABLE_MAX); NULL when out of memory. */
struct encap_table *encap_table_new(uint32_t max);
void encap_table_free(struct encap_table *t);    /* NULL allowed */

/* The number of e's exact identity, made on first sight: 1.., or
 * ENCAP_NUMBER_OVERFLOW when the table is full; 0 when e->depth is 0.
 * *domain gets its domain (ENCAP_DOMAIN_*, or 1..). */
#define ENCAP_NUMBER_OVERFLOW UINT32_MAX
uint32_t encap_table_number(struct encap_table *t, const struct decode_encap *e,
			    uint32_t *domain);

/* The identity numbered n, or NULL (0, overflow).  Owned by the table. */
const struct decode_encap *encap_table_get(const struct encap_table *t, uint32_t n);

/* A 64-bit hash of e's exact identity (as encap_table_number tells them
 * apart), not seeded: what keeps one tunnel's IP fragments from another's
 * (ipfrag_piece.context); 0 when e->depth is 0, never 0 otherwise. */
uint64_t encap_identity_hash(const struct decode_encap *e);

/* Tunnel identities that found the table full. */
uint64_t encap_table_overflows(const struct encap_table *t);

/* The `encap` fact section: each direction's tunnel (depth 0: none seen
 * that way), indexed by enum kl_dir. */
struct encap_facts {
	struct decode_encap dir[2];
};

extern const struct fact_section encap_facts_section;

#endif

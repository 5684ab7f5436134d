/*
 * facts.h - what each protocol knows of a connection, in records it owns.
 *
 * The TCP facts of a connection are the flow layer's (conn_record.h).  A
 * protocol that adds facts of its own declares a record type, the columns
 * they are stored in (columns.h) and a struct fact_section, and has one
 * line in FACT_SECTIONS.  When a connection ends, the flow layer asks each
 * dissector that read it, outermost first, to write its facts into a
 * struct facts_set; a dissector that finds a section already filled by an
 * outer one (HTTP/1 before an h2c upgrade) adds to it.  The store writes a
 * connection row as the TCP columns followed by every section's columns in
 * registry order, NULL where the connection has no such section.
 */
#ifndef KALENS_FACTS_H
#define KALENS_FACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "columns.h"

/* X(ID, section): in the order of the columns of `connections`. */
#define FACT_SECTIONS(X)                                                                    \
	X(HTTP, http_facts_section)                                                        \
	X(TLS, tls_facts_section)                                                          \
	X(H2, h2_facts_section)                                                            \
	X(TUNNEL, tunnel_facts_section)                                                    \
	X(ENCAP, encap_facts_section)

enum facts_id {
#define FACTS_ENUM_(id, section) FACTS_##id,
	FACT_SECTIONS(FACTS_ENUM_)
#undef FACTS_ENUM_
	FACTS_COUNT
};

struct fact_section {
	const char *name;             /* "http", "tls", "http2" */
	size_t size;                  /* of its record */
	void (*init)(void *rec);      /* the "not known" values */
	struct column_list columns;   /* of `connections`; `f` is the record */
};

/* The section of id (id < FACTS_COUNT). */
const struct fact_section *facts_section(enum facts_id id);

/* The facts of one connection, by section: storage for one record of each
 * (reused connection after connection), and which are present. */
struct facts_set;

struct facts_set *facts_set_new(void);             /* NULL: out of memory */
void facts_set_free(struct facts_set *s);          /* NULL allowed */
void facts_set_clear(struct facts_set *s);         /* every section absent */

/* The record of section id, made present (with its init values) by the
 * first call; owned by the set until the next clear. */
void *facts_set_get(struct facts_set *s, enum facts_id id);

/* The record of section id if present, else NULL. */
void *facts_set_find(const struct facts_set *s, enum facts_id id);

#endif

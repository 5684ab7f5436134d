/*
 * story.h - one connection's story (`kalens conn DB ID`): its endpoints,
 * layers and counts; its requests and responses in time order with what
 * each side said about keeping the connection, the idle gaps and
 * pipelining; how it closed, after how much idle, against what the server
 * advertised; its findings with their meaning.  Everything is read from
 * the documented tables (docs/schema.md), as `kalens sql` would.
 */
#ifndef KALENS_STORY_H
#define KALENS_STORY_H

#include <stdint.h>
#include <stdio.h>

enum story_format {
	STORY_TEXT,                   /* for a terminal */
	/* {"connection": {every column}, "requests": [...], "findings": [...,
	 * "impact", "meaning"]} */
	STORY_JSON,
};

/* Print connection conn_id of the database at db_path (opened read-only).
 * 0; 1 when the database has no such connection; -1 on any other error;
 * both with a message in err. */
int story_print(const char *db_path, int64_t conn_id, enum story_format fmt, FILE *out,
		char *err, size_t errlen);

#endif

/*
 * dissect.c - the registry of built-in dissectors.
 *
 * One array, in probe order: a dissector's probe() answers from the first
 * bytes of a direction, so the order only matters between dissectors that
 * could both claim the same first bytes.
 */
#include "dissect.h"

#include <stddef.h>

#include "http1.h"
#include "http2.h"
#include "socks.h"
#include "starttls.h"
#include "tls.h"

/* HTTP/2 first: its client preface also looks like an HTTP/1 request line. */
static const struct dissector *const builtin[] = {
	&http2_dissector,
	&http1_dissector,
	&tls_dissector,
	&socks_dissector,
	&starttls_dissector,
	NULL,
};

const struct dissector *const *dissect_builtin(void)
{
	return builtin;
}

/*
 * tls_keylog.h - the NSS key log format (SSLKEYLOGFILE, as curl, browsers
 * and OpenSSL write it): one secret per line, "LABEL <client random hex>
 * <secret hex>".  Read once, looked up by client random.
 *
 * Labels kept: CLIENT_RANDOM (the TLS 1.2-and-older master secret, 48
 * bytes), CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
 * CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 (TLS 1.3, 32 or 48
 * bytes).  Comments (#), blank lines and other labels (EXPORTER_SECRET,
 * EARLY_...) are skipped; a line that does not parse is an error naming its
 * line number.
 */
#ifndef KALENS_TLS_KEYLOG_H
#define KALENS_TLS_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_secret {
	TLS_MASTER_SECRET,            /* CLIENT_RANDOM */
	TLS_CLIENT_HS_SECRET,
	TLS_SERVER_HS_SECRET,
	TLS_CLIENT_APP_SECRET_0,
	TLS_SERVER_APP_SECRET_0,
	TLS_SECRET_KINDS
};

struct tls_keylog;

/* Read the key log at path.  NULL with a message in err ("keys.txt line 7:
 * ...") when it cannot be read or a line does not parse. */
struct tls_keylog *tls_keylog_read(const char *path, char *err, size_t errlen);
void tls_keylog_free(struct tls_keylog *k);   /* NULL allowed */

/* A copy of k that refreshes on its own from where k stands (each
 * analysis thread has one: refreshing changes the table).  Caller owns
 * it; NULL when out of memory. */
struct tls_keylog *tls_keylog_clone(const struct tls_keylog *k);

/* Read the lines appended to the file since (a client still writing it
 * during a live capture); at most one stat() per 10 ms, and nothing more
 * when the file has not changed.  Lines that do not parse are skipped, a
 * half-written last line waits for the next call; a file replaced or
 * truncated is read again from the start.  Returns how many client
 * randoms are new (secrets added to known ones count 0: look up again). */
size_t tls_keylog_refresh(struct tls_keylog *k);

/* How many client randoms have at least one secret. */
size_t tls_keylog_count(const struct tls_keylog *k);

/* The secret of `kind` for the connection with this client random: its
 * bytes (borrowed from k) and length, or NULL when the log has none. */
const uint8_t *tls_keylog_find(const struct tls_keylog *k, const uint8_t random[32],
			       enum tls_secret kind, size_t *len);

#endif

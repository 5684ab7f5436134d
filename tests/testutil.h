/*
 * testutil.h - helpers shared by the Criterion tests.
 */
#ifndef KALENS_TESTUTIL_H
#define KALENS_TESTUTIL_H

#include <stddef.h>

/* Absolute path of a file under the source tree, in a static buffer that
 * the next call overwrites. */
const char *tu_src_path(const char *rel);

/* A fresh, empty temporary directory path (mkdtemp); caller frees it with
 * tu_rmtree(). */
char *tu_tmpdir(void);
void tu_rmtree(char *dir);

/* Run a shell command, capturing stdout into a malloc'd NUL-terminated
 * buffer (caller frees).  *status gets the exit status (or -1). */
char *tu_run(const char *cmd, int *status);

/* The capture a reference file describes: tests/expected/.../NAME<suffix>
 * where NAME is the capture's repository path with '/' spelled "__". */
void tu_capture_of_reference(const char *file, const char *suffix, char *out, size_t outlen);

#endif

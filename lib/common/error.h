/* error.h: Ferry's one error convention.
 *
 * Functions report failure by returning -1 (or NULL) after recording a
 * message with error_set()/error_errno().  The message lives in
 * thread-local storage; only the command layer (ferry.c and the command
 * functions) prints it.  Messages are lower-case, subject first, with
 * quoted paths:  "vhd: 'disk.vhd': footer checksum mismatch".
 */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

#include <stdarg.h>

/* Record a message; always returns -1 so callers can `return error_set(...)`. */
int error_set (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Like error_set, appending ": strerror(errno)".  errno is preserved. */
int error_errno (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Prepend context to the current message ("capture: " + old). Returns -1. */
int error_prefix (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* The current message, or "unknown error" if none was set. Never NULL. */
const char *error_get (void);

/* Forget the current message. */
void error_clear (void);

#endif

/* error.c: thread-local last-error message (see error.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/common/error.h"

#define ERROR_MAX 1024

static _Thread_local char last_error[ERROR_MAX];

int
error_set (const char *fmt, ...)
{
  va_list ap;
  int saved = errno;

  va_start (ap, fmt);
  vsnprintf (last_error, sizeof last_error, fmt, ap);
  va_end (ap);
  errno = saved;
  return -1;
}

int
error_errno (const char *fmt, ...)
{
  va_list ap;
  int saved = errno;
  size_t len;

  va_start (ap, fmt);
  vsnprintf (last_error, sizeof last_error, fmt, ap);
  va_end (ap);
  len = strlen (last_error);
  if (len < sizeof last_error)
    snprintf (last_error + len, sizeof last_error - len, ": %s",
              strerror (saved));
  errno = saved;
  return -1;
}

int
error_prefix (const char *fmt, ...)
{
  char old[ERROR_MAX];
  va_list ap;
  size_t len;
  int saved = errno;

  memcpy (old, last_error, sizeof old);
  va_start (ap, fmt);
  vsnprintf (last_error, sizeof last_error, fmt, ap);
  va_end (ap);
  len = strlen (last_error);
  if (len < sizeof last_error)
    snprintf (last_error + len, sizeof last_error - len, "%s", old);
  errno = saved;
  return -1;
}

const char *
error_get (void)
{
  return last_error[0] ? last_error : "unknown error";
}

void
error_clear (void)
{
  last_error[0] = '\0';
}

/* strbuf.c: growable strings and small string helpers (strbuf.h). */
#include "lib/common/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/common/vector.h"

static int
strbuf_grow (struct strbuf *sb, size_t n)
{
  /* +1 for the terminating NUL. */
  return generic_vector_reserve ((void **) &sb->buf, &sb->cap, sb->len,
                                 n + 1, 1);
}

int
strbuf_add (struct strbuf *sb, const char *data, size_t len)
{
  if (strbuf_grow (sb, len) == -1)
    return -1;
  if (len > 0)
    memcpy (sb->buf + sb->len, data, len);
  sb->len += len;
  sb->buf[sb->len] = '\0';
  return 0;
}

int
strbuf_adds (struct strbuf *sb, const char *s)
{
  return strbuf_add (sb, s, strlen (s));
}

int
strbuf_addf (struct strbuf *sb, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (NULL, 0, fmt, ap);
  va_end (ap);
  if (n < 0)
    return error_set ("strbuf: bad format");
  if (strbuf_grow (sb, (size_t) n) == -1)
    return -1;
  va_start (ap, fmt);
  vsnprintf (sb->buf + sb->len, (size_t) n + 1, fmt, ap);
  va_end (ap);
  sb->len += (size_t) n;
  return 0;
}

char *
strbuf_detach (struct strbuf *sb)
{
  char *r = sb->buf ? sb->buf : strdup ("");

  sb->buf = NULL;
  sb->len = sb->cap = 0;
  return r;
}

void
strbuf_release (struct strbuf *sb)
{
  free (sb->buf);
  sb->buf = NULL;
  sb->len = sb->cap = 0;
}

int
str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

int
str_has_suffix (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);

  return a >= b && strcmp (s + a - b, suffix) == 0;
}

char *
xstrdup (const char *s)
{
  char *r = strdup (s);

  if (r == NULL)
    error_errno ("strdup");
  return r;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *r;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&r, fmt, ap);
  va_end (ap);
  if (n < 0) {
    error_errno ("asprintf");
    return NULL;
  }
  return r;
}

char *
str_trim (char *s)
{
  char *e;

  while (*s == ' ' || *s == '\t')
    s++;
  e = s + strlen (s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
    *--e = '\0';
  return s;
}

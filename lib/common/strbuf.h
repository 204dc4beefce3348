/* strbuf.h: a growable NUL-terminated string.
 *
 * struct strbuf sb = STRBUF_INIT;  strbuf_addf (&sb, "%d", 1);
 * sb.buf is always NUL-terminated (after the first add) and owned by the
 * strbuf; strbuf_release() frees it, strbuf_detach() hands it to the caller.
 */
#ifndef FERRY_STRBUF_H
#define FERRY_STRBUF_H

#include <stddef.h>

struct strbuf {
  char *buf;
  size_t len;
  size_t cap;
};

#define STRBUF_INIT { .buf = NULL, .len = 0, .cap = 0 }

int strbuf_add (struct strbuf *sb, const char *data, size_t len);
int strbuf_adds (struct strbuf *sb, const char *s);
int strbuf_addf (struct strbuf *sb, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
char *strbuf_detach (struct strbuf *sb);   /* caller frees; never NULL */
void strbuf_release (struct strbuf *sb);

/* Small string helpers. */
int str_has_prefix (const char *s, const char *prefix);
int str_has_suffix (const char *s, const char *suffix);
/* Skip leading blanks and tabs and cut trailing ones (and a CR) in place;
 * returns the start of what is left. */
char *str_trim (char *s);
char *xstrdup (const char *s);       /* NULL + error on ENOMEM */
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif

/* json.c: a streaming JSON writer with escaping and UTF-8 repair (json.h). */
#include "lib/common/compat.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/json.h"

#define STR_(x) #x
#define STR(x) STR_ (x)

void
json_init (struct json *j, FILE *fp)
{
  memset (j, 0, sizeof *j);
  j->fp = fp;
}

static void
misuse (struct json *j, const char *what)
{
  if (j->misuse == NULL)
    j->misuse = what;
}

/* Whatever must precede a value: nothing after a key, else a comma when
 * the enclosing container already holds something. */
static void
value_prefix (struct json *j)
{
  if (j->after_key) {
    j->after_key = false;
    return;
  }
  if (j->depth == 0)
    return;
  if (j->need_comma[j->depth - 1])
    fputc (',', j->fp);
  j->need_comma[j->depth - 1] = true;
}

/* Length of the valid UTF-8 sequence at p, or 0 if the byte at p does not
 * start one (overlong forms, surrogates and values past U+10FFFF included).
 * p is NUL-terminated and NUL is never a continuation byte, so this never
 * reads past the terminator. */
static size_t
utf8_len (const unsigned char *p)
{
  unsigned char lo = 0x80, hi = 0xbf;
  size_t n, i;

  if (p[0] < 0x80)
    return 1;
  if (p[0] < 0xc2)
    return 0;
  if (p[0] < 0xe0)
    n = 2;
  else if (p[0] < 0xf0) {
    n = 3;
    lo = p[0] == 0xe0 ? 0xa0 : lo;
    hi = p[0] == 0xed ? 0x9f : hi;
  }
  else if (p[0] < 0xf5) {
    n = 4;
    lo = p[0] == 0xf0 ? 0x90 : lo;
    hi = p[0] == 0xf4 ? 0x8f : hi;
  }
  else
    return 0;
  if (p[1] < lo || p[1] > hi)
    return 0;
  for (i = 2; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

static void
put_ascii (FILE *fp, unsigned char c)
{
  if (c == '"' || c == '\\') {
    fputc ('\\', fp);
    fputc (c, fp);
  }
  else if (c < 0x20 || c == 0x7f)
    fprintf (fp, "\\u%04x", c);
  else
    fputc (c, fp);
}

static void
put_string (FILE *fp, const char *s)
{
  const unsigned char *p = (const unsigned char *) s;

  fputc ('"', fp);
  while (*p) {
    size_t n = utf8_len (p);

    if (n == 0) {
      fputs ("\\ufffd", fp);
      p++;
    }
    else if (n == 1)
      put_ascii (fp, *p++);
    else {
      fwrite (p, 1, n, fp);
      p += n;
    }
  }
  fputc ('"', fp);
}

/* Open a container, or past the depth cap write null in its place and
 * ignore everything up to the matching end. */
static void
container_begin (struct json *j, char open)
{
  if (j->skip > 0) {
    j->skip++;
    return;
  }
  if (j->depth == JSON_MAX_DEPTH) {
    json_null (j);
    misuse (j, "nesting deeper than " STR (JSON_MAX_DEPTH) " levels");
    j->skip = 1;
    return;
  }
  value_prefix (j);
  fputc (open, j->fp);
  j->need_comma[j->depth++] = false;
}

static void
container_end (struct json *j, char close)
{
  if (j->skip > 0) {
    j->skip--;
    return;
  }
  if (j->depth == 0) {
    misuse (j, "end without begin");
    return;
  }
  if (j->after_key) {
    misuse (j, "key without value");
    j->after_key = false;
  }
  j->depth--;
  fputc (close, j->fp);
}

void
json_object_begin (struct json *j)
{
  container_begin (j, '{');
}

void
json_object_end (struct json *j)
{
  container_end (j, '}');
}

void
json_array_begin (struct json *j)
{
  container_begin (j, '[');
}

void
json_array_end (struct json *j)
{
  container_end (j, ']');
}

void
json_key (struct json *j, const char *key)
{
  if (j->skip > 0)
    return;
  if (j->after_key || j->depth == 0 || key == NULL)
    misuse (j, "misplaced or NULL key");
  j->after_key = false;
  value_prefix (j);
  put_string (j->fp, key ? key : "");
  fputc (':', j->fp);
  j->after_key = true;
}

/* Common start of every scalar: false when it must be ignored. */
static bool
scalar_begin (struct json *j)
{
  if (j->skip > 0)
    return false;
  value_prefix (j);
  return true;
}

void
json_string (struct json *j, const char *s)
{
  if (s == NULL)
    json_null (j);
  else if (scalar_begin (j))
    put_string (j->fp, s);
}

void
json_uint (struct json *j, uint64_t v)
{
  if (scalar_begin (j))
    fprintf (j->fp, "%" PRIu64, v);
}

void
json_int (struct json *j, int64_t v)
{
  if (scalar_begin (j))
    fprintf (j->fp, "%" PRId64, v);
}

/* The shortest %.Ng that reads back as the same double; %.17g always does.
 * Doubles are rare in our output, so trying each precision is cheap. */
static void
format_double (char *buf, size_t len, double v)
{
  char *c, *e;
  long exp10;
  int prec;

  for (prec = 1; prec <= 17; prec++) {
    snprintf (buf, len, "%.*g", prec, v);
    if (strtod (buf, NULL) == v)
      break;
  }
  /* Few digits switch %g to exponent form ("1e+02"); print integers that
   * %.17g would write out in full as integers ("100"). */
  e = strchr (buf, 'e');
  exp10 = e ? strtol (e + 1, NULL, 10) : 0;
  if (e && exp10 >= prec && exp10 < 17)
    snprintf (buf, len, "%.*g", (int) exp10 + 1, v);
  /* A locale with a decimal comma must not leak into JSON. */
  for (c = buf; *c; c++)
    if (*c == ',')
      *c = '.';
}

void
json_double (struct json *j, double v)
{
  char buf[40];

  if (!isfinite (v)) {
    json_null (j);
    return;
  }
  if (scalar_begin (j)) {
    format_double (buf, sizeof buf, v);
    fputs (buf, j->fp);
  }
}

void
json_bool (struct json *j, bool v)
{
  if (scalar_begin (j))
    fputs (v ? "true" : "false", j->fp);
}

void
json_null (struct json *j)
{
  if (scalar_begin (j))
    fputs ("null", j->fp);
}

void
json_key_string (struct json *j, const char *key, const char *s)
{
  json_key (j, key);
  json_string (j, s);
}

void
json_key_uint (struct json *j, const char *key, uint64_t v)
{
  json_key (j, key);
  json_uint (j, v);
}

void
json_key_int (struct json *j, const char *key, int64_t v)
{
  json_key (j, key);
  json_int (j, v);
}

void
json_key_bool (struct json *j, const char *key, bool v)
{
  json_key (j, key);
  json_bool (j, v);
}

/* Ends the document; the writer is then ready for the next one. */
int
json_finish (struct json *j)
{
  const char *bad = j->misuse;
  FILE *fp = j->fp;
  int r = 0;

  if (bad == NULL && (j->depth > 0 || j->after_key))
    bad = "unclosed object or array";
  fputc ('\n', fp);
  if (fflush (fp) == EOF)
    r = error_errno ("json: write");
  else if (ferror (fp))
    r = error_set ("json: write error");
  else if (bad)
    r = error_set ("json: %s", bad);
  json_init (j, fp);
  return r;
}

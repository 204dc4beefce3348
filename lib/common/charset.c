/* charset.c: UTF-8 to and from UTF-16 and 8-bit text through glibc's
 * iconv, bounded and strict (see charset.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/charset.h"
#include "lib/common/error.h"

static const char *
utf16_name (enum charset_utf16 order)
{
  return order == CHARSET_UTF16BE ? "UTF-16BE" : "UTF-16LE";
}

/* Why iconv stopped, at which byte of the input. */
static void
recode_error (const char *from, size_t at)
{
  if (errno == EILSEQ)
    error_set ("invalid %s text at byte %zu", from, at);
  else if (errno == EINVAL)
    error_set ("invalid %s text: truncated at byte %zu", from, at);
  else
    error_errno ("%s text at byte %zu", from, at);
}

/* Convert all `len` bytes, or fail.  No conversion done here more than
 * doubles its input (UTF-8 from UTF-16: 3 bytes per 2; UTF-16 from ASCII
 * and UTF-8 from Latin-1: 2 per 1), so the output is sized once; two NUL
 * bytes follow it, not counted in *outlen. */
static char *
recode (const char *to, const char *from, const void *in, size_t len,
        size_t *outlen)
{
  iconv_t cd;
  size_t cap = len * 2 + 2, left = len, room = len * 2;
  char *out, *ip = (char *) in, *op;

  if (len > CHARSET_MAX_INPUT) {
    error_set ("%s text too long (%zu bytes, the limit is %u)", from, len,
               CHARSET_MAX_INPUT);
    return NULL;
  }
  if ((cd = iconv_open (to, from)) == (iconv_t) -1) {
    error_errno ("iconv from %s to %s", from, to);
    return NULL;
  }
  if ((out = malloc (cap)) == NULL) {
    error_errno ("malloc");
    iconv_close (cd);
    return NULL;
  }
  op = out;
  if (iconv (cd, &ip, &left, &op, &room) == (size_t) -1 ||
      iconv (cd, NULL, NULL, &op, &room) == (size_t) -1) {
    recode_error (from, len - left);
    free (out);
    iconv_close (cd);
    return NULL;
  }
  iconv_close (cd);
  op[0] = '\0';
  op[1] = '\0';
  if (outlen)
    *outlen = (size_t) (op - out);
  return out;
}

char *
charset_utf16_to_utf8 (const void *in, size_t len, enum charset_utf16 order)
{
  const unsigned char *p = in;
  size_t n;

  for (n = 0; n + 1 < len && (p[n] || p[n + 1]); n += 2)
    ;
  return recode ("UTF-8", utf16_name (order), in, n, NULL);
}

void *
charset_utf8_to_utf16 (const char *s, enum charset_utf16 order, size_t *len)
{
  return recode (utf16_name (order), "UTF-8", s, strlen (s), len);
}

char *
charset_to_utf8 (const char *from, const void *in, size_t len)
{
  return recode ("UTF-8", from, in, len, NULL);
}

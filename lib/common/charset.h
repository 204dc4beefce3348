/* charset.h: text between UTF-8 and other encodings — the one place that
 * converts (glibc's iconv): UTF-16 of VHD parent names and locators
 * (big- and little-endian), Windows registry strings and .inf files.
 *
 * Input is hostile and bounded: more than CHARSET_MAX_INPUT bytes is
 * refused, and so is any invalid or truncated sequence, an unpaired UTF-16
 * surrogate or an encoded surrogate in UTF-8 ("invalid UTF-16LE text at
 * byte 4"); nothing is replaced.  Results are malloc'd and the caller
 * frees them; NULL with the error set on failure.
 */
#ifndef FERRY_CHARSET_H
#define FERRY_CHARSET_H

#include <stddef.h>

/* 64 MiB: far beyond any name, registry value or .inf we convert. */
#define CHARSET_MAX_INPUT (64u << 20)

enum charset_utf16 {
  CHARSET_UTF16LE,            /* Windows: registry, .inf, W2ku/W2ru */
  CHARSET_UTF16BE,            /* the VHD header's parent name */
};

/* UTF-16 in byte order `order`, up to its first U+0000 or the end of the
 * `len` bytes (an odd last byte is ignored), as a new NUL-terminated UTF-8
 * string.  A byte order mark is not special: it becomes U+FEFF. */
char *charset_utf16_to_utf8 (const void *in, size_t len,
                             enum charset_utf16 order);

/* The UTF-8 string `s` as new UTF-16 in byte order `order`, without a BOM;
 * *len is its length in bytes.  The buffer holds a two-byte U+0000 after
 * those *len bytes, for callers that want it terminated. */
void *charset_utf8_to_utf16 (const char *s, enum charset_utf16 order,
                             size_t *len);

/* `len` bytes in the iconv charset `from` ("ISO-8859-1"; "UTF-8" checks
 * them as glibc does: malformed sequences and surrogates are refused, code
 * points above U+10FFFF pass) as a new NUL-terminated UTF-8 string. */
char *charset_to_utf8 (const char *from, const void *in, size_t len);

#endif

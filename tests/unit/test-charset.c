/* test-charset.c: UTF-16 (both byte orders) and 8-bit text to and from
 * UTF-8 through iconv — round trips, surrogate pairs, stops at U+0000,
 * and invalid or oversized input refused with a message. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/charset.h"
#include "lib/common/error.h"

static void
refused (void *p, const char *msg)
{
  assert_null (p);
  assert_non_null (strstr (error_get (), msg));
}

static void
test_encode (void **state)
{
  size_t len;
  char *u;

  (void) state;
  u = charset_utf8_to_utf16 ("A\xc3\xa9\xf0\x9f\x98\x80", CHARSET_UTF16LE,
                             &len);
  assert_non_null (u);
  assert_int_equal (len, 8);
  assert_memory_equal (u, "A\0\xe9\0\x3d\xd8\x00\xde\0\0", 10);
  free (u);
  u = charset_utf8_to_utf16 ("A\xc3\xa9\xf0\x9f\x98\x80", CHARSET_UTF16BE,
                             &len);
  assert_non_null (u);
  assert_int_equal (len, 8);
  assert_memory_equal (u, "\0A\0\xe9\xd8\x3d\xde\x00\0\0", 10);
  free (u);
  u = charset_utf8_to_utf16 ("", CHARSET_UTF16LE, &len);
  assert_non_null (u);
  assert_int_equal (len, 0);
  free (u);
}

static void
test_decode (void **state)
{
  char *s;

  (void) state;
  s = charset_utf16_to_utf8 ("A\0\xe9\0\x3d\xd8\x00\xde", 8, CHARSET_UTF16LE);
  assert_string_equal (s, "A\xc3\xa9\xf0\x9f\x98\x80");
  free (s);
  s = charset_utf16_to_utf8 ("\0A\0\xe9\xd8\x3d\xde\x00", 8, CHARSET_UTF16BE);
  assert_string_equal (s, "A\xc3\xa9\xf0\x9f\x98\x80");
  free (s);
  /* Up to the first U+0000 (padded header fields); an odd byte is left. */
  s = charset_utf16_to_utf8 ("a\0b\0\0\0c\0", 8, CHARSET_UTF16LE);
  assert_string_equal (s, "ab");
  free (s);
  s = charset_utf16_to_utf8 ("a\0b", 3, CHARSET_UTF16LE);
  assert_string_equal (s, "a");
  free (s);
  s = charset_utf16_to_utf8 ("", 0, CHARSET_UTF16BE);
  assert_string_equal (s, "");
  free (s);
  /* A BOM is text, not a byte order. */
  s = charset_utf16_to_utf8 ("\xff\xfe" "a\0", 4, CHARSET_UTF16LE);
  assert_string_equal (s, "\xef\xbb\xbf" "a");
  free (s);
}

static void
test_invalid (void **state)
{
  size_t len;

  (void) state;
  /* Unpaired surrogates: high then a letter, a lone low, high at the end. */
  refused (charset_utf16_to_utf8 ("\x00\xd8[\x00", 4, CHARSET_UTF16LE),
           "invalid UTF-16LE text at byte 0");
  refused (charset_utf16_to_utf8 ("a\0\x00\xdc", 4, CHARSET_UTF16LE),
           "invalid UTF-16LE text at byte 2");
  refused (charset_utf16_to_utf8 ("\0a\xd8\x00", 4, CHARSET_UTF16BE),
           "invalid UTF-16BE text: truncated at byte 2");
  /* UTF-8: a bad byte, an encoded surrogate, overlong, cut short. */
  refused (charset_utf8_to_utf16 ("ab\xff", CHARSET_UTF16LE, &len),
           "invalid UTF-8 text at byte 2");
  refused (charset_utf8_to_utf16 ("\xed\xa0\x80", CHARSET_UTF16BE, &len),
           "invalid UTF-8 text at byte 0");
  refused (charset_utf8_to_utf16 ("\xc0\xaf", CHARSET_UTF16LE, &len),
           "invalid UTF-8 text");
  refused (charset_utf8_to_utf16 ("a\xc3", CHARSET_UTF16LE, &len),
           "invalid UTF-8 text: truncated at byte 1");
  refused (charset_to_utf8 ("UTF-8", "x\xc3(", 3),
           "invalid UTF-8 text at byte 1");
}

static void
test_eight_bit (void **state)
{
  char *s;

  (void) state;
  s = charset_to_utf8 ("ISO-8859-1", "caf\xe9 \xff", 6);
  assert_string_equal (s, "caf\xc3\xa9 \xc3\xbf");
  free (s);
  s = charset_to_utf8 ("UTF-8", "caf\xc3\xa9", 5);
  assert_string_equal (s, "caf\xc3\xa9");
  free (s);
  refused (charset_to_utf8 ("NO-SUCH-CHARSET", "x", 1), "iconv from");
}

static void
test_too_long (void **state)
{
  size_t n = CHARSET_MAX_INPUT + 4;
  char *big = calloc (1, n);

  (void) state;
  assert_non_null (big);
  memset (big, 'a', n - 1);
  refused (charset_utf16_to_utf8 (big, n - 1, CHARSET_UTF16LE),
           "text too long");
  refused (charset_to_utf8 ("UTF-8", big, n - 1), "text too long");
  free (big);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_encode),
    cmocka_unit_test (test_decode),
    cmocka_unit_test (test_invalid),
    cmocka_unit_test (test_eight_bit),
    cmocka_unit_test (test_too_long),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

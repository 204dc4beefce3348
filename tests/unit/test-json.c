/* test-json.c: exact output of the JSON writer, escaping and misuse. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/common/json.h"

/* A writer into memory; out() closes the stream and returns the text. */
struct capture {
  struct json j;
  FILE *fp;
  char *buf;
  size_t len;
};

static void
capture_open (struct capture *c)
{
  c->buf = NULL;
  c->fp = open_memstream (&c->buf, &c->len);
  assert_non_null (c->fp);
  json_init (&c->j, c->fp);
}

/* Finish the document, check json_finish's result, return the text. */
static char *
capture_finish (struct capture *c, int want)
{
  assert_int_equal (json_finish (&c->j), want);
  assert_int_equal (fclose (c->fp), 0);
  return c->buf;
}

static void
check_string (const char *in, const char *want)
{
  struct capture c;
  char *out;

  capture_open (&c);
  json_string (&c.j, in);
  out = capture_finish (&c, 0);
  assert_string_equal (out, want);
  free (out);
}

static void
test_nested (void **state)
{
  struct capture c;
  char *out;
  int i;

  (void) state;
  capture_open (&c);
  json_object_begin (&c.j);
  json_key_string (&c.j, "format", "vhd");
  json_key_uint (&c.j, "size", 1048576);
  json_key (&c.j, "extents");
  json_array_begin (&c.j);
  for (i = 0; i < 2; i++) {
    json_object_begin (&c.j);
    json_key_uint (&c.j, "start", (uint64_t) i * 512);
    json_key_int (&c.j, "delta", -i);
    json_key_bool (&c.j, "data", i == 0);
    json_object_end (&c.j);
  }
  json_array_end (&c.j);
  json_key (&c.j, "empty");
  json_object_begin (&c.j);
  json_object_end (&c.j);
  json_key (&c.j, "none");
  json_array_begin (&c.j);
  json_array_end (&c.j);
  json_key_string (&c.j, "parent", NULL);
  json_object_end (&c.j);
  out = capture_finish (&c, 0);
  assert_string_equal (out,
    "{\"format\":\"vhd\",\"size\":1048576,\"extents\":["
    "{\"start\":0,\"delta\":0,\"data\":true},"
    "{\"start\":512,\"delta\":-1,\"data\":false}],"
    "\"empty\":{},\"none\":[],\"parent\":null}\n");
  free (out);
}

static void
test_array_of_arrays (void **state)
{
  struct capture c;
  char *out;

  (void) state;
  capture_open (&c);
  json_array_begin (&c.j);
  json_array_begin (&c.j);
  json_uint (&c.j, 1);
  json_uint (&c.j, 2);
  json_array_end (&c.j);
  json_array_begin (&c.j);
  json_array_end (&c.j);
  json_null (&c.j);
  json_bool (&c.j, true);
  json_string (&c.j, "");
  json_array_end (&c.j);
  out = capture_finish (&c, 0);
  assert_string_equal (out, "[[1,2],[],null,true,\"\"]\n");
  free (out);
}

static void
test_integers (void **state)
{
  struct capture c;
  char *out;

  (void) state;
  capture_open (&c);
  json_array_begin (&c.j);
  json_uint (&c.j, UINT64_MAX);
  json_int (&c.j, INT64_MIN);
  json_int (&c.j, INT64_MAX);
  json_int (&c.j, 0);
  json_array_end (&c.j);
  out = capture_finish (&c, 0);
  assert_string_equal (out, "[18446744073709551615,-9223372036854775808,"
                       "9223372036854775807,0]\n");
  free (out);
}

static void
test_escapes (void **state)
{
  (void) state;
  check_string ("plain", "\"plain\"\n");
  check_string ("a\"b\\c/d", "\"a\\\"b\\\\c/d\"\n");
  check_string ("\n\t\r\b\f", "\"\\u000a\\u0009\\u000d\\u0008\\u000c\"\n");
  check_string ("\x01\x1f\x7f ~", "\"\\u0001\\u001f\\u007f ~\"\n");
}

static void
test_key_escapes (void **state)
{
  struct capture c;
  char *out;

  (void) state;
  capture_open (&c);
  json_object_begin (&c.j);
  json_key_string (&c.j, "k\"\x02", "v");
  json_object_end (&c.j);
  out = capture_finish (&c, 0);
  assert_string_equal (out, "{\"k\\\"\\u0002\":\"v\"}\n");
  free (out);
}

static void
test_valid_utf8 (void **state)
{
  (void) state;
  /* é (2 bytes), € (3), U+FFFF, U+10000 and U+10FFFF (4) pass through. */
  check_string ("caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbf",
                "\"caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbf\"\n");
  check_string ("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
                "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"\n");
}

static void
test_invalid_utf8 (void **state)
{
  (void) state;
  check_string ("\xff", "\"\\ufffd\"\n");
  check_string ("a\x80z", "\"a\\ufffdz\"\n");          /* lone continuation */
  check_string ("a\xc3", "\"a\\ufffd\"\n");            /* truncated at end */
  check_string ("\xc3z", "\"\\ufffdz\"\n");            /* bad continuation */
  check_string ("\xe2\x82", "\"\\ufffd\\ufffd\"\n");   /* truncated 3-byte */
  check_string ("\xc0\xaf", "\"\\ufffd\\ufffd\"\n");   /* overlong '/' */
  check_string ("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"\n");
  check_string ("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"\n"); /* surrogate */
  check_string ("\xf4\x90\x80\x80",                     /* > U+10FFFF */
                "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n");
  check_string ("\xf8\x88\x80\x80\x80",
                "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"\n");
  /* The valid sequence after a bad byte survives. */
  check_string ("\xc3\xc3\xa9", "\"\\ufffd\xc3\xa9\"\n");
}

static void
check_double (double v, const char *want)
{
  struct capture c;
  char *out;

  capture_open (&c);
  json_double (&c.j, v);
  out = capture_finish (&c, 0);
  assert_string_equal (out, want);
  free (out);
}

static void
test_doubles (void **state)
{
  (void) state;
  check_double (0.1, "0.1\n");
  check_double (1.5, "1.5\n");
  check_double (100, "100\n");
  check_double (1.5e10, "15000000000\n");
  check_double (1e16, "10000000000000000\n");
  check_double (1e17, "1e+17\n");
  check_double (-2e-5, "-2e-05\n");
  check_double (0.001, "0.001\n");
  check_double (-0.0, "-0\n");
  check_double (1.0 / 3.0, "0.3333333333333333\n");
  check_double (0.1 + 0.2, "0.30000000000000004\n");
  check_double (1e300, "1e+300\n");
  check_double (5e-324, "5e-324\n");
  check_double (123456789012345678.0, "1.2345678901234568e+17\n");
  check_double (NAN, "null\n");
  check_double (INFINITY, "null\n");
  check_double (-INFINITY, "null\n");
}

static void
test_double_round_trip (void **state)
{
  static const double values[] = {
    0.1, 2.0 / 3.0, 1e-7, 123456789.123456789, 1.7976931348623157e308,
    2.2250738585072014e-308, -3.14159265358979,
  };
  size_t i;

  (void) state;
  for (i = 0; i < sizeof values / sizeof values[0]; i++) {
    struct capture c;
    char *out;

    capture_open (&c);
    json_double (&c.j, values[i]);
    out = capture_finish (&c, 0);
    assert_true (strtod (out, NULL) == values[i]);
    free (out);
  }
}

static void
nest (struct json *j, int levels)
{
  int i;

  for (i = 0; i < levels; i++)
    json_array_begin (j);
  json_uint (j, 7);
  for (i = 0; i < levels; i++)
    json_array_end (j);
}

static void
test_depth_limit_ok (void **state)
{
  struct capture c;
  char *out, want[2 * JSON_MAX_DEPTH + 3];

  (void) state;
  capture_open (&c);
  nest (&c.j, JSON_MAX_DEPTH);
  out = capture_finish (&c, 0);
  memset (want, '[', JSON_MAX_DEPTH);
  want[JSON_MAX_DEPTH] = '7';
  memset (want + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH);
  snprintf (want + 2 * JSON_MAX_DEPTH + 1, 2, "\n");
  assert_string_equal (out, want);
  free (out);
}

static void
test_too_deep (void **state)
{
  struct capture c;
  char *out, want[256];
  int i;

  (void) state;
  capture_open (&c);
  json_array_begin (&c.j);
  nest (&c.j, JSON_MAX_DEPTH);       /* one level too many */
  json_uint (&c.j, 8);               /* back in range: written */
  json_array_end (&c.j);
  error_clear ();
  out = capture_finish (&c, -1);
  assert_non_null (strstr (error_get (), "nesting deeper than 32"));
  /* The innermost level became null; everything else is intact. */
  for (i = 0; i < JSON_MAX_DEPTH; i++)
    want[i] = '[';
  memcpy (want + i, "null", 4);
  i += 4;
  memset (want + i, ']', JSON_MAX_DEPTH - 1);
  i += JSON_MAX_DEPTH - 1;
  snprintf (want + i, sizeof want - (size_t) i, ",8]\n");
  assert_string_equal (out, want);
  free (out);
}

static void
test_unbalanced (void **state)
{
  struct capture c;
  char *out;

  (void) state;
  capture_open (&c);
  json_object_begin (&c.j);
  out = capture_finish (&c, -1);
  assert_non_null (strstr (error_get (), "unclosed"));
  free (out);

  capture_open (&c);
  json_array_end (&c.j);
  out = capture_finish (&c, -1);
  assert_non_null (strstr (error_get (), "end without begin"));
  free (out);

  capture_open (&c);
  json_object_begin (&c.j);
  json_key (&c.j, "a");
  json_key (&c.j, "b");               /* two keys in a row */
  json_uint (&c.j, 1);
  json_object_end (&c.j);
  out = capture_finish (&c, -1);
  assert_non_null (strstr (error_get (), "key"));
  free (out);
}

static void
test_reuse_after_finish (void **state)
{
  struct capture c;
  char *out;

  (void) state;
  capture_open (&c);
  json_array_begin (&c.j);
  assert_int_equal (json_finish (&c.j), -1);
  json_uint (&c.j, 1);               /* a fresh document */
  out = capture_finish (&c, 0);
  assert_string_equal (out, "[\n1\n");
  free (out);
}

static void
test_write_error (void **state)
{
  struct json j;
  FILE *fp = fopen ("/dev/full", "w");
  int i;

  (void) state;
  if (fp == NULL)
    skip ();
  json_init (&j, fp);
  json_array_begin (&j);
  for (i = 0; i < 10000; i++)
    json_string (&j, "filling the stdio buffer");
  json_array_end (&j);
  assert_int_equal (json_finish (&j), -1);
  assert_non_null (strstr (error_get (), "json: write"));
  fclose (fp);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_nested),
    cmocka_unit_test (test_array_of_arrays),
    cmocka_unit_test (test_integers),
    cmocka_unit_test (test_escapes),
    cmocka_unit_test (test_key_escapes),
    cmocka_unit_test (test_valid_utf8),
    cmocka_unit_test (test_invalid_utf8),
    cmocka_unit_test (test_doubles),
    cmocka_unit_test (test_double_round_trip),
    cmocka_unit_test (test_depth_limit_ok),
    cmocka_unit_test (test_too_deep),
    cmocka_unit_test (test_unbalanced),
    cmocka_unit_test (test_reuse_after_finish),
    cmocka_unit_test (test_write_error),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test-strbuf.c: growable strings and the small string helpers. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/strbuf.h"

static void
test_add (void **state)
{
  struct strbuf sb = STRBUF_INIT;

  (void) state;
  assert_int_equal (strbuf_add (&sb, "abc", 3), 0);
  assert_int_equal (strbuf_adds (&sb, "def"), 0);
  assert_int_equal (strbuf_add (&sb, "ghi", 1), 0);
  assert_string_equal (sb.buf, "abcdefg");
  assert_int_equal (sb.len, 7);
  assert_true (sb.cap > sb.len);
  strbuf_release (&sb);
  assert_null (sb.buf);
  assert_int_equal (sb.len, 0);
}

static void
test_add_empty_terminates (void **state)
{
  struct strbuf sb = STRBUF_INIT;

  (void) state;
  assert_int_equal (strbuf_add (&sb, "", 0), 0);
  assert_non_null (sb.buf);
  assert_string_equal (sb.buf, "");
  strbuf_release (&sb);
}

static void
test_addf_grows (void **state)
{
  struct strbuf sb = STRBUF_INIT;
  int i;

  (void) state;
  for (i = 0; i < 10000; i++)
    assert_int_equal (strbuf_addf (&sb, "%09d|", i), 0);
  assert_int_equal (sb.len, 100000);
  assert_int_equal (strlen (sb.buf), 100000);
  assert_memory_equal (sb.buf, "000000000|000000001|", 20);
  assert_string_equal (sb.buf + sb.len - 10, "000009999|");
  strbuf_release (&sb);
}

static void
test_addf_long_single (void **state)
{
  struct strbuf sb = STRBUF_INIT;

  (void) state;
  assert_int_equal (strbuf_adds (&sb, "x="), 0);
  assert_int_equal (strbuf_addf (&sb, "%5000d", 7), 0);
  assert_int_equal (sb.len, 5002);
  assert_int_equal (sb.buf[5001], '7');
  assert_int_equal (sb.buf[5002], '\0');
  strbuf_release (&sb);
}

static void
test_detach (void **state)
{
  struct strbuf sb = STRBUF_INIT;
  char *s;

  (void) state;
  s = strbuf_detach (&sb);            /* never NULL, even when empty */
  assert_non_null (s);
  assert_string_equal (s, "");
  free (s);
  strbuf_addf (&sb, "%s-%d", "vhd", 2);
  s = strbuf_detach (&sb);
  assert_string_equal (s, "vhd-2");
  assert_null (sb.buf);
  assert_int_equal (sb.len, 0);
  assert_int_equal (sb.cap, 0);
  free (s);
  strbuf_release (&sb);               /* released twice is fine */
}

static void
test_prefix_suffix (void **state)
{
  (void) state;
  assert_true (str_has_prefix ("disk.vhd", "disk"));
  assert_true (str_has_prefix ("disk.vhd", ""));
  assert_false (str_has_prefix ("di", "disk"));
  assert_true (str_has_suffix ("disk.vhd", ".vhd"));
  assert_true (str_has_suffix ("disk.vhd", ""));
  assert_true (str_has_suffix (".vhd", ".vhd"));
  assert_false (str_has_suffix ("vhd", ".vhd"));
  assert_false (str_has_suffix ("disk.vmdk", ".vhd"));
}

static void
test_xstrdup_xasprintf (void **state)
{
  char *a = xstrdup ("hello");
  char *b = xasprintf ("%s:%04x", "id", 0xbeef);

  (void) state;
  assert_string_equal (a, "hello");
  assert_string_equal (b, "id:beef");
  free (a);
  free (b);
}

static void
test_trim (void **state)
{
  char a[] = " \t key = value \t\r", b[] = "", c[] = " \t\r", d[] = "x";

  (void) state;
  assert_string_equal (str_trim (a), "key = value");
  assert_string_equal (str_trim (b), "");
  assert_string_equal (str_trim (c), "");
  assert_string_equal (str_trim (d), "x");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_add),
    cmocka_unit_test (test_add_empty_terminates),
    cmocka_unit_test (test_addf_grows),
    cmocka_unit_test (test_addf_long_single),
    cmocka_unit_test (test_detach),
    cmocka_unit_test (test_prefix_suffix),
    cmocka_unit_test (test_xstrdup_xasprintf),
    cmocka_unit_test (test_trim),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

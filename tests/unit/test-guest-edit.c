/* test-guest-edit.c: the list of changes made to a guest (guest-edit.h):
 * order kept, strings copied, details formatted, freed to empty. */
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/guest/guest-edit.h"

static void
test_changes (void **state)
{
  struct guest_changes ch = { 0 };
  char path[] = "/etc/hostname";
  size_t i;

  (void) state;
  assert_int_equal (guest_changes_add (&ch, "hostname", path, "%s -> %s",
                                       "gold", "clone1"), 0);
  path[1] = 'X';              /* the list holds its own copy */
  assert_int_equal (guest_changes_add (&ch, "registry", "", "tag %u", 34u),
                    0);
  for (i = 0; i < 20; i++)    /* past the first growth */
    assert_int_equal (guest_changes_add (&ch, "n", "", "%zu", i), 0);
  assert_int_equal (ch.len, 22);
  assert_string_equal (ch.ptr[0].what, "hostname");
  assert_string_equal (ch.ptr[0].path, "/etc/hostname");
  assert_string_equal (ch.ptr[0].detail, "gold -> clone1");
  assert_string_equal (ch.ptr[1].path, "");
  assert_string_equal (ch.ptr[1].detail, "tag 34");
  assert_string_equal (ch.ptr[21].detail, "19");
  guest_changes_free (&ch);
  assert_null (ch.ptr);
  assert_int_equal (ch.len, 0);
  guest_changes_free (&ch);   /* twice is fine */
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_changes),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

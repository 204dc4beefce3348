/* test-strv.c: string lists — NULL-terminated arrays and strv_vector
 * freed without a leak or a double free (ASan, valgrind), membership. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/strv.h"

static void
test_frees_each (void **state)
{
  char **v = calloc (3, sizeof *v);

  (void) state;
  assert_non_null (v);
  v[0] = strdup ("a");
  v[1] = strdup ("b");
  assert_non_null (v[0]);
  assert_non_null (v[1]);
  strv_free (v);
}

static void
test_empty_and_null (void **state)
{
  char **v = calloc (1, sizeof *v);

  (void) state;
  assert_non_null (v);
  strv_free (v);
  strv_free (NULL);
}

static void
test_vector (void **state)
{
  strv_vector v = empty_vector;

  (void) state;
  assert_false (strv_vector_has (&v, "a"));
  assert_int_equal (strv_vector_append (&v, strdup ("a")), 0);
  assert_int_equal (strv_vector_append (&v, strdup ("b/c")), 0);
  assert_true (strv_vector_has (&v, "a"));
  assert_true (strv_vector_has (&v, "b/c"));
  assert_false (strv_vector_has (&v, "b"));
  strv_vector_free (&v);
  assert_null (v.ptr);
  assert_int_equal (v.len, 0);
  strv_vector_free (&v);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_frees_each),
    cmocka_unit_test (test_empty_and_null),
    cmocka_unit_test (test_vector),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

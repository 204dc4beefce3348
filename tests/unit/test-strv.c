/* test-strv.c: freeing NULL-terminated string arrays (ASan and valgrind
 * see a leak or a double free). */
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

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_frees_each),
    cmocka_unit_test (test_empty_and_null),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

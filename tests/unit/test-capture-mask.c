/* test-capture-mask.c: capture --convert's copy mask, the used blocks
 * plus the overlay's clusters (guest_overlay_union in lib/guest/overlay.c). */
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/guest/overlay.h"

static void
push (extent_vector *v, uint64_t off, uint64_t len)
{
  assert_int_equal (extent_vector_append (v, (struct extent) {
        off, len, EXTENT_DATA }), 0);
}

static void
expect (const extent_vector *v, size_t i, uint64_t off, uint64_t len)
{
  assert_true (i < v->len);
  assert_int_equal (v->ptr[i].offset, off);
  assert_int_equal (v->ptr[i].length, len);
  assert_int_equal (v->ptr[i].type, EXTENT_DATA);
}

static void
test_union (void **state)
{
  extent_vector used = empty_vector, ov = empty_vector, out = empty_vector;

  (void) state;
  push (&used, 0, 100);
  push (&used, 1000, 100);
  push (&used, 5000, 10);
  push (&ov, 50, 100);          /* overlaps the first */
  push (&ov, 1100, 50);         /* touches the second */
  push (&ov, 3000, 0);          /* empty: ignored */
  push (&ov, 4000, 64);         /* free space the conversion wrote */
  push (&ov, 5002, 2);          /* inside the last */
  assert_int_equal (guest_overlay_union (&used, &ov, &out), 0);
  assert_int_equal (out.len, 4);
  expect (&out, 0, 0, 150);
  expect (&out, 1, 1000, 150);
  expect (&out, 2, 4000, 64);
  expect (&out, 3, 5000, 10);
  extent_vector_reset (&out);
  /* One side empty: the other unchanged. */
  extent_vector_reset (&ov);
  assert_int_equal (guest_overlay_union (&used, &ov, &out), 0);
  assert_int_equal (out.len, 3);
  expect (&out, 2, 5000, 10);
  extent_vector_reset (&out);
  assert_int_equal (guest_overlay_union (&ov, &used, &out), 0);
  assert_int_equal (out.len, 3);
  extent_vector_reset (&out);
  extent_vector_reset (&used);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_union),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

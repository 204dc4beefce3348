/* test-checked.c: overflow-checked arithmetic and rounding (checked.h). */
#include <stdint.h>

#include "tests/unit/unit.h"
#include "lib/common/checked.h"

static void
test_add_overflow (void **state)
{
  uint64_t r;
  uint32_t r32;
  int64_t s;

  (void) state;
  assert_false (ADD_OVERFLOW (UINT64_MAX - 1, (uint64_t) 1, &r));
  assert_true (r == UINT64_MAX);
  assert_true (ADD_OVERFLOW (UINT64_MAX, (uint64_t) 1, &r));
  assert_true (ADD_OVERFLOW ((uint64_t) 1 << 32, (uint64_t) 0, &r32));
  assert_true (ADD_OVERFLOW (INT64_MAX, (int64_t) 1, &s));
  assert_false (ADD_OVERFLOW (INT64_MIN, (int64_t) INT64_MAX, &s));
  assert_true (s == -1);
}

static void
test_mul_overflow (void **state)
{
  uint64_t r;
  uint32_t r32;

  (void) state;
  assert_false (MUL_OVERFLOW ((uint64_t) 1 << 31, (uint64_t) 1 << 32, &r));
  assert_true (r == (uint64_t) 1 << 63);
  assert_true (MUL_OVERFLOW ((uint64_t) 1 << 32, (uint64_t) 1 << 32, &r));
  /* Hostile table entries times sector size into a 32-bit count. */
  assert_true (MUL_OVERFLOW ((uint32_t) 0x800000, (uint32_t) 512, &r32));
  assert_false (MUL_OVERFLOW ((uint64_t) 0, UINT64_MAX, &r));
  assert_true (r == 0);
}

static void
test_sub_overflow (void **state)
{
  uint64_t r;

  (void) state;
  assert_true (SUB_OVERFLOW ((uint64_t) 0, (uint64_t) 1, &r));
  assert_false (SUB_OVERFLOW ((uint64_t) 10, (uint64_t) 10, &r));
  assert_true (r == 0);
}

static void
test_is_power_of_2 (void **state)
{
  int i;

  (void) state;
  assert_false (is_power_of_2 (0));
  for (i = 0; i < 64; i++) {
    assert_true (is_power_of_2 ((uint64_t) 1 << i));
    if (i > 1)
      assert_false (is_power_of_2 (((uint64_t) 1 << i) + 1));
  }
  assert_false (is_power_of_2 (6));
  assert_false (is_power_of_2 (UINT64_MAX));
}

static void
test_round_up (void **state)
{
  uint64_t r;

  (void) state;
  assert_false (round_up_overflow (0, 512, &r));
  assert_true (r == 0);
  assert_false (round_up_overflow (1, 512, &r));
  assert_true (r == 512);
  assert_false (round_up_overflow (512, 512, &r));
  assert_true (r == 512);
  assert_false (round_up_overflow (513, 1, &r));
  assert_true (r == 513);
  assert_false (round_up_overflow (UINT64_MAX - 511, 512, &r));
  assert_true (r == UINT64_MAX - 511);
  assert_true (round_up_overflow (UINT64_MAX - 510, 512, &r));
  assert_true (round_up_overflow (UINT64_MAX, 2, &r));
  assert_false (round_up_overflow (UINT64_MAX, 1, &r));
}

static void
test_div_min_max (void **state)
{
  (void) state;
  assert_int_equal (DIV_ROUND_UP (0, 512), 0);
  assert_int_equal (DIV_ROUND_UP (1, 512), 1);
  assert_int_equal (DIV_ROUND_UP (512, 512), 1);
  assert_int_equal (DIV_ROUND_UP (513, 512), 2);
  assert_int_equal (MIN (3, 7), 3);
  assert_int_equal (MAX (3, 7), 7);
  assert_int_equal (MIN (-1, 1), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_add_overflow),
    cmocka_unit_test (test_mul_overflow),
    cmocka_unit_test (test_sub_overflow),
    cmocka_unit_test (test_is_power_of_2),
    cmocka_unit_test (test_round_up),
    cmocka_unit_test (test_div_min_max),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

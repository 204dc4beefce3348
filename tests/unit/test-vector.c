/* test-vector.c: growth, reset and overflow checks of vector.h. */
#include <stdint.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/common/vector.h"

DEFINE_VECTOR_TYPE (uint64_vector, uint64_t);
DEFINE_VECTOR_TYPE (byte_vector, uint8_t);

#ifdef __SANITIZE_ADDRESS__
/* ASan aborts on huge allocations unless told that malloc may fail. */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1";
}
#endif

struct big { char data[4096]; };
DEFINE_VECTOR_TYPE (big_vector, struct big);

static void
test_append_many (void **state)
{
  uint64_vector v = empty_vector;
  uint64_t i;

  (void) state;
  for (i = 0; i < 100000; i++)
    assert_int_equal (uint64_vector_append (&v, i * 3), 0);
  assert_int_equal (v.len, 100000);
  assert_true (v.cap >= v.len);
  for (i = 0; i < v.len; i++)
    assert_int_equal (v.ptr[i], i * 3);
  uint64_vector_reset (&v);
  assert_null (v.ptr);
  assert_int_equal (v.len, 0);
  assert_int_equal (v.cap, 0);
}

static void
test_reserve (void **state)
{
  byte_vector v = empty_vector;
  uint8_t *before;

  (void) state;
  assert_int_equal (byte_vector_reserve (&v, 0), 0);
  assert_int_equal (byte_vector_reserve (&v, 1000), 0);
  assert_true (v.cap >= 1000);
  before = v.ptr;
  memset (v.ptr, 7, 1000);
  v.len = 1000;
  /* Reserving what is already there keeps the storage. */
  assert_int_equal (byte_vector_reserve (&v, v.cap - v.len), 0);
  assert_ptr_equal (v.ptr, before);
  assert_int_equal (byte_vector_reserve (&v, v.cap - v.len + 1), 0);
  assert_int_equal (v.ptr[999], 7);
  byte_vector_reset (&v);
}

static void
test_reserve_overflow_len_plus_n (void **state)
{
  byte_vector v = empty_vector;

  (void) state;
  assert_int_equal (byte_vector_append (&v, 1), 0);
  error_clear ();
  assert_int_equal (byte_vector_reserve (&v, SIZE_MAX), -1);
  assert_non_null (strstr (error_get (), "overflow"));
  assert_int_equal (v.len, 1);                  /* untouched */
  assert_int_equal (v.ptr[0], 1);
  byte_vector_reset (&v);
}

static void
test_reserve_overflow_doubling (void **state)
{
  byte_vector v = empty_vector;

  (void) state;
  error_clear ();
  /* Capacity doubles past SIZE_MAX / 2 before reaching SIZE_MAX - 1. */
  assert_int_equal (byte_vector_reserve (&v, SIZE_MAX - 1), -1);
  assert_non_null (strstr (error_get (), "overflow"));
  assert_null (v.ptr);
}

static void
test_reserve_overflow_bytes (void **state)
{
  big_vector v = empty_vector;
  uint64_vector w = empty_vector;

  (void) state;
  error_clear ();
  assert_int_equal (big_vector_reserve (&v, SIZE_MAX / 4096 + 1), -1);
  assert_non_null (strstr (error_get (), "overflow"));
  error_clear ();
  assert_int_equal (uint64_vector_reserve (&w, SIZE_MAX / 8 + 1), -1);
  assert_non_null (strstr (error_get (), "overflow"));
  assert_null (v.ptr);
  assert_null (w.ptr);
}

static void
test_reserve_enomem (void **state)
{
  byte_vector v = empty_vector;

  (void) state;
  /* No overflow, but no machine has 2^62 bytes: realloc fails cleanly. */
  if (sizeof (size_t) < 8)
    skip ();
  error_clear ();
  assert_int_equal (byte_vector_reserve (&v, (size_t) 1 << 62), -1);
  assert_non_null (strstr (error_get (), "vector"));
  assert_null (v.ptr);
  assert_int_equal (v.cap, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_append_many),
    cmocka_unit_test (test_reserve),
    cmocka_unit_test (test_reserve_overflow_len_plus_n),
    cmocka_unit_test (test_reserve_overflow_doubling),
    cmocka_unit_test (test_reserve_overflow_bytes),
    cmocka_unit_test (test_reserve_enomem),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

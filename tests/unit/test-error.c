/* test-error.c: the thread-local last-error convention (error.h). */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"

static void
test_set_returns_minus_one (void **state)
{
  (void) state;
  error_clear ();
  assert_int_equal (error_set ("vhd: '%s': footer checksum mismatch",
                               "disk.vhd"), -1);
  assert_string_equal (error_get (),
                       "vhd: 'disk.vhd': footer checksum mismatch");
}

static void
test_unknown_when_clear (void **state)
{
  (void) state;
  error_set ("something");
  error_clear ();
  assert_string_equal (error_get (), "unknown error");
}

static void
test_errno_appended_and_preserved (void **state)
{
  (void) state;
  errno = ENOENT;
  assert_int_equal (error_errno ("raw: '%s'", "x.img"), -1);
  assert_int_equal (errno, ENOENT);
  assert_string_equal (error_get (), "raw: 'x.img': No such file or directory");
}

static void
test_set_preserves_errno (void **state)
{
  (void) state;
  errno = EIO;
  error_set ("x");
  assert_int_equal (errno, EIO);
  errno = EPERM;
  error_prefix ("y: ");
  assert_int_equal (errno, EPERM);
}

static void
test_prefix (void **state)
{
  (void) state;
  error_set ("'disk.vhd': bad footer");
  assert_int_equal (error_prefix ("capture: %s: ", "vhd"), -1);
  assert_string_equal (error_get (), "capture: vhd: 'disk.vhd': bad footer");
}

static void
test_long_message_truncated (void **state)
{
  char big[5000];

  (void) state;
  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  error_set ("%s", big);
  assert_int_equal (strlen (error_get ()), 1023);
  errno = EIO;
  error_errno ("%s", big);
  assert_int_equal (strlen (error_get ()), 1023);
  error_prefix ("%s", big);
  assert_int_equal (strlen (error_get ()), 1023);
  error_set ("short");
  error_prefix ("%s", big);
  assert_int_equal (strlen (error_get ()), 1023);
}

static void *
thread_main (void *arg)
{
  const char **seen = arg;

  seen[0] = strcmp (error_get (), "unknown error") == 0 ? "clean" : "dirty";
  error_set ("from the thread");
  return NULL;
}

static void
test_thread_local (void **state)
{
  const char *seen[1] = { NULL };
  pthread_t t;

  (void) state;
  error_set ("from main");
  assert_int_equal (pthread_create (&t, NULL, thread_main, seen), 0);
  assert_int_equal (pthread_join (t, NULL), 0);
  assert_string_equal (seen[0], "clean");
  assert_string_equal (error_get (), "from main");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_set_returns_minus_one),
    cmocka_unit_test (test_unknown_when_clear),
    cmocka_unit_test (test_errno_appended_and_preserved),
    cmocka_unit_test (test_set_preserves_errno),
    cmocka_unit_test (test_prefix),
    cmocka_unit_test (test_long_message_truncated),
    cmocka_unit_test (test_thread_local),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

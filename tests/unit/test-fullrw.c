/* test-fullrw.c: full pread/pwrite, short reads as errors, is_zero. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"

struct tmp {
  char path[64];
  int fd;
};

static int
setup (void **state)
{
  struct tmp *t = malloc (sizeof *t);
  const char *dir = getenv ("TMPDIR");

  if (t == NULL)
    return -1;
  snprintf (t->path, sizeof t->path, "%s/test-fullrw.XXXXXX",
            dir && strlen (dir) < 32 ? dir : "/tmp");
  t->fd = mkstemp (t->path);
  if (t->fd == -1) {
    free (t);
    return -1;
  }
  *state = t;
  return 0;
}

static int
teardown (void **state)
{
  struct tmp *t = *state;

  close (t->fd);
  unlink (t->path);
  free (t);
  return 0;
}

static void
test_write_read_back (void **state)
{
  struct tmp *t = *state;
  char out[100000], in[100000];
  size_t i;

  for (i = 0; i < sizeof out; i++)
    out[i] = (char) (i * 7 + i / 251);
  assert_int_equal (full_pwrite (t->fd, out, sizeof out, 4096, t->path), 0);
  memset (in, 0, sizeof in);
  assert_int_equal (full_pread (t->fd, in, sizeof in, 4096, t->path), 0);
  assert_memory_equal (in, out, sizeof out);
  /* The hole before the data reads back as zeros. */
  assert_int_equal (full_pread (t->fd, in, 4096, 0, t->path), 0);
  assert_true (is_zero (in, 4096));
  assert_int_equal (full_pread (t->fd, in, 0, 1 << 30, t->path), 0);
}

static void
test_short_read_is_error (void **state)
{
  struct tmp *t = *state;
  char buf[200];

  assert_int_equal (full_pwrite (t->fd, "0123456789", 10, 0, t->path), 0);
  error_clear ();
  errno = 0;
  assert_int_equal (full_pread (t->fd, buf, 20, 0, t->path), -1);
  assert_int_equal (errno, EIO);
  assert_non_null (strstr (error_get (), t->path));
  assert_non_null (strstr (error_get (), "end of file"));
  /* Wholly past the end is an error too, never zero-filled. */
  assert_int_equal (full_pread (t->fd, buf, 1, 10, t->path), -1);
  assert_int_equal (full_pread (t->fd, buf, 1, 1 << 20, t->path), -1);
  assert_non_null (strstr (error_get (), t->path));
  /* Exactly up to the end is fine. */
  assert_int_equal (full_pread (t->fd, buf, 10, 0, t->path), 0);
  assert_memory_equal (buf, "0123456789", 10);
}

static void
test_errors_name_the_file (void **state)
{
  struct tmp *t = *state;
  int ro = open (t->path, O_RDONLY);
  char buf[4];

  assert_true (ro >= 0);
  assert_int_equal (full_pwrite (ro, "x", 1, 0, "ro.img"), -1);
  assert_int_equal (errno, EBADF);
  assert_non_null (strstr (error_get (), "'ro.img'"));
  close (ro);
  assert_int_equal (full_pread (-1, buf, 4, 0, "gone.img"), -1);
  assert_int_equal (errno, EBADF);
  assert_non_null (strstr (error_get (), "'gone.img'"));
}

static void
test_is_zero_lengths (void **state)
{
  unsigned char buf[1024 + 64];
  size_t len, pos;

  (void) state;
  memset (buf, 0, sizeof buf);
  assert_true (is_zero (buf, 0));
  assert_true (is_zero (NULL, 0));
  /* Every length from 1 to 300 with one non-zero byte at every place,
   * plus unaligned starts. */
  for (len = 1; len <= 300; len++) {
    assert_true (is_zero (buf, len));
    assert_true (is_zero (buf + 3, len));
    for (pos = 0; pos < len; pos++) {
      buf[pos] = 0x80;
      assert_false (is_zero (buf, len));
      buf[pos] = 0;
    }
    buf[len] = 1;                     /* just past the end: ignored */
    assert_true (is_zero (buf, len));
    buf[len] = 0;
  }
}

static void
test_is_zero_large (void **state)
{
  const size_t len = 4 << 20;
  unsigned char *buf = calloc (1, len);
  size_t pos[] = { 0, 15, 16, 17, 4095, 4096, 65537, (2 << 20) + 3, len - 1 };
  size_t i;

  (void) state;
  assert_non_null (buf);
  assert_true (is_zero (buf, len));
  for (i = 0; i < sizeof pos / sizeof pos[0]; i++) {
    buf[pos[i]] = 1;
    assert_false (is_zero (buf, len));
    buf[pos[i]] = 0;
  }
  free (buf);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_write_read_back, setup, teardown),
    cmocka_unit_test_setup_teardown (test_short_read_is_error, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_errors_name_the_file, setup,
                                     teardown),
    cmocka_unit_test (test_is_zero_lengths),
    cmocka_unit_test (test_is_zero_large),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

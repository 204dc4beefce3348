/* unit.h: what every cmocka unit test includes. */
#ifndef FERRY_UNIT_H
#define FERRY_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The whole of `file`, NUL-terminated (not counted in *len); the caller
 * frees it.  Fails the test if the file cannot be read. */
static inline void *
unit_slurp (const char *file, size_t *len)
{
  struct stat st;
  char *buf;
  int fd = open (file, O_RDONLY | O_CLOEXEC);

  assert_true (fd >= 0);
  assert_int_equal (fstat (fd, &st), 0);
  buf = malloc ((size_t) st.st_size + 1);
  assert_non_null (buf);
  assert_int_equal (read (fd, buf, (size_t) st.st_size), st.st_size);
  buf[st.st_size] = '\0';
  close (fd);
  *len = (size_t) st.st_size;
  return buf;
}

/* Run a test group inside a fresh scratch directory: `dir` is a mkdtemp
 * template the tests build their paths from; it is removed afterwards.
 *   UNIT_RUN_IN_TMPDIR (tests, dir);   (tests: a CMUnitTest array) */
#define UNIT_RUN_IN_TMPDIR(tests, dir)                                  \
  unit_run_in_tmpdir (#tests, (tests), sizeof (tests) / sizeof (tests)[0], \
                      (dir))

/* Remove a test's scratch directory and everything in it: 0 or -1. */
static inline int
unit_remove_dir (const char *dir)
{
  char cmd[1100];

  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system (cmd) == 0 ? 0 : -1;
}

static inline int
unit_run_in_tmpdir (const char *name, const struct CMUnitTest *tests,
                    size_t n, char *dir)
{
  int r;

  if (mkdtemp (dir) == NULL)
    return 1;
  r = _cmocka_run_group_tests (name, tests, n, NULL, NULL);
  return unit_remove_dir (dir) == 0 ? r : 1;
}

#endif

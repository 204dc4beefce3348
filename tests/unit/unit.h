/* unit.h: what every cmocka unit test includes. */
#ifndef FERRY_UNIT_H
#define FERRY_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

/* Run a test group inside a fresh scratch directory: `dir` is a mkdtemp
 * template the tests build their paths from; it is removed afterwards.
 *   UNIT_RUN_IN_TMPDIR (tests, dir);   (tests: a CMUnitTest array) */
#define UNIT_RUN_IN_TMPDIR(tests, dir)                                  \
  unit_run_in_tmpdir (#tests, (tests), sizeof (tests) / sizeof (tests)[0], \
                      (dir))

static inline int
unit_run_in_tmpdir (const char *name, const struct CMUnitTest *tests,
                    size_t n, char *dir)
{
  char cmd[300];
  int r;

  if (mkdtemp (dir) == NULL)
    return 1;
  r = _cmocka_run_group_tests (name, tests, n, NULL, NULL);
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system (cmd) != 0)
    return 1;
  return r;
}

#endif

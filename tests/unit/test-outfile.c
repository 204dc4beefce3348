/* test-outfile.c: outputs appear only when complete. */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/outfile.h"

static char dir[] = "/tmp/ferry-test-outfile.XXXXXX";

static void
touch (const char *p)
{
  int fd = open (p, O_CREAT | O_WRONLY, 0644);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, "x", 1), 1);
  close (fd);
}

static void
test_commit (void **state)
{
  struct outfile o;
  char final[256];

  (void) state;
  snprintf (final, sizeof final, "%s/a.vhd", dir);
  assert_int_equal (outfile_begin (&o, final, false), 0);
  assert_non_null (strstr (o.tmp, "/.a.vhd.ferry-tmp-"));
  touch (o.tmp);
  assert_int_not_equal (access (final, F_OK), 0);
  assert_int_equal (outfile_commit (&o), 0);
  assert_int_equal (access (final, F_OK), 0);
  /* Existing output refused without overwrite, accepted with it. */
  assert_int_equal (outfile_begin (&o, final, false), -1);
  assert_non_null (strstr (error_get (), "already exists"));
  assert_int_equal (outfile_begin (&o, final, true), 0);
  outfile_abort (&o);
}

static void
test_abort (void **state)
{
  struct outfile o;
  char final[256], tmp[512];

  (void) state;
  snprintf (final, sizeof final, "%s/b.qcow2", dir);
  assert_int_equal (outfile_begin (&o, final, false), 0);
  snprintf (tmp, sizeof tmp, "%s", o.tmp);
  touch (o.tmp);
  outfile_abort (&o);
  assert_int_not_equal (access (tmp, F_OK), 0);
  assert_int_not_equal (access (final, F_OK), 0);
  outfile_abort (&o);           /* twice is harmless */
}

static void
test_commit_missing_tmp (void **state)
{
  struct outfile o;
  char final[256];

  (void) state;
  snprintf (final, sizeof final, "%s/c.raw", dir);
  assert_int_equal (outfile_begin (&o, final, false), 0);
  assert_int_equal (outfile_commit (&o), -1);   /* nothing was written */
  assert_non_null (strstr (error_get (), "c.raw"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_commit),
    cmocka_unit_test (test_abort),
    cmocka_unit_test (test_commit_missing_tmp),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

/* test-outfile.c: outputs appear only when complete. */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/outfile.h"

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

/* Signal hooks: registered cleanups run (once each, whatever the order
 * of registration and installation), the temporary goes, and the process
 * still dies of the signal. */
static char marker[300];

static void
hook (void)
{
  int fd = open (marker, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);

  if (fd >= 0) {
    if (write (fd, "h", 1) != 1)
      unlink (marker);
    close (fd);
  }
}

static void hook2 (void) { }
static void hook3 (void) { }
static void hook4 (void) { }
static void hook5 (void) { }

static void
test_signal_hooks (void **state)
{
  char final[256], tmp[300];
  struct stat st;
  int fds[2], status;
  pid_t pid;
  ssize_t n;

  (void) state;
  snprintf (marker, sizeof marker, "%s/hook-ran", dir);
  snprintf (final, sizeof final, "%s/sig.raw", dir);
  assert_int_equal (pipe (fds), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0) {
    struct outfile o;

    close (fds[0]);
    outfile_install_signal_handlers ();
    if (outfile_on_signal (hook) == -1 || outfile_on_signal (hook) == -1 ||
        outfile_on_signal (hook2) == -1 || outfile_on_signal (hook3) == -1 ||
        outfile_on_signal (hook4) == -1)
      _exit (3);
    if (outfile_on_signal (hook5) != -1 || !strstr (error_get (), "too many"))
      _exit (4);
    outfile_install_signal_handlers ();       /* again: no harm */
    if (outfile_begin (&o, final, false) == -1)
      _exit (5);
    touch (o.tmp);
    if (write (fds[1], o.tmp, strlen (o.tmp) + 1) == -1)
      _exit (6);
    raise (SIGTERM);
    _exit (7);
  }
  close (fds[1]);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGTERM);
  n = read (fds[0], tmp, sizeof tmp - 1);
  close (fds[0]);
  assert_true (n > 0);
  tmp[n] = '\0';
  assert_int_equal (lstat (tmp, &st), -1);        /* the temporary went */
  assert_int_equal (lstat (marker, &st), 0);
  assert_int_equal (st.st_size, 1);               /* the hook ran once */
}

/* A small file written whole: created, never replacing anything. */
static void
test_write_new (void **state)
{
  char file[256], *got;
  size_t len;

  (void) state;
  snprintf (file, sizeof file, "%s/vm.xml", dir);
  assert_int_equal (outfile_write_new (file, "<domain/>\n", 10), 0);
  got = unit_slurp (file, &len);
  assert_int_equal (len, 10);
  assert_string_equal (got, "<domain/>\n");
  free (got);
  assert_int_equal (outfile_write_new (file, "x", 1), -1);
  assert_non_null (strstr (error_get (), "vm.xml': File exists"));
  snprintf (file, sizeof file, "%s/no/such/dir", dir);
  assert_int_equal (outfile_write_new (file, "x", 1), -1);
  assert_non_null (strstr (error_get (), "/no/such/dir': No such file"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_commit),
    cmocka_unit_test (test_abort),
    cmocka_unit_test (test_commit_missing_tmp),
    cmocka_unit_test (test_signal_hooks),
    cmocka_unit_test (test_write_new),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

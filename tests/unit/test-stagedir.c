/* test-stagedir.c: staging directories appear only when complete and
 * vanish on failure or signal, without following symlinks. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/common/error.h"
#include "lib/common/outfile.h"
#include "lib/common/stagedir.h"

static char dir[] = "/tmp/ferry-test-stagedir.XXXXXX";

static void
touch (const char *p)
{
  int fd = open (p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, "x", 1), 1);
  close (fd);
}

static bool
exists (const char *p)
{
  struct stat st;

  return lstat (p, &st) == 0;
}

static void
test_commit (void **state)
{
  struct stagedir s;
  char out[256], p[PATH_MAX + 16];
  struct stat st;

  (void) state;
  snprintf (out, sizeof out, "%s/vm", dir);
  assert_int_equal (stagedir_begin (&s, out, "test", 0700, false), 0);
  assert_string_equal (s.final, out);
  assert_non_null (strstr (s.path, "/.vm.ferry-test-"));
  assert_int_equal (stat (s.path, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (st.st_mode & 0077, 0);      /* private */
  snprintf (p, sizeof p, "%s/disk", s.path);
  touch (p);
  assert_false (exists (out));
  assert_int_equal (stagedir_commit (&s), 0);
  assert_null (s.path);
  snprintf (p, sizeof p, "%s/disk", out);
  assert_true (exists (p));
  stagedir_abort (&s);                          /* after commit: no-op */
  assert_true (exists (p));
  /* Now OUT exists: a new stage for it is refused. */
  assert_int_equal (stagedir_begin (&s, out, "test", 0700, false), -1);
  assert_non_null (strstr (error_get (), "already exists"));
  assert_null (s.path);
  assert_int_equal (stagedir_begin (&s, "/", "test", 0700, true), -1);
}

static void
test_commit_refuses_existing (void **state)
{
  struct stagedir s;
  char out[256], stage[PATH_MAX], p[PATH_MAX + 16];

  (void) state;
  snprintf (out, sizeof out, "%s/race", dir);
  assert_int_equal (stagedir_begin (&s, out, "test", 0755, false), 0);
  snprintf (stage, sizeof stage, "%s", s.path);
  /* Something else creates OUT meanwhile: never replaced. */
  assert_int_equal (mkdir (out, 0755), 0);
  snprintf (p, sizeof p, "%s/theirs", out);
  touch (p);
  assert_int_equal (stagedir_commit (&s), -1);
  assert_true (exists (p));
  assert_true (exists (stage));
  stagedir_abort (&s);
  assert_false (exists (stage));
  assert_true (exists (p));
}

static void
test_commit_file (void **state)
{
  struct stagedir s;
  char out[256], stage[PATH_MAX], p[PATH_MAX + 16];
  size_t len;
  char *data;

  (void) state;
  snprintf (out, sizeof out, "%s/pkg.ova", dir);
  touch (out);
  assert_int_equal (stagedir_begin (&s, out, "test", 0700, true), 0);
  snprintf (stage, sizeof stage, "%s", s.path);
  snprintf (p, sizeof p, "%s/pkg.ova", s.path);
  assert_int_equal (unlink (out), 0);
  assert_int_equal (symlink ("elsewhere", out), 0);
  touch (p);
  assert_int_equal (stagedir_commit_file (&s, "pkg.ova", false), -1);
  assert_int_equal (stagedir_commit_file (&s, "pkg.ova", true), 0);
  data = unit_slurp (out, &len);                /* the symlink replaced */
  assert_int_equal (len, 1);
  free (data);
  stagedir_abort (&s);
  assert_false (exists (stage));
}

static void
test_nested_and_symlinks (void **state)
{
  struct stagedir s;
  char out[PATH_MAX], outside[256], stage[PATH_MAX], p[PATH_MAX + 64];

  (void) state;
  snprintf (outside, sizeof outside, "%s/outside", dir);
  assert_int_equal (mkdir (outside, 0755), 0);
  snprintf (p, sizeof p, "%s/keep", outside);
  touch (p);
  snprintf (out, sizeof out, "%s/nested", dir);
  assert_int_equal (stagedir_begin (&s, out, "test", 0700, false), 0);
  snprintf (stage, sizeof stage, "%s", s.path);
  snprintf (p, sizeof p, "%s/a", stage);
  assert_int_equal (mkdir (p, 0755), 0);
  snprintf (p, sizeof p, "%s/a/b", stage);
  assert_int_equal (mkdir (p, 0755), 0);
  snprintf (p, sizeof p, "%s/a/b/f", stage);
  touch (p);
  snprintf (p, sizeof p, "%s/a/dirlink", stage);
  assert_int_equal (symlink (outside, p), 0);
  snprintf (p, sizeof p, "%s/filelink", stage);
  snprintf (out, sizeof out, "%s/keep", outside);
  assert_int_equal (symlink (out, p), 0);
  stagedir_abort (&s);
  assert_false (exists (stage));
  assert_true (exists (out));                   /* outside/keep */
}

static void
test_depth_bounded (void **state)
{
  char p[PATH_MAX];
  size_t len;
  int i;

  (void) state;
  len = (size_t) snprintf (p, sizeof p, "%s/deep", dir);
  assert_int_equal (mkdir (p, 0700), 0);
  for (i = 0; i < 20; i++) {
    len += (size_t) snprintf (p + len, sizeof p - len, "/d");
    assert_int_equal (mkdir (p, 0700), 0);
  }
  snprintf (p, sizeof p, "%s/deep", dir);
  stagedir_remove_tree (p);
  assert_true (exists (p));             /* too deep: left, not overflowed */
  snprintf (p, sizeof p, "%s/deep/d", dir);
  assert_true (exists (p));
}

/* A child stages a directory and an outfile temporary, then SIGTERM: the
 * handler removes both (one handler for both) and the child dies of the
 * signal, whichever was set up first. */
static void
signal_cleans_both (bool outfile_first, const char *name)
{
  char out[256], stage[2 * PATH_MAX], tmp[2 * PATH_MAX];
  int fds[2], status;
  pid_t pid;

  snprintf (out, sizeof out, "%s/%s", dir, name);
  assert_int_equal (pipe (fds), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0) {
    struct stagedir s;
    struct outfile o;
    char p[PATH_MAX + 16], f[300];

    close (fds[0]);
    snprintf (f, sizeof f, "%s/%s.img", dir, name);
    if (outfile_first) {
      outfile_install_signal_handlers ();
      if (outfile_begin (&o, f, false) == -1 ||
          stagedir_begin (&s, out, "test", 0700, false) == -1)
        _exit (3);
    }
    else {
      /* The order stagedir.h once forbade: stagedir_begin first. */
      if (stagedir_begin (&s, out, "test", 0700, false) == -1)
        _exit (3);
      outfile_install_signal_handlers ();
      if (outfile_begin (&o, f, false) == -1)
        _exit (3);
    }
    touch (o.tmp);
    snprintf (p, sizeof p, "%s/sub", s.path);
    mkdir (p, 0700);
    snprintf (p, sizeof p, "%s/sub/f", s.path);
    touch (p);
    if (write (fds[1], s.path, strlen (s.path) + 1) == -1 ||
        write (fds[1], o.tmp, strlen (o.tmp) + 1) == -1)
      _exit (4);
    raise (SIGTERM);
    _exit (5);
  }
  close (fds[1]);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGTERM);
  {
    char buf[2 * PATH_MAX];
    ssize_t n = read (fds[0], buf, sizeof buf - 1);
    assert_true (n > 0);
    buf[n] = '\0';
    snprintf (stage, sizeof stage, "%s", buf);
    snprintf (tmp, sizeof tmp, "%s", buf + strlen (buf) + 1);
  }
  close (fds[0]);
  {
    char want[300];
    snprintf (want, sizeof want, "/.%s.ferry-test-", name);
    assert_non_null (strstr (stage, want));
    snprintf (want, sizeof want, "/.%s.img.ferry-tmp-", name);
    assert_non_null (strstr (tmp, want));
  }
  assert_false (exists (stage));
  assert_false (exists (tmp));
  assert_false (exists (out));
}

static void
test_signal (void **state)
{
  (void) state;
  signal_cleans_both (true, "sig");
}

static void
test_signal_reversed_order (void **state)
{
  (void) state;
  signal_cleans_both (false, "sigrev");
}

/* nohup's SIGHUP stays ignored. */
static void
test_signal_ignored (void **state)
{
  char out[256];
  int status;
  pid_t pid;

  (void) state;
  snprintf (out, sizeof out, "%s/hup", dir);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0) {
    struct stagedir s;

    signal (SIGHUP, SIG_IGN);
    if (stagedir_begin (&s, out, "test", 0700, false) == -1)
      _exit (3);
    raise (SIGHUP);
    stagedir_abort (&s);
    _exit (exists (out) ? 4 : 0);
  }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

static void
test_registry_full (void **state)
{
  struct stagedir s[STAGEDIR_MAX + 1];
  char out[256];
  int i;

  (void) state;
  for (i = 0; i < STAGEDIR_MAX; i++) {
    snprintf (out, sizeof out, "%s/many%d", dir, i);
    assert_int_equal (stagedir_begin (&s[i], out, "test", 0700, false), 0);
  }
  snprintf (out, sizeof out, "%s/one-too-many", dir);
  assert_int_equal (stagedir_begin (&s[i], out, "test", 0700, false), -1);
  assert_non_null (strstr (error_get (), "too many"));
  for (i = 0; i < STAGEDIR_MAX; i++)
    stagedir_abort (&s[i]);
  assert_int_equal (stagedir_begin (&s[0], out, "test", 0700, false), 0);
  stagedir_abort (&s[0]);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_commit),
    cmocka_unit_test (test_commit_refuses_existing),
    cmocka_unit_test (test_commit_file),
    cmocka_unit_test (test_nested_and_symlinks),
    cmocka_unit_test (test_depth_bounded),
    cmocka_unit_test (test_signal),
    cmocka_unit_test (test_signal_reversed_order),
    cmocka_unit_test (test_signal_ignored),
    cmocka_unit_test (test_registry_full),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

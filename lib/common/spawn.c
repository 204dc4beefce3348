/* spawn.c: run a helper program (mount, sshfs, efibootmgr...) with its
 * arguments, never through a shell, and turn its failure into one error
 * line (spawn.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/spawn.h"

static bool
in_path (const char *prog)
{
  const char *path = getenv ("PATH");
  char file[4200];

  if (strchr (prog, '/'))
    return access (prog, X_OK) == 0;
  if (path == NULL)
    path = "/usr/sbin:/usr/bin:/sbin:/bin";
  while (*path) {
    size_t n = strcspn (path, ":");
    if (snprintf (file, sizeof file, "%.*s/%s", (int) n, path, prog) <
        (int) sizeof file && access (file, X_OK) == 0)
      return true;
    path += n + (path[n] == ':');
  }
  return false;
}

static void
child (const char *const *argv, int in, int out, const char *const *env)
{
  size_t i;

  dup2 (in, 0);
  dup2 (out, 1);
  dup2 (out, 2);
  for (i = 0; env && env[i]; i++)
    putenv ((char *) env[i]);
  execvp (argv[0], (char *const *) argv);
  _exit (127);
}

/* The child's output goes to an unlinked file, not a pipe: daemons
 * (sshfs and the ssh it starts) keep inherited descriptors open, and a
 * pipe would never reach end of file. */
static int
output_file (void)
{
  char tmpl[] = "/tmp/ferry-spawn-XXXXXX";
  int fd = open ("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

  if (fd >= 0)
    return fd;
  if ((fd = mkostemp (tmpl, O_CLOEXEC)) >= 0)
    unlink (tmpl);
  return fd;
}

/* The first line of what the child printed (bounded). */
static void
first_line (int fd, char *buf, size_t len)
{
  ssize_t n = pread (fd, buf, len - 1, 0);

  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
}

int
spawn_run (const char *const *argv, const char *input,
           const char *const *env)
{
  int inp[2], out, status;
  char msg[512];
  pid_t pid;

  if (!in_path (argv[0]))
    return error_set ("'%s' is not installed", argv[0]);
  if ((out = output_file ()) == -1)
    return error_errno ("temporary file");
  if (pipe2 (inp, O_CLOEXEC) == -1) {
    close (out);
    return error_errno ("pipe");
  }
  if ((pid = fork ()) == -1) {
    close (inp[0]);
    close (inp[1]);
    close (out);
    return error_errno ("fork");
  }
  if (pid == 0)
    child (argv, inp[0], out, env);
  close (inp[0]);
  if (input) {
    signal (SIGPIPE, SIG_IGN);
    if (write (inp[1], input, strlen (input)) == -1 ||
        write (inp[1], "\n", 1) == -1)
      (void) 0;                 /* the child's status tells */
  }
  close (inp[1]);
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
  first_line (out, msg, sizeof msg);
  close (out);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127 && !msg[0])
    return error_set ("'%s' could not be run", argv[0]);
  return error_set ("%s failed%s%s", argv[0], msg[0] ? ": " : "", msg);
}

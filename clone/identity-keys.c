/* identity-keys.c: every clone's SSH host keys made on the host ahead of
 * its edit, by worker processes that run while the appliance launches and
 * the golden is inspected (ssh-keygen of an RSA key takes about a second:
 * done inline it was most of a clone's edit time). */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clone/identity-int.h"
#include "lib/common/error.h"

/* The types made ahead: those a golden usually has.  Others (DSA) are
 * made inline when the golden has them; unused keys go with the
 * temporary directory. */
static const char *const ahead[] = { "rsa", "ecdsa", "ed25519" };
#define N_AHEAD (sizeof ahead / sizeof ahead[0])

#define MAX_WORKERS 4

struct clone_keygen {
  const char *tmpdir;
  pid_t pid[MAX_WORKERS];
  size_t workers;
};

void
clone_keygen_path (const char *tmpdir, size_t i, const char *type, char *out,
                   size_t outsz)
{
  snprintf (out, outsz, "%s/%zu-ssh_host_%s_key", tmpdir, i, type);
}

static void
ready_path (const char *tmpdir, size_t i, char *out, size_t outsz)
{
  snprintf (out, outsz, "%s/%zu.ready", tmpdir, i);
}

/* The parent asks the workers to stop with a file, not by closing a
 * pipe: children libguestfs forks without exec (its recovery process)
 * would hold a pipe's write end open. */
static void
stop_path (const char *tmpdir, char *out, size_t outsz)
{
  snprintf (out, outsz, "%s/stop", tmpdir);
}

static bool
stopped (const char *tmpdir)
{
  char stop[128];

  stop_path (tmpdir, stop, sizeof stop);
  return access (stop, F_OK) == 0 || getppid () == 1;
}

static int
gen_one (const char *tmpdir, const struct clone_spec *s, size_t i,
         const char *type)
{
  char key[128], comment[300];

  clone_keygen_path (tmpdir, i, type, key, sizeof key);
  snprintf (comment, sizeof comment, "root@%s", s->hostname ? s->hostname
            : s->name);
  {
    char *gen[] = { "ssh-keygen", "-q", "-t", (char *) type, "-N", "", "-C",
                    comment, "-f", key, NULL };
    return clone_id_run (gen, NULL, 0);
  }
}

/* Worker w of nw: clones w, w + nw, ... in order; each clone's keys are
 * announced by its ready file once all are written. */
static void
worker (const char *tmpdir, const struct clone_spec *specs, size_t n,
        size_t w, size_t nw)
{
  char ready[128];
  size_t i, t;
  int fd;

  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
  for (i = w; i < n && !stopped (tmpdir); i += nw) {
    for (t = 0; t < N_AHEAD; t++)
      if (gen_one (tmpdir, &specs[i], i, ahead[t]) == -1)
        break;
    ready_path (tmpdir, i, ready, sizeof ready);
    if (t == N_AHEAD &&
        (fd = open (ready, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
        >= 0)
      close (fd);
  }
  _exit (0);
}

static size_t
n_workers (size_t n)
{
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  size_t w = cpus > 1 ? (size_t) cpus : 1;

  if (w > MAX_WORKERS)
    w = MAX_WORKERS;
  return w < n ? w : n;
}

struct clone_keygen *
clone_keygen_start (const char *tmpdir, const struct clone_spec *specs,
                    size_t n)
{
  struct clone_keygen *kg = calloc (1, sizeof *kg);
  size_t w, nw = n_workers (n);

  if (kg == NULL || nw == 0) {
    free (kg);
    return NULL;              /* keys are made inline instead */
  }
  kg->tmpdir = tmpdir;
  fflush (NULL);
  for (w = 0; w < nw; w++) {
    pid_t pid = fork ();
    if (pid == 0)
      worker (tmpdir, specs, n, w, nw);
    if (pid == -1)
      break;
    kg->pid[kg->workers++] = pid;
  }
  return kg;
}

static bool
all_exited (struct clone_keygen *kg)
{
  size_t w;
  bool all = true;

  for (w = 0; w < kg->workers; w++) {
    if (kg->pid[w] > 0 && waitpid (kg->pid[w], NULL, WNOHANG) != 0)
      kg->pid[w] = 0;
    if (kg->pid[w] > 0)
      all = false;
  }
  return all;
}

bool
clone_keygen_ready (struct clone_keygen *kg, size_t i, const char *type)
{
  const struct timespec tick = { 0, 20 * 1000 * 1000 };
  char ready[128];
  size_t t;

  for (t = 0; t < N_AHEAD && strcmp (type, ahead[t]) != 0; t++)
    ;
  if (kg == NULL || t == N_AHEAD)
    return false;
  ready_path (kg->tmpdir, i, ready, sizeof ready);
  for (;;) {
    bool done = all_exited (kg);
    if (access (ready, F_OK) == 0)
      return true;
    if (done)
      return false;
    nanosleep (&tick, NULL);
  }
}

void
clone_keygen_stop (struct clone_keygen *kg)
{
  char stop[128];
  size_t w;
  int fd;

  if (kg == NULL)
    return;
  stop_path (kg->tmpdir, stop, sizeof stop);
  if ((fd = open (stop, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
    close (fd);
  for (w = 0; w < kg->workers; w++)
    while (kg->pid[w] > 0 && waitpid (kg->pid[w], NULL, 0) == -1 &&
           errno == EINTR)
      ;
  free (kg);
}

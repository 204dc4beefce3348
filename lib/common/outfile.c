/* outfile.c: temporary-name-then-rename outputs with signal cleanup, and
 * small files written whole into a staging directory. */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/outfile.h"
#include "lib/common/strbuf.h"

/* Paths the signal handler must remove.  Fixed-size and written before
 * the file exists, so the handler needs no locks or allocation. */
#define MAX_PENDING 64
static char *volatile pending[MAX_PENDING];

static void
pending_set (const char *tmp, char *value)
{
  int i;

  for (i = 0; i < MAX_PENDING; i++)
    if (pending[i] == (value ? NULL : tmp)) {
      pending[i] = value;
      return;
    }
}

/* Cleanups other modules registered (stagedir.c's), run before ours. */
#define MAX_HOOKS 4
static void (*volatile hooks[MAX_HOOKS]) (void);

static void
on_signal (int sig)
{
  int i, saved = errno;

  for (i = 0; i < MAX_HOOKS; i++)
    if (hooks[i])
      hooks[i] ();
  for (i = 0; i < MAX_PENDING; i++)
    if (pending[i])
      unlink (pending[i]);
  /* The signal is blocked while we run: it kills us once we return. */
  signal (sig, SIG_DFL);
  raise (sig);
  errno = saved;
}

void
outfile_install_signal_handlers (void)
{
  static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
  struct sigaction sa, cur;
  size_t i;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigfillset (&sa.sa_mask);
  for (i = 0; i < sizeof signals / sizeof signals[0]; i++) {
    /* Already ours, or SIGHUP ignored (nohup): leave it.  An ignored
     * SIGINT is only a shell's `&`, which must not make us unstoppable. */
    if (sigaction (signals[i], NULL, &cur) == -1 ||
        cur.sa_handler == on_signal ||
        (signals[i] == SIGHUP && cur.sa_handler == SIG_IGN))
      continue;
    sigaction (signals[i], &sa, NULL);
  }
}

int
outfile_on_signal (void (*fn) (void))
{
  int i;

  for (i = 0; i < MAX_HOOKS; i++)
    if (hooks[i] == fn)
      return 0;
  for (i = 0; i < MAX_HOOKS; i++)
    if (hooks[i] == NULL) {
      hooks[i] = fn;
      return 0;
    }
  return error_set ("signal cleanup: too many hooks");
}

int
outfile_begin (struct outfile *o, const char *final_path, bool overwrite)
{
  static unsigned counter;
  CLEANUP_FREE char *d = xstrdup (final_path);
  CLEANUP_FREE char *b = xstrdup (final_path);
  struct stat st;

  o->final = o->tmp = NULL;
  if (d == NULL || b == NULL)
    return -1;
  if (!overwrite && lstat (final_path, &st) == 0)
    return error_set ("'%s': output already exists (use --force to replace it)",
                      final_path);
  o->final = xstrdup (final_path);
  o->tmp = xasprintf ("%s/.%s.ferry-tmp-%d-%u", dirname (d), basename (b),
                      (int) getpid (), counter++);
  if (o->final == NULL || o->tmp == NULL) {
    outfile_abort (o);
    return -1;
  }
  pending_set (NULL, o->tmp);
  return 0;
}

static int
fsync_dir (const char *path)
{
  CLEANUP_FREE char *d = xstrdup (path);
  CLEANUP_CLOSE int fd = -1;

  if (d == NULL)
    return -1;
  fd = open (dirname (d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1 || fsync (fd) == -1)
    return error_errno ("'%s': fsync of directory", path);
  return 0;
}

int
outfile_commit (struct outfile *o)
{
  if (rename (o->tmp, o->final) == -1) {
    error_errno ("'%s': rename into place", o->final);
    outfile_abort (o);
    return -1;
  }
  pending_set (o->tmp, NULL);
  free (o->tmp);
  o->tmp = NULL;
  if (fsync_dir (o->final) == -1)
    return -1;
  free (o->final);
  o->final = NULL;
  return 0;
}

void
outfile_abort (struct outfile *o)
{
  if (o->tmp) {
    pending_set (o->tmp, NULL);
    unlink (o->tmp);
    free (o->tmp);
  }
  free (o->final);
  o->tmp = o->final = NULL;
}

int
outfile_write_new (const char *path, const void *data, size_t len)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd == -1)
    return error_errno ("'%s'", path);
  if (full_pwrite (fd, data, len, 0, path) == -1 ||
      (fsync (fd) == -1 && error_errno ("'%s'", path))) {
    close (fd);
    return -1;
  }
  if (close (fd) == -1)
    return error_errno ("'%s'", path);
  return 0;
}

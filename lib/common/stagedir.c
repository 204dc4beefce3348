/* stagedir.c: staging directories committed by rename, removed on
 * failure or signal (stagedir.h). */
#include "lib/common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/outfile.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"

#define MAX_DEPTH 16

/* The registry the signal handler reads: fixed storage written before the
 * directory exists, a slot marked in use only once its path is complete,
 * so the handler needs no locks or allocation. */
static char reg_path[STAGEDIR_MAX][PATH_MAX];
static volatile sig_atomic_t reg_used[STAGEDIR_MAX];

/* Remove every entry of the directory open at fd; depth bounds the
 * recursion (and the stack: one 1 KiB buffer per level). */
static void
remove_entries (int fd, int depth)
{
  char buf[1024] __attribute__ ((aligned (8)));
  int pass;
  ssize_t n;

  /* Unlinking while reading may hide entries: scan until none is left. */
  for (pass = 0; pass < 16; pass++) {
    bool removed = false;
    lseek (fd, 0, SEEK_SET);
    while ((n = getdents64 (fd, buf, sizeof buf)) > 0) {
      ssize_t off;
      for (off = 0; off < n; ) {
        struct dirent64 *d = (struct dirent64 *) (buf + off);
        off += d->d_reclen;
        if (!strcmp (d->d_name, ".") || !strcmp (d->d_name, ".."))
          continue;
        if (unlinkat (fd, d->d_name, 0) == 0) {
          removed = true;
          continue;
        }
        if (errno != EISDIR || depth >= MAX_DEPTH)
          continue;
        int sub = openat (fd, d->d_name,
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub == -1)
          continue;
        remove_entries (sub, depth + 1);
        close (sub);
        if (unlinkat (fd, d->d_name, AT_REMOVEDIR) == 0)
          removed = true;
      }
    }
    if (!removed)
      break;
  }
}

void
stagedir_remove_tree (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd == -1)
    return;
  remove_entries (fd, 1);
  close (fd);
  rmdir (path);
}

/* outfile.c's handler calls this first (outfile_on_signal). */
static void
remove_registered (void)
{
  size_t i;
  int saved = errno;

  for (i = 0; i < STAGEDIR_MAX; i++)
    if (reg_used[i])
      stagedir_remove_tree (reg_path[i]);
  errno = saved;
}

static int
reg_add (const char *path)
{
  int i;

  if (strlen (path) >= PATH_MAX)
    return error_set ("'%s': path too long", path);
  if (outfile_on_signal (remove_registered) == -1)
    return -1;
  for (i = 0; i < STAGEDIR_MAX; i++)
    if (!reg_used[i]) {
      snprintf (reg_path[i], PATH_MAX, "%s", path);
      reg_used[i] = 1;
      outfile_install_signal_handlers ();
      return i + 1;
    }
  return error_set ("'%s': too many staging directories", path);
}

static void
reg_drop (struct stagedir *s)
{
  if (s->slot > 0)
    reg_used[s->slot - 1] = 0;
  s->slot = 0;
}

static void
stagedir_clear (struct stagedir *s)
{
  reg_drop (s);
  free (s->path);
  free (s->final);
  s->path = s->final = NULL;
}

int
stagedir_begin (struct stagedir *s, const char *output, const char *tag,
                mode_t mode, bool allow_existing)
{
  CLEANUP_FREE char *c1 = xstrdup (output), *c2 = xstrdup (output);
  char parent[PATH_MAX];
  const char *base;

  s->final = s->path = NULL;
  s->slot = 0;
  if (c1 == NULL || c2 == NULL)
    return -1;
  base = basename (c2);
  if (!strcmp (base, "/") || !strcmp (base, ".") || !strcmp (base, ".."))
    return error_set ("%s: '%s': not a name for a new output", tag, output);
  if (!allow_existing && (access (output, F_OK) == 0 || errno != ENOENT))
    return error_set ("%s: '%s': already exists", tag, output);
  if (realpath (dirname (c1), parent) == NULL)
    return error_errno ("%s: '%s'", tag, output);
  s->final = xasprintf ("%s/%s", strcmp (parent, "/") ? parent : "", base);
  s->path = xasprintf ("%s/.%s.ferry-%s-%ld", parent, base, tag,
                       (long) getpid ());
  if (s->final == NULL || s->path == NULL ||
      (s->slot = reg_add (s->path)) == -1) {
    stagedir_clear (s);
    return -1;
  }
  if (mkdir (s->path, mode) == -1) {
    int e = errno;
    stagedir_clear (s);
    errno = e;
    return error_errno ("%s: '%s'", tag, output);
  }
  return 0;
}

static int
fsync_dir (const char *path)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd == -1 || fsync (fd) == -1)
    return error_errno ("fsync '%s'", path);
  return 0;
}

static int
fsync_parent (const char *path)
{
  CLEANUP_FREE char *c = xstrdup (path);

  return c ? fsync_dir (dirname (c)) : -1;
}

/* renameat2 where the kernel and file system have it; otherwise, for
 * no-replace, link+unlink (files) or a checked rename (directories). */
static int
rename_noreplace (const char *from, const char *to, bool dir)
{
  struct stat st;

  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -1;
  if (!dir)
    return link (from, to) == -1 ? -1 : unlink (from);
  if (lstat (to, &st) == 0) {
    errno = EEXIST;
    return -1;
  }
  return rename (from, to);
}

int
stagedir_commit (struct stagedir *s)
{
  if (fsync_dir (s->path) == -1)
    return -1;
  if (rename_noreplace (s->path, s->final, true) == -1)
    return error_errno ("'%s'", s->final);
  reg_drop (s);                 /* the name is gone: nothing to remove */
  free (s->path);
  s->path = NULL;
  return fsync_parent (s->final);
}

int
stagedir_commit_file (struct stagedir *s, const char *name, bool replace)
{
  CLEANUP_FREE char *from = xasprintf ("%s/%s", s->path, name);

  if (from == NULL)
    return -1;
  if ((replace ? rename (from, s->final)
       : rename_noreplace (from, s->final, false)) == -1)
    return error_errno ("'%s'", s->final);
  return fsync_parent (s->final);
}

void
stagedir_abort (struct stagedir *s)
{
  if (s->path)
    stagedir_remove_tree (s->path);
  stagedir_clear (s);
}

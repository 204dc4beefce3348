/* import-peek.c: the VM a package describes, from its descriptor alone,
 * so that `ferry import --connect` can look its name up in libvirt before
 * any disk is extracted (import.h ova_import_peek). */
#include "lib/common/compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "ova/import.h"
#include "ova/ovf.h"
#include "ova/pkg-member.h"
#include "ova/xva-xml.h"

/* The headers looked at for the descriptor: a "./" entry, a manifest,
 * then the .ovf (or ova.xml first). */
#define PEEK_HEADERS 4

/* Append what `read` gives to sb, refusing more than `max` bytes. */
static int
slurp (ssize_t (*read_fn) (void *, void *, size_t), void *opaque,
       size_t max, struct strbuf *sb)
{
  char buf[65536];
  ssize_t n;

  while ((n = read_fn (opaque, buf, sizeof buf)) > 0) {
    if (sb->len + (size_t) n > max)
      return error_set ("descriptor larger than %zu bytes", max);
    if (strbuf_add (sb, buf, (size_t) n) == -1)
      return -1;
  }
  return n < 0 ? error_set ("descriptor unreadable") : 0;
}

static ssize_t
archive_fn (void *opaque, void *buf, size_t len)
{
  return archive_read_data (opaque, buf, len);
}

static ssize_t
fd_fn (void *opaque, void *buf, size_t len)
{
  return read (*(int *) opaque, buf, len);
}

static int
parse (const char *xml, size_t len, bool xva, const char *path,
       struct vm *vm)
{
  char **refs = NULL;
  size_t i;
  int r;

  if (!xva)
    return ovf_parse (xml, len, path, vm);
  r = xva_xml_parse (xml, len, path, vm, &refs);
  for (i = 0; refs && refs[i]; i++)
    free (refs[i]);
  free (refs);
  return r;
}

/* A tar: the first regular member, past "./" and a leading manifest,
 * must be the .ovf or ova.xml. */
static int
peek_tar (const char *path, struct vm *vm)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  struct strbuf sb = STRBUF_INIT;
  const char *n;
  int i, r = -1;

  if (a == NULL)
    return error_set ("out of memory");
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_filename (a, path, 65536) != ARCHIVE_OK)
    goto out;
  for (i = 0; i < PEEK_HEADERS; i++) {
    if (archive_read_next_header (a, &e) != ARCHIVE_OK)
      break;
    n = pkg_entry_name (e);
    if (archive_entry_filetype (e) == AE_IFDIR || str_has_suffix (n, ".mf"))
      continue;
    if (archive_entry_filetype (e) != AE_IFREG ||
        (!str_has_suffix (n, ".ovf") && strcmp (n, "ova.xml") != 0))
      break;
    if (slurp (archive_fn, a, OVF_MAX_SIZE, &sb) == 0)
      r = parse (sb.buf ? sb.buf : "", sb.len, strcmp (n, "ova.xml") == 0,
                 path, vm);
    break;
  }
out:
  strbuf_release (&sb);
  archive_read_free (a);
  return r;
}

/* An unpacked OVA: its one visible .ovf. */
static int
peek_dir (const char *path, struct vm *vm)
{
  DIR *d = opendir (path);
  struct dirent *de;
  struct strbuf sb = STRBUF_INIT;
  int fd = -1, r = -1;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (str_has_suffix (de->d_name, ".ovf") && de->d_name[0] != '.')
      break;
  if (de)
    fd = openat (dirfd (d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0 && slurp (fd_fn, &fd, OVF_MAX_SIZE, &sb) == 0)
    r = ovf_parse (sb.buf ? sb.buf : "", sb.len, path, vm);
  if (fd >= 0)
    close (fd);
  closedir (d);
  strbuf_release (&sb);
  return r;
}

bool
ova_import_peek (const char *path, struct vm *vm)
{
  struct stat st;
  int r;

  if (stat (path, &st) == -1)
    return false;
  if (S_ISDIR (st.st_mode))
    r = peek_dir (path, vm);
  else if (S_ISREG (st.st_mode))
    r = peek_tar (path, vm);
  else
    return false;                       /* a pipe is read once */
  return r == 0;
}

/* tar.c: tar headers made by libarchive, placed by Ferry (tar.h). */
#include "lib/common/compat.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "ova/tar.h"

/* Where libarchive's bytes go: a fixed buffer on the caller's stack.
 * (archive_write_open_memory's own client state is freed only by a clean
 * close, which tar_header must not do.) */
struct membuf {
  uint8_t *buf;
  size_t cap, used;
};

static la_ssize_t
mem_write (struct archive *a, void *opaque, const void *buf, size_t len)
{
  struct membuf *m = opaque;

  if (len > m->cap - m->used) {
    archive_set_error (a, ENOSPC, "more than %zu bytes", m->cap);
    return -1;
  }
  memcpy (m->buf + m->used, buf, len);
  m->used += len;
  return (la_ssize_t) len;
}

/* A GNU-format archive writing unblocked into m, so each call's bytes can
 * be counted exactly. */
static struct archive *
mem_archive (struct membuf *m)
{
  struct archive *a = archive_write_new ();

  if (a == NULL) {
    error_set ("tar: out of memory");
    return NULL;
  }
  if (archive_write_set_format_gnutar (a) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block (a, 0) != ARCHIVE_OK ||
      archive_write_open2 (a, m, NULL, mem_write, NULL, NULL) != ARCHIVE_OK) {
    error_set ("tar: %s", archive_error_string (a));
    archive_write_free (a);
    return NULL;
  }
  return a;
}

static struct archive_entry *
file_entry (const char *name, uint64_t size, time_t mtime)
{
  struct archive_entry *e = archive_entry_new ();

  if (e == NULL) {
    error_set ("tar: out of memory");
    return NULL;
  }
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) size);
  archive_entry_set_mtime (e, mtime, 0);
  return e;
}

int
tar_header (const char *name, uint64_t size, time_t mtime,
            uint8_t out[TAR_BLOCK])
{
  uint8_t buf[4 * TAR_BLOCK];
  struct membuf m = { .buf = buf, .cap = sizeof buf };
  size_t len = strlen (name);
  struct archive_entry *e;
  struct archive *a;
  int r;

  if (len == 0 || len > TAR_NAME_MAX)
    return error_set ("tar: member name '%s' must be 1 to %u bytes", name,
                      TAR_NAME_MAX);
  if (size > INT64_MAX)
    return error_set ("tar: member '%s' is too large", name);
  if ((a = mem_archive (&m)) == NULL)
    return -1;
  if ((e = file_entry (name, size, mtime)) == NULL) {
    archive_write_free (a);
    return -1;
  }
  r = archive_write_header (a, e);
  if (r != ARCHIVE_OK)
    error_set ("tar: '%s': %s", name, archive_error_string (a));
  else if (m.used != TAR_BLOCK)
    r = error_set ("tar: '%s': header is %zu bytes, not one block", name,
                   m.used);
  archive_entry_free (e);
  /* The member's data never comes: mark the archive failed so that closing
   * it skips padding the member out with `size` zeros; close it still,
   * since only a close releases libarchive's output state. */
  archive_write_fail (a);
  archive_write_close (a);
  archive_write_free (a);
  if (r != ARCHIVE_OK)
    return -1;
  memcpy (out, buf, TAR_BLOCK);
  return 0;
}

int
tar_trailer (uint8_t out[TAR_TRAILER])
{
  uint8_t buf[4 * TAR_BLOCK];
  struct membuf m = { .buf = buf, .cap = sizeof buf };
  struct archive *a = mem_archive (&m);

  if (a == NULL)
    return -1;
  if (archive_write_close (a) != ARCHIVE_OK) {
    error_set ("tar: %s", archive_error_string (a));
    archive_write_free (a);
    return -1;
  }
  archive_write_free (a);
  if (m.used != TAR_TRAILER)
    return error_set ("tar: end of archive is %zu bytes, not %u", m.used,
                      TAR_TRAILER);
  memcpy (out, buf, TAR_TRAILER);
  return 0;
}

static int
put_at (struct tar_out *t, const void *buf, size_t len, uint64_t off)
{
  if (full_pwrite (t->fd, buf, len, off, t->what) == -1)
    return error_prefix ("tar: ");
  return 0;
}

static int
put_header (struct tar_out *t, const char *name, uint64_t size, uint64_t off)
{
  uint8_t h[TAR_BLOCK];

  if (tar_header (name, size, t->mtime, h) == -1)
    return -1;
  return put_at (t, h, sizeof h, off);
}

static int
put_pad (struct tar_out *t, uint64_t end)
{
  static const uint8_t zeros[TAR_BLOCK];
  size_t n = (size_t) tar_pad (end);

  return n ? put_at (t, zeros, n, end) : 0;
}

int
tar_put (struct tar_out *t, const char *name, const void *data, size_t len)
{
  uint64_t data_off = t->pos + TAR_BLOCK;

  if (put_header (t, name, len, t->pos) == -1 ||
      (len && put_at (t, data, len, data_off) == -1) ||
      put_pad (t, data_off + len) == -1)
    return -1;
  t->pos = data_off + len + tar_pad (len);
  return 0;
}

int
tar_begin (struct tar_out *t, const char *name, uint64_t *data_off)
{
  if (put_header (t, name, 0, t->pos) == -1)
    return -1;
  *data_off = t->pos + TAR_BLOCK;
  return 0;
}

int
tar_end (struct tar_out *t, const char *name, uint64_t data_off,
         uint64_t size)
{
  if (put_pad (t, data_off + size) == -1 ||
      put_header (t, name, size, data_off - TAR_BLOCK) == -1)
    return -1;
  t->pos = data_off + size + tar_pad (size);
  return 0;
}

int
tar_finish (struct tar_out *t)
{
  uint8_t end[TAR_TRAILER];

  if (tar_trailer (end) == -1 || put_at (t, end, sizeof end, t->pos) == -1)
    return -1;
  t->pos += TAR_TRAILER;
  return 0;
}

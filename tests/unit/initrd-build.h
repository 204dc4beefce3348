/* initrd-build.h: initramfs images built by the initrd unit tests with
 * libarchive: cpio archives (uncompressed, gzip, xz, zstd, lz4) of
 * members appended one after another to a file, as the builders do. */
#ifndef FERRY_TEST_INITRD_BUILD_H
#define FERRY_TEST_INITRD_BUILD_H

#include <stdbool.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "tests/unit/unit.h"

struct member {
  const char *name;
  const char *data;             /* NULL: a directory; "@>T": a symlink to T */
  unsigned nlink;               /* > 1: a hard link, inode `ino` */
  unsigned ino;
};

static inline void
initrd_build_add (struct archive *w, const struct member *m)
{
  struct archive_entry *e = archive_entry_new ();
  bool link = m->data && strncmp (m->data, "@>", 2) == 0;
  size_t len = m->data && !link ? strlen (m->data) : 0;

  archive_entry_set_pathname (e, m->name);
  archive_entry_set_filetype (e, link ? AE_IFLNK
                              : m->data ? AE_IFREG : AE_IFDIR);
  if (link)
    archive_entry_set_symlink (e, m->data + 2);
  archive_entry_set_perm (e, 0755);
  archive_entry_set_size (e, (la_int64_t) len);
  archive_entry_set_nlink (e, m->nlink ? m->nlink : 1);
  archive_entry_set_ino (e, m->ino ? m->ino : 0);
  assert_int_equal (archive_write_header (w, e), ARCHIVE_OK);
  if (len)
    assert_int_equal (archive_write_data (w, m->data, len), (la_ssize_t) len);
  archive_entry_free (e);
}

/* Append one cpio archive (ARCHIVE_FILTER_NONE, _GZIP, _XZ, _ZSTD,
 * _LZ4) of `members` (ended by a NULL name) to `path`. */
static inline void
write_cpio (const char *path, int filter, const struct member *members)
{
  struct archive *w = archive_write_new ();
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND, 0644);

  assert_true (fd >= 0);
  assert_int_equal (archive_write_set_format_cpio_newc (w), ARCHIVE_OK);
  if (filter == ARCHIVE_FILTER_GZIP)
    assert_int_equal (archive_write_add_filter_gzip (w), ARCHIVE_OK);
  else if (filter == ARCHIVE_FILTER_XZ)
    assert_int_equal (archive_write_add_filter_xz (w), ARCHIVE_OK);
  else if (filter == ARCHIVE_FILTER_ZSTD)
    assert_int_equal (archive_write_add_filter_zstd (w), ARCHIVE_OK);
  else if (filter == ARCHIVE_FILTER_LZ4)
    assert_int_equal (archive_write_add_filter_lz4 (w), ARCHIVE_OK);
  archive_write_set_bytes_in_last_block (w, 1);
  assert_int_equal (archive_write_open_fd (w, fd), ARCHIVE_OK);
  for (; members->name; members++)
    initrd_build_add (w, members);
  assert_int_equal (archive_write_close (w), ARCHIVE_OK);
  archive_write_free (w);
  close (fd);
}

static inline void
put_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  close (fd);
}

#endif

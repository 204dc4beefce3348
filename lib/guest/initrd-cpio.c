/* initrd-cpio.c: an initramfs file on the host, read and rewritten with
 * libarchive: the early uncompressed archives (microcode) kept byte for
 * byte, the main archive copied entry by entry with files added and the
 * depmod outputs replaced.  The file comes from the guest: hostile. */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/guest/initrd.h"

/* Bounds for hostile images: real ones hold a few thousand entries and
 * unpack to well under 1 GiB. */
#define MAX_ENTRIES 200000
#define MAX_UNPACKED (2ULL << 30)
#define MAX_EARLY 16
#define MAX_TEXT (16 << 20)

/* What depmod writes: replaced in the new image. */
static const char *const depmod_outputs[] = {
  "modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin",
  "modules.softdep", "modules.symbols", "modules.symbols.bin",
  "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname",
  "modules.weakdep", NULL,
};

static bool
is_depmod_output (const char *rel)
{
  size_t i;

  for (i = 0; depmod_outputs[i]; i++)
    if (strcmp (rel, depmod_outputs[i]) == 0)
      return true;
  return false;
}

void
initrd_image_free (struct initrd_image *im)
{
  free (im->moddir);
  free (im->conf_modules);
  strv_vector_free (&im->names);
  memset (im, 0, sizeof *im);
}

/* "./a/b" and "/a/b" as "a/b"; NULL for names never valid in an image. */
static const char *
entry_name (struct archive_entry *e)
{
  const char *n = archive_entry_pathname (e);

  if (n == NULL)
    return NULL;
  while (n[0] == '.' && n[1] == '/')
    n += 2;
  while (n[0] == '/')
    n++;
  if (strlen (n) > 1024 || strstr (n, "..") != NULL)
    return NULL;
  return n;
}

static struct archive *
reader_new (bool raw_cpio_only)
{
  struct archive *a = archive_read_new ();

  if (a == NULL)
    return NULL;
  archive_read_support_format_cpio (a);
  if (raw_cpio_only)
    archive_read_support_filter_none (a);
  else
    archive_read_support_filter_all (a);
  return a;
}

static int
archive_fail (struct archive *a, const char *path, const char *what)
{
  error_set ("initramfs '%s': %s: %s", path, what,
             a && archive_error_string (a) ? archive_error_string (a)
             : "failed");
  return -1;
}

/* Skip one early uncompressed cpio archive at *off; its end (after the
 * zero padding) goes to *off. */
static int
skip_early (int fd, const char *path, uint64_t *off, uint64_t size)
{
  struct archive *a = reader_new (true);
  struct archive_entry *e;
  unsigned char c;
  int r, n = 0;

  if (a == NULL || lseek (fd, (off_t) *off, SEEK_SET) == -1 ||
      archive_read_open_fd (a, fd, 65536) != ARCHIVE_OK) {
    archive_fail (a, path, "early archive");
    archive_read_free (a);
    return -1;
  }
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    if (++n > MAX_ENTRIES)
      break;
  if (r != ARCHIVE_EOF) {
    archive_fail (a, path, "early archive");
    archive_read_free (a);
    return -1;
  }
  *off += (uint64_t) archive_filter_bytes (a, 0);
  archive_read_free (a);
  /* The kernel skips zero padding between archives. */
  while (*off < size && pread (fd, &c, 1, (off_t) *off) == 1 && c == 0)
    (*off)++;
  return 0;
}

static bool
is_uncompressed_cpio (int fd, uint64_t off)
{
  char m[6];

  return pread (fd, m, 6, (off_t) off) == 6 &&
    (memcmp (m, "070701", 6) == 0 || memcmp (m, "070702", 6) == 0);
}

static int
find_main (int fd, const char *path, struct initrd_image *im)
{
  struct stat st;
  int i;

  if (fstat (fd, &st) == -1)
    return error_errno ("initramfs '%s'", path);
  for (i = 0; is_uncompressed_cpio (fd, im->prefix_len); i++) {
    if (i == MAX_EARLY)
      return error_set ("initramfs '%s': more than %d uncompressed archives",
                        path, MAX_EARLY);
    if (skip_early (fd, path, &im->prefix_len, (uint64_t) st.st_size) == -1)
      return -1;
    if (im->prefix_len >= (uint64_t) st.st_size)
      return error_set ("initramfs '%s': no compressed main archive", path);
  }
  return 0;
}

/* Read a small text entry into *out. */
static int
read_text (struct archive *a, struct archive_entry *e, const char *path,
           char **out)
{
  int64_t size = archive_entry_size (e);
  char *buf;
  la_ssize_t n;

  if (size < 0 || size > MAX_TEXT)
    return error_set ("initramfs '%s': %s is too large", path,
                      archive_entry_pathname (e));
  if ((buf = malloc ((size_t) size + 1)) == NULL)
    return error_errno ("initramfs");
  n = size ? archive_read_data (a, buf, (size_t) size) : 0;
  if (n != size) {
    free (buf);
    return archive_fail (a, path, "short entry");
  }
  buf[size] = '\0';
  free (*out);
  *out = buf;
  return 0;
}

/* "usr/lib/modules/KVER/x" or "lib/modules/KVER/x": the part after. */
static const char *
in_moddir (const char *name, const char *kver, char **moddir)
{
  static const char *const prefixes[] = { "usr/lib/modules/", "lib/modules/" };
  size_t i, pl, kl = strlen (kver);

  for (i = 0; i < 2; i++) {
    pl = strlen (prefixes[i]);
    if (strncmp (name, prefixes[i], pl) == 0 &&
        strncmp (name + pl, kver, kl) == 0 &&
        (name[pl + kl] == '/' || name[pl + kl] == '\0')) {
      if (*moddir == NULL)
        *moddir = strndup (name, pl + kl);
      return name[pl + kl] ? name + pl + kl + 1 : "";
    }
  }
  return NULL;
}

/* Write the module tree's entry `rel` under stage/lib/modules/KVER. */
static int
extract_module (struct archive *a, struct archive *disk,
                struct archive_entry *e, const char *stage,
                const char *kver, const char *rel, const char *path)
{
  char *dest = xasprintf ("%s/lib/modules/%s/%s", stage, kver, rel);
  int r;

  if (dest == NULL)
    return -1;
  /* dracut hard-links identical files: newc stores the body with the
   * last link, which names the first; that one must be in the stage too. */
  if (archive_entry_hardlink (e) != NULL) {
    const char *target = archive_entry_hardlink (e), *trel = NULL;
    char *tdest = NULL, *moddir = NULL;
    while (target[0] == '.' && target[1] == '/')
      target += 2;
    if (strstr (target, "..") == NULL)
      trel = in_moddir (target, kver, &moddir);
    free (moddir);
    if (trel == NULL || *trel == '\0' ||
        (tdest = xasprintf ("%s/lib/modules/%s/%s", stage, kver, trel))
        == NULL) {
      free (dest);
      return error_set ("initramfs '%s': hard link %s outside the module "
                        "tree", path, rel);
    }
    archive_entry_set_hardlink (e, tdest);
    free (tdest);
  }
  archive_entry_set_pathname (e, dest);
  archive_entry_set_perm (e, archive_entry_filetype (e) == AE_IFDIR
                          ? 0755 : 0644);
  r = archive_read_extract2 (a, e, disk);
  free (dest);
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    return archive_fail (disk, path, "extract module tree");
  return 0;
}

static int
scan_entry (struct archive *a, struct archive *disk, struct archive_entry *e,
            const char *path, const char *kver, const char *stage,
            struct initrd_image *im)
{
  const char *name = entry_name (e), *rel;
  mode_t type = archive_entry_filetype (e);
  char *copy;

  if (name == NULL)
    return error_set ("initramfs '%s': bad entry name", path);
  if ((copy = xstrdup (name)) == NULL ||
      strv_vector_append (&im->names, copy) == -1) {
    free (copy);
    return error_errno ("initramfs");
  }
  if (strcmp (name, "conf/modules") == 0 && type == AE_IFREG)
    return read_text (a, e, path, &im->conf_modules);
  if (strcmp (name, "etc/modules-load.d") == 0 && type == AE_IFDIR)
    im->modules_load_d = true;
  rel = in_moddir (name, kver, &im->moddir);
  /* The old indexes stay out of the stage: depmod writes its own, and
   * one it does not write must not come back from the old image. */
  if (rel == NULL || *rel == '\0' || (type != AE_IFREG && type != AE_IFDIR) ||
      is_depmod_output (rel))
    return 0;
  return extract_module (a, disk, e, stage, kver, rel, path);
}

static struct archive *
disk_writer (void)
{
  struct archive *d = archive_write_disk_new ();

  if (d == NULL)
    return NULL;
  /* The destination is ours (stage + a checked name), so absolute. */
  archive_write_disk_set_options (d, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  return d;
}

static int
scan_main (int fd, const char *path, const char *kver, const char *stage,
           struct initrd_image *im)
{
  struct archive *a = reader_new (false), *disk = disk_writer ();
  struct archive_entry *e;
  uint64_t unpacked = 0;
  int r = -1, rr;

  if (a == NULL || disk == NULL || lseek (fd, (off_t) im->prefix_len,
                                          SEEK_SET) == -1 ||
      archive_read_open_fd (a, fd, 65536) != ARCHIVE_OK) {
    archive_fail (a, path, "main archive");
    goto out;
  }
  while ((rr = archive_read_next_header (a, &e)) == ARCHIVE_OK) {
    if (archive_entry_size (e) > 0)
      unpacked += (uint64_t) archive_entry_size (e);
    if (im->names.len >= MAX_ENTRIES || unpacked > MAX_UNPACKED) {
      error_set ("initramfs '%s': too many or too large entries", path);
      goto out;
    }
    if (scan_entry (a, disk, e, path, kver, stage, im) == -1)
      goto out;
  }
  if (rr != ARCHIVE_EOF) {
    archive_fail (a, path, "main archive");
    goto out;
  }
  im->filter = archive_filter_code (a, 0);
  r = 0;
out:
  archive_read_free (a);
  archive_write_free (disk);
  return r;
}

int
initrd_image_read (const char *path, const char *kver, const char *stage,
                   struct initrd_image *im)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC), r;

  memset (im, 0, sizeof *im);
  if (fd == -1)
    return error_errno ("initramfs '%s'", path);
  r = find_main (fd, path, im);
  if (r == 0)
    r = scan_main (fd, path, kver, stage, im);
  close (fd);
  if (r == 0 && im->moddir == NULL)
    r = error_set ("initramfs '%s': no modules of kernel %s", path, kver);
  if (r == -1)
    initrd_image_free (im);
  return r;
}

/* ---- writing ---- */

static int
copy_data (struct archive *a, struct archive *w, const char *path)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;

  while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK)
    if (archive_write_data (w, buf, len) != (la_ssize_t) len)
      return archive_fail (w, path, "write");
  if (r != ARCHIVE_EOF)
    return archive_fail (a, path, "read");
  return 0;
}

/* Copy the main archive's entries, leaving out those replaced. */
static int
copy_entries (struct archive *a, struct archive *w, const char *path,
              const struct initrd_add *add)
{
  struct archive_entry *e;
  const char *name, *rel;
  char *moddir = NULL;
  int rr, n = 0;

  while ((rr = archive_read_next_header (a, &e)) == ARCHIVE_OK) {
    if ((name = entry_name (e)) == NULL || ++n > MAX_ENTRIES)
      return error_set ("initramfs '%s': bad entry", path);
    rel = in_moddir (name, add->kver, &moddir);
    free (moddir);
    moddir = NULL;
    if ((rel && is_depmod_output (rel)) ||
        (add->conf_modules && strcmp (name, "conf/modules") == 0))
      continue;
    if (archive_write_header (w, e) != ARCHIVE_OK)
      return archive_fail (w, path, name);
    if (copy_data (a, w, path) == -1)
      return -1;
  }
  if (rr != ARCHIVE_EOF)
    return archive_fail (a, path, "main archive");
  return 0;
}

static int
write_blob (struct archive *w, const char *name, mode_t type, const void *buf,
            size_t len, const char *path)
{
  struct archive_entry *e = archive_entry_new ();
  int r = 0;

  if (e == NULL)
    return error_errno ("initramfs");
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_size (e, type == AE_IFDIR ? 0 : (la_int64_t) len);
  archive_entry_set_mtime (e, time (NULL), 0);
  if (archive_write_header (w, e) != ARCHIVE_OK ||
      (len && archive_write_data (w, buf, len) != (la_ssize_t) len))
    r = archive_fail (w, path, name);
  archive_entry_free (e);
  return r;
}

static int
write_file (struct archive *w, const char *name, const char *host,
            const char *path)
{
  struct stat st;
  char *buf;
  int fd = open (host, O_RDONLY | O_CLOEXEC), r;

  if (fd == -1 || fstat (fd, &st) == -1) {
    r = error_errno ("'%s'", host);
    if (fd != -1)
      close (fd);
    return r;
  }
  if (st.st_size > (off_t) MAX_TEXT * 8 ||
      (buf = malloc ((size_t) st.st_size + 1)) == NULL) {
    close (fd);
    return error_set ("'%s': too large", host);
  }
  r = full_pread (fd, buf, (size_t) st.st_size, 0, host) == -1 ? -1
    : write_blob (w, name, AE_IFREG, buf, (size_t) st.st_size, path);
  free (buf);
  close (fd);
  return r;
}

/* The directories of `name` that the image lacks, parents first. */
static int
write_dirs (struct archive *w, strv_vector *names, const char *name,
            const char *path)
{
  char *dir = xstrdup (name), *slash;
  int r = 0;

  if (dir == NULL)
    return -1;
  for (slash = strchr (dir, '/'); slash && r == 0;
       slash = strchr (slash + 1, '/')) {
    *slash = '\0';
    if (!strv_vector_has (names, dir)) {
      char *copy = xstrdup (dir);
      r = write_blob (w, dir, AE_IFDIR, NULL, 0, path);
      if (copy == NULL || strv_vector_append (names, copy) == -1) {
        free (copy);
        r = error_errno ("initramfs");
      }
    }
    *slash = '/';
  }
  free (dir);
  return r;
}

static int
write_added (struct archive *w, const char *path, const struct initrd_add *add,
             strv_vector *names)
{
  char *name = NULL, *host = NULL;
  size_t i;
  int r = 0;

  for (i = 0; r == 0 && i < add->modules.len + 32; i++) {
    const char *rel = i < add->modules.len ? add->modules.ptr[i]
      : depmod_outputs[i - add->modules.len];
    if (rel == NULL)
      break;
    name = xasprintf ("%s/%s", add->moddir, rel);
    host = xasprintf ("%s/lib/modules/%s/%s", add->stage, add->kver, rel);
    if (name == NULL || host == NULL)
      r = -1;
    else if (i >= add->modules.len && access (host, F_OK) != 0)
      r = 0;                    /* depmod did not write this one */
    else if ((r = write_dirs (w, names, name, path)) == 0)
      r = write_file (w, name, host, path);
    free (name);
    free (host);
  }
  if (r == 0 && add->conf_modules)
    r = write_blob (w, "conf/modules", AE_IFREG, add->conf_modules,
                    strlen (add->conf_modules), path);
  if (r == 0 && add->modules_load)
    r = write_blob (w, "etc/modules-load.d/90-ferry.conf", AE_IFREG,
                    add->modules_load, strlen (add->modules_load), path);
  return r;
}

/* gzip and zstd as found; anything else (xz needs CRC32 for the kernel,
 * lz4 its legacy format) becomes gzip, which every kernel unpacks. */
static int
add_filter (struct archive *w, int code, const char **name)
{
  if (code == ARCHIVE_FILTER_ZSTD) {
    *name = "zstd";
    return archive_write_add_filter_zstd (w);
  }
  *name = "gzip";
  return archive_write_add_filter_gzip (w);
}

static int
copy_prefix (int in, int out, uint64_t len)
{
  char buf[65536];
  uint64_t done = 0;

  while (done < len) {
    size_t n = len - done < sizeof buf ? (size_t) (len - done) : sizeof buf;
    ssize_t r = pread (in, buf, n, (off_t) done);
    if (r <= 0 || write (out, buf, (size_t) r) != r)
      return error_errno ("initramfs: early archives");
    done += (uint64_t) r;
  }
  return 0;
}

int
initrd_image_write (const char *in, const struct initrd_image *im,
                    const struct initrd_add *add, const char *out,
                    const char **compression)
{
  int ifd = open (in, O_RDONLY | O_CLOEXEC);
  int ofd = open (out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  struct archive *a = reader_new (false), *w = archive_write_new ();
  strv_vector names = empty_vector;
  int r = -1;
  size_t i;

  if (ifd == -1 || ofd == -1 || a == NULL || w == NULL) {
    error_errno ("initramfs '%s'", ifd == -1 ? in : out);
    goto out;
  }
  for (i = 0; i < im->names.len; i++)
    if (strv_vector_append (&names, im->names.ptr[i]) == -1)
      goto out;
  if (copy_prefix (ifd, ofd, im->prefix_len) == -1 ||
      lseek (ifd, (off_t) im->prefix_len, SEEK_SET) == -1)
    goto out;
  if (archive_write_set_format_cpio_newc (w) != ARCHIVE_OK ||
      add_filter (w, im->filter, compression) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block (w, 1) != ARCHIVE_OK ||
      archive_write_open_fd (w, ofd) != ARCHIVE_OK ||
      archive_read_open_fd (a, ifd, 65536) != ARCHIVE_OK) {
    archive_fail (w, out, "open");
    goto out;
  }
  if (copy_entries (a, w, in, add) == -1 ||
      write_added (w, out, add, &names) == -1)
    goto out;
  if (archive_write_close (w) != ARCHIVE_OK) {
    archive_fail (w, out, "close");
    goto out;
  }
  r = 0;
out:
  /* names shares im's strings, plus the directories added here. */
  for (i = im->names.len; i < names.len; i++)
    free (names.ptr[i]);
  strv_vector_reset (&names);
  archive_read_free (a);
  archive_write_free (w);
  if (ifd != -1)
    close (ifd);
  if (ofd != -1 && close (ofd) == -1 && r == 0)
    r = error_errno ("initramfs '%s'", out);
  return r;
}

static int
list_entries (struct archive *a, const char *path, strv_vector *names)
{
  struct archive_entry *e;
  const char *n;
  char *copy;
  int r;

  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK) {
    if ((n = entry_name (e)) == NULL || names->len >= MAX_ENTRIES)
      return error_set ("initramfs '%s': bad entry", path);
    if ((copy = xstrdup (n)) == NULL)
      return -1;
    if (strv_vector_append (names, copy) == -1) {
      free (copy);
      return error_errno ("initramfs");
    }
  }
  return r == ARCHIVE_EOF ? 0 : archive_fail (a, path, "main archive");
}

int
initrd_image_list (const char *path, strv_vector *names)
{
  struct initrd_image im = { 0 };
  int fd = open (path, O_RDONLY | O_CLOEXEC), r = -1;
  struct archive *a = reader_new (false);

  if (fd == -1 || a == NULL)
    error_errno ("initramfs '%s'", path);
  else if (find_main (fd, path, &im) == 0) {
    if (lseek (fd, (off_t) im.prefix_len, SEEK_SET) == -1 ||
        archive_read_open_fd (a, fd, 65536) != ARCHIVE_OK)
      archive_fail (a, path, "main archive");
    else
      r = list_entries (a, path, names);
  }
  archive_read_free (a);
  if (fd != -1)
    close (fd);
  return r;
}

/* initrd-cpio.c: an initramfs file on the host, read and rewritten with
 * libarchive.  Every archive of the image is read (the uncompressed ones
 * first: microcode, and on Debian 13 the kernel modules; then the
 * compressed main one); the new image keeps the uncompressed archives
 * byte for byte and rewrites the main archive entry by entry with files
 * added and the depmod outputs replaced.  The file comes from the guest:
 * hostile. */
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
clean_name (const char *n)
{
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

static const char *
entry_name (struct archive_entry *e)
{
  return clean_name (archive_entry_pathname (e));
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

static bool
is_uncompressed_cpio (int fd, uint64_t off)
{
  char m[6];

  return pread (fd, m, 6, (off_t) off) == 6 &&
    (memcmp (m, "070701", 6) == 0 || memcmp (m, "070702", 6) == 0);
}

const char *
initrd_module_rel (const char *name, const char **kver, size_t *kver_len)
{
  static const char *const prefixes[] = { "usr/lib/modules/", "lib/modules/" };
  size_t i, pl, kl;
  const char *k;

  for (i = 0; i < 2; i++) {
    pl = strlen (prefixes[i]);
    if (strncmp (name, prefixes[i], pl) != 0)
      continue;
    k = name + pl;
    kl = strcspn (k, "/");
    if (kl == 0)
      return NULL;
    *kver = k;
    *kver_len = kl;
    return k[kl] ? k + kl + 1 : "";
  }
  return NULL;
}

/* "usr/lib/modules/KVER/x" or "lib/modules/KVER/x" of kernel `kver`: the
 * part after; *spelled: the length of the "…/KVER" prefix. */
static const char *
in_moddir (const char *name, const char *kver, size_t *spelled)
{
  const char *k, *rel = initrd_module_rel (name, &k, spelled);

  if (rel == NULL || *spelled != strlen (kver) ||
      strncmp (k, kver, *spelled) != 0)
    return NULL;
  *spelled += (size_t) (k - name);
  return rel;
}

int
initrd_entry_text (struct archive *a, struct archive_entry *e,
                   const char *path, char **out)
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

/* ---- walking every archive of an image ---- */

struct walk {
  int fd;
  const char *path;
  uint64_t size, unpacked;
  size_t entries;
  initrd_entry_fn fn;
  void *ctx;
};

/* One archive at *off (uncompressed when `early`); its end, after the
 * zero padding the kernel skips, goes to *off. */
static int
walk_one (struct walk *w, uint64_t *off, bool early, int *filter)
{
  struct archive *a = reader_new (early);
  struct archive_entry *e;
  const char *what = early ? "uncompressed archive" : "main archive";
  const char *name;
  unsigned char c;
  int r;

  if (a == NULL || lseek (w->fd, (off_t) *off, SEEK_SET) == -1 ||
      archive_read_open_fd (a, w->fd, 65536) != ARCHIVE_OK) {
    archive_fail (a, w->path, what);
    archive_read_free (a);
    return -1;
  }
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK) {
    if (archive_entry_size (e) > 0)
      w->unpacked += (uint64_t) archive_entry_size (e);
    if (++w->entries > MAX_ENTRIES || w->unpacked > MAX_UNPACKED) {
      archive_read_free (a);
      return error_set ("initramfs '%s': too many or too large entries",
                        w->path);
    }
    if ((name = entry_name (e)) == NULL) {
      archive_read_free (a);
      return error_set ("initramfs '%s': bad entry name", w->path);
    }
    if (w->fn (a, e, name, early, w->ctx) == -1) {
      archive_read_free (a);
      return -1;
    }
  }
  if (r != ARCHIVE_EOF) {
    archive_fail (a, w->path, what);
    archive_read_free (a);
    return -1;
  }
  *filter = archive_filter_code (a, 0);
  *off += (uint64_t) archive_filter_bytes (a, 0);
  archive_read_free (a);
  while (early && *off < w->size && pread (w->fd, &c, 1, (off_t) *off) == 1
         && c == 0)
    (*off)++;
  return 0;
}

int
initrd_image_walk (const char *path, initrd_entry_fn fn, void *ctx,
                   struct initrd_layout *lay)
{
  struct walk w = { .path = path, .fn = fn, .ctx = ctx };
  struct stat st;
  uint64_t off = 0;
  int r = 0, filter;

  memset (lay, 0, sizeof *lay);
  if ((w.fd = open (path, O_RDONLY | O_CLOEXEC)) == -1 ||
      fstat (w.fd, &st) == -1) {
    r = error_errno ("initramfs '%s'", path);
    goto out;
  }
  w.size = (uint64_t) st.st_size;
  while (r == 0 && off < w.size && is_uncompressed_cpio (w.fd, off)) {
    if (lay->early == MAX_EARLY)
      r = error_set ("initramfs '%s': more than %d uncompressed archives",
                     path, MAX_EARLY);
    else if ((r = walk_one (&w, &off, true, &filter)) == 0)
      lay->early++;
  }
  lay->prefix_len = off;
  /* The compressed main archive; what may follow it is not read (a
   * second archive inside the compressed stream: nobody writes one). */
  if (r == 0 && off < w.size) {
    r = walk_one (&w, &off, false, &lay->filter);
    lay->has_main = r == 0;
  }
out:
  if (w.fd != -1)
    close (w.fd);
  return r;
}

/* ---- reading for the fast path ---- */

struct scan {
  const char *path, *kver, *stage;
  struct initrd_image *im;
  struct archive *disk;
  size_t spelled;               /* length of im->moddir */
  bool two_trees;               /* lib/modules and usr/lib/modules */
  bool lib_symlink;             /* lib -> usr/lib (Debian's usrmerge) */
};

/* dracut hard-links identical files: newc stores the body with the last
 * link, which names the first; that one must be in the stage too. */
static int
stage_hardlink (struct scan *s, struct archive_entry *e, const char *rel)
{
  const char *target = clean_name (archive_entry_hardlink (e)), *trel = NULL;
  char *tdest = NULL;
  size_t spelled;

  if (target)
    trel = in_moddir (target, s->kver, &spelled);
  if (trel == NULL || *trel == '\0' ||
      (tdest = xasprintf ("%s/lib/modules/%s/%s", s->stage, s->kver, trel))
      == NULL)
    return error_set ("initramfs '%s': hard link %s outside the module "
                      "tree", s->path, rel);
  archive_entry_set_hardlink (e, tdest);
  free (tdest);
  return 0;
}

/* Write the module tree's entry `rel` under stage/lib/modules/KVER; a
 * later archive's file replaces an earlier one's, as in the kernel. */
static int
extract_module (struct scan *s, struct archive *a, struct archive_entry *e,
                const char *rel)
{
  char *dest = xasprintf ("%s/lib/modules/%s/%s", s->stage, s->kver, rel);
  int r;

  if (dest == NULL)
    return -1;
  if (archive_entry_hardlink (e) != NULL &&
      stage_hardlink (s, e, rel) == -1) {
    free (dest);
    return -1;
  }
  archive_entry_set_pathname (e, dest);
  archive_entry_set_perm (e, archive_entry_filetype (e) == AE_IFDIR
                          ? 0755 : 0644);
  r = archive_read_extract2 (a, e, s->disk);
  free (dest);
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    return archive_fail (s->disk, s->path, "extract module tree");
  return 0;
}

static int
note_name (struct initrd_image *im, const char *name, bool early)
{
  char *copy = xstrdup (name);

  if (copy == NULL || strv_vector_append (&im->names, copy) == -1) {
    free (copy);
    return error_errno ("initramfs");
  }
  if (early)
    im->early_names = im->names.len;
  return 0;
}

/* Which spelling of the module directory the image uses; both only with
 * lib -> usr/lib, and then usr/lib/modules, where the files really are. */
static int
note_moddir (struct scan *s, const char *name, size_t spelled)
{
  struct initrd_image *im = s->im;

  if (im->moddir == NULL) {
    s->spelled = spelled;
    return (im->moddir = strndup (name, spelled)) ? 0
      : error_errno ("initramfs");
  }
  if (spelled == s->spelled && strncmp (name, im->moddir, spelled) == 0)
    return 0;
  s->two_trees = true;
  if (strncmp (im->moddir, "usr/", 4) != 0) {
    free (im->moddir);
    s->spelled = spelled;
    return (im->moddir = strndup (name, spelled)) ? 0
      : error_errno ("initramfs");
  }
  return 0;
}

static int
scan_entry (struct archive *a, struct archive_entry *e, const char *name,
            bool early, void *ctx)
{
  struct scan *s = ctx;
  mode_t type = archive_entry_filetype (e);
  const char *rel, *link;
  size_t spelled;

  if (note_name (s->im, name, early) == -1)
    return -1;
  if (strcmp (name, "conf/modules") == 0 && type == AE_IFREG)
    return initrd_entry_text (a, e, s->path, &s->im->conf_modules);
  if (strcmp (name, "etc/modules-load.d") == 0 && type == AE_IFDIR)
    s->im->modules_load_d = true;
  link = archive_entry_symlink (e);
  if (strcmp (name, "lib") == 0 && type == AE_IFLNK && link &&
      (strcmp (link, "usr/lib") == 0 || strcmp (link, "/usr/lib") == 0))
    s->lib_symlink = true;
  rel = in_moddir (name, s->kver, &spelled);
  if (rel == NULL)
    return 0;
  if (note_moddir (s, name, spelled) == -1)
    return -1;
  /* The old indexes stay out of the stage: depmod writes its own, and
   * one it does not write must not come back from the old image. */
  if (*rel == '\0' || (type != AE_IFREG && type != AE_IFDIR) ||
      is_depmod_output (rel))
    return 0;
  return extract_module (s, a, e, rel);
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

int
initrd_image_read (const char *path, const char *kver, const char *stage,
                   struct initrd_image *im)
{
  struct scan s = { .path = path, .kver = kver, .stage = stage, .im = im };
  struct initrd_layout lay;
  int r;

  memset (im, 0, sizeof *im);
  if ((s.disk = disk_writer ()) == NULL)
    return error_errno ("initramfs");
  r = initrd_image_walk (path, scan_entry, &s, &lay);
  archive_write_free (s.disk);
  im->prefix_len = lay.prefix_len;
  im->filter = lay.filter;
  if (r == 0 && !lay.has_main)
    r = error_set ("initramfs '%s': no compressed main archive", path);
  else if (r == 0 && im->moddir == NULL)
    r = error_set ("initramfs '%s': no modules of kernel %s", path, kver);
  else if (r == 0 && s.two_trees && !s.lib_symlink)
    r = error_set ("initramfs '%s': modules of kernel %s in both lib/ and "
                   "usr/lib/ without a lib -> usr/lib link", path, kver);
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
  size_t spelled;
  int rr, n = 0;

  while ((rr = archive_read_next_header (a, &e)) == ARCHIVE_OK) {
    if ((name = entry_name (e)) == NULL || ++n > MAX_ENTRIES)
      return error_set ("initramfs '%s': bad entry", path);
    rel = in_moddir (name, add->kver, &spelled);
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

/* An index of the uncompressed archives is replaced only by writing the
 * same name later; one depmod did not write this time would stay, stale. */
static int
check_early_indexes (const struct initrd_image *im,
                     const struct initrd_add *add)
{
  const char *rel;
  char *host;
  size_t i, spelled;
  bool found;

  for (i = 0; i < im->early_names; i++) {
    rel = in_moddir (im->names.ptr[i], add->kver, &spelled);
    if (rel == NULL || !is_depmod_output (rel))
      continue;
    host = xasprintf ("%s/lib/modules/%s/%s", add->stage, add->kver, rel);
    if (host == NULL)
      return -1;
    found = access (host, F_OK) == 0;
    free (host);
    if (!found)
      return error_set ("initramfs: the uncompressed archive's %s would "
                        "stay stale (depmod did not write it)",
                        im->names.ptr[i]);
  }
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
  if (check_early_indexes (im, add) == -1)
    goto out;
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
list_entry (struct archive *a, struct archive_entry *e, const char *name,
            bool early, void *ctx)
{
  strv_vector *names = ctx;
  char *copy = xstrdup (name);

  (void) a;
  (void) e;
  (void) early;
  if (copy == NULL || strv_vector_append (names, copy) == -1) {
    free (copy);
    return error_errno ("initramfs");
  }
  return 0;
}

int
initrd_image_list (const char *path, strv_vector *names)
{
  struct initrd_layout lay;

  return initrd_image_walk (path, list_entry, names, &lay);
}

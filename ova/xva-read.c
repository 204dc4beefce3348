/* xva-read.c: open, verify and rebuild the disks of an XVA (xva-read.h). */
#include "lib/common/compat.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/hash.h"
#include "lib/common/strbuf.h"
#include "ova/pkg-member.h"
#include "ova/xva-read.h"
#include "ova/xva-xml.h"

#define BUF (1u << 20)
#define NO_CHUNK UINT64_MAX

/* The VDI being rebuilt. */
struct vdi {
  int disk;                             /* index in vm.disks; -1: none */
  int fd;
  uint64_t size;                        /* virtual size */
  uint64_t pos;                         /* the running position */
  uint64_t zlen;                        /* zero-block length (first chunk's) */
  uint64_t last;                        /* last chunk number; NO_CHUNK */
};

struct rd {
  const char *what;
  const char *workdir;
  struct ova_pkg *pkg;
  struct archive *a;
  char **refs;                          /* VDI ref of disk i */
  bool done[VM_MAX_DISKS];
  char *paths[VM_MAX_DISKS];
  struct vdi cur;
  /* The chunk waiting for its checksum. */
  char pending[300];                    /* its name; "" = none */
  char sha1[HASH_HEX_MAX], xxh[HASH_HEX_MAX];
  int kind;                             /* -1: unknown, else enum hash_kind */
  unsigned char *buf;
};

/* "xva: 'PKG': WHY 'NAME'", the name cut short and made printable. */
static int
fail (const struct rd *r, const char *why, const char *name)
{
  return pkg_fail ("xva", r->what, why, name);
}

static ssize_t
read_data (struct rd *r, const char *name, void *buf, size_t len)
{
  la_ssize_t n = archive_read_data (r->a, buf, len);

  if (n < 0)
    error_set ("xva: '%s': reading '%.64s': %s", r->what, name,
               archive_error_string (r->a));
  return n;
}

/* ---- ova.xml ----------------------------------------------------------- */

static int
take_xml (struct rd *r, struct archive_entry *e)
{
  struct strbuf sb = STRBUF_INIT;
  CLEANUP_FREE char *what = xasprintf ("%s/ova.xml", r->what);
  ssize_t n;
  int ret = 0;

  if (archive_entry_size_is_set (e) && archive_entry_size (e) > XVA_MAX_XML)
    return fail (r, "too large:", "ova.xml");
  while (ret == 0 && (n = read_data (r, "ova.xml", r->buf, BUF)) != 0) {
    if (n < 0)
      ret = -1;
    else if ((size_t) n > XVA_MAX_XML - sb.len)
      ret = fail (r, "too large:", "ova.xml");
    else
      ret = strbuf_add (&sb, (char *) r->buf, (size_t) n);
  }
  if (ret == 0 && what == NULL)
    ret = -1;
  if (ret == 0)
    ret = xva_xml_parse (sb.buf ? sb.buf : "", sb.len, what, &r->pkg->vm,
                         &r->refs);
  strbuf_release (&sb);
  if (ret == 0 && r->pkg->vm.disks.len == 0)
    return fail (r, "no disk in", "ova.xml");
  return ret;
}

/* ---- chunk names ------------------------------------------------------- */

/* Split "REF/NNNNNNNN[.checksum|.xxhash]" into the disk of REF, the chunk
 * number and the checksum kind (-1 for data).  -1 if it is no such name. */
static int
parse_chunk_name (const struct rd *r, const char *name, int *disk,
                  uint64_t *num, int *kind)
{
  const char *slash = strchr (name, '/'), *p, *suffix;
  size_t i;

  if (slash == NULL)
    return -1;
  for (i = 0; r->refs[i]; i++)
    if (strlen (r->refs[i]) == (size_t) (slash - name) &&
        memcmp (r->refs[i], name, (size_t) (slash - name)) == 0)
      break;
  if (r->refs[i] == NULL)
    return -1;
  *disk = (int) i;
  *num = 0;
  for (p = slash + 1; p < slash + 9; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    *num = *num * 10 + (uint64_t) (*p - '0');
  }
  suffix = slash + 9;
  if (*suffix == '\0')
    *kind = -1;
  else if (strcmp (suffix, ".checksum") == 0)
    *kind = HASH_SHA1;
  else if (strcmp (suffix, ".xxhash") == 0)
    *kind = HASH_XXH64;
  else
    return -1;
  return 0;
}

/* A directory entry is allowed only as the directory of a VDI. */
static bool
is_vdi_dir (const struct rd *r, const char *name)
{
  size_t i, n = strlen (name);

  if (n && name[n - 1] == '/')
    n--;
  for (i = 0; r->refs[i]; i++)
    if (strlen (r->refs[i]) == n && memcmp (r->refs[i], name, n) == 0)
      return true;
  return false;
}

/* ---- rebuilding a VDI -------------------------------------------------- */

/* Write n bytes at off, leaving all-zero 64 KiB blocks as holes. */
static int
put_sparse (const struct rd *r, const unsigned char *p, size_t n,
            uint64_t off)
{
  if (pkg_put_sparse (r->cur.fd, p, n, off) == -1)
    return error_errno ("xva: '%s': writing to '%s'", r->what, r->workdir);
  return 0;
}

/* The VDI in progress is complete: its data must reach its virtual size. */
static int
end_vdi (struct rd *r)
{
  int fd = r->cur.fd, i = r->cur.disk;

  if (i < 0)
    return 0;
  r->cur.disk = -1;
  r->cur.fd = -1;
  if (close (fd) == -1)
    return error_errno ("xva: '%s': '%s'", r->what, r->paths[i]);
  if (r->cur.pos != r->cur.size)
    return fail (r, "the disk data ends before its virtual size "
                 "(truncated?):", r->refs[i]);
  r->done[i] = true;
  return 0;
}

static int
begin_vdi (struct rd *r, int i, const char *name)
{
  if (r->done[i] || r->paths[i])
    return fail (r, "chunks of a disk are not contiguous:", name);
  r->paths[i] = xasprintf ("%s/.disk%d", r->workdir, i + 1);
  if (r->paths[i] == NULL)
    return -1;
  r->cur.fd = open (r->paths[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0600);
  if (r->cur.fd == -1)
    return error_errno ("xva: '%s': '%s'", r->what, r->paths[i]);
  r->cur.disk = i;
  r->cur.size = r->pkg->vm.disks.ptr[i].capacity;
  r->cur.pos = r->cur.zlen = 0;
  r->cur.last = NO_CHUNK;
  if (ftruncate (r->cur.fd, (off_t) r->cur.size) == -1)
    return error_errno ("xva: '%s': '%s'", r->what, r->paths[i]);
  return 0;
}

/* Where chunk `num` starts: each number skipped is one zero block. */
static int
chunk_start (struct rd *r, uint64_t num, const char *name, uint64_t *start)
{
  uint64_t gap;

  if (r->cur.last == NO_CHUNK) {
    if (num != 0)
      return fail (r, "the first chunk of a disk is not 00000000:", name);
    *start = 0;
    return 0;
  }
  if (num <= r->cur.last)
    return fail (r, "a chunk out of order:", name);
  if (MUL_OVERFLOW (num - r->cur.last - 1, r->cur.zlen, &gap) ||
      ADD_OVERFLOW (r->cur.pos, gap, start) || *start > r->cur.size)
    return fail (r, "a chunk beyond the disk's virtual size:", name);
  return 0;
}

struct hashes { struct hash *sha1, *xxh; };

static int
hashes_new (const struct rd *r, struct hashes *h)
{
  h->sha1 = h->xxh = NULL;
  if (r->kind != HASH_XXH64 && (h->sha1 = hash_new (HASH_SHA1)) == NULL)
    return -1;
  if (r->kind != HASH_SHA1 && (h->xxh = hash_new (HASH_XXH64)) == NULL)
    return -1;
  return 0;
}

static int
hashes_update (struct hashes *h, const void *p, size_t n)
{
  return (h->sha1 && hash_update (h->sha1, p, n) == -1) ||
    (h->xxh && hash_update (h->xxh, p, n) == -1) ? -1 : 0;
}

static int
hashes_final (struct rd *r, struct hashes *h)
{
  r->sha1[0] = r->xxh[0] = '\0';
  if (h->sha1 && hash_final_hex (h->sha1, r->sha1, false) == -1)
    return -1;
  if (h->xxh && hash_final_hex (h->xxh, r->xxh, false) == -1)
    return -1;
  return 0;
}

/* Stream the chunk's data to its place, hashing it. */
static int
pump_chunk (struct rd *r, const char *name, uint64_t start, uint64_t *len)
{
  struct hashes h;
  ssize_t n;
  int ret;

  *len = 0;
  if ((ret = hashes_new (r, &h)) == 0) {
    while ((n = read_data (r, name, r->buf, BUF)) > 0) {
      if ((uint64_t) n > r->cur.size - start - *len) {
        ret = fail (r, "a chunk beyond the disk's virtual size:", name);
        break;
      }
      if (hashes_update (&h, r->buf, (size_t) n) == -1 ||
          put_sparse (r, r->buf, (size_t) n, start + *len) == -1) {
        ret = -1;
        break;
      }
      *len += (uint64_t) n;
    }
    if (ret == 0 && n < 0)
      ret = -1;
  }
  if (ret == 0)
    ret = hashes_final (r, &h);
  hash_free (h.sha1);
  hash_free (h.xxh);
  return ret;
}

static int
take_chunk (struct rd *r, const char *name, int disk, uint64_t num)
{
  uint64_t start = 0, len = 0;

  if (r->cur.disk != disk &&
      (end_vdi (r) == -1 || begin_vdi (r, disk, name) == -1))
    return -1;
  if (chunk_start (r, num, name, &start) == -1 ||
      pump_chunk (r, name, start, &len) == -1)
    return -1;
  if (r->cur.last == NO_CHUNK)
    r->cur.zlen = len;
  r->cur.last = num;
  r->cur.pos = start + len;
  snprintf (r->pending, sizeof r->pending, "%s", name);
  return 0;
}

/* The checksum of the pending chunk: hex digits, maybe a newline. */
static int
take_checksum (struct rd *r, const char *name, int kind)
{
  char got[XVA_MAX_CHECKSUM + 1];
  size_t len = 0, want = kind == HASH_SHA1 ? 40 : 16;
  ssize_t n;

  if (r->pending[0] == '\0' || strncmp (name, r->pending, strlen (r->pending)))
    return fail (r, "a checksum without its chunk:", name);
  if (r->kind >= 0 && kind != r->kind)
    return fail (r, "a checksum of another kind than the first:", name);
  while ((n = read_data (r, name, got + len, sizeof got - 1 - len)) > 0)
    len += (size_t) n;
  if (n < 0)
    return -1;
  got[len] = '\0';
  while (len && (got[len - 1] == '\n' || got[len - 1] == '\r'))
    got[--len] = '\0';
  if (len != want || strspn (got, "0123456789abcdefABCDEF") != want)
    return fail (r, "a malformed checksum:", name);
  if (strcasecmp (got, kind == HASH_SHA1 ? r->sha1 : r->xxh) != 0)
    return fail (r, "checksum mismatch: wrong checksum of", r->pending);
  r->kind = kind;
  r->pending[0] = '\0';
  return 0;
}

/* ---- members ----------------------------------------------------------- */

static int
take_member (struct rd *r, struct archive_entry *e, const char *name)
{
  mode_t type = archive_entry_filetype (e);
  uint64_t num;
  int disk, kind;

  if (archive_entry_hardlink (e))
    return fail (r, "a hard link member:", name);
  if (type == AE_IFLNK)
    return fail (r, "a symbolic link member:", name);
  if (type == AE_IFDIR && is_vdi_dir (r, name))
    return 0;
  if (type != AE_IFREG)
    return fail (r, "a member that is not a regular file:", name);
  if (strcmp (name, "ova.xml") == 0)
    return fail (r, "a second ova.xml:", name);
  if (parse_chunk_name (r, name, &disk, &num, &kind) == -1)
    return fail (r, "an unknown member:", name);
  if (kind >= 0)
    return take_checksum (r, name, kind);
  if (r->pending[0])
    return fail (r, "a chunk without a checksum:", r->pending);
  return take_chunk (r, name, disk, num);
}

static int
take_entry (struct rd *r, struct archive_entry *e, bool first)
{
  const char *name = pkg_entry_name (e);
  const char *why = pkg_name_problem (name, true);

  if (why)
    return fail (r, why, name);
  if (first) {
    if (strcmp (name, "ova.xml") != 0 ||
        archive_entry_filetype (e) != AE_IFREG || archive_entry_hardlink (e))
      return fail (r, "the first member is not ova.xml but", name);
    return take_xml (r, e);
  }
  return take_member (r, e, name);
}

static int
verify (struct rd *r)
{
  size_t i;

  if (r->pending[0])
    return fail (r, "a chunk without a checksum:", r->pending);
  if (end_vdi (r) == -1)
    return -1;
  for (i = 0; i < r->pkg->vm.disks.len; i++)
    if (!r->done[i])
      return fail (r, "no data for the disk", r->refs[i]);
  return 0;
}

static int
read_tar (struct rd *r)
{
  struct archive_entry *e;
  bool first = true;
  int ret = 0, st;

  if ((r->a = archive_read_new ()) == NULL)
    return error_set ("xva: out of memory");
  archive_read_support_filter_all (r->a);
  archive_read_support_format_tar (r->a);
  if (archive_read_open_filename (r->a, r->what, BUF) != ARCHIVE_OK)
    ret = error_set ("xva: '%s': %s", r->what, archive_error_string (r->a));
  while (ret == 0 &&
         (st = archive_read_next_header (r->a, &e)) != ARCHIVE_EOF) {
    if (st != ARCHIVE_OK)
      ret = error_set ("xva: '%s': %s", r->what, archive_error_string (r->a));
    else
      ret = take_entry (r, e, first);
    first = false;
  }
  if (ret == 0 && first)
    ret = error_set ("xva: '%s': an empty archive", r->what);
  if (ret == 0)
    r->pkg->compressed = archive_filter_count (r->a) > 1;
  return ret;
}

/* ---- opening the rebuilt disks ----------------------------------------- */

static int
open_disks (struct rd *r)
{
  size_t i;

  for (i = 0; i < r->pkg->vm.disks.len; i++) {
    struct image *img = image_open (r->paths[i], IMAGE_OPEN_RAW);

    unlink (r->paths[i]);
    if (img == NULL)
      return error_prefix ("xva: '%s': ", r->what);
    r->pkg->disks[i] = img;
  }
  r->pkg->manifest = true;
  return 0;
}

static void
rd_free (struct rd *r)
{
  size_t i;

  if (r->cur.fd >= 0)
    close (r->cur.fd);
  if (r->a)
    archive_read_free (r->a);
  for (i = 0; r->refs && r->refs[i]; i++)
    free (r->refs[i]);
  free (r->refs);
  for (i = 0; i < VM_MAX_DISKS; i++) {
    if (r->paths[i])
      unlink (r->paths[i]);
    free (r->paths[i]);
  }
  free (r->buf);
}

int
xva_read (const char *path, const char *workdir, struct ova_pkg *pkg)
{
  struct rd r = { .what = path, .workdir = workdir, .pkg = pkg,
                  .cur = { .disk = -1, .fd = -1 }, .kind = -1 };
  struct stat st;
  int ret;

  memset (pkg, 0, sizeof *pkg);
  vm_init (&pkg->vm);
  if ((r.buf = malloc (BUF)) == NULL)
    return error_set ("xva: out of memory");
  if (stat (path, &st) == -1)
    ret = error_errno ("xva: '%s'", path);
  else if (S_ISDIR (st.st_mode))
    ret = error_set ("xva: '%s': a directory, not an XVA archive", path);
  else
    ret = read_tar (&r);
  if (ret == 0)
    ret = verify (&r);
  if (ret == 0)
    ret = open_disks (&r);
  rd_free (&r);
  if (ret == -1)
    ova_pkg_free (pkg);
  return ret;
}

/* "DIR/NNNNNNNN..." : an XVA whose ova.xml is misplaced is still an XVA
 * (and xva_read says what is wrong with it). */
static bool
looks_like_chunk (const char *name)
{
  const char *slash = strchr (name, '/');

  return slash && slash > name && strspn (slash + 1, "0123456789") == 8;
}

bool
xva_probe (const char *path)
{
  struct archive *a;
  struct archive_entry *e;
  struct stat st;
  bool yes = false;

  if (stat (path, &st) == -1 || !S_ISREG (st.st_mode) ||
      (a = archive_read_new ()) == NULL)
    return false;
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_filename (a, path, 65536) == ARCHIVE_OK &&
      archive_read_next_header (a, &e) == ARCHIVE_OK)
    yes = strcmp (pkg_entry_name (e), "ova.xml") == 0 ||
      looks_like_chunk (pkg_entry_name (e));
  archive_read_free (a);
  return yes;
}

/* ova-read.c: open, verify and extract an OVA package (ova-read.h). */
#include "lib/common/compat.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/common/vector.h"
#include "ova/ova-read.h"
#include "ova/ovf.h"
#include "ova/pkg-member.h"
#include "ova/xva-read.h"
#include "ova/xva-xml.h"

#define CHUNK (1u << 20)
#define HEAD 512u                       /* a disk header inspect reads */

/* A manifest line: KIND(name)= hex. */
struct mf_entry {
  char *name;
  enum hash_kind kind;
  char hex[HASH_HEX_MAX];
  bool matched;
};
DEFINE_VECTOR_TYPE (mf_vector, struct mf_entry);

/* A member read so far, with its hashes (computed for the kinds a manifest
 * may ask for: both until the manifest is known). */
struct seen {
  char *name;
  char sha1[HASH_HEX_MAX];
  char sha256[HASH_HEX_MAX];
  bool hashed;
};
DEFINE_VECTOR_TYPE (seen_vector, struct seen);

/* One member being read, from a tar or from a directory. */
struct member {
  const char *name;
  int64_t size;                         /* -1: unknown */
  ssize_t (*read) (void *opaque, void *buf, size_t len);
  void *opaque;
};

struct rd {
  const char *what;                     /* the package path */
  const char *workdir;
  struct ova_pkg *pkg;
  bool have_ovf, have_mf;
  bool want_sha1, want_sha256;          /* kinds to hash members with */
  mf_vector mf;
  seen_vector seen;
  bool got[VM_MAX_DISKS];
  char *paths[VM_MAX_DISKS];            /* extracted, not yet opened */
  unsigned char *buf;
  const char *ca_file;
  struct strbuf mf_text, cert_text;     /* the manifest and .cert bytes */
  char *mf_name;
  bool have_cert;
  struct pkg_info *info;                /* inspect mode: extract nothing */
  char **vdi_refs;                      /* inspect, XVA: from ova.xml */
  bool xva;                             /* inspect: ova.xml came first */
  size_t xva_members;
  unsigned char head[HEAD];             /* inspect: a disk's first block */
};

/* "ova: 'PKG': WHY 'NAME'", the name cut short and made printable so the
 * message stays one line. */
static int
fail (const struct rd *r, const char *why, const char *name)
{
  return pkg_fail ("ova", r->what, why, name);
}

/* ---- names ------------------------------------------------------------- */

static struct seen *
find_seen (struct rd *r, const char *name)
{
  size_t i;

  for (i = 0; i < r->seen.len; i++)
    if (strcmp (r->seen.ptr[i].name, name) == 0)
      return &r->seen.ptr[i];
  return NULL;
}

static struct seen *
add_seen (struct rd *r, const char *name)
{
  const char *why = pkg_name_problem (name, false);
  struct seen s = { .name = NULL };

  if (why) {
    fail (r, why, name);
    return NULL;
  }
  if (find_seen (r, name)) {
    fail (r, "duplicate member:", name);
    return NULL;
  }
  if (r->seen.len >= OVA_MAX_MEMBERS) {
    error_set ("ova: '%s': more than %d members", r->what, OVA_MAX_MEMBERS);
    return NULL;
  }
  if ((s.name = xstrdup (name)) == NULL || seen_vector_append (&r->seen, s)) {
    free (s.name);
    return NULL;
  }
  return &r->seen.ptr[r->seen.len - 1];
}

static int
disk_index (const struct rd *r, const char *name)
{
  size_t i;

  for (i = 0; i < r->pkg->vm.disks.len; i++)
    if (strcmp (r->pkg->vm.disks.ptr[i].file, name) == 0)
      return (int) i;
  return -1;
}

/* ---- the manifest ------------------------------------------------------ */

static int
mf_kind (const char *s, size_t n, enum hash_kind *k)
{
  if (n == 4 && strncasecmp (s, "SHA1", 4) == 0)
    *k = HASH_SHA1;
  else if (n == 6 && strncasecmp (s, "SHA256", 6) == 0)
    *k = HASH_SHA256;
  else
    return -1;
  return 0;
}

static bool
is_hex (const char *s, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (!strchr ("0123456789abcdefABCDEF", s[i]) || s[i] == '\0')
      return false;
  return s[n] == '\0';
}

/* Parse one NUL-terminated line (no newline) into *e. */
static int
mf_line (char *line, struct mf_entry *e)
{
  char *open = strchr (line, '('), *close = strrchr (line, ')'), *v;
  size_t hexlen;

  if (open == NULL || close == NULL || close <= open + 1 ||
      mf_kind (line, (size_t) (open - line), &e->kind) == -1)
    return -1;
  for (v = close + 1; *v == ' '; v++) ;
  if (*v++ != '=')
    return -1;
  for (; *v == ' '; v++) ;
  hexlen = e->kind == HASH_SHA1 ? 40 : 64;
  if (!is_hex (v, hexlen))
    return -1;
  *close = '\0';
  memcpy (e->hex, v, hexlen + 1);
  e->name = open + 1;
  return 0;
}

static int
mf_add (struct rd *r, char *line, size_t lineno)
{
  struct mf_entry e = { .name = NULL };
  size_t i, n = strlen (line);

  if (n && line[n - 1] == '\r')
    line[--n] = '\0';
  if (n == 0)
    return 0;
  if (mf_line (line, &e) == -1)
    return error_set ("ova: '%s': manifest line %zu is malformed", r->what,
                      lineno);
  for (i = 0; i < r->mf.len; i++)
    if (strcmp (r->mf.ptr[i].name, e.name) == 0)
      return fail (r, "the manifest lists twice:", e.name);
  if (r->mf.len >= OVA_MAX_MEMBERS)
    return error_set ("ova: '%s': manifest too long", r->what);
  if ((e.name = xstrdup (e.name)) == NULL || mf_vector_append (&r->mf, e)) {
    free (e.name);
    return -1;
  }
  return 0;
}

static int
mf_parse (struct rd *r, struct strbuf *sb)
{
  char *p = sb->buf, *end = p ? p + sb->len : NULL, *nl;
  size_t lineno = 1, i;

  if (p && memchr (p, '\0', sb->len))
    return error_set ("ova: '%s': the manifest holds NUL bytes", r->what);
  for (; p && p < end; p = nl + 1, lineno++) {
    if ((nl = memchr (p, '\n', (size_t) (end - p))) == NULL)
      nl = end;                         /* sb->buf is NUL-terminated */
    *nl = '\0';
    if (mf_add (r, p, lineno) == -1)
      return -1;
  }
  r->have_mf = true;
  r->want_sha1 = r->want_sha256 = false;
  for (i = 0; i < r->mf.len; i++)
    *(r->mf.ptr[i].kind == HASH_SHA1 ? &r->want_sha1 : &r->want_sha256) = 1;
  return 0;
}

/* ---- reading a member -------------------------------------------------- */

struct hashes {
  struct hash *h[2];                    /* SHA1, SHA256 (NULL: not wanted) */
};

static int
hashes_new (struct rd *r, struct hashes *hs)
{
  hs->h[0] = hs->h[1] = NULL;
  if (r->want_sha1 && (hs->h[0] = hash_new (HASH_SHA1)) == NULL)
    return -1;
  if (r->want_sha256 && (hs->h[1] = hash_new (HASH_SHA256)) == NULL) {
    hash_free (hs->h[0]);
    return -1;
  }
  return 0;
}

static int
hashes_final (struct hashes *hs, struct seen *s)
{
  int r = 0;

  if (hs->h[0] && hash_final_hex (hs->h[0], s->sha1, false) == -1)
    r = -1;
  if (hs->h[1] && hash_final_hex (hs->h[1], s->sha256, false) == -1)
    r = -1;
  hash_free (hs->h[0]);
  hash_free (hs->h[1]);
  s->hashed = r == 0;
  return r;
}

/* Write n bytes at off of fd, leaving all-zero 64 KiB blocks as holes. */
static int
put_sparse (const struct rd *r, int fd, const unsigned char *p, size_t n,
            uint64_t off)
{
  if (pkg_put_sparse (fd, p, n, off) == -1)
    return error_errno ("ova: '%s': writing to '%s'", r->what, r->workdir);
  return 0;
}

/* Where a member's bytes go: memory (up to max), a file, or nowhere. */
struct sink {
  struct strbuf *mem;
  int fd;                               /* -1: none */
  uint64_t max;                         /* refuse more than this */
  const char *too_big;                  /* the error then */
  unsigned char *head;                  /* non-NULL: keep the first HEAD */
};

static int
pump (struct rd *r, const struct member *m, struct hashes *hs,
      const struct sink *k, uint64_t *total)
{
  ssize_t n;

  *total = 0;
  while ((n = m->read (m->opaque, r->buf, CHUNK)) > 0) {
    if ((uint64_t) n > k->max - *total)
      return fail (r, k->too_big, m->name);
    if (k->head && *total < HEAD)
      memcpy (k->head + *total, r->buf,
              (size_t) MIN ((uint64_t) n, HEAD - *total));
    if ((hs->h[0] && hash_update (hs->h[0], r->buf, (size_t) n) == -1) ||
        (hs->h[1] && hash_update (hs->h[1], r->buf, (size_t) n) == -1) ||
        (k->mem && strbuf_add (k->mem, (char *) r->buf, (size_t) n) == -1) ||
        (k->fd >= 0 && put_sparse (r, k->fd, r->buf, (size_t) n, *total)))
      return -1;
    *total += (uint64_t) n;
  }
  if (n < 0)
    return -1;                          /* the reader set the error */
  if (k->fd >= 0 && ftruncate (k->fd, (off_t) *total) == -1)
    return error_errno ("ova: '%s': extracting '%s'", r->what, m->name);
  return 0;
}

/* Read member m into k, hashing it, and record the hashes in s. */
static int
read_member (struct rd *r, const struct member *m, struct seen *s,
             const struct sink *k, uint64_t *total)
{
  struct hashes hs;
  int ret;

  if (m->size >= 0 && (uint64_t) m->size > k->max)
    return fail (r, k->too_big, m->name);
  if (hashes_new (r, &hs) == -1)
    return -1;
  ret = pump (r, m, &hs, k, total);
  if (hashes_final (&hs, s) == -1)
    ret = -1;
  if (r->info)
    r->info->member_bytes += *total;
  return ret;
}

/* ---- the kinds of member ----------------------------------------------- */

/* Which tool's shape the OVF has, for `ferry info` (the VM model does not
 * keep it): VirtualBox's vbox:Machine or system type, VMware's vmx-NN,
 * XenCenter's xen-/hvm- system types.  Reads the text ovf_parse accepted. */
static const char *
sniff_flavour (const char *xml, size_t len)
{
  static const char tag[] = "VirtualSystemType>";
  const char *t = xml ? memmem (xml, len, tag, sizeof tag - 1) : NULL;
  size_t rest;

  if (xml && memmem (xml, len, "www.virtualbox.org/ovf/machine", 30))
    return "virtualbox";
  if (t == NULL)
    return "unknown";
  t += sizeof tag - 1;
  rest = len - (size_t) (t - xml);
  if (rest >= 4 && memcmp (t, "vmx-", 4) == 0)
    return "vmware";
  if (rest >= 10 && memcmp (t, "virtualbox", 10) == 0)
    return "virtualbox";
  if ((rest >= 4 && (memcmp (t, "xen-", 4) == 0 ||
                     memcmp (t, "hvm-", 4) == 0)) ||
      (rest >= 8 && memcmp (t, "DMTF:xen", 8) == 0))
    return "xenserver";
  return "unknown";
}

static int
take_ovf (struct rd *r, const struct member *m, struct seen *s)
{
  struct strbuf sb = STRBUF_INIT;
  struct sink k = { .mem = &sb, .fd = -1, .max = OVF_MAX_SIZE,
                    .too_big = "the OVF descriptor is too large:" };
  CLEANUP_FREE char *what = xasprintf ("%s/%s", r->what, m->name);
  uint64_t total;
  int ret;

  if (r->have_ovf)
    return fail (r, "a second .ovf:", m->name);
  if (r->seen.len != 1 && !(r->seen.len == 2 && r->have_mf))
    return fail (r, "the .ovf is not the first member:", m->name);
  r->have_ovf = true;
  if (what == NULL || read_member (r, m, s, &k, &total) == -1) {
    strbuf_release (&sb);
    return -1;
  }
  ret = ovf_parse (sb.buf ? sb.buf : "", sb.len, what, &r->pkg->vm);
  if (ret == 0 && r->info)
    r->info->flavour = sniff_flavour (sb.buf, sb.len);
  strbuf_release (&sb);
  if (ret == 0 && r->pkg->vm.disks.len == 0)
    return fail (r, "no disk in", m->name);
  return ret;
}

static int
take_mf (struct rd *r, const struct member *m, struct seen *s)
{
  struct strbuf sb = STRBUF_INIT;
  struct sink k = { .mem = &sb, .fd = -1, .max = OVA_MAX_MANIFEST,
                    .too_big = "the manifest is too large:" };
  uint64_t total;
  int ret;

  if (r->have_mf)
    return fail (r, "a second manifest:", m->name);
  if ((r->mf_name = xstrdup (m->name)) == NULL)
    return -1;
  ret = read_member (r, m, s, &k, &total);
  /* mf_parse cuts the text into lines: keep the bytes as signed. */
  if (ret == 0 && sb.len)
    ret = strbuf_add (&r->mf_text, sb.buf, sb.len);
  if (ret == 0)
    ret = mf_parse (r, &sb);
  strbuf_release (&sb);
  return ret;
}

static int
take_cert (struct rd *r, const struct member *m, struct seen *s)
{
  struct sink k = { .mem = &r->cert_text, .fd = -1, .max = OVA_MAX_CERT,
                    .too_big = "the .cert is too large:" };
  uint64_t total;

  if (r->have_cert)
    return fail (r, "a second .cert:", m->name);
  r->have_cert = true;
  if (r->info)
    r->info->cert = true;
  return read_member (r, m, s, &k, &total);
}

/* A disk's format and capacity from its first block, for `ferry info`. */
static void
sniff_disk (const unsigned char *h, uint64_t len, struct pkg_disk *pd)
{
  uint64_t v = 0;
  int i;

  pd->detected = "";
  if (len >= HEAD && memcmp (h, "KDMV", 4) == 0) {
    for (i = 7; i >= 0; i--)            /* little-endian sectors at 12 */
      v = v << 8 | h[12 + i];
    pd->detected = "vmdk";
    pd->header_capacity = v <= UINT64_MAX / 512 ? v * 512 : 0;
  } else if (len >= HEAD && memcmp (h, "conectix", 8) == 0) {
    for (i = 0; i < 8; i++)             /* big-endian current size at 48 */
      v = v << 8 | h[48 + i];
    pd->detected = "vhd";
    pd->header_capacity = v;
  } else if (len >= 32 && memcmp (h, "QFI\xfb", 4) == 0) {
    for (i = 0; i < 8; i++)             /* big-endian size at 24 */
      v = v << 8 | h[24 + i];
    pd->detected = "qcow2";
    pd->header_capacity = v;
  }
}

/* Inspect mode: hash the member as it streams past, keep its first block. */
static int
look_at_disk (struct rd *r, const struct member *m, struct seen *s, int i)
{
  const struct vm_disk *d = &r->pkg->vm.disks.ptr[i];
  struct pkg_disk *pd = &r->info->disks[i];
  struct sink k = { .fd = -1, .max = d->file_size ? d->file_size : UINT64_MAX,
                    .too_big = "larger than its ovf:size:", .head = r->head };
  uint64_t total = 0;
  int ret;

  memset (r->head, 0, sizeof r->head);
  ret = read_member (r, m, s, &k, &total);
  pd->present = r->got[i] = ret == 0;
  pd->bytes = total;
  sniff_disk (r->head, total, pd);
  return ret;
}

uint64_t
ova_extract_bound (const char *format, uint64_t capacity)
{
  uint64_t extra = capacity / 16 + (16u << 20), r;

  /* VMDK stream: a 512-byte-padded marker per 64 KiB grain and 2 KiB of
   * grain table per 32 MiB; VHD: a 512-byte bitmap per 2 MiB block and
   * the BAT; qcow2 with 512-byte clusters: 2.5% of tables.  capacity/16
   * covers each, 16 MiB covers headers and footers. */
  if (format && strcmp (format, "raw") == 0)
    return capacity;
  return ADD_OVERFLOW (capacity, extra, &r) ? UINT64_MAX : r;
}

int
ova_check_space (const char *dir, const char *name, uint64_t need)
{
  struct statvfs sv;
  uint64_t avail;

  if (statvfs (dir, &sv) == -1)
    return error_errno ("'%s'", dir);
  if (MUL_OVERFLOW ((uint64_t) sv.f_bavail, (uint64_t) sv.f_frsize, &avail))
    avail = UINT64_MAX;
  if (avail < need)
    return error_set ("not enough space in '%s' to extract '%.64s': %llu "
                      "bytes needed, %llu available", dir, name,
                      (unsigned long long) need,
                      (unsigned long long) avail);
  return 0;
}

static int
take_disk (struct rd *r, const struct member *m, struct seen *s, int i)
{
  const struct vm_disk *d = &r->pkg->vm.disks.ptr[i];
  struct sink k = { .fd = -1, .max = d->file_size ? d->file_size
                    : ova_extract_bound (d->format, d->capacity),
                    .too_big = d->file_size ? "larger than its ovf:size:"
                    : "larger than its OVF capacity allows:" };
  char *path;
  uint64_t total;
  int ret;

  if (r->info)
    return look_at_disk (r, m, s, i);
  if (m->size >= 0 && (uint64_t) m->size <= k.max &&
      ova_check_space (r->workdir, m->name, (uint64_t) m->size) == -1)
    return error_prefix ("ova: '%s': ", r->what);
  if ((path = xasprintf ("%s/.disk%d", r->workdir, i + 1)) == NULL)
    return -1;
  r->paths[i] = path;
  k.fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (k.fd == -1)
    return error_errno ("ova: '%s': '%s'", r->what, path);
  ret = read_member (r, m, s, &k, &total);
  if (close (k.fd) == -1 && ret == 0)
    ret = error_errno ("ova: '%s': '%s'", r->what, path);
  r->got[i] = ret == 0;
  return ret;
}

static int
take_member (struct rd *r, const struct member *m)
{
  struct sink skip = { .fd = -1, .max = UINT64_MAX };
  struct seen *s = add_seen (r, m->name);
  uint64_t total;
  int i;

  if (s == NULL)
    return -1;
  if (str_has_suffix (m->name, ".ovf"))
    return take_ovf (r, m, s);
  if (str_has_suffix (m->name, ".mf"))
    return take_mf (r, m, s);
  if (str_has_suffix (m->name, ".cert") && r->have_ovf)
    return take_cert (r, m, s);
  if (!r->have_ovf)
    return fail (r, "the .ovf is not the first member:", m->name);
  if ((i = disk_index (r, m->name)) >= 0)
    return take_disk (r, m, s, i);
  return read_member (r, m, s, &skip, &total);  /* hashed, not kept */
}

/* ---- verification ------------------------------------------------------ */

static bool
is_unhashed (const char *name)
{
  return str_has_suffix (name, ".mf") || str_has_suffix (name, ".cert");
}

static int
verify_manifest (struct rd *r)
{
  size_t i;

  for (i = 0; i < r->mf.len; i++) {
    const struct mf_entry *e = &r->mf.ptr[i];
    const struct seen *s = find_seen (r, e->name);
    const char *have;

    if (s == NULL)
      return fail (r, "the manifest names a missing member:", e->name);
    have = e->kind == HASH_SHA1 ? s->sha1 : s->sha256;
    if (!s->hashed || strcasecmp (have, e->hex) != 0)
      return fail (r, "manifest mismatch: wrong checksum of", e->name);
  }
  for (i = 0; i < r->seen.len; i++) {
    const char *n = r->seen.ptr[i].name;
    size_t j;

    if (is_unhashed (n))
      continue;
    for (j = 0; j < r->mf.len && strcmp (r->mf.ptr[j].name, n); j++) ;
    if (j == r->mf.len)
      return fail (r, "not in the manifest:", n);
  }
  return 0;
}

/* The .cert's signature over the manifest's bytes (sign.h). */
static int
verify_cert (struct rd *r)
{
  struct ova_sig_info si;

  if (!r->have_mf)
    return error_set ("ova: '%s': a .cert without a manifest", r->what);
  int ret = ova_cert_verify (r->cert_text.buf ? r->cert_text.buf : "",
                             r->cert_text.len, r->mf_name,
                             r->mf_text.buf ? r->mf_text.buf : "",
                             r->mf_text.len, r->ca_file, &si);

  /* A signature that verifies but does not chain to the CA file is still
   * a failure; `ferry info` shows both facts. */
  r->pkg->signature = si.signature_ok;
  r->pkg->chain_checked = si.chain_checked;
  memcpy (r->pkg->signer, si.subject, sizeof si.subject);
  return ret == -1 ? error_prefix ("ova: '%s': ", r->what) : 0;
}

/* Inspect mode reports a failed check instead of failing. */
static int
note_problem (struct rd *r, int ret)
{
  if (ret == 0 || r->info == NULL)
    return ret;
  if (r->info->problem == NULL)
    r->info->problem = xstrdup (error_get ());
  return 0;
}

static int
verify (struct rd *r)
{
  size_t i;

  if (!r->have_ovf)
    return error_set ("ova: '%s': no .ovf descriptor found", r->what);
  for (i = 0; i < r->pkg->vm.disks.len; i++)
    if (!r->got[i] &&
        note_problem (r, fail (r, "a file the OVF references is missing:",
                               r->pkg->vm.disks.ptr[i].file)) == -1)
      return -1;
  r->pkg->manifest = r->have_mf;
  if (r->info) {
    r->info->manifest = r->have_mf;
    r->info->manifest_kind = r->want_sha1 ? HASH_SHA1 : HASH_SHA256;
  }
  if (r->have_mf) {
    if (note_problem (r, verify_manifest (r)) == -1)
      return -1;
    if (r->info)
      r->info->manifest_ok = r->info->problem == NULL;
  }
  if (r->have_cert)
    return note_problem (r, verify_cert (r));
  return 0;
}

/* ---- opening the extracted disks --------------------------------------- */

static bool
starts_with (const char *path, const char *magic)
{
  char b[8] = "";
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);

  return fd >= 0 && pread (fd, b, strlen (magic), 0) == (ssize_t) strlen (magic)
    && memcmp (b, magic, strlen (magic)) == 0;
}

static int
open_disk (struct rd *r, size_t i)
{
  const struct vm_disk *d = &r->pkg->vm.disks.ptr[i];
  bool raw = d->format && strcmp (d->format, "raw") == 0;
  struct image *img;

  /* A text VMDK descriptor would name extent files on this host. */
  if (d->format == NULL)
    return fail (r, "a disk of unknown format:", d->file);
  if (strcmp (d->format, "vmdk") == 0 && !starts_with (r->paths[i], "KDMV"))
    return fail (r, "not a sparse VMDK:", d->file);
  img = image_open (r->paths[i], raw ? IMAGE_OPEN_RAW : 0);
  unlink (r->paths[i]);
  if (img == NULL)
    return error_prefix ("ova: '%s': ", r->what);
  r->pkg->disks[i] = img;
  if (strcmp (image_format (img), d->format) != 0)
    return fail (r, "a disk not in the format the OVF declares:", d->file);
  if (img->backing)
    return fail (r, "a disk with a backing file:", d->file);
  if (img->size > d->capacity)
    return fail (r, "a disk larger than its OVF capacity:", d->file);
  return 0;
}

static int
open_disks (struct rd *r)
{
  size_t i;

  for (i = 0; i < r->pkg->vm.disks.len; i++)
    if (open_disk (r, i) == -1)
      return -1;
  return 0;
}

/* ---- XVA (inspect only) ------------------------------------------------ */

static int
xva_xml (struct rd *r, const struct member *m)
{
  struct strbuf sb = STRBUF_INIT;
  struct sink k = { .mem = &sb, .fd = -1, .max = XVA_MAX_XML,
                    .too_big = "too large:" };
  struct seen none = { .name = NULL };
  uint64_t total;
  int ret = read_member (r, m, &none, &k, &total);

  if (ret == 0)
    ret = xva_xml_parse (sb.buf ? sb.buf : "", sb.len, r->what,
                         &r->pkg->vm, &r->vdi_refs);
  strbuf_release (&sb);
  return ret;
}

/* Which VDI a member "REF/NNNNNNNN" belongs to; -1 if none.  *chunk: the
 * rest is a chunk number (not a .xxhash/.checksum). */
static int
xva_disk_of (const struct rd *r, const char *name, bool *chunk)
{
  const char *slash = strchr (name, '/'), *p;
  size_t i, n;

  if (slash == NULL)
    return -1;
  n = (size_t) (slash - name);
  for (p = slash + 1; *p >= '0' && *p <= '9'; p++) ;
  *chunk = *p == '\0' && p > slash + 1;
  for (i = 0; i < r->pkg->vm.disks.len; i++)
    if (strlen (r->pkg->vm.disks.ptr[i].file) == n &&
        memcmp (r->pkg->vm.disks.ptr[i].file, name, n) == 0)
      return (int) i;
  return -1;
}

/* Member names are counted, not trusted: nothing is extracted. */
static int
xva_member (struct rd *r, const struct member *m)
{
  struct sink skip = { .fd = -1, .max = UINT64_MAX };
  struct seen none = { .name = NULL };
  uint64_t total;
  bool chunk = false;
  int i;

  if (r->xva_members++ == 0)
    return xva_xml (r, m);
  if (read_member (r, m, &none, &skip, &total) == -1)
    return -1;
  if ((i = xva_disk_of (r, m->name, &chunk)) >= 0 && chunk) {
    r->info->disks[i].present = true;
    r->info->disks[i].chunks++;
    r->info->disks[i].bytes += total;
    r->info->disks[i].detected = "raw";
  }
  return 0;
}

/* ---- tar --------------------------------------------------------------- */

struct tar_in {
  struct archive *a;
  const char *what, *name;
};

static ssize_t
tar_read (void *opaque, void *buf, size_t len)
{
  struct tar_in *in = opaque;
  la_ssize_t n = archive_read_data (in->a, buf, len);

  if (n < 0)
    error_set ("ova: '%s': reading '%.64s': %s", in->what, in->name,
               archive_error_string (in->a));
  return n;
}

static int
tar_entry (struct rd *r, struct archive *a, struct archive_entry *e)
{
  const char *name = pkg_entry_name (e);
  struct tar_in in = { .a = a, .what = r->what, .name = name };
  struct member m = { .name = name, .size = -1, .read = tar_read,
                      .opaque = &in };
  mode_t type = archive_entry_filetype (e);

  if (r->info && r->seen.len == 0 && r->xva_members == 0 &&
      strcmp (name, "ova.xml") == 0) {
    r->xva = true;
    r->want_sha1 = r->want_sha256 = false;
  }
  if (type == AE_IFDIR && (r->xva || name[0] == '\0' ||
                           strcmp (name, ".") == 0))
    return 0;
  if (archive_entry_hardlink (e))
    return fail (r, "a hard link member:", name);
  if (type == AE_IFLNK)
    return fail (r, "a symbolic link member:", name);
  if (type != AE_IFREG)
    return fail (r, "a member that is not a regular file:", name);
  if (archive_entry_size_is_set (e))
    m.size = archive_entry_size (e);
  return r->xva ? xva_member (r, &m) : take_member (r, &m);
}

static int
read_tar (struct rd *r)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  int ret = 0, st;

  if (a == NULL)
    return error_set ("ova: out of memory");
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_filename (a, r->what, CHUNK) != ARCHIVE_OK)
    ret = error_set ("ova: '%s': %s", r->what, archive_error_string (a));
  while (ret == 0 && (st = archive_read_next_header (a, &e)) != ARCHIVE_EOF) {
    if (st != ARCHIVE_OK)
      ret = error_set ("ova: '%s': %s", r->what, archive_error_string (a));
    else if (tar_entry (r, a, e) == -1)
      ret = -1;
  }
  if (ret == 0)
    r->pkg->compressed = archive_filter_count (a) > 1;
  archive_read_free (a);
  return ret;
}

/* ---- directory --------------------------------------------------------- */

static ssize_t
fd_read (void *opaque, void *buf, size_t len)
{
  ssize_t n;

  do
    n = read (*(int *) opaque, buf, len);
  while (n == -1 && errno == EINTR);
  if (n < 0)
    error_errno ("ova: read");
  return n;
}

/* Take the file `name` of the directory dfd, refusing all but regular files. */
static int
dir_member (struct rd *r, int dfd, const char *name)
{
  CLEANUP_CLOSE int fd = -1;
  struct member m = { .name = name, .read = fd_read, .opaque = &fd };
  struct stat st;

  if (pkg_name_problem (name, false))
    return fail (r, pkg_name_problem (name, false), name);
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
    return errno == ENOENT ? 0 : error_errno ("ova: '%s/%s'", r->what, name);
  if (!S_ISREG (st.st_mode))
    return fail (r, "not a regular file:", name);
  fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1)
    return error_errno ("ova: '%s/%s'", r->what, name);
  m.size = st.st_size;
  return take_member (r, &m);
}

/* The one .ovf of the directory and the .mf of the same stem. */
static int
dir_find_ovf (struct rd *r, int dfd, char **ovf)
{
  DIR *d = fdopendir (dup (dfd));
  struct dirent *de;

  if (d == NULL)
    return error_errno ("ova: '%s'", r->what);
  *ovf = NULL;
  while ((de = readdir (d)) != NULL) {
    if (!str_has_suffix (de->d_name, ".ovf") || de->d_name[0] == '.')
      continue;
    if (*ovf) {
      closedir (d);
      return fail (r, "more than one .ovf, such as", de->d_name);
    }
    if ((*ovf = xstrdup (de->d_name)) == NULL)
      break;
  }
  closedir (d);
  if (*ovf == NULL)
    return error_set ("ova: '%s': no .ovf descriptor found", r->what);
  return 0;
}

static int
dir_members (struct rd *r, int dfd, const char *ovf)
{
  CLEANUP_FREE char *mf = xasprintf ("%.*s.mf", (int) strlen (ovf) - 4, ovf);
  CLEANUP_FREE char *cert = xasprintf ("%.*s.cert", (int) strlen (ovf) - 4,
                                       ovf);
  size_t i;

  if (mf == NULL || cert == NULL || dir_member (r, dfd, ovf) == -1 ||
      dir_member (r, dfd, mf) == -1 || dir_member (r, dfd, cert) == -1)
    return -1;
  for (i = 0; i < r->pkg->vm.disks.len; i++)
    if (!find_seen (r, r->pkg->vm.disks.ptr[i].file) &&
        dir_member (r, dfd, r->pkg->vm.disks.ptr[i].file) == -1)
      return -1;
  for (i = 0; i < r->mf.len; i++)
    if (!find_seen (r, r->mf.ptr[i].name) &&
        dir_member (r, dfd, r->mf.ptr[i].name) == -1)
      return -1;
  return 0;
}

static int
read_dir (struct rd *r)
{
  CLEANUP_CLOSE int dfd = open (r->what, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CLEANUP_FREE char *ovf = NULL;

  if (dfd == -1)
    return error_errno ("ova: '%s'", r->what);
  r->pkg->directory = true;
  if (dir_find_ovf (r, dfd, &ovf) == -1)
    return -1;
  return dir_members (r, dfd, ovf);
}

/* ---- the whole --------------------------------------------------------- */

static void
rd_free (struct rd *r)
{
  size_t i;

  for (i = 0; i < r->mf.len; i++)
    free (r->mf.ptr[i].name);
  mf_vector_reset (&r->mf);
  for (i = 0; i < r->seen.len; i++)
    free (r->seen.ptr[i].name);
  seen_vector_reset (&r->seen);
  for (i = 0; i < VM_MAX_DISKS; i++) {
    if (r->paths[i])
      unlink (r->paths[i]);
    free (r->paths[i]);
  }
  for (i = 0; r->vdi_refs && r->vdi_refs[i]; i++)
    free (r->vdi_refs[i]);
  free (r->vdi_refs);
  strbuf_release (&r->mf_text);
  strbuf_release (&r->cert_text);
  free (r->mf_name);
  free (r->buf);
}

int
ova_read (const char *path, const char *workdir, struct ova_pkg *pkg)
{
  return ova_read_ca (path, workdir, NULL, pkg);
}

int
ova_read_ca (const char *path, const char *workdir, const char *ca_file,
             struct ova_pkg *pkg)
{
  struct rd r = { .what = path, .workdir = workdir, .pkg = pkg,
                  .want_sha1 = true, .want_sha256 = true,
                  .ca_file = ca_file };
  struct stat st;
  int ret;

  memset (pkg, 0, sizeof *pkg);
  vm_init (&pkg->vm);
  if ((r.buf = malloc (CHUNK)) == NULL)
    return error_set ("ova: out of memory");
  if (stat (path, &st) == -1)
    ret = error_errno ("ova: '%s'", path);
  else
    ret = S_ISDIR (st.st_mode) ? read_dir (&r) : read_tar (&r);
  if (ret == 0)
    ret = verify (&r);
  if (ret == 0)
    ret = open_disks (&r);
  rd_free (&r);
  if (ret == -1)
    ova_pkg_free (pkg);
  return ret;
}

void
ova_pkg_free (struct ova_pkg *pkg)
{
  size_t i;

  if (pkg == NULL)
    return;
  for (i = 0; i < VM_MAX_DISKS; i++) {
    image_close (pkg->disks[i]);
    pkg->disks[i] = NULL;
  }
  vm_free (&pkg->vm);
}

/* ---- inspecting -------------------------------------------------------- */

static int
inspect_walk (struct rd *r, const char *path)
{
  struct stat st;

  if (stat (path, &st) == -1)
    return error_errno ("ova: '%s'", path);
  if ((S_ISDIR (st.st_mode) ? read_dir (r) : read_tar (r)) == -1)
    return -1;
  if (!r->xva)
    return verify (r);
  if (r->xva_members == 0)
    return error_set ("xva: '%s': empty archive", path);
  r->info->kind = PKG_XVA;
  r->info->flavour = "xva";
  r->info->members = r->xva_members;
  return 0;
}

/* ---- probing ----------------------------------------------------------- */

/* A directory the reader takes: one holding a visible .ovf. */
static bool
probe_dir (const char *path)
{
  DIR *d = opendir (path);
  struct dirent *de;
  bool found = false;

  if (d == NULL)
    return false;
  while (!found && (de = readdir (d)) != NULL)
    found = str_has_suffix (de->d_name, ".ovf") && de->d_name[0] != '.';
  closedir (d);
  return found;
}

/* Whether the first member as tar_entry meets it, past the "./" entry of
 * `tar -C dir .`, is the .ovf or the manifest only it lets precede it.
 * At most OVA_PROBE_HEADERS headers are read, and no member data. */
static bool
first_is_ovf (struct archive *a)
{
  struct archive_entry *e;
  int i;

  for (i = 0; i < OVA_PROBE_HEADERS; i++) {
    const char *n;
    if (archive_read_next_header (a, &e) != ARCHIVE_OK)
      return false;
    n = pkg_entry_name (e);
    if (archive_entry_filetype (e) != AE_IFDIR ||
        (n[0] != '\0' && strcmp (n, ".") != 0))
      return str_has_suffix (n, ".ovf") || str_has_suffix (n, ".mf");
  }
  return false;
}

static bool
probe_ova_tar (const char *path)
{
  struct archive *a = archive_read_new ();
  bool yes;

  if (a == NULL)
    return false;
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  yes = archive_read_open_filename (a, path, 65536) == ARCHIVE_OK &&
    first_is_ovf (a);
  archive_read_free (a);
  return yes;
}

bool
ova_probe (const char *path)
{
  struct stat st;

  if (stat (path, &st) == -1)
    return false;
  if (S_ISDIR (st.st_mode))
    return probe_dir (path);
  return S_ISREG (st.st_mode) && (xva_probe (path) || probe_ova_tar (path));
}

int
ova_inspect (const char *path, const char *ca_file, struct pkg_info *info)
{
  struct rd r = { .what = path, .pkg = &info->pkg, .info = info,
                  .want_sha1 = true, .want_sha256 = true,
                  .ca_file = ca_file };
  int ret;

  memset (info, 0, sizeof *info);
  vm_init (&info->pkg.vm);
  info->kind = PKG_OVA;
  info->flavour = "unknown";
  if ((r.buf = malloc (CHUNK)) == NULL)
    return error_set ("ova: out of memory");
  ret = inspect_walk (&r, path);
  if (!r.xva)
    info->members = r.seen.len;
  rd_free (&r);
  if (ret == -1)
    pkg_info_free (info);
  return ret;
}

void
pkg_info_free (struct pkg_info *info)
{
  if (info == NULL)
    return;
  ova_pkg_free (&info->pkg);
  free (info->problem);
  info->problem = NULL;
}

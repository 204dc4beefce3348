/* vmdk.c: the VMDK driver's vtable and reader — hosted sparse extents
 * (monolithicSparse, streamOptimized in both the VMware footer layout and
 * the QEMU/open-vmdk layout) and simple text descriptors pointing at one
 * sparse or flat extent.  Writing lives in vmdk-stream.c. */
#include "lib/common/compat.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/vmdk.h"

/* ---- probing and helpers ---------------------------------------------- */

static bool
vmdk_probe (const uint8_t *head, size_t head_len, const uint8_t *tail,
            size_t tail_len, uint64_t file_size)
{
  size_t dl = strlen (VMDK_DESC_MAGIC);

  (void) tail;
  (void) tail_len;
  (void) file_size;
  if (head_len >= 4 && memcmp (head, "KDMV", 4) == 0)
    return true;
  return head_len >= dl && memcmp (head, VMDK_DESC_MAGIC, dl) == 0;
}

uint64_t
vmdk_grain_len (const struct vmdk *v, uint64_t g)
{
  uint64_t start = g * v->grain_bytes, end = v->capacity * VMDK_SECTOR;

  return MIN (v->grain_bytes, end - start);
}

struct vmdk *
vmdk_new (void)
{
  struct vmdk *v = calloc (1, sizeof *v);

  if (v == NULL) {
    error_errno ("malloc");
    return NULL;
  }
  v->fd = -1;
  v->gbuf_grain = UINT64_MAX;
  pthread_mutex_init (&v->lock, NULL);
  return v;
}

void
vmdk_free (struct vmdk *v)
{
  size_t i;

  if (v == NULL)
    return;
  for (i = 0; i < VMDK_GT_CACHE; i++)
    free (v->gt_cache[i].entries);
  if (v->zs_ready)
    inflateEnd (&v->zs);
  free (v->gd);
  free (v->cbuf);
  free (v->gbuf);
  if (v->fd >= 0)
    close (v->fd);
  pthread_mutex_destroy (&v->lock);
  image_fini (&v->img);
  free (v);
}

static int
open_file (struct vmdk *v, const char *path)
{
  struct stat st;

  v->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (v->fd == -1)
    return error_errno ("vmdk: '%s'", path);
  if (fstat (v->fd, &st) == -1)
    return error_errno ("vmdk: '%s': stat", path);
  if (!S_ISREG (st.st_mode))
    return error_set ("vmdk: '%s': not a regular file", path);
  v->file_size = (uint64_t) st.st_size;
  return 0;
}

/* [off, off+len) must lie inside the file. */
static bool
in_file (const struct vmdk *v, uint64_t off, uint64_t len)
{
  uint64_t end;

  return !ADD_OVERFLOW (off, len, &end) && end <= v->file_size;
}

/* ---- header, footer, descriptor --------------------------------------- */

static void
header_to_host (struct vmdk_header *h)
{
  h->magic = le32toh (h->magic);
  h->version = le32toh (h->version);
  h->flags = le32toh (h->flags);
  h->capacity = le64toh (h->capacity);
  h->grain_size = le64toh (h->grain_size);
  h->desc_offset = le64toh (h->desc_offset);
  h->desc_size = le64toh (h->desc_size);
  h->num_gtes_per_gt = le32toh (h->num_gtes_per_gt);
  h->rgd_offset = le64toh (h->rgd_offset);
  h->gd_offset = le64toh (h->gd_offset);
  h->overhead = le64toh (h->overhead);
  h->compress_algorithm = le16toh (h->compress_algorithm);
}

static int
check_basics (const struct vmdk_header *h, const char *path)
{
  if (h->magic != VMDK_MAGIC)
    return error_set ("vmdk: '%s': bad magic (not a VMDK sparse extent)", path);
  if (h->version < 1 || h->version > 3)
    return error_set ("vmdk: '%s': unsupported version %u", path, h->version);
  if ((h->flags & VMDK_FLAG_NL_DETECT) &&
      (h->nl_single != '\n' || h->nl_non != ' ' || h->nl_double1 != '\r' ||
       h->nl_double2 != '\n'))
    return error_set ("vmdk: '%s': header check bytes damaged (file "
                      "transferred in text mode?)", path);
  if ((h->flags & VMDK_FLAG_COMPRESSED) &&
      h->compress_algorithm != VMDK_COMPRESS_DEFLATE)
    return error_set ("vmdk: '%s': unsupported compression algorithm %u",
                      path, h->compress_algorithm);
  return 0;
}

static int
check_geometry (const struct vmdk_header *h, const char *path)
{
  if (!is_power_of_2 (h->grain_size) ||
      h->grain_size > VMDK_MAX_GRAIN_SECTORS)
    return error_set ("vmdk: '%s': grain size %llu sectors is not a power of "
                      "2 up to %u", path, (unsigned long long) h->grain_size,
                      VMDK_MAX_GRAIN_SECTORS);
  if (h->num_gtes_per_gt == 0 || h->num_gtes_per_gt > VMDK_MAX_GTES)
    return error_set ("vmdk: '%s': %u grain table entries per table (at most "
                      "%u)", path, h->num_gtes_per_gt, VMDK_MAX_GTES);
  if (h->capacity > VMDK_MAX_CAPACITY)
    return error_set ("vmdk: '%s': capacity %llu sectors is absurd (limit "
                      "%llu)", path, (unsigned long long) h->capacity,
                      (unsigned long long) VMDK_MAX_CAPACITY);
  return 0;
}

static int
read_header (struct vmdk *v, uint64_t off, struct vmdk_header *h)
{
  if (!in_file (v, off, sizeof *h))
    return error_set ("vmdk: '%s': truncated: no room for the header",
                      v->img.path);
  if (full_pread (v->fd, h, sizeof *h, off, v->img.path) == -1)
    return error_prefix ("vmdk: ");
  header_to_host (h);
  if (check_basics (h, v->img.path) == -1 ||
      check_geometry (h, v->img.path) == -1)
    return -1;
  return 0;
}

static int
read_marker (struct vmdk *v, uint64_t off, uint32_t type, const char *what)
{
  struct vmdk_meta_marker m;

  if (full_pread (v->fd, &m, sizeof m, off, v->img.path) == -1)
    return error_prefix ("vmdk: ");
  if (le32toh (m.size) != 0 || le32toh (m.type) != type)
    return error_set ("vmdk: '%s': %s marker not found at offset %llu",
                      v->img.path, what, (unsigned long long) off);
  return 0;
}

/* VMware streams write gdOffset only in the footer: footer marker, footer
 * (a header copy), end-of-stream marker, in the last three sectors. */
static int
read_footer (struct vmdk *v, const struct vmdk_header *h,
             struct vmdk_header *f)
{
  uint64_t base;

  if (!(h->flags & VMDK_FLAG_MARKERS) || v->file_size < 4 * VMDK_SECTOR)
    return error_set ("vmdk: '%s': grain directory is at the end but there "
                      "is no footer", v->img.path);
  base = (v->file_size & ~(uint64_t) (VMDK_SECTOR - 1)) - 3 * VMDK_SECTOR;
  if (read_marker (v, base, VMDK_MARKER_FOOTER, "footer") == -1 ||
      read_marker (v, base + 2 * VMDK_SECTOR, VMDK_MARKER_EOS,
                   "end-of-stream") == -1 ||
      read_header (v, base + VMDK_SECTOR, f) == -1)
    return -1;
  if (f->capacity != h->capacity || f->grain_size != h->grain_size ||
      f->num_gtes_per_gt != h->num_gtes_per_gt || f->flags != h->flags)
    return error_set ("vmdk: '%s': footer disagrees with the header",
                      v->img.path);
  if (f->gd_offset == VMDK_GD_AT_END)
    return error_set ("vmdk: '%s': footer has no grain directory offset",
                      v->img.path);
  v->has_footer = true;
  return 0;
}

static int
check_embedded_desc (struct vmdk *v, const struct vmdk_desc *d)
{
  const char *path = v->img.path;

  if (strcmp (d->create_type, "streamOptimized") != 0 &&
      strcmp (d->create_type, "monolithicSparse") != 0)
    return error_set ("vmdk: '%s': createType '%s' is not supported in a "
                      "sparse extent", path, d->create_type);
  if (strcmp (d->create_type, "streamOptimized") == 0 && !v->compressed)
    return error_set ("vmdk: '%s': createType streamOptimized but grains are "
                      "not compressed", path);
  if (d->has_parent)
    return error_set ("vmdk: '%s': delta disks (with a parent) are not "
                      "supported", path);
  if (d->n_extents > 1)
    return error_set ("vmdk: '%s': embedded descriptor lists %u extents",
                      path, d->n_extents);
  if (d->n_extents == 1 && d->total_sectors != v->capacity)
    return error_set ("vmdk: '%s': descriptor extent size %llu sectors does "
                      "not match the capacity %llu", path,
                      (unsigned long long) d->total_sectors,
                      (unsigned long long) v->capacity);
  snprintf (v->subformat, sizeof v->subformat, "%s", d->create_type);
  snprintf (v->adapter_type, sizeof v->adapter_type, "%s", d->adapter_type);
  return 0;
}

static int
read_embedded_desc (struct vmdk *v, const struct vmdk_header *h)
{
  CLEANUP_FREE char *text = NULL;
  struct vmdk_desc d;
  uint64_t off, len;

  if (h->desc_offset == 0)
    return 0;
  if (h->desc_size > VMDK_MAX_DESC_BYTES / VMDK_SECTOR)
    return error_set ("vmdk: '%s': descriptor size %llu sectors is absurd",
                      v->img.path, (unsigned long long) h->desc_size);
  len = h->desc_size * VMDK_SECTOR;
  if (MUL_OVERFLOW (h->desc_offset, VMDK_SECTOR, &off) ||
      !in_file (v, off, len))
    return error_set ("vmdk: '%s': descriptor points past end of file",
                      v->img.path);
  text = malloc (len + 1);
  if (text == NULL)
    return error_errno ("malloc");
  if (full_pread (v->fd, text, len, off, v->img.path) == -1)
    return error_prefix ("vmdk: ");
  if (vmdk_desc_parse (text, len, v->img.path, &d) == -1)
    return -1;
  return check_embedded_desc (v, &d);
}

/* ---- grain directory -------------------------------------------------- */

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

  return x < y ? -1 : x > y;
}

/* Grain tables sharing sectors would let a small file describe a huge
 * allocated disk (every table aliasing one), making each walk over the
 * tables unbounded; no writer produces them. */
static int
check_gt_overlap (struct vmdk *v)
{
  uint64_t gt_sectors = MAX (1, DIV_ROUND_UP ((uint64_t) v->gtes * 4,
                                              VMDK_SECTOR));
  CLEANUP_FREE uint32_t *sorted = malloc (v->n_gd * 4 + 4);
  uint64_t i, n = 0;

  if (sorted == NULL)
    return error_errno ("malloc");
  for (i = 0; i < v->n_gd; i++)
    if (v->gd[i] != 0)
      sorted[n++] = v->gd[i];
  qsort (sorted, n, sizeof *sorted, cmp_u32);
  for (i = 1; i < n; i++)
    if ((uint64_t) sorted[i] - sorted[i - 1] < gt_sectors)
      return error_set ("vmdk: '%s': grain tables at sectors %u and %u "
                        "overlap", v->img.path, sorted[i - 1], sorted[i]);
  return 0;
}

static int
read_gd (struct vmdk *v)
{
  uint64_t off, gt_bytes = (uint64_t) v->gtes * 4, i;

  if (v->n_gd > VMDK_MAX_GD_ENTRIES)
    return error_set ("vmdk: '%s': grain directory of %llu entries is too "
                      "large", v->img.path, (unsigned long long) v->n_gd);
  if (MUL_OVERFLOW (v->gd_offset, VMDK_SECTOR, &off) ||
      !in_file (v, off, v->n_gd * 4))
    return error_set ("vmdk: '%s': grain directory points past end of file",
                      v->img.path);
  v->gd = malloc (v->n_gd * 4 + 4);
  if (v->gd == NULL)
    return error_errno ("malloc");
  if (full_pread (v->fd, v->gd, v->n_gd * 4, off, v->img.path) == -1)
    return error_prefix ("vmdk: ");
  for (i = 0; i < v->n_gd; i++) {
    v->gd[i] = le32toh (v->gd[i]);
    if (v->gd[i] != 0 &&
        !in_file (v, (uint64_t) v->gd[i] * VMDK_SECTOR, gt_bytes))
      return error_set ("vmdk: '%s': grain table %llu points past end of file",
                        v->img.path, (unsigned long long) i);
  }
  return check_gt_overlap (v);
}

static int
set_geometry (struct vmdk *v, const struct vmdk_header *h)
{
  uint64_t per_gt;

  v->version = h->version;
  v->flags = h->flags;
  v->capacity = h->capacity;
  v->grain_sectors = h->grain_size;
  v->grain_bytes = h->grain_size * VMDK_SECTOR;
  v->gtes = h->num_gtes_per_gt;
  v->gd_offset = h->gd_offset;
  v->compressed = h->flags & VMDK_FLAG_COMPRESSED;
  v->markers = h->flags & VMDK_FLAG_MARKERS;
  v->unclean = h->unclean_shutdown != 0;
  v->n_grains = DIV_ROUND_UP (v->capacity, v->grain_sectors);
  per_gt = (uint64_t) v->gtes;
  v->n_gd = DIV_ROUND_UP (v->n_grains, per_gt);
  snprintf (v->subformat, sizeof v->subformat, "%s",
            v->compressed ? "streamOptimized" : "monolithicSparse");
  return 0;
}

static int
alloc_buffers (struct vmdk *v)
{
  size_t i;

  for (i = 0; i < VMDK_GT_CACHE; i++) {
    v->gt_cache[i].entries = malloc ((size_t) v->gtes * 4);
    if (v->gt_cache[i].entries == NULL)
      return error_errno ("malloc");
  }
  if (!v->compressed)
    return 0;
  /* deflate never expands a grain by more than a few bytes; twice the grain
   * leaves room for odd writers and still bounds what a marker can ask. */
  v->cbuf_cap = 2 * v->grain_bytes + VMDK_SECTOR;
  v->cbuf = malloc (v->cbuf_cap);
  v->gbuf = malloc (v->grain_bytes);
  if (v->cbuf == NULL || v->gbuf == NULL)
    return error_errno ("malloc");
  if (inflateInit (&v->zs) != Z_OK)
    return error_set ("vmdk: '%s': zlib initialisation failed", v->img.path);
  v->zs_ready = true;
  return 0;
}

static int
open_sparse (struct vmdk *v)
{
  struct vmdk_header h, f;

  if (read_header (v, 0, &h) == -1)
    return -1;
  if (h.gd_offset == VMDK_GD_AT_END) {
    if (read_footer (v, &h, &f) == -1)
      return -1;
    h = f;
  }
  if (set_geometry (v, &h) == -1 || read_embedded_desc (v, &h) == -1 ||
      read_gd (v) == -1 || alloc_buffers (v) == -1)
    return -1;
  v->img.size = v->capacity * VMDK_SECTOR;
  return 0;
}

/* ---- text descriptor files -------------------------------------------- */

static int
read_desc_file (struct vmdk *v, struct vmdk_desc *d)
{
  CLEANUP_FREE char *text = NULL;

  if (v->file_size > VMDK_MAX_DESC_BYTES)
    return error_set ("vmdk: '%s': descriptor file is too large", v->img.path);
  text = malloc (v->file_size + 1);
  if (text == NULL)
    return error_errno ("malloc");
  if (full_pread (v->fd, text, v->file_size, 0, v->img.path) == -1)
    return error_prefix ("vmdk: ");
  if (vmdk_desc_parse (text, v->file_size, v->img.path, d) == -1)
    return -1;
  if (d->has_parent)
    return error_set ("vmdk: '%s': delta disks (with a parent) are not "
                      "supported", v->img.path);
  if (d->n_extents != 1)
    return error_set ("vmdk: '%s': descriptors with %u extents are not "
                      "supported (only one)", v->img.path, d->n_extents);
  if (d->extent_file[0] == '\0' || d->extent_file[0] == '/' ||
      strstr (d->extent_file, "..") != NULL)
    return error_set ("vmdk: '%s': extent file name '%s' must be relative "
                      "to the descriptor", v->img.path, d->extent_file);
  return 0;
}

static char *
extent_path (const char *desc_path, const char *name)
{
  CLEANUP_FREE char *dir = xstrdup (desc_path);

  return dir ? xasprintf ("%s/%s", dirname (dir), name) : NULL;
}

static int
open_flat (struct vmdk *v, const struct vmdk_desc *d)
{
  uint64_t len;

  if (MUL_OVERFLOW (d->extent_offset, VMDK_SECTOR, &v->flat_offset) ||
      MUL_OVERFLOW (d->extent_sectors, VMDK_SECTOR, &len) ||
      d->extent_sectors > VMDK_MAX_CAPACITY)
    return error_set ("vmdk: '%s': flat extent size is absurd", v->img.path);
  if (!in_file (v, v->flat_offset, len))
    return error_set ("vmdk: '%s': flat extent '%s' is shorter than the "
                      "descriptor says", v->img.path, d->extent_file);
  v->flat = true;
  v->capacity = d->extent_sectors;
  v->img.size = len;
  return 0;
}

/* The descriptor names the file; errors keep naming what the user typed. */
static int
open_extent (struct vmdk *v, const struct vmdk_desc *d)
{
  CLEANUP_FREE char *p = extent_path (v->img.path, d->extent_file);
  bool sparse = strcmp (d->extent_type, "SPARSE") == 0;

  if (p == NULL)
    return -1;
  if (!sparse && strcmp (d->extent_type, "FLAT") != 0 &&
      strcmp (d->extent_type, "VMFS") != 0)
    return error_set ("vmdk: '%s': extent type %s is not supported",
                      v->img.path, d->extent_type);
  close (v->fd);
  v->fd = -1;
  if (open_file (v, p) == -1)
    return -1;
  if (!sparse)
    return open_flat (v, d);
  if (open_sparse (v) == -1)
    return -1;
  if (v->capacity != d->extent_sectors)
    return error_set ("vmdk: '%s': extent '%s' holds %llu sectors, the "
                      "descriptor says %llu", v->img.path, d->extent_file,
                      (unsigned long long) v->capacity,
                      (unsigned long long) d->extent_sectors);
  return 0;
}

static int
open_desc_file (struct vmdk *v)
{
  struct vmdk_desc d;

  if (read_desc_file (v, &d) == -1 || open_extent (v, &d) == -1)
    return -1;
  snprintf (v->subformat, sizeof v->subformat, "%s", d.create_type);
  snprintf (v->adapter_type, sizeof v->adapter_type, "%s", d.adapter_type);
  return 0;
}

static struct image *
vmdk_open (const char *path, unsigned flags, unsigned depth)
{
  struct vmdk *v;
  char magic[sizeof VMDK_DESC_MAGIC - 1] = { 0 };
  int r;

  (void) depth;
  if (flags & IMAGE_OPEN_RDWR) {
    error_set ("vmdk: '%s': existing VMDK images can only be opened "
               "read-only", path);
    return NULL;
  }
  v = vmdk_new ();
  if (v == NULL || image_init (&v->img, &vmdk_ops, path, 0, false) == -1 ||
      open_file (v, path) == -1)
    goto err;
  if (full_pread (v->fd, magic, MIN (sizeof magic, v->file_size), 0,
                  path) == -1) {
    error_prefix ("vmdk: ");
    goto err;
  }
  if (memcmp (magic, VMDK_DESC_MAGIC, sizeof magic) == 0)
    r = open_desc_file (v);
  else
    r = open_sparse (v);
  if (r == 0)
    return &v->img;
 err:
  vmdk_free (v);
  return NULL;
}

/* ---- grain tables and grains ------------------------------------------ */

/* Read and validate grain table `t`: every entry must be 0, 1 or a grain
 * that starts inside the file. */
static int
load_gt (struct vmdk *v, uint64_t t, uint32_t *entries)
{
  uint64_t off = (uint64_t) v->gd[t] * VMDK_SECTOR, g0 = t * v->gtes, i;
  uint64_t need;

  if (full_pread (v->fd, entries, (size_t) v->gtes * 4, off,
                  v->img.path) == -1)
    return error_prefix ("vmdk: ");
  for (i = 0; i < v->gtes; i++) {
    entries[i] = le32toh (entries[i]);
    if (entries[i] <= VMDK_GTE_ZEROED || g0 + i >= v->n_grains)
      continue;
    need = v->compressed ? sizeof (struct vmdk_grain_marker)
      : vmdk_grain_len (v, g0 + i);
    if (!in_file (v, (uint64_t) entries[i] * VMDK_SECTOR, need))
      return error_set ("vmdk: '%s': grain table %llu entry %llu points past "
                        "end of file", v->img.path, (unsigned long long) t,
                        (unsigned long long) i);
  }
  return 0;
}

int
vmdk_lookup (struct vmdk *v, uint64_t g, uint32_t *entry)
{
  uint64_t t = g / v->gtes;
  struct vmdk_gt_slot *s = &v->gt_cache[t % VMDK_GT_CACHE];

  if (v->gd[t] == 0) {
    *entry = 0;
    return 0;
  }
  if (!s->valid || s->index != t) {
    s->valid = false;
    if (load_gt (v, t, s->entries) == -1)
      return -1;
    s->valid = true;
    s->index = t;
  }
  *entry = s->entries[g % v->gtes];
  return 0;
}

static int
grain_error (struct vmdk *v, uint64_t g, const char *msg)
{
  return error_set ("vmdk: '%s': grain %llu (sector %llu) %s", v->img.path,
                    (unsigned long long) g,
                    (unsigned long long) (g * v->grain_sectors), msg);
}

/* Read the compressed bytes of grain g into v->cbuf; *len = their count. */
static int
read_compressed (struct vmdk *v, uint64_t g, uint32_t entry, size_t *len)
{
  uint64_t off = (uint64_t) entry * VMDK_SECTOR;
  struct vmdk_grain_marker m;

  if (!v->markers) {          /* no size recorded: read what may be there */
    *len = (size_t) MIN (v->cbuf_cap, v->file_size - off);
    if (full_pread (v->fd, v->cbuf, *len, off, v->img.path) == -1)
      return error_prefix ("vmdk: ");
    return 0;
  }
  if (full_pread (v->fd, &m, sizeof m, off, v->img.path) == -1)
    return error_prefix ("vmdk: ");
  if (le64toh (m.lba) != g * v->grain_sectors)
    return grain_error (v, g, "marker names a different sector");
  *len = le32toh (m.size);
  if (*len > v->cbuf_cap)
    return grain_error (v, g, "compressed size is larger than a grain allows");
  if (!in_file (v, off + sizeof m, *len))
    return grain_error (v, g, "compressed data runs past end of file");
  if (full_pread (v->fd, v->cbuf, *len, off + sizeof m, v->img.path) == -1)
    return error_prefix ("vmdk: ");
  return 0;
}

/* Inflate at most one grain: the output bound defuses zlib bombs. */
static int
inflate_grain (struct vmdk *v, uint64_t g, size_t len)
{
  int r;

  if (inflateReset (&v->zs) != Z_OK)
    return grain_error (v, g, "cannot reset zlib");
  v->zs.next_in = v->cbuf;
  v->zs.avail_in = (uInt) len;
  v->zs.next_out = v->gbuf;
  v->zs.avail_out = (uInt) v->grain_bytes;
  r = inflate (&v->zs, Z_FINISH);
  if (r == Z_STREAM_END) {
    if (v->grain_bytes - v->zs.avail_out < vmdk_grain_len (v, g))
      return grain_error (v, g, "decompresses to less than a grain");
    memset (v->zs.next_out, 0, v->zs.avail_out);
    return 0;
  }
  if (v->zs.avail_out == 0)
    return grain_error (v, g, "decompresses to more than a grain "
                        "(zlib bomb?)");
  return grain_error (v, g, "holds corrupt compressed data");
}

int
vmdk_load_grain (struct vmdk *v, uint64_t g, uint32_t entry)
{
  size_t len = 0;

  if (v->gbuf_grain == g)
    return 0;
  v->gbuf_grain = UINT64_MAX;
  if (read_compressed (v, g, entry, &len) == -1 ||
      inflate_grain (v, g, len) == -1)
    return -1;
  v->gbuf_grain = g;
  return 0;
}

/* Copy [in, in+n) of grain g into buf. */
static int
read_grain_part (struct vmdk *v, uint64_t g, uint64_t in, size_t n,
                 uint8_t *buf)
{
  uint32_t entry;

  if (vmdk_lookup (v, g, &entry) == -1)
    return -1;
  if (entry <= VMDK_GTE_ZEROED) {
    memset (buf, 0, n);
    return 0;
  }
  if (!v->compressed)
    return full_pread (v->fd, buf, n, (uint64_t) entry * VMDK_SECTOR + in,
                       v->img.path) == -1 ? error_prefix ("vmdk: ") : 0;
  if (vmdk_load_grain (v, g, entry) == -1)
    return -1;
  memcpy (buf, v->gbuf + in, n);
  return 0;
}

static int
sparse_pread (struct vmdk *v, uint8_t *buf, size_t count, uint64_t offset)
{
  while (count > 0) {
    uint64_t g = offset / v->grain_bytes, in = offset % v->grain_bytes;
    size_t n = (size_t) MIN ((uint64_t) count, v->grain_bytes - in);

    if (read_grain_part (v, g, in, n, buf) == -1)
      return -1;
    buf += n;
    count -= n;
    offset += n;
  }
  return 0;
}

static int
vmdk_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct vmdk *v = (struct vmdk *) img;
  int r;

  if (v->w)
    return error_set ("vmdk: '%s': a streamOptimized image being written "
                      "cannot be read", img->path);
  if (v->flat)
    return full_pread (v->fd, buf, count, v->flat_offset + offset,
                       img->path) == -1 ? error_prefix ("vmdk: ") : 0;
  pthread_mutex_lock (&v->lock);
  r = sparse_pread (v, buf, count, offset);
  pthread_mutex_unlock (&v->lock);
  return r;
}

static int
vmdk_pwrite (struct image *img, const void *buf, size_t count,
             uint64_t offset)
{
  struct vmdk *v = (struct vmdk *) img;

  if (v->w == NULL)
    return error_set ("vmdk: '%s': image is read-only", img->path);
  return vmdk_stream_pwrite (v, buf, count, offset);
}

/* ---- extents ---------------------------------------------------------- */

static uint32_t
entry_type (uint32_t entry)
{
  return entry == 0 ? EXTENT_HOLE
    : entry == VMDK_GTE_ZEROED ? EXTENT_ZERO : EXTENT_DATA;
}

static int
sparse_extents (struct vmdk *v, uint64_t offset, uint64_t length,
                extent_vector *out)
{
  uint64_t end = offset + length;

  while (offset < end) {
    uint64_t g = offset / v->grain_bytes, t = g / v->gtes, stop;
    uint32_t entry = 0;

    if (v->gd[t] == 0)        /* a whole table's span is unallocated */
      stop = (t + 1) * v->gtes * v->grain_bytes;
    else {
      if (vmdk_lookup (v, g, &entry) == -1)
        return -1;
      stop = (g + 1) * v->grain_bytes;
    }
    stop = MIN (stop, end);
    if (extent_add (out, offset, stop - offset, entry_type (entry)) == -1)
      return -1;
    offset = stop;
  }
  return 0;
}

static int
vmdk_extents (struct image *img, uint64_t offset, uint64_t length,
              extent_vector *out)
{
  struct vmdk *v = (struct vmdk *) img;
  int r;

  if (v->w)
    return error_set ("vmdk: '%s': a streamOptimized image being written "
                      "has no extents yet", img->path);
  if (v->flat)
    return extent_add (out, offset, length, EXTENT_DATA);
  pthread_mutex_lock (&v->lock);
  r = sparse_extents (v, offset, length, out);
  pthread_mutex_unlock (&v->lock);
  return r;
}

/* ---- flush, close, info ----------------------------------------------- */

static int
vmdk_flush (struct image *img)
{
  struct vmdk *v = (struct vmdk *) img;

  return v->w ? vmdk_stream_flush (v) : 0;
}

static int
vmdk_close (struct image *img)
{
  struct vmdk *v = (struct vmdk *) img;
  int r = 0;

  if (v->w)
    r = vmdk_stream_finish (v);
  vmdk_free (v);
  return r;
}

static int
vmdk_info (struct image *img, struct strbuf *out)
{
  struct vmdk *v = (struct vmdk *) img;

  if (strbuf_addf (out, "subformat\t%s\n", v->subformat) == -1)
    return -1;
  if (!v->flat &&
      strbuf_addf (out, "grain_size\t%llu\n",
                   (unsigned long long) v->grain_bytes) == -1)
    return -1;
  return strbuf_addf (out, "adapter_type\t%s\ncompressed\t%s\n",
                      v->adapter_type[0] ? v->adapter_type : "unknown",
                      v->compressed ? "yes" : "no");
}

const struct image_ops vmdk_ops = {
  .name = "vmdk",
  .probe = vmdk_probe,
  .open = vmdk_open,
  .create = vmdk_stream_create,
  .pread = vmdk_pread,
  .pwrite = vmdk_pwrite,
  .extents = vmdk_extents,
  .flush = vmdk_flush,
  .close = vmdk_close,
  .check = vmdk_check,
  .info = vmdk_info,
};

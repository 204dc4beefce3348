/* qcow2-header.c: parsing and validating a qcow2 header — fixed fields,
 * feature bits, table offsets, header extensions, the backing file name
 * and the active L1 table — and opening the backing file it names.
 * Everything here bounds a size read from the file before using it.
 */
#include "lib/common/compat.h"

#include <endian.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/qcow2.h"

#define ERR(q, fmt, ...) \
  error_set ("qcow2: '%s': " fmt, (q)->img.path, ##__VA_ARGS__)

/* ---- header ---------------------------------------------------------- */

static void
header_to_host (struct qcow2_header *h)
{
  h->magic = be32toh (h->magic);
  h->version = be32toh (h->version);
  h->backing_file_offset = be64toh (h->backing_file_offset);
  h->backing_file_size = be32toh (h->backing_file_size);
  h->cluster_bits = be32toh (h->cluster_bits);
  h->size = be64toh (h->size);
  h->crypt_method = be32toh (h->crypt_method);
  h->l1_size = be32toh (h->l1_size);
  h->l1_table_offset = be64toh (h->l1_table_offset);
  h->refcount_table_offset = be64toh (h->refcount_table_offset);
  h->refcount_table_clusters = be32toh (h->refcount_table_clusters);
  h->nb_snapshots = be32toh (h->nb_snapshots);
  h->snapshots_offset = be64toh (h->snapshots_offset);
  h->incompatible_features = be64toh (h->incompatible_features);
  h->compatible_features = be64toh (h->compatible_features);
  h->autoclear_features = be64toh (h->autoclear_features);
  h->refcount_order = be32toh (h->refcount_order);
  h->header_length = be32toh (h->header_length);
}

/* Read the fixed header; version 2 headers end at byte 72 and get the
 * version 3 defaults. */
static int
read_header (struct qcow2 *q, struct qcow2_header *h)
{
  size_t len;

  memset (h, 0, sizeof *h);
  if (q->file_size < QCOW2_V2_HEADER_LEN)
    return ERR (q, "truncated header (file is %llu bytes)",
                (unsigned long long) q->file_size);
  len = MIN (q->file_size, sizeof *h);
  if (full_pread (q->fd, h, len, 0, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  header_to_host (h);
  if (h->magic != QCOW2_MAGIC)
    return ERR (q, "bad magic (not a qcow2 image)");
  if (h->version != 2 && h->version != 3)
    return ERR (q, "unsupported version %u", h->version);
  if (h->version == 2) {
    memset ((uint8_t *) h + QCOW2_V2_HEADER_LEN, 0,
            sizeof *h - QCOW2_V2_HEADER_LEN);
    h->refcount_order = 4;
    h->header_length = QCOW2_V2_HEADER_LEN;
  }
  else if (q->file_size < QCOW2_V3_HEADER_LEN)
    return ERR (q, "truncated header (file is %llu bytes)",
                (unsigned long long) q->file_size);
  if (h->header_length <= offsetof (struct qcow2_header, compression_type))
    h->compression_type = 0;
  return 0;
}

static int
check_features (struct qcow2 *q, const struct qcow2_header *h)
{
  uint64_t unknown = h->incompatible_features & ~QCOW2_INCOMPAT_KNOWN;

  if (h->crypt_method != 0)
    return ERR (q, "encrypted images are not supported (crypt method %u)",
                h->crypt_method);
  if (unknown)
    return ERR (q, "unknown incompatible feature bits 0x%llx",
                (unsigned long long) unknown);
  if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE)
    return ERR (q, "external data files are not supported");
  if ((h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION) ||
      h->compression_type != 0)
    return ERR (q, "compression type %u is not supported (only zlib)",
                h->compression_type);
  if ((h->incompatible_features & QCOW2_INCOMPAT_EXTL2) &&
      h->cluster_bits < 14)
    return ERR (q, "extended L2 entries need clusters of 16 KiB or more");
  return 0;
}

static int
check_geometry (struct qcow2 *q, const struct qcow2_header *h)
{
  if (h->cluster_bits < 9 || h->cluster_bits > 21)
    return ERR (q, "cluster_bits %u out of range 9..21", h->cluster_bits);
  if (h->version == 3 &&
      (h->header_length < QCOW2_V3_HEADER_LEN || h->header_length % 8 ||
       h->header_length > (1u << h->cluster_bits)))
    return ERR (q, "bad header length %u", h->header_length);
  if (h->refcount_order > 6)
    return ERR (q, "refcount_order %u out of range 0..6", h->refcount_order);
  if (h->size > QCOW2_MAX_VSIZE)
    return ERR (q, "virtual size %llu too large",
                (unsigned long long) h->size);
  return 0;
}

/* The header's own offsets must be aligned and inside the file. */
static int
check_region (struct qcow2 *q, const char *what, uint64_t offset,
              uint64_t len)
{
  uint64_t end;

  if (offset & (q->cluster_size - 1))
    return ERR (q, "%s offset 0x%llx not cluster-aligned", what,
                (unsigned long long) offset);
  if (ADD_OVERFLOW (offset, len, &end) || end > q->file_size)
    return ERR (q, "%s offset 0x%llx past end of file", what,
                (unsigned long long) offset);
  return 0;
}

static int
check_tables (struct qcow2 *q, const struct qcow2_header *h)
{
  uint64_t per_l1 = (uint64_t) q->cluster_size << q->l2_bits;
  uint64_t need = DIV_ROUND_UP (h->size, per_l1);

  if (h->l1_size > QCOW2_MAX_L1_BYTES / 8)
    return ERR (q, "L1 size %u too large", h->l1_size);
  if (h->l1_size < need)
    return ERR (q, "L1 size %u too small for virtual size %llu",
                h->l1_size, (unsigned long long) h->size);
  if (h->l1_size &&
      check_region (q, "L1 table", h->l1_table_offset,
                    (uint64_t) h->l1_size * 8) == -1)
    return -1;
  if (h->refcount_table_clusters == 0 ||
      (uint64_t) h->refcount_table_clusters * q->cluster_size >
      QCOW2_MAX_RT_BYTES)
    return ERR (q, "refcount table size %u clusters out of range",
                h->refcount_table_clusters);
  if (check_region (q, "refcount table", h->refcount_table_offset,
                    (uint64_t) h->refcount_table_clusters *
                    q->cluster_size) == -1)
    return -1;
  if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
    return ERR (q, "too many snapshots (%u)", h->nb_snapshots);
  if (h->nb_snapshots &&
      check_region (q, "snapshot table", h->snapshots_offset, 0) == -1)
    return -1;
  return 0;
}

static void
take_header (struct qcow2 *q, const struct qcow2_header *h)
{
  q->version = h->version;
  q->refcount_order = h->refcount_order;
  q->header_length = h->header_length;
  q->incompat = h->incompatible_features;
  q->compat = h->compatible_features;
  q->autoclear = h->autoclear_features;
  q->extl2 = (h->incompatible_features & QCOW2_INCOMPAT_EXTL2) != 0;
  q->l2_bits = h->cluster_bits - (q->extl2 ? 4 : 3);
  q->sc_bits = h->cluster_bits - 5;
  q->l1_size = h->l1_size;
  q->l1_offset = h->l1_table_offset;
  q->rt_offset = h->refcount_table_offset;
  q->rt_clusters = h->refcount_table_clusters;
  q->nb_snapshots = h->nb_snapshots;
  q->snapshots_offset = h->snapshots_offset;
  q->img.size = h->size;
}

/* Extensions sit between the header and the backing file name (or the end
 * of cluster 0).  Only the backing format matters for reading. */
static int
read_extensions (struct qcow2 *q, const struct qcow2_header *h)
{
  uint64_t end = MIN (q->cluster_size, q->file_size);
  uint64_t pos = h->header_length;
  CLEANUP_FREE uint8_t *buf = NULL;
  uint32_t type, len;

  if (h->backing_file_offset && h->backing_file_offset < end)
    end = h->backing_file_offset;
  if (end <= pos)
    return 0;
  buf = malloc (end);
  if (buf == NULL)
    return error_errno ("malloc");
  if (full_pread (q->fd, buf, end, 0, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  while (pos + 8 <= end) {
    memcpy (&type, buf + pos, 4);
    memcpy (&len, buf + pos + 4, 4);
    type = be32toh (type);
    len = be32toh (len);
    if (type == QCOW2_EXT_END)
      return 0;
    if (len > end - pos - 8)
      return ERR (q, "header extension 0x%08x overruns the header cluster",
                  type);
    if (type == QCOW2_EXT_BACKING_FORMAT && q->backing_format == NULL) {
      if (len == 0 || len > 63 || memchr (buf + pos + 8, 0, len))
        return ERR (q, "bad backing format header extension");
      q->backing_format = strndup ((char *) buf + pos + 8, len);
      if (q->backing_format == NULL)
        return error_errno ("malloc");
    }
    if (type == QCOW2_EXT_BITMAPS)
      q->has_bitmaps = true;
    pos += 8 + (((uint64_t) len + 7) & ~7ull);
  }
  return 0;
}

static int
read_backing_name (struct qcow2 *q, const struct qcow2_header *h)
{
  uint64_t off = h->backing_file_offset, end;
  uint32_t len = h->backing_file_size;

  if (off == 0)
    return 0;
  if (len > QCOW2_MAX_BACKING_NAME)
    return ERR (q, "backing file name too long (%u bytes, limit %u)",
                len, QCOW2_MAX_BACKING_NAME);
  if (len == 0)
    return ERR (q, "empty backing file name");
  if (ADD_OVERFLOW (off, (uint64_t) len, &end) || end > q->file_size)
    return ERR (q, "backing file name offset 0x%llx past end of file",
                (unsigned long long) off);
  q->backing_name = calloc (1, len + 1);
  if (q->backing_name == NULL)
    return error_errno ("malloc");
  if (full_pread (q->fd, q->backing_name, len, off, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  if (strlen (q->backing_name) != len)
    return ERR (q, "backing file name contains a NUL byte");
  return 0;
}

static int
check_l1_entry (struct qcow2 *q, uint32_t i)
{
  uint64_t off = q->l1[i] & QCOW2_OFFSET_MASK;

  if (off == 0)
    return 0;
  if (off & (q->cluster_size - 1))
    return ERR (q, "L1 entry %u: L2 table offset 0x%llx not cluster-aligned",
                i, (unsigned long long) off);
  if (off > q->file_size || q->file_size - off < q->cluster_size)
    return ERR (q, "L1 entry %u: L2 table offset 0x%llx past end of file",
                i, (unsigned long long) off);
  return 0;
}

static int
cmp_u64 (const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

  return x < y ? -1 : x > y;
}

/* QEMU never points two L1 entries at one L2 table.  Refusing it keeps
 * the work of walking the L2 tables (extents, check) bounded by the file
 * size: otherwise a few MiB of L1 could repeat one 2 MiB table 2^37 times. */
static int
check_l2_unique (struct qcow2 *q)
{
  CLEANUP_FREE uint64_t *offs = NULL;
  uint32_t i, n = 0;

  if ((offs = malloc ((q->l1_size ? q->l1_size : 1) * 8ull)) == NULL)
    return error_errno ("malloc");
  for (i = 0; i < q->l1_size; i++)
    if (q->l1[i] & QCOW2_OFFSET_MASK)
      offs[n++] = q->l1[i] & QCOW2_OFFSET_MASK;
  qsort (offs, n, sizeof *offs, cmp_u64);
  for (i = 1; i < n; i++)
    if (offs[i] == offs[i - 1])
      return ERR (q, "L2 table 0x%llx used by more than one L1 entry",
                  (unsigned long long) offs[i]);
  return 0;
}

static int
read_l1 (struct qcow2 *q)
{
  uint32_t i;

  q->l1 = calloc (q->l1_size ? q->l1_size : 1, 8);
  if (q->l1 == NULL)
    return error_errno ("malloc");
  if (q->l1_size &&
      full_pread (q->fd, q->l1, (size_t) q->l1_size * 8, q->l1_offset,
                  q->img.path) == -1)
    return error_prefix ("qcow2: ");
  for (i = 0; i < q->l1_size; i++) {
    q->l1[i] = be64toh (q->l1[i]);
    if (check_l1_entry (q, i) == -1)
      return -1;
  }
  return check_l2_unique (q);
}

int
qcow2_parse (struct qcow2 *q)
{
  struct qcow2_header h;

  if (read_header (q, &h) == -1 || check_features (q, &h) == -1 ||
      check_geometry (q, &h) == -1)
    return -1;
  q->cluster_bits = h.cluster_bits;
  q->cluster_size = 1ull << h.cluster_bits;
  take_header (q, &h);
  if (check_tables (q, &h) == -1 || read_extensions (q, &h) == -1 ||
      read_backing_name (q, &h) == -1)
    return -1;
  return read_l1 (q);
}

/* ---- backing file ----------------------------------------------------- */

static bool
is_uri (const char *name)
{
  return strncmp (name, "nbd://", 6) == 0 ||
    strncmp (name, "nbd+unix://", 11) == 0;
}

/* Relative backing names are relative to the image's own directory. */
static char *
backing_path (struct qcow2 *q)
{
  CLEANUP_FREE char *copy = NULL;

  if (q->backing_name[0] == '/' || is_uri (q->backing_name))
    return xstrdup (q->backing_name);
  copy = xstrdup (q->img.path);
  if (copy == NULL)
    return NULL;
  return xasprintf ("%s/%s", dirname (copy), q->backing_name);
}

/* A hostile header may name a FIFO or a tty, where open() would block. */
static bool
openable (const char *path)
{
  struct stat st;

  if (stat (path, &st) == -1)
    return true;              /* let open report the real error */
  return S_ISREG (st.st_mode) || S_ISBLK (st.st_mode);
}

static int
check_backing_format (struct qcow2 *q, struct image *b)
{
  const char *want = q->backing_format;

  if (want == NULL)
    return 0;
  if (strcmp (want, "vpc") == 0)
    want = "vhd";
  if (strcmp (want, image_format (b)) == 0 ||
      (strcmp (want, "raw") == 0 && strcmp (image_format (b), "nbd") == 0))
    return 0;
  if (image_format_by_name (want) == NULL)
    return ERR (q, "unsupported backing format '%s'", q->backing_format);
  return ERR (q, "backing file '%s' is %s, header says %s", b->path,
              image_format (b), q->backing_format);
}

int
qcow2_open_backing (struct qcow2 *q, unsigned depth)
{
  CLEANUP_FREE char *path = NULL;
  struct image *b;

  if (q->backing_name == NULL)
    return 0;
  if (strncmp (q->backing_name, "json:", 5) == 0)
    return ERR (q, "json: backing file names are not supported");
  path = backing_path (q);
  if (path == NULL)
    return -1;
  if (!is_uri (path) && !openable (path))
    return ERR (q, "backing file '%s' is not a regular file or block device",
                path);
  /* A raw backing is never probed: a guest could otherwise write a qcow2
   * header into it and make us read host files. */
  if (q->backing_format && strcmp (q->backing_format, "raw") == 0 &&
      !is_uri (path))
    b = raw_ops.open (path, 0, depth + 1);
  else
    b = image_open_backing (path, depth + 1);
  if (b == NULL) {
    if (depth == 0)           /* prefix once, not once per level */
      error_prefix ("qcow2: '%s': backing file: ", q->img.path);
    return -1;
  }
  q->img.backing = b;
  return check_backing_format (q, b);
}

/* qcow2-write.c: creating qcow2 v3 images and writing to them — cluster
 * allocation, copy-on-write from the backing file, and exact refcounts.
 *
 * Layout: cluster 0 header, then the L1 table, then a refcount table sized
 * for the worst case; after that L2 tables, data clusters and refcount
 * blocks are appended in the order they are needed.  Nothing is ever
 * freed, so every cluster below the end of the file has refcount 1 and
 * the refcount blocks can be generated at flush time instead of being
 * updated on every write.
 */
#include "lib/common/compat.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/qcow2.h"

#define ERR(q, fmt, ...) \
  error_set ("qcow2: '%s': " fmt, (q)->img.path, ##__VA_ARGS__)

#define CREATE_CLUSTER_BITS 16
#define CREATE_REFCOUNT_ORDER 4
#define CREATE_HEADER_LEN 112

/* A pending write of contiguous data to contiguous host clusters, so a
 * large aligned write becomes one pwrite per run, not one per cluster. */
struct run {
  uint64_t host;
  const uint8_t *p;
  size_t len;
};

/* ---- layout ----------------------------------------------------------- */

/* Refcount table clusters needed if every virtual cluster, every L2 table
 * and every refcount block were allocated: the table never has to grow. */
static uint64_t
rt_clusters_for (struct qcow2 *q, uint64_t base)
{
  uint64_t per_rb = (q->cluster_size * 8) >> q->refcount_order;
  uint64_t rtc = 1, rb = 0, prev;

  do {
    prev = rb;
    rb = DIV_ROUND_UP (base + rtc + rb, per_rb);
    rtc = DIV_ROUND_UP (rb * 8, q->cluster_size);
  } while (rb != prev);
  return rtc;
}

static int
plan_layout (struct qcow2 *q)
{
  uint64_t cs = q->cluster_size, size = q->img.size;
  uint64_t l1 = DIV_ROUND_UP (size, cs << q->l2_bits), l1c, rtc;

  if (size > QCOW2_MAX_VSIZE || l1 * 8 > QCOW2_MAX_L1_BYTES)
    return ERR (q, "virtual size %llu too large for qcow2",
                (unsigned long long) size);
  l1c = DIV_ROUND_UP (l1 * 8, cs);          /* 0 for an empty disk */
  rtc = rt_clusters_for (q, 1 + l1c + l1 + DIV_ROUND_UP (size, cs));
  if (rtc * cs > QCOW2_MAX_RT_BYTES)
    return ERR (q, "virtual size %llu too large for qcow2",
                (unsigned long long) size);
  q->l1_size = (uint32_t) l1;
  q->l1_offset = l1 ? cs : 0;
  q->rt_offset = (1 + l1c) * cs;
  q->rt_clusters = (uint32_t) rtc;
  q->file_size = (1 + l1c + rtc) * cs;
  q->rc_flushed = 0;
  return 0;
}

static void
set_geometry (struct qcow2 *q)
{
  q->version = 3;
  q->cluster_bits = CREATE_CLUSTER_BITS;
  q->cluster_size = 1ull << CREATE_CLUSTER_BITS;
  q->l2_bits = CREATE_CLUSTER_BITS - 3;
  q->refcount_order = CREATE_REFCOUNT_ORDER;
  q->header_length = CREATE_HEADER_LEN;
}

/* ---- header ----------------------------------------------------------- */

static size_t
put_extension (uint8_t *buf, size_t pos, uint32_t type, const char *data,
               uint32_t len)
{
  uint32_t be_type = htobe32 (type), be_len = htobe32 (len);

  memcpy (buf + pos, &be_type, 4);
  memcpy (buf + pos + 4, &be_len, 4);
  memcpy (buf + pos + 8, data, len);
  return pos + 8 + ((len + 7u) & ~7u);
}

static void
fill_header (struct qcow2 *q, struct qcow2_header *h)
{
  memset (h, 0, sizeof *h);
  h->magic = htobe32 (QCOW2_MAGIC);
  h->version = htobe32 (q->version);
  h->cluster_bits = htobe32 (q->cluster_bits);
  h->size = htobe64 (q->img.size);
  h->l1_size = htobe32 (q->l1_size);
  h->l1_table_offset = htobe64 (q->l1_offset);
  h->refcount_table_offset = htobe64 (q->rt_offset);
  h->refcount_table_clusters = htobe32 (q->rt_clusters);
  h->refcount_order = htobe32 (q->refcount_order);
  h->header_length = htobe32 (q->header_length);
}

static int
write_header (struct qcow2 *q)
{
  CLEANUP_FREE uint8_t *buf = calloc (1, q->cluster_size);
  struct qcow2_header h;
  size_t pos = CREATE_HEADER_LEN, len;

  if (buf == NULL)
    return error_errno ("malloc");
  fill_header (q, &h);
  if (q->backing_format)
    pos = put_extension (buf, pos, QCOW2_EXT_BACKING_FORMAT,
                         q->backing_format,
                         (uint32_t) strlen (q->backing_format));
  pos += 8;                                   /* end-of-extensions marker */
  if (q->backing_name) {
    len = strlen (q->backing_name);
    h.backing_file_offset = htobe64 (pos);
    h.backing_file_size = htobe32 ((uint32_t) len);
    memcpy (buf + pos, q->backing_name, len);  /* fits: len <= 1023 */
  }
  memcpy (buf, &h, sizeof h);
  if (full_pwrite (q->fd, buf, q->cluster_size, 0, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  return 0;
}

/* ---- backing ---------------------------------------------------------- */

/* QEMU names VHD "vpc"; write the name QEMU understands. */
static const char *
qemu_format_name (const char *fmt)
{
  if (strcmp (fmt, "vhd") == 0)
    return "vpc";
  if (strcmp (fmt, "nbd") == 0)
    return "raw";
  return fmt;
}

static int
create_backing (struct qcow2 *q, const struct image_create_opts *opts)
{
  if (opts->backing == NULL)
    return 0;
  if (strlen (opts->backing) > QCOW2_MAX_BACKING_NAME)
    return ERR (q, "backing file name too long (limit %u bytes)",
                QCOW2_MAX_BACKING_NAME);
  q->backing_name = xstrdup (opts->backing);
  if (q->backing_name == NULL)
    return -1;
  if (opts->backing_format) {
    if (strlen (opts->backing_format) > 63)
      return ERR (q, "backing format name too long");
    q->backing_format = xstrdup (qemu_format_name (opts->backing_format));
    if (q->backing_format == NULL)
      return -1;
  }
  if (qcow2_open_backing (q, 0) == -1)
    return -1;
  if (q->backing_format == NULL) {
    q->backing_format =
      xstrdup (qemu_format_name (image_format (q->img.backing)));
    if (q->backing_format == NULL)
      return -1;
  }
  return 0;
}

/* ---- create ----------------------------------------------------------- */

static int
create_tables (struct qcow2 *q)
{
  q->l1 = calloc (q->l1_size ? q->l1_size : 1, 8);
  q->rt = calloc ((size_t) q->rt_clusters * q->cluster_size / 8, 8);
  q->cow = malloc (q->cluster_size);
  if (q->l1 == NULL || q->rt == NULL || q->cow == NULL)
    return error_errno ("malloc");
  q->l1_dirty = true;
  return 0;
}

static int
create_file (struct qcow2 *q)
{
  q->fd = open (q->img.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (q->fd == -1)
    return error_errno ("qcow2: '%s'", q->img.path);
  if (write_header (q) == -1)
    return -1;
  /* The L1 and refcount tables read as zeros until the first flush. */
  if (ftruncate (q->fd, (off_t) q->file_size) == -1)
    return error_errno ("qcow2: '%s': truncate", q->img.path);
  return 0;
}

struct image *
qcow2_create (const char *path, uint64_t size,
              const struct image_create_opts *opts)
{
  struct qcow2 *q = calloc (1, sizeof *q);
  bool created = false;

  if (q == NULL)
    return error_errno ("malloc"), NULL;
  q->fd = -1;
  /* QEMU counts the virtual size in 512-byte sectors. */
  if (round_up_overflow (size, 512, &size))
    size = UINT64_MAX;
  if (image_init (&q->img, &qcow2_ops, path, size, true) == -1)
    goto err;
  set_geometry (q);
  if (plan_layout (q) == -1 || create_backing (q, opts) == -1 ||
      create_tables (q) == -1)
    goto err;
  if (create_file (q) == -1) {
    created = q->fd >= 0;
    goto err;
  }
  return &q->img;

 err:
  if (created)
    unlink (path);
  qcow2_free (q);
  return NULL;
}

/* ---- allocation ------------------------------------------------------- */

static int
alloc_cluster (struct qcow2 *q, uint64_t *host)
{
  if (q->file_size > QCOW2_MAX_HOST - q->cluster_size)
    return ERR (q, "image file would exceed %llu bytes",
                (unsigned long long) QCOW2_MAX_HOST);
  *host = q->file_size;
  q->file_size += q->cluster_size;
  return 0;
}

/* The L2 entry for a virtual offset, allocating its L2 table if needed.
 * The pointer stays valid until the next cache operation. */
static int
l2_entry_for_write (struct qcow2 *q, uint64_t offset, uint64_t **ep,
                    struct qcow2_l2_slot **slot)
{
  uint64_t cluster = offset >> q->cluster_bits;
  uint64_t l1i = cluster >> q->l2_bits;
  uint64_t l2i = cluster & (qcow2_l2_entries (q) - 1);
  uint64_t l2off = q->l1[l1i] & QCOW2_OFFSET_MASK;
  struct qcow2_l2_slot *s;

  if (l2off) {
    if (qcow2_l2_get (q, l2off, &s) == -1)
      return -1;
  }
  else {
    if (alloc_cluster (q, &l2off) == -1 || qcow2_l2_evict (q, &s) == -1)
      return -1;
    memset (s->table, 0, q->cluster_size);
    s->offset = l2off;
    s->dirty = true;
    q->l1[l1i] = l2off | QCOW2_OFLAG_COPIED;
    q->l1_dirty = true;
  }
  *ep = &s->table[l2i];
  *slot = s;
  return 0;
}

static int
run_flush (struct qcow2 *q, struct run *r)
{
  int ret = 0;

  if (r->len && full_pwrite (q->fd, r->p, r->len, r->host, q->img.path) == -1)
    ret = error_prefix ("qcow2: ");
  r->len = 0;
  return ret;
}

static int
run_add (struct qcow2 *q, struct run *r, uint64_t host, const uint8_t *p,
         size_t n)
{
  if (r->len && r->host + r->len == host && r->p + r->len == p) {
    r->len += n;
    return 0;
  }
  if (run_flush (q, r) == -1)
    return -1;
  *r = (struct run) { .host = host, .p = p, .len = n };
  return 0;
}

/* A partial write to a cluster that is not allocated yet: the rest of the
 * cluster comes from what it read as before — the backing, or zeros. */
static int
write_cow (struct qcow2 *q, uint64_t e, uint64_t host, const uint8_t *p,
           size_t n, uint64_t offset)
{
  uint64_t in = offset & (q->cluster_size - 1), cl = offset - in;
  size_t vlen = (size_t) MIN (q->cluster_size, q->img.size - cl);

  if (e & QCOW2_OFLAG_ZERO)
    memset (q->cow, 0, vlen);
  else if (qcow2_read_backing (q, q->cow, vlen, cl) == -1)
    return -1;
  memset (q->cow + vlen, 0, q->cluster_size - vlen);
  memcpy (q->cow + in, p, n);
  if (full_pwrite (q->fd, q->cow, q->cluster_size, host, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  return 0;
}

static int
write_cluster (struct qcow2 *q, const uint8_t *p, size_t n, uint64_t offset,
               struct run *r)
{
  uint64_t in = offset & (q->cluster_size - 1), *ep, host;
  bool whole = in == 0 && (n == q->cluster_size || offset + n == q->img.size);
  bool reads_zero;
  struct qcow2_l2_slot *s;

  if (l2_entry_for_write (q, offset, &ep, &s) == -1)
    return -1;
  if (*ep & QCOW2_OFLAG_COMPRESSED)
    return ERR (q, "cannot write to a compressed cluster");
  host = *ep & QCOW2_OFFSET_MASK;
  if (host)
    return run_add (q, r, host + in, p, n);
  reads_zero = (*ep & QCOW2_OFLAG_ZERO) || q->img.backing == NULL;
  if (is_zero (p, n) && (reads_zero || whole)) {
    /* Over a backing, a zero flag hides the backing's data for free. */
    if (!reads_zero) {
      *ep = QCOW2_OFLAG_ZERO;
      s->dirty = true;
    }
    return 0;
  }
  if (alloc_cluster (q, &host) == -1)
    return -1;
  if (whole ? run_add (q, r, host, p, n) == -1
      : write_cow (q, *ep, host, p, n, offset) == -1)
    return -1;
  *ep = host | QCOW2_OFLAG_COPIED;
  s->dirty = true;
  return 0;
}

int
qcow2_pwrite (struct image *img, const void *buf, size_t count,
              uint64_t offset)
{
  struct qcow2 *q = (struct qcow2 *) img;
  const uint8_t *p = buf;
  struct run r = { 0 };
  size_t n;

  while (count > 0) {
    n = (size_t) MIN ((uint64_t) count,
                      q->cluster_size - (offset & (q->cluster_size - 1)));
    if (write_cluster (q, p, n, offset, &r) == -1) {
      run_flush (q, &r);
      return -1;
    }
    p += n;
    offset += n;
    count -= n;
  }
  return run_flush (q, &r);
}

/* ---- flush: L2s, L1, refcounts ---------------------------------------- */

static int
write_table (struct qcow2 *q, const uint64_t *t, size_t n, uint64_t off)
{
  CLEANUP_FREE uint64_t *be = malloc (n ? n * 8 : 1);
  size_t i;

  if (be == NULL)
    return error_errno ("malloc");
  for (i = 0; i < n; i++)
    be[i] = htobe64 (t[i]);
  if (full_pwrite (q->fd, be, n * 8, off, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  return 0;
}

/* Give every range of refcount_block_entries clusters below the end of
 * the file a refcount block; blocks allocated here need covering too. */
static int
alloc_refcount_blocks (struct qcow2 *q)
{
  uint64_t per_rb = (q->cluster_size * 8) >> q->refcount_order;
  uint64_t rt_len = (uint64_t) q->rt_clusters * q->cluster_size / 8, i, need;
  bool more = true;

  while (more) {
    more = false;
    need = DIV_ROUND_UP (q->file_size >> q->cluster_bits, per_rb);
    if (need > rt_len)
      return ERR (q, "refcount table full");
    for (i = 0; i < need; i++)
      if (q->rt[i] == 0) {
        if (alloc_cluster (q, &q->rt[i]) == -1)
          return -1;
        more = true;
      }
  }
  return 0;
}

/* Refcount blocks are 16-bit (refcount_order 4): 1 below the end. */
static int
write_refcount_blocks (struct qcow2 *q)
{
  uint64_t per_rb = (q->cluster_size * 8) >> q->refcount_order;
  uint64_t used = q->file_size >> q->cluster_bits, i, j, c;
  CLEANUP_FREE uint16_t *blk = malloc (q->cluster_size);

  if (blk == NULL)
    return error_errno ("malloc");
  for (i = q->rc_flushed / per_rb; i < DIV_ROUND_UP (used, per_rb); i++) {
    for (j = 0; j < per_rb; j++) {
      c = i * per_rb + j;
      blk[j] = htobe16 (c < used ? 1 : 0);
    }
    if (full_pwrite (q->fd, blk, q->cluster_size, q->rt[i],
                     q->img.path) == -1)
      return error_prefix ("qcow2: ");
  }
  q->rc_flushed = used;
  return 0;
}

static int
write_metadata (struct qcow2 *q)
{
  unsigned i;

  for (i = 0; i < QCOW2_L2_SLOTS; i++)
    if (q->l2[i].offset && q->l2[i].dirty &&
        qcow2_l2_write (q, &q->l2[i]) == -1)
      return -1;
  if (q->l1_dirty &&
      write_table (q, q->l1, q->l1_size, q->l1_offset) == -1)
    return -1;
  q->l1_dirty = false;
  if (alloc_refcount_blocks (q) == -1 || write_refcount_blocks (q) == -1)
    return -1;
  return write_table (q, q->rt,
                      (size_t) q->rt_clusters * q->cluster_size / 8,
                      q->rt_offset);
}

int
qcow2_flush (struct image *img)
{
  struct qcow2 *q = (struct qcow2 *) img;
  struct stat st;

  if (write_metadata (q) == -1)
    return -1;
  /* A short last data cluster must not leave the file short of the
   * clusters the refcounts say are in use. */
  if (fstat (q->fd, &st) == -1)
    return error_errno ("qcow2: '%s': stat", img->path);
  if ((uint64_t) st.st_size < q->file_size &&
      ftruncate (q->fd, (off_t) q->file_size) == -1)
    return error_errno ("qcow2: '%s': truncate", img->path);
  if (fsync (q->fd) == -1)
    return error_errno ("qcow2: '%s': fsync", img->path);
  return 0;
}

/* qcow2.c: the qcow2 driver's vtable — probing, opening and validating
 * versions 2 and 3, reads through L1/L2 (standard, zero, compressed and
 * extended-L2 clusters), backing files, extents and `ferry info`.
 * Writing lives in qcow2-write.c, `ferry check` in qcow2-check.c.
 */
#include "lib/common/compat.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/qcow2.h"

#define ERR(q, fmt, ...) \
  error_set ("qcow2: '%s': " fmt, (q)->img.path, ##__VA_ARGS__)

static bool
qcow2_probe (const uint8_t *head, size_t head_len,
             const uint8_t *tail, size_t tail_len, uint64_t file_size)
{
  (void) tail;
  (void) tail_len;
  (void) file_size;
  return head_len >= 4 && memcmp (head, "QFI\xfb", 4) == 0;
}

uint64_t
qcow2_l2_entries (const struct qcow2 *q)
{
  return 1ull << q->l2_bits;
}

/* ---- backing reads ------------------------------------------------- */

/* Reads of unallocated clusters: the backing's data, zeros past its end. */
int
qcow2_read_backing (struct qcow2 *q, void *buf, size_t count,
                    uint64_t offset)
{
  struct image *b = q->img.backing;
  size_t n = 0;

  if (b && offset < b->size) {
    n = (size_t) MIN ((uint64_t) count, b->size - offset);
    if (image_pread (b, buf, n, offset) == -1)
      return -1;
  }
  memset ((uint8_t *) buf + n, 0, count - n);
  return 0;
}

/* ---- open / close ----------------------------------------------------- */

void
qcow2_free (struct qcow2 *q)
{
  unsigned i;

  if (q == NULL)
    return;
  for (i = 0; i < QCOW2_L2_SLOTS; i++)
    free (q->l2[i].table);
  free (q->l1);
  free (q->rt);
  free (q->cbuf);
  free (q->cow);
  free (q->backing_name);
  free (q->backing_format);
  if (q->fd >= 0)
    close (q->fd);
  image_fini (&q->img);
  free (q);
}

static struct image *
qcow2_open (const char *path, unsigned flags, unsigned depth)
{
  struct qcow2 *q;
  struct stat st;

  if (flags & IMAGE_OPEN_RDWR)
    return error_set ("qcow2: '%s': writing to existing qcow2 images is "
                      "not supported", path), NULL;
  q = calloc (1, sizeof *q);
  if (q == NULL)
    return error_errno ("malloc"), NULL;
  q->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (q->fd == -1 || fstat (q->fd, &st) == -1) {
    error_errno ("qcow2: '%s'", path);
    goto err;
  }
  if (image_init (&q->img, &qcow2_ops, path, 0, false) == -1)
    goto err;
  q->file_size = (uint64_t) st.st_size;
  if (qcow2_parse (q) == -1 || qcow2_open_backing (q, depth) == -1)
    goto err;
  return &q->img;

 err:
  qcow2_free (q);
  return NULL;
}

static int
qcow2_close (struct image *img)
{
  struct qcow2 *q = (struct qcow2 *) img;
  int ret = 0;

  if (img->writable && qcow2_flush (img) == -1)
    ret = -1;
  if (q->fd >= 0 && close (q->fd) == -1 && ret == 0)
    ret = error_errno ("qcow2: '%s': close", img->path);
  q->fd = -1;
  qcow2_free (q);
  return ret;
}

/* ---- L2 cache --------------------------------------------------------- */

int
qcow2_l2_write (struct qcow2 *q, struct qcow2_l2_slot *s)
{
  uint64_t n = q->cluster_size / 8, i;
  CLEANUP_FREE uint64_t *be = malloc (q->cluster_size);

  if (be == NULL)
    return error_errno ("malloc");
  for (i = 0; i < n; i++)
    be[i] = htobe64 (s->table[i]);
  if (full_pwrite (q->fd, be, q->cluster_size, s->offset, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  s->dirty = false;
  return 0;
}

/* Free a slot (least recently used), writing it back if dirty. */
int
qcow2_l2_evict (struct qcow2 *q, struct qcow2_l2_slot **slot)
{
  struct qcow2_l2_slot *s = &q->l2[0];
  unsigned i;

  for (i = 1; i < QCOW2_L2_SLOTS && s->offset; i++)
    if (q->l2[i].offset == 0 || q->l2[i].last_use < s->last_use)
      s = &q->l2[i];
  if (s->dirty && qcow2_l2_write (q, s) == -1)
    return -1;
  s->offset = 0;
  if (s->table == NULL && (s->table = malloc (q->cluster_size)) == NULL)
    return error_errno ("malloc");
  s->last_use = ++q->l2_clock;
  q->l2_last = (unsigned) (s - q->l2);
  *slot = s;
  return 0;
}

static int
l2_load (struct qcow2 *q, uint64_t offset, struct qcow2_l2_slot *s)
{
  uint64_t n = q->cluster_size / 8, i;

  if (offset > q->file_size || q->file_size - offset < q->cluster_size)
    return ERR (q, "L2 table offset 0x%llx past end of file",
                (unsigned long long) offset);
  if (full_pread (q->fd, s->table, q->cluster_size, offset,
                  q->img.path) == -1)
    return error_prefix ("qcow2: ");
  for (i = 0; i < n; i++)
    s->table[i] = be64toh (s->table[i]);
  s->offset = offset;
  return 0;
}

int
qcow2_l2_get (struct qcow2 *q, uint64_t offset, struct qcow2_l2_slot **slot)
{
  struct qcow2_l2_slot *s = &q->l2[q->l2_last];
  unsigned i;

  if (s->offset != offset) {
    for (i = 0, s = NULL; i < QCOW2_L2_SLOTS; i++)
      if (q->l2[i].offset == offset) {
        s = &q->l2[i];
        q->l2_last = i;
        break;
      }
  }
  if (s == NULL) {
    if (qcow2_l2_evict (q, &s) == -1 || l2_load (q, offset, s) == -1)
      return -1;
  }
  s->last_use = ++q->l2_clock;
  *slot = s;
  return 0;
}

/* ---- mapping ---------------------------------------------------------- */

void
qcow2_compressed_range (const struct qcow2 *q, uint64_t desc,
                        uint64_t *offset, uint64_t *len)
{
  unsigned x = 62 - (q->cluster_bits - 8);
  uint64_t sectors = ((desc >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;

  *offset = desc & ((1ull << x) - 1);
  *len = sectors * 512 - (*offset & 511);
}

static int
check_host (struct qcow2 *q, uint64_t guest, uint64_t host)
{
  if (host & (q->cluster_size - 1))
    return ERR (q, "L2 entry for guest offset 0x%llx: cluster offset 0x%llx "
                "not cluster-aligned", (unsigned long long) guest,
                (unsigned long long) host);
  if (host >= q->file_size)
    return ERR (q, "L2 entry for guest offset 0x%llx: cluster offset 0x%llx "
                "past end of file", (unsigned long long) guest,
                (unsigned long long) host);
  return 0;
}

/* Classify one standard (non-extended) L2 entry. */
static int
classify (struct qcow2 *q, uint64_t guest, uint64_t e, struct qcow2_map *m)
{
  uint64_t off, len;

  m->host = 0;
  m->desc = e;
  if (e & QCOW2_OFLAG_COMPRESSED) {
    qcow2_compressed_range (q, e, &off, &len);
    m->kind = QCOW2_COMPRESSED;
    if (off >= q->file_size)
      return ERR (q, "compressed cluster for guest offset 0x%llx at 0x%llx "
                  "past end of file", (unsigned long long) guest,
                  (unsigned long long) off);
    return 0;
  }
  if (e & QCOW2_OFLAG_ZERO) {
    m->kind = QCOW2_ZERO;
    return 0;
  }
  m->host = e & QCOW2_OFFSET_MASK;
  m->kind = m->host ? QCOW2_DATA : QCOW2_UNALLOCATED;
  return m->host ? check_host (q, guest, m->host) : 0;
}

/* Extended L2: one cluster at most, split at subcluster boundaries. */
static int
map_extended (struct qcow2 *q, uint64_t offset, uint64_t max_len,
              const uint64_t *ent, struct qcow2_map *m)
{
  uint64_t in = offset & (q->cluster_size - 1), sc_size = 1ull << q->sc_bits;
  uint64_t bmp = ent[1], cl = offset - in;
  unsigned sc = (unsigned) (in >> q->sc_bits), i;
  enum qcow2_kind kind = QCOW2_UNALLOCATED, k;

  if (ent[0] & QCOW2_OFLAG_COMPRESSED) {
    if (classify (q, cl, ent[0], m) == -1)
      return -1;
    m->len = MIN (max_len, q->cluster_size - in);
    return 0;
  }
  m->desc = ent[0];
  m->host = ent[0] & QCOW2_OFFSET_MASK;
  for (i = sc; i < 32; i++) {
    bool alloc = bmp & (1ull << i), zero = bmp & (1ull << (32 + i));
    if (alloc && zero)
      return ERR (q, "L2 entry for guest offset 0x%llx: subcluster %u both "
                  "allocated and zero", (unsigned long long) cl, i);
    k = alloc ? QCOW2_DATA : zero ? QCOW2_ZERO : QCOW2_UNALLOCATED;
    if (i == sc)
      kind = k;
    else if (k != kind)
      break;
  }
  if (kind == QCOW2_DATA) {
    if (m->host == 0)
      return ERR (q, "L2 entry for guest offset 0x%llx: allocated subcluster "
                  "without a cluster offset", (unsigned long long) cl);
    if (check_host (q, cl, m->host) == -1)
      return -1;
    m->host += in;
  }
  m->kind = kind;
  m->len = MIN (max_len, ((uint64_t) i * sc_size) - in);
  return 0;
}

/* Extend a standard mapping over following entries of the same kind (and
 * contiguous host clusters) so big reads and extents take few steps. */
static void
map_extend (struct qcow2 *q, uint64_t guest, const uint64_t *t, uint64_t l2i,
            uint64_t max_len, struct qcow2_map *m)
{
  uint64_t n = qcow2_l2_entries (q), i;
  struct qcow2_map next;

  for (i = l2i + 1; i < n && m->len < max_len; i++) {
    guest += q->cluster_size;
    if (classify (q, guest, t[i], &next) == -1 || next.kind != m->kind ||
        m->kind == QCOW2_COMPRESSED ||
        (m->kind == QCOW2_DATA && next.host != m->host + m->len))
      break;
    m->len += q->cluster_size;
  }
  m->len = MIN (m->len, max_len);
}

int
qcow2_map (struct qcow2 *q, uint64_t offset, uint64_t max_len,
           struct qcow2_map *m)
{
  uint64_t in = offset & (q->cluster_size - 1);
  uint64_t cluster = offset >> q->cluster_bits;
  uint64_t l1i = cluster >> q->l2_bits;
  uint64_t l2i = cluster & (qcow2_l2_entries (q) - 1);
  uint64_t l2off = l1i < q->l1_size ? q->l1[l1i] & QCOW2_OFFSET_MASK : 0;
  struct qcow2_l2_slot *s;

  if (l2off == 0) {
    m->kind = QCOW2_UNALLOCATED;
    m->len = MIN (max_len,
                  ((qcow2_l2_entries (q) - l2i) << q->cluster_bits) - in);
    return 0;
  }
  if (qcow2_l2_get (q, l2off, &s) == -1)
    return -1;
  if (q->extl2)
    return map_extended (q, offset, max_len, &s->table[2 * l2i], m);
  if (classify (q, offset - in, s->table[l2i], m) == -1)
    return -1;
  if (m->kind == QCOW2_DATA)
    m->host += in;
  m->len = q->cluster_size - in;
  map_extend (q, offset - in, s->table, l2i, max_len, m);
  return 0;
}

/* ---- reading ---------------------------------------------------------- */

/* Data clusters may end past EOF (the file was never padded): read
 * what is there, zeros after. */
static int
read_host (struct qcow2 *q, void *buf, size_t count, uint64_t host)
{
  size_t n = 0;

  if (host < q->file_size)
    n = (size_t) MIN ((uint64_t) count, q->file_size - host);
  if (n && full_pread (q->fd, buf, n, host, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  memset ((uint8_t *) buf + n, 0, count - n);
  return 0;
}

static int
inflate_cluster (struct qcow2 *q, const uint8_t *in, size_t in_len,
                 uint64_t off)
{
  z_stream z;
  int r;

  memset (&z, 0, sizeof z);
  /* Raw deflate with a 4 KiB window, as QEMU writes it. */
  if (inflateInit2 (&z, -12) != Z_OK)
    return ERR (q, "zlib initialisation failed");
  z.next_in = (Bytef *) in;
  z.avail_in = (uInt) in_len;
  z.next_out = q->cbuf;
  z.avail_out = (uInt) q->cluster_size;
  r = inflate (&z, Z_FINISH);
  inflateEnd (&z);
  /* The stream may stop mid-sector: a full cluster of output is success. */
  if ((r != Z_STREAM_END && r != Z_BUF_ERROR) || z.avail_out != 0)
    return ERR (q, "compressed cluster at 0x%llx: corrupt deflate data",
                (unsigned long long) off);
  return 0;
}

static int
decompress (struct qcow2 *q, uint64_t desc)
{
  CLEANUP_FREE uint8_t *in = NULL;
  uint64_t off, len;
  size_t n;

  if (q->cbuf_desc == desc)
    return 0;
  q->cbuf_desc = 0;
  if (q->cbuf == NULL && (q->cbuf = malloc (q->cluster_size)) == NULL)
    return error_errno ("malloc");
  qcow2_compressed_range (q, desc, &off, &len);
  if (off >= q->file_size)
    return ERR (q, "compressed cluster at 0x%llx past end of file",
                (unsigned long long) off);
  /* len <= 2 clusters by construction of the descriptor. */
  n = (size_t) MIN (len, q->file_size - off);
  in = malloc (n);
  if (in == NULL)
    return error_errno ("malloc");
  if (full_pread (q->fd, in, n, off, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  if (inflate_cluster (q, in, n, off) == -1)
    return -1;
  q->cbuf_desc = desc;
  return 0;
}

static int
read_mapped (struct qcow2 *q, const struct qcow2_map *m, uint8_t *buf,
             uint64_t offset)
{
  size_t n = (size_t) m->len;

  switch (m->kind) {
  case QCOW2_UNALLOCATED:
    return qcow2_read_backing (q, buf, n, offset);
  case QCOW2_ZERO:
    memset (buf, 0, n);
    return 0;
  case QCOW2_DATA:
    return read_host (q, buf, n, m->host);
  case QCOW2_COMPRESSED:
    if (decompress (q, m->desc) == -1)
      return -1;
    memcpy (buf, q->cbuf + (offset & (q->cluster_size - 1)), n);
    return 0;
  }
  return ERR (q, "internal error: bad mapping");
}

int
qcow2_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct qcow2 *q = (struct qcow2 *) img;
  uint8_t *p = buf;
  struct qcow2_map m;

  while (count > 0) {
    if (qcow2_map (q, offset, count, &m) == -1 ||
        read_mapped (q, &m, p, offset) == -1)
      return -1;
    p += m.len;
    offset += m.len;
    count -= (size_t) m.len;
  }
  return 0;
}

/* Unallocated ranges take the backing's extent types, so a copy of an
 * overlay flattens the chain; past the backing's end they are holes. */
static int
backing_extents (struct qcow2 *q, uint64_t offset, uint64_t len,
                 extent_vector *out)
{
  struct image *b = q->img.backing;
  uint64_t n = 0;

  if (b && offset < b->size) {
    n = MIN (len, b->size - offset);
    if (image_extents (b, offset, n, out) == -1)
      return -1;
  }
  return extent_add (out, offset + n, len - n, EXTENT_HOLE);
}

int
qcow2_extents (struct image *img, uint64_t offset, uint64_t length,
               extent_vector *out)
{
  struct qcow2 *q = (struct qcow2 *) img;
  struct qcow2_map m;
  int r;

  while (length > 0) {
    if (qcow2_map (q, offset, length, &m) == -1)
      return -1;
    if (m.kind == QCOW2_UNALLOCATED)
      r = backing_extents (q, offset, m.len, out);
    else
      r = extent_add (out, offset, m.len,
                      m.kind == QCOW2_ZERO ? EXTENT_ZERO : EXTENT_DATA);
    if (r == -1)
      return -1;
    offset += m.len;
    length -= m.len;
  }
  return 0;
}

/* ---- info ------------------------------------------------------------- */

static int
qcow2_info (struct image *img, struct strbuf *out)
{
  struct qcow2 *q = (struct qcow2 *) img;

  if (strbuf_addf (out, "version\t%u\ncompat\t%s\ncluster_size\t%llu\n"
                   "refcount_bits\t%u\n", q->version,
                   q->version == 2 ? "0.10" : "1.1",
                   (unsigned long long) q->cluster_size,
                   1u << q->refcount_order) == -1)
    return -1;
  if (q->backing_name &&
      strbuf_addf (out, "backing\t%s\n", q->backing_name) == -1)
    return -1;
  if (q->backing_format &&
      strbuf_addf (out, "backing_format\t%s\n", q->backing_format) == -1)
    return -1;
  return strbuf_addf (out, "compat_features\t0x%llx\n"
                      "incompat_features\t0x%llx\n"
                      "autoclear_features\t0x%llx\n"
                      "lazy_refcounts\t%s\nextended_l2\t%s\n"
                      "dirty\t%s\ncorrupt\t%s\nsnapshots\t%u\n",
                      (unsigned long long) q->compat,
                      (unsigned long long) q->incompat,
                      (unsigned long long) q->autoclear,
                      q->compat & 1 ? "yes" : "no", q->extl2 ? "yes" : "no",
                      q->incompat & QCOW2_INCOMPAT_DIRTY ? "yes" : "no",
                      q->incompat & QCOW2_INCOMPAT_CORRUPT ? "yes" : "no",
                      q->nb_snapshots);
}

const struct image_ops qcow2_ops = {
  .name = "qcow2",
  .probe = qcow2_probe,
  .open = qcow2_open,
  .create = qcow2_create,
  .pread = qcow2_pread,
  .pwrite = qcow2_pwrite,
  .extents = qcow2_extents,
  .flush = qcow2_flush,
  .close = qcow2_close,
  .check = qcow2_check,
  .info = qcow2_info,
};

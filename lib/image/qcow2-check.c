/* qcow2-check.c: `ferry check` for qcow2 — validates every L1, L2 and
 * refcount table entry, recounts references to every host cluster from the
 * header, tables, snapshots and data, and compares the counts with the
 * stored refcounts, reporting leaks and mismatches as qemu-img check does.
 */
#include "lib/common/compat.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/qcow2.h"

#define MAX_LINES 100                /* a hostile image has no end of problems */
#define CHUNK_BITS 16                /* reference counters per allocation */
#define MAX_CHECK_CLUSTERS (1ull << 28)
#define MAX_SNAPSHOT_L1_ENTRIES (64ull * 1024 * 1024)
#define SNAPSHOT_ENTRY_LEN 40
#define MAX_SNAPSHOT_EXTRA 1024

struct checker {
  struct qcow2 *q;
  struct strbuf *report;
  uint64_t problems;
  uint64_t nb_clusters;          /* clusters in the file */
  uint16_t **chunks;             /* computed references, saturating */
  uint64_t snapshot_l1_entries;  /* work done on snapshots so far */
  uint64_t budget;               /* L2 entries we are still willing to walk */
};

/* The active L1 has distinct L2 tables (checked at open), so walking it
 * costs at most file_size / 8 entries; snapshots may share L2 tables many
 * times over, so they get a fixed allowance on top. */
#define SNAPSHOT_BUDGET (1ull << 26)

static void __attribute__ ((format (printf, 2, 3)))
problem (struct checker *c, const char *fmt, ...)
{
  char line[256];
  va_list ap;

  if (++c->problems > MAX_LINES)
    return;
  va_start (ap, fmt);
  vsnprintf (line, sizeof line, fmt, ap);
  va_end (ap);
  strbuf_addf (c->report, "%s\n", line);
}

/* ---- reference counting ---------------------------------------------- */

static int
ref_cluster (struct checker *c, uint64_t cluster)
{
  uint16_t **chunk = &c->chunks[cluster >> CHUNK_BITS];
  uint16_t *n;

  if (*chunk == NULL &&
      (*chunk = calloc (1u << CHUNK_BITS, sizeof **chunk)) == NULL)
    return error_errno ("malloc");
  n = &(*chunk)[cluster & ((1u << CHUNK_BITS) - 1)];
  if (*n < UINT16_MAX)
    (*n)++;
  return 0;
}

static uint64_t
refs_of (struct checker *c, uint64_t cluster)
{
  uint16_t *chunk = c->chunks[cluster >> CHUNK_BITS];

  return chunk ? chunk[cluster & ((1u << CHUNK_BITS) - 1)] : 0;
}

/* Count a byte range of the file; report it once if it leaves the file. */
static int
ref_range (struct checker *c, uint64_t off, uint64_t len, const char *what)
{
  unsigned cb = c->q->cluster_bits;
  uint64_t first = off >> cb, last, i;

  if (len == 0)
    return 0;
  last = (off + len - 1) >> cb;
  if (last >= c->nb_clusters) {
    problem (c, "%s at 0x%llx past end of file", what,
             (unsigned long long) off);
    last = c->nb_clusters ? c->nb_clusters - 1 : 0;
    if (first > last)
      return 0;
  }
  for (i = first; i <= last; i++)
    if (ref_cluster (c, i) == -1)
      return -1;
  return 0;
}

/* A table pointer: cluster-aligned, one whole cluster inside the file. */
static bool
good_cluster (struct checker *c, uint64_t off, const char *what,
              unsigned long long index)
{
  if (off & (c->q->cluster_size - 1)) {
    problem (c, "%s %llu: offset 0x%llx not cluster-aligned", what, index,
             (unsigned long long) off);
    return false;
  }
  if ((off >> c->q->cluster_bits) >= c->nb_clusters ||
      c->q->file_size - off < c->q->cluster_size) {
    problem (c, "%s %llu: offset 0x%llx past end of file", what, index,
             (unsigned long long) off);
    return false;
  }
  return true;
}

/* ---- L1 / L2 ---------------------------------------------------------- */

static int
check_compressed (struct checker *c, uint64_t e, uint64_t guest)
{
  uint64_t off, len;

  qcow2_compressed_range (c->q, e, &off, &len);
  if (off >= c->q->file_size) {
    problem (c, "compressed cluster for guest offset 0x%llx at 0x%llx past "
             "end of file", (unsigned long long) guest,
             (unsigned long long) off);
    return 0;
  }
  return ref_range (c, off, len, "compressed cluster");
}

static int
check_data (struct checker *c, uint64_t e, uint64_t guest)
{
  uint64_t off = e & QCOW2_OFFSET_MASK;

  if (e & (c->q->extl2 ? QCOW2_L2_RESERVED | 1 : QCOW2_L2_RESERVED))
    problem (c, "L2 entry for guest offset 0x%llx has reserved bits set",
             (unsigned long long) guest);
  if (off == 0)
    return 0;
  if (off & (c->q->cluster_size - 1)) {
    problem (c, "data cluster for guest offset 0x%llx: offset 0x%llx not "
             "cluster-aligned", (unsigned long long) guest,
             (unsigned long long) off);
    return 0;
  }
  /* Unlike tables, a data cluster may be cut short by the end of file
   * (subclusters written, or a file never padded). */
  if (off >= c->q->file_size) {
    problem (c, "data cluster for guest offset 0x%llx: offset 0x%llx past "
             "end of file", (unsigned long long) guest,
             (unsigned long long) off);
    return 0;
  }
  return ref_cluster (c, off >> c->q->cluster_bits);
}

static int
check_l2_entry (struct checker *c, const uint64_t *ent, uint64_t guest)
{
  uint64_t bmp;

  if (ent[0] & QCOW2_OFLAG_COMPRESSED)
    return check_compressed (c, ent[0], guest);
  if (c->q->extl2) {
    bmp = ent[1];
    if ((bmp & 0xffffffffull) & (bmp >> 32))
      problem (c, "L2 entry for guest offset 0x%llx: subclusters both "
               "allocated and zero", (unsigned long long) guest);
    if ((bmp & 0xffffffffull) && !(ent[0] & QCOW2_OFFSET_MASK))
      problem (c, "L2 entry for guest offset 0x%llx: allocated subclusters "
               "without a cluster offset", (unsigned long long) guest);
  }
  return check_data (c, ent[0], guest);
}

static int
check_l2 (struct checker *c, uint64_t off, uint64_t l1i)
{
  uint64_t n = qcow2_l2_entries (c->q), step = c->q->extl2 ? 2 : 1, i;
  uint64_t guest = (l1i << c->q->l2_bits) << c->q->cluster_bits;
  struct qcow2_l2_slot *s;

  if (c->budget < n)
    return error_set ("qcow2: '%s': snapshots reference too many L2 tables "
                      "to check", c->q->img.path);
  c->budget -= n;
  if (qcow2_l2_get (c->q, off, &s) == -1)
    return -1;
  for (i = 0; i < n; i++)
    if (check_l2_entry (c, &s->table[i * step],
                        guest + (i << c->q->cluster_bits)) == -1)
      return -1;
  return 0;
}

static int
check_l1 (struct checker *c, const uint64_t *l1, uint32_t n)
{
  uint64_t off;
  uint32_t i;

  for (i = 0; i < n; i++) {
    if (l1[i] & QCOW2_L1_RESERVED)
      problem (c, "L1 entry %u has reserved bits set", i);
    off = l1[i] & QCOW2_OFFSET_MASK;
    if (off == 0 || !good_cluster (c, off, "L1 entry", i))
      continue;
    if (ref_cluster (c, off >> c->q->cluster_bits) == -1 ||
        check_l2 (c, off, i) == -1)
      return -1;
  }
  return 0;
}

/* ---- snapshots -------------------------------------------------------- */

static int
check_snapshot_l1 (struct checker *c, uint64_t off, uint32_t n, uint32_t idx)
{
  struct qcow2 *q = c->q;
  CLEANUP_FREE uint64_t *l1 = NULL;
  uint32_t i;

  if (n == 0)
    return 0;
  if ((uint64_t) n * 8 > QCOW2_MAX_L1_BYTES ||
      (c->snapshot_l1_entries += n) > MAX_SNAPSHOT_L1_ENTRIES) {
    problem (c, "snapshot %u: L1 table too large", idx);
    return 0;
  }
  if ((off & (q->cluster_size - 1)) || off >= q->file_size ||
      q->file_size - off < (uint64_t) n * 8) {
    problem (c, "snapshot %u: L1 table offset 0x%llx invalid or past end "
             "of file", idx, (unsigned long long) off);
    return 0;
  }
  if ((l1 = malloc ((size_t) n * 8)) == NULL)
    return error_errno ("malloc");
  if (full_pread (q->fd, l1, (size_t) n * 8, off, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  for (i = 0; i < n; i++)
    l1[i] = be64toh (l1[i]);
  if (ref_range (c, off, (uint64_t) n * 8, "snapshot L1 table") == -1)
    return -1;
  return check_l1 (c, l1, n);
}

static int
check_snapshots (struct checker *c)
{
  struct qcow2 *q = c->q;
  uint64_t pos = q->snapshots_offset, l1_off, len;
  uint8_t e[SNAPSHOT_ENTRY_LEN];
  uint32_t i, l1_size, extra;
  uint16_t id_len, name_len;

  for (i = 0; i < q->nb_snapshots; i++) {
    if (pos >= q->file_size || q->file_size - pos < sizeof e) {
      problem (c, "snapshot table entry %u past end of file", i);
      return 0;
    }
    if (full_pread (q->fd, e, sizeof e, pos, q->img.path) == -1)
      return error_prefix ("qcow2: ");
    memcpy (&l1_off, e, 8);
    memcpy (&l1_size, e + 8, 4);
    memcpy (&id_len, e + 12, 2);
    memcpy (&name_len, e + 14, 2);
    memcpy (&extra, e + 36, 4);
    if (be32toh (extra) > MAX_SNAPSHOT_EXTRA) {
      problem (c, "snapshot %u: extra data too large", i);
      return 0;
    }
    len = sizeof e + be32toh (extra) + be16toh (id_len) + be16toh (name_len);
    pos += (len + 7) & ~7ull;
    if (check_snapshot_l1 (c, be64toh (l1_off), be32toh (l1_size), i) == -1)
      return -1;
  }
  return ref_range (c, q->snapshots_offset, pos - q->snapshots_offset,
                    "snapshot table");
}

/* ---- refcounts -------------------------------------------------------- */

static uint64_t
refcount_entry (const uint8_t *blk, uint64_t j, unsigned order)
{
  unsigned bits = 1u << order, k;
  uint64_t v = 0;

  if (bits < 8)
    return (blk[(j * bits) / 8] >> ((j * bits) % 8)) & ((1u << bits) - 1);
  for (k = 0; k < bits / 8; k++)
    v = (v << 8) | blk[j * (bits / 8) + k];
  return v;
}

/* Load the refcount table, counting the blocks it points to; invalid
 * entries are reported and zeroed. */
static int
load_refcount_table (struct checker *c, uint64_t **rt, uint64_t *n)
{
  struct qcow2 *q = c->q;
  uint64_t i, off;

  *n = (uint64_t) q->rt_clusters * q->cluster_size / 8;
  if ((*rt = malloc (*n * 8)) == NULL)
    return error_errno ("malloc");
  if (full_pread (q->fd, *rt, *n * 8, q->rt_offset, q->img.path) == -1)
    return error_prefix ("qcow2: ");
  for (i = 0; i < *n; i++) {
    (*rt)[i] = be64toh ((*rt)[i]);
    if ((*rt)[i] & 0x1ff)
      problem (c, "refcount table entry %llu has reserved bits set",
               (unsigned long long) i);
    off = (*rt)[i] & ~0x1ffull;
    (*rt)[i] = off;
    if (off == 0)
      continue;
    if (!good_cluster (c, off, "refcount table entry", i))
      (*rt)[i] = 0;
    else if (ref_cluster (c, off >> q->cluster_bits) == -1)
      return -1;
  }
  return 0;
}

static void
compare (struct checker *c, uint64_t cluster, uint64_t stored)
{
  uint64_t refs = refs_of (c, cluster);
  unsigned long long off = cluster << c->q->cluster_bits;

  if (stored == refs)
    return;
  /* Bitmap clusters are not counted here: do not call them leaks. */
  if (refs == 0 && c->q->has_bitmaps)
    return;
  if (refs == 0)
    problem (c, "leaked cluster %llu (offset 0x%llx): refcount %llu, "
             "referenced 0", (unsigned long long) cluster, off,
             (unsigned long long) stored);
  else
    problem (c, "cluster %llu (offset 0x%llx): refcount %llu, referenced "
             "%llu", (unsigned long long) cluster, off,
             (unsigned long long) stored, (unsigned long long) refs);
}

static int
compare_refcounts (struct checker *c, const uint64_t *rt, uint64_t rt_len)
{
  struct qcow2 *q = c->q;
  uint64_t per_rb = (q->cluster_size * 8) >> q->refcount_order;
  uint64_t i, j, cl;
  CLEANUP_FREE uint8_t *blk = malloc (q->cluster_size);

  if (blk == NULL)
    return error_errno ("malloc");
  for (i = 0; i * per_rb < c->nb_clusters; i++) {
    bool have = i < rt_len && rt[i];
    if (have && full_pread (q->fd, blk, q->cluster_size, rt[i],
                            q->img.path) == -1)
      return error_prefix ("qcow2: ");
    for (j = 0; j < per_rb && (cl = i * per_rb + j) < c->nb_clusters; j++)
      compare (c, cl, have ? refcount_entry (blk, j, q->refcount_order) : 0);
  }
  return 0;
}

/* ---- driver ----------------------------------------------------------- */

static int
count_everything (struct checker *c, uint64_t **rt, uint64_t *rt_len)
{
  struct qcow2 *q = c->q;

  if (ref_range (c, 0, q->cluster_size, "header") == -1 ||
      ref_range (c, q->l1_offset, (uint64_t) q->l1_size * 8,
                 "L1 table") == -1 ||
      ref_range (c, q->rt_offset,
                 (uint64_t) q->rt_clusters * q->cluster_size,
                 "refcount table") == -1 ||
      load_refcount_table (c, rt, rt_len) == -1 ||
      check_l1 (c, q->l1, q->l1_size) == -1)
    return -1;
  return q->nb_snapshots ? check_snapshots (c) : 0;
}

static int
run_check (struct checker *c)
{
  CLEANUP_FREE uint64_t *rt = NULL;
  uint64_t rt_len;

  if (c->q->incompat & QCOW2_INCOMPAT_CORRUPT)
    problem (c, "image is marked corrupt");
  if (count_everything (c, &rt, &rt_len) == -1 ||
      compare_refcounts (c, rt, rt_len) == -1)
    return -1;
  if (c->problems > MAX_LINES)
    strbuf_addf (c->report, "... and %llu more problems\n",
                 (unsigned long long) (c->problems - MAX_LINES));
  return c->problems ? 1 : 0;
}

int
qcow2_check (struct image *img, struct strbuf *report)
{
  struct qcow2 *q = (struct qcow2 *) img;
  struct checker c = { .q = q, .report = report,
                       .budget = q->file_size / 8 + SNAPSHOT_BUDGET };
  uint64_t nchunks, i;
  int r;

  if (img->writable && qcow2_flush (img) == -1)
    return -1;
  c.nb_clusters = DIV_ROUND_UP (q->file_size, q->cluster_size);
  if (c.nb_clusters > MAX_CHECK_CLUSTERS)
    return error_set ("qcow2: '%s': file too large to check (%llu clusters)",
                      img->path, (unsigned long long) c.nb_clusters);
  nchunks = (c.nb_clusters >> CHUNK_BITS) + 1;
  c.chunks = calloc (nchunks, sizeof *c.chunks);
  if (c.chunks == NULL)
    return error_errno ("malloc");
  r = run_check (&c);
  for (i = 0; i < nchunks; i++)
    free (c.chunks[i]);
  free (c.chunks);
  return r;
}

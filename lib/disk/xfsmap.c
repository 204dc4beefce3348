/* xfsmap.c: the used blocks of an xfs filesystem, read without mounting
 * it: the superblock, each allocation group's AGF and its free-space
 * btree by block number (bnobt, short-form blocks: "ABTB" in v4, "AB3B"
 * with CRCs in v5).  Used = each AG minus the free extents of its bnobt.
 * The internal log is never in a free extent, so it is kept whole (its
 * never-written part is zeros, which the copy engine skips).
 *
 * Both free-space btrees are walked, by block (bnobt) and by size
 * (cntbt, "ABTC"/"AB3C"): their record counts, block sums and an
 * order-free fingerprint of their records must agree with each other and
 * with the AGF, so one damaged tree cannot free used blocks.
 *
 * Mapped only when the log is clean (the last record before the log's
 * head is a lone unmount record ending at the head, and no block of the
 * head's cycle lies in the torn-write window past it, as the kernel's
 * xlog_find_head/xlog_find_tail decide): a
 * log awaiting recovery may describe allocations the btrees do not show
 * yet.  Every on-disk value is hostile: geometry is bounded, each tree is
 * walked down its leftmost path (at most XFS_MAX_LEVELS blocks) and then
 * along its leaves' right-sibling links, whose records must rise strictly
 * (so a loop cannot repeat), each inside its AG, their sum equal to the
 * AGF's free count; any doubt returns 1 and the filesystem is copied in
 * full.  Only reads inside [offset, offset+length) are made, into one
 * buffer of at most 64 KiB.  Needs only lib/image (the fuzzer builds it).
 */
#include "lib/common/compat.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/image/copy.h"
#include "lib/disk/usedmap.h"

#define XFS_SB_MAGIC      0x58465342u   /* "XFSB" */
#define XFS_AGF_MAGIC     0x58414746u   /* "XAGF" */
#define XFS_ABTB_MAGIC    0x41425442u   /* "ABTB": v4 bnobt */
#define XFS_ABTB_CRC      0x41423342u   /* "AB3B": v5 bnobt */
#define XFS_ABTC_MAGIC    0x41425443u   /* "ABTC": v4 cntbt */
#define XFS_ABTC_CRC      0x41423343u   /* "AB3C": v5 cntbt */
#define XLOG_MAGIC        0xFEEDBABEu
#define XLOG_UNMOUNT_TRANS 0x20
#define NULLAGBLOCK       0xffffffffu
#define XFS_MAX_LEVELS    9             /* no bnobt is deeper */
#define XFS_MAX_AGCOUNT   (1u << 20)
#define XFS_MIN_AGBLOCKS  64
#define BB                512           /* the log's basic block */
/* v5 incompat features that do not change the free-space btrees:
 * ftype, sparse inodes, meta uuid, bigtime, nrext64, exchange-range,
 * parent pointers.  NEEDSREPAIR (0x10) and anything unknown: copy all. */
#define XFS_INCOMPAT_OK   (0x1u | 0x2u | 0x4u | 0x8u | 0x20u | 0x40u | 0x80u)
/* The kernel looks this far past the head for a torn write. */
#define XLOG_HOLE_WINDOW  (8u * 256u * 1024u / BB)
/* A record is at most 256 KiB and 8 header blocks. */
#define XLOG_MAX_BACK     (256u * 1024u / BB + 8u)

static uint16_t
be16 (const unsigned char *p)
{
  return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
    (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
be64 (const unsigned char *p)
{
  return (uint64_t) be32 (p) << 32 | be32 (p + 4);
}

struct xfs {
  struct image *src;
  uint64_t offset, length;  /* the partition */
  unsigned retries;
  uint32_t blocksize, sectsize, agblocks, agcount;
  uint64_t dblocks;
  unsigned agblklog, hdr;   /* btree block header: 16 (v4) or 56 (v5) */
  uint32_t bt_magic;
  uint64_t log_off, log_len; /* bytes, relative to the partition */
  unsigned char *buf;       /* one block */
};

/* Read len bytes at off (relative to the filesystem), refusing anything
 * outside the partition. */
static int
xread (struct xfs *x, void *buf, uint64_t len, uint64_t off)
{
  if (off > x->length || len > x->length - off)
    return error_set ("xfs: read past the partition");
  return image_pread_retry (x->src, buf, len, x->offset + off, x->retries);
}

static int
read_super (struct xfs *x)
{
  unsigned char sb[256];
  unsigned version, blocklog, agblklog;
  uint64_t logstart, logblocks, agno, agbno;

  if (x->length < 4096 || xread (x, sb, sizeof sb, 0) == -1 ||
      be32 (sb) != XFS_SB_MAGIC)
    return error_set ("no xfs superblock");
  x->blocksize = be32 (sb + 4);
  x->dblocks = be64 (sb + 8);
  logstart = be64 (sb + 48);
  x->agblocks = be32 (sb + 84);
  x->agcount = be32 (sb + 88);
  logblocks = be32 (sb + 96);
  version = be16 (sb + 100) & 0xf;
  x->sectsize = be16 (sb + 102);
  blocklog = sb[120];
  agblklog = sb[124];
  if (version != 4 && version != 5)
    return error_set ("superblock version %u unknown", version);
  if (x->blocksize < 512 || x->blocksize > 65536 ||
      (x->blocksize & (x->blocksize - 1)) ||
      blocklog > 16 || (1u << blocklog) != x->blocksize ||
      x->sectsize < 512 || x->sectsize > x->blocksize ||
      (x->sectsize & (x->sectsize - 1)))
    return error_set ("implausible block or sector size");
  if (x->agcount == 0 || x->agcount > XFS_MAX_AGCOUNT ||
      x->agblocks < XFS_MIN_AGBLOCKS || x->agblocks >= (1u << 31) ||
      agblklog > 31 || (1ull << agblklog) < x->agblocks ||
      (agblklog > 0 && (1ull << (agblklog - 1)) >= x->agblocks))
    return error_set ("implausible allocation group geometry");
  x->agblklog = agblklog;
  if (x->dblocks == 0 ||
      x->dblocks > (uint64_t) x->agcount * x->agblocks ||
      x->dblocks <= (uint64_t) (x->agcount - 1) * x->agblocks ||
      x->dblocks > x->length / x->blocksize)
    return error_set ("size disagrees with its partition");
  if (sb[126] != 0)
    return error_set ("mkfs did not finish");
  if (be64 (sb + 16) != 0)
    return error_set ("realtime section");
  if (version == 5) {
    if (be32 (sb + 216) & ~XFS_INCOMPAT_OK)
      return error_set ("incompatible features %#x",
                        be32 (sb + 216) & ~XFS_INCOMPAT_OK);
    x->hdr = 56;
    x->bt_magic = XFS_ABTB_CRC;
  }
  else {
    x->hdr = 16;
    x->bt_magic = XFS_ABTB_MAGIC;
  }
  if (logstart == 0)
    return error_set ("external log (its state cannot be read here)");
  agno = logstart >> agblklog;
  agbno = logstart & ((1ull << agblklog) - 1);
  if (agno >= x->agcount || agbno >= x->agblocks || logblocks == 0 ||
      logblocks > (2ull << 30) / x->blocksize)
    return error_set ("implausible log");
  x->log_off = (agno * x->agblocks + agbno) * x->blocksize;
  x->log_len = logblocks * x->blocksize;
  if (x->log_len > x->dblocks * x->blocksize - x->log_off ||
      x->log_len < 64 * BB)
    return error_set ("implausible log");
  return 0;
}

/* The cycle number stamped on basic block b of the log. */
static int
log_cycle (struct xfs *x, uint64_t b, uint32_t *cycle)
{
  unsigned char h[8];

  if (xread (x, h, 8, x->log_off + b * BB) == -1)
    return -1;
  *cycle = be32 (h) == XLOG_MAGIC ? be32 (h + 4) : be32 (h);
  return 0;
}

/* Is the log clean?  The head is the first basic block whose cycle
 * differs from block 0's (or block 0 if the log wrapped exactly); no
 * block within the kernel's torn-write window past it may carry the
 * head's cycle; the last record before the head must be a single-op
 * unmount record ending exactly at the head.  1 clean, 0 not, -1 on
 * read errors. */
static int
log_clean (struct xfs *x)
{
  uint64_t nbb = x->log_len / BB, head, b, rec, hblks, after;
  uint32_t c0, c, ch = 0, hsize, len;
  unsigned char *h = x->buf;
  size_t chunk = 65536, i;
  bool bisect;

  if (log_cycle (x, 0, &c0) == -1)
    return -1;
  if (c0 == 0 || c0 == XLOG_MAGIC)
    return 0;                 /* zeroed or garbled: not what unmount leaves */
  /* When the last block's cycle differs from the first's, the log is
   * [c0 ... c0][c0-1 or 0 ...]: bisect for the first block that is not
   * c0 (the kernel's xlog_find_head does the same); the window check
   * below catches a hole from a torn write that would fool it.
   * Otherwise scan linearly, a 64 KiB chunk at a time. */
  if (log_cycle (x, nbb - 1, &c) == -1)
    return -1;
  head = 0;
  bisect = c != c0;
  if (bisect) {
    uint64_t lo = 0, hi = nbb - 1;    /* cycle(lo) == c0, cycle(hi) != c0 */

    if (c != c0 - 1 && c != 0)
      return 0;
    while (hi - lo > 1) {
      uint64_t mid = lo + (hi - lo) / 2;

      if (log_cycle (x, mid, &c) == -1)
        return -1;
      if (c == c0)
        lo = mid;
      else
        hi = mid;
    }
    head = hi;
  }
  for (b = 0; !bisect && b < nbb && head == 0; b += chunk / BB) {
    uint64_t n = MIN ((uint64_t) chunk / BB, nbb - b);

    if (xread (x, h, n * BB, x->log_off + b * BB) == -1)
      return -1;
    for (i = 0; i < n; i++) {
      const unsigned char *p = h + i * BB;

      c = be32 (p) == XLOG_MAGIC ? be32 (p + 4) : be32 (p);
      if (c != c0) {
        if (c != c0 - 1 && c != 0)
          return 0;           /* a cycle from the future */
        head = b + i;
        break;
      }
    }
  }
  /* Past the head, through the kernel's torn-write window: the head's
   * own cycle (the previous one, or zeros in a log not yet wrapped),
   * nothing else. */
  if (head != 0 && log_cycle (x, head, &ch) == -1)
    return -1;
  if (head != 0 && ch != c0 - 1 && ch != 0)
    return 0;
  for (b = head + 1; head != 0 && b < MIN (nbb, head + XLOG_HOLE_WINDOW);
       b += chunk / BB) {
    uint64_t n = MIN ((uint64_t) chunk / BB,
                      MIN (nbb, head + XLOG_HOLE_WINDOW) - b);

    if (xread (x, h, n * BB, x->log_off + b * BB) == -1)
      return -1;
    for (i = 0; i < n; i++) {
      const unsigned char *p = h + i * BB;

      c = be32 (p) == XLOG_MAGIC ? be32 (p + 4) : be32 (p);
      if (c != ch)
        return 0;
    }
  }
  /* The last record header before the head: at most one record
   * back. */
  for (b = 1; b <= XLOG_MAX_BACK && b <= nbb; b++) {
    rec = (head + nbb - b) % nbb;
    if (xread (x, h, BB, x->log_off + rec * BB) == -1)
      return -1;
    if (be32 (h) == XLOG_MAGIC)
      break;
  }
  if (b > XLOG_MAX_BACK || b > nbb)
    return 0;
  len = be32 (h + 12);
  hsize = be32 (h + 320);
  hblks = be32 (h + 8) == 2 && hsize > 32768 ? (hsize + 32767) / 32768 : 1;
  if (len > 256 * 1024 || be32 (h + 40) != 1)
    return 0;
  after = (rec + hblks + (len + BB - 1) / BB) % nbb;
  if (after != head)
    return 0;
  if (xread (x, h, BB, x->log_off + ((rec + hblks) % nbb) * BB) == -1)
    return -1;
  return (h[9] & XLOG_UNMOUNT_TRANS) != 0;
}

/* Read block agbno of AG agno into x->buf, a free-space btree block of
 * `magic` at `level`. */
static int
read_btree_block (struct xfs *x, uint64_t agno, uint32_t agbno,
                  uint32_t aglen, uint32_t magic, unsigned level,
                  unsigned *nrecs)
{
  unsigned maxrecs;

  if (agbno == 0 || agbno >= aglen)
    return error_set ("btree pointer outside its AG");
  if (xread (x, x->buf, x->blocksize,
             (agno * x->agblocks + agbno) * x->blocksize) == -1)
    return -1;
  if (be32 (x->buf) != magic || be16 (x->buf + 4) != level)
    return error_set ("bad free-space btree block");
  maxrecs = (x->blocksize - x->hdr) / (level ? 12 : 8);
  *nrecs = be16 (x->buf + 6);
  if (*nrecs > maxrecs || (level > 0 && *nrecs == 0))
    return error_set ("bad free-space btree block");
  return 0;
}

/* An order-free fingerprint of a set of free extents (splitmix64 of
 * each), so the two trees can be compared without storing either. */
static uint64_t
mix (uint64_t start, uint64_t count)
{
  uint64_t z = start * 0x9e3779b97f4a7c15ull + count + 0x632be59bd9b4e019ull;

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct walk {
  uint64_t nrecs, blocks, print;
};

/* Walk one free-space btree of an AG: down its leftmost path (at most
 * XFS_MAX_LEVELS blocks), then along the leaves' right siblings.  by_bno:
 * records rise by start (bnobt; the used ranges between them go to
 * *ranges) or by (count, start) (cntbt).  Either order is strict, so a
 * sibling loop repeats a record and stops the walk. */
static int
walk_tree (struct xfs *x, uint64_t agno, uint64_t aglen, uint32_t root,
           unsigned levels, bool by_bno, extent_vector *ranges,
           struct walk *w)
{
  uint32_t magic = by_bno ? x->bt_magic
    : (x->bt_magic == XFS_ABTB_CRC ? XFS_ABTC_CRC : XFS_ABTC_MAGIC);
  uint64_t base = agno * x->agblocks * x->blocksize;
  uint64_t first = (4ull * x->sectsize + x->blocksize - 1) / x->blocksize;
  uint64_t pos = 0, prev_count = 0, prev_start = 0, visits = 0;
  uint32_t agbno = root;
  unsigned level, nrecs, i;

  memset (w, 0, sizeof *w);
  if (levels == 0 || levels > XFS_MAX_LEVELS)
    return error_set ("bad AGF");
  for (level = levels - 1; level > 0; level--) {
    if (read_btree_block (x, agno, agbno, (uint32_t) aglen, magic, level,
                          &nrecs) == -1)
      return -1;
    agbno = be32 (x->buf + x->hdr + (x->blocksize - x->hdr) / 12 * 8);
  }
  for (;;) {
    if (++visits > aglen ||
        read_btree_block (x, agno, agbno, (uint32_t) aglen, magic, 0,
                          &nrecs) == -1)
      return error_set ("bad free-space btree");
    if (nrecs == 0 && !(agbno == root && levels == 1))
      return error_set ("empty free-space btree leaf");
    for (i = 0; i < nrecs; i++) {
      const unsigned char *r = x->buf + x->hdr + i * 8;
      uint64_t start = be32 (r), count = be32 (r + 4);

      /* After the AG's headers, inside the AG, clear of the log. */
      if (count == 0 || start < first || start > aglen ||
          count > aglen - start ||
          (base + (start + count) * x->blocksize > x->log_off &&
           base + start * x->blocksize < x->log_off + x->log_len))
        return error_set ("free extent out of place");
      if (by_bno) {
        if (start < pos)
          return error_set ("free extents out of order");
        if (extent_add (ranges, pos, start - pos, EXTENT_DATA) == -1)
          return -2;
        pos = start + count;
      }
      else {
        if (w->nrecs > 0 && (count < prev_count ||
                             (count == prev_count && start <= prev_start)))
          return error_set ("free extents out of order");
        prev_count = count;
        prev_start = start;
      }
      w->nrecs++;
      w->blocks += count;
      w->print += mix (start, count);
    }
    agbno = be32 (x->buf + 12);
    if (agbno == NULLAGBLOCK)
      break;
  }
  if (by_bno && extent_add (ranges, pos, aglen - pos, EXTENT_DATA) == -1)
    return -2;
  return 0;
}

/* One AG: keep everything but its free extents, when both free-space
 * btrees and the AGF agree on them. */
static int
map_ag (struct xfs *x, uint64_t agno, extent_vector *keep)
{
  uint64_t base = agno * x->agblocks * x->blocksize;
  uint64_t aglen = MIN ((uint64_t) x->agblocks,
                        x->dblocks - agno * x->agblocks);
  extent_vector ranges = empty_vector;
  struct walk bno, cnt;
  unsigned char agf[64];
  size_t i;
  int r;

  if (xread (x, agf, sizeof agf, base + x->sectsize) == -1)
    return -1;
  if (be32 (agf) != XFS_AGF_MAGIC || be32 (agf + 4) != 1 ||
      be32 (agf + 8) != agno || be32 (agf + 12) != aglen ||
      be32 (agf + 52) > aglen)
    return error_set ("bad AGF in AG %llu", (unsigned long long) agno);
  r = walk_tree (x, agno, aglen, be32 (agf + 16), be32 (agf + 28), true,
                 &ranges, &bno);
  if (r == 0)
    r = walk_tree (x, agno, aglen, be32 (agf + 20), be32 (agf + 32), false,
                   NULL, &cnt);
  if (r == 0 && (bno.blocks != be32 (agf + 52) || bno.nrecs != cnt.nrecs ||
                 bno.blocks != cnt.blocks || bno.print != cnt.print))
    r = -1;
  for (i = 0; r == 0 && i < ranges.len; i++)
    if (extent_add (keep, x->offset + base + ranges.ptr[i].offset *
                    x->blocksize, ranges.ptr[i].length * x->blocksize,
                    EXTENT_DATA) == -1)
      r = -2;
  extent_vector_reset (&ranges);
  if (r == -2) {
    error_errno ("malloc");
    return -2;
  }
  if (r == -1)
    return error_set ("free-space btrees of AG %llu inconsistent",
                      (unsigned long long) agno);
  return 0;
}

int
xfsmap_used (struct image *src, uint64_t offset, uint64_t length,
             unsigned retries, extent_vector *keep)
{
  struct xfs x = { .src = src, .offset = offset, .length = length,
                   .retries = retries };
  extent_vector mine = empty_vector;
  uint64_t agno, end;
  size_t i;
  int r = 1, c;

  if (read_super (&x) == -1)
    return 1;
  if ((x.buf = malloc (MAX (x.blocksize, 65536u))) == NULL)
    return error_errno ("malloc");
  c = log_clean (&x);
  if (c != 1) {
    if (c == 0)
      error_set ("log needs recovery (not cleanly unmounted)");
    goto out;
  }
  for (agno = 0; agno < x.agcount; agno++) {
    c = map_ag (&x, agno, &mine);
    if (c == -2) {
      r = -1;
      goto out;
    }
    if (c == -1)
      goto out;
  }
  /* Whatever lies past the filesystem in its partition is kept. */
  end = x.dblocks * x.blocksize;
  if (extent_add (&mine, offset + end, length - end, EXTENT_DATA) == -1) {
    r = error_errno ("malloc");
    goto out;
  }
  for (i = 0; i < mine.len; i++)
    if (extent_add (keep, mine.ptr[i].offset, mine.ptr[i].length,
                    EXTENT_DATA) == -1) {
      r = error_errno ("malloc");
      goto out;
    }
  r = 0;
 out:
  extent_vector_reset (&mine);
  free (x.buf);
  return r;
}

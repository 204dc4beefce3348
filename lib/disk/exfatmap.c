/* exfatmap.c: the used clusters of an exFAT filesystem, read from its
 * allocation bitmap (Microsoft's "exFAT file system specification", 2019).
 *
 * Kept: both boot regions (main and backup, 12 sectors each), every FAT,
 * and the clusters the allocation bitmap marks in use.  The bitmap is
 * found in the root directory (entry type 0x81) and followed through the
 * FAT.  A volume marked dirty is copied in full: its bitmap may lag behind
 * the directory entries (files of one contiguous run are not chained in
 * the FAT, so nothing else records their clusters). */
#include "lib/common/compat.h"

#include <stdlib.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/disk/fsread.h"
#include "lib/disk/usedmap.h"

#define EXFAT_DIRTY 0x0002            /* VolumeFlags */
#define EXFAT_SECOND_FAT 0x0001       /* VolumeFlags: ActiveFat */
#define EXFAT_BITMAP_ENTRY 0x81
#define EXFAT_MAX_ROOT (64u << 20)    /* root directory bytes read at most */
#define EXFAT_CHUNK (1u << 20)

struct exfat {
  uint32_t bps, csize;               /* bytes per sector, per cluster */
  uint64_t fat_off, fat_len;         /* the active FAT, bytes */
  uint32_t nfats;
  uint64_t heap_off;                 /* cluster 2, bytes */
  uint32_t clusters, root;
  unsigned active;                   /* 0 or 1: which FAT and bitmap */
  uint16_t flags;
};

static int
parse_boot (const unsigned char *b, uint64_t length, struct exfat *x)
{
  unsigned bshift = b[108], cshift = b[109];
  uint64_t vol = fs_le64 (b + 72), fat_off = fs_le32 (b + 80);
  uint64_t fat_len = fs_le32 (b + 84), heap = fs_le32 (b + 88);
  uint64_t count = fs_le32 (b + 92);

  if (memcmp (b + 3, "EXFAT   ", 8) != 0 || b[510] != 0x55 ||
      b[511] != 0xaa || bshift < 9 || bshift > 12 || cshift > 25 - bshift ||
      b[110] < 1 || b[110] > 2)
    return 1;
  x->bps = 1u << bshift;
  x->csize = 1u << (bshift + cshift);
  x->nfats = b[110];
  x->flags = fs_le16 (b + 106);
  x->active = (x->flags & EXFAT_SECOND_FAT) && x->nfats == 2;
  if (vol > length >> bshift || fat_off < 24 || fat_len == 0 ||
      fat_off + fat_len * x->nfats > heap || heap > vol ||
      count > 0xfffffff5u || count > (vol - heap) >> cshift ||
      fat_len << bshift < (count + 2) * 4)
    return 1;
  x->fat_off = (fat_off + x->active * fat_len) << bshift;
  x->fat_len = fat_len << bshift;
  x->heap_off = heap << bshift;
  x->clusters = (uint32_t) count;
  x->root = fs_le32 (b + 96);
  return 0;
}

static int
valid_cluster (const struct exfat *x, uint32_t c)
{
  return c >= 2 && c - 2 < x->clusters;
}

static uint64_t
cluster_off (const struct exfat *x, uint32_t c)
{
  return x->heap_off + (uint64_t) (c - 2) * x->csize;
}

/* Called with each piece of a chain's contents, in order: pos is the
 * byte of the chain the piece starts at.  Returns 0 to go on, 1 to stop,
 * -1 on error. */
typedef int (*chain_fn) (void *priv, const unsigned char *buf, uint64_t n,
                         uint64_t pos);

/* Read the first `bytes` bytes of the chain that starts at cluster c, in
 * pieces of at most EXFAT_CHUNK.  A zero FAT entry is taken as "the next
 * cluster", the way a chain-less contiguous run reads.  0 when all were
 * read (or fn stopped), 1 when the chain ends early or cannot be read. */
static int
walk_chain (const struct fsread *f, const struct exfat *x, uint32_t c,
            uint64_t bytes, chain_fn fn, void *priv)
{
  unsigned char *buf = malloc (EXFAT_CHUNK), e[4];
  uint64_t pos = 0, steps = 0, in, n;
  int r = 1;

  if (buf == NULL)
    return -1;
  while (pos < bytes && valid_cluster (x, c) && steps++ < x->clusters) {
    for (in = 0; in < x->csize && pos < bytes; in += n, pos += n) {
      n = MIN (MIN (bytes - pos, x->csize - in), EXFAT_CHUNK);
      if (fs_read (f, buf, n, cluster_off (x, c) + in) == -1)
        goto out;
      if ((r = fn (priv, buf, n, pos)) != 0) {
        r = r == 1 ? 0 : -1;
        goto out;
      }
    }
    if (fs_read (f, e, 4, x->fat_off + (uint64_t) c * 4) == -1)
      goto out;
    c = fs_le32 (e) == 0 ? c + 1 : fs_le32 (e);
  }
  r = pos < bytes;
 out:
  free (buf);
  return r;
}

struct find_bitmap {
  unsigned active;
  uint32_t first;
  uint64_t len;
  int found;
};

static int
find_bitmap_piece (void *priv, const unsigned char *buf, uint64_t n,
                   uint64_t pos)
{
  struct find_bitmap *fb = priv;
  uint64_t i;

  (void) pos;
  for (i = 0; i + 32 <= n; i += 32) {
    if (buf[i] == 0)
      return 1;               /* end of directory */
    if (buf[i] == EXFAT_BITMAP_ENTRY && (buf[i + 1] & 1) == fb->active) {
      fb->first = fs_le32 (buf + i + 20);
      fb->len = fs_le64 (buf + i + 24);
      fb->found = 1;
      return 1;
    }
  }
  return 0;
}

struct keep_bitmap {
  const struct fsread *f;
  const struct exfat *x;
  extent_vector *keep;
};

static int
keep_bitmap_piece (void *priv, const unsigned char *buf, uint64_t n,
                   uint64_t pos)
{
  struct keep_bitmap *kb = priv;
  uint64_t bits = MIN (n * 8, kb->x->clusters - pos * 8);

  return fs_keep_bits (kb->f, kb->keep, buf, pos * 8, bits,
                       kb->x->heap_off, kb->x->csize) == -1 ? -1 : 0;
}

static int
map_exfat (const struct fsread *f, const struct exfat *x, extent_vector *mine)
{
  struct find_bitmap fb = { .active = x->active };
  struct keep_bitmap kb = { .f = f, .x = x, .keep = mine };
  uint64_t need = ((uint64_t) x->clusters + 7) / 8;
  int r;

  /* The root directory is read until its end marker, at most
   * EXFAT_MAX_ROOT bytes: a lying chain cannot make the walk long. */
  r = walk_chain (f, x, x->root, EXFAT_MAX_ROOT, find_bitmap_piece, &fb);
  if (r == -1)
    return -1;
  if (!fb.found || fb.len < need)
    return 1;
  if (fs_keep (f, mine, 0, 24 * (uint64_t) x->bps) == -1 ||
      fs_keep (f, mine, x->fat_off - x->active * x->fat_len,
               x->fat_len * x->nfats) == -1)
    return -1;
  return walk_chain (f, x, fb.first, need, keep_bitmap_piece, &kb);
}

int
exfatmap_used (struct image *src, uint64_t offset, uint64_t length,
               unsigned retries, extent_vector *keep)
{
  struct fsread f = { .img = src, .offset = offset, .length = length,
                      .retries = retries };
  unsigned char boot[512];
  struct exfat x;
  extent_vector mine = empty_vector;
  int r;

  if (fs_read (&f, boot, sizeof boot, 0) == -1 ||
      parse_boot (boot, length, &x) != 0)
    return 1;
  if (x.flags & EXFAT_DIRTY) {
    error_set ("the volume is marked dirty (not cleanly unmounted)");
    return USEDMAP_UNSAFE;
  }
  r = map_exfat (&f, &x, &mine);
  if (r == 0)
    r = fs_append (keep, &mine);
  extent_vector_reset (&mine);
  return r;
}

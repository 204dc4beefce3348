/* fatmap.c: the used clusters of a FAT12/16/32 filesystem, read from its
 * BIOS parameter block and its first FAT (Microsoft's FAT specification,
 * "FAT: General Overview of On-Disk Format", 2005).
 *
 * Kept: the reserved region (boot sector, FSInfo, FAT32's backup boot
 * sector), every FAT, FAT12/16's root directory, and each cluster whose
 * FAT entry is non-zero.  Clusters marked bad are not read: they hold no
 * file's data and reading a failing disk there only costs retries.
 *
 * A volume whose dirty bit is set (FAT[1], BPB flags) is mapped all the
 * same: FAT has no journal, the FAT is both the allocation map and every
 * file's chain, so what it marks in use is exactly what any FAT reader or
 * fsck.vfat sees on the source; copying free clusters would only carry
 * deleted data. */
#include "lib/common/compat.h"

#include <stdlib.h>

#include "lib/disk/fsread.h"
#include "lib/disk/usedmap.h"

/* 786432 bytes hold a whole number of entries of every width (2 FAT12
 * entries per 3 bytes), so entries never straddle two chunks. */
#define FAT_CHUNK (3u << 18)

struct fat {
  unsigned bits;              /* 12, 16, 32 */
  uint32_t bps, spc;          /* bytes per sector, sectors per cluster */
  uint64_t meta_bytes;        /* reserved + FATs + root directory */
  uint64_t fat_off;           /* the first FAT, bytes into the partition */
  uint64_t clusters;          /* data clusters: entries 2..clusters+1 */
};

static int
is_pow2 (uint32_t x)
{
  return x && !(x & (x - 1));
}

/* Validate the BPB and derive the layout.  0 on success, 1 if this is not
 * a FAT filesystem the partition can hold. */
static int
parse_bpb (const unsigned char *b, uint64_t length, struct fat *fat)
{
  uint32_t bps = fs_le16 (b + 11), spc = b[13], rsvd = fs_le16 (b + 14);
  uint32_t nfats = b[16], rootents = fs_le16 (b + 17);
  uint64_t fatsz = fs_le16 (b + 22) ? fs_le16 (b + 22) : fs_le32 (b + 36);
  uint64_t total = fs_le16 (b + 19) ? fs_le16 (b + 19) : fs_le32 (b + 32);
  uint64_t rootsec, meta, need;

  if (b[510] != 0x55 || b[511] != 0xaa || (b[0] != 0xeb && b[0] != 0xe9) ||
      bps < 512 || bps > 4096 || !is_pow2 (bps) || !is_pow2 (spc) ||
      rsvd == 0 || nfats < 1 || nfats > 2 || fatsz == 0 ||
      (b[21] != 0xf0 && b[21] < 0xf8))
    return 1;
  rootsec = ((uint64_t) rootents * 32 + bps - 1) / bps;
  meta = rsvd + nfats * fatsz + rootsec;
  if (total > length / bps || meta >= total)
    return 1;
  fat->clusters = (total - meta) / spc;
  fat->bits = fat->clusters < 4085 ? 12 : fat->clusters < 65525 ? 16 : 32;
  if ((fat->bits == 32) != (rootents == 0) ||
      (fat->bits == 32 && fs_le16 (b + 22) != 0) ||
      fat->clusters > 0x0ffffff5)
    return 1;
  need = ((fat->clusters + 2) * fat->bits + 7) / 8;
  if (need > fatsz * bps)
    return 1;                 /* the FAT cannot describe every cluster */
  fat->bps = bps;
  fat->spc = spc;
  fat->meta_bytes = meta * bps;
  fat->fat_off = (uint64_t) rsvd * bps;
  return 0;
}

static uint32_t
fat_entry (const struct fat *fat, const unsigned char *chunk, uint64_t i)
{
  if (fat->bits == 32)
    return fs_le32 (chunk + i * 4) & 0x0fffffff;
  if (fat->bits == 16)
    return fs_le16 (chunk + i * 2);
  return (i & 1) ? fs_le16 (chunk + i * 3 / 2) >> 4
    : fs_le16 (chunk + i * 3 / 2) & 0xfff;
}

static int
is_bad (const struct fat *fat, uint32_t v)
{
  return v == (fat->bits == 12 ? 0xff7u : fat->bits == 16 ? 0xfff7u
               : 0x0ffffff7u);
}

/* Keep the clusters of one chunk of the FAT, whose first entry is `first`. */
static int
keep_chunk (const struct fsread *f, const struct fat *fat,
            const unsigned char *chunk, uint64_t first, uint64_t n,
            extent_vector *keep)
{
  uint64_t csize = (uint64_t) fat->bps * fat->spc, i, run;

  for (i = 0; i < n; i = run) {
    uint32_t v = fat_entry (fat, chunk, i);

    run = i + 1;
    if (first + i < 2 || v == 0 || is_bad (fat, v))
      continue;
    while (run < n && (v = fat_entry (fat, chunk, run)) != 0 && !is_bad (fat, v))
      run++;
    if (fs_keep (f, keep, fat->meta_bytes + (first + i - 2) * csize,
                 (run - i) * csize) == -1)
      return -1;
  }
  return 0;
}

/* Stream the first FAT in chunks: memory stays under a megabyte whatever
 * the volume's size.  1 when it cannot be read. */
static int
keep_clusters (const struct fsread *f, const struct fat *fat,
               extent_vector *keep)
{
  uint64_t per_chunk = (uint64_t) FAT_CHUNK * 8 / fat->bits;
  uint64_t entries = fat->clusters + 2, first;
  unsigned char *chunk = malloc (FAT_CHUNK);
  int r = 0;

  if (chunk == NULL)
    return -1;
  for (first = 0; first < entries && r == 0; first += per_chunk) {
    uint64_t n = entries - first < per_chunk ? entries - first : per_chunk;
    uint64_t bytes = (n * fat->bits + 7) / 8;

    memset (chunk, 0, FAT_CHUNK);
    if (fs_read (f, chunk, bytes, fat->fat_off + first * fat->bits / 8) == -1)
      r = 1;
    else
      r = keep_chunk (f, fat, chunk, first, n, keep);
  }
  free (chunk);
  return r;
}

int
fatmap_used (struct image *src, uint64_t offset, uint64_t length,
             unsigned retries, extent_vector *keep)
{
  struct fsread f = { .img = src, .offset = offset, .length = length,
                      .retries = retries };
  unsigned char boot[512];
  struct fat fat;
  extent_vector mine = empty_vector;
  int r;

  if (fs_read (&f, boot, sizeof boot, 0) == -1 ||
      parse_bpb (boot, length, &fat) != 0)
    return 1;
  /* Build the partition's ranges apart: an unreadable FAT midway leaves
   * *keep as it was, and the caller copies the partition in full. */
  r = fs_keep (&f, &mine, 0, fat.meta_bytes);
  if (r == 0)
    r = keep_clusters (&f, &fat, &mine);
  if (r == 0)
    r = fs_append (keep, &mine);
  extent_vector_reset (&mine);
  return r;
}

/* usedmap.h: which byte ranges of a source disk hold something worth
 * copying.  Partition tables are read with libparted (from a shadow copy of
 * the table sectors, so the source is never opened for writing); ext2/3/4
 * partitions contribute only the blocks their bitmaps mark in use (free
 * blocks — deleted data — are captured as zeros); swap partitions only
 * their header page; everything else is copied (the copy engine still skips
 * all-zero blocks).
 */
#ifndef FERRY_USEDMAP_H
#define FERRY_USEDMAP_H

#include <stdint.h>

#include "lib/common/vector.h"
#include "lib/image/image.h"

enum usedmap_policy {
  USEDMAP_ALL,            /* unknown contents: copy (zero-skip only) */
  USEDMAP_EXT,            /* ext2/3/4: used blocks only */
  USEDMAP_SWAP,           /* swap: header only */
  USEDMAP_FS,             /* FAT, exFAT, NTFS, btrfs: used clusters only */
};

struct usedmap_part {
  int number;             /* partition number, 0 for a whole-disk fs */
  uint64_t offset, length;
  enum usedmap_policy policy;
  char fstype[16];        /* "ext4", "swap", "" */
  uint64_t used_bytes;    /* bytes the map keeps for this partition */
  char warning[128];      /* why a known fs is copied in full, or "" */
};
DEFINE_VECTOR_TYPE (usedmap_part_vector, struct usedmap_part);

struct usedmap {
  char table[16];         /* "msdos", "gpt", "loop" (whole-disk fs), "none" */
  usedmap_part_vector parts;
  extent_vector keep;     /* sorted ranges to read; the rest is zeros */
};

/* Analyse src.  Never fails on an unrecognised or damaged layout: it
 * falls back to copying the region in full. Metadata reads are retried
 * `retries` times. Returns -1 only on memory errors. */
int usedmap_build (struct image *src, unsigned retries, struct usedmap *map);
void usedmap_free (struct usedmap *map);

/* ext2/3/4 at [offset, offset+length) of src: append its used byte ranges
 * (absolute disk offsets) to *keep.  Returns 1 if not an ext filesystem,
 * 0 on success, -1 on error. (extmap.c) */
int extmap_used (struct image *src, uint64_t offset, uint64_t length,
                 unsigned retries, extent_vector *keep);

/* FAT12/16/32, exFAT, NTFS and btrfs at [offset, offset+length) of src,
 * with extmap_used's contract: 0 on success (used byte ranges appended to
 * *keep as absolute disk offsets, sorted, merged), 1 when the region is
 * not this filesystem or cannot be mapped, -1 on error (memory).  They
 * return USEDMAP_UNSAFE when the region is this filesystem but its state
 * forbids trusting its allocation map (marked dirty, hibernated, a log
 * awaiting replay): the partition is copied in full and error_get() holds
 * the reason, without the filesystem's name (the caller adds it and the
 * partition's), for a warning.  A dispatch that treats every return but 0
 * and -1 as "copy in full, with error_get()'s reason if one was set"
 * handles both.  Nothing is appended to
 * *keep unless they return 0.  (fatmap.c, exfatmap.c, ntfsmap.c,
 * btrfsmap.c) */
#define USEDMAP_UNSAFE 2
int fatmap_used (struct image *src, uint64_t offset, uint64_t length,
                 unsigned retries, extent_vector *keep);
int exfatmap_used (struct image *src, uint64_t offset, uint64_t length,
                   unsigned retries, extent_vector *keep);
int ntfsmap_used (struct image *src, uint64_t offset, uint64_t length,
                  unsigned retries, extent_vector *keep);
int btrfsmap_used (struct image *src, uint64_t offset, uint64_t length,
                   unsigned retries, extent_vector *keep);

#endif

/* fsread.h: what the filesystem used-block maps (fatmap.c, exfatmap.c,
 * ntfsmap.c, btrfsmap.c) share: little-endian fields, reads that cannot
 * leave the partition, and ranges kept as absolute disk offsets. */
#ifndef FERRY_FSREAD_H
#define FERRY_FSREAD_H

#include <stdint.h>

#include "lib/image/image.h"

/* One partition of a source: [offset, offset+length) of img. */
struct fsread {
  struct image *img;
  uint64_t offset, length;
  unsigned retries;
};

uint16_t fs_le16 (const unsigned char *p);
uint32_t fs_le32 (const unsigned char *p);
uint64_t fs_le64 (const unsigned char *p);

/* Read len bytes at off (relative to the partition).  -1 when the range is
 * not wholly inside the partition or the read fails; no message: a map
 * that cannot read its metadata copies the partition in full. */
int fs_read (const struct fsread *f, void *buf, uint64_t len, uint64_t off);

/* Keep [off, off+len) of the partition (clipped to it), as absolute disk
 * offsets.  Ranges must come in ascending order (they merge). */
int fs_keep (const struct fsread *f, extent_vector *keep, uint64_t off,
             uint64_t len);

/* Keep the units whose bits are set: bit i of bits (LSB first) stands for
 * unit first+i, at base + (first+i)*unit in the partition. */
int fs_keep_bits (const struct fsread *f, extent_vector *keep,
                  const unsigned char *bits, uint64_t first, uint64_t nbits,
                  uint64_t base, uint64_t unit);

/* Append the sorted ranges of one partition to the disk's map. */
int fs_append (extent_vector *keep, const extent_vector *mine);

#endif

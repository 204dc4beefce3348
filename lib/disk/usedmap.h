/* usedmap.h: which byte ranges of a source disk hold something worth
 * copying.  Partition tables are read with libparted (from a shadow copy of
 * the table sectors, so the source is never opened for writing); each
 * partition (or a whole disk without a table) is identified by libblkid
 * (from a shadow of its first and last MiB) and handed to the map of its
 * type, one row of a table in usedmap.c: ext2/3/4 and xfs contribute only
 * the blocks in use (free blocks — deleted data — are captured as zeros);
 * swap only its header page; an LVM2 physical volume the extents of its
 * logical volumes, each through the map of the filesystem inside it;
 * everything else is copied (the copy engine still skips all-zero blocks).
 */
#ifndef FERRY_USEDMAP_H
#define FERRY_USEDMAP_H

#include <stdint.h>

#include "lib/common/vector.h"
#include "lib/image/image.h"

/* Every policy but USEDMAP_ALL means: what is not in `keep` is free space
 * of that partition and need not be copied. */
enum usedmap_policy {
  USEDMAP_ALL,            /* unknown contents: copy (zero-skip only) */
  USEDMAP_EXT,            /* ext2/3/4: used blocks only */
  USEDMAP_SWAP,           /* swap: header only */
  USEDMAP_XFS,            /* xfs: all but the free-space btree's extents */
  USEDMAP_LVM,            /* LVM2 PV: the LVs' extents, each mapped */
  USEDMAP_FAT,            /* FAT12/16/32 (fatmap.c) */
  USEDMAP_EXFAT,          /* exFAT (exfatmap.c) */
  USEDMAP_NTFS,           /* NTFS (ntfsmap.c) */
  USEDMAP_BTRFS,          /* btrfs (btrfsmap.c) */
};

struct usedmap_part {
  int number;             /* partition number, 0 for a whole-disk fs */
  uint64_t offset, length;
  enum usedmap_policy policy;
  char fstype[24];        /* libblkid's TYPE: "ext4", "xfs", "swap",
                             "LVM2_member", ...; "" if unknown */
  uint64_t used_bytes;    /* bytes the map keeps for this partition */
  char method[24];        /* how the map was made: "ext-bitmap",
                             "xfs-bnobt", "swap-header", "lvm2", "all" */
  char note[192];         /* why a known filesystem was copied in full
                             (a warning), or an LVM PV's LVs and their
                             methods; "" if nothing to say */
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

/* src's used blocks (its map, read with 2 retries) copied into a new
 * image of `format` at path (image_convert, `po` with its mask and
 * `strict` set here): an unreadable range fails the copy before anything
 * is published at path, since the copy is a whole disk to boot or clone
 * from.  0 with *st filled, or -1 with the error set. */
struct copy_opts;
struct copy_stats;
int usedmap_copy (struct image *src, const char *format, const char *path,
                  struct copy_opts po, struct copy_stats *st);

/* "used-blocks", "swap-header" or "non-zero" (capture's --json). */
const char *usedmap_policy_name (enum usedmap_policy p);

/* The maps of one filesystem at [offset, offset+length) of src: each
 * appends the byte ranges to keep (absolute offsets in src) to *keep and
 * returns 0, or returns 1 if it is not that filesystem or cannot be mapped
 * safely (the caller copies the region in full; error_get () may then say
 * why, e.g. "xfs log needs recovery"), or -1 on memory errors. */
typedef int usedmap_fn (struct image *src, uint64_t offset, uint64_t length,
                        unsigned retries, extent_vector *keep);

usedmap_fn extmap_used;         /* ext2/3/4 (extmap.c, libext2fs) */
usedmap_fn xfsmap_used;         /* xfs (xfsmap.c) */
usedmap_fn swapmap_used;        /* swap: the header page (usedmap.c) */

/* LVM2 physical volume (lvmmap.c).  Each LV wholly on this PV, linear, is
 * mapped with inner (NULL: copied in full) through a view of its
 * segments; the rest of its LVs' extents are kept whole, free extents
 * dropped.  `note` (may be NULL) receives one "name=method" per LV. */
typedef int usedmap_inner_fn (struct image *lv, unsigned retries,
                              extent_vector *keep, char *method,
                              size_t method_size);
int lvmmap_used (struct image *src, uint64_t offset, uint64_t length,
                 unsigned retries, extent_vector *keep,
                 usedmap_inner_fn *inner, char *note, size_t note_size);

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

/* btrfsmap.c: the used extents of a btrfs filesystem. */
#include "lib/common/compat.h"

#include "lib/disk/usedmap.h"

int
btrfsmap_used (struct image *src, uint64_t offset, uint64_t length,
               unsigned retries, extent_vector *keep)
{
  (void) src; (void) offset; (void) length; (void) retries; (void) keep;
  return 1;
}

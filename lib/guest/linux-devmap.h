/* linux-devmap.h: Linux device names and their map to filesystem UUIDs,
 * and the device tables (fstab, crypttab) rewritten through it.  Pure
 * string functions; see linux-text.h for the conventions.
 */
#ifndef FERRY_GUEST_LINUX_DEVMAP_H
#define FERRY_GUEST_LINUX_DEVMAP_H

#include "lib/common/vector.h"

/* Device names -> filesystem UUIDs, keyed by (disk index, partition). */
struct devmap_entry {
  unsigned disk;              /* 0 for sda/hda/xvda/vda/nvme0n1 */
  unsigned part;              /* 0 = the whole disk */
  char *uuid;                 /* owned */
};
DEFINE_VECTOR_TYPE (devmap, struct devmap_entry);
void devmap_free (devmap *m);

/* Parse /dev/sdX[N], /dev/hdX[N], /dev/xvdX[N], /dev/vdX[N] (X: a..z, aa..)
 * and /dev/nvmeCnN[pP].  Returns 0, or -1 for anything else. */
int devmap_parse_name (const char *name, unsigned *disk, unsigned *part);

/* The UUID for a device name, or NULL (not a disk name, or not mapped). */
const char *devmap_lookup (const devmap *m, const char *name);

/* fstab (field 0) and crypttab (field 1): device names -> UUID=. */
char *devmap_rewrite_table (const char *text, int field, const devmap *m,
                            int *changed);

#endif

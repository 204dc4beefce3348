/* deploy-int.h: the parts of deploy shared by deploy.c (the job), fit.c
 * (partitions, LVM and filesystems fitted to the disk, the bootloader, in
 * the appliance) and write.c (the disk written in a safe order). */
#ifndef FERRY_V2P_DEPLOY_INT_H
#define FERRY_V2P_DEPLOY_INT_H

#include <guestfs.h>

#include "lib/guest/inspect.h"
#include "lib/image/image.h"
#include "v2p/deploy.h"

#define MIB (1024ull * 1024)

/* One source disk on its way to a target. */
struct deploy_fit {
  const struct deploy_opts *o;
  struct deploy_disk_result *d;
  struct deploy_result *res;
  uint64_t disk_size;                 /* the target's size */
  uint64_t image_size;                /* the source's size */
  struct image *src;                  /* the source (disk 1: its table is
                                       * read and fitted on the host) */
  bool boot_disk;                     /* the disk converted (disk 1) */
};

/* A line of what was done (d->layout or res->boot), also shown as a step. */
int deploy_note (const struct deploy_fit *f, strv_vector *v,
                 const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* In the appliance, over the overlay (fit.c): fit the partition holding
 * the root (or its LVM PV) and its filesystem to the disk, moving swap
 * partitions that follow it to the end; then, after the conversion, the
 * bootloader. */
int deploy_fit_disk (guestfs_h *g, const struct guest_root *root,
                     struct deploy_fit *f);
int deploy_fit_boot (guestfs_h *g, const struct guest_root *root,
                     struct deploy_fit *f);

/* Write src's first `length` bytes onto the target dst (write.c): the
 * table area and the disk's end wiped first, the body (used blocks, all
 * the rest zeroed outside filesystems' free space), the backup GPT moved
 * to the disk's end, and the table last. */
int deploy_write (struct image *src, uint64_t length, struct image *dst,
                  struct deploy_fit *f);

#endif

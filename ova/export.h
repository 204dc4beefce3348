/* export.h: the disks of a VM made ready for a package writer
 * (ova-write.h, xva-write.h) or the copy engine — each source opened, its
 * used-block map built (lib/disk/usedmap.h) as the read mask, and the
 * VM's disk turned into the member the package will hold.
 *
 * The one set-up of `ferry export`, the capture agent's packages and
 * `ferry import` to an OVA.  It needs libparted and libext2fs (the map),
 * so the fuzz build, which has neither, leaves this file out.
 *
 * Ownership: struct ova_export_disks owns every image and map it opened
 * or took; ova_export_disks_close releases them (NULL-safe, and safe on a
 * zeroed struct or after a failed open).
 */
#ifndef FERRY_OVA_EXPORT_H
#define FERRY_OVA_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/disk/usedmap.h"
#include "lib/image/image.h"
#include "ova/ova-write.h"
#include "ova/vm.h"

struct ova_export_disks {
  struct ova_disk_in in[VM_MAX_DISKS];  /* the writers' list of disks */
  struct usedmap maps[VM_MAX_DISKS];    /* in[i].mask is &maps[i].keep */
  size_t n;                             /* in[0..n) are open */
};

struct ova_export_opts {
  const char *stem;             /* members are named STEM-diskN.FORMAT */
  const char *format;           /* "vmdk", "vhd", "raw", "qcow2" */
  unsigned open_flags;          /* image_open flags (IMAGE_OPEN_RAW) */
  bool all_blocks;              /* no maps, no mask: every non-zero block */
  struct image **srcs;          /* NULL, or images already open: a
                                   non-NULL srcs[i] is taken over (and set
                                   to NULL) instead of opening disk i */
};

/* Open every disk of `vm` (`x` zeroed): the source is the disk's file (a
 * host path) or o->srcs[i]; the disk becomes member STEM-diskN.FORMAT of
 * that format with the image's size in whole sectors as its capacity
 * (file_size 0: the writer fills it in).  Unless all_blocks, the
 * source's used-block map is built and becomes in[i].mask.  0, or -1 with
 * the error set (what was opened stays in `x` for the close). */
int ova_export_disks_open (struct ova_export_disks *x, struct vm *vm,
                           const struct ova_export_opts *o);
void ova_export_disks_close (struct ova_export_disks *x);

/* One disk of a directory output (libvirt, Xen, Hyper-V, raw, and each
 * clone's disks): `src` copied into the staging directory `sd` as `file`
 * in `format` (`subformat`: create option or NULL), read through `mask`
 * (NULL: all of it), progress labelled `label` unless quiet.  An
 * unreadable range is an error (a restore never zero-fills).  0 with
 * *written (bytes) and *final_path (sd->final/file, caller frees), or -1
 * with the error set. */
struct stagedir;
struct ova_stage_disk {
  struct image *src;
  const char *file, *format, *subformat, *label;
  const extent_vector *mask;
  bool quiet;
};
int ova_stage_disk (const struct stagedir *sd, const struct ova_stage_disk *d,
                    uint64_t *written, char **final_path);

#endif

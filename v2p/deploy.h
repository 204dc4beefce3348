/* deploy.h: V2P — lay a VM image, or the disks of a backup package (OVA,
 * XVA, libvirt XML), onto physical disks, fit them to the disks and make
 * them boot on the hardware (`ferry deploy`, and the ISO agent's deploy
 * job).
 *
 *   struct deploy_opts o = { .source = "vm.qcow2", .targets = t,
 *                            .n_targets = 1, .convert = "native" };
 *   struct deploy_result res = { 0 };
 *   if (deploy_run (&o, &res) == -1) ... error_get () ...
 *   deploy_result_free (&res);
 *
 * Every check (targets not mounted, not holding the running system or the
 * source, large enough, of the sector size the image was made for) is made
 * before the first byte is written; then `confirm` is asked.  The work
 * (fitting partitions and filesystems, the native conversion, the
 * bootloader) happens in one appliance over a qcow2 overlay of the
 * source; the source is never written.  The target is written last, in an
 * order that leaves an interrupted deploy unbootable rather than looking
 * complete: its partition table area is zeroed first, the body copied
 * (only used blocks; everything else the result could read zeroed, so no
 * old data shows through), then the backup GPT and last the table.
 * Nothing here prints: on_step and the copy's progress hook report.
 */
#ifndef FERRY_V2P_DEPLOY_H
#define FERRY_V2P_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/common/strv.h"
#include "lib/guest/pipeline.h"
#include "lib/image/copy.h"

#define DEPLOY_MAX_TARGETS 16

/* A target disk as checked before anything is written. */
struct deploy_target {
  char *path;                 /* as given */
  bool device;                /* a block device (else a file standing in) */
  char model[64], serial[64]; /* sysfs; "" when unknown or a file */
  uint64_t size;              /* bytes */
  unsigned sector_size;       /* logical: BLKSSZGET, 512 for files */
};

struct deploy_result;

struct deploy_opts {
  /* An image in any format Ferry reads, an nbd:// URI, an OVA or XVA
   * package, or (from_libvirt) a libvirt domain XML. */
  const char *source;
  bool from_libvirt;
  const char *const *targets;         /* one per source disk, in order */
  size_t n_targets;
  const char *convert;                /* "native" (default) or "none" */
  bool no_grow;                       /* keep the image's layout */
  const char *root;                   /* the root to fit and convert */
  const char *tmpdir;                 /* overlay and staged package disks;
                                         NULL: $TMPDIR or /var/tmp */
  /* Asked once all checks passed, before the first byte is written, with
   * the targets in res->disks[i].target; -1 (error set) refuses.  NULL:
   * no confirmation (the caller's --yes). */
  int (*confirm) (void *opaque, const struct deploy_result *res);
  void (*on_step) (void *opaque, const char *line);
  void *opaque;
  const struct copy_opts *copy;       /* label/progress/quiet; mask and
                                         the rest are deploy's */
};

struct deploy_disk_result {
  struct deploy_target target;
  char *source;                       /* the disk's image */
  uint64_t source_size;
  char table[16];                     /* "msdos", "gpt", "" (usedmap.h) */
  strv_vector layout;               /* what was done to fit the disk */
  struct copy_stats stats;
};

struct deploy_result {
  struct deploy_disk_result disks[DEPLOY_MAX_TARGETS];
  size_t n_disks;
  struct guest_pipeline_result conv;  /* disk 1: root, changes, accel */
  strv_vector boot;                 /* bootloader and firmware facts */
  char *efi_loader;                   /* UEFI: "\\EFI\\debian\\shimx64.efi" */
  int esp_part;                       /* UEFI: the ESP's partition number */
  double seconds;
};

/* Deploy o->source onto o->targets.  On failure *res holds what was
 * learnt (free it anyway); no target was written unless the error says
 * so. */
int deploy_run (const struct deploy_opts *o, struct deploy_result *res);
void deploy_result_free (struct deploy_result *res);

/* The report as JSON members inside an object the caller opened. */
struct json;
void deploy_result_json (struct json *j, const struct deploy_result *res);

/* ---- pieces, exposed for the unit tests ---- */

/* Check one target path against the running system (mounts, swaps,
 * holders, the root filesystem) and the source (same file or device, or
 * a filesystem on the target holding it) and fill *t.  sysfs/proc:
 * roots of the trees read ("/sys", "/proc"; tests pass fakes). */
int deploy_target_check (const char *path, const char *source,
                         const char *sysfs, const char *proc,
                         struct deploy_target *t);
void deploy_target_free (struct deploy_target *t);

/* The sector size a disk image's partition table was made for: 4096 when
 * its GPT header lies at byte 4096, else 512. */
unsigned deploy_image_sector_size (struct image *img);

#endif

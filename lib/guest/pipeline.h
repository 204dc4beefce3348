/* pipeline.h: the one conversion pipeline, shared by `ferry convert`,
 * `ferry capture --convert` and (to come) `ferry deploy`: a qcow2
 * overlay backed by the image takes every write; one appliance over it
 * inspects, chooses the root, converts it (Linux or Windows) and shuts
 * down; only then are the overlay's clusters written back into the image
 * (in place) or copied out with the image into a new one.  The image is
 * therefore never written when anything fails, and never at all with an
 * output.
 *
 *   struct guest_pipeline_opts o = {
 *     .target = "kvm", .drivers = dir,
 *     .output = "out.qcow2", .output_format = "qcow2",
 *   };
 *   struct guest_pipeline_result res = { 0 };
 *   if (guest_pipeline_run ("disk.img", &o, &res) == -1) ... error_get ()
 *   ... res.report.changes.ptr[i], res.root, res.accel ...
 *   guest_pipeline_result_free (&res);
 *
 * Nothing here prints; callers see the steps through on_step.
 */
#ifndef FERRY_GUEST_PIPELINE_H
#define FERRY_GUEST_PIPELINE_H

#include <stdbool.h>

#include "lib/guest/bootcheck.h"
#include "lib/guest/convert.h"
#include "lib/guest/inspect.h"
#include "lib/image/copy.h"
#include "lib/image/image.h"

struct guest_pipeline_opts {
  /* "kvm", "xen", "native"; "none" (only with overlay): inspect and
   * call the hooks, convert nothing. */
  const char *target;
  /* The image is a disk (block device, a file standing in for one, an
   * nbd:// URI): read as raw, never probed.  Otherwise its format is
   * probed (raw, qcow2, vhd, vmdk; NBD refused). */
  bool raw;
  /* The root to convert (appliance device, "/dev/sda2") when there are
   * several; NULL: the only one, else choose_root, else an error listing
   * them (never a silent pick). */
  const char *root;
  /* Several roots and no `root`: return the index of the one to convert,
   * or -1 with an error (`ferry convert --root ask` asks on the
   * terminal).  Called with the appliance running. */
  int (*choose_root) (void *opaque, const guest_root_vector *roots);
  /* Windows: the target's driver folder (convert-windows.h); checked
   * before the appliance starts.  NULL: none (a Windows root is then
   * refused, a Linux one needs none). */
  const char *drivers;
  /* Edit the image itself (raw or qcow2 only), through an overlay beside
   * it written back once everything succeeded.  Exclusive with output. */
  bool in_place;
  /* The new image: Ferry's format name ("qcow2", "raw", "vhd", "vmdk"),
   * its create options (NULL: defaults), and whether an existing output
   * is replaced.  The overlay is a hidden temporary beside it (outfile.h:
   * removed on failure or SIGINT/SIGTERM/SIGHUP). */
  const char *output;
  const char *output_format;
  const struct image_create_opts *create;
  bool overwrite;
  /* Work in this qcow2 overlay, which the caller made over the image
   * (of any size: a deploy onto a larger disk) and copies out itself:
   * neither in_place nor output. */
  const char *overlay;
  /* With the appliance running over the image and the root chosen
   * (NULL under target "none" when the image holds no OS): before the
   * conversion, and after it with the root still mounted read-write
   * (Linux).  Deploy fits partitions and filesystems to the disk in the
   * first and reinstalls the bootloader in the second.  -1 fails the run.
   * May be NULL. */
  int (*before_convert) (void *opaque, guestfs_h *g,
                         const struct guest_root *root);
  int (*after_convert) (void *opaque, guestfs_h *g,
                        const struct guest_root *root);
  /* How the image + overlay are copied into output (label, progress hook,
   * retries, strict; copy.h).  With a mask (capture's used blocks) only
   * mask ∪ the overlay's clusters is read: the conversion writes into
   * space the source's bitmaps call free.  NULL: quiet and strict, all
   * of the image. */
  const struct copy_opts *copy;
  /* Boot the output before it is published (bootcheck.h), once on each of
   * the n_verify buses (at most GUEST_PIPELINE_MAX_BOOTS), under OVMF
   * with verify_uefi: a boot that does not reach the login prompt fails
   * the run and nothing is published.  Outputs only (not in_place); not
   * for xen targets, which cannot be booted here. */
  const enum bootcheck_bus *verify_buses;
  size_t n_verify;
  bool verify_uefi;
  /* One line per step ("appliance running on tcg (launched in 12.3 s)",
   * "root /dev/sda1 (debian 12.4)", ...), without newline.  NULL: none. */
  void (*on_step) (void *opaque, const char *line);
  void *opaque;                       /* for choose_root and on_step */
};

#define GUEST_PIPELINE_MAX_BOOTS 4

/* The boot checks made, in order; `failed`: the last one did not boot,
 * and the run failed because of it. */
struct guest_pipeline_boots {
  struct bootcheck_result r[GUEST_PIPELINE_MAX_BOOTS];
  enum bootcheck_bus bus[GUEST_PIPELINE_MAX_BOOTS];
  size_t n;
  bool failed;
};

struct guest_pipeline_result {
  struct convert_report report;       /* every change made */
  struct guest_pipeline_boots boots;
  char *root;                         /* "/dev/sda1 (debian 12.4)" */
  char accel[8];                      /* the appliance's "kvm" or "tcg" */
  struct copy_stats stats;            /* the copy into output */
};

/* The checks that need neither the image nor an appliance: a known
 * target, exactly one of in_place and output, a driver folder holding a
 * storage driver for the target.  guest_pipeline_run makes them first;
 * callers with slow work of their own before it (capture's used-block
 * map) call it earlier too. */
int guest_pipeline_check (const struct guest_pipeline_opts *o);

/* Convert the guest on `image` (a path, or an nbd:// URI with raw).  On
 * failure *res holds what was learnt so far (free it anyway); the image is
 * unchanged and no output exists. */
int guest_pipeline_run (const char *image, const struct guest_pipeline_opts *o,
                        struct guest_pipeline_result *res);

void guest_pipeline_result_free (struct guest_pipeline_result *res);

/* The buses --verify-boot boots a result of `target` on: kvm virtio;
 * native AHCI, then NVMe; none for xen.  Returns how many (at most 2). */
size_t guest_pipeline_verify_buses (const char *target,
                                    enum bootcheck_bus buses[2]);

/* "verify_boot": [{"bus", "outcome", "seconds", "accelerator",
 * "evidence"}...], when any boot was made. */
struct json;
void guest_pipeline_boots_json (struct json *j,
                                const struct guest_pipeline_boots *b);

#endif

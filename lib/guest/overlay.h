/* overlay.h: in-place edits that touch the image only once they all
 * succeeded.  The appliance writes to a qcow2 overlay backed by IMAGE;
 * guest_overlay_commit copies the clusters the overlay holds back into
 * IMAGE and removes it; guest_overlay_abort (or SIGINT/SIGTERM/SIGHUP, via
 * outfile) removes it and IMAGE stays byte-identical.
 *
 *   struct guest_overlay ov = { 0 };
 *   if (guest_overlay_begin (&ov, "disk.img", "raw", size) == -1) ...
 *   ... edit ov.path (format "qcow2") in an appliance ...
 *   if (ok) r = guest_overlay_commit (&ov);
 *   guest_overlay_abort (&ov);            // always; no-op after commit
 */
#ifndef FERRY_GUEST_OVERLAY_H
#define FERRY_GUEST_OVERLAY_H

#include <stdint.h>

#include "lib/common/outfile.h"
#include "lib/image/image.h"

struct guest_overlay {
  struct outfile of;          /* of.tmp is the overlay; never committed */
  const char *path;           /* = of.tmp */
  char *image;                /* owned */
  char *format;               /* IMAGE's: "raw" or "qcow2"; owned */
};

/* Create the overlay beside IMAGE (hidden, ".IMAGE.ferry-tmp-PID-N"). */
int guest_overlay_begin (struct guest_overlay *o, const char *image,
                         const char *format, uint64_t size);

/* A new qcow2 overlay at `path` (the caller's name) backed by `image`
 * (its qemu format `fmt`, named by its absolute path) and `size` bytes
 * big, which may be more than the image's (reads past its end are
 * zeros). */
int guest_overlay_create (const char *path, const char *image,
                          const char *fmt, uint64_t size);
/* Write what the overlay holds into IMAGE and fsync it, with SIGINT,
 * SIGTERM and SIGHUP held off so a signal never leaves IMAGE half-written.
 * raw through the image layer; qcow2 (which the image layer cannot write
 * in place) through a qemu-nbd subprocess (libnbd), no appliance. */
int guest_overlay_commit (struct guest_overlay *o);

void guest_overlay_abort (struct guest_overlay *o);   /* NULL-safe fields */

/* The ranges the overlay itself holds (its extents with the backing
 * detached, so nothing falls through), merged, appended to *out. */
int guest_overlay_written (struct image *ov, extent_vector *out);

/* a ∪ b, both sorted and non-overlapping, merged into *out (EXTENT_DATA):
 * a copy mask (capture's used blocks) plus the overlay's clusters. */
int guest_overlay_union (const extent_vector *a, const extent_vector *b,
                         extent_vector *out);

#endif

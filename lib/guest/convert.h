/* convert.h: converting an inspected, mounted Linux root for a target
 * hypervisor (kvm, xen) or for bare metal (native), and the report of
 * what was done: the guest's changes (guest-edit.h) plus the kernel and
 * initramfs builder chosen.  The whole sequence (appliance, inspection,
 * root choice, Linux or Windows, overlay) is pipeline.h.
 *
 *   struct convert_report rep = { 0 };
 *   if (convert_linux (g, root, "kvm", &rep) == -1) ... error_get ()
 *   ... rep.changes.ptr[i] ...;  convert_report_free (&rep);
 *
 * The root must be mounted read-write (guest_mount_root).  On failure the
 * guest may be half-converted: callers work on an overlay or a copy.
 */
#ifndef FERRY_GUEST_CONVERT_H
#define FERRY_GUEST_CONVERT_H

#include <guestfs.h>

#include "lib/guest/guest-edit.h"
#include "lib/guest/inspect.h"

struct convert_report {
  struct guest_changes changes;
  char *kernel;               /* Linux: the kernel made the default */
  const char *initrd_tool;    /* Linux: "initramfs-tools", "dracut" */
};

/* "kvm", "xen", "native"; -1 with an error for anything else. */
int convert_target_check (const char *target);

int convert_linux (guestfs_h *g, const struct guest_root *root,
                   const char *target, struct convert_report *rep);

void convert_report_free (struct convert_report *rep);

#endif

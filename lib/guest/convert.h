/* convert.h: converting an inspected, mounted Linux root for a target
 * hypervisor (kvm, xen) or for bare metal (native), and the report of
 * every change made.
 *
 *   struct convert_report rep = { 0 };
 *   if (convert_linux (g, root, "kvm", &rep) == -1) ... error_get ()
 *   ... rep.changes ...;  convert_report_free (&rep);
 *
 * The root must be mounted read-write (guest_mount_root).  On failure the
 * guest may be half-converted: callers work on an overlay or a copy.
 */
#ifndef FERRY_GUEST_CONVERT_H
#define FERRY_GUEST_CONVERT_H

#include <guestfs.h>

#include "lib/common/vector.h"
#include "lib/guest/inspect.h"

struct guest_change {
  char *what;                 /* "initramfs", "fstab", "network", ... */
  char *path;                 /* file in the guest, or "" */
  char *detail;               /* one line */
};
DEFINE_VECTOR_TYPE (guest_change_vector, struct guest_change);

struct convert_report {
  guest_change_vector changes;
  char *kernel;               /* the kernel made the default */
  const char *initrd_tool;    /* "initramfs-tools", "dracut" */
};

/* "kvm", "xen", "native"; -1 with an error for anything else. */
int convert_target_check (const char *target);

int convert_linux (guestfs_h *g, const struct guest_root *root,
                   const char *target, struct convert_report *rep);

/* convert_linux's checks (free space, an initramfs builder, a kernel with
 * the target's drivers) with the root mounted read-only, unmounted again
 * before returning: run it before mounting the root read-write. */
int convert_linux_preflight (guestfs_h *g, const struct guest_root *root,
                             const char *target);

/* Append a change (copies the strings). */
int convert_report_add (struct convert_report *rep, const char *what,
                        const char *path, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

void convert_report_free (struct convert_report *rep);

#endif

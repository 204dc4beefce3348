/* convert-windows.h: the registry side of storage driver injection for a
 * Windows guest, from a folder of driver files the user gives
 * (virtio-win's viostor/vioscsi/netkvm, or Xen PV drivers).
 *
 *   if (windows_drivers_check (dir, "kvm") == -1) ...   // before launching
 *   ... launch, inspect, choose a Windows root ...
 *   if (convert_windows (g, root, "kvm", dir, &rep) == -1) ... error_get ()
 *
 * convert_windows mounts the root itself: read-only first, to refuse a
 * hibernated Windows before anything is written, then read-write (a dirty
 * NTFS is refused there).  All checks come before the first write; on a
 * later failure the guest may be half-converted: callers work on an
 * overlay or a copy.
 */
#ifndef FERRY_GUEST_CONVERT_WINDOWS_H
#define FERRY_GUEST_CONVERT_WINDOWS_H

#include <guestfs.h>

#include "lib/common/vector.h"
#include "lib/guest/convert.h"
#include "lib/guest/inspect.h"
#include "lib/guest/windows-inf.h"

/* Folders are searched this deep (virtio-win: DRIVER/OS/ARCH/x.inf) and
 * at most this many .inf files are read. */
#define WIN_DRIVERS_MAX_DEPTH 4
#define WIN_DRIVERS_MAX_INFS 512
/* A .sys or .cat larger than this is refused (viostor.sys is ~100 KiB). */
#define WIN_DRIVER_MAX_FILE (64 * 1024 * 1024)

/* Where the driver packages are staged in the guest, below %SystemRoot%;
 * DevicePath names it so Plug and Play finishes the install. */
#define WIN_STAGING_DIR "Drivers\\Ferry"

struct win_driver {
  char *dir;                  /* the host folder holding the .inf */
  char *inf_name;             /* "viostor.inf", as spelled there */
  struct win_inf inf;
};
DEFINE_VECTOR_TYPE (win_driver_vector, struct win_driver);

/* Read every .inf below `dir`.  -1 with an error naming a bad file. */
int windows_drivers_load (const char *dir, win_driver_vector *out);
void windows_drivers_free (win_driver_vector *v);

/* `dir` holds a storage driver for target (any arch or version); the
 * cheap check made before an appliance is launched. */
int windows_drivers_check (const char *dir, const char *target);

int convert_windows (guestfs_h *g, const struct guest_root *root,
                     const char *target, const char *drivers_dir,
                     struct convert_report *rep);

#endif

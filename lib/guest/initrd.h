/* initrd.h: the initramfs builders of Linux guests behind one small
 * interface: initramfs-tools (Debian/Ubuntu) and dracut (Fedora/RHEL,
 * Debian with dracut); SUSE's mkinitrd would be a third table.
 *
 * All functions run inside the appliance on the mounted guest root.
 */
#ifndef FERRY_GUEST_INITRD_H
#define FERRY_GUEST_INITRD_H

#include <stdbool.h>

#include <guestfs.h>

#include "guest/convert.h"

struct initrd_ops {
  const char *name;
  /* Is this the guest's builder? */
  bool (*detect) (guestfs_h *g);
  /* The initramfs file of kernel `kver` (it may not exist yet); caller
   * frees. */
  char *(*path) (guestfs_h *g, const struct guest_root *root,
                 const char *kver);
  /* Record the modules (and, for native, a generic image) in the guest's
   * own configuration, so later kernel updates keep them. */
  int (*configure) (guestfs_h *g, const char *target,
                    const char *const *mods, struct convert_report *rep);
  /* Build `path` for `kver` with `mods`. */
  int (*rebuild) (guestfs_h *g, const char *kver, const char *path,
                  const char *target, const char *const *mods);
};

extern const struct initrd_ops initrd_dracut_ops, initrd_tools_ops;

/* Run a shell command in the guest; output discarded.  On failure the
 * error is "WHAT: <libguestfs error>". */
int guest_sh (guestfs_h *g, const char *what, const char *cmd);

/* Replace a guest file's text through `fn` and report it when it changed.
 * A missing file is not an error (nothing to do). */
typedef char *(*text_fn) (const char *text, void *ctx, int *changed);
int guest_edit_file (guestfs_h *g, const char *path, text_fn fn, void *ctx,
                     struct convert_report *rep, const char *what,
                     const char *detail);

#endif

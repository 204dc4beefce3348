/* initrd-tools.c: initramfs-tools (Debian, Ubuntu) as an initrd_ops. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/initrd.h"
#include "lib/guest/session.h"
#include "lib/guest/linux-kernel.h"
#include "lib/guest/linux-text.h"

static bool
tools_detect (guestfs_h *g)
{
  return (guestfs_is_file (g, "/usr/sbin/update-initramfs") > 0 ||
          guestfs_is_file (g, "/sbin/update-initramfs") > 0) &&
    guestfs_is_dir (g, "/etc/initramfs-tools") > 0;
}

static char *
tools_path (guestfs_h *g, const struct guest_root *root, const char *kver)
{
  (void) g;
  (void) root;
  return xasprintf ("/boot/initrd.img-%s", kver);
}

static char *
add_modules (const char *text, void *ctx, int *changed)
{
  return lkernel_modules_file_add (text, ctx, "added by ferry convert",
                                   changed);
}

static char *
modules_most (const char *text, void *ctx, int *changed)
{
  (void) ctx;
  return ltext_kv_set (text, "MODULES", "most", changed);
}

static int
tools_configure (guestfs_h *g, const char *target, const char *const *mods,
                 struct guest_changes *ch)
{
  const char *modfile = "/etc/initramfs-tools/modules";

  /* MODULES=list (or dep) keeps working: listed modules are always in. */
  if (guestfs_is_file (g, modfile) == 0 &&
      guestfs_write (g, modfile, "", 0) == -1)
    return guest_error (g, modfile);
  if (guest_edit_file (g, modfile, add_modules, (void *) mods, ch,
                       "initramfs", "added the target's drivers") == -1)
    return -1;
  if (strcmp (target, "native") != 0)
    return 0;
  return guest_edit_file (g, "/etc/initramfs-tools/initramfs.conf",
                          modules_most, NULL, ch, "initramfs",
                          "MODULES=most: a generic, non-host-only image");
}

static int
tools_rebuild (guestfs_h *g, const char *kver, const char *path,
               const char *target, const char *const *mods)
{
  char *cmd;
  int r;

  (void) target;
  (void) mods;
  cmd = xasprintf ("update-initramfs -%c -k '%s' 2>&1",
                   guestfs_is_file (g, path) > 0 ? 'u' : 'c', kver);
  if (cmd == NULL)
    return -1;
  r = guest_sh (g, "update-initramfs", cmd);
  free (cmd);
  return r;
}

const struct initrd_ops initrd_tools_ops = {
  .name = "initramfs-tools",
  .detect = tools_detect,
  .path = tools_path,
  .configure = tools_configure,
  .rebuild = tools_rebuild,
};

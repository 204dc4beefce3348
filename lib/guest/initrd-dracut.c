/* initrd-dracut.c: dracut (Fedora, RHEL, Debian with dracut) as an
 * initrd_ops. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/initrd.h"
#include "lib/guest/session.h"

static const char conf_path[] = "/etc/dracut.conf.d/90-ferry.conf";

static bool
dracut_detect (guestfs_h *g)
{
  return guestfs_is_file (g, "/usr/bin/dracut") > 0 ||
    guestfs_is_file (g, "/usr/sbin/dracut") > 0 ||
    guestfs_is_file (g, "/sbin/dracut") > 0;
}

/* Fedora/RHEL: /boot/initramfs-KVER.img; Debian's dracut keeps Debian's
 * /boot/initrd.img-KVER. */
static char *
dracut_path (guestfs_h *g, const struct guest_root *root, const char *kver)
{
  char *fedora = xasprintf ("/boot/initramfs-%s.img", kver);
  char *debian = xasprintf ("/boot/initrd.img-%s", kver);
  bool deb;

  if (fedora == NULL || debian == NULL)
    goto pick_fedora;
  if (guestfs_is_file (g, fedora) > 0)
    goto pick_fedora;
  deb = guestfs_is_file (g, debian) > 0 ||
    strcmp (root->package_format, "deb") == 0;
  if (deb) {
    free (fedora);
    return debian;
  }
pick_fedora:
  free (debian);
  return fedora;
}

static char *
mods_joined (const char *const *mods)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  strbuf_add (&sb, "", 0);
  for (i = 0; mods[i]; i++)
    strbuf_addf (&sb, "%s%s", i ? " " : "", mods[i]);
  return sb.buf;
}

static int
dracut_configure (guestfs_h *g, const char *target, const char *const *mods,
                  struct guest_changes *ch)
{
  char *list = mods_joined (mods), *text;
  int r = -1;

  if (list == NULL)
    return -1;
  text = xasprintf ("# Written by ferry convert --to %s.\n"
                    "add_drivers+=\" %s \"\n%s", target, list,
                    strcmp (target, "native") == 0 ? "hostonly=\"no\"\n" : "");
  if (text == NULL)
    goto out;
  if (guestfs_mkdir_p (g, "/etc/dracut.conf.d") == -1 ||
      guestfs_write (g, conf_path, text, strlen (text)) == -1) {
    guest_error (g, conf_path);
    goto out;
  }
  r = guest_changes_add (ch, "initramfs", conf_path, "add_drivers: %s%s",
                         list, strcmp (target, "native") == 0
                         ? "; hostonly=no" : "");
out:
  free (list);
  free (text);
  return r;
}

static int
dracut_rebuild (guestfs_h *g, const char *kver, const char *path,
                const char *target, const char *const *mods)
{
  char *list = mods_joined (mods), *cmd;
  int r;

  if (list == NULL)
    return -1;
  cmd = xasprintf ("dracut -f %s--add-drivers '%s' '%s' '%s' 2>&1",
                   strcmp (target, "native") == 0 ? "--no-hostonly " : "",
                   list, path, kver);
  free (list);
  if (cmd == NULL)
    return -1;
  r = guest_sh (g, "dracut", cmd);
  free (cmd);
  return r;
}

const struct initrd_ops initrd_dracut_ops = {
  .name = "dracut",
  .detect = dracut_detect,
  .path = dracut_path,
  .configure = dracut_configure,
  .rebuild = dracut_rebuild,
};

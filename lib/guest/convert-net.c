/* convert-net.c: a Linux guest's network and guest tools for the new
 * hardware: persistent-net rules and MAC pins out, static addresses kept,
 * foreign hypervisor tools removed. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/common/strv.h"
#include "lib/guest/convert-linux.h"
#include "lib/guest/guest-edit.h"
#include "lib/guest/linux-net.h"
#include "lib/guest/session.h"

/* Packages of other hypervisors' tools (deb and rpm names). */
static const char foreign_tools[] =
  "open-vm-tools open-vm-tools-desktop open-vm-tools-sdmp "
  "virtualbox-guest-utils virtualbox-guest-x11 virtualbox-guest-dkms "
  "virtualbox-guest-additions";

static char *
removal_script (const char *pkgfmt, const char *target)
{
  const char *xe = strcmp (target, "xen") ? " xe-guest-utilities" : "";

  /* One query for all the names (each program run costs a lot under
   * TCG), then a purge per installed one. */
  if (strcmp (pkgfmt, "deb") == 0)
    return xasprintf ("for p in $(dpkg-query -W -f='${Status} ${Package}\\n' "
                      "%s%s 2>/dev/null | "
                      "awk '$2 == \"ok\" && $3 == \"installed\" "
                      "{ print $4 }'); do "
                      "if dpkg --purge \"$p\" >/dev/null 2>&1; then "
                      "echo \"removed $p\"; else echo \"failed $p\"; fi; "
                      "done", foreign_tools, xe);
  if (strcmp (pkgfmt, "rpm") == 0)
    return xasprintf ("for p in $(rpm -q --qf '%%{NAME}\\n' %s%s "
                      "2>/dev/null | grep -v ' '); do "
                      "if rpm -e --nodeps \"$p\" >/dev/null 2>&1; then "
                      "echo \"removed $p\"; else echo \"failed $p\"; fi; "
                      "done", foreign_tools, xe);
  return NULL;
}

static int
report_removals (char **lines, struct guest_changes *ch)
{
  size_t i;

  for (i = 0; lines[i]; i++) {
    char *sp = strchr (lines[i], ' ');
    if (sp == NULL)
      continue;
    *sp = '\0';
    if (guest_changes_add (ch, "package", sp + 1, "%s",
                           strcmp (lines[i], "removed") == 0
                           ? "foreign guest tools removed"
                           : "foreign guest tools: removal failed") == -1)
      return -1;
  }
  return 0;
}

/* Tarball-installed VMware Tools have their own uninstaller. */
static int
remove_vmware_tarball (guestfs_h *g, struct guest_changes *ch)
{
  static const char tool[] = "/usr/bin/vmware-uninstall-tools.pl";
  char *out;

  if (guestfs_is_file (g, tool) <= 0)
    return 0;
  out = guestfs_sh (g, "/usr/bin/vmware-uninstall-tools.pl </dev/null 2>&1");
  free (out);
  return guest_changes_add (ch, "package", tool, out
                            ? "VMware Tools (tarball) uninstalled"
                            : "VMware Tools (tarball): uninstaller failed");
}

/* Whether dpkg may hold one of the foreign tools: a file list of one of
 * them (dpkg keeps NAME.list, or NAME:ARCH.list, exactly while a package
 * is unpacked or installed).  Three globs cost a fraction of running the
 * query; true when in doubt. */
static bool
dpkg_may_hold (guestfs_h *g, const char *target)
{
  static const char *const globs[] = {
    "/var/lib/dpkg/info/open-vm-tools*.list",
    "/var/lib/dpkg/info/virtualbox-guest-*.list",
    "/var/lib/dpkg/info/xe-guest-utilities*.list", NULL };
  size_t i;

  if (guestfs_is_dir (g, "/var/lib/dpkg/info") <= 0)
    return true;
  for (i = 0; globs[i]; i++) {
    char **hits;
    bool any;
    if (strstr (globs[i], "xe-guest") && strcmp (target, "xen") == 0)
      continue;                 /* kept for Xen */
    if ((hits = guestfs_glob_expand (g, globs[i])) == NULL)
      return true;
    any = hits[0] != NULL;
    strv_free (hits);
    if (any)
      return true;
  }
  return false;
}

int
linux_remove_foreign_tools (guestfs_h *g, const struct guest_root *root,
                            const char *target, struct guest_changes *ch)
{
  char *script = NULL;
  char **lines;
  int r = 0;

  if (strcmp (root->package_format, "deb") != 0 || dpkg_may_hold (g, target))
    script = removal_script (root->package_format, target);
  if (script != NULL) {
    lines = guestfs_sh_lines (g, script);
    free (script);
    if (lines == NULL)          /* best effort: say so, go on */
      r = guest_changes_add (ch, "package", "", "could not query the "
                             "package manager for foreign guest tools");
    else {
      r = report_removals (lines, ch);
      for (size_t i = 0; lines[i]; i++)
        free (lines[i]);
      free (lines);
    }
  }
  if (r == 0)
    r = remove_vmware_tarball (g, ch);
  return r;
}

static char *
t_networkd (const char *text, void *ctx, int *changed)
{
  (void) ctx;
  return lnet_networkd_drop_mac (text, changed);
}

static char *
t_ifcfg (const char *text, void *ctx, int *changed)
{
  (void) ctx;
  return lnet_ifcfg_drop_mac (text, changed);
}

static char *
t_nm (const char *text, void *ctx, int *changed)
{
  (void) ctx;
  return lnet_nmkeyfile_drop_mac (text, changed);
}

static char *
t_netplan (const char *text, void *ctx, int *changed)
{
  (void) ctx;
  return lnet_netplan_drop_mac (text, changed);
}

static const struct {
  const char *glob;
  guest_text_fn fn;
  const char *detail;
} net_files[] = {
  { "/etc/systemd/network/*.network", t_networkd,
    "[Match] MAC pin removed (matches Name=en* eth* if nothing else); "
    "addresses kept" },
  { "/etc/sysconfig/network-scripts/ifcfg-*", t_ifcfg,
    "HWADDR= pin removed; addresses kept" },
  { "/etc/NetworkManager/system-connections/*", t_nm,
    "mac-address= and interface-name= removed; addresses kept" },
  { "/etc/netplan/*.yaml", t_netplan,
    "macaddress/set-name removed (match: name: e*); addresses kept" },
};

static int
edit_glob (guestfs_h *g, size_t k, struct guest_changes *ch)
{
  char **files = guestfs_glob_expand (g, net_files[k].glob);
  size_t i;
  int r = 0;

  if (files == NULL)
    return guest_error (g, net_files[k].glob);
  for (i = 0; files[i]; i++) {
    if (r == 0)
      r = guest_edit_file (g, files[i], net_files[k].fn, NULL, ch, "network",
                           net_files[k].detail);
    free (files[i]);
  }
  free (files);
  return r;
}

int
linux_pin_ifupdown (guestfs_h *g, const char *target,
                    struct guest_changes *ch)
{
  static const char ifaces[] = "/etc/network/interfaces";
  const char *driver = strcmp (target, "kvm") == 0 ? "virtio_net"
    : strcmp (target, "xen") == 0 ? "vif" : NULL;
  struct strbuf names = STRBUF_INIT;
  char *text, *link = NULL, *body = NULL;
  size_t size;
  int r = 0, n;

  if (driver == NULL || guestfs_is_file (g, ifaces) <= 0)
    return 0;
  if ((text = guest_read_file (g, ifaces, &size)) == NULL)
    return guest_error (g, ifaces);
  n = lnet_ifupdown_static_ifaces (text, &names);
  free (text);
  if (n == 1 &&
      (link = xasprintf ("/etc/systemd/network/10-ferry-%s.link", names.buf)) &&
      (body = xasprintf ("# Written by ferry convert: the %s NIC keeps the "
                         "name %s uses.\n[Match]\nDriver=%s\n\n[Link]\n"
                         "Name=%s\n", driver, ifaces, driver, names.buf))) {
    if (guestfs_mkdir_p (g, "/etc/systemd/network") == -1 ||
        guestfs_write (g, link, body, strlen (body)) == -1)
      r = guest_error (g, link);
    else
      r = guest_changes_add (ch, "network", link, "the %s NIC is named %s "
                             "(static stanza in %s kept)", driver, names.buf,
                             ifaces);
  }
  else if (n > 1)
    r = guest_changes_add (ch, "network", ifaces, "several static "
                           "interfaces (%s): names not pinned, check them",
                           names.buf);
  strbuf_release (&names);
  free (link);
  free (body);
  return r;
}

int
linux_edit_network (guestfs_h *g, const char *target,
                    struct guest_changes *ch)
{
  static const char rules[] = "/etc/udev/rules.d/70-persistent-net.rules";
  size_t k;

  (void) target;
  if (guestfs_is_file (g, rules) > 0) {
    if (guestfs_rm (g, rules) == -1)
      return guest_error (g, rules);
    if (guest_changes_add (ch, "network", rules, "removed (NIC names "
                           "pinned to the old MACs)") == -1)
      return -1;
  }
  for (k = 0; k < sizeof net_files / sizeof net_files[0]; k++)
    if (edit_glob (g, k, ch) == -1)
      return -1;
  return linux_pin_ifupdown (g, target, ch);
}

/* linux-text.h: the pure text transforms of Linux guest conversion.
 *
 * Every function here works on strings only (no appliance), so that the
 * unit tests (tests/unit/test-convert-linux.c) cover them.  Transforms
 * take a file's text and return a new malloc'd text the caller frees (NULL
 * with the error set on ENOMEM), and add the number of edits made to
 * *changed (0: the text is returned unchanged).
 */
#ifndef FERRY_GUEST_LINUX_TEXT_H
#define FERRY_GUEST_LINUX_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/common/vector.h"

struct strbuf;

/* Device names -> filesystem UUIDs, keyed by (disk index, partition). */
struct devmap_entry {
  unsigned disk;              /* 0 for sda/hda/xvda/vda/nvme0n1 */
  unsigned part;              /* 0 = the whole disk */
  char *uuid;                 /* owned */
};
DEFINE_VECTOR_TYPE (devmap, struct devmap_entry);
void devmap_free (devmap *m);

/* Parse /dev/sdX[N], /dev/hdX[N], /dev/xvdX[N], /dev/vdX[N] (X: a..z, aa..)
 * and /dev/nvmeCnN[pP].  Returns 0, or -1 for anything else. */
int devname_parse (const char *name, unsigned *disk, unsigned *part);

/* The UUID for a device name, or NULL (not a disk name, or not mapped). */
const char *devmap_lookup (const devmap *m, const char *name);

/* fstab (field 0) and crypttab (field 1): device names -> UUID=. */
char *table_rewrite_devices (const char *text, int field, const devmap *m,
                             int *changed);

/* Kernel command line (words): root=/resume= device names -> UUID=. */
char *cmdline_rewrite_devices (const char *cmdline, const devmap *m,
                               int *changed);

/* Kernel command line: the serial console for a target.  "xen": keep
 * console=ttyS* (HVM) and end with console=hvc0 (PV; the last console= is
 * /dev/console); "kvm"/"native": console=hvc0/xvc0 become ttyS0, and
 * console=ttyS0,115200n8 is added when no ttyS console is present. */
char *cmdline_set_console (const char *cmdline, const char *target,
                           int *changed);

/* /etc/default/grub: GRUB_CMDLINE_LINUX{,_DEFAULT} through the two
 * cmdline transforms above (the console only in GRUB_CMDLINE_LINUX, which
 * is added if missing), GRUB_DISABLE_LINUX_UUID=true commented out. */
char *grub_default_edit (const char *text, const char *target,
                         const devmap *m, int *changed);

/* Shell-style KEY=value lines (initramfs-tools conf.d/resume: RESUME=):
 * a device name value becomes UUID=... */
char *kv_rewrite_device (const char *text, const char *key, const devmap *m,
                         int *changed);

/* Set KEY=value (replacing the first uncommented KEY= line, else appended). */
char *kv_set (const char *text, const char *key, const char *value,
              int *changed);

/* /etc/initramfs-tools/modules: append the modules not listed yet. */
char *modules_file_add (const char *text, const char *const *mods,
                        const char *comment, int *changed);

/* MAC pins out, static addresses kept:
 *  networkd .network: [Match] MACAddress=/PermanentMACAddress= removed; a
 *    [Match] left without a condition gets "Name=en* eth*";
 *  ifcfg: HWADDR= removed;
 *  NetworkManager keyfile: [ethernet] mac-address= and [connection]
 *    interface-name= removed (the profile then applies to the new NIC);
 *  netplan: "macaddress:" and "set-name:" removed; an emptied "match:"
 *    gets `name: "e*"`. */
char *networkd_drop_mac (const char *text, int *changed);
char *ifcfg_drop_mac (const char *text, int *changed);
char *nmkeyfile_drop_mac (const char *text, int *changed);
char *netplan_drop_mac (const char *text, int *changed);

/* ifupdown (/etc/network/interfaces): the distinct interfaces with a
 * static stanza ("iface NAME inet static", lo and NAME:alias/NAME.vlan
 * counted as NAME), space-separated into *names.  Returns the count. */
int ifupdown_static_ifaces (const char *text, struct strbuf *names);

/* Compare kernel versions ("6.1.0-27-amd64" < "6.1.0-28-amd64" <
 * "6.10.0-1-amd64"): numeric runs compared as numbers. */
int kernel_version_cmp (const char *a, const char *b);

/* Which of `drivers` (names as "virtio_blk" or "xen-blkfront": '-' and '_'
 * are the same) are neither among `module_paths` (any path ending in
 * NAME.ko, NAME.ko.xz, .ko.zst, .ko.gz) nor in `builtin` (the text of
 * modules.builtin).  Appends the missing names, comma-separated, to
 * *missing; returns how many are missing. */
int kernel_missing_drivers (const char *const *module_paths, size_t n,
                            const char *builtin, const char *const *drivers,
                            struct strbuf *missing);

/* A list of malloc'd strings (module paths). */
DEFINE_VECTOR_TYPE (path_vector, char *);
void path_vector_free (path_vector *v);
bool path_vector_has (const path_vector *v, const char *s);

/* modules.dep text ("kernel/a/x.ko: kernel/b/y.ko ...", paths relative to
 * /lib/modules/KVER): append to *out the paths of the modules `names`
 * (NULL-terminated; '-' and '_' alike, any .ko[.xz|.zst|.gz]) and of all
 * they depend on, dependencies first as depmod lists them, without
 * duplicates.  The text is the guest's, so hostile: a path that is
 * absolute, holds ".." or odd characters is an error; so is a name
 * without a line ("module 'x' is not in modules.dep"). */
int moddep_closure (const char *moddep, const char *const *names,
                    path_vector *out);

/* grub.cfg already boots `target`: it has kernel lines, and on each
 * root= and resume= name no device (sdX, vdX...: UUID=, LABEL=, LVM are
 * stable) and cmdline_set_console would change nothing.  Then
 * regenerating it (update-grub: half a minute under TCG) is not needed. */
bool grub_cfg_ready (const char *text, const char *target);

#endif

/* linux-boot.h: the kernel command line and GRUB of a Linux guest.  Pure
 * string functions; see linux-text.h for the conventions.
 */
#ifndef FERRY_GUEST_LINUX_BOOT_H
#define FERRY_GUEST_LINUX_BOOT_H

#include <stdbool.h>

#include "lib/guest/linux-devmap.h"

/* Kernel command line (words): root=/resume= device names -> UUID=. */
char *lboot_cmdline_rewrite_devices (const char *cmdline, const devmap *m,
                                     int *changed);

/* Kernel command line: the serial console for a target.  "xen": keep
 * console=ttyS* (HVM) and end with console=hvc0 (PV; the last console= is
 * /dev/console); "kvm"/"native": console=hvc0/xvc0 become ttyS0, and
 * console=ttyS0,115200n8 is added when no ttyS console is present. */
char *lboot_cmdline_set_console (const char *cmdline, const char *target,
                                 int *changed);

/* /etc/default/grub: GRUB_CMDLINE_LINUX{,_DEFAULT} through the two
 * cmdline transforms above (the console only in GRUB_CMDLINE_LINUX, which
 * is added if missing), GRUB_DISABLE_LINUX_UUID=true commented out. */
char *lboot_grub_default_edit (const char *text, const char *target,
                               const devmap *m, int *changed);

/* grub.cfg already boots `target`: it has kernel lines, and on each
 * root= and resume= name no device (sdX, vdX...: UUID=, LABEL=, LVM are
 * stable) and lboot_cmdline_set_console would change nothing.  Then
 * regenerating it (update-grub: half a minute under TCG) is not needed. */
bool lboot_grub_cfg_ready (const char *text, const char *target);

#endif

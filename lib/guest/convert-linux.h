/* convert-linux.h: the steps of Linux conversion (convert-linux.c runs
 * them in order); each reports its changes and returns 0 or -1. */
#ifndef FERRY_GUEST_CONVERT_LINUX_H
#define FERRY_GUEST_CONVERT_LINUX_H

#include <stdbool.h>

#include <guestfs.h>

#include "lib/guest/convert.h"

/* convert-net.c: VMware Tools, VirtualBox additions, xe-guest-utilities
 * (unless the target is xen) removed with the guest's package manager,
 * best effort: a failed removal is reported, not fatal. */
int linux_remove_foreign_tools (guestfs_h *g, const struct guest_root *root,
                                const char *target,
                                struct guest_changes *ch);

/* convert-net.c: persistent-net rules removed, MAC pins dropped, static
 * addresses kept. */
int linux_edit_network (guestfs_h *g, const char *target,
                        struct guest_changes *ch);

/* convert-net.c: ifupdown names its interfaces, and the new NIC gets a
 * new name: with exactly one statically configured interface and a target
 * whose NIC driver is known (kvm: virtio_net, xen: vif), a systemd .link
 * file gives the new NIC the old name, so the stanza applies unchanged. */
int linux_pin_ifupdown (guestfs_h *g, const char *target,
                        struct guest_changes *ch);

/* convert-boot.c: fstab, crypttab, resume and the GRUB command line by
 * UUID; the target's serial console. */
int linux_edit_devices (guestfs_h *g, const char *target,
                        struct guest_changes *ch);

/* convert-boot.c: kernel `kver` the default (unless it is the newest,
 * which GRUB boots anyway), grub.cfg regenerated unless nothing it is made
 * from changed and it already boots `target` (lboot_grub_cfg_ready), UEFI
 * fallback loader. */
int linux_update_bootloader (guestfs_h *g, const struct guest_root *root,
                             const char *kver, bool newest,
                             const char *target, struct guest_changes *ch);

#endif

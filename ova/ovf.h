/* ovf.h: the OVF descriptor codec — struct vm to and from an OVF 1.0
 * envelope in the VMware, VirtualBox and XenServer flavours.
 *
 * Writing: ovf_write() appends a complete document to `out` only on
 * success (nothing is appended on error).  Where a flavour cannot express
 * part of the model the writer maps it and says so here:
 *   - buses: VMware has no virtio/Xen bus (→ SCSI lsilogic); VirtualBox has
 *     no virtio/Xen/NVMe bus (→ SATA AHCI); XenServer writes Xen, virtio
 *     and NVMe disks without a controller (XenCenter's own shape).  A
 *     remapped disk takes the first free unit on its new bus.
 *   - NIC models VMware/VirtualBox cannot name become E1000; a NIC without
 *     a network is connected to "VM Network".
 *   - disk formats: "vmdk" → the streamOptimized URI, "vhd" → the VHD
 *     spec URI, NULL → the flavour's own (VMDK, VMDK, VHD); others refused.
 *   - the VM UUID is written as <vmw:Config vmw:key="uuid"> in the
 *     VirtualHardwareSection in every flavour (vSphere applies it on
 *     deploy; others ignore it because ovf:required="false"), and read
 *     back from there, or else from VirtualBox's vbox:Machine uuid.
 *   - UEFI: vmw:Config firmware=efi in every flavour, plus XenCenter's
 *     HVM_boot_params firmware=uefi in the XenServer flavour.
 *
 * Reading: ovf_parse() accepts OVF 1.x and 2.0 envelopes as written by
 * VMware ovftool, VirtualBox, XenCenter and Ferry.  The input is hostile:
 * documents with a DOCTYPE (hence any entity) are refused, nothing is
 * fetched from the network, sizes and counts are capped, file names must
 * be plain names inside the package.  Errors are one line:
 * "ovf: 'WHAT': problem".
 */
#ifndef FERRY_OVF_H
#define FERRY_OVF_H

#include <stddef.h>

#include "lib/common/strbuf.h"
#include "ova/vm.h"

enum ovf_flavour { OVF_VMWARE = 0, OVF_VIRTUALBOX, OVF_XENSERVER };

/* Largest OVF document ovf_parse() reads (real ones are a few KiB). */
#define OVF_MAX_SIZE (16u << 20)
/* Largest number of Items in a VirtualHardwareSection. */
#define OVF_MAX_ITEMS 1024
/* Largest disk unit (position on its bus) either direction accepts. */
#define OVF_MAX_UNIT 4095

struct ovf_write_options {
  enum ovf_flavour flavour;
  /* vssd:VirtualSystemType; NULL = the flavour's default ("vmx-14",
   * "virtualbox-2.2", "hvm-3.0-unknown").  Pass "xen-3.0-unknown" for a
   * paravirtualised XenServer guest (the VM model has no PV flag). */
  const char *system_type;
};

/* Append the OVF descriptor of `vm` to `out`.  The VM is checked with
 * vm_validate() first.  -1 + error on failure. */
int ovf_write (const struct vm *vm, enum ovf_flavour flavour,
               struct strbuf *out);
int ovf_write_opts (const struct vm *vm, const struct ovf_write_options *o,
                    struct strbuf *out);

/* Parse `len` bytes of OVF into `vm`, which the call initialises (any
 * previous content is not freed).  `what` names the source in errors
 * (NULL: "<memory>").  On success the caller owns vm (vm_free); on error
 * vm is left empty and the error is set. */
int ovf_parse (const char *xml, size_t len, const char *what, struct vm *vm);

/* "vmware", "virtualbox", "xenserver" and back (-1 + error if unknown). */
const char *ovf_flavour_name (enum ovf_flavour f);
int ovf_flavour_parse (const char *s, enum ovf_flavour *f);

#endif

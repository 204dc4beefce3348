/* target.h: what a VM becomes for each hypervisor — the disk format, the
 * kind of definition written beside the disks, and the choices that follow
 * from the target (the vendor prefix of new MACs, the bus of new disks).
 *
 * The table serves `ferry import --to TARGET`; a writer whose output is
 * not in it (`ferry export`, the capture agent) describes its output with
 * a struct ova_target of its own (name and formats may stay NULL), so the
 * choices are made in one place.
 */
#ifndef FERRY_OVA_TARGET_H
#define FERRY_OVA_TARGET_H

#include <stdint.h>

#include "ova/libvirt.h"
#include "ova/ovf.h"
#include "ova/vm.h"

/* The definition that goes with the disks. */
enum ova_out {
  OVA_OUT_LIBVIRT,              /* libvirt domain XML (libvirt.h) */
  OVA_OUT_PS1,                  /* Hyper-V PowerShell script (hyperv.h) */
  OVA_OUT_OVA,                  /* an OVA holding the disks (ova-write.h) */
  OVA_OUT_XVA,                  /* a XenServer XVA (xva-write.h) */
};

struct ova_target {
  const char *name;                     /* "libvirt", "hyperv", ... */
  const char *format;                   /* image layer format */
  const char *subformat;                /* NULL: the format's default */
  const char *ext;                      /* disk file extension */
  enum ova_out out;
  enum libvirt_flavour libvirt;         /* OVA_OUT_LIBVIRT */
  enum ovf_flavour ovf;                 /* OVA_OUT_OVA */
};

/* The import targets: libvirt, raw, xen, hyperv, vmware, virtualbox.  NULL
 * (no error set) for an unknown name. */
const struct ova_target *ova_target_find (const char *name);

/* The vendor prefix of MACs made for the target (ids.h): Xen's for a Xen
 * domain, an XVA or a XenServer OVF, KVM's for other libvirt domains,
 * Hyper-V's for the script, VirtualBox's or VMware's for an OVA. */
const uint8_t *ova_target_mac_prefix (const struct ova_target *t);

/* The bus a new disk goes on: xen for the Xen outputs above, virtio for a
 * KVM domain, SATA for VirtualBox, SCSI for VMware (and for the Hyper-V
 * script, which places each disk itself). */
enum vm_bus ova_target_bus (const struct ova_target *t);

#endif

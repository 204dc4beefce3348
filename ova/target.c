/* target.c: the hypervisor targets and the choices that follow from them
 * (target.h). */
#include "lib/common/compat.h"

#include <stdbool.h>
#include <string.h>

#include "lib/common/ids.h"
#include "ova/target.h"

static const struct ova_target targets[] = {
  { "libvirt", "qcow2", NULL, "qcow2", OVA_OUT_LIBVIRT, LIBVIRT_KVM,
    OVF_VMWARE },
  { "raw", "raw", NULL, "img", OVA_OUT_LIBVIRT, LIBVIRT_KVM, OVF_VMWARE },
  { "xen", "vhd", "dynamic", "vhd", OVA_OUT_LIBVIRT, LIBVIRT_XEN, OVF_VMWARE },
  { "hyperv", "vhd", "dynamic", "vhd", OVA_OUT_PS1, LIBVIRT_KVM, OVF_VMWARE },
  { "vmware", "vmdk", NULL, "vmdk", OVA_OUT_OVA, LIBVIRT_KVM, OVF_VMWARE },
  { "virtualbox", "vmdk", NULL, "vmdk", OVA_OUT_OVA, LIBVIRT_KVM,
    OVF_VIRTUALBOX },
};

/* At file scope ids.h's compound literals have static storage. */
static const uint8_t *const prefix_xen = IDS_MAC_PREFIX_XEN;
static const uint8_t *const prefix_kvm = IDS_MAC_PREFIX_KVM;
static const uint8_t *const prefix_vmware = IDS_MAC_PREFIX_VMWARE;
static const uint8_t *const prefix_hyperv = IDS_MAC_PREFIX_HYPERV;
static const uint8_t *const prefix_vbox = IDS_MAC_PREFIX_VIRTUALBOX;

const struct ova_target *
ova_target_find (const char *name)
{
  size_t i;

  for (i = 0; i < sizeof targets / sizeof targets[0]; i++)
    if (strcmp (name, targets[i].name) == 0)
      return &targets[i];
  return NULL;
}

/* Whether the target runs the VM on Xen. */
static bool
is_xen (const struct ova_target *t)
{
  switch (t->out) {
  case OVA_OUT_XVA:
    return true;
  case OVA_OUT_LIBVIRT:
    return t->libvirt == LIBVIRT_XEN;
  case OVA_OUT_OVA:
    return t->ovf == OVF_XENSERVER;
  case OVA_OUT_PS1:
    break;
  }
  return false;
}

const uint8_t *
ova_target_mac_prefix (const struct ova_target *t)
{
  if (is_xen (t))
    return prefix_xen;
  if (t->out == OVA_OUT_LIBVIRT)
    return prefix_kvm;
  if (t->out == OVA_OUT_PS1)
    return prefix_hyperv;
  return t->ovf == OVF_VIRTUALBOX ? prefix_vbox : prefix_vmware;
}

enum vm_bus
ova_target_bus (const struct ova_target *t)
{
  if (is_xen (t))
    return VM_BUS_XEN;
  if (t->out == OVA_OUT_LIBVIRT)
    return VM_BUS_VIRTIO;
  return t->out == OVA_OUT_OVA && t->ovf == OVF_VIRTUALBOX ? VM_BUS_SATA
    : VM_BUS_SCSI;
}

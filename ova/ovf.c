/* ovf.c: the tables both directions of the OVF codec share (ovf-int.h) —
 * OS ids, NIC models, bus geometry — and the flavour names of ovf.h. */
#include "lib/common/compat.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/common/error.h"
#include "ova/ovf-int.h"

/* 103 is "Microsoft Windows Server 2008 R2", the CIM id VMware itself
 * writes for 64-bit Windows server guests. */
static const struct ovf_os os_table[] = {
  { VM_OS_OTHER, 1, "otherGuest", "Other", "Other" },
  { VM_OS_LINUX, 36, "otherLinuxGuest", "Linux", "Linux" },
  { VM_OS_LINUX64, 101, "otherLinux64Guest", "Linux_64", "Linux 64-Bit" },
  { VM_OS_DEBIAN64, 96, "debian10_64Guest", "Debian_64", "Debian 64-Bit" },
  { VM_OS_UBUNTU64, 94, "ubuntu64Guest", "Ubuntu_64", "Ubuntu 64-Bit" },
  { VM_OS_RHEL64, 80, "rhel8_64Guest", "RedHat_64",
    "RedHat Enterprise Linux 64-Bit" },
  { VM_OS_SLES64, 85, "sles15_64Guest", "OpenSUSE_64", "SLES 64-Bit" },
  { VM_OS_WINDOWS64, 103, "windows9Server64Guest", "Windows2019_64",
    "Microsoft Windows Server 2008 R2" },
};

/* Other CIM ids real writers use, mapped to the nearest family. */
static const struct { unsigned cim; enum vm_os os; } cim_extra[] = {
  { 0, VM_OS_OTHER }, { 102, VM_OS_OTHER },
  { 79, VM_OS_LINUX }, { 82, VM_OS_LINUX }, { 84, VM_OS_LINUX },
  { 89, VM_OS_LINUX }, { 91, VM_OS_LINUX }, { 93, VM_OS_LINUX },
  { 95, VM_OS_LINUX }, { 97, VM_OS_LINUX }, { 99, VM_OS_LINUX },
  { 106, VM_OS_LINUX }, { 108, VM_OS_LINUX },
  { 83, VM_OS_LINUX64 }, { 90, VM_OS_LINUX64 }, { 92, VM_OS_LINUX64 },
  { 98, VM_OS_LINUX64 }, { 100, VM_OS_LINUX64 },
  { 107, VM_OS_RHEL64 }, { 109, VM_OS_RHEL64 },
  { 70, VM_OS_WINDOWS64 }, { 71, VM_OS_WINDOWS64 }, { 74, VM_OS_WINDOWS64 },
  { 77, VM_OS_WINDOWS64 }, { 113, VM_OS_WINDOWS64 },
  { 115, VM_OS_WINDOWS64 }, { 116, VM_OS_WINDOWS64 },
};

/* NIC models: our name, the ResourceSubType VMware/VirtualBox write, and
 * which of the two can emulate it. */
static const struct {
  const char *model, *subtype;
  bool vmware, vbox;
} nic_models[] = {
  { "e1000", "E1000", true, true }, { "e1000e", "E1000e", true, false },
  { "vmxnet3", "VmxNet3", true, false }, { "pcnet", "PCNet32", true, true },
  { "virtio", "virtio", false, true },
};

const struct ovf_os *
ovf_os_ids (enum vm_os os)
{
  size_t i;

  for (i = 0; i < NELEMS (os_table); i++)
    if (os_table[i].os == os)
      return &os_table[i];
  return &os_table[0];
}

enum vm_os
ovf_os_from_cim (uint64_t id)
{
  size_t i;

  for (i = 0; i < NELEMS (os_table); i++)
    if (os_table[i].cim == id)
      return os_table[i].os;
  for (i = 0; i < NELEMS (cim_extra); i++)
    if (cim_extra[i].cim == id)
      return cim_extra[i].os;
  return VM_OS_OTHER;
}

const char *
ovf_nic_subtype (enum ovf_flavour fl, const char *model)
{
  size_t i;

  if (fl == OVF_XENSERVER)
    return model;               /* XenCenter ignores it: keep ours */
  for (i = 0; model && i < NELEMS (nic_models); i++)
    if (strcasecmp (model, nic_models[i].model) == 0 &&
        (fl == OVF_VMWARE ? nic_models[i].vmware : nic_models[i].vbox))
      return nic_models[i].subtype;
  return "E1000";               /* every guest has a driver for it */
}

const char *
ovf_nic_model (const char *subtype)
{
  size_t i;

  for (i = 0; i < NELEMS (nic_models); i++)
    if (strcasecmp (subtype, nic_models[i].subtype) == 0)
      return nic_models[i].model;
  return NULL;
}

unsigned
ovf_bus_slots (enum vm_bus bus)
{
  switch (bus) {
  case VM_BUS_IDE: return 2;
  case VM_BUS_SATA: return 30;
  default: return 15;
  }
}

const char *
ovf_flavour_name (enum ovf_flavour f)
{
  switch (f) {
  case OVF_VIRTUALBOX: return "virtualbox";
  case OVF_XENSERVER: return "xenserver";
  default: return "vmware";
  }
}

int
ovf_flavour_parse (const char *s, enum ovf_flavour *f)
{
  static const enum ovf_flavour all[] = {
    OVF_VMWARE, OVF_VIRTUALBOX, OVF_XENSERVER,
  };
  size_t i;

  for (i = 0; i < NELEMS (all); i++)
    if (strcmp (s, ovf_flavour_name (all[i])) == 0) {
      *f = all[i];
      return 0;
    }
  return error_set ("ovf: unknown flavour '%s' (vmware, virtualbox, "
                    "xenserver)", s);
}

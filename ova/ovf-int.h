/* ovf-int.h: what ovf-read.c and ovf-write.c share — namespaces, format
 * URIs, CIM resource types, and the lookups over the OS and NIC tables
 * that ovf.c keeps (private to the OVF codec; the public API is ovf.h). */
#ifndef FERRY_OVF_INT_H
#define FERRY_OVF_INT_H

#include <stdint.h>

#include "ova/ovf.h"
#include "ova/vm.h"

#define NS_OVF1 "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_OVF2 "http://schemas.dmtf.org/ovf/envelope/2"
#define NS_RASD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/" \
  "CIM_ResourceAllocationSettingData"
#define NS_VSSD "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/" \
  "CIM_VirtualSystemSettingData"
#define NS_VMW "http://www.vmware.com/schema/ovf"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define NS_VBOX "http://www.virtualbox.org/ovf/machine"
#define NS_XENOVF "http://schemas.citrix.com/ovf/envelope/1"
#define URI_VMDK \
  "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
#define URI_VHD \
  "http://www.microsoft.com/technet/virtualserver/downloads/vhdspec.mspx"
/* The URIs oVirt and virt-v2v write for qcow2 and raw volumes. */
#define URI_QCOW2 "http://www.gnome.org/~markmc/qcow-image-format.html"
#define URI_RAW "http://en.wikipedia.org/wiki/Byte"

/* CIM ResourceType values (CIM_ResourceAllocationSettingData). */
enum {
  RT_CPU = 3, RT_MEMORY = 4, RT_IDE = 5, RT_SCSI = 6, RT_ETHERNET = 10,
  RT_DISK = 17, RT_STORAGE_EXTENT = 19, RT_OTHER_STORAGE = 20,
};

#define NELEMS(a) (sizeof (a) / sizeof (a)[0])

/* One OS family as CIM_OperatingSystem OSType (DSP1057 ValueMap), VMware
 * guestId, VirtualBox OSType and description. */
struct ovf_os {
  enum vm_os os;
  unsigned cim;
  const char *vmw, *vbox, *desc;
};

/* The ids to write for `os` (the "other" row if it has none); never NULL. */
const struct ovf_os *ovf_os_ids (enum vm_os os);

/* The family of a CIM OSType, including ids only other writers use. */
enum vm_os ovf_os_from_cim (uint64_t id);

/* The ResourceSubType a flavour writes for our NIC model. */
const char *ovf_nic_subtype (enum ovf_flavour fl, const char *model);

/* Our model name for a known ResourceSubType (any case), or NULL. */
const char *ovf_nic_model (const char *subtype);

/* Disks per controller: a disk's unit is index * slots + position. */
unsigned ovf_bus_slots (enum vm_bus bus);

#endif

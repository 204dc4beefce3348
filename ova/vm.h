/* vm.h: the virtual machine model that every package format is read into
 * and written from — OVF (ovf.c), XenServer XVA ova.xml (xva-xml.c) and
 * libvirt domain XML (libvirt.c).
 *
 * Ownership: a struct vm owns every string and vector in it; vm_free()
 * releases them (NULL-safe) and vm_init() zeroes a new one.
 */
#ifndef FERRY_VM_H
#define FERRY_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/common/vector.h"

enum vm_firmware { VM_FW_BIOS = 0, VM_FW_UEFI };

enum vm_bus {
  VM_BUS_IDE = 0, VM_BUS_SATA, VM_BUS_SCSI, VM_BUS_VIRTIO, VM_BUS_XEN,
  VM_BUS_NVME,
};

/* Guest OS family, mapped to each format's own ids (OVF CIM OS ids,
 * libosinfo ids, XenServer templates) by the codecs. */
enum vm_os {
  VM_OS_OTHER = 0, VM_OS_LINUX, VM_OS_LINUX64, VM_OS_DEBIAN64,
  VM_OS_UBUNTU64, VM_OS_RHEL64, VM_OS_SLES64, VM_OS_WINDOWS64,
};

struct vm_disk {
  char *file;            /* file name inside the package, or host path */
  char *format;          /* "vmdk", "vhd", "qcow2", "raw" */
  uint64_t capacity;     /* virtual size in bytes */
  uint64_t file_size;    /* bytes of `file` as stored; 0 = unknown */
  enum vm_bus bus;
  unsigned unit;         /* position on its bus/controller */
  char *target_dev;      /* libvirt target ("vda", "xvda"); may be NULL */
};
DEFINE_VECTOR_TYPE (vm_disk_vector, struct vm_disk);

struct vm_nic {
  uint8_t mac[6];
  bool has_mac;
  char *network;         /* network/bridge name; may be NULL */
  char *model;           /* "e1000", "virtio", "vmxnet3", "rtl8139",
                            "netfront"; may be NULL */
};
DEFINE_VECTOR_TYPE (vm_nic_vector, struct vm_nic);

struct vm {
  char *name;
  char *description;     /* may be NULL */
  uint8_t uuid[16];
  bool has_uuid;
  unsigned cpus;         /* >= 1 */
  uint64_t memory_mib;   /* >= 1 */
  enum vm_firmware firmware;
  enum vm_os os;
  vm_disk_vector disks;
  vm_nic_vector nics;
};

/* Hard limits every reader enforces before allocating (hostile input). */
#define VM_MAX_DISKS 64
#define VM_MAX_NICS 64
#define VM_MAX_CPUS 4096
#define VM_MAX_MEMORY_MIB (64ull * 1024 * 1024)    /* 64 TiB */
#define VM_MAX_CAPACITY (64ull << 40)               /* 64 TiB */
#define VM_MAX_NAME 255

void vm_init (struct vm *vm);
void vm_free (struct vm *vm);
/* Deep copy; -1 + error on ENOMEM. */
int vm_copy (struct vm *dst, const struct vm *src);
/* Add a disk/NIC (strings are copied; NULL allowed where documented). */
int vm_add_disk (struct vm *vm, const char *file, const char *format,
                 uint64_t capacity, enum vm_bus bus);
int vm_add_nic (struct vm *vm, const uint8_t *mac, const char *network,
                const char *model);
/* Check the limits above and basic sanity (name set, cpus/memory >= 1,
 * capacities > 0, no duplicate MACs).  `what` names the source in the
 * error ("ovf: 'x.ovf'"). */
int vm_validate (const struct vm *vm, const char *what);

/* Identity.  vm_fill_macs gives every NIC without a MAC (every NIC if
 * `fresh`) a new one with the vendor `prefix` (NULL: random locally
 * administered), unique within the VM.  vm_new_identity also sets a new
 * random UUID if `fresh` or there is none (a restore keeps the rest). */
int vm_fill_macs (struct vm *vm, const uint8_t prefix[3], bool fresh);
int vm_new_identity (struct vm *vm, const uint8_t prefix[3], bool fresh);

/* ---- a VM from settings given one by one (command options, the capture
 * agent's settings, a clone batch) ---- */

#define VM_DEFAULT_CPUS 1
#define VM_DEFAULT_MEMORY_MIB 1024

struct vm_options {
  unsigned cpus;                /* 0: VM_DEFAULT_CPUS */
  uint64_t memory_mib;          /* 0: VM_DEFAULT_MEMORY_MIB */
  enum vm_firmware firmware;
  enum vm_os os;
  enum vm_bus bus;              /* of every disk */
  const char *const *images;    /* host paths, one disk each */
  size_t n_images;
  const char *const *nics;      /* NIC specs (vm_add_nic_spec) */
  size_t n_nics;                /* 0: one NIC without a MAC */
};

/* Fill `vm` (vm_init()ed, without disks or NICs) from `o`: a disk per
 * image (file = its path, no format, capacity 1 until the image is
 * opened), a NIC per spec.  Refuses more than VM_MAX_CPUS,
 * VM_MAX_MEMORY_MIB, VM_MAX_DISKS images or VM_MAX_NICS specs.  Name,
 * UUID and missing MACs are the caller's (vm_fill_macs). */
int vm_from_options (struct vm *vm, const struct vm_options *o);
/* Add a NIC from "[MAC|auto][,network=NET][,model=M]" (`--nic`); without
 * a MAC, or with "auto", it has none yet. */
int vm_add_nic_spec (struct vm *vm, const char *spec);

const char *vm_bus_name (enum vm_bus bus);          /* "ide", "sata", ... */
int vm_bus_parse (const char *s, enum vm_bus *bus);
const char *vm_os_name (enum vm_os os);             /* "debian64", ... */
int vm_os_parse (const char *s, enum vm_os *os);

/* Whether a NIC's network name is a host bridge (br*, virbr*, xenbr*,
 * ovsbr*), which libvirt and XenServer attach to directly, rather than a
 * named network. */
bool vm_network_is_bridge (const char *name);

/* A file-name-, tar- and shell-friendly form of the first n bytes of NAME
 * (NULL or empty: "vm"), at most len - 1 bytes, never hidden: the stem of
 * a VM's files (NAME.xml, NAME-disk1.qcow2, NAME.ova). */
void vm_make_stem (const char *name, size_t n, char *stem, size_t len);

#endif

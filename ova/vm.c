/* vm.c: the virtual machine model shared by the package codecs (vm.h). */
#include "lib/common/compat.h"

#include <stdlib.h>
#include <string.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "ova/vm.h"

static const char *const bus_names[] = {
  [VM_BUS_IDE] = "ide", [VM_BUS_SATA] = "sata", [VM_BUS_SCSI] = "scsi",
  [VM_BUS_VIRTIO] = "virtio", [VM_BUS_XEN] = "xen", [VM_BUS_NVME] = "nvme",
};

static const char *const os_names[] = {
  [VM_OS_OTHER] = "other", [VM_OS_LINUX] = "linux",
  [VM_OS_LINUX64] = "linux64", [VM_OS_DEBIAN64] = "debian64",
  [VM_OS_UBUNTU64] = "ubuntu64", [VM_OS_RHEL64] = "rhel64",
  [VM_OS_SLES64] = "sles64", [VM_OS_WINDOWS64] = "windows64",
};

#define NELEMS(a) (sizeof (a) / sizeof (a)[0])

void
vm_init (struct vm *vm)
{
  memset (vm, 0, sizeof *vm);
  vm->cpus = 1;
  vm->memory_mib = 1024;
}

static void
disk_free (struct vm_disk *d)
{
  free (d->file);
  free (d->format);
  free (d->target_dev);
}

static void
nic_free (struct vm_nic *n)
{
  free (n->network);
  free (n->model);
}

void
vm_free (struct vm *vm)
{
  size_t i;

  if (vm == NULL)
    return;
  free (vm->name);
  free (vm->description);
  for (i = 0; i < vm->disks.len; i++)
    disk_free (&vm->disks.ptr[i]);
  for (i = 0; i < vm->nics.len; i++)
    nic_free (&vm->nics.ptr[i]);
  vm_disk_vector_reset (&vm->disks);
  vm_nic_vector_reset (&vm->nics);
  memset (vm, 0, sizeof *vm);
}

/* strdup that keeps NULL as NULL; *ok cleared on ENOMEM. */
static char *
dup_or_null (const char *s, int *ok)
{
  char *r;

  if (s == NULL)
    return NULL;
  r = xstrdup (s);
  if (r == NULL)
    *ok = 0;
  return r;
}

int
vm_add_disk (struct vm *vm, const char *file, const char *format,
             uint64_t capacity, enum vm_bus bus)
{
  struct vm_disk d = { .capacity = capacity, .bus = bus };
  unsigned unit = 0;
  size_t i;
  int ok = 1;

  for (i = 0; i < vm->disks.len; i++)
    if (vm->disks.ptr[i].bus == bus)
      unit++;
  d.unit = unit;
  d.file = dup_or_null (file, &ok);
  d.format = dup_or_null (format, &ok);
  if (!ok || vm_disk_vector_append (&vm->disks, d) == -1) {
    disk_free (&d);
    return -1;
  }
  return 0;
}

int
vm_add_nic (struct vm *vm, const uint8_t *mac, const char *network,
            const char *model)
{
  struct vm_nic n = { .has_mac = mac != NULL };
  int ok = 1;

  if (mac)
    memcpy (n.mac, mac, 6);
  n.network = dup_or_null (network, &ok);
  n.model = dup_or_null (model, &ok);
  if (!ok || vm_nic_vector_append (&vm->nics, n) == -1) {
    nic_free (&n);
    return -1;
  }
  return 0;
}

int
vm_add_nic_spec (struct vm *vm, const char *spec)
{
  CLEANUP_FREE char *copy = xstrdup (spec);
  char *save = NULL, *item, *mac_s = NULL;
  const char *net = NULL, *model = NULL;
  uint8_t mac[6];

  if (copy == NULL)
    return -1;
  for (item = strtok_r (copy, ",", &save); item;
       item = strtok_r (NULL, ",", &save)) {
    if (str_has_prefix (item, "network="))
      net = item + 8;
    else if (str_has_prefix (item, "model="))
      model = item + 6;
    else if (mac_s == NULL && item == copy)
      mac_s = item;
    else
      return error_set ("--nic: unknown item '%s'", item);
  }
  if (mac_s && strcmp (mac_s, "auto") != 0 && ids_mac_parse (mac_s, mac) == -1)
    return error_set ("--nic: '%s' is not a MAC address", mac_s);
  return vm_add_nic (vm, mac_s && strcmp (mac_s, "auto") ? mac : NULL, net,
                     model);
}

static int
check_options (const struct vm_options *o)
{
  if (o->cpus > VM_MAX_CPUS)
    return error_set ("vm: %u CPUs (limit %d)", o->cpus, VM_MAX_CPUS);
  if (o->memory_mib > VM_MAX_MEMORY_MIB)
    return error_set ("vm: %llu MiB of memory (limit %llu)",
                      (unsigned long long) o->memory_mib,
                      (unsigned long long) VM_MAX_MEMORY_MIB);
  if (o->n_images > VM_MAX_DISKS)
    return error_set ("vm: %zu disks (limit %d)", o->n_images, VM_MAX_DISKS);
  if (o->n_nics > VM_MAX_NICS)
    return error_set ("vm: %zu NICs (limit %d)", o->n_nics, VM_MAX_NICS);
  return 0;
}

int
vm_from_options (struct vm *vm, const struct vm_options *o)
{
  size_t i;

  if (check_options (o) == -1)
    return -1;
  vm->cpus = o->cpus ? o->cpus : VM_DEFAULT_CPUS;
  vm->memory_mib = o->memory_mib ? o->memory_mib : VM_DEFAULT_MEMORY_MIB;
  vm->firmware = o->firmware;
  vm->os = o->os;
  for (i = 0; i < o->n_images; i++)
    if (vm_add_disk (vm, o->images[i], NULL, 1, o->bus) == -1)
      return -1;
  for (i = 0; i < o->n_nics; i++)
    if (vm_add_nic_spec (vm, o->nics[i]) == -1)
      return -1;
  if (o->n_nics == 0 && vm_add_nic (vm, NULL, NULL, NULL) == -1)
    return -1;
  return 0;
}

int
vm_copy (struct vm *dst, const struct vm *src)
{
  size_t i;
  int ok = 1;

  memset (dst, 0, sizeof *dst);
  memcpy (dst->uuid, src->uuid, 16);
  dst->has_uuid = src->has_uuid;
  dst->cpus = src->cpus;
  dst->memory_mib = src->memory_mib;
  dst->firmware = src->firmware;
  dst->os = src->os;
  dst->name = dup_or_null (src->name, &ok);
  dst->description = dup_or_null (src->description, &ok);
  for (i = 0; ok && i < src->disks.len; i++) {
    const struct vm_disk *d = &src->disks.ptr[i];
    if (vm_add_disk (dst, d->file, d->format, d->capacity, d->bus) == -1)
      ok = 0;
    else {
      struct vm_disk *n = &dst->disks.ptr[dst->disks.len - 1];
      n->unit = d->unit;
      n->file_size = d->file_size;
      n->target_dev = dup_or_null (d->target_dev, &ok);
    }
  }
  for (i = 0; ok && i < src->nics.len; i++) {
    const struct vm_nic *n = &src->nics.ptr[i];
    if (vm_add_nic (dst, n->has_mac ? n->mac : NULL, n->network,
                    n->model) == -1)
      ok = 0;
  }
  if (!ok) {
    vm_free (dst);
    return -1;
  }
  return 0;
}

static int
validate_nics (const struct vm *vm, const char *what)
{
  size_t i, j;

  for (i = 0; i < vm->nics.len; i++) {
    const struct vm_nic *a = &vm->nics.ptr[i];
    if (a->has_mac && (a->mac[0] & 1))
      return error_set ("%s: NIC %zu has a multicast MAC address", what, i);
    for (j = i + 1; a->has_mac && j < vm->nics.len; j++)
      if (vm->nics.ptr[j].has_mac &&
          memcmp (a->mac, vm->nics.ptr[j].mac, 6) == 0)
        return error_set ("%s: NICs %zu and %zu share a MAC address",
                          what, i, j);
  }
  return 0;
}

int
vm_validate (const struct vm *vm, const char *what)
{
  size_t i;

  if (vm->name == NULL || vm->name[0] == '\0')
    return error_set ("%s: the VM has no name", what);
  if (strlen (vm->name) > VM_MAX_NAME)
    return error_set ("%s: VM name longer than %d bytes", what, VM_MAX_NAME);
  if (vm->cpus < 1 || vm->cpus > VM_MAX_CPUS)
    return error_set ("%s: %u CPUs is out of range (1-%d)", what, vm->cpus,
                      VM_MAX_CPUS);
  if (vm->memory_mib < 1 || vm->memory_mib > VM_MAX_MEMORY_MIB)
    return error_set ("%s: %llu MiB of memory is out of range", what,
                      (unsigned long long) vm->memory_mib);
  if (vm->disks.len > VM_MAX_DISKS || vm->nics.len > VM_MAX_NICS)
    return error_set ("%s: too many disks or NICs (limit %d each)", what,
                      VM_MAX_DISKS);
  for (i = 0; i < vm->disks.len; i++)
    if (vm->disks.ptr[i].capacity == 0 ||
        vm->disks.ptr[i].capacity > VM_MAX_CAPACITY)
      return error_set ("%s: disk %zu has an absurd capacity (%llu bytes)",
                        what, i,
                        (unsigned long long) vm->disks.ptr[i].capacity);
  return validate_nics (vm, what);
}

const char *
vm_bus_name (enum vm_bus bus)
{
  return (size_t) bus < NELEMS (bus_names) ? bus_names[bus] : "ide";
}

int
vm_bus_parse (const char *s, enum vm_bus *bus)
{
  size_t i;

  for (i = 0; i < NELEMS (bus_names); i++)
    if (strcmp (s, bus_names[i]) == 0) {
      *bus = (enum vm_bus) i;
      return 0;
    }
  return error_set ("unknown disk bus '%s'", s);
}

const char *
vm_os_name (enum vm_os os)
{
  return (size_t) os < NELEMS (os_names) ? os_names[os] : "other";
}

int
vm_os_parse (const char *s, enum vm_os *os)
{
  size_t i;

  for (i = 0; i < NELEMS (os_names); i++)
    if (strcmp (s, os_names[i]) == 0) {
      *os = (enum vm_os) i;
      return 0;
    }
  return error_set ("unknown OS type '%s'", s);
}

int
vm_fill_macs (struct vm *vm, const uint8_t prefix[3], bool fresh)
{
  uint8_t avoid[VM_MAX_NICS][6];
  size_t i, n = 0;

  if (vm->nics.len > VM_MAX_NICS)
    return error_set ("vm: %zu NICs (at most %d)", vm->nics.len, VM_MAX_NICS);
  for (i = 0; i < vm->nics.len; i++)
    if (vm->nics.ptr[i].has_mac && !fresh)
      memcpy (avoid[n++], vm->nics.ptr[i].mac, 6);
  for (i = 0; i < vm->nics.len; i++) {
    struct vm_nic *nic = &vm->nics.ptr[i];
    if (nic->has_mac && !fresh)
      continue;
    if (ids_mac_generate (prefix, (const uint8_t (*)[6]) avoid, n,
                      nic->mac) == -1)
      return -1;
    nic->has_mac = true;
    memcpy (avoid[n++], nic->mac, 6);
  }
  return 0;
}

int
vm_new_identity (struct vm *vm, const uint8_t prefix[3], bool fresh)
{
  if ((fresh || !vm->has_uuid) && ids_uuid_generate (vm->uuid) == -1)
    return -1;
  vm->has_uuid = true;
  return vm_fill_macs (vm, prefix, fresh);
}

bool
vm_network_is_bridge (const char *name)
{
  return name && (str_has_prefix (name, "br") ||
                  str_has_prefix (name, "virbr") ||
                  str_has_prefix (name, "xenbr") ||
                  str_has_prefix (name, "ovsbr"));
}

void
vm_make_stem (const char *name, size_t n, char *stem, size_t len)
{
  size_t i;

  for (i = 0; name && i < n && name[i] && i < len - 1; i++)
    stem[i] = strchr ("-._", name[i]) || (name[i] >= '0' && name[i] <= '9')
      || ((name[i] | 0x20) >= 'a' && (name[i] | 0x20) <= 'z') ? name[i] : '_';
  stem[i] = '\0';
  if (i == 0)
    snprintf (stem, len, "vm");
  else if (stem[0] == '.')              /* no hidden members */
    stem[0] = '_';
}

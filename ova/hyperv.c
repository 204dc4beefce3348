/* hyperv.c: the PowerShell script that creates a VM on Hyper-V
 * (hyperv.h). */
#include "lib/common/compat.h"

#include <stdbool.h>
#include <string.h>

#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/outfile.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"
#include "ova/hyperv.h"

/* A PowerShell single-quoted string: ' doubled; anything but printable
 * ASCII (PowerShell also takes the Unicode quotes U+2018..U+201B for ')
 * becomes '_'. */
static int
ps_quote (struct strbuf *sb, const char *s)
{
  int r = strbuf_add (sb, "'", 1);

  for (; r == 0 && s && *s; s++) {
    char c = (unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f
      ? '_' : *s;
    r = strbuf_add (sb, &c, 1);
    if (r == 0 && c == '\'')
      r = strbuf_add (sb, "'", 1);
  }
  return r == 0 ? strbuf_add (sb, "'", 1) : -1;
}

/* The last component of a disk's path: the disks sit beside the script. */
static const char *
disk_file (const struct vm *vm, const char *const *disk_paths, size_t i)
{
  const char *p = disk_paths && disk_paths[i] ? disk_paths[i]
    : vm->disks.ptr[i].file;
  const char *slash = p ? strrchr (p, '/') : NULL;

  return slash ? slash + 1 : p;
}

static int
add_disk (struct strbuf *sb, const char *file, size_t i, bool gen2)
{
  bool ide = !gen2 && i < 4;
  int r = 0;

  if (!gen2 && i == 4)
    r = strbuf_addf (sb, "Add-VMScsiController -VM $vm\n");
  r = r ? r : strbuf_addf (sb, "$disk = Join-Path $PSScriptRoot ");
  r = r ? r : ps_quote (sb, file);
  r = r ? r : strbuf_add (sb, "\n", 1);
  if (r == 0 && gen2)
    r = strbuf_addf (sb, "Convert-VHD -Path $disk -DestinationPath "
                     "($disk + 'x') -VHDType Dynamic\n"
                     "$disk = $disk + 'x'\n");
  if (r == 0)
    r = strbuf_addf (sb, "Add-VMHardDiskDrive -VM $vm -ControllerType %s "
                     "-ControllerNumber %zu -ControllerLocation %zu "
                     "-Path $disk\n", ide ? "IDE" : "SCSI",
                     ide ? i / 2 : 0, ide ? i % 2 : gen2 ? i : i - 4);
  return r;
}

static int
add_disks (struct strbuf *sb, const struct vm *vm,
           const char *const *disk_paths, bool gen2)
{
  size_t i;
  int r = 0;

  for (i = 0; r == 0 && i < vm->disks.len; i++) {
    const char *file = disk_file (vm, disk_paths, i);
    if (file == NULL)
      return error_set ("hyperv: disk %zu has no path", i);
    r = add_disk (sb, file, i, gen2);
  }
  if (r == 0 && gen2 && vm->disks.len)
    r = strbuf_addf (sb, "Set-VMFirmware -VM $vm -EnableSecureBoot Off "
                     "-FirstBootDevice (Get-VMHardDiskDrive -VM $vm "
                     "-ControllerType SCSI -ControllerNumber 0 "
                     "-ControllerLocation 0)\n");
  return r;
}

/* One adapter per NIC, with its MAC pinned; connected to the virtual
 * switch of the NIC's network name when the host has one. */
static int
add_nics (struct strbuf *sb, const struct vm *vm)
{
  size_t i;
  int r = strbuf_addf (sb, "Get-VMNetworkAdapter -VM $vm | "
                       "Remove-VMNetworkAdapter\n");

  for (i = 0; r == 0 && i < vm->nics.len; i++) {
    const struct vm_nic *n = &vm->nics.ptr[i];
    r = strbuf_addf (sb, "$nic = Add-VMNetworkAdapter -VM $vm -Name 'nic%zu' "
                     "-Passthru\n"
                     "Set-VMNetworkAdapter -VMNetworkAdapter $nic "
                     "-StaticMacAddress '%02X%02X%02X%02X%02X%02X'\n", i + 1,
                     n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
                     n->mac[5]);
    if (r == 0 && n->network) {
      r = strbuf_addf (sb, "$sw = ");
      r = r ? r : ps_quote (sb, n->network);
      r = r ? r : strbuf_addf (sb, "\nif (Get-VMSwitch -Name $sw -ErrorAction "
                               "SilentlyContinue) { Connect-VMNetworkAdapter "
                               "-VMNetworkAdapter $nic -SwitchName $sw }\n");
    }
  }
  return r;
}

int
hyperv_script (struct strbuf *sb, const char *stem, const struct vm *vm,
               const char *const *disk_paths)
{
  bool gen2 = vm->firmware == VM_FW_UEFI;
  char uuid[37];
  int r;

  ids_uuid_format (vm->uuid, uuid);
  r = strbuf_addf (sb, "# %s.ps1: create this VM on Hyper-V from the disks "
                   "beside this script.\n# Written by ferry import; run it "
                   "in an elevated PowerShell with the Hyper-V module.\n"
                   "$ErrorActionPreference = 'Stop'\n$name = ", stem);
  r = r ? r : ps_quote (sb, vm->name);
  r = r ? r : strbuf_addf (sb, "\n$vm = New-VM -Name $name -Generation %d "
                           "-MemoryStartupBytes %lluMB -NoVHD\n"
                           "Set-VM -VM $vm -ProcessorCount %u -StaticMemory "
                           "-Notes 'ferry: uuid %s'\n", gen2 ? 2 : 1,
                           (unsigned long long) vm->memory_mib, vm->cpus,
                           uuid);
  r = r ? r : add_disks (sb, vm, disk_paths, gen2);
  return r ? r : add_nics (sb, vm);
}

int
hyperv_write_script (const struct stagedir *sd, const char *stem,
                     const struct vm *vm, const char *const *disk_paths,
                     char **descriptor)
{
  struct strbuf ps = STRBUF_INIT;
  CLEANUP_FREE char *path = xasprintf ("%s/%s.ps1", sd->path, stem);
  int r = -1;

  *descriptor = xasprintf ("%s/%s.ps1", sd->final, stem);
  if (path && *descriptor && hyperv_script (&ps, stem, vm, disk_paths) == 0)
    r = outfile_write_new (path, ps.buf, ps.len);
  strbuf_release (&ps);
  return r;
}

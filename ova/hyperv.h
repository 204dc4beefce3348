/* hyperv.h: a VM for Hyper-V — a PowerShell script that creates it
 * (New-VM) from the dynamic VHD disks beside the script.
 *
 * Generation 1 (BIOS) boots from IDE: the first four disks go there, the
 * rest on an added SCSI controller.  Generation 2 (UEFI) has SCSI only and
 * takes VHDX only, so the script converts each VHD first.  Every NIC gets
 * its MAC pinned and joins the virtual switch of its network name when the
 * host has one.  Strings from the VM (name, networks, file names) are
 * single-quoted PowerShell strings: ' doubled, anything but printable
 * ASCII replaced by '_', so no name can end the string.
 */
#ifndef FERRY_OVA_HYPERV_H
#define FERRY_OVA_HYPERV_H

#include "lib/common/strbuf.h"
#include "ova/vm.h"

/* Append the script for `vm` to `sb`; STEM names it in its first line.
 * disk_paths[i] is the path of disk i: only its last component is used
 * (the disks sit beside the script).  0, or -1 with the error set. */
int hyperv_script (struct strbuf *sb, const char *stem, const struct vm *vm,
                   const char *const *disk_paths);

/* The same script written as the new file STAGE/STEM.ps1 of the staging
 * directory `sd` (stagedir.h), fsynced.  *descriptor (the caller frees it,
 * also on failure) gets the file's final path FINAL/STEM.ps1. */
struct stagedir;
int hyperv_write_script (const struct stagedir *sd, const char *stem,
                         const struct vm *vm, const char *const *disk_paths,
                         char **descriptor);

#endif

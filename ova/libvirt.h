/* libvirt.h: libvirt domain XML read into and written from a struct vm,
 * for KVM/QEMU and for Xen (libxl).
 *
 * The input is what `virsh dumpxml` prints, and is treated as hostile: it
 * is capped at LIBVIRT_MAX_XML bytes, parsed without network access or
 * entity substitution, and any DOCTYPE is refused outright.
 */
#ifndef FERRY_LIBVIRT_H
#define FERRY_LIBVIRT_H

#include <stddef.h>

#include "lib/common/strbuf.h"
#include "ova/vm.h"

#define LIBVIRT_MAX_XML (16u << 20)

enum libvirt_flavour {
  LIBVIRT_KVM,   /* <domain type='kvm'>, q35 (pc-i440fx when IDE is used) */
  LIBVIRT_XEN,   /* <domain type='xen'>, PV guest booted by pygrub */
  LIBVIRT_QEMU,  /* LIBVIRT_KVM as <domain type='qemu'>: QEMU's TCG, for a
                    libvirt that offers no KVM (virt.h virt_hvm_type) */
};

/* Append the domain XML of `vm` to `out`.  disk_paths[i] is the host path
 * of disk i (NULL array or NULL entry = vm->disks.ptr[i].file).  Target
 * devices are renamed in order per bus family (vda, vdb, sda, hda, xvda...)
 * so they never collide.  Xen PV has no firmware choice: UEFI is not kept.
 * Returns 0, or -1 with the error set (a string unfit for XML, ENOMEM). */
int libvirt_write (const struct vm *vm, enum libvirt_flavour f,
                   const char *const *disk_paths, struct strbuf *out);
/* The same XML written as the new file STAGE/STEM.xml of the staging
 * directory `sd` (stagedir.h), fsynced; disk_paths are the disks' final
 * absolute paths.  *descriptor (the caller frees it, also on failure)
 * gets the file's final path FINAL/STEM.xml.  0, or -1 with the error
 * set. */
struct stagedir;
int libvirt_write_domain (const struct stagedir *sd, const char *stem,
                          const struct vm *vm, enum libvirt_flavour f,
                          const char *const *disk_paths, char **descriptor);

/* Parse `len` bytes of domain XML into `vm` (which must be vm_init()ed;
 * on error it is left for the caller to vm_free()).  `what` names the
 * source in errors: "libvirt: 'WHAT': ...".  Only <disk device='disk'>
 * elements become disks; their capacity is 0 because the XML does not
 * record it: the caller fills it from the image itself.  Everything else
 * is checked with vm_validate(). */
int libvirt_parse (const char *xml, size_t len, const char *what,
                   struct vm *vm);

/* The same for the domain XML file at `path`, read whole but refused past
 * LIBVIRT_MAX_XML bytes ("'PATH': larger than N bytes"). */
int libvirt_parse_file (const char *path, struct vm *vm);

#endif

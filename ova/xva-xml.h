/* xva-xml.h: the ova.xml of a XenServer/XCP-ng XVA (`xe vm-export`), an
 * XML-RPC <value><struct> holding a version header and the exported
 * database objects (VM, VBD, VDI, VIF, SR, network), read into and written
 * from a struct vm.
 *
 * The input is hostile: it is capped at XVA_MAX_XML bytes, parsed without
 * network access or entity substitution, any DOCTYPE is refused, object
 * counts and struct nesting are bounded, and every reference is resolved
 * before use.
 */
#ifndef FERRY_XVA_XML_H
#define FERRY_XVA_XML_H

#include <stddef.h>
#include <stdint.h>

#include "lib/common/strbuf.h"
#include "ova/vm.h"

#define XVA_MAX_XML (16u << 20)
#define XVA_MAX_OBJECTS 100000
#define XVA_MAX_DEPTH 32

/* Append a complete ova.xml (export_vsn 2) for `vm` to `out`; the records
 * carry every field xapi's importer needs.  vdi_sizes[i] is the virtual
 * size of disk i in bytes.  Refs are "Ref:N": the VM is Ref:0 and disk i's
 * VDI is named by xva_xml_vdi_ref(); the XVA writer names each disk's tar
 * directory after it.  Returns 0, or -1 with the error set. */
int xva_xml_write (const struct vm *vm, const uint64_t *vdi_sizes,
                   struct strbuf *out);

/* The VDI ref xva_xml_write() gives disk i of a VM with n_disks disks
 * ("Ref:N", out holds at least 24 bytes). */
void xva_xml_vdi_ref (size_t i, size_t n_disks, char *out, size_t outlen);

/* Parse `len` bytes of ova.xml into `vm` (vm_init()ed; on error the caller
 * vm_free()s it).  The one VM that is not a snapshot is read; its VBDs of
 * type Disk, in userdevice order, become disks whose capacity is the VDI's
 * virtual_size and whose `file` is the VDI ref that names the disk's tar
 * directory (format "raw": XVA chunks are raw data).  *vdi_refs receives
 * the same refs as a NULL-terminated array (free each, then the array);
 * NULL on error.  Errors read "xva: 'WHAT': ...". */
int xva_xml_parse (const char *xml, size_t len, const char *what,
                   struct vm *vm, char ***vdi_refs);

#endif

/* virt.h: a running libvirt, through libvirt's C API — open a connection,
 * ask which domain type the host offers, define a domain from XML without
 * ever replacing one, read a defined domain's XML back, start one.
 *
 *   struct virt *v = virt_open ("qemu:///system");
 *   if (v == NULL) ... error_get (): "libvirt 'qemu:///system': ..."
 *   if (virt_define (v, xml, "web-01", uuid) == -1) ...
 *   virt_close (v);
 *
 * Serves `ferry clone --connect` (define each clone), `ferry import --to
 * libvirt --connect` (define, --start; ova/import.h) and `ferry export
 * --from-libvirt NAME --connect` (virt_read_vm).
 *
 * libvirt's own error printing is silenced (it would write to stderr from
 * a library); its last error becomes Ferry's, as one line naming the URI,
 * the domain and the problem: "libvirt 'URI': domain 'NAME': define: ...".
 * Not thread-safe: one connection per thread.
 */
#ifndef FERRY_OVA_VIRT_H
#define FERRY_OVA_VIRT_H

#include <stdbool.h>
#include <stdint.h>

struct virt;

/* Open `uri` read-write and make sure the daemon answers (a round trip,
 * so that a dead socket fails here and not at the first define).  NULL
 * with the error set. */
struct virt *virt_open (const char *uri);
/* Closes the connection; NULL is a no-op. */
void virt_close (struct virt *v);
/* The URI as libvirt names it once connected (canonical, e.g.
 * "qemu:///system" for "qemu://"); lives as long as `v`. */
const char *virt_uri (const struct virt *v);

/* The domain type the host offers for hvm guests of `arch` ("x86_64"),
 * from libvirt's capabilities: "kvm" when it offers KVM, else "qemu"
 * (QEMU's TCG emulation); a static string.  NULL with the error set when
 * it offers neither (no QEMU driver, or a Xen-only host). */
const char *virt_hvm_type (struct virt *v, const char *arch);

/* 0 when libvirt offers `os_type` guests ("hvm", "xen") of `arch` in
 * domains of `type` ("kvm", "qemu", "xen"); -1 with the error set when it
 * does not ("libvirt 'URI': offers no x86_64 xen guests in domains of
 * type xen") or the capabilities cannot be read. */
int virt_check_offers (struct virt *v, const char *os_type,
                       const char *arch, const char *type);

/* 0 when no domain is called `name` and none has `uuid` (NULL: not
 * checked); -1 with the error set when one does (naming it) or the
 * lookup fails. */
int virt_check_free (struct virt *v, const char *name, const uint8_t *uuid);

/* Define (persistently, not started) the domain `xml`, whose name and UUID
 * the caller gives (uuid may be NULL): refused when a domain of that name
 * or UUID exists, since libvirt's define would silently replace the
 * definition of a domain with both.  The XML is validated against
 * libvirt's schema.  0, or -1 with the error set. */
int virt_define (struct virt *v, const char *xml, const char *name,
                 const uint8_t *uuid);

/* The XML of the domain `name`: its persistent definition (`inactive`)
 * or what it runs with.  Caller frees (free()).  NULL with the error
 * set (no such domain, too large, ...). */
char *virt_domain_xml (struct virt *v, const char *name, bool inactive);

/* 1 if the domain `name` is running (or paused), 0 if shut off, -1 with
 * the error set. */
int virt_domain_active (struct virt *v, const char *name);

/* The state of the domain `name` as virsh names it ("running", "paused",
 * "shut off", "crashed", ...); a static string, NULL with the error set. */
const char *virt_domain_state (struct virt *v, const char *name);

/* The persistent definition of the domain `name` parsed into `vm` (which
 * must be vm_init()ed; libvirt.h libvirt_parse, its errors naming the
 * domain), to read its disks: refused unless the domain is shut off, as
 * "libvirt 'URI': domain 'NAME' is running: shut it down first ...",
 * since a running or paused domain's disks change under the reader.
 * 0, or -1 with the error set. */
struct vm;
int virt_read_vm (struct virt *v, const char *name, struct vm *vm);

/* Start the defined domain `name`.  0, or -1 with the error set. */
int virt_start (struct virt *v, const char *name);

#endif

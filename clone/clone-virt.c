/* clone-virt.c: `ferry clone --connect URI` — the libvirt the clones are
 * defined in: opened and asked for its domain type first, every clone's
 * name and UUID checked free before anything is written, each published
 * clone defined from its own domain XML (ova/virt.h). */
#include "lib/common/compat.h"

#include <stdlib.h>
#include <string.h>

#include "clone/clone-int.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"

/* A KVM domain where libvirt offers KVM, else a QEMU (TCG) one: a domain
 * of type kvm on a host without KVM cannot start at all, and an admin
 * defining clones on a host wants them to start there.  Without
 * --connect the host is unknown: kvm, what libvirt hosts run. */
static int
pick_flavour (struct clone_batch *b)
{
  const char *type;

  if (b->o->to == CLONE_TO_LIBVIRT_XEN) {
    b->flavour = LIBVIRT_XEN;
    b->r->domain_type = "xen";
    return 0;
  }
  b->flavour = LIBVIRT_KVM;
  b->r->domain_type = b->o->to == CLONE_TO_LIBVIRT ? "kvm" : NULL;
  if (b->virt == NULL)
    return 0;
  if ((type = virt_hvm_type (b->virt, "x86_64")) == NULL)
    return -1;
  if (strcmp (type, "qemu") == 0)
    b->flavour = LIBVIRT_QEMU;
  b->r->domain_type = type;
  return 0;
}

int
clone_virt_open (struct clone_batch *b)
{
  const char *uri = b->o->connect;

  if (uri && b->o->to != CLONE_TO_LIBVIRT &&
      b->o->to != CLONE_TO_LIBVIRT_XEN)
    return error_set ("--connect '%s': clones are defined in libvirt only "
                      "with --to libvirt or libvirt-xen", uri);
  if (uri) {
    if ((b->virt = virt_open (uri)) == NULL)
      return -1;
    if ((b->r->connect = xstrdup (virt_uri (b->virt))) == NULL)
      return -1;
  }
  return pick_flavour (b);
}

int
clone_virt_check (struct clone_batch *b)
{
  const struct clone_spec *s;
  size_t c;

  for (c = 0; b->virt && c < b->r->n; c++) {
    s = b->r->clones[c].spec;
    if (virt_check_free (b->virt, s->name, s->uuid) == -1)
      return -1;
  }
  return 0;
}

int
clone_virt_define (struct clone_batch *b, size_t c, const char *xml)
{
  struct clone_result *cr = &b->r->clones[c];
  const char *t = getenv ("FERRY_TEST_DEFINE_FAIL");

  if (b->virt == NULL)
    return 0;
  /* Tests only: a definition libvirt itself refuses, for the clones whose
   * name holds the variable's value. */
  if (t && *t && strstr (cr->spec->name, t))
    xml = "<domain type='qemu'/>";
  if (virt_define (b->virt, xml, cr->spec->name, cr->spec->uuid) == -1)
    return error_prefix ("made, not defined (define '%s' by hand): ",
                         cr->definition ? cr->definition : "?");
  cr->defined = true;
  return 0;
}

/* fuzz-libvirt.c: libFuzzer harness for the libvirt domain XML reader —
 * parse, and whatever parses must write (KVM and Xen) and parse back to
 * the same VM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/strbuf.h"
#include "ova/libvirt.h"

/* The fields every flavour keeps (disk buses and firmware may change). */
static void
check_same (const struct vm *a, const struct vm *b)
{
  size_t i;

  if (strcmp (a->name, b->name) != 0 || a->cpus != b->cpus ||
      a->memory_mib != b->memory_mib || a->disks.len != b->disks.len ||
      a->nics.len != b->nics.len || a->has_uuid != b->has_uuid ||
      memcmp (a->uuid, b->uuid, 16) != 0)
    abort ();
  for (i = 0; i < a->disks.len; i++)
    if (strcmp (a->disks.ptr[i].file, b->disks.ptr[i].file) != 0)
      abort ();
  for (i = 0; i < a->nics.len; i++)
    if (a->nics.ptr[i].has_mac != b->nics.ptr[i].has_mac ||
        memcmp (a->nics.ptr[i].mac, b->nics.ptr[i].mac, 6) != 0)
      abort ();
}

static void
rewrite (const struct vm *vm, enum libvirt_flavour f)
{
  struct strbuf sb = STRBUF_INIT;
  struct vm again;

  vm_init (&again);
  if (libvirt_write (vm, f, NULL, &sb) == 0) {
    /* What we write, we must read. */
    if (libvirt_parse (sb.buf, sb.len, "rewritten", &again) == -1)
      abort ();
    check_same (vm, &again);
  }
  vm_free (&again);
  strbuf_release (&sb);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vm vm;

  vm_init (&vm);
  if (libvirt_parse ((const char *) data, size, "fuzz", &vm) == 0) {
    rewrite (&vm, LIBVIRT_KVM);
    rewrite (&vm, LIBVIRT_XEN);
  }
  vm_free (&vm);
  return 0;
}

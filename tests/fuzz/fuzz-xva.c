/* fuzz-xva.c: libFuzzer harness for the XVA ova.xml reader — parse, and
 * whatever parses must write and parse back to the same VM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/strbuf.h"
#include "ova/xva-xml.h"

static void
free_refs (char **refs)
{
  char **p;

  for (p = refs; p && *p; p++)
    free (*p);
  free (refs);
}

/* A VM without a UUID is given a fresh one by the writer. */
static void
check_same (const struct vm *a, const struct vm *b)
{
  size_t i;

  if (strcmp (a->name, b->name) != 0 || a->cpus != b->cpus ||
      a->memory_mib != b->memory_mib || a->firmware != b->firmware ||
      a->disks.len != b->disks.len || a->nics.len != b->nics.len ||
      (a->has_uuid && memcmp (a->uuid, b->uuid, 16) != 0))
    abort ();
  for (i = 0; i < a->disks.len; i++)
    if (a->disks.ptr[i].capacity != b->disks.ptr[i].capacity)
      abort ();
  for (i = 0; i < a->nics.len; i++)
    if (a->nics.ptr[i].has_mac != b->nics.ptr[i].has_mac ||
        memcmp (a->nics.ptr[i].mac, b->nics.ptr[i].mac, 6) != 0)
      abort ();
}

static void
rewrite (const struct vm *vm)
{
  uint64_t sizes[VM_MAX_DISKS];
  struct strbuf sb = STRBUF_INIT;
  struct vm again;
  char **refs = NULL;
  size_t i;

  for (i = 0; i < vm->disks.len; i++)
    sizes[i] = vm->disks.ptr[i].capacity;
  vm_init (&again);
  if (xva_xml_write (vm, sizes, &sb) == 0) {
    /* What we write, we must read. */
    if (xva_xml_parse (sb.buf, sb.len, "rewritten", &again, &refs) == -1)
      abort ();
    check_same (vm, &again);
  }
  free_refs (refs);
  vm_free (&again);
  strbuf_release (&sb);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vm vm;
  char **refs = NULL;

  vm_init (&vm);
  if (xva_xml_parse ((const char *) data, size, "fuzz", &vm, &refs) == 0)
    rewrite (&vm);
  free_refs (refs);
  vm_free (&vm);
  return 0;
}

/* fuzz-ovf.c: libFuzzer harness for the OVF codec — parse the input; when
 * it is accepted, write it in every flavour, parse that back and check the
 * writer and reader agree (a second write is byte-identical). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "ova/ovf.h"

/* write(parse(write(vm))) must equal write(vm): anything else means the
 * reader and the writer disagree about the format. */
static void
check_flavour (const struct vm *vm, enum ovf_flavour f)
{
  struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
  struct vm again;

  if (ovf_write (vm, f, &a) == -1) {
    fprintf (stderr, "accepted VM not writable: %s\n", error_get ());
    abort ();
  }
  if (ovf_parse (a.buf, a.len, "rewritten", &again) == -1) {
    fprintf (stderr, "own output refused: %s\n%s", error_get (), a.buf);
    abort ();
  }
  if (ovf_write (&again, f, &b) == -1 || a.len != b.len ||
      memcmp (a.buf, b.buf, a.len) != 0) {
    fprintf (stderr, "not idempotent:\n%s\n----\n%s", a.buf,
             b.buf ? b.buf : "");
    abort ();
  }
  vm_free (&again);
  strbuf_release (&a);
  strbuf_release (&b);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vm vm;

  if (ovf_parse ((const char *) data, size, "fuzz.ovf", &vm) == -1)
    return 0;
  check_flavour (&vm, OVF_VMWARE);
  check_flavour (&vm, OVF_VIRTUALBOX);
  check_flavour (&vm, OVF_XENSERVER);
  vm_free (&vm);
  return 0;
}

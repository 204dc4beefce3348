/* fuzz-vmdk.c: libFuzzer harness for the VMDK driver (and, through the
 * registry's probing, whatever the input turns out to be). */
#include "tests/fuzz/fuzz-image.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_image ("vmdk", data, size);
}

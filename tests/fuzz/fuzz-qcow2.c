/* fuzz-qcow2.c: libFuzzer harness for the QCOW2 driver (and, through the
 * registry's probing, whatever the input turns out to be). */
#include "tests/fuzz/fuzz-image.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_image ("qcow2", data, size);
}

/* fuzz-vhd.c: libFuzzer harness for the VHD driver (and, through the
 * registry's probing, whatever the input turns out to be). */
#include "tests/fuzz/fuzz-image.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_image ("vhd", data, size);
}

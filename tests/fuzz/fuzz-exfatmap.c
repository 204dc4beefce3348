/* fuzz-exfatmap.c: libFuzzer harness for the exFAT used-block map
 * (lib/disk/exfatmap.c), over a sparse disk (fuzz-fs.h). */
#include "tests/fuzz/fuzz-fs.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_fs ("exfatmap", exfatmap_used, data, size, NULL);
}

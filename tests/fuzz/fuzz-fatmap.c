/* fuzz-fatmap.c: libFuzzer harness for the FAT12/16/32 used-block map
 * (lib/disk/fatmap.c), over a sparse disk (fuzz-fs.h). */
#include "tests/fuzz/fuzz-fs.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_fs ("fatmap", fatmap_used, data, size, NULL);
}

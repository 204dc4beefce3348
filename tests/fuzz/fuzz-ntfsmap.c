/* fuzz-ntfsmap.c: libFuzzer harness for the NTFS used-block map (libntfs-3g)
 * (lib/disk/ntfsmap.c), over a sparse disk (fuzz-fs.h). */
#include "tests/fuzz/fuzz-fs.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_fs ("ntfsmap", ntfsmap_used, data, size, NULL);
}

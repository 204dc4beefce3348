/* fuzz-xva-read.c: libFuzzer harness for the XVA package reader — tar
 * members, ova.xml, chunk names, order and checksums, the sequential
 * rebuild of each disk — all through xva_read. */
#include "tests/fuzz/fuzz-package.h"
#include "ova/xva-read.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct ova_pkg pkg;

  fuzz_package_write ("fuzz-xva-read", "xva", data, size);
  (void) xva_probe (fuzz_input);
  /* Rebuilt disks are unlinked by xva_read as soon as they are open, and
   * on every error: the work directory must stay empty.  *pkg is empty
   * after a failure, so freeing it is harmless either way. */
  (void) xva_read (fuzz_input, fuzz_workdir, &pkg);
  ova_pkg_free (&pkg);
  fuzz_package_workdir_empty ();
  return 0;
}

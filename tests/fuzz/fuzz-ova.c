/* fuzz-ova.c: libFuzzer harness for the OVA package reader — tar members,
 * manifest, OVF and the disks inside, all through ova_read — and for the
 * one-pass walk of `ferry info PACKAGE` (ova_inspect, OVA and XVA). */
#include "tests/fuzz/fuzz-package.h"
#include "ova/ova-read.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct ova_pkg pkg;
  struct pkg_info info;

  fuzz_package_write ("fuzz-ova", "ova", data, size);
  /* Extracted disks are unlinked by ova_read as soon as they are open. */
  if (ova_read (fuzz_input, fuzz_workdir, &pkg) == 0)
    ova_pkg_free (&pkg);
  if (ova_inspect (fuzz_input, NULL, &info) == 0)
    pkg_info_free (&info);
  return 0;
}

/* fuzz-lvm.c: libFuzzer harness for the LVM2 text metadata parser
 * (lib/disk/lvmmap.c), seeded with tests/data/gen-hostile-lvm.sh.  What
 * it accepts must keep lvmmap.h's promises: this PV's runs sorted, apart,
 * inside the PV, each owned by a listed LV. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/common/error.h"
#include "lib/disk/lvmmap.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct lvm_pv_map m;
  size_t i;

  if (lvm_parse_metadata ((const char *) data, size,
                          "aaaaaabbbbccccddddeeeeffff000000", &m) == 0) {
    for (i = 0; i < m.areas.len; i++) {
      const struct lvm_area *a = &m.areas.ptr[i];

      if (a->lv >= m.lvs.len || a->count == 0 ||
          a->pv_extent > m.pe_count || a->count > m.pe_count - a->pv_extent ||
          (i > 0 && a->pv_extent < m.areas.ptr[i - 1].pv_extent +
           m.areas.ptr[i - 1].count)) {
        fprintf (stderr, "area %zu breaks the promises\n", i);
        abort ();
      }
    }
    if (m.extent_size == 0)
      abort ();
  }
  lvm_pv_map_free (&m);
  error_clear ();
  return 0;
}

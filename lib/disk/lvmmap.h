/* lvmmap.h: the parts of lvmmap.c that the unit tests and the fuzzer reach
 * directly: the LVM2 text metadata parser and what it finds for one PV.
 * (lvmmap_used itself is declared in usedmap.h.) */
#ifndef FERRY_LVMMAP_H
#define FERRY_LVMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/common/vector.h"

/* Bounds on the hostile text: larger or deeper metadata is refused. */
#define LVM_MAX_TEXT   (8u << 20)
#define LVM_MAX_NODES  200000
#define LVM_MAX_DEPTH  16

struct lvm_lv {
  char name[64];
  char kind[24];        /* "linear", "striped", or the segment type that
                           stopped it being mapped ("thin-pool", ...) */
  bool mappable;        /* linear, wholly on this PV, no other LV uses it */
  uint64_t extents;     /* its size in extents */
};
DEFINE_VECTOR_TYPE (lvm_lv_vector, struct lvm_lv);

/* A run of this PV's extents that belongs to an LV. */
struct lvm_area {
  uint64_t pv_extent, count;
  size_t lv;            /* index into lvs */
  uint64_t lv_extent;   /* where the run starts in the LV */
};
DEFINE_VECTOR_TYPE (lvm_area_vector, struct lvm_area);

struct lvm_pv_map {
  uint64_t extent_size;         /* bytes */
  uint64_t pe_start;            /* bytes from the PV's start */
  uint64_t pe_count;
  lvm_lv_vector lvs;
  lvm_area_vector areas;        /* sorted by pv_extent, apart */
};

/* Parse the text metadata of a VG (len bytes, need not be terminated) and
 * describe the PV whose uuid (32 characters, without dashes) is given.
 * Returns 0, or 1 with the reason in error_get () when the text is
 * malformed, over a bound, or does not name this PV; -1 on memory
 * errors.  Free with lvm_pv_map_free in every case. */
int lvm_parse_metadata (const char *text, size_t len, const char *pv_uuid,
                        struct lvm_pv_map *out);
void lvm_pv_map_free (struct lvm_pv_map *m);

#endif

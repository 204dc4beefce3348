/* vhd-check.c: `ferry check` for VHD — footer copies, overlapping BAT
 * entries, the table size and the parent locators. */
#include "lib/common/compat.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/image/vhd-int.h"

static int
check_footers (struct vhd *v, struct strbuf *r)
{
  struct vhd_footer copy;
  int bad = 0;

  if (v->type == VHD_FIXED)
    return 0;
  if (!v->footer_at_end)
    bad += strbuf_addf (r, "no footer at the end of the file\n") == 0;
  if (vhd_read_at (v, &copy, 512, 0) == -1)
    return -1;
  if (vhd_footer_checksum (&copy) != be32toh (copy.checksum))
    bad += strbuf_addf (r, "footer copy at offset 0: checksum mismatch\n") == 0;
  else if (memcmp (&copy, &v->footer, 512) != 0)
    bad += strbuf_addf (r, "footer copy at offset 0 differs from the "
                        "footer\n") == 0;
  return bad;
}

struct bat_ent { uint64_t start; uint32_t idx; };

static int
bat_ent_cmp (const void *a, const void *b)
{
  const struct bat_ent *x = a, *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

static int
check_bat_overlaps (struct vhd *v, struct strbuf *r)
{
  CLEANUP_FREE struct bat_ent *e = malloc ((size_t) v->n_entries * sizeof *e + 1);
  size_t n = 0, i;
  uint64_t span = (uint64_t) v->bitmap_size + v->block_size;
  int bad = 0;

  if (e == NULL)
    return error_errno ("vhd: malloc");
  for (i = 0; i < v->n_entries; i++)
    if (v->bat[i] != VHD_BAT_UNUSED)
      e[n++] = (struct bat_ent) { (uint64_t) v->bat[i] * VHD_SECTOR,
                                  (uint32_t) i };
  qsort (e, n, sizeof *e, bat_ent_cmp);
  for (i = 1; i < n && bad < 100; i++)
    if (e[i - 1].start + span > e[i].start)
      bad += strbuf_addf (r, "BAT entries %u and %u overlap\n",
                          e[i - 1].idx, e[i].idx) == 0;
  return bad;
}

static int
check_header (struct vhd *v, struct strbuf *r)
{
  uint64_t need = DIV_ROUND_UP (MAX (v->img.size,
                                     be64toh (v->footer.current_size)),
                                v->block_size);
  int bad = 0;
  size_t i;
  const struct vhd_locator *loc;

  /* QEMU writes one entry more than needed; more than that is waste. */
  if (v->n_entries > need + 1)
    bad += strbuf_addf (r, "max table entries %u inconsistent with the size "
                        "(%llu blocks needed)\n", v->n_entries,
                        (unsigned long long) need) == 0;
  for (i = 0; v->type == VHD_DIFF && i < VHD_N_LOCATORS; i++) {
    loc = &v->header.locators[i];
    if (vhd_locator_used (loc) &&
        (be64toh (loc->data_offset) > v->file_size ||
         v->file_size - be64toh (loc->data_offset) < be32toh (loc->data_length)
         || be32toh (loc->data_length) > vhd_locator_space (loc)))
      bad += strbuf_addf (r, "parent locator %zu lies outside the file or "
                          "its data space\n", i) == 0;
  }
  return bad;
}

int
vhd_check (struct image *img, struct strbuf *report)
{
  struct vhd *v = (struct vhd *) img;
  int a, b = 0, c = 0;

  if (be32toh (v->footer.version) >> 16 != 1)
    c += strbuf_addf (report, "unknown footer version 0x%08x\n",
                      be32toh (v->footer.version)) == 0;
  if ((a = check_footers (v, report)) == -1)
    return -1;
  if (v->type != VHD_FIXED &&
      ((b = check_bat_overlaps (v, report)) == -1))
    return -1;
  if (v->type != VHD_FIXED)
    c += check_header (v, report);
  return a + b + c > 0;
}

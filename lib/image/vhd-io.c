/* vhd-io.c: the data path of dynamic and differencing VHDs — loading and
 * storing the BAT, block bitmaps, read, write (block allocation), extents,
 * and writing the metadata back. */
#include "lib/common/compat.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/image/vhd-int.h"

/* ---- bits ---- */

static bool
bit_test (const uint8_t *bm, uint32_t i)
{
  return bm[i >> 3] & (0x80 >> (i & 7));
}

static void
bit_set_range (uint8_t *bm, uint32_t first, uint32_t n)
{
  uint32_t i;

  for (i = first; i < first + n; i++)
    bm[i >> 3] |= 0x80 >> (i & 7);
}

/* Sectors from `first` (at most `limit`) whose bit equals bit `first`'s. */
static uint32_t
bit_run (const uint8_t *bm, uint32_t first, uint32_t limit)
{
  bool set = bit_test (bm, first);
  uint32_t i = first + 1;

  while (i < limit && bit_test (bm, i) == set)
    i++;
  return i - first;
}

/* ---- the BAT ---- */

/* Metadata ranges a block must not overlap; returns how many, fills r/names. */
struct range { uint64_t start, end; char name[32]; };

static size_t
metadata_ranges (const struct vhd *v, struct range r[3 + VHD_N_LOCATORS])
{
  size_t n = 0, i;
  const struct vhd_locator *loc;
  uint64_t len;

  r[n++] = (struct range) { 0, 512, "footer copy" };
  r[n++] = (struct range) { v->header_offset, v->header_offset + 1024,
                            "dynamic header" };
  r[n++] = (struct range) { v->bat_offset, v->bat_offset +
                            DIV_ROUND_UP ((uint64_t) v->n_entries * 4,
                                          VHD_SECTOR) * VHD_SECTOR, "BAT" };
  for (i = 0; v->type == VHD_DIFF && i < VHD_N_LOCATORS; i++) {
    loc = &v->header.locators[i];
    len = be32toh (loc->data_length);
    if (!vhd_locator_used (loc) || be64toh (loc->data_offset) > v->file_size)
      continue;
    r[n] = (struct range) { be64toh (loc->data_offset),
                            be64toh (loc->data_offset) + len, "" };
    snprintf (r[n].name, sizeof r[n].name, "parent locator %zu", i);
    n++;
  }
  return n;
}

/* Bytes of block i that must exist in the file: its bitmap and the part of
 * its data inside the virtual disk (some writers trim the last block). */
static uint64_t
block_span (const struct vhd *v, uint32_t i)
{
  uint64_t start = (uint64_t) i * v->block_size;
  uint64_t data = start >= v->img.size ? 0 :
    MIN (v->block_size, v->img.size - start);

  return v->bitmap_size + data;
}

static int
bat_entry_validate (struct vhd *v, uint32_t i, const struct range *r,
                    size_t nr)
{
  uint64_t start = (uint64_t) v->bat[i] * VHD_SECTOR;
  uint64_t end = start + block_span (v, i);
  size_t k;

  for (k = 0; k < nr; k++)
    if (start < r[k].end && r[k].start < end)
      return VHD_ERR (v, "BAT entry %u overlaps the %s", i, r[k].name);
  if (end > v->file_size)
    return VHD_ERR (v, "BAT entry %u points past end of file", i);
  return 0;
}

int
vhd_bat_load (struct vhd *v)
{
  struct range r[3 + VHD_N_LOCATORS];
  size_t nr = metadata_ranges (v, r), k;
  uint32_t i;
  uint64_t end = 0;

  v->bat = malloc ((size_t) v->n_entries * 4 + 4);
  v->bitmap = malloc (v->bitmap_size);
  if (v->bat == NULL || v->bitmap == NULL)
    return error_errno ("vhd: malloc");
  if (vhd_read_at (v, v->bat, (size_t) v->n_entries * 4, v->bat_offset) == -1)
    return -1;
  for (i = 0; i < v->n_entries; i++) {
    v->bat[i] = be32toh (v->bat[i]);
    if (v->bat[i] == VHD_BAT_UNUSED)
      continue;
    if (bat_entry_validate (v, i, r, nr) == -1)
      return -1;
    end = MAX (end, (uint64_t) v->bat[i] * VHD_SECTOR + v->bitmap_size +
               v->block_size);
  }
  for (k = 0; k < nr; k++)
    end = MAX (end, r[k].end);
  /* New blocks replace the footer at the end, or follow the last byte. */
  end = MAX (end, v->footer_at_end ? v->file_size - 512 : v->file_size);
  v->next_free = DIV_ROUND_UP (end, VHD_SECTOR) * VHD_SECTOR;
  return 0;
}

/* ---- block bitmaps ---- */

static uint64_t
block_data (const struct vhd *v, uint32_t blk)
{
  return (uint64_t) v->bat[blk] * VHD_SECTOR + v->bitmap_size;
}

static int
bitmap_store (struct vhd *v)
{
  if (!v->bm_dirty)
    return 0;
  if (vhd_write_at (v, v->bitmap, v->bitmap_size,
                    (uint64_t) v->bat[v->bm_block] * VHD_SECTOR) == -1)
    return -1;
  v->bm_dirty = false;
  return 0;
}

static int
bitmap_load (struct vhd *v, uint32_t blk)
{
  if (v->bm_block == blk)
    return 0;
  if (bitmap_store (v) == -1)
    return -1;
  v->bm_block = VHD_BAT_UNUSED;
  if (vhd_read_at (v, v->bitmap, v->bitmap_size,
                   (uint64_t) v->bat[blk] * VHD_SECTOR) == -1)
    return -1;
  v->bm_block = blk;
  return 0;
}

/* ---- reading ---- */

/* Sectors a differencing disk does not hold come from the parent (zero
 * past its end); a dynamic disk's read as zeros. */
static int
read_below (struct vhd *v, uint8_t *buf, size_t len, uint64_t offset)
{
  struct image *p = v->img.backing;
  size_t m = 0;

  if (p != NULL && offset < p->size) {
    m = (size_t) MIN ((uint64_t) len, p->size - offset);
    if (image_pread (p, buf, m, offset) == -1)
      return -1;
  }
  memset (buf + m, 0, len - m);
  return 0;
}

/* Read [offset, offset+len) lying inside one block. */
static int
read_block (struct vhd *v, uint8_t *buf, uint64_t offset, size_t len)
{
  uint32_t blk = (uint32_t) (offset / v->block_size);
  uint32_t in = (uint32_t) (offset % v->block_size), sec, run;
  size_t n;
  int r;

  if (blk >= v->n_entries || v->bat[blk] == VHD_BAT_UNUSED)
    return read_below (v, buf, len, offset);
  if (bitmap_load (v, blk) == -1)
    return -1;
  while (len > 0) {
    sec = in / VHD_SECTOR;
    run = bit_run (v->bitmap, sec, v->sectors_per_block);
    n = MIN (len, (size_t) (sec + run) * VHD_SECTOR - in);
    if (bit_test (v->bitmap, sec))
      r = vhd_read_at (v, buf, n, block_data (v, blk) + in);
    else
      r = read_below (v, buf, n, offset);
    if (r == -1)
      return -1;
    buf += n;
    offset += n;
    in += (uint32_t) n;
    len -= n;
  }
  return 0;
}

int
vhd_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct vhd *v = (struct vhd *) img;
  uint8_t *p = buf;
  size_t n;

  if (v->type == VHD_FIXED)
    return vhd_read_at (v, buf, count, offset);
  while (count > 0) {
    n = MIN (count, (size_t) (v->block_size - offset % v->block_size));
    if (read_block (v, p, offset, n) == -1)
      return -1;
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

/* ---- writing ---- */

static int
footer_write (struct vhd *v)
{
  if (vhd_write_at (v, &v->footer, 512, v->next_free) == -1 ||
      vhd_write_at (v, &v->footer, 512, 0) == -1)
    return -1;
  return 0;
}

/* Append a block at the end of the file, the footer after it; the bitmap
 * (all clear) and the BAT are written later, on flush or block switch. */
static int
block_alloc (struct vhd *v, uint32_t blk)
{
  uint64_t pos = v->next_free;

  if (pos / VHD_SECTOR >= VHD_BAT_UNUSED)
    return VHD_ERR (v, "image file too large for the BAT");
  if (bitmap_store (v) == -1)
    return -1;
  v->bat[blk] = (uint32_t) (pos / VHD_SECTOR);
  v->bat_lo = v->bat_lo < v->bat_hi ? MIN (v->bat_lo, blk) : blk;
  v->bat_hi = MAX (v->bat_hi, blk + 1);
  v->next_free = pos + v->bitmap_size + v->block_size;
  memset (v->bitmap, 0, v->bitmap_size);
  v->bm_block = blk;
  v->bm_dirty = true;
  v->meta_dirty = true;
  /* The footer goes to the new end now, so the file always has one. */
  if (vhd_write_at (v, &v->footer, 512, v->next_free) == -1)
    return -1;
  return 0;
}

/* Write less than a sector inside sector `sec` of block `blk`: if the
 * sector is not yet ours, fill the rest from below first. */
static int
write_partial (struct vhd *v, uint32_t blk, uint32_t in, const uint8_t *buf,
               size_t n, uint64_t offset)
{
  uint8_t sector[VHD_SECTOR];
  uint32_t sec = in / VHD_SECTOR, skip = in % VHD_SECTOR;

  if (bit_test (v->bitmap, sec))
    return vhd_write_at (v, buf, n, block_data (v, blk) + in);
  if (read_below (v, sector, VHD_SECTOR, offset - skip) == -1)
    return -1;
  memcpy (sector + skip, buf, n);
  if (vhd_write_at (v, sector, VHD_SECTOR,
                    block_data (v, blk) + sec * VHD_SECTOR) == -1)
    return -1;
  bit_set_range (v->bitmap, sec, 1);
  v->bm_dirty = true;
  return 0;
}

static int
write_block (struct vhd *v, const uint8_t *buf, uint64_t offset, size_t len)
{
  uint32_t blk = (uint32_t) (offset / v->block_size);
  uint32_t in = (uint32_t) (offset % v->block_size);
  size_t n;

  if (v->bat[blk] == VHD_BAT_UNUSED ? block_alloc (v, blk) == -1
      : bitmap_load (v, blk) == -1)
    return -1;
  if (in % VHD_SECTOR != 0 || len < VHD_SECTOR) {
    n = MIN (len, (size_t) (VHD_SECTOR - in % VHD_SECTOR));
    if (write_partial (v, blk, in, buf, n, offset) == -1)
      return -1;
    buf += n;
    offset += n;
    in += (uint32_t) n;
    len -= n;
  }
  n = len / VHD_SECTOR * VHD_SECTOR;
  if (n > 0) {
    if (vhd_write_at (v, buf, n, block_data (v, blk) + in) == -1)
      return -1;
    bit_set_range (v->bitmap, in / VHD_SECTOR, (uint32_t) (n / VHD_SECTOR));
    v->bm_dirty = true;
    buf += n;
    offset += n;
    in += (uint32_t) n;
    len -= n;
  }
  if (len > 0)
    return write_partial (v, blk, in, buf, len, offset);
  return 0;
}

int
vhd_pwrite (struct image *img, const void *buf, size_t count, uint64_t offset)
{
  struct vhd *v = (struct vhd *) img;
  const uint8_t *p = buf;
  size_t n;

  if (v->type == VHD_FIXED)
    return vhd_write_at (v, buf, count, offset);
  while (count > 0) {
    n = MIN (count, (size_t) (v->block_size - offset % v->block_size));
    if (write_block (v, p, offset, n) == -1)
      return -1;
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

/* ---- extents ---- */

static int
extents_below (struct vhd *v, uint64_t offset, uint64_t len,
               extent_vector *out)
{
  struct image *p = v->img.backing;
  uint64_t m;

  if (p == NULL || offset >= p->size)
    return extent_add (out, offset, len, EXTENT_HOLE);
  m = MIN (len, p->size - offset);
  if (image_extents (p, offset, m, out) == -1)
    return -1;
  return extent_add (out, offset + m, len - m, EXTENT_HOLE);
}

static int
extents_block (struct vhd *v, uint64_t offset, uint64_t len,
               extent_vector *out)
{
  uint32_t blk = (uint32_t) (offset / v->block_size);
  uint32_t in = (uint32_t) (offset % v->block_size), sec, run;
  uint64_t n;
  int r;

  if (blk >= v->n_entries || v->bat[blk] == VHD_BAT_UNUSED)
    return extents_below (v, offset, len, out);
  if (bitmap_load (v, blk) == -1)
    return -1;
  while (len > 0) {
    sec = in / VHD_SECTOR;
    run = bit_run (v->bitmap, sec, v->sectors_per_block);
    n = MIN (len, (uint64_t) (sec + run) * VHD_SECTOR - in);
    if (bit_test (v->bitmap, sec))
      r = extent_add (out, offset, n, EXTENT_DATA);
    else
      r = extents_below (v, offset, n, out);
    if (r == -1)
      return -1;
    offset += n;
    in += (uint32_t) n;
    len -= n;
  }
  return 0;
}

int
vhd_extents (struct image *img, uint64_t offset, uint64_t length,
             extent_vector *out)
{
  struct vhd *v = (struct vhd *) img;
  uint64_t n;

  if (v->type == VHD_FIXED)
    return extent_add (out, offset, length, EXTENT_DATA);
  while (length > 0) {
    n = MIN (length, v->block_size - offset % v->block_size);
    if (extents_block (v, offset, n, out) == -1)
      return -1;
    offset += n;
    length -= n;
  }
  return 0;
}

/* ---- metadata ---- */

static int
bat_store (struct vhd *v)
{
  CLEANUP_FREE uint32_t *be = NULL;
  uint32_t i, n = v->bat_hi - v->bat_lo;

  if (v->bat_lo >= v->bat_hi)
    return 0;
  be = malloc ((size_t) n * 4);
  if (be == NULL)
    return error_errno ("vhd: malloc");
  for (i = 0; i < n; i++)
    be[i] = htobe32 (v->bat[v->bat_lo + i]);
  if (vhd_write_at (v, be, (size_t) n * 4,
                    v->bat_offset + (uint64_t) v->bat_lo * 4) == -1)
    return -1;
  v->bat_lo = v->bat_hi = 0;
  return 0;
}

int
vhd_meta_store (struct vhd *v)
{
  if (v->type == VHD_FIXED || !v->img.writable)
    return 0;
  if (bitmap_store (v) == -1 || bat_store (v) == -1)
    return -1;
  if (!v->meta_dirty)
    return 0;
  if (vhd_write_at (v, &v->header, sizeof v->header, v->header_offset) == -1 ||
      footer_write (v) == -1)
    return -1;
  v->meta_dirty = false;
  return 0;
}

/* vhd-header.c: the VHD footer and dynamic header — checksums, CHS
 * geometry and the virtual size rule, loading and validating them from a
 * (hostile) file, and building them for a new image. */
#include "lib/common/compat.h"

#include <endian.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/image/vhd-int.h"

#define MAX_BLOCK_SIZE (256u << 20)
/* 2^22 entries (a 16 MiB BAT) cover 2040 GiB with 512 KiB blocks; more is
 * hostile or useless, and we must not allocate whatever a header asks. */
#define MAX_TABLE_ENTRIES (1u << 22)
#define MAX_GEOMETRY (65535ull * 16 * 255)
/* QEMU before 10.0 (Debian 12 ships 7.2) sizes a VHD by its CHS geometry
 * unless the creator is one it knows to use current_size ("win ", "qem2",
 * "d2v ", "CTXS", "tap\0"); a private tag like "fery" would make it read
 * our exact-size disks truncated.  So we write Hyper-V's tag. */
#define CREATOR_APP "win "
#define CREATOR_VERSION 0x000a0000u
#define CREATOR_OS "Wi2k"

/* ---- checksums ---- */

static uint32_t
vhd_checksum (const void *buf, size_t len, size_t csum_off)
{
  const uint8_t *p = buf;
  uint32_t sum = 0;
  size_t i;

  for (i = 0; i < len; i++)
    if (i < csum_off || i >= csum_off + 4)
      sum += p[i];
  return ~sum;
}

uint32_t
vhd_footer_checksum (const struct vhd_footer *f)
{
  return vhd_checksum (f, sizeof *f, offsetof (struct vhd_footer, checksum));
}

uint32_t
vhd_header_checksum (const struct vhd_header *h)
{
  return vhd_checksum (h, sizeof *h, offsetof (struct vhd_header, checksum));
}

/* ---- geometry and size ---- */

/* CHS geometry exactly as the VHD specification (and QEMU, blktap) has it. */
static void
chs_geometry (uint64_t total_sectors, uint16_t *cyl, uint8_t *heads,
              uint8_t *spt)
{
  uint64_t ts = MIN (total_sectors, MAX_GEOMETRY);
  uint64_t cth, h, s;

  if (ts >= 65535ull * 16 * 63) {
    s = 255;
    h = 16;
    cth = ts / s;
  }
  else {
    s = 17;
    cth = ts / s;
    h = MAX (4, (cth + 1023) / 1024);
    if (cth >= h * 1024 || h > 16) {
      s = 31;
      h = 16;
      cth = ts / s;
    }
    if (cth >= h * 1024) {
      s = 63;
      h = 16;
      cth = ts / s;
    }
  }
  *cyl = (uint16_t) (cth / h);
  *heads = (uint8_t) h;
  *spt = (uint8_t) s;
}

/* Virtual PC and QEMU without force_size ("vpc ", "qemu") size the disk by
 * its CHS geometry; Hyper-V, Disk2vhd, XenServer, Azure and QEMU's "qem2"
 * by current_size.  This is QEMU's rule since 10.0 (vpc_ignore_current_size)
 * and agrees with 7.x on every known creator; a maximal geometry cannot
 * describe a larger disk, so it means "use current_size" too. */
static uint64_t
footer_virtual_size (const struct vhd_footer *f)
{
  uint64_t chs = (uint64_t) be16toh (f->cylinders) * f->heads *
    f->sectors_per_track;

  if ((memcmp (f->creator_app, "vpc ", 4) == 0 ||
       memcmp (f->creator_app, "qemu", 4) == 0) && chs != MAX_GEOMETRY)
    return chs * VHD_SECTOR;
  return be64toh (f->current_size) & ~(uint64_t) (VHD_SECTOR - 1);
}

/* ---- loading ---- */

/* Find the footer: at the end (512 or 511 bytes), else the copy at 0 of a
 * dynamic disk whose end was lost. */
static int
footer_find (struct vhd *v)
{
  uint8_t tail[512];

  if (v->file_size < 512)
    return VHD_ERR (v, "file too short for a VHD footer (%llu bytes)",
                    (unsigned long long) v->file_size);
  if (vhd_read_at (v, tail, 512, v->file_size - 512) == -1)
    return -1;
  if (memcmp (tail, "conectix", 8) == 0) {
    memcpy (&v->footer, tail, 512);
    v->footer_at_end = true;
  }
  else if (memcmp (tail + 1, "conectix", 8) == 0) {
    memset (&v->footer, 0, 512);
    memcpy (&v->footer, tail + 1, 511);
    v->short_footer = true;
  }
  else if (vhd_read_at (v, &v->footer, 512, 0) == -1)
    return -1;
  else if (memcmp (v->footer.cookie, "conectix", 8) != 0)
    return VHD_ERR (v, "no VHD footer found");
  return 0;
}

int
vhd_footer_load (struct vhd *v)
{
  if (footer_find (v) == -1)
    return -1;
  if (vhd_footer_checksum (&v->footer) != be32toh (v->footer.checksum))
    return VHD_ERR (v, "footer checksum mismatch");
  v->type = be32toh (v->footer.disk_type);
  if (v->type != VHD_FIXED && v->type != VHD_DYNAMIC && v->type != VHD_DIFF)
    return VHD_ERR (v, "unsupported disk type %u", v->type);
  if (v->type == VHD_FIXED && !v->footer_at_end && !v->short_footer)
    return VHD_ERR (v, "fixed disk has no footer at the end of the file");
  if (v->type != VHD_FIXED && v->short_footer)
    return VHD_ERR (v, "511-byte footer on a dynamic disk");
  v->img.size = footer_virtual_size (&v->footer);
  return 0;
}

int
vhd_header_load (struct vhd *v)
{
  uint64_t off = be64toh (v->footer.data_offset);

  if (off > v->file_size || v->file_size - off < sizeof v->header)
    return VHD_ERR (v, "dynamic header at offset %llu is past end of file",
                    (unsigned long long) off);
  if (off % VHD_SECTOR != 0)
    return VHD_ERR (v, "dynamic header at unaligned offset %llu",
                    (unsigned long long) off);
  if (vhd_read_at (v, &v->header, sizeof v->header, off) == -1)
    return -1;
  if (memcmp (v->header.cookie, "cxsparse", 8) != 0)
    return VHD_ERR (v, "bad dynamic header cookie");
  if (vhd_header_checksum (&v->header) != be32toh (v->header.checksum))
    return VHD_ERR (v, "dynamic header checksum mismatch");
  v->header_offset = off;
  return 0;
}

int
vhd_header_validate (struct vhd *v)
{
  uint64_t bs = be32toh (v->header.block_size), n, need, bat_end;

  if (!is_power_of_2 (bs) || bs < VHD_SECTOR || bs > MAX_BLOCK_SIZE)
    return VHD_ERR (v, "invalid block size %llu (must be a power of two from "
                    "512 bytes to 256 MiB)", (unsigned long long) bs);
  n = be32toh (v->header.max_table_entries);
  if (n > MAX_TABLE_ENTRIES)
    return VHD_ERR (v, "max table entries %llu exceeds the limit of %u",
                    (unsigned long long) n, MAX_TABLE_ENTRIES);
  need = DIV_ROUND_UP (v->img.size, bs);
  if (n < need)
    return VHD_ERR (v, "max table entries %llu too small for the virtual size "
                    "%llu (need %llu)", (unsigned long long) n,
                    (unsigned long long) v->img.size,
                    (unsigned long long) need);
  v->bat_offset = be64toh (v->header.table_offset);
  if (v->bat_offset % VHD_SECTOR != 0 ||
      ADD_OVERFLOW (v->bat_offset, n * 4, &bat_end) || bat_end > v->file_size)
    return VHD_ERR (v, "BAT at offset %llu extends past end of file",
                    (unsigned long long) v->bat_offset);
  v->block_size = (uint32_t) bs;
  v->sectors_per_block = (uint32_t) (bs / VHD_SECTOR);
  v->bitmap_size = (uint32_t) (DIV_ROUND_UP (bs / VHD_SECTOR / 8, VHD_SECTOR)
                               * VHD_SECTOR);
  v->n_entries = (uint32_t) n;
  return 0;
}

uint64_t
vhd_locator_space (const struct vhd_locator *loc)
{
  uint64_t ds = be32toh (loc->data_space);

  /* The spec says sectors, Microsoft writes bytes. */
  return ds < VHD_SECTOR ? ds * VHD_SECTOR : ds;
}

bool
vhd_locator_used (const struct vhd_locator *loc)
{
  return loc->code[0] != 0 && be32toh (loc->data_length) != 0;
}

/* ---- building ---- */

void
vhd_footer_init (struct vhd *v, uint32_t type, uint64_t size,
                 const uint8_t *uuid)
{
  struct vhd_footer *f = &v->footer;
  uint16_t c;
  uint8_t h, s;
  time_t now = time (NULL);

  memset (f, 0, sizeof *f);
  memcpy (f->cookie, "conectix", 8);
  f->features = htobe32 (2);
  f->version = htobe32 (0x00010000);
  f->data_offset = htobe64 (type == VHD_FIXED ? UINT64_MAX : 512);
  f->timestamp = htobe32 (now > VHD_EPOCH ? (uint32_t) (now - VHD_EPOCH) : 0);
  memcpy (f->creator_app, CREATOR_APP, 4);
  f->creator_version = htobe32 (CREATOR_VERSION);
  memcpy (f->creator_os, CREATOR_OS, 4);
  f->original_size = f->current_size = htobe64 (size);
  chs_geometry (size / VHD_SECTOR, &c, &h, &s);
  f->cylinders = htobe16 (c);
  f->heads = h;
  f->sectors_per_track = s;
  f->disk_type = htobe32 (type);
  memcpy (f->unique_id, uuid, 16);
  f->checksum = htobe32 (vhd_footer_checksum (f));
}

void
vhd_header_init (struct vhd *v, uint64_t size, uint32_t block_size)
{
  struct vhd_header *h = &v->header;

  memset (h, 0, sizeof *h);
  memcpy (h->cookie, "cxsparse", 8);
  h->data_offset = htobe64 (UINT64_MAX);
  h->table_offset = htobe64 (1536);
  h->version = htobe32 (0x00010000);
  v->block_size = block_size;
  v->sectors_per_block = block_size / VHD_SECTOR;
  v->bitmap_size = DIV_ROUND_UP (v->sectors_per_block / 8, VHD_SECTOR)
    * VHD_SECTOR;
  v->n_entries = (uint32_t) DIV_ROUND_UP (size, block_size);
  h->max_table_entries = htobe32 (v->n_entries);
  h->block_size = htobe32 (block_size);
  v->header_offset = 512;
  v->bat_offset = 1536;
}

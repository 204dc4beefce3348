/* parttable.c: read MBR and GPT partition tables from hostile disks
 * (parttable.h): every size, offset and checksum is checked before a
 * partition is reported. */
#include "lib/common/compat.h"

#include <endian.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/disk/parttable.h"

const uint8_t parttable_esp_guid[16] = {
  0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
  0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b,
};

const uint8_t parttable_bios_boot_guid[16] = {
  0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
  0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49,
};

static const uint8_t zero_guid[16];

/* The sector size a caller gave (0 means 512): 512 or 4096 only. */
static int
sector_size_of (unsigned given, unsigned *ss)
{
  *ss = given ? given : 512;
  if (*ss != 512 && *ss != 4096)
    return error_set ("parttable: sector size %u is neither 512 nor 4096",
                      *ss);
  return 0;
}

/* Start pt afresh with the disk's checked geometry. */
static int
table_init (const struct parttable_disk *disk, struct parttable *pt)
{
  unsigned ss;
  uint64_t size = disk->size;

  memset (pt, 0, sizeof *pt);
  if (sector_size_of (disk->sector_size, &ss) == -1)
    return -1;
  if (disk->img == NULL && disk->mem == NULL)
    return error_set ("parttable: no disk to read");
  if (disk->img && (size == 0 || size > disk->img->size))
    size = disk->img->size;
  pt->sector_size = ss;
  pt->disk_size = size;
  return 0;
}

/* Read [off, off+len) of the disk; reads past its end are errors. */
static int
disk_pread (const struct parttable_disk *disk, const struct parttable *pt,
            void *buf, size_t len, uint64_t off)
{
  if (off > pt->disk_size || len > pt->disk_size - off)
    return error_set ("read of %zu bytes at %" PRIu64 " is past the end of "
                      "the disk (%" PRIu64 " bytes)", len, off,
                      pt->disk_size);
  if (disk->img)
    return image_pread (disk->img, buf, len, off);
  memcpy (buf, (const uint8_t *) disk->mem + off, len);
  return 0;
}

static uint64_t
disk_sectors (const struct parttable *pt)
{
  return pt->disk_size / pt->sector_size;
}

static int
compare_offset (const void *a, const void *b)
{
  const struct parttable_part *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sort the partitions by offset and refuse any two that overlap. */
static int
check_overlaps (struct parttable *pt, const char *what)
{
  size_t i;

  if (pt->parts.len > 1)
    qsort (pt->parts.ptr, pt->parts.len, sizeof *pt->parts.ptr,
           compare_offset);
  for (i = 1; i < pt->parts.len; i++) {
    const struct parttable_part *a = &pt->parts.ptr[i - 1];
    const struct parttable_part *b = &pt->parts.ptr[i];

    if (b->offset < a->offset + a->length)
      return error_set ("%s: partitions %u and %u overlap", what, a->number,
                        b->number);
  }
  return 0;
}

/* ---- MBR ---- */

/* One primary slot.  A status other than 0x00/0x80 is how the kernel
 * tells a FAT or NTFS boot sector (also 55 AA) from an MBR. */
static int
mbr_slot (struct parttable *pt, const struct parttable_mbr_entry *e,
          unsigned number)
{
  uint64_t first = le32toh (e->first_lba);
  uint64_t sectors = le32toh (e->sectors);
  struct parttable_part p = { .number = number, .mbr_type = e->type };

  if (e->status != 0 && e->status != PARTTABLE_MBR_ACTIVE)
    return error_set ("mbr: slot %u: status 0x%02x is neither 0x00 nor 0x80",
                      number, e->status);
  if (e->type == 0 || sectors == 0)
    return 0;                   /* unused slot */
  if (e->type == PARTTABLE_MBR_TYPE_GPT) {
    pt->protective = true;      /* may claim 2^32-1 sectors: not checked */
    return 0;
  }
  if (first == 0)
    return error_set ("mbr: partition %u starts at sector 0, over the MBR",
                      number);
  if (first + sectors > disk_sectors (pt))
    return error_set ("mbr: partition %u (sectors %" PRIu64 "-%" PRIu64
                      ") is past the end of the disk (%" PRIu64 " sectors)",
                      number, first, first + sectors - 1, disk_sectors (pt));
  p.offset = first * pt->sector_size;
  p.length = sectors * pt->sector_size;
  p.bootable = e->status == PARTTABLE_MBR_ACTIVE;
  p.esp = e->type == PARTTABLE_MBR_TYPE_ESP;
  return parttable_part_vector_append (&pt->parts, p);
}

int
parttable_read_mbr (const struct parttable_disk *disk, struct parttable *pt)
{
  struct parttable_mbr mbr;
  unsigned i;

  if (table_init (disk, pt) == -1)
    return -1;
  if (pt->disk_size < sizeof mbr)
    return 1;
  if (disk_pread (disk, pt, &mbr, sizeof mbr, 0) == -1)
    return error_prefix ("mbr: ");
  if (le16toh (mbr.signature) != PARTTABLE_MBR_SIGNATURE)
    return 1;
  pt->mbr_signature = le32toh (mbr.disk_signature);
  for (i = 0; i < 4; i++)
    if (mbr_slot (pt, &mbr.entries[i], i + 1) == -1)
      goto fail;
  if (check_overlaps (pt, "mbr") == -1)
    goto fail;
  pt->kind = PARTTABLE_MBR;
  return 0;
 fail:
  parttable_free (pt);
  return -1;
}

/* ---- GPT ---- */

static void
gpt_header_to_host (struct parttable_gpt_header *h)
{
  h->revision = le32toh (h->revision);
  h->header_size = le32toh (h->header_size);
  h->header_crc32 = le32toh (h->header_crc32);
  h->current_lba = le64toh (h->current_lba);
  h->backup_lba = le64toh (h->backup_lba);
  h->first_usable_lba = le64toh (h->first_usable_lba);
  h->last_usable_lba = le64toh (h->last_usable_lba);
  h->entries_lba = le64toh (h->entries_lba);
  h->entry_count = le32toh (h->entry_count);
  h->entry_size = le32toh (h->entry_size);
  h->entries_crc32 = le32toh (h->entries_crc32);
}

/* Do LBA ranges [a, a+an) and [b, b+bn) share a sector? */
static bool
lba_overlap (uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
  return an && bn && a < b + bn && b < a + an;
}

/* The entry array's geometry bounded: 128 * 2^n bytes per entry, at
 * most PARTTABLE_GPT_MAX_ENTRIES of them. */
static int
gpt_entries_bounded (const struct parttable_gpt_header *h)
{
  if (h->entry_size < sizeof (struct parttable_gpt_entry) ||
      h->entry_size > PARTTABLE_GPT_MAX_ENTRY_SIZE ||
      !is_power_of_2 (h->entry_size))
    return error_set ("entry size %" PRIu32 " is not 128 * 2^n up to %d",
                      h->entry_size, PARTTABLE_GPT_MAX_ENTRY_SIZE);
  if (h->entry_count > PARTTABLE_GPT_MAX_ENTRIES)
    return error_set ("entry count %" PRIu32 " is over the bound of %d",
                      h->entry_count, PARTTABLE_GPT_MAX_ENTRIES);
  return 0;
}

/* The header's fields, once its CRC matched: bounded entries, and the
 * header, entry array and usable area apart and inside the disk. */
static int
gpt_header_check (const struct parttable *pt, uint64_t lba,
                  const struct parttable_gpt_header *h)
{
  uint64_t sectors = disk_sectors (pt), array, usable;

  if (h->current_lba != lba)
    return error_set ("header says it lies at LBA %" PRIu64 ", not %"
                      PRIu64, h->current_lba, lba);
  if (gpt_entries_bounded (h) == -1)
    return -1;
  array = DIV_ROUND_UP ((uint64_t) h->entry_count * h->entry_size,
                        pt->sector_size);
  if (h->first_usable_lba == 0 || h->first_usable_lba > h->last_usable_lba ||
      h->last_usable_lba >= sectors)
    return error_set ("usable area (LBA %" PRIu64 "-%" PRIu64 ") is not "
                      "inside the disk (%" PRIu64 " sectors)",
                      h->first_usable_lba, h->last_usable_lba, sectors);
  if (h->entries_lba == 0 || h->entries_lba > sectors ||
      array > sectors - h->entries_lba)
    return error_set ("entry array (LBA %" PRIu64 ", %" PRIu64 " sectors) "
                      "is not inside the disk (%" PRIu64 " sectors)",
                      h->entries_lba, array, sectors);
  usable = h->last_usable_lba - h->first_usable_lba + 1;
  if (lba_overlap (lba, 1, h->entries_lba, array) ||
      lba_overlap (lba, 1, h->first_usable_lba, usable) ||
      lba_overlap (h->entries_lba, array, h->first_usable_lba, usable))
    return error_set ("header (LBA %" PRIu64 "), entry array (LBA %" PRIu64
                      "-%" PRIu64 ") and usable area (LBA %" PRIu64 "-%"
                      PRIu64 ") overlap", lba, h->entries_lba,
                      h->entries_lba + array - 1, h->first_usable_lba,
                      h->last_usable_lba);
  return 0;
}

/* The header in sector (ss bytes, a copy: its CRC field is zeroed) into
 * *h, host order, its size and CRC checked.  1 if it has no signature. */
static int
gpt_header_parse (uint8_t *sector, unsigned ss,
                  struct parttable_gpt_header *h)
{
  uint32_t crc;

  memcpy (h, sector, sizeof *h);
  if (memcmp (h->signature, PARTTABLE_GPT_SIGNATURE, 8) != 0)
    return 1;
  gpt_header_to_host (h);
  if (h->header_size < sizeof *h || h->header_size > ss)
    return error_set ("header size %" PRIu32 " is not between %zu and %u",
                      h->header_size, sizeof *h, ss);
  memset (sector + offsetof (struct parttable_gpt_header, header_crc32), 0,
          sizeof h->header_crc32);
  crc = (uint32_t) crc32 (0, sector, h->header_size);
  if (crc != h->header_crc32)
    return error_set ("header crc32 mismatch (stored 0x%08" PRIx32
                      ", computed 0x%08" PRIx32 ")", h->header_crc32, crc);
  return 0;
}

/* Read and check the header at lba into *h (host order).  Returns 1 if
 * the sector has no GPT signature. */
static int
gpt_header_read (const struct parttable_disk *disk,
                 const struct parttable *pt, uint64_t lba,
                 struct parttable_gpt_header *h)
{
  uint8_t sector[4096];
  int r;

  if (lba >= disk_sectors (pt))
    return 1;                   /* too small to hold one */
  if (disk_pread (disk, pt, sector, pt->sector_size,
                  lba * pt->sector_size) == -1)
    return -1;
  if ((r = gpt_header_parse (sector, pt->sector_size, h)) != 0)
    return r;
  return gpt_header_check (pt, lba, h);
}

/* The entry array, its CRC checked; the caller frees it. */
static uint8_t *
gpt_entries_read (const struct parttable_disk *disk,
                  const struct parttable *pt,
                  const struct parttable_gpt_header *h)
{
  size_t len = (size_t) h->entry_count * h->entry_size;   /* <= 1 MiB */
  uint8_t *buf = malloc (len ? len : 1);
  uint32_t crc;

  if (buf == NULL) {
    error_errno ("malloc");
    return NULL;
  }
  if (disk_pread (disk, pt, buf, len,
                  h->entries_lba * pt->sector_size) == -1) {
    free (buf);
    return NULL;
  }
  crc = (uint32_t) crc32 (0, buf, (uInt) len);
  if (crc != h->entries_crc32) {
    error_set ("entry array crc32 mismatch (stored 0x%08" PRIx32
               ", computed 0x%08" PRIx32 ")", h->entries_crc32, crc);
    free (buf);
    return NULL;
  }
  return buf;
}

/* One entry of the array (raw: entry_size bytes, at least 128). */
static int
gpt_entry (struct parttable *pt, const struct parttable_gpt_header *h,
           const uint8_t *raw, unsigned number)
{
  struct parttable_gpt_entry e;
  struct parttable_part p = { .number = number };
  uint64_t first, last;

  memcpy (&e, raw, sizeof e);
  if (memcmp (e.type_guid, zero_guid, sizeof zero_guid) == 0)
    return 0;                   /* unused entry */
  first = le64toh (e.first_lba);
  last = le64toh (e.last_lba);
  if (first > last)
    return error_set ("partition %u: first LBA %" PRIu64 " is after its "
                      "last LBA %" PRIu64, number, first, last);
  if (last >= disk_sectors (pt))
    return error_set ("partition %u (LBA %" PRIu64 "-%" PRIu64 ") is past "
                      "the end of the disk (%" PRIu64 " sectors)", number,
                      first, last, disk_sectors (pt));
  if (first < h->first_usable_lba || last > h->last_usable_lba)
    return error_set ("partition %u (LBA %" PRIu64 "-%" PRIu64 ") is "
                      "outside the usable area (LBA %" PRIu64 "-%" PRIu64
                      ")", number, first, last, h->first_usable_lba,
                      h->last_usable_lba);
  p.offset = first * pt->sector_size;
  p.length = (last - first + 1) * pt->sector_size;
  memcpy (p.type_guid, e.type_guid, sizeof p.type_guid);
  p.bootable = (le64toh (e.attributes) & PARTTABLE_GPT_ATTR_LEGACY_BOOT) != 0;
  p.esp = memcmp (e.type_guid, parttable_esp_guid, 16) == 0;
  return parttable_part_vector_append (&pt->parts, p);
}

/* The GPT whose header lies at lba.  Returns 1 if there is none. */
static int
gpt_read_at (const struct parttable_disk *disk, struct parttable *pt,
             uint64_t lba)
{
  struct parttable_gpt_header h;
  uint8_t *entries;
  uint32_t i;
  int r;

  parttable_free (pt);
  if ((r = gpt_header_read (disk, pt, lba, &h)) != 0)
    return r;
  if ((entries = gpt_entries_read (disk, pt, &h)) == NULL)
    return -1;
  for (i = 0; r == 0 && i < h.entry_count; i++)
    r = gpt_entry (pt, &h, entries + (size_t) i * h.entry_size, i + 1);
  free (entries);
  if (r == 0)
    r = check_overlaps (pt, "partition table");
  if (r == -1)
    return -1;
  memcpy (pt->disk_guid, h.disk_guid, sizeof pt->disk_guid);
  pt->first_usable = h.first_usable_lba * pt->sector_size;
  pt->last_usable = (h.last_usable_lba + 1) * pt->sector_size - 1;
  pt->kind = PARTTABLE_GPT;
  return 0;
}

int
parttable_read_gpt (const struct parttable_disk *disk, struct parttable *pt)
{
  char primary[1024], backup[1024];
  uint64_t sectors;
  int r;

  if (table_init (disk, pt) == -1)
    return -1;
  r = gpt_read_at (disk, pt, 1);
  if (r != -1)
    return r;
  /* The primary is damaged: libparted and the kernel fall back to the
   * backup at the last LBA, and so do we. */
  snprintf (primary, sizeof primary, "%s", error_get ());
  sectors = disk_sectors (pt);
  r = sectors > 2 ? gpt_read_at (disk, pt, sectors - 1) : 1;
  if (r == 0) {
    pt->gpt_backup = true;
    error_clear ();
    return 0;
  }
  snprintf (backup, sizeof backup, "%s",
            r == 1 ? "no signature" : error_get ());
  parttable_free (pt);
  return error_set ("gpt: primary: %s (backup: %s)", primary, backup);
}

/* ---- a GPT fitted to another disk size ---- */

static void
gpt_header_seal (uint8_t *sector, const struct parttable_gpt_header *h)
{
  struct parttable_gpt_header le = *h;
  uint32_t crc;

  le.revision = htole32 (h->revision);
  le.header_size = htole32 (h->header_size);
  le.header_crc32 = 0;
  le.current_lba = htole64 (h->current_lba);
  le.backup_lba = htole64 (h->backup_lba);
  le.first_usable_lba = htole64 (h->first_usable_lba);
  le.last_usable_lba = htole64 (h->last_usable_lba);
  le.entries_lba = htole64 (h->entries_lba);
  le.entry_count = htole32 (h->entry_count);
  le.entry_size = htole32 (h->entry_size);
  le.entries_crc32 = htole32 (h->entries_crc32);
  memcpy (sector, &le, sizeof le);
  crc = (uint32_t) crc32 (0, sector, h->header_size);
  le.header_crc32 = htole32 (crc);
  memcpy (sector, &le, sizeof le);
}

/* Every used entry must end at or before last_usable. */
static int
gpt_entries_fit (const uint8_t *entries, const struct parttable_gpt_header *h,
                 uint64_t last_usable)
{
  struct parttable_gpt_entry e;
  uint32_t i;

  for (i = 0; i < h->entry_count; i++) {
    memcpy (&e, entries + (size_t) i * h->entry_size, sizeof e);
    if (memcmp (e.type_guid, zero_guid, sizeof zero_guid) != 0 &&
        le64toh (e.last_lba) > last_usable)
      return error_set ("gpt: partition %" PRIu32 " ends at LBA %" PRIu64
                        ", past the last usable LBA %" PRIu64 " of the "
                        "new disk", i + 1, le64toh (e.last_lba),
                        last_usable);
  }
  return 0;
}

/* The protective MBR's 0xee slot covers the new disk (up to 2^32-1). */
static void
pmbr_fit (uint8_t *head, uint64_t sectors)
{
  struct parttable_mbr mbr;
  unsigned i;

  memcpy (&mbr, head, sizeof mbr);
  for (i = 0; i < 4; i++)
    if (mbr.entries[i].type == PARTTABLE_MBR_TYPE_GPT &&
        le32toh (mbr.entries[i].first_lba) == 1)
      mbr.entries[i].sectors =
        htole32 ((uint32_t) MIN (sectors - 1, (uint64_t) UINT32_MAX));
  memcpy (head, &mbr, sizeof mbr);
}

/* The backup of the primary header h (host order, sealed in head at LBA
 * 1): its entry array's copy and the header pointing back at LBA 1, to go
 * at h->backup_lba - array sectors. */
static int
gpt_tail (const uint8_t *head, size_t ss, const struct parttable_gpt_header *h,
          uint8_t **tail, size_t *tail_len, uint64_t *tail_offset)
{
  struct parttable_gpt_header b = *h;
  uint64_t array = DIV_ROUND_UP ((uint64_t) h->entry_count * h->entry_size,
                                 ss);

  if (h->backup_lba <= array || h->backup_lba - array <= h->last_usable_lba)
    return error_set ("gpt: no room for the backup table before LBA %" PRIu64,
                      h->backup_lba);
  if ((*tail = calloc (1, (array + 1) * ss)) == NULL)
    return error_errno ("gpt: the backup table");
  b.current_lba = h->backup_lba;
  b.backup_lba = 1;
  b.entries_lba = h->backup_lba - array;
  memcpy (*tail, head + h->entries_lba * ss,
          (size_t) h->entry_count * h->entry_size);
  gpt_header_seal (*tail + array * ss, &b);
  *tail_len = (array + 1) * ss;
  *tail_offset = b.entries_lba * ss;
  return 0;
}

int
parttable_gpt_fit (const struct parttable_disk *disk, uint8_t *head,
                   size_t head_len, uint64_t new_size, uint8_t **tail,
                   size_t *tail_len, uint64_t *tail_offset)
{
  struct parttable pt;
  struct parttable_gpt_header h;
  uint64_t sectors, array, array_end;
  size_t ss;
  int r;

  *tail = NULL;
  if (table_init (disk, &pt) == -1)
    return -1;
  if ((r = gpt_header_read (disk, &pt, 1, &h)) != 0)
    return r == 1 ? 1 : error_prefix ("gpt: primary: ");
  ss = pt.sector_size;
  sectors = new_size / ss;
  array = DIV_ROUND_UP ((uint64_t) h.entry_count * h.entry_size, ss);
  array_end = (h.entries_lba + array) * ss;
  if (h.entries_lba + array > h.first_usable_lba)
    return error_set ("gpt: the entry array (LBA %" PRIu64 "-%" PRIu64 ") does "
                      "not lie before the usable area (LBA %" PRIu64 ")",
                      h.entries_lba, h.entries_lba + array - 1,
                      h.first_usable_lba);
  if (array_end > head_len || 2 * ss > head_len)
    return error_set ("gpt: the entry array ends at byte %" PRIu64 ", past "
                      "the %zu bytes held", array_end, head_len);
  if (sectors < h.first_usable_lba + array + 2)
    return error_set ("gpt: a disk of %" PRIu64 " sectors has no room for "
                      "the table", sectors);
  if (gpt_entries_fit (head + h.entries_lba * ss, &h,
                       sectors - array - 2) == -1)
    return -1;
  if (memcmp (head + ss, PARTTABLE_GPT_SIGNATURE, 8) != 0)
    return error_set ("gpt: the bytes held are not the disk's table");
  h.backup_lba = sectors - 1;
  h.last_usable_lba = sectors - array - 2;
  gpt_header_seal (head + ss, &h);
  pmbr_fit (head, sectors);
  return gpt_tail (head, ss, &h, tail, tail_len, tail_offset);
}

/* The GPT primary header in head, host order, signature, size and CRC
 * checked, its entry array inside head; 1 if head holds no GPT header. */
static int
head_gpt_header (const uint8_t *head, size_t head_len, unsigned ss,
                 struct parttable_gpt_header *h)
{
  uint8_t sector[4096];
  uint64_t array;
  int r;

  if (head_len < 2 * (size_t) ss)
    return 1;                   /* no header held: the MBR decides */
  memcpy (sector, head + ss, ss);
  if ((r = gpt_header_parse (sector, ss, h)) != 0 ||
      gpt_entries_bounded (h) == -1)
    return r == 1 ? 1 : error_prefix ("gpt: ");
  array = (uint64_t) h->entry_count * h->entry_size;
  if (h->entries_lba == 0 || h->entries_lba > head_len / ss ||
      array > head_len - h->entries_lba * ss)
    return error_set ("gpt: the entry array lies past the %zu bytes held",
                      head_len);
  if ((uint32_t) crc32 (0, head + h->entries_lba * ss, (uInt) array) !=
      h->entries_crc32)
    return error_set ("gpt: entry array crc32 mismatch");
  return 0;
}

static int
gpt_set_range (uint8_t *head, unsigned ss, struct parttable_gpt_header *h,
               unsigned num, const uint64_t *start_lba, uint64_t end_lba)
{
  uint8_t *array = head + h->entries_lba * ss;
  struct parttable_gpt_entry e, o;
  uint64_t first;
  unsigned i;

  if (num == 0 || num > h->entry_count)
    return error_set ("gpt: there is no entry %u", num);
  memcpy (&e, array + (size_t) (num - 1) * h->entry_size, sizeof e);
  if (memcmp (e.type_guid, zero_guid, sizeof zero_guid) == 0)
    return error_set ("gpt: entry %u is unused", num);
  first = start_lba ? *start_lba : le64toh (e.first_lba);
  if (first < h->first_usable_lba)
    return error_set ("gpt: partition %u cannot start at LBA %" PRIu64
                      " (the first usable is %" PRIu64 ")", num, first,
                      h->first_usable_lba);
  if (end_lba < first || end_lba > h->last_usable_lba)
    return error_set ("gpt: partition %u cannot end at LBA %" PRIu64
                      " (it starts at %" PRIu64 ", the last usable is %"
                      PRIu64 ")", num, end_lba, first, h->last_usable_lba);
  for (i = 1; i <= h->entry_count; i++) {
    memcpy (&o, array + (size_t) (i - 1) * h->entry_size, sizeof o);
    if (i != num && memcmp (o.type_guid, zero_guid, sizeof zero_guid) &&
        le64toh (o.last_lba) >= first && le64toh (o.first_lba) <= end_lba)
      return error_set ("gpt: partition %u at LBA %" PRIu64 "-%" PRIu64
                        " would overlap partition %u", num, first, end_lba,
                        i);
  }
  e.first_lba = htole64 (first);
  e.last_lba = htole64 (end_lba);
  memcpy (array + (size_t) (num - 1) * h->entry_size, &e, sizeof e);
  h->entries_crc32 = (uint32_t) crc32 (0, array,
                                       (uInt) ((size_t) h->entry_count *
                                               h->entry_size));
  gpt_header_seal (head + ss, h);
  return 0;
}

/* CHS of an LBA as fdisk and parted write it (255 heads, 63 sectors),
 * 1023/254/63 past what CHS addresses. */
static void
chs_encode (uint8_t chs[3], uint64_t lba)
{
  uint64_t c = lba / (255 * 63), h = lba / 63 % 255, s = lba % 63 + 1;

  if (c > 1023)
    c = 1023, h = 254, s = 63;
  chs[0] = (uint8_t) h;
  chs[1] = (uint8_t) ((s & 0x3f) | ((c >> 2) & 0xc0));
  chs[2] = (uint8_t) (c & 0xff);
}

static int
mbr_set_range (uint8_t *head, uint64_t disk_sectors, unsigned num,
               const uint64_t *start_lba, uint64_t end_lba)
{
  struct parttable_mbr m;
  struct parttable_mbr_entry *e;
  uint64_t first, ofirst, olast;
  unsigned i;

  memcpy (&m, head, sizeof m);
  if (le16toh (m.signature) != PARTTABLE_MBR_SIGNATURE)
    return error_set ("mbr: no partition table");
  if (num == 0 || num > 4)
    return error_set ("mbr: partition %u is not a primary one: only "
                      "primary partitions are resized here", num);
  e = &m.entries[num - 1];
  if (e->type == 0 || e->type == PARTTABLE_MBR_TYPE_GPT ||
      parttable_mbr_extended (e->type))
    return error_set ("mbr: slot %u holds no partition to resize", num);
  first = start_lba ? *start_lba : le32toh (e->first_lba);
  if (first == 0 || first > UINT32_MAX || end_lba < first ||
      end_lba >= disk_sectors || end_lba - first + 1 > UINT32_MAX)
    return error_set ("mbr: partition %u cannot lie at sectors %" PRIu64
                      "-%" PRIu64, num, first, end_lba);
  for (i = 0; i < 4; i++) {
    if (i == num - 1 || m.entries[i].type == 0 ||
        le32toh (m.entries[i].sectors) == 0)
      continue;
    ofirst = le32toh (m.entries[i].first_lba);
    olast = ofirst + le32toh (m.entries[i].sectors) - 1;
    if (olast >= first && ofirst <= end_lba)
      return error_set ("mbr: partition %u at sectors %" PRIu64 "-%" PRIu64
                        " would overlap slot %u", num, first, end_lba,
                        i + 1);
  }
  if (start_lba) {
    e->first_lba = htole32 ((uint32_t) first);
    chs_encode (e->chs_first, first);
  }
  e->sectors = htole32 ((uint32_t) (end_lba - first + 1));
  chs_encode (e->chs_last, end_lba);
  memcpy (head, &m, sizeof m);
  return 0;
}

static int
set_range (uint8_t *head, size_t head_len, unsigned sector_size,
           uint64_t disk_size, unsigned num, const uint64_t *start_lba,
           uint64_t end_lba)
{
  struct parttable_gpt_header h;
  unsigned ss;
  int r;

  if (sector_size_of (sector_size, &ss) == -1)
    return -1;
  if (head_len < ss)
    return error_set ("parttable: the %zu bytes held are not a sector",
                      head_len);
  if ((r = head_gpt_header (head, head_len, ss, &h)) == -1)
    return -1;
  if (r == 0)
    return gpt_set_range (head, ss, &h, num, start_lba, end_lba);
  return mbr_set_range (head, disk_size / ss, num, start_lba, end_lba);
}

int
parttable_set_end (uint8_t *head, size_t head_len, unsigned sector_size,
                   uint64_t disk_size, unsigned num, uint64_t end_lba)
{
  return set_range (head, head_len, sector_size, disk_size, num, NULL,
                    end_lba);
}

int
parttable_set_range (uint8_t *head, size_t head_len, unsigned sector_size,
                     uint64_t disk_size, unsigned num, uint64_t start_lba,
                     uint64_t end_lba)
{
  return set_range (head, head_len, sector_size, disk_size, num, &start_lba,
                    end_lba);
}

int
parttable_gpt_backup (const uint8_t *head, size_t head_len,
                      unsigned sector_size, uint64_t disk_size,
                      uint8_t **tail, size_t *tail_len,
                      uint64_t *tail_offset)
{
  struct parttable_gpt_header h;
  unsigned ss;
  int r;

  *tail = NULL;
  if (sector_size_of (sector_size, &ss) == -1)
    return -1;
  if ((r = head_gpt_header (head, head_len, ss, &h)) != 0)
    return r == 1 ? 1 : -1;
  if (disk_size / ss < 3)
    return error_set ("gpt: a disk of %" PRIu64 " bytes holds no table",
                      disk_size);
  if (h.current_lba != 1 || h.backup_lba != disk_size / ss - 1)
    return error_set ("gpt: the header at LBA %" PRIu64 " names its backup "
                      "at LBA %" PRIu64 ", not the disk's last (%" PRIu64 ")",
                      h.current_lba, h.backup_lba, disk_size / ss - 1);
  return gpt_tail (head, ss, &h, tail, tail_len, tail_offset);
}

void
parttable_free (struct parttable *pt)
{
  parttable_part_vector_reset (&pt->parts);
}

int
parttable_firmware (const struct parttable_disk *disk,
                    enum parttable_firmware *fw)
{
  struct parttable pt = { 0 };
  bool esp = false, bios_boot = false;
  size_t i;
  int r;

  *fw = PARTTABLE_BIOS;
  if ((r = parttable_read_gpt (disk, &pt)) == -1)
    return -1;
  if (r == 1) {
    r = parttable_read_mbr (disk, &pt);
    parttable_free (&pt);
    return r == -1 ? -1 : 0;
  }
  for (i = 0; i < pt.parts.len; i++) {
    esp |= pt.parts.ptr[i].esp;
    bios_boot |= memcmp (pt.parts.ptr[i].type_guid,
                         parttable_bios_boot_guid, 16) == 0;
  }
  parttable_free (&pt);
  if (esp && !bios_boot)
    *fw = PARTTABLE_UEFI;
  return 0;
}

int
parttable_image_firmware (const char *path, unsigned flags,
                          enum parttable_firmware *fw)
{
  struct parttable_disk d = { 0 };
  int r;

  if ((d.img = image_open (path, flags)) == NULL)
    return -1;
  r = parttable_firmware (&d, fw);
  image_close (d.img);
  return r;
}

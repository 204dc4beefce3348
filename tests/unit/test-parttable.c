/* test-parttable.c: the MBR and GPT parser on disks built in memory (valid
 * tables, then one hostile field at a time, each refused with its reason),
 * and on a GPT written by sfdisk and read through the image layer. */
#include "tests/unit/unit.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/common/error.h"
#include "lib/disk/parttable.h"

#define SECTORS 2048                    /* a 1 MiB disk */
#define ENTRIES 128
#define ARRAY_SECTORS (ENTRIES * 128 / 512)

static uint8_t disk[SECTORS * 512];

static const struct parttable_disk mem = { .mem = disk, .size = sizeof disk };

static const uint8_t linux_guid[16] = {  /* 0FC63DAF-8483-4772-8E79-3D69D8477DE4 */
  0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
  0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4,
};

/* ---- MBR ---- */

static struct parttable_mbr *
mbr (void)
{
  return (struct parttable_mbr *) disk;
}

static void
mbr_slot (int i, uint8_t status, uint8_t type, uint32_t first, uint32_t n)
{
  struct parttable_mbr_entry *e = &mbr ()->entries[i];

  e->status = status;
  e->type = type;
  e->first_lba = htole32 (first);
  e->sectors = htole32 (n);
}

/* Partition 1 active Linux at 2048 (not on this small disk: at 64),
 * partition 2 swap, slots 3 and 4 unused. */
static void
mbr_make (void)
{
  memset (disk, 0, sizeof disk);
  mbr ()->disk_signature = htole32 (0x12345678);
  mbr ()->signature = htole16 (PARTTABLE_MBR_SIGNATURE);
  mbr_slot (0, 0x80, 0x83, 64, 1000);
  mbr_slot (1, 0x00, 0x82, 1064, SECTORS - 1064);
}

static void
assert_mbr_refused (const char *why)
{
  struct parttable pt;

  assert_int_equal (parttable_read_mbr (&mem, &pt), -1);
  if (strstr (error_get (), why) == NULL)
    fail_msg ("error '%s' does not say '%s'", error_get (), why);
  assert_int_equal (pt.parts.len, 0);
  assert_int_equal (pt.kind, PARTTABLE_NONE);
}

static void
test_mbr_valid (void **state)
{
  struct parttable pt;

  (void) state;
  mbr_make ();
  assert_int_equal (parttable_read_mbr (&mem, &pt), 0);
  assert_int_equal (pt.kind, PARTTABLE_MBR);
  assert_int_equal (pt.mbr_signature, 0x12345678);
  assert_false (pt.protective);
  assert_int_equal (pt.parts.len, 2);
  assert_int_equal (pt.parts.ptr[0].number, 1);
  assert_int_equal (pt.parts.ptr[0].offset, 64 * 512);
  assert_int_equal (pt.parts.ptr[0].length, 1000 * 512);
  assert_int_equal (pt.parts.ptr[0].mbr_type, 0x83);
  assert_true (pt.parts.ptr[0].bootable);
  assert_false (pt.parts.ptr[0].esp);
  assert_int_equal (pt.parts.ptr[1].number, 2);
  assert_false (pt.parts.ptr[1].bootable);
  assert_int_equal (pt.parts.ptr[1].offset + pt.parts.ptr[1].length,
                    sizeof disk);
  parttable_free (&pt);

  /* Slot order is not disk order: the list is sorted by offset. */
  mbr_slot (0, 0x00, 0xef, 1064, 100);
  mbr_slot (1, 0x00, 0x83, 64, 1000);
  assert_int_equal (parttable_read_mbr (&mem, &pt), 0);
  assert_int_equal (pt.parts.ptr[0].number, 2);
  assert_int_equal (pt.parts.ptr[1].number, 1);
  assert_true (pt.parts.ptr[1].esp);
  parttable_free (&pt);

  /* A protective MBR may claim 2^32-1 sectors; it is not a partition. */
  mbr_make ();
  mbr_slot (0, 0x00, 0xee, 1, 0xffffffff);
  mbr_slot (1, 0x00, 0x00, 0, 0);
  assert_int_equal (parttable_read_mbr (&mem, &pt), 0);
  assert_true (pt.protective);
  assert_int_equal (pt.parts.len, 0);
  parttable_free (&pt);

  /* No 55 AA: not an MBR. */
  mbr ()->signature = 0;
  assert_int_equal (parttable_read_mbr (&mem, &pt), 1);
  assert_int_equal (pt.kind, PARTTABLE_NONE);
  parttable_free (&pt);
}

static void
test_mbr_hostile (void **state)
{
  (void) state;
  mbr_make ();
  mbr_slot (1, 0x00, 0x82, 1064, SECTORS - 1063);
  assert_mbr_refused ("partition 2 (sectors 1064-2048) is past the end of "
                      "the disk (2048 sectors)");
  mbr_make ();
  mbr_slot (2, 0x00, 0x07, 0xffffffff, 0xffffffff);
  assert_mbr_refused ("partition 3 (sectors 4294967295-8589934589) is past");
  mbr_make ();
  mbr_slot (2, 0x00, 0x07, 1000, 10);
  assert_mbr_refused ("mbr: partitions 1 and 3 overlap");
  mbr_make ();
  mbr_slot (3, 0x00, 0x07, 0, 10);
  assert_mbr_refused ("partition 4 starts at sector 0");
  /* A FAT boot sector also ends in 55 AA; its code is no status byte. */
  mbr_make ();
  mbr_slot (3, 0x4c, 0x00, 0, 0);
  assert_mbr_refused ("slot 4: status 0x4c is neither 0x00 nor 0x80");
}

/* ---- GPT ---- */

static struct parttable_gpt_header *
gpt_header (uint64_t lba)
{
  return (struct parttable_gpt_header *) (disk + lba * 512);
}

static struct parttable_gpt_entry *
gpt_entry (uint64_t array_lba, int i)
{
  return (struct parttable_gpt_entry *) (disk + array_lba * 512) + i;
}

/* Recompute both CRCs of the header at lba (its fields little-endian). */
static void
gpt_fix (uint64_t lba)
{
  struct parttable_gpt_header *h = gpt_header (lba);
  uint64_t array = le64toh (h->entries_lba);
  uint64_t len = (uint64_t) le32toh (h->entry_count) * le32toh (h->entry_size);

  if (array < SECTORS && len <= sizeof disk - array * 512)
    h->entries_crc32 = htole32 ((uint32_t) crc32 (0, disk + array * 512,
                                                  (uInt) len));
  h->header_crc32 = 0;
  h->header_crc32 = htole32 ((uint32_t) crc32 (0, (const uint8_t *) h, 92));
}

static void
gpt_set_entry (uint64_t array, int i, const uint8_t *type, uint64_t first,
               uint64_t last)
{
  struct parttable_gpt_entry *e = gpt_entry (array, i);

  memcpy (e->type_guid, type, 16);
  memset (e->unique_guid, i + 1, 16);
  e->first_lba = htole64 (first);
  e->last_lba = htole64 (last);
}

static void
gpt_write_header (uint64_t lba, uint64_t other, uint64_t array)
{
  struct parttable_gpt_header *h = gpt_header (lba);

  memcpy (h->signature, PARTTABLE_GPT_SIGNATURE, 8);
  h->revision = htole32 (0x00010000);
  h->header_size = htole32 (92);
  h->current_lba = htole64 (lba);
  h->backup_lba = htole64 (other);
  h->first_usable_lba = htole64 (2 + ARRAY_SECTORS);
  h->last_usable_lba = htole64 (SECTORS - 2 - ARRAY_SECTORS);
  memset (h->disk_guid, 0xd1, 16);
  h->entries_lba = htole64 (array);
  h->entry_count = htole32 (ENTRIES);
  h->entry_size = htole32 (128);
  gpt_fix (lba);
}

/* Protective MBR, primary header at 1 and entries at 2, backup entries
 * and header at the end; entry 1 an ESP, entry 2 Linux (legacy bootable),
 * entry 4 Linux, entry 3 unused. */
static void
gpt_make (void)
{
  uint64_t backup_array = SECTORS - 1 - ARRAY_SECTORS;
  int copy;

  memset (disk, 0, sizeof disk);
  mbr ()->signature = htole16 (PARTTABLE_MBR_SIGNATURE);
  mbr_slot (0, 0x00, 0xee, 1, SECTORS - 1);
  for (copy = 0; copy < 2; copy++) {
    uint64_t array = copy ? backup_array : 2;
    gpt_set_entry (array, 0, parttable_esp_guid, 34, 233);
    gpt_set_entry (array, 1, linux_guid, 234, 1033);
    gpt_entry (array, 1)->attributes = htole64 (4);
    gpt_set_entry (array, 3, linux_guid, 1034, SECTORS - 34);
  }
  gpt_write_header (1, SECTORS - 1, 2);
  gpt_write_header (SECTORS - 1, 1, backup_array);
}

static void
assert_gpt_refused (const char *why)
{
  struct parttable pt;

  assert_int_equal (parttable_read_gpt (&mem, &pt), -1);
  if (strstr (error_get (), why) == NULL)
    fail_msg ("error '%s' does not say '%s'", error_get (), why);
  assert_int_equal (pt.parts.len, 0);
  assert_int_equal (pt.kind, PARTTABLE_NONE);
}

/* Change one primary header field, fix the CRCs, break the backup, and
 * expect the parser to refuse the result for `why`. */
#define GPT_REFUSE(field, value, why)                   \
  do {                                                  \
    gpt_make ();                                        \
    gpt_header (1)->field = (value);                    \
    gpt_fix (1);                                        \
    memset (gpt_header (SECTORS - 1), 0, 512);          \
    assert_gpt_refused (why);                           \
  } while (0)

static void
test_gpt_valid (void **state)
{
  struct parttable pt;
  const struct parttable_part *p;

  (void) state;
  gpt_make ();
  assert_int_equal (parttable_read_gpt (&mem, &pt), 0);
  assert_int_equal (pt.kind, PARTTABLE_GPT);
  assert_false (pt.gpt_backup);
  assert_int_equal (pt.first_usable, 34 * 512);
  assert_int_equal (pt.last_usable, (SECTORS - 33) * 512 - 1);
  assert_int_equal (pt.disk_guid[0], 0xd1);
  assert_int_equal (pt.parts.len, 3);
  p = &pt.parts.ptr[0];
  assert_int_equal (p->number, 1);
  assert_int_equal (p->offset, 34 * 512);
  assert_int_equal (p->length, 200 * 512);
  assert_true (p->esp);
  assert_false (p->bootable);
  assert_memory_equal (p->type_guid, parttable_esp_guid, 16);
  p = &pt.parts.ptr[1];
  assert_int_equal (p->number, 2);
  assert_false (p->esp);
  assert_true (p->bootable);
  assert_int_equal (p->mbr_type, 0);
  assert_int_equal (pt.parts.ptr[2].number, 4);
  assert_int_equal (pt.parts.ptr[2].offset + pt.parts.ptr[2].length,
                    (SECTORS - 33) * 512);
  parttable_free (&pt);

  /* The protective MBR of the same disk. */
  assert_int_equal (parttable_read_mbr (&mem, &pt), 0);
  assert_true (pt.protective);
  assert_int_equal (pt.parts.len, 0);
  parttable_free (&pt);

  /* A damaged primary: the backup at the last LBA is read. */
  gpt_header (1)->disk_guid[3] ^= 1;
  assert_int_equal (parttable_read_gpt (&mem, &pt), 0);
  assert_true (pt.gpt_backup);
  assert_int_equal (pt.parts.len, 3);
  parttable_free (&pt);

  /* No signature at LBA 1 (a stale backup does not make a GPT). */
  memset (gpt_header (1), 0, 512);
  assert_int_equal (parttable_read_gpt (&mem, &pt), 1);
  parttable_free (&pt);
}

static void
test_gpt_crc (void **state)
{
  (void) state;
  gpt_make ();
  gpt_header (1)->disk_guid[3] ^= 1;
  memset (gpt_header (SECTORS - 1), 0, 512);
  assert_gpt_refused ("gpt: primary: header crc32 mismatch");
  assert_non_null (strstr (error_get (), "(backup: no signature)"));

  gpt_make ();
  gpt_entry (2, 1)->last_lba = htole64 (1000);
  gpt_entry (SECTORS - 1 - ARRAY_SECTORS, 1)->last_lba = htole64 (1000);
  assert_gpt_refused ("primary: entry array crc32 mismatch");
  assert_non_null (strstr (error_get (), "backup: entry array crc32"));
}

static void
test_gpt_entry_bounds (void **state)
{
  (void) state;
  GPT_REFUSE (entry_size, htole32 (0), "entry size 0 is not 128 * 2^n");
  GPT_REFUSE (entry_size, htole32 (0x10000000), "entry size 268435456");
  GPT_REFUSE (entry_size, htole32 (8192), "entry size 8192 is not");
  GPT_REFUSE (entry_size, htole32 (192), "entry size 192 is not");
  GPT_REFUSE (entry_count, htole32 (257),
              "entry count 257 is over the bound of 256");
  GPT_REFUSE (entry_count, htole32 (0xffffffff), "entry count 4294967295");
  GPT_REFUSE (header_size, htole32 (91), "header size 91 is not between");
  GPT_REFUSE (header_size, htole32 (513), "header size 513 is not between");
}

static void
test_gpt_past_end (void **state)
{
  (void) state;
  gpt_make ();
  gpt_set_entry (2, 2, linux_guid, SECTORS - 10, SECTORS);
  gpt_fix (1);
  memset (gpt_header (SECTORS - 1), 0, 512);
  assert_gpt_refused ("partition 3 (LBA 2038-2048) is past the end of the "
                      "disk (2048 sectors)");

  gpt_make ();
  gpt_set_entry (2, 2, linux_guid, 0, UINT64_MAX);
  gpt_fix (1);
  memset (gpt_header (SECTORS - 1), 0, 512);
  assert_gpt_refused ("partition 3 (LBA 0-18446744073709551615) is past");

  GPT_REFUSE (last_usable_lba, htole64 (SECTORS), "usable area (LBA 34-2048) "
              "is not inside the disk (2048 sectors)");
  GPT_REFUSE (entries_lba, htole64 (SECTORS - 10), "entry array (LBA 2038, "
              "32 sectors) is not inside the disk");
  GPT_REFUSE (entries_lba, htole64 (UINT64_MAX), "entry array");
  GPT_REFUSE (current_lba, htole64 (2), "header says it lies at LBA 2, not 1");
}

static void
test_gpt_overlap (void **state)
{
  (void) state;
  /* The entry array inside the usable area, or over the header. */
  GPT_REFUSE (entries_lba, htole64 (100), "header (LBA 1), entry array "
              "(LBA 100-131) and usable area (LBA 34-2014) overlap");
  GPT_REFUSE (entries_lba, htole64 (1), "entry array (LBA 1-32)");
  GPT_REFUSE (first_usable_lba, htole64 (1), "overlap");
  GPT_REFUSE (first_usable_lba, htole64 (3000), "usable area (LBA 3000-2014)");

  /* A partition whose first LBA is after its last. */
  gpt_make ();
  gpt_set_entry (2, 2, linux_guid, 500, 400);
  gpt_fix (1);
  memset (gpt_header (SECTORS - 1), 0, 512);
  assert_gpt_refused ("partition 3: first LBA 500 is after its last LBA 400");

  /* Two partitions sharing sectors. */
  gpt_make ();
  gpt_set_entry (2, 2, linux_guid, 1000, 1100);
  gpt_fix (1);
  memset (gpt_header (SECTORS - 1), 0, 512);
  assert_gpt_refused ("partition table: partitions 2 and 3 overlap");

  /* A partition over the entry array, outside the usable area. */
  gpt_make ();
  gpt_set_entry (2, 2, linux_guid, 20, 30);
  gpt_fix (1);
  memset (gpt_header (SECTORS - 1), 0, 512);
  assert_gpt_refused ("partition 3 (LBA 20-30) is outside the usable area "
                      "(LBA 34-2014)");
}

static void
test_disk_args (void **state)
{
  struct parttable_disk d = { .mem = disk, .size = sizeof disk,
                              .sector_size = 1000 };
  struct parttable pt;

  (void) state;
  assert_int_equal (parttable_read_gpt (&d, &pt), -1);
  assert_non_null (strstr (error_get (), "sector size 1000"));
  d = (struct parttable_disk) { .size = 4096 };
  assert_int_equal (parttable_read_mbr (&d, &pt), -1);
  /* Disks too small for a table hold none. */
  memset (disk, 0, sizeof disk);
  d = (struct parttable_disk) { .mem = disk, .size = 100 };
  assert_int_equal (parttable_read_mbr (&d, &pt), 1);
  d.size = 1024;
  assert_int_equal (parttable_read_gpt (&d, &pt), 1);
  parttable_free (&pt);
  parttable_free (&pt);           /* twice is fine */
}

/* What sfdisk writes, read through the image layer. */
static void
test_sfdisk (void **state)
{
  char dir[] = "/tmp/ferry-test-parttable.XXXXXX", path[64], cmd[256];
  struct parttable_disk d = { 0 };
  struct parttable pt;

  (void) state;
  assert_non_null (mkdtemp (dir));
  snprintf (path, sizeof path, "%s/gpt.img", dir);
  snprintf (cmd, sizeof cmd, "truncate -s 40M %s && printf 'label: gpt\\n"
            "start=2048,size=32768,type=uefi\\nstart=34816,type=linux\\n' | "
            "sfdisk -q %s", path, path);
  assert_int_equal (system (cmd), 0);
  d.img = image_open (path, IMAGE_OPEN_RAW);
  assert_non_null (d.img);
  assert_int_equal (parttable_read_gpt (&d, &pt), 0);
  assert_int_equal (pt.parts.len, 2);
  assert_true (pt.parts.ptr[0].esp);
  assert_int_equal (pt.parts.ptr[0].offset, 1 << 20);
  assert_int_equal (pt.parts.ptr[0].length, 16 << 20);
  assert_false (pt.parts.ptr[1].esp);
  parttable_free (&pt);
  assert_int_equal (parttable_read_mbr (&d, &pt), 0);
  assert_true (pt.protective);
  parttable_free (&pt);
  image_close (d.img);
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal (system (cmd), 0);
}

/* The firmware a disk boots with, on what sfdisk writes. */
static enum parttable_firmware
firmware_of (const char *dir, const char *table)
{
  char path[96], cmd[512];
  struct parttable_disk d = { 0 };
  enum parttable_firmware fw;

  snprintf (path, sizeof path, "%s/fw.img", dir);
  if (table[0])
    snprintf (cmd, sizeof cmd, "rm -f %s && truncate -s 40M %s && "
              "printf '%s' | sfdisk -q %s", path, path, table, path);
  else
    snprintf (cmd, sizeof cmd, "rm -f %s && truncate -s 40M %s", path,
              path);
  assert_int_equal (system (cmd), 0);
  d.img = image_open (path, IMAGE_OPEN_RAW);
  assert_non_null (d.img);
  assert_int_equal (parttable_firmware (&d, &fw), 0);
  image_close (d.img);
  return fw;
}

static void
test_firmware (void **state)
{
  char dir[] = "/tmp/ferry-test-parttable.XXXXXX", cmd[128];

  (void) state;
  assert_non_null (mkdtemp (dir));
  /* GPT with an ESP only: UEFI */
  assert_int_equal (firmware_of (dir, "label: gpt\\nsize=16M,type=uefi\\n"
                                 "type=linux\\n"), PARTTABLE_UEFI);
  /* GPT with a BIOS boot partition too: it boots under both, BIOS */
  assert_int_equal (firmware_of (dir, "label: gpt\\nsize=1M,"
                                 "type=21686148-6449-6E6F-744E-656564454649"
                                 "\\nsize=16M,type=uefi\\ntype=linux\\n"),
                    PARTTABLE_BIOS);
  /* GPT without an ESP, MBR (even with an 0xef slot), no table: BIOS */
  assert_int_equal (firmware_of (dir, "label: gpt\\ntype=linux\\n"),
                    PARTTABLE_BIOS);
  assert_int_equal (firmware_of (dir, "label: dos\\nsize=16M,type=ef\\n"
                                 "type=83,bootable\\n"), PARTTABLE_BIOS);
  assert_int_equal (firmware_of (dir, ""), PARTTABLE_BIOS);
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal (system (cmd), 0);
}

/* A GPT fitted to a 4 MiB disk: the new disk, made of the fitted head and
 * the tail at its end, reads back from its primary and from its backup
 * alone; the protective MBR covers it.  A partition past the last usable
 * LBA of a smaller disk is refused. */
static uint8_t big[4 * SECTORS * 512];

static void
test_gpt_fit (void **state)
{
  const struct parttable_disk bigmem = { .mem = big, .size = sizeof big };
  uint8_t head[34 * 512], *tail;
  size_t tail_len;
  uint64_t tail_off;
  struct parttable pt;

  (void) state;
  gpt_make ();
  memcpy (head, disk, sizeof head);
  assert_int_equal (parttable_gpt_fit (&mem, head, sizeof head, sizeof big,
                                       &tail, &tail_len, &tail_off), 0);
  assert_int_equal (tail_len, (ARRAY_SECTORS + 1) * 512);
  assert_int_equal (tail_off + tail_len, sizeof big);
  memset (big, 0, sizeof big);
  memcpy (big, head, sizeof head);
  memcpy (big + tail_off, tail, tail_len);
  free (tail);
  assert_int_equal (parttable_read_gpt (&bigmem, &pt), 0);
  assert_false (pt.gpt_backup);
  assert_int_equal (pt.parts.len, 3);
  assert_int_equal (pt.last_usable, sizeof big - (ARRAY_SECTORS + 1) * 512 - 1);
  parttable_free (&pt);
  assert_int_equal (le32toh (((struct parttable_mbr *) big)->entries[0].sectors),
                    4 * SECTORS - 1);
  big[512 + 40] ^= 0xff;                /* the primary header damaged */
  assert_int_equal (parttable_read_gpt (&bigmem, &pt), 0);
  assert_true (pt.gpt_backup);
  assert_int_equal (pt.parts.len, 3);
  parttable_free (&pt);

  /* Partition 4 ends at LBA SECTORS-34: a disk 1 MiB smaller has no room. */
  gpt_make ();
  memcpy (head, disk, sizeof head);
  assert_int_equal (parttable_gpt_fit (&mem, head, sizeof head,
                                       sizeof disk - 512 * 8, &tail,
                                       &tail_len, &tail_off), -1);
  assert_non_null (strstr (error_get (), "partition 4 ends at LBA 2014"));
  /* A primary whose entry array lies past the usable area (here: the
   * backup's array, valid on the image) would land outside a smaller disk
   * or inside the new usable area: refused. */
  gpt_make ();
  gpt_write_header (1, SECTORS - 1, SECTORS - 1 - ARRAY_SECTORS);
  assert_int_equal (parttable_read_gpt (&mem, &pt), 0);
  parttable_free (&pt);
  memcpy (head, disk, sizeof head);
  assert_int_equal (parttable_gpt_fit (&mem, head, sizeof head, sizeof big,
                                       &tail, &tail_len, &tail_off), -1);
  assert_non_null (strstr (error_get (), "does not lie before the usable"));
  gpt_make ();
  memcpy (head, disk, sizeof head);
  /* A head too short for the entry array is refused, not over-read. */
  assert_int_equal (parttable_gpt_fit (&mem, head, 2 * 512, sizeof big,
                                       &tail, &tail_len, &tail_off), -1);
  /* No GPT: 1. */
  mbr_make ();
  memcpy (head, disk, sizeof head);
  assert_int_equal (parttable_gpt_fit (&mem, head, sizeof head, sizeof big,
                                       &tail, &tail_len, &tail_off), 1);
}

/* A partition's end moved in the head alone: the GPT reads back from its
 * primary with the new end and valid CRCs, the MBR slot likewise;
 * overlaps, unused or logical slots, ends past the usable area and a
 * damaged header are refused with the head unchanged. */
static void
test_set_end (void **state)
{
  uint8_t head[34 * 512], before[34 * 512];
  struct parttable pt;

  (void) state;
  gpt_make ();
  memcpy (head, disk, sizeof head);
  assert_int_equal (parttable_set_end (head, sizeof head, 512, sizeof disk,
                                       2, 900), 0);
  memcpy (disk, head, sizeof head);
  assert_int_equal (parttable_read_gpt (&mem, &pt), 0);
  assert_false (pt.gpt_backup);
  assert_int_equal (pt.parts.len, 3);
  assert_int_equal (pt.parts.ptr[1].number, 2);
  assert_int_equal (pt.parts.ptr[1].offset, 234 * 512);
  assert_int_equal (pt.parts.ptr[1].length, (900 - 234 + 1) * 512);
  parttable_free (&pt);
  memcpy (before, head, sizeof head);
  /* into partition 4, past the last usable LBA, before the start, an
   * unused entry, no entry: refused, head as it was */
  assert_int_equal (parttable_set_end (head, sizeof head, 512, sizeof disk,
                                       2, 1034), -1);
  assert_non_null (strstr (error_get (), "overlap partition 4"));
  assert_int_equal (parttable_set_end (head, sizeof head, 512, sizeof disk,
                                       4, SECTORS), -1);
  assert_int_equal (parttable_set_end (head, sizeof head, 512, sizeof disk,
                                       2, 233), -1);
  assert_int_equal (parttable_set_end (head, sizeof head, 512, sizeof disk,
                                       3, 1000), -1);
  assert_int_equal (parttable_set_end (head, sizeof head, 512, sizeof disk,
                                       ENTRIES + 1, 1000), -1);
  assert_memory_equal (head, before, sizeof head);
  /* an entry array past the bytes held, a damaged header */
  assert_int_equal (parttable_set_end (head, 3 * 512, 512, sizeof disk, 2,
                                       800), -1);
  head[512 + 40] ^= 1;
  assert_int_equal (parttable_set_end (head, sizeof head, 512, sizeof disk,
                                       2, 800), -1);
  assert_non_null (strstr (error_get (), "crc32"));

  mbr_make ();
  memcpy (head, disk, 512);
  assert_int_equal (parttable_set_end (head, 512, 512, sizeof disk, 1, 563),
                    0);
  memcpy (disk, head, 512);
  assert_int_equal (parttable_read_mbr (&mem, &pt), 0);
  assert_int_equal (pt.parts.ptr[0].length, 500 * 512);
  parttable_free (&pt);
  assert_int_equal (parttable_set_end (head, 512, 512, sizeof disk, 1, 1064),
                    -1);                                /* into slot 2 */
  assert_int_equal (parttable_set_end (head, 512, 512, sizeof disk, 2,
                                       SECTORS), -1);   /* past the disk */
  assert_int_equal (parttable_set_end (head, 512, 512, sizeof disk, 3, 100),
                    -1);                                /* unused */
  assert_int_equal (parttable_set_end (head, 512, 512, sizeof disk, 5, 100),
                    -1);                                /* logical */
  assert_non_null (strstr (error_get (), "not a primary"));
}

/* What deploy does to a disk it grows, in the head alone: the GPT fitted
 * to 4 MiB, partition 4 moved to the end, partition 2 grown up to it, the
 * backup made again from the edited primary.  The new disk reads back
 * from its primary and from its backup alone, with the new places, the
 * types and attributes kept.  An MBR slot moves the same way, its CHS
 * written; a move onto another partition or before the usable area is
 * refused with the head unchanged. */
static void
test_set_range (void **state)
{
  const struct parttable_disk bigmem = { .mem = big, .size = sizeof big };
  const uint64_t last = 4 * SECTORS - ARRAY_SECTORS - 2;
  uint8_t head[34 * 512], before[34 * 512], *tail;
  size_t tail_len;
  uint64_t tail_off;
  struct parttable pt;
  int pass;

  (void) state;
  gpt_make ();
  memcpy (head, disk, sizeof head);
  assert_int_equal (parttable_gpt_fit (&mem, head, sizeof head, sizeof big,
                                       &tail, &tail_len, &tail_off), 0);
  free (tail);
  assert_int_equal (parttable_set_range (head, sizeof head, 512, sizeof big,
                                         4, last - 999, last), 0);
  assert_int_equal (parttable_set_end (head, sizeof head, 512, sizeof big,
                                       2, last - 1000), 0);
  memcpy (before, head, sizeof head);
  assert_int_equal (parttable_set_range (head, sizeof head, 512, sizeof big,
                                         4, last - 1000, last), -1);
  assert_non_null (strstr (error_get (), "overlap partition 2"));
  assert_int_equal (parttable_set_range (head, sizeof head, 512, sizeof big,
                                         1, 10, 233), -1);
  assert_non_null (strstr (error_get (), "first usable"));
  assert_memory_equal (head, before, sizeof head);
  /* a backup LBA that is not the disk's last: refused */
  assert_int_equal (parttable_gpt_backup (head, sizeof head, 512, sizeof disk,
                                          &tail, &tail_len, &tail_off), -1);
  assert_null (tail);
  assert_int_equal (parttable_gpt_backup (head, sizeof head, 512, sizeof big,
                                          &tail, &tail_len, &tail_off), 0);
  assert_int_equal (tail_off + tail_len, sizeof big);
  for (pass = 0; pass < 2; pass++) {
    memset (big, 0, sizeof big);
    memcpy (big, head, sizeof head);
    memcpy (big + tail_off, tail, tail_len);
    if (pass == 1)
      big[512 + 40] ^= 0xff;            /* the backup alone */
    assert_int_equal (parttable_read_gpt (&bigmem, &pt), 0);
    assert_int_equal (pt.gpt_backup, pass == 1);
    assert_int_equal (pt.parts.len, 3);
    assert_int_equal (pt.parts.ptr[1].number, 2);
    assert_int_equal (pt.parts.ptr[1].offset, 234 * 512);
    assert_int_equal (pt.parts.ptr[1].length, (last - 1000 - 234 + 1) * 512);
    assert_true (pt.parts.ptr[1].bootable);
    assert_int_equal (pt.parts.ptr[2].number, 4);
    assert_int_equal (pt.parts.ptr[2].offset, (last - 999) * 512);
    assert_int_equal (pt.parts.ptr[2].length, 1000 * 512);
    assert_memory_equal (pt.parts.ptr[2].type_guid, linux_guid, 16);
    parttable_free (&pt);
  }
  free (tail);
  /* no GPT in head: 1 */
  mbr_make ();
  memset (head, 0, sizeof head);
  memcpy (head, disk, 512);
  assert_int_equal (parttable_gpt_backup (head, sizeof head, 512, sizeof disk,
                                          &tail, &tail_len, &tail_off), 1);

  /* MBR: slot 2 moved to the end of the 4 MiB disk (cylinder 0 of the
   * 255x63 geometry: its CHS checked), slot 1 grown up to it. */
  assert_int_equal (parttable_set_range (head, 512, 512, sizeof big, 2,
                                         4 * SECTORS - 984, 4 * SECTORS - 1),
                    0);
  assert_int_equal (parttable_set_end (head, 512, 512, sizeof big, 1,
                                       4 * SECTORS - 985), 0);
  memset (big, 0, sizeof big);
  memcpy (big, head, 512);
  assert_int_equal (parttable_read_mbr (&bigmem, &pt), 0);
  assert_int_equal (pt.parts.len, 2);
  assert_int_equal (pt.parts.ptr[0].length, (4 * SECTORS - 985 - 64 + 1) * 512);
  assert_true (pt.parts.ptr[0].bootable);
  assert_int_equal (pt.parts.ptr[1].offset, (4 * SECTORS - 984) * 512ull);
  assert_int_equal (pt.parts.ptr[1].mbr_type, 0x82);
  parttable_free (&pt);
  {
    const struct parttable_mbr_entry *e = &((struct parttable_mbr *) big)->entries[1];
    uint64_t lba = 4 * SECTORS - 984;           /* cylinder 0 */
    assert_int_equal (e->chs_first[0], lba / 63 % 255);
    assert_int_equal (e->chs_first[1], lba % 63 + 1);
    assert_int_equal (e->chs_first[2], 0);
  }
  /* past CHS's reach: 1023/254/63 */
  assert_int_equal (parttable_set_range (head, 512, 512, (uint64_t) 1 << 40,
                                         2, 20000000, 20000999), 0);
  {
    const struct parttable_mbr_entry *e = &((struct parttable_mbr *) head)->entries[1];
    assert_int_equal (e->chs_last[0], 254);
    assert_int_equal (e->chs_last[1], 0xff);
    assert_int_equal (e->chs_last[2], 0xff);
  }
  memcpy (before, head, 512);
  assert_int_equal (parttable_set_range (head, 512, 512, sizeof big, 2, 0,
                                         100), -1);      /* sector 0 */
  assert_int_equal (parttable_set_range (head, 512, 512, sizeof big, 2, 500,
                                         600), -1);      /* onto slot 1 */
  assert_memory_equal (head, before, 512);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mbr_valid),
    cmocka_unit_test (test_mbr_hostile),
    cmocka_unit_test (test_gpt_valid),
    cmocka_unit_test (test_gpt_crc),
    cmocka_unit_test (test_gpt_entry_bounds),
    cmocka_unit_test (test_gpt_past_end),
    cmocka_unit_test (test_gpt_overlap),
    cmocka_unit_test (test_disk_args),
    cmocka_unit_test (test_sfdisk),
    cmocka_unit_test (test_firmware),
    cmocka_unit_test (test_gpt_fit),
    cmocka_unit_test (test_set_end),
    cmocka_unit_test (test_set_range),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

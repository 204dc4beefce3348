/* test-fsmap.c: the FAT, exFAT, NTFS and btrfs used-block maps on
 * filesystems made by their own mkfs (at a partition offset inside a
 * bigger disk), and on crafted variations of their headers: lying sizes
 * are refused (1, copy in full), dirty states answer USEDMAP_UNSAFE, what
 * is kept stays sorted and inside the partition. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/volume.h>

#include "lib/common/error.h"
#include "lib/disk/usedmap.h"

#define PART (1u << 20)       /* the filesystem starts 1 MiB into the disk */

static char dir[] = "/tmp/ferry-test-fsmap.XXXXXX";
static char disk[256];

static void
sh (const char *cmd)
{
  char line[2048];

  snprintf (line, sizeof line, "cd %s && %s", dir, cmd);
  assert_int_equal (system (line), 0);
}

/* Make fs.img with MKFS (and FILL), then disk.img: 1 MiB of zeros, fs.img
 * and 1 MiB more. */
static void
make_disk (const char *size, const char *mkfs, const char *fill)
{
  char cmd[1024];

  snprintf (cmd, sizeof cmd, "rm -f fs.img disk.img && truncate -s %s fs.img"
            " && %s >/dev/null 2>&1 && %s >/dev/null 2>&1 && "
            "truncate -s 1M disk.img && cat fs.img >> disk.img && "
            "truncate -s +1M disk.img", size, mkfs, fill);
  sh (cmd);
  snprintf (disk, sizeof disk, "%s/disk.img", dir);
}

/* Overwrite bytes at a filesystem offset. */
static void
poke (uint64_t off, const void *bytes, size_t n)
{
  FILE *f = fopen (disk, "r+");

  assert_non_null (f);
  assert_int_equal (fseek (f, (long) (PART + off), SEEK_SET), 0);
  assert_int_equal (fwrite (bytes, 1, n, f), n);
  assert_int_equal (fclose (f), 0);
}

typedef int (*map_fn) (struct image *, uint64_t, uint64_t, unsigned,
                       extent_vector *);

/* Run map over the partition; check the promises; *kept gets the bytes. */
static int
run (map_fn map, uint64_t *kept)
{
  struct image *img = image_open (disk, IMAGE_OPEN_RAW);
  extent_vector keep = empty_vector;
  uint64_t end = PART, part_end;
  size_t i;
  int r;

  assert_non_null (img);
  part_end = img->size - PART;
  r = map (img, PART, part_end - PART, 0, &keep);
  *kept = 0;
  for (i = 0; i < keep.len; i++) {
    assert_true (keep.ptr[i].offset >= end);
    end = keep.ptr[i].offset + keep.ptr[i].length;
    assert_true (end <= part_end);
    *kept += keep.ptr[i].length;
  }
  if (r != 0)
    assert_int_equal (keep.len, 0);
  free (keep.ptr);
  image_close (img);
  error_clear ();
  return r;
}

static const char files[] =
  "head -c 3000000 /dev/urandom > a && printf hello > b";

static void
test_fat (void **state)
{
  static const char *const kinds[] = {
    "mkfs.vfat -F 12 fs.img", "mkfs.vfat -F 16 fs.img",
    "mkfs.vfat -F 32 fs.img",
  };
  uint64_t kept;
  size_t i;

  (void) state;
  sh (files);
  for (i = 0; i < 3; i++) {
    make_disk (i == 2 ? "40M" : "16M", kinds[i],
               "mcopy -i fs.img a b ::/");
    assert_int_equal (run (fatmap_used, &kept), 0);
    assert_true (kept > 3000000 && kept < 4000000);
    /* Not the others' filesystem. */
    assert_int_equal (run (exfatmap_used, &kept), 1);
    assert_int_equal (run (btrfsmap_used, &kept), 1);
    assert_int_equal (run (ntfsmap_used, &kept), 1);
  }
  /* FAT32 dirty (BPB flags): mapped all the same (no journal). */
  poke (65, "\x01", 1);
  assert_int_equal (run (fatmap_used, &kept), 0);
  /* A total sector count larger than the partition: refused. */
  poke (32, "\xff\xff\xff\x0f", 4);
  assert_int_equal (run (fatmap_used, &kept), 1);
  make_disk ("16M", "mkfs.vfat -F 16 fs.img", "true");
  poke (11, "\x00\x03", 2);           /* 768 bytes per sector */
  assert_int_equal (run (fatmap_used, &kept), 1);
  make_disk ("16M", "mkfs.vfat -F 16 fs.img", "true");
  poke (16, "\x07", 1);               /* seven FATs */
  assert_int_equal (run (fatmap_used, &kept), 1);
  make_disk ("16M", "mkfs.vfat -F 16 fs.img", "true");
  poke (22, "\x01\x00", 2);           /* a FAT too small for the clusters */
  assert_int_equal (run (fatmap_used, &kept), 1);
}

static void
test_exfat (void **state)
{
  uint64_t kept, empty;

  (void) state;
  make_disk ("64M", "mkfs.exfat fs.img", "true");
  assert_int_equal (run (exfatmap_used, &kept), 0);
  empty = kept;
  assert_true (empty < 1u << 20);
  assert_int_equal (run (fatmap_used, &kept), 1);
  /* Dirty: copy in full, with the reason. */
  poke (106, "\x02\x00", 2);
  assert_int_equal (run (exfatmap_used, &kept), USEDMAP_UNSAFE);
  poke (106, "\x00\x00", 2);
  /* More clusters than the volume holds; the root outside the heap; a
   * root chain that loops onto itself (the FAT entry of cluster 2). */
  poke (92, "\xff\xff\xff\x00", 4);
  assert_int_equal (run (exfatmap_used, &kept), 1);
  make_disk ("64M", "mkfs.exfat fs.img", "true");
  poke (96, "\xff\xff\xff\x7f", 4);
  assert_int_equal (run (exfatmap_used, &kept), 1);
}

static void
test_ntfs (void **state)
{
  uint64_t kept;

  (void) state;
  sh (files);
  make_disk ("32M", "mkntfs -q -F -f fs.img", "ntfscp -q fs.img a a");
  assert_int_equal (run (ntfsmap_used, &kept), 0);
  assert_true (kept > 3000000 && kept < 12000000);
  assert_int_equal (run (fatmap_used, &kept), 1);
  /* A cluster count past the partition: libntfs-3g refuses the mount. */
  poke (40, "\xff\xff\xff\xff\xff\xff\x00\x00", 8);
  assert_int_equal (run (ntfsmap_used, &kept), 1);
}

/* Set $Volume's dirty flag the way Windows does, through libntfs-3g. */
static void
ntfs_mark_dirty (const char *img)
{
  ntfs_volume *vol = ntfs_mount (img, NTFS_MNT_NONE);

  assert_non_null (vol);
  assert_int_equal (ntfs_volume_write_flags (vol, vol->flags
                                             | VOLUME_IS_DIRTY), 0);
  assert_int_equal (ntfs_umount (vol, FALSE), 0);
}

static void
test_ntfs_unsafe (void **state)
{
  char fs[300];
  uint64_t kept;

  (void) state;
  snprintf (fs, sizeof fs, "%s/fs.img", dir);
  make_disk ("32M", "mkntfs -q -F -f fs.img", "true");
  assert_int_equal (run (ntfsmap_used, &kept), 0);
  ntfs_mark_dirty (fs);
  sh ("rm -f disk.img && truncate -s 1M disk.img && cat fs.img >> disk.img "
      "&& truncate -s +1M disk.img");
  assert_int_equal (run (ntfsmap_used, &kept), USEDMAP_UNSAFE);
  /* Hibernated: hiberfil.sys starting with a live "HIBR" header. */
  sh ("printf HIBR > hiber && head -c 8188 /dev/zero >> hiber");
  make_disk ("32M", "mkntfs -q -F -f fs.img",
             "ntfscp -q fs.img hiber hiberfil.sys");
  assert_int_equal (run (ntfsmap_used, &kept), USEDMAP_UNSAFE);
}

/* Make the btrfs superblock's crc32c right again after a poke. */
static void
sb_fix_crc (void)
{
  unsigned char sb[4096];
  uint32_t crc = 0xffffffffu;
  FILE *f = fopen (disk, "r+");
  size_t i;
  int k;

  assert_non_null (f);
  assert_int_equal (fseek (f, (long) (PART + 0x10000), SEEK_SET), 0);
  assert_int_equal (fread (sb, 1, sizeof sb, f), sizeof sb);
  for (i = 32; i < sizeof sb; i++) {
    crc ^= sb[i];
    for (k = 0; k < 8; k++)
      crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
  }
  crc = ~crc;
  for (k = 0; k < 4; k++)
    sb[k] = (unsigned char) (crc >> (8 * k));
  assert_int_equal (fseek (f, (long) (PART + 0x10000), SEEK_SET), 0);
  assert_int_equal (fwrite (sb, 1, 4, f), 4);
  assert_int_equal (fclose (f), 0);
}

static void
test_btrfs (void **state)
{
  uint64_t kept;

  (void) state;
  sh ("rm -rf root && mkdir root && head -c 3000000 /dev/urandom > root/a");
  make_disk ("200M", "mkfs.btrfs -q -f -r root fs.img", "true");
  assert_int_equal (run (btrfsmap_used, &kept), 0);
  /* 3 MB of data, DUP metadata, the first MiB. */
  assert_true (kept > 3000000 && kept < 8000000);
  assert_int_equal (run (fatmap_used, &kept), 1);
  assert_int_equal (run (ntfsmap_used, &kept), 1);
  /* A log tree awaiting replay (CRC made right): copied in full. */
  poke (0x10000 + 96, "\x00\x00\x10", 3);
  sb_fix_crc ();
  assert_int_equal (run (btrfsmap_used, &kept), USEDMAP_UNSAFE);
  /* A changed superblock without its CRC made right: refused. */
  poke (0x10000 + 96, "\x00\x00\x00", 3);
  assert_int_equal (run (btrfsmap_used, &kept), 1);
  /* 128 KiB nodes, and a sys_chunk_array longer than its room. */
  poke (0x10000 + 148, "\x00\x00\x02\x00", 4);
  sb_fix_crc ();
  assert_int_equal (run (btrfsmap_used, &kept), 1);
  poke (0x10000 + 148, "\x00\x40\x00\x00", 4);
  poke (0x10000 + 160, "\x00\x10\x00\x00", 4);
  sb_fix_crc ();
  assert_int_equal (run (btrfsmap_used, &kept), 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fat),
    cmocka_unit_test (test_exfat),
    cmocka_unit_test (test_ntfs),
    cmocka_unit_test (test_ntfs_unsafe),
    cmocka_unit_test (test_btrfs),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

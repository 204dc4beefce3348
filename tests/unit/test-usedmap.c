/* test-usedmap.c: the used-block map of partitioned disks (libparted +
 * libext2fs), on disks made with sfdisk, mke2fs and mkswap. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/disk/usedmap.h"

static char dir[] = "/tmp/ferry-test-usedmap.XXXXXX";

static void
sh (const char *fmt, const char *arg)
{
  char cmd[1024];

  snprintf (cmd, sizeof cmd, fmt, arg, arg, arg);
  assert_int_equal (system (cmd), 0);
}

static uint64_t
kept (const struct usedmap *m)
{
  uint64_t n = 0;
  size_t i;

  for (i = 0; i < m->keep.len; i++)
    n += m->keep.ptr[i].length;
  return n;
}

static void
assert_sorted (const struct usedmap *m)
{
  size_t i;

  for (i = 1; i < m->keep.len; i++)
    assert_true (m->keep.ptr[i].offset >=
                 m->keep.ptr[i - 1].offset + m->keep.ptr[i - 1].length);
}

static void
test_mbr_ext4_swap (void **state)
{
  char disk[256];
  struct image *img;
  struct usedmap m;

  (void) state;
  snprintf (disk, sizeof disk, "%s/demo.img", dir);
  sh ("tests/make-demo-disk.sh %s", disk);
  img = image_open (disk, IMAGE_OPEN_RAW);
  assert_non_null (img);
  assert_int_equal (usedmap_build (img, 0, &m), 0);
  assert_string_equal (m.table, "msdos");
  assert_int_equal (m.parts.len, 2);
  assert_int_equal (m.parts.ptr[0].policy, USEDMAP_EXT);
  assert_int_equal (m.parts.ptr[0].offset, 1 << 20);
  assert_int_equal (m.parts.ptr[1].policy, USEDMAP_SWAP);
  assert_int_equal (m.parts.ptr[1].used_bytes, 4096);
  /* 48 MiB ext4 holding ~6 MiB of files: far less than the partition. */
  assert_true (m.parts.ptr[0].used_bytes < 20u << 20);
  assert_true (m.parts.ptr[0].used_bytes > 5u << 20);
  assert_true (kept (&m) < img->size / 2);
  assert_sorted (&m);
  /* The MBR gap is kept in full. */
  assert_int_equal (m.keep.ptr[0].offset, 0);
  assert_true (m.keep.ptr[0].length >= 1 << 20);
  usedmap_free (&m);
  image_close (img);
}

static void
test_gpt_ext2 (void **state)
{
  char disk[256];
  struct image *img;
  struct usedmap m;

  (void) state;
  snprintf (disk, sizeof disk, "%s/gpt.img", dir);
  sh ("truncate -s 32M %s && printf 'label: gpt\\nstart=2048, size=30720\\n' "
      "| /sbin/sfdisk -q %s && /sbin/mke2fs -q -t ext2 -E offset=1048576 %s 15M",
      disk);
  img = image_open (disk, IMAGE_OPEN_RAW);
  assert_non_null (img);
  assert_int_equal (usedmap_build (img, 0, &m), 0);
  assert_string_equal (m.table, "gpt");
  assert_int_equal (m.parts.len, 1);
  assert_int_equal (m.parts.ptr[0].policy, USEDMAP_EXT);
  /* The backup GPT at the end of the disk is kept. */
  assert_int_equal (m.keep.ptr[m.keep.len - 1].offset
                    + m.keep.ptr[m.keep.len - 1].length, img->size);
  assert_sorted (&m);
  usedmap_free (&m);
  image_close (img);
}

static void
test_no_table (void **state)
{
  char disk[256];
  struct image *img;
  struct usedmap m;

  (void) state;
  snprintf (disk, sizeof disk, "%s/blank.img", dir);
  sh ("truncate -s 8M %s && head -c 70000 /dev/urandom | "
      "dd of=%s bs=1 seek=5000 conv=notrunc status=none", disk);
  img = image_open (disk, IMAGE_OPEN_RAW);
  assert_non_null (img);
  assert_int_equal (usedmap_build (img, 0, &m), 0);
  assert_string_equal (m.table, "none");
  assert_int_equal (m.parts.len, 1);
  assert_int_equal (m.parts.ptr[0].policy, USEDMAP_ALL);
  assert_int_equal (kept (&m), img->size);
  usedmap_free (&m);
  image_close (img);
}

static void
test_whole_disk_ext4 (void **state)
{
  char disk[256];
  struct image *img;
  struct usedmap m;

  (void) state;
  snprintf (disk, sizeof disk, "%s/fs.img", dir);
  sh ("/sbin/mke2fs -q -t ext4 %s 20M", disk);
  img = image_open (disk, IMAGE_OPEN_RAW);
  assert_non_null (img);
  assert_int_equal (usedmap_build (img, 0, &m), 0);
  assert_int_equal (m.parts.len, 1);
  assert_int_equal (m.parts.ptr[0].policy, USEDMAP_EXT);
  assert_true (kept (&m) < img->size / 2);
  usedmap_free (&m);
  image_close (img);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mbr_ext4_swap),
    cmocka_unit_test (test_gpt_ext2),
    cmocka_unit_test (test_no_table),
    cmocka_unit_test (test_whole_disk_ext4),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

/* test-deploy.c: deploy's checks that need no appliance — a file standing
 * in for a disk (size, sector size; empty, a directory, the source itself
 * refused) and the sector size an image's GPT was made for (sfdisk). */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <zlib.h>

#include "lib/common/error.h"
#include "lib/disk/parttable.h"
#include "lib/image/image.h"
#include "v2p/deploy.h"

static char dir[] = "/tmp/ferry-test-deploy.XXXXXX";

static char *
path (const char *name)
{
  static char buf[4][256];
  static int i;

  i = (i + 1) % 4;
  snprintf (buf[i], sizeof buf[i], "%s/%s", dir, name);
  return buf[i];
}

static void
make_file (const char *name, off_t size)
{
  int fd = open (path (name), O_RDWR | O_CREAT | O_TRUNC, 0644);

  assert_true (fd >= 0);
  assert_int_equal (ftruncate (fd, size), 0);
  close (fd);
}

static void
assert_refused (const char *target, const char *source, const char *why)
{
  struct deploy_target t;

  assert_int_equal (deploy_target_check (target, source, "/sys", "/proc",
                                         &t), -1);
  if (strstr (error_get (), why) == NULL)
    fail_msg ("error '%s' does not say '%s'", error_get (), why);
  deploy_target_free (&t);
}

static void
test_file_target (void **state)
{
  struct deploy_target t;

  (void) state;
  make_file ("disk", 8 << 20);
  make_file ("src", 4 << 20);
  assert_int_equal (deploy_target_check (path ("disk"), path ("src"), "/sys",
                                         "/proc", &t), 0);
  assert_false (t.device);
  assert_int_equal (t.size, 8 << 20);
  assert_int_equal (t.sector_size, 512);
  assert_string_equal (t.model, "");
  deploy_target_free (&t);
  /* a URI source is never a local file */
  assert_int_equal (deploy_target_check (path ("disk"), "nbd://h/x", "/sys",
                                         "/proc", &t), 0);
  deploy_target_free (&t);

  make_file ("empty", 0);
  assert_refused (path ("empty"), path ("src"), "is an empty file");
  assert_refused (dir, path ("src"), "is neither a block device nor a file");
  assert_refused (path ("src"), path ("src"), "is the source");
  assert_refused (path ("nothere"), path ("src"), "No such file");
}

/* An empty GPT for `ss`-byte sectors on a 64 MiB disk: sfdisk writes the
 * 512-byte one; the 4096-byte one is built here (bookworm's sfdisk has no
 * --sector-size). */
static void
write_gpt (unsigned ss)
{
  struct parttable_gpt_header h = { .signature = "EFI PART" };
  uint64_t sectors = (64u << 20) / ss, array = 128 * 128 / ss;
  static uint8_t zeros[128 * 128];
  uint8_t sector[4096] = { 0 };
  int fd;

  h.revision = htole32 (0x00010000);
  h.header_size = htole32 (92);
  h.current_lba = htole64 (1);
  h.backup_lba = htole64 (sectors - 1);
  h.first_usable_lba = htole64 (2 + array);
  h.last_usable_lba = htole64 (sectors - 2 - array);
  h.entries_lba = htole64 (2);
  h.entry_count = htole32 (128);
  h.entry_size = htole32 (128);
  h.entries_crc32 = htole32 ((uint32_t) crc32 (0, zeros, sizeof zeros));
  h.header_crc32 = htole32 ((uint32_t) crc32 (0, (const uint8_t *) &h, 92));
  memcpy (sector, &h, sizeof h);
  fd = open (path ("gpt"), O_WRONLY);
  assert_true (fd >= 0);
  assert_int_equal (pwrite (fd, sector, ss, ss), (ssize_t) ss);
  close (fd);
}

static unsigned
sector_size_of (unsigned ss)
{
  struct image *img;

  make_file ("gpt", 64 << 20);
  if (ss == 512)
    assert_int_equal (system ("printf 'label: gpt\\n,,L\\n' | sfdisk -q "
                              "\"$FERRY_TEST_GPT\""), 0);
  else
    write_gpt (ss);
  img = image_open (path ("gpt"), IMAGE_OPEN_RAW);
  assert_non_null (img);
  ss = deploy_image_sector_size (img);
  image_close (img);
  return ss;
}

static void
test_image_sector_size (void **state)
{
  struct image *img;

  (void) state;
  if (system ("command -v sfdisk >/dev/null") != 0)
    skip ();
  setenv ("FERRY_TEST_GPT", path ("gpt"), 1);
  assert_int_equal (sector_size_of (512), 512);
  assert_int_equal (sector_size_of (4096), 4096);
  /* no table at all: 512 */
  make_file ("blank", 1 << 20);
  img = image_open (path ("blank"), IMAGE_OPEN_RAW);
  assert_non_null (img);
  assert_int_equal (deploy_image_sector_size (img), 512);
  image_close (img);
}

static int
setup (void **state)
{
  (void) state;
  return mkdtemp (dir) ? 0 : -1;
}

static int
teardown (void **state)
{
  char cmd[512];

  (void) state;
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system (cmd) == 0 ? 0 : -1;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_file_target),
    cmocka_unit_test (test_image_sector_size),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}

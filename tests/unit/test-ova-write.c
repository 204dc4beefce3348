/* test-ova-write.c: the OVA writer's tar-header and patch-in-place
 * helpers (ova/tar.c, ova/ova-write.c), checked by reading the results
 * back with libarchive. */
#include "tests/unit/unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "ova/ova-write.h"
#include "ova/tar.h"

static char dir[] = "/tmp/ferry-test-ova-write.XXXXXX";

/* Read the first member of a tar in memory: its name and size. */
static void
read_back (const void *buf, size_t len, char *name, size_t name_len,
           int64_t *size)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;

  assert_non_null (a);
  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_memory (a, buf, len), ARCHIVE_OK);
  assert_int_equal (archive_read_next_header (a, &e), ARCHIVE_OK);
  snprintf (name, name_len, "%s", archive_entry_pathname (e));
  *size = archive_entry_size (e);
  archive_read_free (a);
}

static void
test_header_small (void **state)
{
  uint8_t block[TAR_BLOCK * 3] = { 0 };
  char name[128];
  int64_t size;

  (void) state;
  assert_int_equal (tar_header ("vm.ovf", 3592, 0, block), 0);
  assert_string_equal ((char *) block, "vm.ovf");
  read_back (block, sizeof block, name, sizeof name, &size);
  assert_string_equal (name, "vm.ovf");
  assert_int_equal (size, 3592);
}

/* 8 GiB and more does not fit 11 octal digits: GNU base-256. */
static void
test_header_large (void **state)
{
  uint8_t block[TAR_BLOCK * 3] = { 0 };
  uint64_t big = (16ull << 30) + 512;
  char name[128];
  int64_t size;

  (void) state;
  assert_int_equal (tar_header ("disk.vmdk", big, 0, block), 0);
  assert_int_equal (block[124] & 0x80, 0x80);
  read_back (block, sizeof block, name, sizeof name, &size);
  assert_int_equal ((uint64_t) size, big);
}

static void
test_header_names (void **state)
{
  uint8_t block[TAR_BLOCK];
  char name[TAR_NAME_MAX + 2];

  (void) state;
  memset (name, 'a', sizeof name - 1);
  name[sizeof name - 1] = '\0';                   /* 100 bytes */
  assert_int_equal (tar_header (name, 1, 0, block), -1);
  assert_non_null (strstr (error_get (), "1 to 99 bytes"));
  name[TAR_NAME_MAX] = '\0';                      /* 99 bytes */
  assert_int_equal (tar_header (name, 1, 0, block), 0);
  assert_int_equal (tar_header ("", 1, 0, block), -1);
}

static void
test_trailer (void **state)
{
  uint8_t end[TAR_TRAILER];
  size_t i;

  (void) state;
  memset (end, 0xaa, sizeof end);
  assert_int_equal (tar_trailer (end), 0);
  for (i = 0; i < sizeof end; i++)
    assert_int_equal (end[i], 0);
  assert_int_equal (tar_pad (0), 0);
  assert_int_equal (tar_pad (1), 511);
  assert_int_equal (tar_pad (512), 0);
  assert_int_equal (tar_pad (1000), 24);
}

/* tar_put, then a member whose size is learnt after its data, then the
 * end: libarchive must read back both with the right sizes and bytes. */
static void
test_patch_member (void **state)
{
  char path[256], data[700];
  struct tar_out t = { .pos = 0, .mtime = 0, .what = "t.tar" };
  struct archive *a;
  struct archive_entry *e;
  uint64_t off;

  (void) state;
  snprintf (path, sizeof path, "%s/t.tar", dir);
  t.fd = open (path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  assert_true (t.fd >= 0);
  memset (data, 'x', sizeof data);
  assert_int_equal (tar_put (&t, "a.ovf", "hello", 5), 0);
  assert_int_equal (t.pos, 2 * TAR_BLOCK);
  assert_int_equal (tar_begin (&t, "b.vmdk", &off), 0);
  assert_int_equal (off, 3 * TAR_BLOCK);
  assert_int_equal (pwrite (t.fd, data, sizeof data, (off_t) off),
                    (ssize_t) sizeof data);
  assert_int_equal (tar_end (&t, "b.vmdk", off, sizeof data), 0);
  assert_int_equal (t.pos, 5 * TAR_BLOCK);
  assert_int_equal (tar_finish (&t), 0);
  close (t.fd);

  a = archive_read_new ();
  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_filename (a, path, 10240), ARCHIVE_OK);
  assert_int_equal (archive_read_next_header (a, &e), ARCHIVE_OK);
  assert_string_equal (archive_entry_pathname (e), "a.ovf");
  assert_int_equal (archive_entry_size (e), 5);
  assert_int_equal (archive_read_next_header (a, &e), ARCHIVE_OK);
  assert_string_equal (archive_entry_pathname (e), "b.vmdk");
  assert_int_equal (archive_entry_size (e), sizeof data);
  assert_int_equal (archive_read_data (a, data, sizeof data),
                    (ssize_t) sizeof data);
  assert_int_equal (data[699], 'x');
  assert_int_equal (archive_read_next_header (a, &e), ARCHIVE_EOF);
  archive_read_free (a);
}

static void
test_size_slots (void **state)
{
  char xml[] = "<File ovf:href=\"a\" ovf:size=\"10000000000000000000\"/>\n"
               "<File ovf:href=\"b\" ovf:size=\"10000000000000000001\"/>\n";
  char want0[] = "<File ovf:href=\"a\" ovf:size=\"0\"                   />";
  size_t slots[2];

  (void) state;
  assert_int_equal (ova_size_slots (xml, strlen (xml), 2, slots), 0);
  assert_memory_equal (xml, want0, strlen (want0));
  ova_size_patch (xml + slots[0], 1888768);
  ova_size_patch (xml + slots[1], UINT64_MAX);
  assert_non_null (strstr (xml, "ovf:size=\"1888768\"             />"));
  assert_non_null (strstr (xml, "ovf:size=\"18446744073709551615\"/>"));
}

static void
test_size_slots_bad (void **state)
{
  char twice[] = "ovf:size=\"10000000000000000000\" "
                 "ovf:size=\"10000000000000000000\"";
  char none[] = "ovf:size=\"5\"";
  size_t slots[1];

  (void) state;
  assert_int_equal (ova_size_slots (twice, strlen (twice), 1, slots), -1);
  assert_int_equal (ova_size_slots (none, strlen (none), 1, slots), -1);
  assert_non_null (strstr (error_get (), "disk 0"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_header_small),
    cmocka_unit_test (test_header_large),
    cmocka_unit_test (test_header_names),
    cmocka_unit_test (test_trailer),
    cmocka_unit_test (test_patch_member),
    cmocka_unit_test (test_size_slots),
    cmocka_unit_test (test_size_slots_bad),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

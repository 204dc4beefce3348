/* test-ova-export.c: a VM's disks opened for a package (ova/export.c) —
 * member names and capacities, used-block masks, disks taken over. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/stagedir.h"
#include "lib/image/image.h"
#include "ova/export.h"

static char dir[] = "/tmp/ferry-test-ova-export.XXXXXX";

/* A sparse raw file of `size` bytes; its path in a static buffer. */
static const char *
make_raw (const char *name, off_t size)
{
  static char path[2][256];
  static int k;
  char *p = path[k++ % 2];
  int fd;

  snprintf (p, sizeof path[0], "%s/%s", dir, name);
  fd = open (p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  assert_true (fd >= 0);
  assert_int_equal (ftruncate (fd, size), 0);
  assert_int_equal (close (fd), 0);
  return p;
}

static void
two_disks (struct vm *vm)
{
  vm_init (vm);
  assert_int_equal (vm_add_disk (vm, make_raw ("a.img", 1 << 20), NULL, 1,
                                 VM_BUS_SCSI), 0);
  assert_int_equal (vm_add_disk (vm, make_raw ("b.img", 1000), NULL, 1,
                                 VM_BUS_SCSI), 0);
}

static void
test_members_and_masks (void **state)
{
  struct ova_export_opts o = { .stem = "web", .format = "vmdk",
                               .open_flags = IMAGE_OPEN_RAW };
  struct ova_export_disks x = { .n = 0 };
  struct vm vm;

  (void) state;
  two_disks (&vm);
  assert_int_equal (ova_export_disks_open (&x, &vm, &o), 0);
  assert_int_equal (x.n, 2);
  assert_string_equal (vm.disks.ptr[0].file, "web-disk1.vmdk");
  assert_string_equal (vm.disks.ptr[1].file, "web-disk2.vmdk");
  assert_string_equal (vm.disks.ptr[1].format, "vmdk");
  assert_int_equal (vm.disks.ptr[0].capacity, 1 << 20);
  assert_int_equal (vm.disks.ptr[1].capacity, 1024);  /* whole sectors */
  assert_int_equal (vm.disks.ptr[1].file_size, 0);
  /* No table, no filesystem: the map keeps the whole disk. */
  assert_non_null (x.in[0].mask);
  assert_ptr_equal (x.in[0].mask, &x.maps[0].keep);
  assert_string_equal (x.maps[0].table, "none");
  ova_export_disks_close (&x);
  assert_int_equal (x.n, 0);
  ova_export_disks_close (&x);                 /* twice, and NULL: no-ops */
  ova_export_disks_close (NULL);
  vm_free (&vm);
}

/* --all-blocks: no map; an open image is taken over, not reopened. */
static void
test_all_blocks_taken (void **state)
{
  struct image *srcs[2] = { NULL, NULL };
  struct ova_export_opts o = { .stem = "x", .format = "raw",
                               .all_blocks = true, .srcs = srcs };
  struct ova_export_disks x = { .n = 0 };
  struct vm vm;

  (void) state;
  two_disks (&vm);
  srcs[1] = image_open (vm.disks.ptr[1].file, IMAGE_OPEN_RAW);
  assert_non_null (srcs[1]);
  assert_int_equal (ova_export_disks_open (&x, &vm, &o), 0);
  assert_null (srcs[1]);
  assert_null (x.in[0].mask);
  assert_null (x.in[1].mask);
  assert_string_equal (vm.disks.ptr[1].file, "x-disk2.raw");
  ova_export_disks_close (&x);
  vm_free (&vm);
}

/* A missing source: the error names it, what was opened is closed. */
static void
test_missing (void **state)
{
  struct ova_export_opts o = { .stem = "web", .format = "vhd" };
  struct ova_export_disks x = { .n = 0 };
  struct vm vm;

  (void) state;
  two_disks (&vm);
  free (vm.disks.ptr[1].file);
  vm.disks.ptr[1].file = strdup ("/nonexistent/disk.img");
  assert_int_equal (ova_export_disks_open (&x, &vm, &o), -1);
  assert_non_null (strstr (error_get (), "/nonexistent/disk.img"));
  assert_int_equal (x.n, 1);
  ova_export_disks_close (&x);
  vm_free (&vm);
}

/* A disk copied into a staging directory: data written, the final path
 * named, an unreadable source refused. */
static void
test_stage_disk (void **state)
{
  char out[300], *final = NULL;
  struct stagedir sd = { .final = NULL };
  struct image *src;
  uint64_t written = 0;
  const char *raw = make_raw ("s.img", 4 << 20);
  int fd = open (raw, O_WRONLY);

  (void) state;
  assert_true (fd >= 0);
  assert_int_equal (pwrite (fd, "ferry", 5, 1 << 20), 5);
  assert_int_equal (close (fd), 0);
  snprintf (out, sizeof out, "%s/lv", dir);
  assert_int_equal (stagedir_begin (&sd, out, "test", 0755, false), 0);
  src = image_open (raw, IMAGE_OPEN_RAW);
  assert_non_null (src);
  assert_int_equal (ova_stage_disk (&sd, &(struct ova_stage_disk) {
                      .src = src, .file = "web-disk1.qcow2",
                      .format = "qcow2", .quiet = true,
                    }, &written, &final), 0);
  assert_true (written >= 5 && written < (1 << 20));
  assert_non_null (strstr (final, "/lv/web-disk1.qcow2"));
  free (final);
  /* the same name again: the copy refuses to replace it */
  assert_int_equal (ova_stage_disk (&sd, &(struct ova_stage_disk) {
                      .src = src, .file = "web-disk1.qcow2",
                      .format = "qcow2", .quiet = true,
                    }, &written, &final), -1);
  assert_null (final);
  assert_non_null (strstr (error_get (), "'web-disk1.qcow2'"));
  image_close (src);
  stagedir_abort (&sd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_members_and_masks),
    cmocka_unit_test (test_all_blocks_taken),
    cmocka_unit_test (test_missing),
    cmocka_unit_test (test_stage_disk),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

/* test-initrd-cpio.c: reading and repacking initramfs images on the host
 * (lib/guest/initrd-cpio.c), on images built here with libarchive:
 * early microcode kept byte for byte, modules added with their
 * directories, depmod outputs and conf/modules replaced, hostile names,
 * garbage refused, hard links kept. */
#include <string.h>

#include "tests/unit/initrd-build.h"
#include "lib/common/error.h"
#include "lib/guest/initrd.h"

#define KVER "6.1.0-1-amd64"
#define MOD "usr/lib/modules/" KVER

static char dir[] = "/tmp/ferry-test-initrd-XXXXXX";

static const struct member early[] = {
  { "kernel", NULL, 0, 0 }, { "kernel/x86", NULL, 0, 0 },
  { "kernel/x86/microcode", NULL, 0, 0 },
  { "kernel/x86/microcode/GenuineIntel.bin", "microcode!", 0, 0 },
  { NULL, NULL, 0, 0 },
};

static const struct member main_members[] = {
  { ".", NULL, 0, 0 }, { "usr", NULL, 0, 0 }, { "usr/lib", NULL, 0, 0 },
  { "usr/lib/modules", NULL, 0, 0 }, { MOD, NULL, 0, 0 },
  { MOD "/kernel", NULL, 0, 0 }, { MOD "/kernel/drivers", NULL, 0, 0 },
  { MOD "/kernel/drivers/ata", NULL, 0, 0 },
  { MOD "/kernel/drivers/ata/ahci.ko", "AHCI", 0, 0 },
  { MOD "/modules.dep", "kernel/drivers/ata/ahci.ko:\n", 0, 0 },
  { MOD "/modules.dep.bin", "OLD", 0, 0 },
  { MOD "/modules.builtin", "kernel/fs/ext4/ext4.ko\n", 0, 0 },
  { "conf", NULL, 0, 0 }, { "conf/modules", "ahci\n", 0, 0 },
  { "init", "#!/bin/sh\n", 0, 0 },
  { NULL, NULL, 0, 0 },
};

static char *
path_in (const char *name)
{
  char *p = NULL;

  assert_true (asprintf (&p, "%s/%s", dir, name) > 0);
  return p;
}

/* The text of member `name` of the main archive of `path`. */
static char *
member_text (const char *path, uint64_t prefix, const char *name)
{
  size_t len;
  char *bytes = unit_slurp (path, &len), *text = NULL;
  struct archive *a = archive_read_new ();
  struct archive_entry *e;

  archive_read_support_format_cpio (a);
  archive_read_support_filter_all (a);
  assert_int_equal (archive_read_open_memory (a, bytes + prefix,
                                              len - prefix), ARCHIVE_OK);
  while (text == NULL && archive_read_next_header (a, &e) == ARCHIVE_OK)
    if (strcmp (archive_entry_pathname (e), name) == 0) {
      text = calloc (1, (size_t) archive_entry_size (e) + 1);
      archive_read_data (a, text, (size_t) archive_entry_size (e));
    }
  archive_read_free (a);
  free (bytes);
  assert_non_null (text);
  return text;
}

/* Repack `name` built with `filter` and check everything. */
static void
roundtrip (const char *name, int filter, const char *want_compression)
{
  char *img = path_in (name), *out, *stage, *stage2, *f, *text;
  struct initrd_image im, im2;
  struct initrd_add a = { 0 };
  strv_vector names = empty_vector;
  const char *compression = NULL;
  size_t len, len2;
  char *orig_bytes, *new_bytes;

  assert_true (asprintf (&out, "%s.new", img) > 0);
  assert_true (asprintf (&stage, "%s.stage", img) > 0);
  assert_true (asprintf (&stage2, "%s.stage2", img) > 0);
  unlink (img);
  write_cpio (img, ARCHIVE_FILTER_NONE, early);
  write_cpio (img, filter, main_members);

  assert_int_equal (initrd_image_read (img, KVER, stage, &im), 0);
  assert_true (im.prefix_len > 0);
  assert_int_equal (im.filter, filter);
  assert_string_equal (im.moddir, MOD);
  assert_string_equal (im.conf_modules, "ahci\n");
  /* The module tree is extracted for depmod. */
  assert_true (asprintf (&f, "%s/lib/modules/" KVER
                         "/kernel/drivers/ata/ahci.ko", stage) > 0);
  text = unit_slurp (f, &len);
  assert_string_equal (text, "AHCI");
  free (text);
  free (f);

  /* What depmod and the downloads would leave in the stage. */
  assert_true (asprintf (&f, "mkdir -p %s/lib/modules/" KVER
                         "/kernel/drivers/block", stage) > 0);
  assert_int_equal (system (f), 0);
  free (f);
  assert_true (asprintf (&f, "%s/lib/modules/" KVER
                         "/kernel/drivers/block/virtio_blk.ko", stage) > 0);
  put_file (f, "VIRTIO");
  free (f);
  assert_true (asprintf (&f, "%s/lib/modules/" KVER "/modules.dep",
                         stage) > 0);
  put_file (f, "kernel/drivers/ata/ahci.ko:\n"
            "kernel/drivers/block/virtio_blk.ko:\n");
  free (f);
  strv_vector_append (&a.modules, strdup ("kernel/drivers/block/virtio_blk.ko"));
  a.kver = KVER;
  a.stage = stage;
  a.moddir = im.moddir;
  a.conf_modules = "ahci\nvirtio_blk\n";
  a.modules_load = "virtio_blk\n";
  assert_int_equal (initrd_image_write (img, &im, &a, out, &compression), 0);
  assert_string_equal (compression, want_compression);
  /* Refuses to replace an existing file. */
  assert_int_equal (initrd_image_write (img, &im, &a, out, &compression), -1);

  /* The early archive is byte for byte the same. */
  orig_bytes = unit_slurp (img, &len);
  new_bytes = unit_slurp (out, &len2);
  assert_memory_equal (orig_bytes, new_bytes, im.prefix_len);
  free (orig_bytes);
  free (new_bytes);

  assert_int_equal (initrd_image_list (out, &names), 0);
  assert_true (strv_vector_has (&names, MOD "/kernel/drivers/block"));
  assert_true (strv_vector_has (&names,
                                MOD "/kernel/drivers/block/virtio_blk.ko"));
  assert_true (strv_vector_has (&names, MOD "/kernel/drivers/ata/ahci.ko"));
  assert_true (strv_vector_has (&names, "init"));
  assert_true (strv_vector_has (&names, "etc/modules-load.d/90-ferry.conf"));
  assert_false (strv_vector_has (&names, MOD "/modules.dep.bin"));
  strv_vector_free (&names);

  /* Read back: the new modules.dep and conf/modules, once each. */
  assert_int_equal (initrd_image_read (out, KVER, stage2, &im2), 0);
  assert_string_equal (im2.conf_modules, "ahci\nvirtio_blk\n");
  text = member_text (out, im2.prefix_len, MOD "/modules.dep");
  assert_string_equal (text, "kernel/drivers/ata/ahci.ko:\n"
                       "kernel/drivers/block/virtio_blk.ko:\n");
  free (text);
  initrd_image_free (&im2);
  initrd_image_free (&im);
  strv_vector_free (&a.modules);
  free (img); free (out); free (stage); free (stage2);
}

static void
test_gzip (void **state)
{
  (void) state;
  roundtrip ("gz.img", ARCHIVE_FILTER_GZIP, "gzip");
}

static void
test_zstd (void **state)
{
  (void) state;
  roundtrip ("zst.img", ARCHIVE_FILTER_ZSTD, "zstd");
}


/* dracut hard-links identical files; newc puts the body on the last link
 * (libarchive reports it as a link to the first). */
static void
test_hardlink (void **state)
{
  static const struct member members[] = {
    { MOD, NULL, 0, 0 },
    { MOD "/a.ko", "", 2, 77 }, { MOD "/b.ko", "BODY", 2, 77 },
    { NULL, NULL, 0, 0 },
  };
  char *img = path_in ("hl.img"), *stage = path_in ("hl.stage"), *f, *text;
  struct initrd_image im;
  size_t len;

  (void) state;
  write_cpio (img, ARCHIVE_FILTER_GZIP, members);
  assert_int_equal (initrd_image_read (img, KVER, stage, &im), 0);
  assert_true (asprintf (&f, "%s/lib/modules/" KVER "/a.ko", stage) > 0);
  text = unit_slurp (f, &len);
  assert_string_equal (text, "BODY");
  free (text);
  free (f);
  initrd_image_free (&im);
  free (img);
  free (stage);
}

static void
expect_refused (const char *name, const struct member *members,
                const char *msg)
{
  char *img = path_in (name), *stage;
  struct initrd_image im;

  assert_true (asprintf (&stage, "%s.stage", img) > 0);
  write_cpio (img, ARCHIVE_FILTER_GZIP, members);
  assert_int_equal (initrd_image_read (img, KVER, stage, &im), -1);
  assert_non_null (strstr (error_get (), msg));
  free (stage);
  free (img);
}

static void
test_hostile (void **state)
{
  static const struct member dotdot[] = {
    { MOD "/../../../../etc/passwd", "x", 0, 0 }, { NULL, NULL, 0, 0 },
  };
  static const struct member nomods[] = {
    { "init", "x", 0, 0 }, { NULL, NULL, 0, 0 },
  };
  char *junk = path_in ("junk.img"), *stage = path_in ("junk.stage");
  struct initrd_image im;

  (void) state;
  expect_refused ("dotdot.img", dotdot, "bad entry name");
  expect_refused ("nomods.img", nomods, "no modules of kernel");
  put_file (junk, "070701 this is not a cpio archive at all");
  assert_int_equal (initrd_image_read (junk, KVER, stage, &im), -1);
  unlink (junk);
  put_file (junk, "\x1f\x8b garbage");
  assert_int_equal (initrd_image_read (junk, KVER, stage, &im), -1);
  free (junk);
  free (stage);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_gzip),
    cmocka_unit_test (test_zstd),
    cmocka_unit_test (test_hardlink),
    cmocka_unit_test (test_hostile),
  };
  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

/* test-initrd-verify.c: the fast initramfs path on Debian 13's layout
 * (modules in the uncompressed first archive, modules.dep in the
 * compressed main one) and the check run before reporting
 * (lib/guest/initrd-verify.c), on images built here with libarchive.
 * The union test runs the host's depmod on fake modules (it lists them
 * without dependencies: those need real ELF modules), so the dependency
 * closures are tested with hand-written modules.dep files. */
#include <string.h>

#include "tests/unit/initrd-build.h"
#include "lib/common/error.h"
#include "lib/guest/initrd.h"

#define KVER "6.12.48+deb13-amd64"
#define MOD "usr/lib/modules/" KVER
#define OLDDEP                                                          \
  "kernel/fs/xfs/xfs.ko.xz: kernel/lib/libcrc32c.ko.xz\n"               \
  "kernel/lib/libcrc32c.ko.xz:\n"                                       \
  "kernel/drivers/ata/ahci.ko.xz: kernel/drivers/ata/libata.ko.xz\n"    \
  "kernel/drivers/ata/libata.ko.xz:\n"

static char dir[] = "/tmp/ferry-test-initrd-verify-XXXXXX";

static const struct member microcode[] = {
  { "kernel", NULL, 0, 0 }, { "kernel/x86", NULL, 0, 0 },
  { "kernel/x86/microcode", NULL, 0, 0 },
  { "kernel/x86/microcode/GenuineIntel.bin", "microcode!", 0, 0 },
  { NULL, NULL, 0, 0 },
};

/* Debian 13: the modules, already compressed, in an uncompressed archive. */
static const struct member early_modules[] = {
  { "usr", NULL, 0, 0 }, { "usr/lib", NULL, 0, 0 },
  { "usr/lib/modules", NULL, 0, 0 }, { MOD, NULL, 0, 0 },
  { MOD "/kernel", NULL, 0, 0 }, { MOD "/kernel/fs", NULL, 0, 0 },
  { MOD "/kernel/fs/xfs", NULL, 0, 0 },
  { MOD "/kernel/fs/xfs/xfs.ko.xz", "XFS", 0, 0 },
  { MOD "/kernel/lib", NULL, 0, 0 },
  { MOD "/kernel/lib/libcrc32c.ko.xz", "CRC", 0, 0 },
  { MOD "/kernel/drivers", NULL, 0, 0 },
  { MOD "/kernel/drivers/ata", NULL, 0, 0 },
  { MOD "/kernel/drivers/ata/ahci.ko.xz", "AHCI", 0, 0 },
  { MOD "/kernel/drivers/ata/libata.ko.xz", "LIBATA", 0, 0 },
  { NULL, NULL, 0, 0 },
};

static const struct member main_archive[] = {
  { ".", NULL, 0, 0 }, { "lib", "@>usr/lib", 0, 0 },
  { "usr", NULL, 0, 0 }, { "usr/lib", NULL, 0, 0 },
  { "usr/lib/modules", NULL, 0, 0 }, { MOD, NULL, 0, 0 },
  { MOD "/modules.dep", OLDDEP, 0, 0 },
  { MOD "/modules.dep.bin", "OLD", 0, 0 },
  { MOD "/modules.builtin", "kernel/fs/ext4/ext4.ko\n", 0, 0 },
  { MOD "/modules.order", "kernel/fs/xfs/xfs.ko\n", 0, 0 },
  { "conf", NULL, 0, 0 }, { "conf/modules", "ahci\n", 0, 0 },
  { "init", "#!/bin/sh\n", 0, 0 },
  { NULL, NULL, 0, 0 },
};

static char *
path_in (const char *fmt, const char *name)
{
  char *p = NULL;

  assert_true (asprintf (&p, "%s/%s%s", dir, name, fmt) > 0);
  return p;
}

/* The Debian 13 image: microcode, modules, main (compressed by `filter`). */
static char *
debian13_image (const char *name, int filter, const struct member *main)
{
  char *img = path_in ("", name);

  unlink (img);
  write_cpio (img, ARCHIVE_FILTER_NONE, microcode);
  write_cpio (img, ARCHIVE_FILTER_NONE, early_modules);
  write_cpio (img, filter, main);
  return img;
}

static bool
staged (const char *stage, const char *rel)
{
  char *f;
  bool r;

  assert_true (asprintf (&f, "%s/lib/modules/" KVER "/%s", stage, rel) > 0);
  r = access (f, F_OK) == 0;
  free (f);
  return r;
}

/* Where each entry of an image is: name -> "early" or "main". */
struct where {
  strv_vector early, main;
  char *moddep;                 /* the last modules.dep */
};

static int
where_entry (struct archive *a, struct archive_entry *e, const char *name,
             bool early, void *ctx)
{
  struct where *w = ctx;

  strv_vector_append (early ? &w->early : &w->main, strdup (name));
  if (strcmp (name, MOD "/modules.dep") == 0)
    assert_int_equal (initrd_entry_text (a, e, "test", &w->moddep), 0);
  return 0;
}

static void
where_free (struct where *w)
{
  strv_vector_free (&w->early);
  strv_vector_free (&w->main);
  free (w->moddep);
}

/* Read, stage, add virtio_blk, depmod, write: what initrd_fast_add does
 * between the download and the upload.  `drop`: the test hook's module. */
static int
fast_path (const char *img, const char *out, const char *drop,
           const char **compression)
{
  char *stage = path_in (".stage", strrchr (out, '/') + 1), *f;
  struct initrd_image im;
  struct initrd_add add = { .kver = KVER };
  int r;

  assert_int_equal (initrd_image_read (img, KVER, stage, &im), 0);
  /* The union: the early archive's modules are staged too. */
  assert_true (staged (stage, "kernel/fs/xfs/xfs.ko.xz"));
  assert_true (staged (stage, "kernel/drivers/ata/libata.ko.xz"));
  assert_true (staged (stage, "modules.builtin"));
  assert_false (staged (stage, "modules.dep"));
  assert_string_equal (im.moddir, MOD);
  assert_true (im.early_names > 0);

  assert_true (asprintf (&f, "mkdir -p %s/lib/modules/" KVER
                         "/kernel/drivers/block", stage) > 0);
  assert_int_equal (system (f), 0);
  free (f);
  assert_true (asprintf (&f, "%s/lib/modules/" KVER
                         "/kernel/drivers/block/virtio_blk.ko.xz", stage) > 0);
  put_file (f, "VIRTIO");
  free (f);
  strv_vector_append (&add.modules,
                      strdup ("kernel/drivers/block/virtio_blk.ko.xz"));
  if (drop)
    setenv ("FERRY_TEST_INITRD_DROP", drop, 1);
  initrd_test_drop (stage, &add.modules);
  unsetenv ("FERRY_TEST_INITRD_DROP");
  assert_int_equal (initrd_depmod (stage, KVER), 0);
  add.stage = stage;
  add.moddir = im.moddir;
  r = initrd_image_write (img, &im, &add, out, compression);
  initrd_image_free (&im);
  strv_vector_free (&add.modules);
  free (stage);
  return r;
}

static void
union_roundtrip (const char *name, int filter, const char *want)
{
  static const char *const required[] = { "virtio_blk", "xfs", "ext4",
                                          "libata", NULL };
  char *img = debian13_image (name, filter, main_archive);
  char *out = path_in (".new", name), *a, *b;
  struct initrd_check c = { .kver = KVER, .required = required };
  struct initrd_layout lay;
  struct where w = { 0 };
  const char *compression = NULL;
  size_t la, lb;

  assert_int_equal (fast_path (img, out, NULL, &compression), 0);
  assert_string_equal (compression, want);

  /* The uncompressed archives are kept byte for byte ... */
  assert_int_equal (initrd_image_walk (out, where_entry, &w, &lay), 0);
  assert_int_equal (lay.early, 2);
  a = unit_slurp (img, &la);
  b = unit_slurp (out, &lb);
  assert_memory_equal (a, b, lay.prefix_len);
  free (a);
  free (b);
  assert_true (strv_vector_has (&w.early, MOD "/kernel/fs/xfs/xfs.ko.xz"));
  /* ... the added module and the indexes go to the main archive ... */
  assert_true (strv_vector_has (&w.main, MOD "/kernel/drivers/block"));
  assert_true (strv_vector_has (&w.main, MOD
                                "/kernel/drivers/block/virtio_blk.ko.xz"));
  assert_true (strv_vector_has (&w.main, MOD "/modules.dep.bin"));
  assert_true (strv_vector_has (&w.main, MOD "/modules.alias.bin"));
  assert_false (strv_vector_has (&w.main, MOD "/kernel/fs/xfs/xfs.ko.xz"));
  /* ... and modules.dep lists every module of every archive. */
  assert_non_null (w.moddep);
  assert_non_null (strstr (w.moddep, "kernel/fs/xfs/xfs.ko.xz:"));
  assert_non_null (strstr (w.moddep, "kernel/lib/libcrc32c.ko.xz:"));
  assert_non_null (strstr (w.moddep, "kernel/drivers/ata/ahci.ko.xz:"));
  assert_non_null (strstr (w.moddep, "kernel/drivers/ata/libata.ko.xz:"));
  assert_non_null (strstr (w.moddep,
                           "kernel/drivers/block/virtio_blk.ko.xz:"));
  where_free (&w);

  /* The check proves it, modules.dep.bin included (depmod's real one). */
  assert_int_equal (initrd_verify (img, out, &c), 0);
  assert_int_equal (c.kept, 4);
  free (img);
  free (out);
}

static void
test_union_gzip (void **state)
{
  (void) state;
  union_roundtrip ("gz.img", ARCHIVE_FILTER_GZIP, "gzip");
}

static void
test_union_zstd (void **state)
{
  (void) state;
  union_roundtrip ("zst.img", ARCHIVE_FILTER_ZSTD, "zstd");
}

static void
test_union_xz (void **state)
{
  (void) state;
  union_roundtrip ("xz.img", ARCHIVE_FILTER_XZ, "gzip");
}

static void
test_union_lz4 (void **state)
{
  (void) state;
  union_roundtrip ("lz4.img", ARCHIVE_FILTER_LZ4, "gzip");
}

/* FERRY_TEST_INITRD_DROP=xfs: depmod never sees xfs (Debian 13's bug,
 * made on purpose); the check catches it. */
static void
test_drop_caught (void **state)
{
  static const char *const required[] = { "virtio_blk", NULL };
  char *img = debian13_image ("drop.img", ARCHIVE_FILTER_GZIP, main_archive);
  char *out = path_in (".new", "drop.img");
  struct initrd_check c = { .kver = KVER, .required = required };
  const char *compression;

  (void) state;
  assert_int_equal (fast_path (img, out, "xfs", &compression), 0);
  assert_int_equal (initrd_verify (img, out, &c), -1);
  assert_non_null (strstr (error_get (), "could load"));
  assert_non_null (strstr (error_get (), "xfs"));
  assert_null (strstr (error_get (), "libata"));
  free (img);
  free (out);
}

/* An index in an early archive that depmod did not rewrite would stay. */
static void
test_stale_early_index (void **state)
{
  static const struct member early_index[] = {
    { MOD "/modules.softdep", "softdep x pre: y\n", 0, 0 },
    { NULL, NULL, 0, 0 },
  };
  char *img = debian13_image ("stale.img", ARCHIVE_FILTER_GZIP,
                              main_archive);
  char *tmp = path_in (".tmp", "stale.img"), *stage, *out, *f;
  struct initrd_image im;
  struct initrd_add add = { .kver = KVER };
  const char *compression;

  (void) state;
  /* The early index first, then the same image. */
  unlink (tmp);
  write_cpio (tmp, ARCHIVE_FILTER_NONE, early_index);
  assert_true (asprintf (&f, "cat %s >> %s && mv %s %s", img, tmp, tmp,
                         img) > 0);
  assert_int_equal (system (f), 0);
  free (f);
  stage = path_in (".stage", "stale.img");
  out = path_in (".new", "stale.img");
  assert_int_equal (initrd_image_read (img, KVER, stage, &im), 0);
  assert_int_equal (initrd_depmod (stage, KVER), 0);
  assert_true (asprintf (&f, "%s/lib/modules/" KVER "/modules.softdep",
                         stage) > 0);
  unlink (f);
  free (f);
  add.stage = stage;
  add.moddir = im.moddir;
  assert_int_equal (initrd_image_write (img, &im, &add, out, &compression),
                    -1);
  assert_non_null (strstr (error_get (), "stale"));
  initrd_image_free (&im);
  free (img);
  free (tmp);
  free (stage);
  free (out);
}

/* A hand-made image: the early modules (those with `skip` in their name
 * left out) and `moddep` under kernel `kver` in an uncompressed archive,
 * then `main` (microcode by default) compressed. */
static char *
handmade_main (const char *name, const char *kver, const char *moddep,
               const char *skip, const struct member *main)
{
  char *img = path_in ("", name), *names[32];
  struct member m[32];
  size_t i, n = 0;

  unlink (img);
  for (i = 0; early_modules[i].name; i++) {
    const char *nm = early_modules[i].name;
    if (skip && strstr (nm, skip))
      continue;
    if (strncmp (nm, MOD, strlen (MOD)) == 0)
      assert_true (asprintf (&names[n], "usr/lib/modules/%s%s", kver,
                             nm + strlen (MOD)) > 0);
    else
      names[n] = strdup (nm);
    m[n] = early_modules[i];
    m[n].name = names[n];
    n++;
  }
  assert_true (asprintf (&names[n], "usr/lib/modules/%s/modules.dep",
                         kver) > 0);
  m[n] = (struct member) { names[n], moddep, 0, 0 };
  n++;
  m[n] = (struct member) { NULL, NULL, 0, 0 };
  write_cpio (img, ARCHIVE_FILTER_NONE, m);
  write_cpio (img, ARCHIVE_FILTER_GZIP, main ? main : microcode);
  for (i = 0; i < n; i++)
    free (names[i]);
  return img;
}

static char *
handmade (const char *name, const char *kver, const char *moddep,
          const char *skip)
{
  return handmade_main (name, kver, moddep, skip, NULL);
}

static void
check_verify (const char *old, const char *new, const char *const *required,
              const char *msg)
{
  struct initrd_check c = { .kver = KVER, .required = required,
                            .builtin = "kernel/fs/ext4/ext4.ko\n" };

  if (msg == NULL) {
    assert_int_equal (initrd_verify (old, new, &c), 0);
    return;
  }
  assert_int_equal (initrd_verify (old, new, &c), -1);
  if (strstr (error_get (), msg) == NULL)
    fail_msg ("'%s' lacks '%s'", error_get (), msg);
}

static void
test_verify_handmade (void **state)
{
  static const char *const none[] = { NULL };
  static const char *const boot[] = { "xfs", "ext4", "ahci", NULL };
  static const char *const virtio[] = { "virtio-blk", NULL };
  char *old = handmade ("old.img", KVER, OLDDEP, NULL);
  char *same = handmade ("same.img", KVER, OLDDEP, NULL);
  char *other = handmade ("other.img", "6.12.49+deb13-amd64", OLDDEP, NULL);
  char *nocrc = handmade ("nocrc.img", KVER, OLDDEP, "libcrc32c");
  char *noline = handmade ("noline.img", KVER,
                           "kernel/fs/xfs/xfs.ko.xz: kernel/lib/libcrc32c.ko.xz\n"
                           "kernel/drivers/ata/ahci.ko.xz: "
                           "kernel/drivers/ata/libata.ko.xz\n"
                           "kernel/drivers/ata/libata.ko.xz:\n", NULL);
  char *cycle = handmade ("cycle.img", KVER,
                          "kernel/fs/xfs/xfs.ko.xz: kernel/lib/libcrc32c.ko.xz\n"
                          "kernel/lib/libcrc32c.ko.xz: kernel/fs/xfs/xfs.ko.xz\n"
                          "kernel/drivers/ata/ahci.ko.xz:\n"
                          "kernel/drivers/ata/libata.ko.xz:\n", NULL);
  char *hostile = handmade ("hostile.img", KVER,
                            "../../etc/passwd.ko:\n", NULL);
  struct initrd_check c = { .kver = KVER };

  (void) state;
  check_verify (old, same, boot, NULL);
  assert_int_equal (initrd_verify (old, same, &c), 0);
  assert_int_equal (c.kept, 4);
  /* The kernel version must match. */
  check_verify (old, other, none, "no modules.dep of kernel " KVER
                " (module trees: 6.12.49+deb13-amd64)");
  /* A dependency's file gone: xfs is no longer loadable. */
  check_verify (old, nocrc, none, "2 modules the old image could load are "
                "not: xfs, libcrc32c");
  /* A dependency's line gone. */
  check_verify (old, noline, none, "could load are not: xfs, libcrc32c");
  check_verify (old, cycle, none, "xfs");
  /* Required modules: the target's, and the root filesystem's. */
  check_verify (old, same, virtio, "required module missing or not "
                "loadable: virtio-blk");
  check_verify (old, nocrc, (const char *const[]) { "ahci", "xfs", NULL },
                "xfs");
  check_verify (old, hostile, none, "bad module '../../etc/passwd.ko'");
  /* An old image that lacks the tree has nothing to keep. */
  check_verify (other, same, boot, NULL);
  free (old);
  free (same);
  free (other);
  free (nocrc);
  free (noline);
  free (cycle);
  free (hostile);
}

/* The old image had modules.dep.bin (modprobe reads only that): the new
 * one must have one, and it must agree with modules.dep. */
static void
test_verify_bin (void **state)
{
  static const struct member stale_bin[] = {
    { MOD "/modules.dep", OLDDEP, 0, 0 },
    { MOD "/modules.dep.bin", "\xb0\x07\xf4\x57\x00\x02\x00\x01\x00\x00\x00"
      "\x00", 0, 0 },
    { NULL, NULL, 0, 0 },
  };
  char *img = debian13_image ("bin.img", ARCHIVE_FILTER_GZIP, main_archive);
  char *nobin = handmade ("nobin.img", KVER, OLDDEP, NULL);
  char *stale = handmade_main ("stalebin.img", KVER, OLDDEP, NULL,
                              stale_bin);

  (void) state;
  check_verify (img, nobin, NULL, "no modules.dep.bin");
  check_verify (img, stale, NULL, "4 modules the old image could load are "
                "not: ahci, libata, xfs, libcrc32c");
  free (img);
  free (nobin);
  free (stale);
}

/* lib/modules and usr/lib/modules are one tree only through lib -> usr/lib. */
static void
test_two_trees (void **state)
{
  static const struct member lib_tree[] = {
    { "lib/modules/" KVER "/modules.dep", OLDDEP, 0, 0 },
    { NULL, NULL, 0, 0 },
  };
  static const struct member lib_link[] = {
    { "lib", "@>usr/lib", 0, 0 },
    { "lib/modules/" KVER "/modules.dep", OLDDEP, 0, 0 },
    { NULL, NULL, 0, 0 },
  };
  char *img = path_in ("", "two.img"), *stage = path_in (".stage", "two");
  struct initrd_image im;

  (void) state;
  unlink (img);
  write_cpio (img, ARCHIVE_FILTER_NONE, early_modules);
  write_cpio (img, ARCHIVE_FILTER_GZIP, lib_tree);
  assert_int_equal (initrd_image_read (img, KVER, stage, &im), -1);
  assert_non_null (strstr (error_get (), "without a lib -> usr/lib link"));
  unlink (img);
  write_cpio (img, ARCHIVE_FILTER_NONE, early_modules);
  write_cpio (img, ARCHIVE_FILTER_GZIP, lib_link);
  assert_int_equal (initrd_image_read (img, KVER, stage, &im), 0);
  assert_string_equal (im.moddir, MOD);
  initrd_image_free (&im);
  free (img);
  free (stage);
}

static void
test_root_fs_module (void **state)
{
  char *m;

  (void) state;
  m = initrd_root_fs_module ("# / was on /dev/sda1\n"
                             "UUID=ab /boot ext4 defaults 0 2\n"
                             "UUID=cd / xfs defaults 0 1\n");
  assert_string_equal (m, "xfs");
  free (m);
  m = initrd_root_fs_module ("/dev/sda1\t/\text3\terrors=remount-ro 0 1\n");
  assert_string_equal (m, "ext4");
  free (m);
  assert_null (initrd_root_fs_module ("/dev/sda1 / auto defaults 0 1\n"));
  assert_null (initrd_root_fs_module ("/dev/sda1 /home xfs defaults\n"));
  assert_null (initrd_root_fs_module ("/dev/sda1 / x/../y defaults\n"));
  assert_null (initrd_root_fs_module (""));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_union_gzip),
    cmocka_unit_test (test_union_zstd),
    cmocka_unit_test (test_union_xz),
    cmocka_unit_test (test_union_lz4),
    cmocka_unit_test (test_drop_caught),
    cmocka_unit_test (test_stale_early_index),
    cmocka_unit_test (test_verify_handmade),
    cmocka_unit_test (test_verify_bin),
    cmocka_unit_test (test_two_trees),
    cmocka_unit_test (test_root_fs_module),
  };
  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

/* test-cow.c: unit tests for clone disks (clone/cow.c) — the method each
 * golden gets, overlays naming the golden with its format, VHD
 * differencing disks, reflink or its fallback, full copies, the chain cap,
 * qemu's write lock honoured, and the golden never written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"

#include "clone/cow.h"
#include "lib/common/error.h"
#include "lib/common/hash.h"
#include "lib/image/image.h"

#define SIZE (4u << 20)

static char dir[] = "/tmp/test-cow.XXXXXX";

static char *
tpath (const char *name)
{
  static char buf[4][512];
  static int n;

  n = (n + 1) % 4;
  snprintf (buf[n], sizeof buf[n], "%s/%s", dir, name);
  return buf[n];
}

/* A golden of `format` holding a pattern at a few places (backing: an
 * overlay of it, with one more block of its own). */
static void
make_golden (const char *format, const char *path, const char *backing)
{
  struct image_create_opts o = { .backing = backing };
  struct image *img = image_create (format, path, SIZE, &o);
  uint8_t buf[65536];
  uint64_t off;

  assert_non_null (img);
  for (off = 0; off < SIZE; off += SIZE / 4) {
    memset (buf, (int) (off >> 16) + (backing ? 7 : 1), sizeof buf);
    assert_int_equal (image_pwrite (img, buf, sizeof buf,
                                    off + (backing ? 65536 : 0)), 0);
  }
  assert_int_equal (image_close (img), 0);
}

static void
file_sha (const char *path, char out[HASH_HEX_MAX])
{
  size_t len;
  void *p = unit_slurp (path, &len);

  assert_int_equal (hash_buffer_hex (HASH_SHA256, p, len, out, false), 0);
  free (p);
}

/* The two images read the same. */
static void
assert_same (const char *a, const char *b)
{
  struct image *x = image_open (a, 0), *y = image_open (b, 0);
  uint8_t *p = malloc (SIZE), *q = malloc (SIZE);

  assert_non_null (x);
  assert_non_null (y);
  assert_int_equal (x->size, y->size);
  assert_int_equal (image_pread (x, p, SIZE, 0), 0);
  assert_int_equal (image_pread (y, q, SIZE, 0), 0);
  assert_memory_equal (p, q, SIZE);
  image_close (x);
  image_close (y);
  free (p);
  free (q);
}

/* Make one clone of golden `g` with `want` at `out`; return the method. */
static enum cow_method
clone_one (const char *golden, enum cow_method want, const char *out)
{
  struct cow_golden g = { .path = NULL };
  struct cow_make_opts mo = { .quiet = true };
  struct cow_made made;
  char before[HASH_HEX_MAX], after[HASH_HEX_MAX];

  file_sha (golden, before);
  assert_int_equal (cow_golden_open (&g, golden), 0);
  assert_int_equal (cow_plan (&g, want), 0);
  assert_int_equal (cow_make (&g, out, &mo, &made), 0);
  cow_golden_close (&g);
  file_sha (golden, after);
  assert_string_equal (before, after);
  assert_same (golden, out);
  return made.method;
}

static void
test_qcow2_overlay (void **state)
{
  const char *g = tpath ("g.qcow2"), *c = tpath ("c.qcow2");
  struct image *img;
  char *real;

  (void) state;
  make_golden ("qcow2", g, NULL);
  assert_int_equal (clone_one (g, COW_AUTO, c), COW_QCOW2);
  img = image_open (c, 0);
  assert_non_null (img);
  assert_string_equal (image_format (img), "qcow2");
  assert_non_null (img->backing);
  real = realpath (g, NULL);
  assert_string_equal (img->backing->path, real);
  image_close (img);
  free (real);
}

/* The backing format goes into the header extension (0xe2792aca). */
static void
test_overlay_records_format (void **state)
{
  const char *g = tpath ("graw.img"), *c = tpath ("craw.qcow2");
  size_t len;
  char *p;

  (void) state;
  make_golden ("raw", g, NULL);
  assert_int_equal (clone_one (g, COW_QCOW2, c), COW_QCOW2);
  p = unit_slurp (c, &len);
  assert_non_null (memmem (p, len, "\xe2\x79\x2a\xca", 4));
  assert_non_null (memmem (p, len, "raw", 3));
  free (p);
}

/* A golden that is itself an overlay stays the clone's backing: its chain
 * is kept. */
static void
test_chain_kept (void **state)
{
  const char *b = tpath ("base.qcow2"), *g = tpath ("mid.qcow2");
  const char *c = tpath ("top.qcow2");
  struct image *img;

  (void) state;
  make_golden ("qcow2", b, NULL);
  make_golden ("qcow2", g, b);
  assert_int_equal (clone_one (g, COW_AUTO, c), COW_QCOW2);
  img = image_open (c, 0);
  assert_non_null (img);
  assert_non_null (img->backing);
  assert_non_null (img->backing->backing);
  assert_null (img->backing->backing->backing);
  image_close (img);
}

static void
test_vhd_differencing (void **state)
{
  const char *g = tpath ("g.vhd"), *c = tpath ("c.vhd");
  struct image *img;

  (void) state;
  make_golden ("vhd", g, NULL);
  assert_int_equal (clone_one (g, COW_AUTO, c), COW_VHD);
  img = image_open (c, 0);
  assert_non_null (img);
  assert_string_equal (image_format (img), "vhd");
  assert_non_null (img->backing);
  image_close (img);
}

/* Raw: a reflink where the filesystem has them, else a full copy. */
static void
test_raw_reflink_or_copy (void **state)
{
  const char *g = tpath ("g.img"), *c = tpath ("c.img");
  struct cow_golden gg = { .path = NULL };
  enum cow_method m;

  (void) state;
  make_golden ("raw", g, NULL);
  m = clone_one (g, COW_AUTO, c);
  assert_true (m == COW_REFLINK || m == COW_FULL);
  assert_int_equal (cow_golden_open (&gg, g), 0);
  assert_int_equal (cow_plan (&gg, COW_AUTO), 0);
  assert_int_equal (gg.method, COW_REFLINK);
  assert_string_equal (cow_clone_format (&gg), "raw");
  cow_golden_close (&gg);
}

static void
test_full_copy_independent (void **state)
{
  const char *b = tpath ("fb.qcow2"), *g = tpath ("fg.qcow2");
  const char *c = tpath ("fc.qcow2");
  struct image *img;

  (void) state;
  make_golden ("qcow2", b, NULL);
  make_golden ("qcow2", g, b);
  assert_int_equal (clone_one (g, COW_FULL, c), COW_FULL);
  img = image_open (c, 0);
  assert_non_null (img);
  assert_null (img->backing);
  image_close (img);
}

static void
test_refusals (void **state)
{
  const char *g = tpath ("r.qcow2"), *b = tpath ("rb.qcow2");
  struct cow_golden gg = { .path = NULL };
  struct cow_make_opts mo = { .quiet = true };
  struct cow_made made;

  (void) state;
  make_golden ("qcow2", b, NULL);
  make_golden ("qcow2", g, b);
  assert_int_equal (cow_golden_open (&gg, g), 0);
  assert_int_equal (cow_plan (&gg, COW_VHD), -1);
  assert_non_null (strstr (error_get (), "needs a VHD golden"));
  assert_int_equal (cow_plan (&gg, COW_REFLINK), -1);
  assert_non_null (strstr (error_get (), "not one plain file"));
  /* An existing file is never replaced. */
  assert_int_equal (cow_plan (&gg, COW_QCOW2), 0);
  assert_int_equal (cow_make (&gg, b, &mo, &made), -1);
  cow_golden_close (&gg);
  assert_int_equal (cow_method_parse ("vhd", &made.method), 0);
  assert_int_equal (made.method, COW_VHD);
  assert_int_equal (cow_method_parse ("lvm", &made.method), -1);
  assert_int_equal (access (tpath ("missing"), F_OK), -1);
  assert_int_equal (cow_golden_open (&gg, tpath ("missing")), -1);
  cow_golden_close (&gg);
}

/* A chain of `n` qcow2 images ending in chainN-N.qcow2. */
static const char *
make_chain (unsigned n)
{
  char name[64], prev[64];
  unsigned i;

  snprintf (name, sizeof name, "chain%u-1.qcow2", n);
  make_golden ("qcow2", tpath (name), NULL);
  for (i = 2; i <= n; i++) {
    snprintf (prev, sizeof prev, "chain%u-%u.qcow2", n, i - 1);
    snprintf (name, sizeof name, "chain%u-%u.qcow2", n, i);
    struct image_create_opts o = { .backing = prev };
    struct image *img = image_create ("qcow2", tpath (name), SIZE, &o);
    assert_non_null (img);
    assert_int_equal (image_close (img), 0);
  }
  return tpath (name);
}

static void
test_chain_cap (void **state)
{
  struct cow_golden g = { .path = NULL };
  const char *top;

  (void) state;
  top = make_chain (COW_MAX_CHAIN - 1);
  assert_int_equal (cow_golden_open (&g, top), 0);
  assert_int_equal (g.depth, COW_MAX_CHAIN - 1);
  assert_int_equal (cow_plan (&g, COW_AUTO), 0);
  assert_int_equal (g.method, COW_QCOW2);
  cow_golden_close (&g);

  top = make_chain (COW_MAX_CHAIN);
  assert_int_equal (cow_golden_open (&g, top), 0);
  assert_int_equal (g.depth, COW_MAX_CHAIN);
  assert_int_equal (cow_plan (&g, COW_QCOW2), 0);
  assert_int_equal (g.method, COW_FULL);
  assert_non_null (strstr (g.why, "flattened"));
  assert_string_equal (cow_clone_format (&g), "qcow2");
  cow_golden_close (&g);
}

/* qemu's writer lock: a shared lock on byte 101, held here through a
 * second open file description (OFD locks conflict between them). */
static void
test_write_lock_refused (void **state)
{
  const char *g = tpath ("locked.qcow2");
  struct cow_golden gg = { .path = NULL };
  struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET,
                      .l_start = 101, .l_len = 1 };
  int fd;

  (void) state;
  make_golden ("qcow2", g, NULL);
  assert_int_equal (cow_file_write_locked (g), 0);
  fd = open (g, O_RDONLY);
  assert_true (fd >= 0);
  assert_int_equal (fcntl (fd, F_OFD_SETLK, &fl), 0);
  assert_int_equal (cow_file_write_locked (g), 1);
  assert_int_equal (cow_golden_open (&gg, g), -1);
  assert_non_null (strstr (error_get (), "open for writing"));
  cow_golden_close (&gg);
  /* A reader's lock (byte 100: consistent read) is no writer. */
  fl.l_type = F_UNLCK;
  assert_int_equal (fcntl (fd, F_OFD_SETLK, &fl), 0);
  fl.l_type = F_RDLCK;
  fl.l_start = 100;
  assert_int_equal (fcntl (fd, F_OFD_SETLK, &fl), 0);
  assert_int_equal (cow_file_write_locked (g), 0);
  close (fd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_qcow2_overlay),
    cmocka_unit_test (test_overlay_records_format),
    cmocka_unit_test (test_chain_kept),
    cmocka_unit_test (test_vhd_differencing),
    cmocka_unit_test (test_raw_reflink_or_copy),
    cmocka_unit_test (test_full_copy_independent),
    cmocka_unit_test (test_refusals),
    cmocka_unit_test (test_chain_cap),
    cmocka_unit_test (test_write_lock_refused),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

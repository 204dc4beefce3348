/* test-qcow2.c: unit tests for the qcow2 driver — create, write, read back,
 * header bytes, copy-on-write from a backing file, extents, our own check
 * on our own output, and hostile headers refused with the right message. */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

#define MiB (1024 * 1024)
#define CS 65536

static char dir[] = "/tmp/test-qcow2.XXXXXX";

static char *
tpath (const char *name)
{
  static char buf[4][512];
  static int n;

  n = (n + 1) % 4;
  snprintf (buf[n], sizeof buf[n], "%s/%s", dir, name);
  unlink (buf[n]);
  return buf[n];
}

static void
fill (uint8_t *p, size_t len, unsigned seed)
{
  size_t i;

  for (i = 0; i < len; i++)
    p[i] = (uint8_t) ((i * 131 + seed * 7 + (i >> 9)) | 1);
}

static void
write_both (struct image *img, uint8_t *shadow, size_t len, uint64_t off,
            unsigned seed)
{
  uint8_t *p = malloc (len);

  assert_non_null (p);
  fill (p, len, seed);
  memcpy (shadow + off, p, len);
  assert_int_equal (image_pwrite (img, p, len, off), 0);
  free (p);
}

static void
verify (struct image *img, const uint8_t *shadow, size_t size)
{
  uint8_t *p = malloc (size);
  size_t i;

  assert_non_null (p);
  /* Odd-sized reads cross cluster and L2 boundaries. */
  for (i = 0; i < size; i += 777777) {
    size_t n = size - i < 777777 ? size - i : 777777;
    assert_int_equal (image_pread (img, p + i, n, i), 0);
  }
  assert_memory_equal (p, shadow, size);
  free (p);
}

static void
assert_check_clean (struct image *img)
{
  struct strbuf sb = STRBUF_INIT;
  int r = img->ops->check (img, &sb);

  if (r != 0)
    fprintf (stderr, "check: %s\n", sb.buf ? sb.buf : "(no report)");
  assert_int_equal (r, 0);
  strbuf_release (&sb);
}

static void
read_file (const char *path, uint8_t *buf, size_t len, off_t off)
{
  int fd = open (path, O_RDONLY);

  assert_true (fd >= 0);
  assert_int_equal (pread (fd, buf, len, off), (ssize_t) len);
  close (fd);
}

static uint32_t
be32_at (const uint8_t *p)
{
  uint32_t v;

  memcpy (&v, p, 4);
  return be32toh (v);
}

static uint64_t
be64_at (const uint8_t *p)
{
  uint64_t v;

  memcpy (&v, p, 8);
  return be64toh (v);
}

/* ---- plain image ------------------------------------------------------ */

static void
test_create_write_read (void **state)
{
  const size_t size = 20 * MiB + 3 * 512;
  char *path = tpath ("plain.qcow2");
  uint8_t *shadow = calloc (1, size);
  struct image *img;

  (void) state;
  img = image_create ("qcow2", path, size, NULL);
  assert_non_null (img);
  assert_int_equal (img->size, size);
  write_both (img, shadow, 4 * MiB, 0, 1);            /* aligned, big */
  write_both (img, shadow, 1000, 5 * MiB + 17, 2);    /* partial cluster */
  write_both (img, shadow, 3 * CS, 9 * MiB - 100, 3); /* crosses clusters */
  write_both (img, shadow, 700, size - 700, 4);       /* short last cluster */
  write_both (img, shadow, 100, 10, 5);               /* rewrite allocated */
  verify (img, shadow, size);
  assert_int_equal (image_close (img), 0);

  img = image_open (path, 0);
  assert_non_null (img);
  assert_string_equal (image_format (img), "qcow2");
  assert_int_equal (img->size, size);
  verify (img, shadow, size);
  assert_check_clean (img);
  image_close (img);
  free (shadow);
}

static void
test_header_bytes (void **state)
{
  char *path = tpath ("hdr.qcow2");
  struct image *img = image_create ("qcow2", path, 1 * MiB + 1, NULL);
  uint8_t h[112];

  (void) state;
  assert_non_null (img);
  assert_int_equal (image_close (img), 0);
  read_file (path, h, sizeof h, 0);
  assert_memory_equal (h, "QFI\xfb", 4);
  assert_int_equal (be32_at (h + 4), 3);              /* version */
  assert_int_equal (be64_at (h + 8), 0);              /* no backing */
  assert_int_equal (be32_at (h + 20), 16);            /* cluster_bits */
  assert_int_equal (be64_at (h + 24), 1 * MiB + 512); /* size, sector-rounded */
  assert_int_equal (be32_at (h + 32), 0);             /* no encryption */
  assert_int_equal (be32_at (h + 36), 1);             /* l1_size */
  assert_int_equal (be64_at (h + 40), CS);            /* L1 right after header */
  assert_int_equal (be64_at (h + 48), 2 * CS);        /* refcount table */
  assert_int_equal (be32_at (h + 56), 1);
  assert_int_equal (be32_at (h + 60), 0);             /* snapshots */
  assert_int_equal (be64_at (h + 72), 0);             /* incompatible */
  assert_int_equal (be32_at (h + 96), 4);             /* refcount_order */
  assert_int_equal (be32_at (h + 100), 112);          /* header_length */
}

static void
test_zero_writes_stay_sparse (void **state)
{
  char *path = tpath ("sparse.qcow2");
  struct image *img = image_create ("qcow2", path, 8 * MiB, NULL);
  uint8_t *zero = calloc (1, 4 * MiB);
  extent_vector ext = empty_vector;

  (void) state;
  assert_non_null (img);
  assert_int_equal (image_pwrite (img, zero, 4 * MiB, 0), 0);
  assert_int_equal (image_close (img), 0);
  img = image_open (path, 0);
  assert_non_null (img);
  assert_int_equal (image_extents (img, 0, 8 * MiB, &ext), 0);
  assert_int_equal (ext.len, 1);
  assert_int_equal (ext.ptr[0].type, EXTENT_HOLE);
  assert_check_clean (img);
  image_close (img);
  free (ext.ptr);
  free (zero);
}

static void
test_flush_then_write (void **state)
{
  const size_t size = 16 * MiB;
  char *path = tpath ("flush.qcow2");
  uint8_t *shadow = calloc (1, size);
  struct image *img = image_create ("qcow2", path, size, NULL);

  (void) state;
  assert_non_null (img);
  write_both (img, shadow, 2 * MiB, 0, 31);
  assert_int_equal (image_flush (img), 0);
  assert_check_clean (img);
  /* Allocations after a flush: refcounts must be rewritten, not appended. */
  write_both (img, shadow, 3 * MiB + 5, 12 * MiB - 3, 32);
  write_both (img, shadow, 10, 1 * MiB, 33);
  assert_int_equal (image_close (img), 0);
  img = image_open (path, 0);
  assert_non_null (img);
  verify (img, shadow, size);
  assert_check_clean (img);
  image_close (img);
  free (shadow);
}

static void
test_empty_image (void **state)
{
  char *path = tpath ("empty.qcow2");
  struct image *img = image_create ("qcow2", path, 0, NULL);

  (void) state;
  assert_non_null (img);
  assert_int_equal (image_close (img), 0);
  img = image_open (path, 0);
  assert_non_null (img);
  assert_int_equal (img->size, 0);
  assert_check_clean (img);
  image_close (img);
}

static void
test_rdwr_open_refused (void **state)
{
  char *path = tpath ("rdwr.qcow2");
  struct image *img = image_create ("qcow2", path, MiB, NULL);

  (void) state;
  assert_int_equal (image_close (img), 0);
  assert_null (image_open (path, IMAGE_OPEN_RDWR));
  assert_non_null (strstr (error_get (), "not supported"));
}

/* ---- backing ---------------------------------------------------------- */

static struct image *
make_base (const char *path, size_t size, uint8_t *shadow)
{
  struct image *b = image_create ("raw", path, size, NULL);

  assert_non_null (b);
  write_both (b, shadow, 3 * MiB, 1 * MiB, 11);
  write_both (b, shadow, 2 * CS, size - 2 * CS, 12);
  assert_int_equal (image_close (b), 0);
  return b;
}

static void
test_backing_cow (void **state)
{
  const size_t size = 8 * MiB;
  char *base = tpath ("base.raw"), *ov = tpath ("ov.qcow2");
  struct image_create_opts o = { .backing = "base.raw",
                                 .backing_format = "raw" };
  uint8_t *shadow = calloc (1, size), *zero = calloc (1, 2 * CS);
  struct image *img;

  (void) state;
  make_base (base, size, shadow);
  img = image_create ("qcow2", ov, size, &o);
  assert_non_null (img);
  assert_non_null (img->backing);
  /* Partial writes into clusters the backing has data in: the rest of the
   * cluster must come from the backing. */
  write_both (img, shadow, 100, 1 * MiB + 300, 21);
  write_both (img, shadow, CS + 5, 2 * MiB - 7, 22);
  write_both (img, shadow, 512, 6 * MiB + 4096, 23);  /* backing is zero */
  /* Whole zero clusters over backing data become zero clusters. */
  memset (shadow + 3 * MiB, 0, 2 * CS);
  assert_int_equal (image_pwrite (img, zero, 2 * CS, 3 * MiB), 0);
  verify (img, shadow, size);
  assert_int_equal (image_close (img), 0);

  img = image_open (ov, 0);
  assert_non_null (img);
  assert_non_null (img->backing);
  assert_string_equal (image_format (img->backing), "raw");
  verify (img, shadow, size);
  assert_check_clean (img);
  image_close (img);
  free (shadow);
  free (zero);
}

static void
test_backing_header_bytes (void **state)
{
  char *base = tpath ("base2.raw"), *ov = tpath ("ov2.qcow2");
  struct image_create_opts o = { .backing = "base2.raw" };
  uint8_t *shadow = calloc (1, 4 * MiB), h[CS];
  struct image *img;
  uint64_t off;

  (void) state;
  make_base (base, 4 * MiB, shadow);
  img = image_create ("qcow2", ov, 4 * MiB, &o);
  assert_non_null (img);
  assert_int_equal (image_close (img), 0);
  read_file (ov, h, sizeof h, 0);
  /* Backing format extension, probed since none was given. */
  assert_int_equal (be32_at (h + 112), 0xe2792aca);
  assert_int_equal (be32_at (h + 116), 3);
  assert_memory_equal (h + 120, "raw", 3);
  off = be64_at (h + 8);
  assert_int_equal (be32_at (h + 16), strlen ("base2.raw"));
  assert_true (off > 120 && off < CS);
  assert_memory_equal (h + off, "base2.raw", strlen ("base2.raw"));
  free (shadow);
}

static void
test_backing_extents (void **state)
{
  const size_t size = 8 * MiB;
  char *base = tpath ("base3.raw"), *ov = tpath ("ov3.qcow2");
  struct image_create_opts o = { .backing = "base3.raw",
                                 .backing_format = "raw" };
  uint8_t *shadow = calloc (1, size), *zero = calloc (1, CS), data[CS];
  extent_vector ext = empty_vector;
  struct image *img;
  size_t i;

  (void) state;
  make_base (base, size, shadow);
  img = image_create ("qcow2", ov, size, &o);
  assert_non_null (img);
  fill (data, CS, 3);
  assert_int_equal (image_pwrite (img, data, CS, 6 * MiB), 0);
  assert_int_equal (image_pwrite (img, zero, CS, 2 * MiB), 0);
  assert_int_equal (image_close (img), 0);
  img = image_open (ov, 0);
  assert_non_null (img);
  assert_int_equal (image_extents (img, 0, size, &ext), 0);
  /* Sorted, contiguous, covering the request. */
  assert_int_equal (ext.ptr[0].offset, 0);
  for (i = 1; i < ext.len; i++)
    assert_int_equal (ext.ptr[i].offset,
                      ext.ptr[i - 1].offset + ext.ptr[i - 1].length);
  assert_int_equal (ext.ptr[ext.len - 1].offset + ext.ptr[ext.len - 1].length,
                    size);
  for (i = 0; i < ext.len; i++) {
    const struct extent *e = &ext.ptr[i];
    if (e->offset <= 2 * MiB && 2 * MiB < e->offset + e->length)
      assert_int_equal (e->type, EXTENT_ZERO);
    if (e->offset <= 6 * MiB && 6 * MiB < e->offset + e->length)
      assert_int_equal (e->type, EXTENT_DATA);
  }
  image_close (img);
  free (ext.ptr);
  free (shadow);
  free (zero);
}

/* ---- hostile ---------------------------------------------------------- */

static char *
make_valid (const char *name)
{
  char *path = tpath (name);
  struct image *img = image_create ("qcow2", path, 4 * MiB, NULL);
  uint8_t data[CS];

  assert_non_null (img);
  fill (data, sizeof data, 9);
  assert_int_equal (image_pwrite (img, data, sizeof data, 0), 0);
  assert_int_equal (image_close (img), 0);
  return path;
}

static void
patch (const char *path, off_t off, const void *bytes, size_t len)
{
  int fd = open (path, O_WRONLY);

  assert_true (fd >= 0);
  assert_int_equal (pwrite (fd, bytes, len, off), (ssize_t) len);
  close (fd);
}

static void
patch32 (const char *path, off_t off, uint32_t v)
{
  v = htobe32 (v);
  patch (path, off, &v, 4);
}

static void
patch64 (const char *path, off_t off, uint64_t v)
{
  v = htobe64 (v);
  patch (path, off, &v, 8);
}

static void
expect_refused (const char *path, const char *msg)
{
  struct image *img;

  error_clear ();
  img = image_open (path, 0);
  if (img != NULL || strstr (error_get (), msg) == NULL)
    fprintf (stderr, "%s: expected '%s', got '%s'\n", path, msg,
             img ? "(opened)" : error_get ());
  assert_null (img);
  assert_non_null (strstr (error_get (), msg));
  assert_non_null (strstr (error_get (), "qcow2: '"));
}

static void
test_hostile_headers (void **state)
{
  char *p;

  (void) state;
  p = make_valid ("version.qcow2");
  patch32 (p, 4, 4);
  expect_refused (p, "unsupported version 4");

  p = make_valid ("cbits.qcow2");
  patch32 (p, 20, 30);
  expect_refused (p, "cluster_bits 30 out of range");

  p = make_valid ("crypt.qcow2");
  patch32 (p, 32, 2);
  expect_refused (p, "encrypted images are not supported");

  p = make_valid ("incompat.qcow2");
  patch64 (p, 72, 1ull << 40);
  expect_refused (p, "unknown incompatible feature bits 0x10000000000");

  p = make_valid ("l1size.qcow2");
  patch32 (p, 36, 0x7fffffff);
  expect_refused (p, "L1 size 2147483647 too large");

  p = make_valid ("l1small.qcow2");
  patch64 (p, 24, 1ull << 40);
  expect_refused (p, "too small for virtual size");

  p = make_valid ("l1entry.qcow2");
  patch64 (p, CS, 0x8000000100000000ull);
  expect_refused (p, "L2 table offset 0x100000000 past end of file");

  p = make_valid ("l1unaligned.qcow2");
  patch64 (p, CS, 0x8000000000030200ull);
  expect_refused (p, "not cluster-aligned");

  p = make_valid ("backname.qcow2");
  patch64 (p, 8, 512);
  patch32 (p, 16, 5000);
  expect_refused (p, "backing file name too long");

  p = make_valid ("rorder.qcow2");
  patch32 (p, 96, 7);
  expect_refused (p, "refcount_order 7 out of range");

  p = make_valid ("hlen.qcow2");
  patch32 (p, 100, 13);
  expect_refused (p, "bad header length 13");

  p = make_valid ("datafile.qcow2");
  patch64 (p, 72, 4);
  expect_refused (p, "external data files are not supported");

  p = tpath ("short.qcow2");
  {
    int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal (write (fd, "QFI\xfb\0\0\0\3", 8), 8);
    close (fd);
  }
  expect_refused (p, "truncated header");
}

static void
test_hostile_l2 (void **state)
{
  char *p = make_valid ("l2entry.qcow2");
  uint8_t buf[CS];
  struct image *img;
  struct strbuf sb = STRBUF_INIT;
  uint64_t l2;

  (void) state;
  /* The first L2 table follows the refcount table (cluster 3). */
  read_file (p, buf, 8, CS);
  l2 = be64_at (buf) & 0x00fffffffffffe00ull;
  patch64 (p, (off_t) l2, 0x8000000000012300ull);   /* unaligned data */
  img = image_open (p, 0);
  assert_non_null (img);
  error_clear ();
  assert_int_equal (image_pread (img, buf, sizeof buf, 0), -1);
  assert_non_null (strstr (error_get (), "not cluster-aligned"));
  assert_int_equal (img->ops->check (img, &sb), 1);
  assert_non_null (strstr (sb.buf, "not cluster-aligned"));
  image_close (img);
  strbuf_release (&sb);

  patch64 (p, (off_t) l2, 0x4000000000000000ull | (1ull << 40)); /* compressed */
  img = image_open (p, 0);
  assert_non_null (img);
  assert_int_equal (image_pread (img, buf, sizeof buf, 0), -1);
  assert_non_null (strstr (error_get (), "past end of file"));
  image_close (img);
}

static void
test_backing_loop (void **state)
{
  char *a = tpath ("loop-a.qcow2"), *b = tpath ("loop-b.qcow2");
  char *c = tpath ("loop-c.qcow2");
  struct image_create_opts oa = { .backing = "loop-c.qcow2",
                                  .backing_format = "qcow2" };
  struct image_create_opts ob = { .backing = "loop-a.qcow2",
                                  .backing_format = "qcow2" };
  struct image *img;

  (void) state;
  img = image_create ("qcow2", c, MiB, NULL);
  assert_int_equal (image_close (img), 0);
  img = image_create ("qcow2", a, MiB, &oa);     /* a -> c */
  assert_int_equal (image_close (img), 0);
  img = image_create ("qcow2", b, MiB, &ob);     /* b -> a -> c */
  assert_int_equal (image_close (img), 0);
  assert_int_equal (rename (b, c), 0);           /* a -> c(b) -> a ... */
  expect_refused (a, "backing chain longer than");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_create_write_read),
    cmocka_unit_test (test_header_bytes),
    cmocka_unit_test (test_zero_writes_stay_sparse),
    cmocka_unit_test (test_flush_then_write),
    cmocka_unit_test (test_empty_image),
    cmocka_unit_test (test_rdwr_open_refused),
    cmocka_unit_test (test_backing_cow),
    cmocka_unit_test (test_backing_header_bytes),
    cmocka_unit_test (test_backing_extents),
    cmocka_unit_test (test_hostile_headers),
    cmocka_unit_test (test_hostile_l2),
    cmocka_unit_test (test_backing_loop),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

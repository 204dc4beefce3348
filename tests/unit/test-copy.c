/* test-copy.c: the copy engine — masks, zero skipping, overlays. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/image/copy.h"

static char dir[] = "/tmp/ferry-test-copy.XXXXXX";

static char *
path (const char *name)
{
  static char buf[256];
  snprintf (buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static struct image *
make_raw (const char *name, uint64_t size)
{
  struct image *img = image_create ("raw", path (name), size, NULL);
  assert_non_null (img);
  return img;
}

static void
fill (struct image *img, uint64_t off, size_t len, int byte)
{
  unsigned char *buf = malloc (len);
  memset (buf, byte, len);
  assert_int_equal (image_pwrite (img, buf, len, off), 0);
  free (buf);
}

static int
byte_at (struct image *img, uint64_t off)
{
  unsigned char c;
  assert_int_equal (image_pread (img, &c, 1, off), 0);
  return c;
}

static void
test_mask_split (void **state)
{
  extent_vector mask = empty_vector, out = empty_vector;

  (void) state;
  extent_add (&mask, 100, 50, EXTENT_DATA);
  extent_add (&mask, 300, 100, EXTENT_DATA);
  assert_int_equal (mask_split (&mask, 0, 1000, &out), 0);
  assert_int_equal (out.len, 5);
  assert_int_equal (out.ptr[0].type, EXTENT_HOLE);
  assert_int_equal (out.ptr[0].length, 100);
  assert_int_equal (out.ptr[1].type, EXTENT_DATA);
  assert_int_equal (out.ptr[1].offset, 100);
  assert_int_equal (out.ptr[3].offset, 300);
  assert_int_equal (out.ptr[4].offset, 400);
  assert_int_equal (out.ptr[4].length, 600);
  out.len = 0;
  /* A window starting inside a mask range. */
  assert_int_equal (mask_split (&mask, 120, 200, &out), 0);
  assert_int_equal (out.len, 3);
  assert_int_equal (out.ptr[0].offset, 120);
  assert_int_equal (out.ptr[0].length, 30);
  assert_int_equal (out.ptr[2].offset, 300);
  assert_int_equal (out.ptr[2].length, 20);
  extent_vector_reset (&mask);
  extent_vector_reset (&out);
}

static void
test_copy_skips_zero_and_masked (void **state)
{
  const uint64_t size = 16 << 20;
  struct image *src = make_raw ("src", size), *dst;
  extent_vector mask = empty_vector;
  struct copy_opts opts = { .quiet = true, .retries = 2 };
  struct copy_stats st;

  (void) state;
  fill (src, 0, 65536, 0xaa);
  fill (src, 1 << 20, 65536, 0);             /* allocated zeros */
  fill (src, 5 << 20, 65536, 0xbb);          /* masked out: "free" */
  fill (src, 9 << 20, 1000, 0xcc);
  extent_add (&mask, 0, 4 << 20, EXTENT_DATA);
  extent_add (&mask, 8 << 20, 8 << 20, EXTENT_DATA);
  opts.mask = &mask;
  dst = make_raw ("dst", size);
  assert_int_equal (image_copy (src, dst, &opts, &st), 0);
  assert_int_equal (byte_at (dst, 0), 0xaa);
  assert_int_equal (byte_at (dst, 5 << 20), 0);     /* masked: zero */
  assert_int_equal (byte_at (dst, (9 << 20) + 999), 0xcc);
  /* The 1000-byte write is one filesystem block of data in the file. */
  assert_true (st.bytes_written >= 65536 + 1000);
  assert_true (st.bytes_written <= 2 * 65536);
  assert_int_equal (st.bytes_bad, 0);
  assert_int_equal (st.bytes_written + st.bytes_skipped, size);
  free (st.bad.ptr);
  extent_vector_reset (&mask);
  image_close (src);
  image_close (dst);
}

/* A target full of old data (0xee): everything the copy does not write is
 * zeroed, except keep_old (left as it was); with length, only the first
 * bytes of a larger source are copied. */
static void
test_copy_dirty_target (void **state)
{
  const uint64_t size = 16 << 20;
  struct image *src = make_raw ("dsrc", size), *dst;
  extent_vector mask = empty_vector, old = empty_vector;
  struct copy_opts opts = { .quiet = true, .dirty_target = true };
  struct copy_stats st;

  (void) state;
  fill (src, 0, 65536, 0xaa);
  fill (src, 1 << 20, 65536, 0);             /* allocated zeros */
  fill (src, 5 << 20, 65536, 0xbb);          /* masked out */
  fill (src, 9 << 20, 65536, 0xcc);
  extent_add (&mask, 0, 4 << 20, EXTENT_DATA);
  extent_add (&mask, 8 << 20, 4 << 20, EXTENT_DATA);
  extent_add (&old, 6 << 20, 1 << 20, EXTENT_DATA);   /* free space */
  opts.mask = &mask;
  opts.keep_old = &old;
  dst = make_raw ("ddst", size);
  fill (dst, 0, size, 0xee);
  assert_int_equal (image_copy (src, dst, &opts, &st), 0);
  assert_int_equal (byte_at (dst, 0), 0xaa);
  assert_int_equal (byte_at (dst, 65536), 0);           /* old data zeroed */
  assert_int_equal (byte_at (dst, 1 << 20), 0);         /* source's zeros */
  assert_int_equal (byte_at (dst, 5 << 20), 0);         /* masked: zeroed */
  assert_int_equal (byte_at (dst, 6 << 20), 0xee);      /* kept as it was */
  assert_int_equal (byte_at (dst, (7 << 20) - 1), 0xee);
  assert_int_equal (byte_at (dst, 7 << 20), 0);
  assert_int_equal (byte_at (dst, 9 << 20), 0xcc);
  assert_int_equal (byte_at (dst, size - 1), 0);        /* to the end */
  assert_int_equal (st.bytes_zeroed, size - (1 << 20) - 2 * 65536);
  free (st.bad.ptr);
  image_close (dst);

  /* length: the first 10 MiB only, onto a 10 MiB target. */
  dst = make_raw ("dsmall", 10 << 20);
  fill (dst, 0, 10 << 20, 0xee);
  opts.length = 10 << 20;
  opts.keep_old = NULL;
  assert_int_equal (image_copy (src, dst, &opts, &st), 0);
  assert_int_equal (byte_at (dst, 9 << 20), 0xcc);
  assert_int_equal (byte_at (dst, (10 << 20) - 1), 0);
  free (st.bad.ptr);
  /* ... and never more than the source has. */
  opts.length = size + 1;
  assert_int_equal (image_copy (src, dst, &opts, &st), -1);
  free (st.bad.ptr);
  extent_vector_reset (&mask);
  extent_vector_reset (&old);
  image_close (src);
  image_close (dst);
}

static void
test_copy_with_base (void **state)
{
  const uint64_t size = 4 << 20;
  struct image *base = make_raw ("base", size);
  struct image *src = make_raw ("new", size), *dst;
  struct copy_opts opts = { .quiet = true };
  struct copy_stats st;

  (void) state;
  fill (base, 0, 3 << 20, 0x11);
  fill (src, 0, 3 << 20, 0x11);
  fill (src, 1 << 20, 65536, 0x22);           /* changed */
  fill (src, 2 << 20, 65536, 0x00);           /* zeroed over base data */
  dst = make_raw ("delta", size);
  opts.base = base;
  assert_int_equal (image_copy (src, dst, &opts, &st), 0);
  /* Only the two differing blocks were written (zeros explicitly). */
  assert_int_equal (st.bytes_written, 2 * 65536);
  assert_int_equal (byte_at (dst, 1 << 20), 0x22);
  assert_int_equal (byte_at (dst, 0), 0);     /* unchanged: not written */
  free (st.bad.ptr);
  image_close (base);
  image_close (src);
  image_close (dst);
}

static void
test_convert_refuses_existing_and_smaller (void **state)
{
  struct image *src = make_raw ("small", 1 << 20), *big, *tiny;
  struct copy_opts opts = { .quiet = true };
  struct copy_stats st;

  (void) state;
  assert_int_equal (image_convert (src, "raw", path ("small"), NULL, &opts,
                                   false, &st), -1);
  assert_non_null (strstr (error_get (), "already exists"));
  big = make_raw ("big", 2 << 20);
  tiny = make_raw ("tiny", 1 << 19);
  assert_int_equal (image_copy (big, tiny, &opts, &st), -1);
  assert_non_null (strstr (error_get (), "smaller"));
  assert_int_equal (image_convert (src, "raw", path ("out.raw"), NULL, &opts,
                                   false, &st), 0);
  assert_int_equal (access (path ("out.raw"), F_OK), 0);
  free (st.bad.ptr);
  image_close (src);
  image_close (big);
  image_close (tiny);
}

/* Fault injection: the raw driver, but [BAD_OFF, BAD_OFF + BAD_LEN) of
 * the source fails with EIO every time, like a dying disk's sectors. */
#define BAD_OFF ((uint64_t) 6 << 20)
#define BAD_LEN 4096u
static struct image_ops faulty_ops;
static const struct image_ops *real_ops;

static int
faulty_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  if (offset < BAD_OFF + BAD_LEN && offset + count > BAD_OFF) {
    errno = EIO;
    return -1;
  }
  return real_ops->pread (img, buf, count, offset);
}

struct seen {
  unsigned calls;
  uint64_t done, bad, total;
  uint64_t bad_at_4m, bad_at_8m;      /* what the hook said at those marks */
  bool monotonic;
};

static void
record (void *opaque, uint64_t done, uint64_t bad, uint64_t total)
{
  struct seen *s = opaque;

  if (done < s->done || bad < s->bad)
    s->monotonic = false;
  s->calls++;
  s->done = done;
  s->bad = bad;
  s->total = total;
  if (done == 4 << 20)
    s->bad_at_4m = bad;
  if (done == 8 << 20)
    s->bad_at_8m = bad;
}

static void
test_progress_reports_bad_live (void **state)
{
  const uint64_t size = 16 << 20;
  struct image *src = make_raw ("dying", size), *dst;
  struct seen seen = { .monotonic = true, .bad_at_4m = 1, .bad_at_8m = 0 };
  struct copy_opts opts = { .quiet = true, .retries = 1,
                            .on_progress = record, .opaque = &seen };
  struct copy_stats st;

  (void) state;
  fill (src, 0, size, 0x5a);
  real_ops = src->ops;
  faulty_ops = *src->ops;
  faulty_ops.pread = faulty_pread;
  src->ops = &faulty_ops;
  dst = make_raw ("salvaged", size);
  assert_int_equal (image_copy (src, dst, &opts, &st), 0);
  /* The chunk [4M, 8M) holds the bad sectors: the hook says so as soon as
   * that chunk is written, not only at the end. */
  assert_int_equal (seen.bad_at_4m, 0);
  assert_int_equal (seen.bad_at_8m, BAD_LEN);
  assert_true (seen.monotonic);
  assert_true (seen.calls >= 4);
  assert_int_equal (seen.done, size);
  assert_int_equal (seen.total, size);
  assert_int_equal (seen.bad, BAD_LEN);
  assert_int_equal (st.bytes_bad, BAD_LEN);
  assert_int_equal (st.bad.len, 1);
  assert_int_equal (st.bad.ptr[0].offset, BAD_OFF);
  assert_int_equal (byte_at (dst, BAD_OFF), 0);            /* zero-filled */
  assert_int_equal (byte_at (dst, BAD_OFF + BAD_LEN), 0x5a);
  free (st.bad.ptr);
  /* --strict: the same disk is a failure, and nothing was counted bad. */
  opts.strict = true;
  seen = (struct seen) { .monotonic = true };
  image_close (dst);
  dst = make_raw ("strict", size);
  assert_int_equal (image_copy (src, dst, &opts, &st), -1);
  assert_non_null (strstr (error_get (), "--strict"));
  assert_int_equal (seen.bad, 0);
  free (st.bad.ptr);
  src->ops = real_ops;
  image_close (src);
  image_close (dst);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mask_split),
    cmocka_unit_test (test_copy_skips_zero_and_masked),
    cmocka_unit_test (test_copy_dirty_target),
    cmocka_unit_test (test_copy_with_base),
    cmocka_unit_test (test_convert_refuses_existing_and_smaller),
    cmocka_unit_test (test_progress_reports_bad_live),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

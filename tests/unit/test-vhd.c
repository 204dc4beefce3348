/* test-vhd.c: the VHD driver — create, write, reopen, on-disk bytes, CHS
 * geometry, differencing bitmaps and parents, and hostile files refused. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit.h"

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)

static char dir[256];

static const char *
P (const char *name)
{
  static char buf[4][512];
  static int k;

  k = (k + 1) % 4;
  snprintf (buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static int
setup (void **state)
{
  (void) state;
  snprintf (dir, sizeof dir, "%s/test-vhd.XXXXXX",
            getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp");
  return mkdtemp (dir) ? 0 : -1;
}

static int
teardown (void **state)
{
  (void) state;
  return unit_remove_dir (dir);
}

/* ---- raw file access ---- */

static void
raw_read (const char *path, uint64_t off, void *buf, size_t len)
{
  int fd = open (path, O_RDONLY);

  assert_true (fd >= 0);
  assert_int_equal (pread (fd, buf, len, (off_t) off), (ssize_t) len);
  close (fd);
}

static void
raw_write (const char *path, uint64_t off, const void *buf, size_t len)
{
  int fd = open (path, O_WRONLY);

  assert_true (fd >= 0);
  assert_int_equal (pwrite (fd, buf, len, (off_t) off), (ssize_t) len);
  close (fd);
}

static uint64_t
file_size (const char *path)
{
  struct stat st;

  assert_int_equal (stat (path, &st), 0);
  return (uint64_t) st.st_size;
}

static uint32_t
be32 (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
be64 (const uint8_t *p)
{
  return (uint64_t) be32 (p) << 32 | be32 (p + 4);
}

static void
put32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24); p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8); p[3] = (uint8_t) v;
}

static uint32_t
checksum (const uint8_t *buf, size_t len, size_t at)
{
  uint32_t sum = 0;
  size_t i;

  for (i = 0; i < len; i++)
    if (i < at || i >= at + 4)
      sum += buf[i];
  return ~sum;
}

static void
footer_of (const char *path, uint8_t f[512])
{
  raw_read (path, file_size (path) - 512, f, 512);
}

/* Rewrite a checksummed structure at `off` after patching it. */
static void
patch (const char *path, uint64_t off, size_t len, size_t csum_at,
       size_t field, uint32_t value)
{
  uint8_t buf[1024];

  raw_read (path, off, buf, len);
  put32 (buf + field, value);
  put32 (buf + csum_at, checksum (buf, len, csum_at));
  raw_write (path, off, buf, len);
}

/* ---- image helpers ---- */

static void
pattern (uint8_t *buf, size_t len, unsigned seed)
{
  size_t i;

  for (i = 0; i < len; i++)
    buf[i] = (uint8_t) (i * 31 + seed * 7 + (i >> 9));
}

static struct image *
create (const char *name, uint64_t size, const char *sub, const char *backing)
{
  struct image_create_opts o = { .subformat = sub, .backing = backing };
  struct image *img = image_create ("vhd", P (name), size, &o);

  if (img == NULL)
    fail_msg ("create %s: %s", name, error_get ());
  return img;
}

static struct image *
reopen (const char *name)
{
  struct image *img = image_open (P (name), 0);

  if (img == NULL)
    fail_msg ("open %s: %s", name, error_get ());
  assert_string_equal (image_format (img), "vhd");
  return img;
}

static void
expect_open_error (const char *name, const char *msg)
{
  struct image *img = image_open (P (name), 0);

  if (img != NULL)
    fail_msg ("%s opened, expected '%s'", name, msg);
  if (strstr (error_get (), msg) == NULL)
    fail_msg ("%s: got '%s', expected '%s'", name, error_get (), msg);
  if (strncmp (error_get (), "vhd: '", 6) != 0 &&
      strstr (error_get (), "(a loop?)") == NULL)
    fail_msg ("%s: error lacks context: '%s'", name, error_get ());
}

/* Write a model and the image the same way, then compare the whole disk. */
static void
write_both (struct image *img, uint8_t *model, uint64_t off, size_t len,
            unsigned seed)
{
  uint8_t *buf = malloc (len);

  pattern (buf, len, seed);
  memcpy (model + off, buf, len);
  assert_int_equal (image_pwrite (img, buf, len, off), 0);
  free (buf);
}

static void
compare_all (struct image *img, const uint8_t *model, uint64_t size)
{
  uint8_t *buf = malloc (size);

  assert_int_equal (image_pread (img, buf, size, 0), 0);
  assert_memory_equal (buf, model, size);
  free (buf);
}

/* ---- tests ---- */

static void
test_fixed_roundtrip (void **state)
{
  uint64_t size = 5 * MiB;
  uint8_t *model = calloc (1, size), f[512];
  struct image *img = create ("fixed.vhd", size, "fixed", NULL);

  (void) state;
  write_both (img, model, 0, 4096, 1);
  write_both (img, model, 3 * MiB + 17, 1000, 2);
  write_both (img, model, size - 512, 512, 3);
  assert_int_equal (image_close (img), 0);

  assert_int_equal (file_size (P ("fixed.vhd")), size + 512);
  footer_of (P ("fixed.vhd"), f);
  assert_memory_equal (f, "conectix", 8);
  assert_int_equal (be32 (f + 64), checksum (f, 512, 64));
  assert_int_equal (be32 (f + 60), 2);
  assert_true (be64 (f + 16) == UINT64_MAX);
  assert_true (be64 (f + 40) == size && be64 (f + 48) == size);
  assert_int_equal (be32 (f + 12), 0x00010000);

  img = reopen ("fixed.vhd");
  assert_true (img->size == size);
  compare_all (img, model, size);
  image_close (img);
  free (model);
}

/* A dynamic VHD of 7 MiB in blocks of bs (0: the default, 512 KiB). */
static void
dynamic_roundtrip (uint32_t bs)
{
  uint64_t size = 7 * MiB, fsz, blk = bs ? bs : 512 * KiB;
  uint64_t entries = DIV_ROUND_UP (size, blk);
  uint8_t *model = calloc (1, size), f[512], f0[512], h[1024];
  struct image_create_opts o = { .block_size = bs };
  struct image *img;
  struct strbuf sb = STRBUF_INIT;
  char line[64];

  unlink (P ("dyn.vhd"));
  img = image_create ("vhd", P ("dyn.vhd"), size, &o);
  assert_non_null (img);
  write_both (img, model, 1 * MiB, 2 * MiB, 1);        /* spans blocks */
  write_both (img, model, 5 * MiB + 3, 700, 2);        /* unaligned */
  write_both (img, model, size - 4, 4, 3);             /* tail */
  assert_int_equal (image_close (img), 0);

  fsz = file_size (P ("dyn.vhd"));
  footer_of (P ("dyn.vhd"), f);
  raw_read (P ("dyn.vhd"), 0, f0, 512);
  assert_memory_equal (f, f0, 512);
  assert_int_equal (be32 (f + 64), checksum (f, 512, 64));
  assert_int_equal (be32 (f + 60), 3);
  assert_true (be64 (f + 16) == 512);
  raw_read (P ("dyn.vhd"), 512, h, 1024);
  assert_memory_equal (h, "cxsparse", 8);
  assert_int_equal (be32 (h + 36), checksum (h, 1024, 36));
  assert_true (be64 (h + 16) == 1536);
  assert_int_equal (be32 (h + 28), entries);
  assert_int_equal (be32 (h + 32), blk);
  assert_int_equal (fsz % 512, 0);
  /* Whole blocks after the BAT: the data 1-3 MiB, the block of 5 MiB+3
   * and the tail's, each with its 512-byte bitmap; nothing else. */
  assert_int_equal (fsz - 1536 - DIV_ROUND_UP (entries * 4, 512) * 512 - 512,
                    ((blk == 2 * MiB ? 2 : 2 * MiB / blk) + 2) * (blk + 512));

  img = reopen ("dyn.vhd");
  assert_true (img->size == size);
  compare_all (img, model, size);
  assert_int_equal (img->ops->check (img, &sb), 0);
  assert_int_equal (img->ops->info (img, &sb), 0);
  assert_non_null (strstr (sb.buf, "subformat\tdynamic\n"));
  snprintf (line, sizeof line, "block_size\t%llu\n", (unsigned long long) blk);
  assert_non_null (strstr (sb.buf, line));
  strbuf_release (&sb);
  image_close (img);
  free (model);
}

static void
test_dynamic_roundtrip (void **state)
{
  struct image_create_opts o = { .block_size = 3 * MiB };

  (void) state;
  dynamic_roundtrip (0);
  dynamic_roundtrip (1 * MiB);
  dynamic_roundtrip (2 * MiB);
  /* Neither Hyper-V nor blktap reads blocks over 2 MiB; QEMU none under
   * 512 bytes: refused, nothing left behind. */
  unlink (P ("bs.vhd"));
  assert_null (image_create ("vhd", P ("bs.vhd"), 7 * MiB, &o));
  assert_non_null (strstr (error_get (), "block size 3145728 is not"));
  o.block_size = 4096;
  assert_null (image_create ("vhd", P ("bs.vhd"), 7 * MiB, &o));
  assert_int_equal (access (P ("bs.vhd"), F_OK), -1);
}

static void
test_dynamic_reopen_rdwr (void **state)
{
  uint64_t size = 6 * MiB;
  uint8_t *model = calloc (1, size);
  struct image *img = create ("rw.vhd", size, NULL, NULL);

  (void) state;
  write_both (img, model, 0, 8192, 1);
  assert_int_equal (image_close (img), 0);
  img = image_open (P ("rw.vhd"), IMAGE_OPEN_RDWR);
  assert_non_null (img);
  write_both (img, model, 4 * MiB + 100, 5000, 2);
  write_both (img, model, 4000, 300, 3);
  assert_int_equal (image_close (img), 0);
  img = reopen ("rw.vhd");
  compare_all (img, model, size);
  image_close (img);
  free (model);
}

static void
check_chs (uint64_t size, unsigned c, unsigned h, unsigned s)
{
  char name[64];
  uint8_t f[512];
  struct image *img;

  snprintf (name, sizeof name, "chs-%llu.vhd", (unsigned long long) size);
  img = create (name, size, NULL, NULL);
  assert_int_equal (image_close (img), 0);
  footer_of (P (name), f);
  assert_int_equal ((unsigned) f[56] << 8 | f[57], c);
  assert_int_equal (f[58], h);
  assert_int_equal (f[59], s);
  assert_true (be64 (f + 40) == size && be64 (f + 48) == size);
  img = reopen (name);
  assert_true (img->size == size);       /* exact, never CHS-rounded */
  image_close (img);
}

static void
test_chs_geometry (void **state)
{
  (void) state;
  /* By hand from the FORMATS.md algorithm:
   * 1 MiB   = 2048 s:      spt 17, cth 120,   heads 4,  cyl 30
   * 127 MiB = 260096 s:    spt 17, cth 15299, heads 15, cyl 1019
   * 1 GiB   = 2097152 s:   17 -> heads 121 > 16 -> 31 -> cth 67650 >=
   *                        16384 -> 63: cth 33288, cyl 2080
   * 100 GiB = 209715200 s: >= 65535*16*63: spt 255, h 16, cyl 51400
   * 200 GiB: clamped to 65535*16*255: 65535/16/255 */
  check_chs (1 * MiB, 30, 4, 17);
  check_chs (127 * MiB, 1019, 15, 17);
  check_chs (1024 * MiB, 2080, 16, 63);
  check_chs (100 * 1024 * MiB, 51400, 16, 255);
  check_chs (200 * 1024 * MiB, 65535, 16, 255);
}

static void
make_parent (const char *name, uint64_t size, uint8_t *model)
{
  struct image *img = create (name, size, NULL, NULL);

  write_both (img, model, 0, size, 9);
  assert_int_equal (image_close (img), 0);
}

static bool
bit (const uint8_t *bm, unsigned i)
{
  return bm[i >> 3] & (0x80 >> (i & 7));
}

static void
check_diff_bitmap (const char *name)
{
  uint8_t h[1024], bat[4], bm[512];
  unsigned i;

  raw_read (P (name), 512, h, 1024);
  raw_read (P (name), be64 (h + 16), bat, 4);
  assert_true (be32 (bat) != 0xFFFFFFFF);
  raw_read (P (name), (uint64_t) be32 (bat) * 512, bm, 512);
  for (i = 0; i < 4096; i++) {
    bool want = i == 1 || i == 2 || (i >= 16 && i < 19);
    if (bit (bm, i) != want)
      fail_msg ("sector %u: bit %d, expected %d", i, bit (bm, i), want);
  }
  raw_read (P (name), 512 + 1536 - 512 + 4, bat, 4);   /* BAT entry 1 */
  assert_int_equal (be32 (bat), 0xFFFFFFFF);
}

static void
check_locators (const char *name, const uint8_t *parent_footer)
{
  uint8_t h[1024];
  static const char *codes[] = { "W2ku", "W2ru", "MacX" };
  unsigned i;
  char macx[600] = { 0 };
  uint8_t w2ru[24];

  raw_read (P (name), 512, h, 1024);
  assert_memory_equal (h + 40, parent_footer + 68, 16);   /* parent UUID */
  /* Parent name, UTF-16BE: "parent.vhd" */
  assert_int_equal (h[64], 0);
  assert_int_equal (h[65], 'p');
  assert_int_equal (h[64 + 2 * 9 + 1], 'd');   /* 10th unit */
  for (i = 0; i < 3; i++) {
    const uint8_t *l = h + 576 + 24 * i;
    assert_memory_equal (l, codes[i], 4);
    assert_int_equal (be64 (l + 16) % 512, 0);
    assert_true (be32 (l + 8) <= be32 (l + 4));
  }
  /* W2ru: ".\parent.vhd" in UTF-16LE, the parent being beside the child. */
  raw_read (P (name), be64 (h + 576 + 24 + 16), w2ru, sizeof w2ru);
  assert_int_equal (be32 (h + 576 + 24 + 8), 24);
  assert_memory_equal (w2ru, ".\0\\\0p\0a\0r\0e\0n\0t\0.\0v\0h\0d\0", 24);
  raw_read (P (name), be64 (h + 576 + 48 + 16), macx, be32 (h + 576 + 48 + 8));
  assert_true (strncmp (macx, "file:///", 8) == 0);
  assert_non_null (strstr (macx, "/parent.vhd"));
}

static void
test_differencing (void **state)
{
  uint64_t size = 4 * MiB;
  uint8_t *model = malloc (size), pf[512];
  struct image *img;
  extent_vector ev = empty_vector;

  (void) state;
  make_parent ("parent.vhd", size, model);
  img = create ("child.vhd", size, NULL, "parent.vhd");
  write_both (img, model, 700, 800, 1);                /* sectors 1, 2 */
  write_both (img, model, 8192, 1536, 2);              /* sectors 16..18 */
  assert_int_equal (image_close (img), 0);

  check_diff_bitmap ("child.vhd");
  footer_of (P ("parent.vhd"), pf);
  check_locators ("child.vhd", pf);

  img = reopen ("child.vhd");
  assert_non_null (img->backing);
  compare_all (img, model, size);
  assert_int_equal (image_extents (img, 0, size, &ev), 0);
  /* Parent is fully allocated, so everything reads as DATA, merged. */
  assert_int_equal (ev.len, 1);
  assert_int_equal (ev.ptr[0].type, EXTENT_DATA);
  free (ev.ptr);
  image_close (img);
  free (model);
}

static void
test_parent_elsewhere (void **state)
{
  uint8_t *model = malloc (2 * MiB), h[1024], w2ru[64];
  const char want[] = "..\\pdir\\pp.vhd";
  struct image *img;
  size_t i;

  (void) state;
  assert_int_equal (mkdir (P ("pdir"), 0755), 0);
  assert_int_equal (mkdir (P ("cdir"), 0755), 0);
  make_parent ("pdir/pp.vhd", 2 * MiB, model);
  /* A relative backing path is relative to the child's directory. */
  img = create ("cdir/cc.vhd", 2 * MiB, NULL, "../pdir/pp.vhd");
  write_both (img, model, 4096, 512, 5);
  assert_int_equal (image_close (img), 0);
  raw_read (P ("cdir/cc.vhd"), 512, h, 1024);
  assert_int_equal (be32 (h + 576 + 24 + 8), 2 * strlen (want));
  raw_read (P ("cdir/cc.vhd"), be64 (h + 576 + 24 + 16), w2ru, 2 * strlen (want));
  for (i = 0; i < strlen (want); i++)
    assert_true (w2ru[2 * i] == (uint8_t) want[i] && w2ru[2 * i + 1] == 0);
  img = reopen ("cdir/cc.vhd");
  compare_all (img, model, 2 * MiB);
  image_close (img);
  free (model);
}

static void
test_extents_dynamic (void **state)
{
  struct image *img = create ("ext.vhd", 6 * MiB, NULL, NULL);
  uint8_t buf[1024] = { 1 };
  extent_vector ev = empty_vector;

  (void) state;
  assert_int_equal (image_pwrite (img, buf, 1024, 2 * MiB + 512), 0);
  assert_int_equal (image_extents (img, 0, 6 * MiB, &ev), 0);
  assert_int_equal (ev.len, 3);
  assert_true (ev.ptr[0].type == EXTENT_HOLE && ev.ptr[0].length == 2 * MiB + 512);
  assert_true (ev.ptr[1].type == EXTENT_DATA && ev.ptr[1].length == 1024);
  assert_true (ev.ptr[2].type == EXTENT_HOLE);
  free (ev.ptr);
  image_close (img);
}

static void
test_parent_uuid_mismatch (void **state)
{
  uint8_t *model = malloc (2 * MiB);
  struct image *img;

  (void) state;
  make_parent ("p2.vhd", 2 * MiB, model);
  img = create ("c2.vhd", 2 * MiB, NULL, "p2.vhd");
  assert_int_equal (image_close (img), 0);
  unlink (P ("p2.vhd"));
  make_parent ("p2.vhd", 2 * MiB, model);              /* new unique id */
  expect_open_error ("c2.vhd", "has unique id");
  free (model);
}

static void
test_parent_missing_and_loop (void **state)
{
  uint8_t *model = malloc (2 * MiB);
  struct image *img;

  (void) state;
  make_parent ("p3.vhd", 2 * MiB, model);
  img = create ("c3.vhd", 2 * MiB, NULL, "p3.vhd");
  assert_int_equal (image_close (img), 0);
  unlink (P ("p3.vhd"));
  expect_open_error ("c3.vhd", "parent 'p3.vhd' not found");
  /* The child now sits where its locators point: it is its own parent. */
  assert_int_equal (rename (P ("c3.vhd"), P ("p3.vhd")), 0);
  expect_open_error ("p3.vhd", "points at the image itself");
  free (model);
}

static void
make_dyn (const char *name, uint64_t size)
{
  struct image *img = create (name, size, NULL, NULL);
  uint8_t buf[512] = { 0x55 };

  assert_int_equal (image_pwrite (img, buf, 512, 0), 0);
  assert_int_equal (image_close (img), 0);
}

static void
test_hostile (void **state)
{
  uint8_t f[512];

  (void) state;
  make_dyn ("h-footer.vhd", 4 * MiB);
  footer_of (P ("h-footer.vhd"), f);
  f[100] ^= 1;
  raw_write (P ("h-footer.vhd"), file_size (P ("h-footer.vhd")) - 512, f, 512);
  expect_open_error ("h-footer.vhd", "footer checksum mismatch");

  make_dyn ("h-header.vhd", 4 * MiB);
  raw_write (P ("h-header.vhd"), 512 + 900, "x", 1);
  expect_open_error ("h-header.vhd", "dynamic header checksum mismatch");

  make_dyn ("h-bs.vhd", 4 * MiB);
  patch (P ("h-bs.vhd"), 512, 1024, 36, 32, 3 * MiB);
  expect_open_error ("h-bs.vhd", "invalid block size 3145728");

  make_dyn ("h-bs2.vhd", 4 * MiB);
  patch (P ("h-bs2.vhd"), 512, 1024, 36, 32, 256);
  expect_open_error ("h-bs2.vhd", "invalid block size 256");

  make_dyn ("h-mte.vhd", 4 * MiB);
  patch (P ("h-mte.vhd"), 512, 1024, 36, 28, 0x7fffffff);
  expect_open_error ("h-mte.vhd", "max table entries 2147483647 exceeds");

  make_dyn ("h-mte2.vhd", 4 * MiB);
  patch (P ("h-mte2.vhd"), 512, 1024, 36, 28, 1);
  expect_open_error ("h-mte2.vhd", "too small for the virtual size");
}

static void
test_hostile_bat (void **state)
{
  uint8_t e[4];

  (void) state;
  make_dyn ("h-eof.vhd", 4 * MiB);
  put32 (e, 0x00100000);
  raw_write (P ("h-eof.vhd"), 1536, e, 4);
  expect_open_error ("h-eof.vhd", "BAT entry 0 points past end of file");

  make_dyn ("h-meta.vhd", 4 * MiB);
  put32 (e, 1);                                         /* the header */
  raw_write (P ("h-meta.vhd"), 1536, e, 4);
  expect_open_error ("h-meta.vhd", "BAT entry 0 overlaps the dynamic header");

  make_dyn ("h-trunc.vhd", 4 * MiB);
  assert_int_equal (truncate (P ("h-trunc.vhd"), 300), 0);
  expect_open_error ("h-trunc.vhd", "file too short for a VHD footer");

  make_dyn ("h-cut.vhd", 4 * MiB);                      /* block cut short */
  assert_int_equal (truncate (P ("h-cut.vhd"), 4096), 0);
  expect_open_error ("h-cut.vhd", "BAT entry 0 points past end of file");
}

static void
test_check_reports (void **state)
{
  struct image *img;
  struct strbuf sb = STRBUF_INIT;
  uint8_t f[512];

  (void) state;
  make_dyn ("chk.vhd", 4 * MiB);
  raw_read (P ("chk.vhd"), 0, f, 512);
  f[85] ^= 1;                                 /* reserved byte in the copy */
  put32 (f + 64, checksum (f, 512, 64));
  raw_write (P ("chk.vhd"), 0, f, 512);
  img = reopen ("chk.vhd");
  assert_int_equal (img->ops->check (img, &sb), 1);
  assert_non_null (strstr (sb.buf, "differs from the footer"));
  strbuf_release (&sb);
  image_close (img);
}

static void
test_qemu_chs_size (void **state)
{
  uint8_t f[512];
  uint64_t off;
  struct image *img;

  (void) state;
  /* A "qemu" creator means: the size is C*H*S sectors (4096 -> 60*4*17). */
  make_dyn ("q.vhd", 2 * MiB);
  off = file_size (P ("q.vhd")) - 512;
  raw_read (P ("q.vhd"), off, f, 512);
  memcpy (f + 28, "qemu", 4);
  put32 (f + 64, checksum (f, 512, 64));
  raw_write (P ("q.vhd"), off, f, 512);
  raw_write (P ("q.vhd"), 0, f, 512);
  img = reopen ("q.vhd");
  assert_true (img->size == 60ull * 4 * 17 * 512);
  image_close (img);
}

static void
test_short_footer (void **state)
{
  uint64_t size = 1 * MiB;
  uint8_t *model = calloc (1, size);
  struct image *img = create ("old.vhd", size, "fixed", NULL);

  (void) state;
  write_both (img, model, 0, size, 4);
  assert_int_equal (image_close (img), 0);
  /* Virtual PC before 2004: the footer's last (reserved) byte is missing. */
  assert_int_equal (truncate (P ("old.vhd"), (off_t) (size + 511)), 0);
  img = reopen ("old.vhd");
  assert_true (img->size == size);
  compare_all (img, model, size);
  image_close (img);
  free (model);
}

static void
test_create_refuses (void **state)
{
  struct image_create_opts o = { .subformat = "fixed", .backing = "x.vhd" };

  (void) state;
  assert_null (image_create ("vhd", P ("r1.vhd"), 1000, NULL));
  assert_non_null (strstr (error_get (), "not a multiple of 512"));
  assert_null (image_create ("vhd", P ("r2.vhd"), 2041ull << 30, NULL));
  assert_non_null (strstr (error_get (), "2040 GiB"));
  assert_null (image_create ("vhd", P ("r3.vhd"), MiB, &o));
  assert_non_null (strstr (error_get (), "cannot be fixed"));
  o = (struct image_create_opts) { .subformat = "sparse" };
  assert_null (image_create ("vhd", P ("r4.vhd"), MiB, &o));
  assert_non_null (strstr (error_get (), "unknown subformat"));
  assert_int_equal (access (P ("r1.vhd"), F_OK), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fixed_roundtrip),
    cmocka_unit_test (test_dynamic_roundtrip),
    cmocka_unit_test (test_dynamic_reopen_rdwr),
    cmocka_unit_test (test_chs_geometry),
    cmocka_unit_test (test_differencing),
    cmocka_unit_test (test_parent_elsewhere),
    cmocka_unit_test (test_extents_dynamic),
    cmocka_unit_test (test_parent_uuid_mismatch),
    cmocka_unit_test (test_parent_missing_and_loop),
    cmocka_unit_test (test_hostile),
    cmocka_unit_test (test_hostile_bat),
    cmocka_unit_test (test_check_reports),
    cmocka_unit_test (test_qemu_chs_size),
    cmocka_unit_test (test_short_footer),
    cmocka_unit_test (test_create_refuses),
  };

  return cmocka_run_group_tests (tests, setup, teardown);
}

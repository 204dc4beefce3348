/* test-vmdk.c: the VMDK driver — streamOptimized images written through
 * image_create read back identically, have VMware's layout byte for byte
 * where it matters, refuse backwards writes, and hostile variants of them
 * are refused with a one-line message naming the problem. */
#include "tests/unit/unit.h"

#include <endian.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

#define KIB 1024ull
#define MIB (1024ull * 1024)
#define GRAIN (64 * KIB)

static char dir[] = "/tmp/test-vmdk.XXXXXX";

static char *
tmp_path (const char *name)
{
  static char buf[4][256];
  static int i;

  i = (i + 1) % 4;
  snprintf (buf[i], sizeof buf[i], "%s/%s", dir, name);
  unlink (buf[i]);
  return buf[i];
}

/* Deterministic, incompressible-ish bytes, different at every offset. */
static void
fill (uint8_t *p, size_t n, uint64_t off)
{
  size_t i;

  /* A third of the grains compressible text, the rest noise, so both
   * the deflate and the stored paths of the writer are exercised. */
  for (i = 0; i < n; i++) {
    uint64_t o = off + i, x = o * 0x9E3779B97F4A7C15ull;
    p[i] = (o / GRAIN) % 3 == 0 ? (uint8_t) ('A' + (o / 7) % 26)
      : (uint8_t) ((x >> 56) ^ (o >> 9));
  }
}

static void
spit (const char *path, const uint8_t *buf, size_t len)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

  assert_true (fd >= 0);
  assert_int_equal (full_pwrite (fd, buf, len, 0, path), 0);
  close (fd);
}

/* A write plan: ranges (ascending) holding pattern data. */
struct range { uint64_t off, len; };

/* Create `path` of `size` bytes, writing the ranges in pieces of at most
 * `piece` bytes; `expect` gets the same bytes. */
static void
make_image (const char *path, uint64_t size, const struct range *r,
            size_t nr, size_t piece, unsigned threads, uint8_t *expect)
{
  struct image_create_opts opts = { .threads = threads };
  struct image *img = image_create ("vmdk", path, size, &opts);
  size_t i;

  assert_non_null (img);
  memset (expect, 0, size);
  for (i = 0; i < nr; i++) {
    uint64_t off = r[i].off, end = r[i].off + r[i].len;
    while (off < end) {
      size_t n = (size_t) (end - off < piece ? end - off : piece);
      fill (expect + off, n, off);
      assert_int_equal (image_pwrite (img, expect + off, n, off), 0);
      off += n;
    }
  }
  assert_int_equal (image_close (img), 0);
}

static void
verify_image (const char *path, uint64_t size, const uint8_t *expect)
{
  struct image *img = image_open (path, 0);
  uint64_t rounded = (size + 511) & ~511ull;
  uint8_t *got = malloc (rounded);
  struct strbuf report = STRBUF_INIT;

  assert_non_null (img);
  assert_string_equal (image_format (img), "vmdk");
  assert_int_equal (img->size, rounded);
  assert_non_null (got);
  /* Odd-sized reads cross grain boundaries at every possible place. */
  for (uint64_t off = 0; off < rounded; off += 100003) {
    size_t n = rounded - off < 100003 ? (size_t) (rounded - off) : 100003;
    assert_int_equal (image_pread (img, got + off, n, off), 0);
  }
  assert_memory_equal (got, expect, size);
  for (uint64_t i = size; i < rounded; i++)
    assert_int_equal (got[i], 0);
  assert_int_equal (img->ops->check (img, &report), 0);
  strbuf_release (&report);
  free (got);
  image_close (img);
}

static void
roundtrip (uint64_t size, const struct range *r, size_t nr, size_t piece,
           unsigned threads)
{
  char *path = tmp_path ("rt.vmdk");
  uint8_t *expect = malloc (size);

  assert_non_null (expect);
  make_image (path, size, r, nr, piece, threads, expect);
  verify_image (path, size, expect);
  free (expect);
}

static void
test_roundtrip_groups (void **state)
{
  /* Three GT groups (32 MiB each), an untouched group, a grain-unaligned
   * tail, the 64 KiB-aligned writes the copy engine makes. */
  const struct range r[] = {
    { 0, 3 * GRAIN }, { 10 * GRAIN, GRAIN }, { 33 * MIB, 2 * MIB },
    { 100 * MIB + 5 * GRAIN, 4 * MIB }, { 130 * MIB - 3 * GRAIN, 3 * GRAIN },
  };
  (void) state;
  roundtrip (130 * MIB, r, 5, 64 * KIB, 0);
  roundtrip (130 * MIB, r, 5, 4 * MIB, 3);
}

static void
test_roundtrip_odd_sizes (void **state)
{
  /* Sizes not a multiple of 64 KiB nor of 512; pieces that split grains. */
  const struct range all[] = { { 0, MIB + 1000 } };
  const struct range tail[] = { { MIB - 700, 1700 } };
  const struct range mid[] = { { 5000, 3000 }, { 9000, 200000 } };
  (void) state;
  roundtrip (MIB + 1000, all, 1, 100000, 2);
  roundtrip (MIB + 1000, tail, 1, 333, 1);
  roundtrip (3 * MIB + 512, mid, 2, 4096, 2);
  roundtrip (512, (const struct range[]) { { 0, 512 } }, 1, 512, 1);
}

static void
test_zero_grains_not_written (void **state)
{
  char *path = tmp_path ("zero.vmdk");
  struct image *img = image_create ("vmdk", path, 64 * MIB, NULL);
  uint8_t *zero = calloc (1, 4 * MIB);
  extent_vector ext = empty_vector;
  size_t len;
  uint8_t *raw;

  (void) state;
  assert_non_null (img);
  for (uint64_t off = 0; off < 64 * MIB; off += 4 * MIB)
    assert_int_equal (image_pwrite (img, zero, 4 * MIB, off), 0);
  assert_int_equal (image_close (img), 0);
  raw = unit_slurp (path, &len);
  /* Head (64 KiB), GD marker + GD, footer marker + footer, EOS. */
  assert_int_equal (len, 64 * KIB + 2 * 512 + 3 * 512);
  img = image_open (path, 0);
  assert_non_null (img);
  assert_int_equal (image_extents (img, 0, img->size, &ext), 0);
  assert_int_equal (ext.len, 1);
  assert_int_equal (ext.ptr[0].type, EXTENT_HOLE);
  image_close (img);
  free (ext.ptr);
  free (raw);
  free (zero);
}

static uint64_t
le64_at (const uint8_t *p, size_t off)
{
  uint64_t v;

  memcpy (&v, p + off, 8);
  return le64toh (v);
}

static uint32_t
le32_at (const uint8_t *p, size_t off)
{
  uint32_t v;

  memcpy (&v, p + off, 4);
  return le32toh (v);
}

static void
check_header_fields (const uint8_t *h, uint64_t capacity, uint64_t gd)
{
  assert_memory_equal (h, "KDMV", 4);
  assert_int_equal (le32_at (h, 4), 3);               /* version */
  assert_int_equal (le32_at (h, 8), 0x30001);         /* flags */
  assert_int_equal (le64_at (h, 12), capacity);
  assert_int_equal (le64_at (h, 20), 128);            /* grainSize */
  assert_int_equal (le64_at (h, 28), 1);              /* descriptorOffset */
  assert_int_equal (le64_at (h, 36), 20);             /* descriptorSize */
  assert_int_equal (le32_at (h, 44), 512);            /* numGTEsPerGT */
  assert_int_equal (le64_at (h, 56), gd);             /* gdOffset */
  assert_int_equal (le64_at (h, 64), 128);            /* overHead */
  assert_memory_equal (h + 73, "\n \r\n", 4);
  assert_int_equal (h[77] | h[78] << 8, 1);           /* deflate */
}

/* Walk the stream from the first grain: grains ascending, a GT after each
 * group, then GD, footer, EOS as the last sector. */
static void
walk_stream (const uint8_t *raw, size_t len, unsigned *grains, unsigned *gts)
{
  size_t pos = 128 * 512;
  uint64_t last_lba = 0;
  bool first = true;

  *grains = *gts = 0;
  for (;;) {
    uint64_t v = le64_at (raw, pos);
    uint32_t size = le32_at (raw, pos + 8), type = le32_at (raw, pos + 12);
    assert_true (pos + 512 <= len);
    if (size != 0) {                                /* a grain */
      assert_true (first || v > last_lba);
      assert_int_equal (v % 128, 0);
      last_lba = v;
      first = false;
      (*grains)++;
      pos += (12 + size + 511) & ~511ul;
      continue;
    }
    if (type == 0) {                                /* end of stream */
      assert_int_equal (v, 0);
      assert_int_equal (pos + 512, len);
      return;
    }
    assert_true (type <= 3);
    *gts += type == 1;
    pos += 512 + v * 512;
  }
}

static void
test_layout (void **state)
{
  const struct range r[] = { { 0, GRAIN }, { 70 * MIB, 2 * GRAIN } };
  char *path = tmp_path ("layout.vmdk");
  uint8_t *expect = malloc (80 * MIB);
  unsigned grains, gts;
  size_t len;
  uint8_t *raw;
  uint64_t gd;

  (void) state;
  make_image (path, 80 * MIB, r, 2, GRAIN, 0, expect);
  raw = unit_slurp (path, &len);
  raw[len] = '\0';
  check_header_fields (raw, 80 * MIB / 512, UINT64_MAX);
  /* Footer: marker (1 sector, type 3), header copy with the real GD. */
  assert_int_equal (le64_at (raw, len - 1536), 1);
  assert_int_equal (le32_at (raw, len - 1536 + 12), 3);
  gd = le64_at (raw, len - 1024 + 56);
  check_header_fields (raw + len - 1024, 80 * MIB / 512, gd);
  assert_int_equal (le32_at (raw, (gd - 1) * 512 + 12), 2);  /* GD marker */
  assert_true (le32_at (raw, gd * 512) != 0);       /* group 0 has a GT */
  assert_int_equal (le32_at (raw, gd * 512 + 4), 0);  /* group 1: none */
  assert_true (le32_at (raw, gd * 512 + 8) != 0);   /* group 2 */
  assert_non_null (strstr ((char *) raw + 512, "createType=\"streamOptimized\""));
  assert_non_null (strstr ((char *) raw + 512, "RW 163840 SPARSE \"layout.vmdk\""));
  assert_non_null (strstr ((char *) raw + 512, "ddb.adapterType = \"lsilogic\""));
  assert_non_null (strstr ((char *) raw + 512, "ddb.geometry.heads = \"255\""));
  walk_stream (raw, len, &grains, &gts);
  assert_int_equal (grains, 3);
  assert_int_equal (gts, 2);
  free (raw);
  free (expect);
}

static void
test_adapter_ide (void **state)
{
  struct image_create_opts opts = { .adapter_type = "ide" };
  char *path = tmp_path ("ide.vmdk");
  struct image *img = image_create ("vmdk", path, MIB, &opts);
  struct strbuf info = STRBUF_INIT;
  size_t len;
  uint8_t *raw;

  (void) state;
  assert_non_null (img);
  assert_int_equal (image_close (img), 0);
  raw = unit_slurp (path, &len);
  raw[len] = '\0';
  assert_non_null (strstr ((char *) raw + 512, "ddb.adapterType = \"ide\""));
  assert_non_null (strstr ((char *) raw + 512, "ddb.geometry.heads = \"16\""));
  free (raw);
  img = image_open (path, 0);
  assert_non_null (img);
  assert_int_equal (img->ops->info (img, &info), 0);
  assert_string_equal (info.buf, "subformat\tstreamOptimized\ngrain_size\t65536\n"
                       "adapter_type\tide\ncompressed\tyes\n");
  strbuf_release (&info);
  image_close (img);
  opts.adapter_type = "floppy";
  assert_null (image_create ("vmdk", tmp_path ("bad.vmdk"), MIB, &opts));
  assert_non_null (strstr (error_get (), "unknown adapter type 'floppy'"));
  opts.adapter_type = NULL;
  opts.subformat = "monolithicSparse";
  assert_null (image_create ("vmdk", tmp_path ("bad.vmdk"), MIB, &opts));
  assert_non_null (strstr (error_get (), "cannot be written"));
}

static void
test_backwards_refused (void **state)
{
  char *path = tmp_path ("back.vmdk");
  struct image *img = image_create ("vmdk", path, 4 * MIB, NULL);
  uint8_t buf[GRAIN];

  (void) state;
  memset (buf, 0xab, sizeof buf);
  assert_non_null (img);
  assert_int_equal (image_pwrite (img, buf, GRAIN, 2 * GRAIN), 0);
  assert_int_equal (image_pwrite (img, buf, GRAIN, 0), -1);
  assert_non_null (strstr (error_get (), "vmdk: '"));
  assert_non_null (strstr (error_get (),
                           "': streamOptimized writes must be sequential"));
  /* Overlapping the previous write is going backwards too. */
  assert_int_equal (image_pwrite (img, buf, 100, 3 * GRAIN - 1), -1);
  assert_int_equal (image_pread (img, buf, 512, 0), -1);
  assert_int_equal (image_close (img), 0);
}

/* ---- hostile images, made by patching a valid one ---------------------- */

struct valid {
  uint8_t *raw;
  size_t len;
  uint64_t gd;          /* sector of the GD (from the footer) */
  uint64_t gt;          /* sector of GT 0 */
  uint64_t grain0;      /* sector of grain 0's marker */
};

static void
make_valid (struct valid *v)
{
  const struct range r[] = { { 0, 2 * GRAIN } };
  char *path = tmp_path ("valid.vmdk");
  uint8_t *expect = malloc (MIB);

  make_image (path, MIB, r, 1, GRAIN, 1, expect);
  free (expect);
  v->raw = unit_slurp (path, &v->len);
  v->gd = le64_at (v->raw, v->len - 1024 + 56);
  v->gt = le32_at (v->raw, v->gd * 512);
  v->grain0 = le32_at (v->raw, v->gt * 512);
  assert_int_equal (v->grain0, 128);
}

static void
put32 (uint8_t *p, size_t off, uint32_t x)
{
  x = htole32 (x);
  memcpy (p + off, &x, 4);
}

static void
put64 (uint8_t *p, size_t off, uint64_t x)
{
  x = htole64 (x);
  memcpy (p + off, &x, 8);
}

/* Open (then read everything) must fail with a message matching re. */
static void
expect_refused (const uint8_t *raw, size_t len, const char *name,
                const char *re)
{
  char *path = tmp_path (name);
  struct image *img;
  regex_t rx;
  int r = 0;

  spit (path, raw, len);
  img = image_open (path, 0);
  if (img) {
    uint8_t *buf = malloc (img->size);
    extent_vector ext = empty_vector;
    assert_non_null (buf);
    r = image_extents (img, 0, img->size, &ext);
    if (r == 0)
      r = image_pread (img, buf, img->size, 0);
    free (ext.ptr);
    free (buf);
    image_close (img);
  }
  assert_true (img == NULL || r == -1);
  assert_int_equal (regcomp (&rx, re, REG_EXTENDED | REG_NOSUB), 0);
  if (regexec (&rx, error_get (), 0, NULL, 0) != 0)
    fail_msg ("%s: expected /%s/, got: %s", name, re, error_get ());
  assert_null (strchr (error_get (), '\n'));
  assert_non_null (strstr (error_get (), name));
  regfree (&rx);
}

static void
test_hostile (void **state)
{
  struct valid v;
  uint8_t *p;
  size_t foot;

  (void) state;
  make_valid (&v);
  foot = v.len - 1024;
#define CASE(name, re, patch) do {                                      \
    p = malloc (v.len);                                                 \
    memcpy (p, v.raw, v.len);                                           \
    patch;                                                              \
    expect_refused (p, v.len, name, re);                                \
    free (p);                                                           \
  } while (0)
  CASE ("version.vmdk", "unsupported version 99", put32 (p, 4, 99));
  CASE ("grain-pow2.vmdk", "grain size 100 sectors is not a power of 2",
        put64 (p, 20, 100));
  CASE ("grain-huge.vmdk", "grain size", put64 (p, 20, 1u << 20));
  CASE ("gtes.vmdk", "grain table entries per table",
        put32 (p, 44, 1u << 30));
  CASE ("capacity.vmdk", "capacity [0-9]+ sectors is absurd",
        put64 (p, 12, 1ull << 60));
  CASE ("desc-size.vmdk", "descriptor size [0-9]+ sectors is absurd",
        (put64 (p, 36, 1ull << 40), put64 (p, foot + 36, 1ull << 40)));
  CASE ("desc-past.vmdk", "descriptor points past end of file",
        (put64 (p, 28, 1ull << 40), put64 (p, foot + 28, 1ull << 40)));
  CASE ("textmode.vmdk", "check bytes damaged", p[75] = '\n');
  CASE ("footer-disagrees.vmdk", "footer disagrees",
        put64 (p, foot + 12, 4096));
  CASE ("gd-past.vmdk", "grain directory points past end of file",
        put64 (p, foot + 56, 1u << 30));
  CASE ("gt-past.vmdk", "grain table 0 points past end of file",
        put32 (p, v.gd * 512, 1u << 30));
  CASE ("gte-past.vmdk", "grain table 0 entry 1 points past end of file",
        put32 (p, v.gt * 512 + 4, 1u << 30));
  CASE ("marker-size.vmdk", "compressed size is larger than a grain allows",
        put32 (p, v.grain0 * 512 + 8, 0x7fffffff));
  CASE ("marker-lba.vmdk", "marker names a different sector",
        put64 (p, v.grain0 * 512, 128));
  CASE ("zlib-garbage.vmdk", "corrupt compressed data",
        memset (p + v.grain0 * 512 + 12, 0x5a, 64));
  CASE ("desc-mismatch.vmdk", "does not match the capacity",
        memcpy (strstr ((char *) p + 512, "RW "), "RW 4096 ", 8));
  /* A bomb: a short zlib stream of 1 MiB of zeros in grain 0's place. */
  {
    uLongf blen = compressBound (MIB);
    uint8_t *zeros = calloc (1, MIB), *bomb = malloc (blen);
    assert_int_equal (compress (bomb, &blen, zeros, MIB), Z_OK);
    CASE ("zlib-bomb.vmdk", "decompresses to more than a grain",
          (put32 (p, v.grain0 * 512 + 8, (uint32_t) blen),
           memcpy (p + v.grain0 * 512 + 12, bomb, blen)));
    free (zeros);
    free (bomb);
  }
  /* Truncations: mid-header, and a stream that lost its footer. */
  expect_refused (v.raw, 300, "trunc-header.vmdk", "truncated");
  expect_refused (v.raw, 64 * KIB + 1024, "trunc-stream.vmdk",
                  "(footer|end-of-stream) marker not found");
#undef CASE
  free (v.raw);
}

static void
test_descriptor_file (void **state)
{
  const char *two =
    "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
    "createType=\"monolithicFlat\"\nRW 2048 FLAT \"f-flat.vmdk\" 0\n"
    "RW 2048 FLAT \"g-flat.vmdk\" 0\n";
  const char *one =
    "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
    "createType=\"monolithicFlat\"\nRW 2048 FLAT \"f-flat.vmdk\" 0\n"
    "ddb.adapterType = \"buslogic\"\n";
  uint8_t *flat = malloc (MIB), *got = malloc (MIB);
  struct image *img;
  struct strbuf info = STRBUF_INIT;

  (void) state;
  fill (flat, MIB, 0);
  spit (tmp_path ("f-flat.vmdk"), flat, MIB);
  char *path = tmp_path ("two.vmdk");

  spit (path, (const uint8_t *) two, strlen (two));
  assert_null (image_open (path, 0));
  assert_non_null (strstr (error_get (), "2 extents are not supported"));
  path = tmp_path ("one.vmdk");
  spit (path, (const uint8_t *) one, strlen (one));
  img = image_open (path, 0);
  assert_non_null (img);
  assert_int_equal (img->size, MIB);
  assert_int_equal (image_pread (img, got, MIB, 0), 0);
  assert_memory_equal (got, flat, MIB);
  assert_int_equal (img->ops->info (img, &info), 0);
  assert_string_equal (info.buf, "subformat\tmonolithicFlat\n"
                       "adapter_type\tbuslogic\ncompressed\tno\n");
  strbuf_release (&info);
  image_close (img);
  free (flat);
  free (got);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_roundtrip_groups),
    cmocka_unit_test (test_roundtrip_odd_sizes),
    cmocka_unit_test (test_zero_grains_not_written),
    cmocka_unit_test (test_layout),
    cmocka_unit_test (test_adapter_ide),
    cmocka_unit_test (test_backwards_refused),
    cmocka_unit_test (test_hostile),
    cmocka_unit_test (test_descriptor_file),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

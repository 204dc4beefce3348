/* test-xfsmap.c: the xfs map (xfsmap.c) on a filesystem made by mkfs.xfs
 * (v5) and on crafted damage to it: a log that is not clean, an AGF whose
 * free count disagrees with its btree, a btree record covering the AG's
 * headers, an absurd AG count.  Each damaged one is refused (1: copied in
 * full); the clean one keeps little of a fresh filesystem; usedmap_build
 * finds it through libblkid. */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/disk/usedmap.h"

static char dir[] = "/tmp/ferry-test-xfsmap.XXXXXX";
static char fs[256];

#define FS_SIZE (320ull << 20)

static void make_fs (void);

static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
    (uint32_t) p[2] << 8 | p[3];
}

static void
put_be32 (unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char) (v >> 24);
  p[1] = (unsigned char) (v >> 16);
  p[2] = (unsigned char) (v >> 8);
  p[3] = (unsigned char) v;
}

/* A fresh copy of the pristine filesystem. */
static void
fresh (const char *path)
{
  char cmd[1024];

  make_fs ();
  snprintf (cmd, sizeof cmd, "cp --sparse=always %s %s", fs, path);
  assert_int_equal (system (cmd), 0);
}

static void
patch (const char *path, uint64_t off, const void *buf, size_t len)
{
  int fd = open (path, O_WRONLY);

  assert_true (fd >= 0);
  assert_int_equal (pwrite (fd, buf, len, (off_t) off), (ssize_t) len);
  close (fd);
}

static void
peek (const char *path, uint64_t off, void *buf, size_t len)
{
  int fd = open (path, O_RDONLY);

  assert_true (fd >= 0);
  assert_int_equal (pread (fd, buf, len, (off_t) off), (ssize_t) len);
  close (fd);
}

/* Run the map; return its result, checking the ranges it keeps. */
static int
map (const char *path, uint64_t *kept)
{
  struct image *img = image_open (path, IMAGE_OPEN_RAW);
  extent_vector keep = empty_vector;
  size_t i;
  int r;

  assert_non_null (img);
  error_clear ();
  r = xfsmap_used (img, 0, img->size, 0, &keep);
  *kept = 0;
  for (i = 0; i < keep.len; i++) {
    assert_true (keep.ptr[i].offset + keep.ptr[i].length <= img->size);
    if (i > 0)
      assert_true (keep.ptr[i].offset >=
                   keep.ptr[i - 1].offset + keep.ptr[i - 1].length);
    *kept += keep.ptr[i].length;
  }
  extent_vector_reset (&keep);
  image_close (img);
  return r;
}

/* The pristine filesystem, made once. */
static void
make_fs (void)
{
  char cmd[1024];

  if (fs[0])
    return;
  snprintf (fs, sizeof fs, "%s/pristine.xfs", dir);
  snprintf (cmd, sizeof cmd, "truncate -s %llu %s && "
            "/sbin/mkfs.xfs -q -f -m crc=1 %s", (unsigned long long) FS_SIZE,
            fs, fs);
  assert_int_equal (system (cmd), 0);
}

static void
test_clean (void **state)
{
  uint64_t kept;
  struct image *img;
  struct usedmap m;

  (void) state;
  make_fs ();
  assert_int_equal (map (fs, &kept), 0);
  assert_true (kept > 0);
  assert_true (kept < FS_SIZE / 4);   /* the log and AG metadata */
  img = image_open (fs, IMAGE_OPEN_RAW);
  assert_non_null (img);
  assert_int_equal (usedmap_build (img, 0, &m), 0);
  assert_int_equal (m.parts.len, 1);
  assert_int_equal (m.parts.ptr[0].policy, USEDMAP_XFS);
  assert_string_equal (m.parts.ptr[0].fstype, "xfs");
  assert_string_equal (m.parts.ptr[0].method, "xfs-bnobt");
  assert_string_equal (m.parts.ptr[0].note, "");
  usedmap_free (&m);
  image_close (img);
}

static uint64_t
log_offset (const char *path)
{
  unsigned char sb[128];
  uint64_t logstart;
  unsigned agblklog;

  peek (path, 0, sb, sizeof sb);
  logstart = (uint64_t) be32 (sb + 48) << 32 | be32 (sb + 52);
  agblklog = sb[124];
  return ((logstart >> agblklog) * be32 (sb + 84) +
          (logstart & ((1ull << agblklog) - 1))) * be32 (sb + 4);
}

static void
test_dirty_log (void **state)
{
  char path[300];
  unsigned char bb[512];
  uint64_t log, kept;
  struct image *img;
  struct usedmap m;

  (void) state;
  snprintf (path, sizeof path, "%s/dirty.xfs", dir);
  fresh (path);
  log = log_offset (path);
  /* mkfs leaves one unmount record at the log's start: its op header
   * (in the block after the record header) loses its unmount flag. */
  peek (path, log, bb, sizeof bb);
  assert_int_equal (be32 (bb), 0xFEEDBABE);
  peek (path, log + 512, bb, sizeof bb);
  assert_true (bb[9] & 0x20);
  bb[9] &= (unsigned char) ~0x20;
  patch (path, log + 512, bb, sizeof bb);
  assert_int_equal (map (path, &kept), 1);
  assert_non_null (strstr (error_get (), "log needs recovery"));
  /* usedmap copies it in full and says why. */
  img = image_open (path, IMAGE_OPEN_RAW);
  assert_non_null (img);
  assert_int_equal (usedmap_build (img, 0, &m), 0);
  assert_int_equal (m.parts.ptr[0].policy, USEDMAP_ALL);
  assert_string_equal (m.parts.ptr[0].fstype, "xfs");
  assert_non_null (strstr (m.parts.ptr[0].note, "log needs recovery"));
  assert_int_equal (m.keep.len, 1);
  assert_int_equal (m.keep.ptr[0].length, img->size);
  usedmap_free (&m);
  image_close (img);
  /* A record header claiming more operations: not an unmount record. */
  fresh (path);
  peek (path, log, bb, sizeof bb);
  put_be32 (bb + 40, 2);
  patch (path, log, bb, sizeof bb);
  assert_int_equal (map (path, &kept), 1);
  /* A block of the head's cycle past the head (a torn write: the kernel
   * would look for records there). */
  fresh (path);
  peek (path, log, bb, sizeof bb);
  put_be32 (bb, be32 (bb + 4));
  patch (path, log + 64 * 512, bb, 4);
  assert_int_equal (map (path, &kept), 1);
}

/* The log as if it had wrapped: every basic block's cycle goes from c to
 * c+1 before `head` (the records mkfs wrote) and stays c after it. */
static void
wrap_log (const char *path, uint64_t log, uint64_t len, uint64_t head)
{
  unsigned char *buf = malloc (len);
  uint64_t b;

  assert_non_null (buf);
  peek (path, log, buf, len);
  for (b = 0; b < len / 512; b++) {
    unsigned char *p = buf + b * 512;

    if (b < head)
      put_be32 (be32 (p) == 0xFEEDBABE ? p + 4 : p,
                be32 (be32 (p) == 0xFEEDBABE ? p + 4 : p) + 1);
    else
      put_be32 (p, 1);
  }
  patch (path, log, buf, len);
  free (buf);
}

static void
test_wrapped_log (void **state)
{
  char path[300];
  unsigned char sb[128], bb[512];
  uint64_t log, len, head, kept;

  (void) state;
  snprintf (path, sizeof path, "%s/wrapped.xfs", dir);
  fresh (path);
  peek (path, 0, sb, sizeof sb);
  log = log_offset (path);
  len = (uint64_t) be32 (sb + 96) * be32 (sb + 4);
  /* mkfs's unmount record: its header and one block (h_len <= 512). */
  peek (path, log, bb, sizeof bb);
  assert_true (be32 (bb + 12) <= 512);
  head = 2;
  /* Cycle 2 up to the head, 1 after: found by bisection, clean. */
  wrap_log (path, log, len, head);
  assert_int_equal (map (path, &kept), 0);
  /* A block of cycle 2 inside the torn-write window past the head. */
  put_be32 (bb, 2);
  patch (path, log + (head + 100) * 512, bb, 4);
  assert_int_equal (map (path, &kept), 1);
  /* Not wrapped, but the last block carries the first's cycle: the
   * linear scan finds the same head (the window holds zeros). */
  fresh (path);
  put_be32 (bb, 1);
  patch (path, log + len - 512, bb, 4);
  assert_int_equal (map (path, &kept), 0);
  /* ... and a head whose cycle is from the future. */
  put_be32 (bb, 7);
  patch (path, log + head * 512, bb, 4);
  assert_int_equal (map (path, &kept), 1);
}

static void
test_lying_agf (void **state)
{
  char path[300];
  unsigned char agf[64], blk[64], sb[128];
  uint64_t kept, root;

  (void) state;
  snprintf (path, sizeof path, "%s/agf.xfs", dir);
  /* The free count disagrees with the btree. */
  fresh (path);
  peek (path, 512, agf, sizeof agf);
  assert_int_equal (be32 (agf), 0x58414746);
  put_be32 (agf + 52, be32 (agf + 52) - 1);
  patch (path, 512, agf, sizeof agf);
  assert_int_equal (map (path, &kept), 1);
  assert_non_null (strstr (error_get (), "inconsistent"));
  /* The first free extent claims the AG's header block. */
  fresh (path);
  peek (path, 0, sb, sizeof sb);
  peek (path, 512, agf, sizeof agf);
  root = (uint64_t) be32 (agf + 16) * be32 (sb + 4);
  peek (path, root, blk, sizeof blk);
  assert_int_equal (be32 (blk), 0x41423342);   /* AB3B */
  put_be32 (blk + 56, 0);
  patch (path, root, blk, sizeof blk);
  assert_int_equal (map (path, &kept), 1);
  /* The btree root points outside its AG. */
  fresh (path);
  put_be32 (agf + 16, 0xfffffff0u);
  patch (path, 512, agf, sizeof agf);
  assert_int_equal (map (path, &kept), 1);
  /* Too deep. */
  fresh (path);
  peek (path, 512, agf, sizeof agf);
  put_be32 (agf + 28, 10);
  patch (path, 512, agf, sizeof agf);
  assert_int_equal (map (path, &kept), 1);
}

static void
test_lying_super (void **state)
{
  char path[300];
  unsigned char sb[128];
  uint64_t kept;

  (void) state;
  snprintf (path, sizeof path, "%s/sb.xfs", dir);
  fresh (path);
  peek (path, 0, sb, sizeof sb);
  put_be32 (sb + 88, 0xffffffffu);             /* agcount */
  patch (path, 0, sb, sizeof sb);
  assert_int_equal (map (path, &kept), 1);
  fresh (path);
  put_be32 (sb + 88, be32 (sb + 88));
  peek (path, 0, sb, sizeof sb);
  put_be32 (sb + 12, be32 (sb + 12) * 2);      /* dblocks past the end */
  patch (path, 0, sb, sizeof sb);
  assert_int_equal (map (path, &kept), 1);
  fresh (path);
  peek (path, 0, sb, sizeof sb);
  put_be32 (sb + 4, 3000);                     /* block size */
  patch (path, 0, sb, sizeof sb);
  assert_int_equal (map (path, &kept), 1);
  error_clear ();
}

/* The seeds of tests/data/gen-hostile-xfs.sh (records of a sparse 32 MiB
 * disk): valid-* are mapped, every damaged one is refused. */
static void
test_corpus (void **state)
{
  char cmd[700], path[400], disk[400];
  struct dirent *d;
  DIR *dp;
  int n = 0;

  (void) state;
  snprintf (path, sizeof path, "%s/corpus", dir);
  snprintf (disk, sizeof disk, "%s/corpus.img", dir);
  snprintf (cmd, sizeof cmd, "tests/data/gen-hostile-xfs.sh %s", path);
  assert_int_equal (system (cmd), 0);
  dp = opendir (path);
  assert_non_null (dp);
  while ((d = readdir (dp)) != NULL) {
    char file[900];
    unsigned char *data;
    size_t len, pos = 0;
    uint64_t kept;
    int fd, r;

    if (d->d_name[0] == '.')
      continue;
    snprintf (file, sizeof file, "%s/%s", path, d->d_name);
    data = unit_slurp (file, &len);
    fd = open (disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true (fd >= 0);
    assert_int_equal (ftruncate (fd, 32 << 20), 0);
    while (pos + 6 <= len) {
      uint32_t off = (uint32_t) data[pos] | (uint32_t) data[pos + 1] << 8 |
        (uint32_t) data[pos + 2] << 16 | (uint32_t) data[pos + 3] << 24;
      size_t n2 = (size_t) data[pos + 4] | (size_t) data[pos + 5] << 8;

      pos += 6;
      assert_true (n2 <= len - pos);
      assert_int_equal (pwrite (fd, data + pos, n2, off), (ssize_t) n2);
      pos += n2;
    }
    close (fd);
    free (data);
    r = map (disk, &kept);
    if (r != (strncmp (d->d_name, "valid-", 6) == 0 ? 0 : 1))
      fail_msg ("%s: %d (%s)", d->d_name, r, error_get ());
    n++;
  }
  closedir (dp);
  assert_true (n >= 16);
  error_clear ();
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_clean),
    cmocka_unit_test (test_dirty_log),
    cmocka_unit_test (test_wrapped_log),
    cmocka_unit_test (test_lying_agf),
    cmocka_unit_test (test_lying_super),
    cmocka_unit_test (test_corpus),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

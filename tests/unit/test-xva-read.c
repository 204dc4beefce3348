/* test-xva-read.c: the XVA reader on small XVAs built here with libarchive
 * — the sequential rebuild (gaps, keep-alive chunks, a short last chunk),
 * both checksum kinds, gzip, content probing — and every refusal, each
 * leaving the work directory empty. */
#include "tests/unit/unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/hash.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"
#include "ova/xva-read.h"
#include "ova/xva-xml.h"

#define MIB (1u << 20)
#define SIZE (3 * MIB + 512)            /* chunks 0..3, the last short */

static char dir[] = "/tmp/ferry-test-xva-read.XXXXXX";
static char ref[24];
static char work[1024];                 /* the work directory */
static unsigned char data[4][MIB];      /* chunk i's bytes */

static const char *
path (const char *name)
{
  static char buf[1024];
  snprintf (buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

/* ---- building XVAs ----------------------------------------------------- */

struct xva {
  struct archive *a;
};

static void
xva_begin (struct xva *x, const char *name, bool gzip)
{
  x->a = archive_write_new ();
  assert_non_null (x->a);
  assert_int_equal (archive_write_set_format_gnutar (x->a), ARCHIVE_OK);
  if (gzip)
    assert_int_equal (archive_write_add_filter_gzip (x->a), ARCHIVE_OK);
  assert_int_equal (archive_write_open_filename (x->a, path (name)),
                    ARCHIVE_OK);
}

static void
xva_add_typed (struct xva *x, const char *name, const void *buf, size_t len,
               mode_t type, const char *link)
{
  struct archive_entry *e = archive_entry_new ();

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, type == AE_IFREG ? (la_int64_t) len : 0);
  if (link)
    archive_entry_set_symlink (e, link);
  assert_int_equal (archive_write_header (x->a, e), ARCHIVE_OK);
  if (type == AE_IFREG && len)
    assert_int_equal (archive_write_data (x->a, buf, len), (la_ssize_t) len);
  archive_entry_free (e);
}

static void
xva_add (struct xva *x, const char *name, const void *buf, size_t len)
{
  xva_add_typed (x, name, buf, len, AE_IFREG, NULL);
}

static void
xva_end (struct xva *x)
{
  assert_int_equal (archive_write_close (x->a), ARCHIVE_OK);
  archive_write_free (x->a);
}

/* ova.xml for a VM with one disk of `size` bytes and one NIC. */
static void
add_xml (struct xva *x, uint64_t size)
{
  struct vm vm;
  struct strbuf sb = STRBUF_INIT;
  uint8_t mac[6];

  vm_init (&vm);
  vm.name = strdup ("xva-test");
  assert_int_equal (ids_uuid_parse ("6f1c0a4e-8d2b-4c3a-9e7f-1a2b3c4d5e6f",
                                vm.uuid), 0);
  vm.has_uuid = true;
  vm.cpus = 2;
  vm.memory_mib = 512;
  assert_int_equal (vm_add_disk (&vm, NULL, "raw", size, VM_BUS_XEN), 0);
  assert_int_equal (ids_mac_parse ("00:16:3e:01:02:03", mac), 0);
  assert_int_equal (vm_add_nic (&vm, mac, NULL, NULL), 0);
  assert_int_equal (xva_xml_write (&vm, &size, &sb), 0);
  xva_xml_vdi_ref (0, 1, ref, sizeof ref);
  xva_add (x, "ova.xml", sb.buf, sb.len);
  strbuf_release (&sb);
  vm_free (&vm);
}

/* Chunk `num` of the disk with `len` bytes of `buf` and its checksum of
 * `kind` (-1: none); `corrupt` flips the checksum's first digit. */
static void
add_chunk (struct xva *x, unsigned num, const void *buf, size_t len,
           int kind, bool corrupt)
{
  char name[64], hex[HASH_HEX_MAX];

  snprintf (name, sizeof name, "%s/%08u", ref, num);
  xva_add (x, name, buf, len);
  if (kind < 0)
    return;
  assert_int_equal (hash_buffer_hex ((enum hash_kind) kind, buf, len, hex,
                                     kind == HASH_XXH64), 0);
  if (corrupt)
    hex[0] = hex[0] == '0' ? '1' : '0';
  snprintf (name, sizeof name, "%s/%08u.%s", ref, num,
            kind == HASH_SHA1 ? "checksum" : "xxhash");
  xva_add (x, name, hex, strlen (hex));
}

/* The standard package: chunks 0, 2 and 3 (short); 1 is all zeros and
 * omitted, so it must come back as a zero block of the first's length. */
static void
make_good (const char *name, bool gzip, int kind)
{
  struct xva x;

  xva_begin (&x, name, gzip);
  add_xml (&x, SIZE);
  add_chunk (&x, 0, data[0], MIB, kind, false);
  add_chunk (&x, 2, data[2], MIB, kind, false);
  add_chunk (&x, 3, data[3], 512, kind, false);
  xva_end (&x);
}

static bool
workdir_empty (void)
{
  DIR *d = opendir (work);
  struct dirent *de;
  int n = 0;

  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    n += strcmp (de->d_name, ".") && strcmp (de->d_name, "..");
  closedir (d);
  return n == 0;
}

static void
check_disk (struct image *img, const unsigned char *const *chunks)
{
  static unsigned char buf[MIB];
  static const unsigned char zero[MIB];
  unsigned i;

  assert_int_equal (img->size, SIZE);
  for (i = 0; i < 4; i++) {
    size_t len = i == 3 ? 512 : MIB;
    assert_int_equal (image_pread (img, buf, len, (uint64_t) i * MIB), 0);
    assert_memory_equal (buf, chunks[i] ? chunks[i] : zero, len);
  }
}

static int
setup (void **state)
{
  unsigned i, j;

  (void) state;
  for (i = 0; i < 4; i++)
    for (j = 0; j < MIB; j++)
      data[i][j] = (unsigned char) (i * 37 + j * 7 + (j >> 9));
  memset (data[0] + 65536, 0, 3 * 65536);       /* a hole inside a chunk */
  snprintf (work, sizeof work, "%s/work", dir);
  mkdir (work, 0700);
  return 0;
}

/* ---- good packages ----------------------------------------------------- */

static void
read_good (const char *name, bool gzip, int kind)
{
  const unsigned char *expect[4] = { data[0], NULL, data[2], data[3] };
  struct ova_pkg pkg;
  char mac[18];

  make_good (name, gzip, kind);
  assert_true (xva_probe (path (name)));
  assert_int_equal (xva_read (path (name), work, &pkg), 0);
  assert_true (workdir_empty ());               /* opened and unlinked */
  assert_string_equal (pkg.vm.name, "xva-test");
  assert_int_equal (pkg.vm.disks.len, 1);
  assert_int_equal (pkg.vm.nics.len, 1);
  ids_mac_format (pkg.vm.nics.ptr[0].mac, mac);
  assert_string_equal (mac, "00:16:3e:01:02:03");
  assert_true (pkg.manifest);
  assert_int_equal (pkg.compressed, gzip);
  assert_string_equal (image_format (pkg.disks[0]), "raw");
  check_disk (pkg.disks[0], expect);
  ova_pkg_free (&pkg);
}

static void
test_plain_xxhash (void **state)
{
  (void) state;
  read_good ("plain.xva", false, HASH_XXH64);
}

static void
test_gzip_sha1 (void **state)
{
  (void) state;
  read_good ("gz.xva", true, HASH_SHA1);
}

/* An empty keep-alive chunk takes a number but not a place: chunk 2's
 * data goes at 1 MiB, not 2 MiB. */
static void
test_keepalive (void **state)
{
  const unsigned char *expect[4] = { data[0], data[2], data[3], data[0] };
  struct ova_pkg pkg;
  struct xva x;

  (void) state;
  xva_begin (&x, "keep.xva", false);
  add_xml (&x, SIZE);
  add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
  add_chunk (&x, 1, "", 0, HASH_XXH64, false);
  add_chunk (&x, 2, data[2], MIB, HASH_XXH64, false);
  add_chunk (&x, 3, data[3], MIB, HASH_XXH64, false);
  add_chunk (&x, 4, data[0], 512, HASH_XXH64, false);
  add_chunk (&x, 5, "", 0, HASH_XXH64, false);  /* at the end: a no-op */
  xva_end (&x);
  assert_int_equal (xva_read (path ("keep.xva"), work, &pkg), 0);
  check_disk (pkg.disks[0], expect);
  ova_pkg_free (&pkg);
}

/* ---- hostile packages -------------------------------------------------- */

enum defect {
  D_ORDER, D_DUPLICATE, D_MISMATCH, D_BEYOND, D_BEYOND_GAP, D_NO_CHECKSUM,
  D_NO_CHECKSUM_END, D_UNKNOWN, D_SYMLINK, D_TRAVERSAL, D_ABSOLUTE,
  D_DEVICE, D_TRUNCATED, D_FIRST_NOT_0, D_ORPHAN_CHECKSUM, D_MIXED,
  D_XML_NOT_FIRST, D_NO_DATA, D_BAD_HEX, D_SECOND_XML, D_DIR,
  D_HARDLINK,
};

static const struct {
  enum defect d;
  const char *error;
} defects[] = {
  { D_ORDER, "a chunk out of order:" },
  { D_DUPLICATE, "a chunk out of order:" },
  { D_MISMATCH, "checksum mismatch: wrong checksum of" },
  { D_BEYOND, "a chunk beyond the disk's virtual size:" },
  { D_BEYOND_GAP, "a chunk beyond the disk's virtual size:" },
  { D_NO_CHECKSUM, "a chunk without a checksum:" },
  { D_NO_CHECKSUM_END, "a chunk without a checksum:" },
  { D_UNKNOWN, "an unknown member: 'notes.txt'" },
  { D_SYMLINK, "a symbolic link member:" },
  { D_TRAVERSAL, "a member name with '..':" },
  { D_ABSOLUTE, "an absolute member name:" },
  { D_DEVICE, "a member that is not a regular file:" },
  { D_TRUNCATED, "ends before its virtual size" },
  { D_FIRST_NOT_0, "the first chunk of a disk is not 00000000:" },
  { D_ORPHAN_CHECKSUM, "a checksum without its chunk:" },
  { D_MIXED, "a checksum of another kind than the first:" },
  { D_XML_NOT_FIRST, "the first member is not ova.xml" },
  { D_NO_DATA, "no data for the disk" },
  { D_BAD_HEX, "a malformed checksum:" },
  { D_SECOND_XML, "a second ova.xml:" },
  { D_DIR, "a member that is not a regular file: 'ova.xml/'" },
  { D_HARDLINK, "a hard link member:" },
};

static void
make_bad (const char *name, enum defect d)
{
  char n[64];
  struct xva x;

  xva_begin (&x, name, false);
  if (d == D_XML_NOT_FIRST)
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
  add_xml (&x, SIZE);
  switch (d) {
  case D_ORDER:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 3, data[3], 512, HASH_XXH64, false);
    add_chunk (&x, 2, data[2], MIB, HASH_XXH64, false);
    break;
  case D_DUPLICATE:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    break;
  case D_MISMATCH:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 2, data[2], MIB, HASH_XXH64, true);
    break;
  case D_BEYOND:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 3, data[3], MIB, HASH_XXH64, false);
    break;
  case D_BEYOND_GAP:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 99999999, data[3], 512, HASH_XXH64, false);
    break;
  case D_NO_CHECKSUM:
    add_chunk (&x, 0, data[0], MIB, -1, false);
    add_chunk (&x, 3, data[3], 512, HASH_XXH64, false);
    break;
  case D_NO_CHECKSUM_END:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 3, data[3], 512, -1, false);
    break;
  case D_UNKNOWN:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    xva_add (&x, "notes.txt", "hello", 5);
    break;
  case D_SYMLINK:
    snprintf (n, sizeof n, "%s/00000000", ref);
    xva_add_typed (&x, n, NULL, 0, AE_IFLNK, "/etc/passwd");
    break;
  case D_TRAVERSAL:
    snprintf (n, sizeof n, "%s/../../etc/x", ref);
    xva_add (&x, n, "x", 1);
    break;
  case D_ABSOLUTE:
    xva_add (&x, "/etc/x", "x", 1);
    break;
  case D_DEVICE:
    snprintf (n, sizeof n, "%s/00000000", ref);
    xva_add_typed (&x, n, NULL, 0, AE_IFCHR, NULL);
    break;
  case D_TRUNCATED:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 2, data[2], MIB, HASH_XXH64, false);
    break;
  case D_FIRST_NOT_0:
    add_chunk (&x, 1, data[0], MIB, HASH_XXH64, false);
    break;
  case D_ORPHAN_CHECKSUM:
    snprintf (n, sizeof n, "%s/00000000.xxhash", ref);
    xva_add (&x, n, "0123456789ABCDEF", 16);
    break;
  case D_MIXED:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 3, data[3], 512, HASH_SHA1, false);
    break;
  case D_XML_NOT_FIRST:
  case D_NO_DATA:
    break;
  case D_BAD_HEX:
    snprintf (n, sizeof n, "%s/00000000", ref);
    xva_add (&x, n, data[0], 16);
    snprintf (n, sizeof n, "%s/00000000.xxhash", ref);
    xva_add (&x, n, "0123456789ABCDEG", 16);
    break;
  case D_SECOND_XML:
    xva_add (&x, "ova.xml", "x", 1);
    break;
  case D_DIR:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    add_chunk (&x, 3, data[3], 512, HASH_XXH64, false);
    xva_add_typed (&x, "ova.xml", NULL, 0, AE_IFDIR, NULL);
    break;
  case D_HARDLINK:
    add_chunk (&x, 0, data[0], MIB, HASH_XXH64, false);
    {
      struct archive_entry *e = archive_entry_new ();
      snprintf (n, sizeof n, "%s/00000003", ref);
      archive_entry_set_pathname (e, n);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0644);
      archive_entry_set_hardlink (e, "ova.xml");
      assert_int_equal (archive_write_header (x.a, e), ARCHIVE_OK);
      archive_entry_free (e);
    }
    break;
  }
  xva_end (&x);
}

static void
test_hostile (void **state)
{
  size_t i;

  (void) state;
  for (i = 0; i < sizeof defects / sizeof defects[0]; i++) {
    struct ova_pkg pkg;
    char name[32];

    snprintf (name, sizeof name, "bad%zu.xva", i);
    make_bad (name, defects[i].d);
    if (xva_read (path (name), work, &pkg) != -1)
      fail_msg ("defect %zu accepted", i);
    if (strstr (error_get (), defects[i].error) == NULL)
      fail_msg ("defect %zu: got '%s', want '%s'", i, error_get (),
                defects[i].error);
    assert_non_null (strstr (error_get (), "xva: '"));
    assert_null (strchr (error_get (), '\n'));
    assert_true (workdir_empty ());
    assert_null (pkg.disks[0]);
    ova_pkg_free (&pkg);
  }
}

/* The tar cut short, inside a chunk: libarchive's error, one line. */
static void
test_cut (void **state)
{
  struct ova_pkg pkg;
  struct stat st;

  (void) state;
  make_good ("cut.xva", false, HASH_XXH64);
  assert_int_equal (stat (path ("cut.xva"), &st), 0);
  assert_int_equal (truncate (path ("cut.xva"), st.st_size / 2), 0);
  assert_int_equal (xva_read (path ("cut.xva"), work, &pkg), -1);
  assert_non_null (strstr (error_get (), "xva: '"));
  assert_true (workdir_empty ());
  ova_pkg_free (&pkg);
  assert_int_equal (xva_read (work, work, &pkg), -1);
  assert_non_null (strstr (error_get (), "not an XVA archive"));
  ova_pkg_free (&pkg);
}

/* ---- probing ----------------------------------------------------------- */

static void
test_probe (void **state)
{
  struct xva x;
  FILE *fp;

  (void) state;
  xva_begin (&x, "vm.ova", false);
  xva_add (&x, "vm.ovf", "<Envelope/>", 11);
  xva_add (&x, "ova.xml", "x", 1);
  xva_end (&x);
  assert_false (xva_probe (path ("vm.ova")));    /* the name does not count */
  fp = fopen (path ("junk"), "w");
  assert_non_null (fp);
  fputs ("not a tar at all", fp);
  fclose (fp);
  assert_false (xva_probe (path ("junk")));
  assert_false (xva_probe (work));     /* a directory */
  assert_false (xva_probe (path ("missing")));
  make_good ("named.ova", false, HASH_XXH64);
  assert_true (xva_probe (path ("named.ova")));
  make_bad ("misplaced.xva", D_XML_NOT_FIRST);    /* a chunk first */
  assert_true (xva_probe (path ("misplaced.xva")));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup (test_plain_xxhash, setup),
    cmocka_unit_test_setup (test_gzip_sha1, setup),
    cmocka_unit_test_setup (test_keepalive, setup),
    cmocka_unit_test_setup (test_probe, setup),
    cmocka_unit_test_setup (test_hostile, setup),
    cmocka_unit_test_setup (test_cut, setup),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

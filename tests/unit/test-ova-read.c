/* test-ova-read.c: the OVA reader's extraction bounds, its free-space
 * check, and inspection (ova/ova-read.c), on small synthetic packages
 * written with libarchive and with Ferry's own OVA writer. */
#include "tests/unit/unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/hash.h"
#include "lib/common/strbuf.h"
#include "ova/ova-read.h"
#include "ova/ova-write.h"
#include "ova/ovf.h"

static char dir[] = "/tmp/ferry-test-ova-read.XXXXXX";

static char *
path_of (const char *name)
{
  static char buf[8][256];
  static int k;

  k = (k + 1) % 8;
  snprintf (buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

/* The OVF of a one-disk VM: disk member "d.vmdk", vmdk, `capacity`, with
 * no ovf:size (file_size 0). */
static void
make_ovf (uint64_t capacity, struct strbuf *out)
{
  struct vm vm;

  vm_init (&vm);
  vm.name = strdup ("t");
  vm.cpus = 1;
  vm.memory_mib = 64;
  assert_int_equal (vm_add_disk (&vm, "d.vmdk", "vmdk", capacity,
                                 VM_BUS_SCSI), 0);
  assert_int_equal (ovf_write (&vm, OVF_VMWARE, out), 0);
  assert_null (strstr (out->buf, "ovf:size"));
  vm_free (&vm);
}

static void
add_entry (struct archive *a, const char *name, const void *data,
           size_t len, size_t zeros)
{
  struct archive_entry *e = archive_entry_new ();
  static const char zero[65536];

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) (len + zeros));
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  if (len)
    assert_int_equal (archive_write_data (a, data, len), (la_ssize_t) len);
  for (; zeros; zeros -= MIN (zeros, sizeof zero))
    assert_true (archive_write_data (a, zero, MIN (zeros, sizeof zero)) > 0);
  archive_entry_free (e);
}

/* A gzip-compressed OVA: the .ovf, then "d.vmdk": a KDMV header block
 * followed by `zeros` zero bytes (gzip makes it tiny whatever its size). */
static void
write_gz_ova (const char *path, uint64_t capacity, size_t zeros)
{
  struct archive *a = archive_write_new ();
  struct strbuf ovf = STRBUF_INIT;
  char head[512] = "KDMV";

  make_ovf (capacity, &ovf);
  archive_write_set_format_gnutar (a);
  archive_write_add_filter_gzip (a);
  assert_int_equal (archive_write_open_filename (a, path), ARCHIVE_OK);
  add_entry (a, "t.ovf", ovf.buf, ovf.len, 0);
  add_entry (a, "d.vmdk", head, sizeof head, zeros);
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  strbuf_release (&ovf);
}

static void
test_bound (void **state)
{
  (void) state;
  assert_int_equal (ova_extract_bound ("raw", 1 << 20), 1 << 20);
  /* Room for metadata, at least the capacity's 1/16 plus 16 MiB. */
  assert_int_equal (ova_extract_bound ("vmdk", 1 << 20),
                    (1 << 20) + (1 << 16) + (16 << 20));
  assert_true (ova_extract_bound ("vhd", 1ull << 40) > (1ull << 40));
  assert_true (ova_extract_bound ("qcow2", 1ull << 40) <
               (1ull << 40) + (1ull << 37));
  assert_int_equal (ova_extract_bound ("vmdk", UINT64_MAX - 5), UINT64_MAX);
}

/* No ovf:size in a compressed OVA: the member is cut off at the bound. */
static void
test_compressed_cap (void **state)
{
  struct ova_pkg pkg;
  uint64_t cap = 65536;

  (void) state;
  mkdir (path_of ("work"), 0700);
  write_gz_ova (path_of ("big.ova"), cap,
                (size_t) ova_extract_bound ("vmdk", cap));
  assert_int_equal (ova_read (path_of ("big.ova"), path_of ("work"), &pkg),
                    -1);
  assert_non_null (strstr (error_get (), "larger than its OVF capacity "
                           "allows: 'd.vmdk'"));
  /* Nothing was left in the work directory. */
  assert_int_equal (access (path_of ("work/.disk1"), F_OK), -1);
}

/* Just under the bound, the member passes the cap (and then fails as the
 * bogus VMDK it is, after extraction). */
static void
test_compressed_under_cap (void **state)
{
  struct ova_pkg pkg;
  uint64_t cap = 65536;

  (void) state;
  write_gz_ova (path_of ("ok.ova"), cap,
                (size_t) ova_extract_bound ("vmdk", cap) - 512);
  assert_int_equal (ova_read (path_of ("ok.ova"), path_of ("work"), &pkg),
                    -1);
  assert_null (strstr (error_get (), "allows"));
  assert_non_null (strstr (error_get (), "unsupported version"));
  assert_int_equal (access (path_of ("work/.disk1"), F_OK), -1);
}

static void
test_space (void **state)
{
  (void) state;
  assert_int_equal (ova_check_space (dir, "d.vmdk", 4096), 0);
  assert_int_equal (ova_check_space (dir, "d.vmdk", UINT64_MAX / 2), -1);
  assert_non_null (strstr (error_get (), "not enough space in '"));
  assert_non_null (strstr (error_get (), dir));
  assert_non_null (strstr (error_get (), "to extract 'd.vmdk': "
                           "9223372036854775807 bytes needed"));
  assert_int_equal (ova_check_space (path_of ("absent"), "d", 1), -1);
}

/* A package made by the OVA writer from a 1 MiB raw disk. */
static void
write_real_ova (const char *path, const struct ova_signer *signer)
{
  struct ova_write_opts o = { .flavour = OVF_XENSERVER,
                              .manifest = HASH_SHA1, .stem = "rt",
                              .overwrite = true, .quiet = true,
                              .signer = signer };
  static struct ova_result res;
  struct ova_disk_in in = { .src = NULL };
  struct vm vm;
  int fd = open (path_of ("src.img"), O_RDWR | O_CREAT | O_TRUNC, 0644);

  assert_true (fd >= 0);
  assert_int_equal (pwrite (fd, "ferry", 5, 4096), 5);
  assert_int_equal (ftruncate (fd, 1 << 20), 0);
  close (fd);
  assert_non_null (in.src = image_open (path_of ("src.img"),
                                        IMAGE_OPEN_RAW));
  vm_init (&vm);
  vm.name = strdup ("rt");
  vm.cpus = 2;
  vm.memory_mib = 256;
  assert_int_equal (vm_add_disk (&vm, "rt-disk1.vhd", "vhd", 1 << 20,
                                 VM_BUS_XEN), 0);
  assert_int_equal (vm_add_nic (&vm, (const uint8_t *) "\x00\x16\x3e\x01"
                                "\x02\x03", "br0", NULL), 0);
  assert_int_equal (ova_write (path, &vm, &in, &o, &res), 0);
  image_close (in.src);
  vm_free (&vm);
}

static void
test_inspect (void **state)
{
  struct pkg_info pi;

  (void) state;
  write_real_ova (path_of ("rt.ova"), NULL);
  assert_int_equal (ova_inspect (path_of ("rt.ova"), NULL, &pi), 0);
  assert_int_equal (pi.kind, PKG_OVA);
  assert_string_equal (pi.flavour, "xenserver");
  assert_int_equal (pi.members, 3);
  assert_string_equal (pi.pkg.vm.name, "rt");
  assert_int_equal (pi.pkg.vm.cpus, 2);
  assert_int_equal (pi.pkg.vm.disks.len, 1);
  assert_true (pi.disks[0].present);
  assert_string_equal (pi.disks[0].detected, "vhd");
  assert_int_equal (pi.disks[0].header_capacity, 1 << 20);
  assert_int_equal (pi.disks[0].bytes, pi.pkg.vm.disks.ptr[0].file_size);
  assert_true (pi.manifest && pi.manifest_ok);
  assert_int_equal (pi.manifest_kind, HASH_SHA1);
  assert_false (pi.cert);
  assert_null (pi.problem);
  /* Nothing was extracted: no image is open. */
  assert_null (pi.pkg.disks[0]);
  pkg_info_free (&pi);
  /* The same package reads and opens for import too. */
  {
    struct ova_pkg pkg;
    mkdir (path_of ("work"), 0700);
    assert_int_equal (ova_read (path_of ("rt.ova"), path_of ("work"), &pkg),
                      0);
    assert_non_null (pkg.disks[0]);
    assert_false (pkg.signature);
    ova_pkg_free (&pkg);
  }
}

/* A manifest that does not match is a reported problem, not a failure. */
static void
test_inspect_mismatch (void **state)
{
  struct pkg_info pi;
  size_t len;
  char *buf = unit_slurp (path_of ("rt.ova"), &len);
  char *p = memmem (buf, len, "SHA1(rt.ovf)= ", 14);
  int fd;

  (void) state;
  assert_non_null (p);
  p[14] = p[14] == '0' ? '1' : '0';
  fd = open (path_of ("bad.ova"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_int_equal (write (fd, buf, len), (ssize_t) len);
  close (fd);
  free (buf);
  assert_int_equal (ova_inspect (path_of ("bad.ova"), NULL, &pi), 0);
  assert_true (pi.manifest);
  assert_false (pi.manifest_ok);
  assert_non_null (pi.problem);
  assert_non_null (strstr (pi.problem, "manifest mismatch"));
  pkg_info_free (&pi);
}

/* Signed by the writer (rt.cert last), verified by the reader. */
static void
test_signed (void **state)
{
  char cmd[1024];
  struct ova_signer *s;
  struct ova_pkg pkg;
  struct pkg_info pi;

  (void) state;
  snprintf (cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt "
            "ec_paramgen_curve:P-256 -nodes -subj /CN=rt -days 1 "
            "-keyout '%s' -out '%s' 2>/dev/null", path_of ("k.pem"),
            path_of ("c.pem"));
  assert_int_equal (system (cmd), 0);
  assert_non_null (s = ova_signer_load (path_of ("k.pem"),
                                        path_of ("c.pem")));
  write_real_ova (path_of ("signed.ova"), s);
  ova_signer_free (s);
  assert_int_equal (ova_read_ca (path_of ("signed.ova"), path_of ("work"),
                                 path_of ("c.pem"), &pkg), 0);
  assert_true (pkg.signature);
  assert_true (pkg.chain_checked);
  assert_string_equal (pkg.signer, "CN=rt");
  ova_pkg_free (&pkg);
  assert_int_equal (ova_inspect (path_of ("signed.ova"), NULL, &pi), 0);
  assert_int_equal (pi.members, 4);
  assert_true (pi.cert && pi.pkg.signature && pi.manifest_ok);
  assert_false (pi.pkg.chain_checked);
  pkg_info_free (&pi);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bound),
    cmocka_unit_test (test_compressed_cap),
    cmocka_unit_test (test_compressed_under_cap),
    cmocka_unit_test (test_space),
    cmocka_unit_test (test_inspect),
    cmocka_unit_test (test_inspect_mismatch),
    cmocka_unit_test (test_signed),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

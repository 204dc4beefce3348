/* test-ova-import.c: the import job's refusals (ova/import.h) — each one
 * line, made before anything is written, leaving nothing in the scratch
 * directory: --connect for a target libvirt does not define, --start
 * without --connect, a URI that does not answer, a libvirt offering no
 * KVM or QEMU guests, or no Xen guests for a Xen domain (libvirt's
 * in-process test driver), a package that
 * cannot be read (its staging removed); what counts as an empty DIR; the
 * VM peeked from a package's descriptor alone (OVA tar, past "./" and a
 * manifest; XVA; unpacked directory), and what is not peeked (a tar not
 * starting with its descriptor, a fifo). */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "ova/import.h"
#include "ova/ovf.h"
#include "ova/target.h"
#include "ova/xva-xml.h"

static char dir[] = "/tmp/ferry-test-ova-import.XXXXXX";

/* The scratch directory holds nothing but `keep` (NULL: nothing). */
static void
assert_only (const char *keep)
{
  DIR *d = opendir (dir);
  struct dirent *de;

  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..") &&
        (keep == NULL || strcmp (de->d_name, keep)))
      fail_msg ("left behind: %s", de->d_name);
  closedir (d);
}

/* Run an import of a package that does not exist into DIR/out. */
static int
run (const char *target, const char *connect, bool start)
{
  static struct ova_import job;
  char out[256];
  int r;

  snprintf (out, sizeof out, "%s/out", dir);
  r = ova_import_run (&job, &(struct ova_import_opts) {
      .package = "/nonexistent/vm.ova", .output = out,
      .target = ova_target_find (target), .connect = connect,
      .start = start, .quiet = true,
    });
  ova_import_free (&job);
  return r;
}

static void
test_connect_targets (void **state)
{
  (void) state;
  assert_int_equal (run ("hyperv", "test:///default", false), -1);
  assert_string_equal (error_get (), "import: --connect 'test:///default': "
                       "only a libvirt domain is defined in libvirt (--to "
                       "libvirt, raw or xen), not --to hyperv");
  assert_int_equal (run ("vmware", "test:///default", true), -1);
  assert_non_null (strstr (error_get (), "not --to vmware"));
  assert_int_equal (run ("libvirt", NULL, true), -1);
  assert_non_null (strstr (error_get (), "--start needs --connect URI"));
  assert_only (NULL);
}

static void
test_connect_refused (void **state)
{
  (void) state;
  assert_int_equal (run ("libvirt", "qemu+unix:///system?socket="
                         "/nonexistent/sock", true), -1);
  assert_non_null (strstr (error_get (), "libvirt 'qemu+unix:///system?"
                           "socket=/nonexistent/sock': cannot connect: "));
  assert_null (strchr (error_get (), '\n'));
  /* The test driver offers 'test' domains only: a KVM domain cannot be
   * defined there, as kvm nor as qemu. */
  assert_int_equal (run ("raw", "test:///default", false), -1);
  assert_non_null (strstr (error_get (), "offers no x86_64 hvm guests"));
  assert_only (NULL);
}

/* A Xen domain only where libvirt offers Xen guests. */
static void
test_xen_refused (void **state)
{
  (void) state;
  assert_int_equal (run ("xen", "test:///default", false), -1);
  assert_string_equal (error_get (), "libvirt 'test:///default': offers no "
                       "x86_64 xen guests in domains of type xen");
  assert_only (NULL);
}

/* A package that cannot be read: its staging goes. */
static void
test_package_fails_after_staging (void **state)
{
  (void) state;
  assert_int_equal (run ("libvirt", NULL, false), -1);
  assert_non_null (strstr (error_get (), "/nonexistent/vm.ova"));
  assert_only (NULL);
}

static void
test_dir_is_empty (void **state)
{
  char p[256], f[300];
  FILE *fp;

  (void) state;
  snprintf (p, sizeof p, "%s/d", dir);
  assert_false (ova_import_dir_is_empty (p));
  assert_int_equal (mkdir (p, 0755), 0);
  assert_true (ova_import_dir_is_empty (p));
  snprintf (f, sizeof f, "%s/.hidden", p);
  assert_non_null (fp = fopen (f, "w"));
  fclose (fp);
  assert_false (ova_import_dir_is_empty (p));
  assert_false (ova_import_dir_is_empty (f));
  assert_int_equal (unlink (f), 0);
  assert_int_equal (rmdir (p), 0);
}

/* ---- peeking ------------------------------------------------------------- */

static const char peek_uuid[] = "8b2a6fc6-0000-4000-8000-0000000000c1";

/* The descriptor of VM `name` with one 1 GiB disk: an OVF or ova.xml. */
static void
descriptor (const char *name, bool xva, struct strbuf *out)
{
  struct vm vm;
  uint64_t size = 1u << 30;

  vm_init (&vm);
  assert_non_null (vm.name = strdup (name));
  assert_int_equal (ids_uuid_parse (peek_uuid, vm.uuid), 0);
  vm.has_uuid = true;
  assert_int_equal (vm_add_disk (&vm, xva ? "Ref:2" : "d.vmdk",
                                 xva ? "raw" : "vmdk", size, VM_BUS_SCSI), 0);
  assert_int_equal (xva ? xva_xml_write (&vm, &size, out)
                    : ovf_write (&vm, OVF_VMWARE, out), 0);
  vm_free (&vm);
}

static void
add (struct archive *a, const char *name, const char *data, bool is_dir)
{
  struct archive_entry *e = archive_entry_new ();
  size_t len = data ? strlen (data) : 0;

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, is_dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) len);
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  if (len)
    assert_int_equal (archive_write_data (a, data, len), (la_ssize_t) len);
  archive_entry_free (e);
}

/* A gzip tar at `path`: "./", then the members named in `names` ("=D":
 * the descriptor, others: a short text). */
static void
write_tar (const char *path, const char *const *names, const char *desc)
{
  struct archive *a = archive_write_new ();
  size_t i;

  archive_write_set_format_gnutar (a);
  archive_write_add_filter_gzip (a);
  assert_int_equal (archive_write_open_filename (a, path), ARCHIVE_OK);
  add (a, "./", NULL, true);
  for (i = 0; names[i]; i += 2)
    add (a, names[i], strcmp (names[i + 1], "=D") ? names[i + 1] : desc,
         false);
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

/* Peek `path`: the expected outcome, and for a true one the VM's name and
 * UUID. */
static void
assert_peek (const char *path, bool expect)
{
  struct vm vm;
  char u[37];

  vm_init (&vm);
  assert_int_equal (ova_import_peek (path, &vm), expect);
  if (expect) {
    assert_string_equal (vm.name, "peek-vm");
    ids_uuid_format (vm.uuid, u);
    assert_string_equal (u, peek_uuid);
  }
  vm_free (&vm);
}

static void
test_peek (void **state)
{
  struct strbuf ovf = STRBUF_INIT, xml = STRBUF_INIT;
  char p[256], q[300];
  FILE *fp;

  (void) state;
  descriptor ("peek-vm", false, &ovf);
  descriptor ("peek-vm", true, &xml);
  snprintf (p, sizeof p, "%s/a.ova", dir);
  write_tar (p, (const char *const[]) { "vm.mf", "SHA256(x)= 00\n",
                                        "vm.ovf", "=D", "d.vmdk", "KDMV",
                                        NULL }, ovf.buf);
  assert_peek (p, true);
  /* The descriptor after a disk: not peeked (ova_read refuses it). */
  write_tar (p, (const char *const[]) { "d.vmdk", "KDMV", "vm.ovf", "=D",
                                        NULL }, ovf.buf);
  assert_peek (p, false);
  snprintf (p, sizeof p, "%s/a.xva", dir);
  write_tar (p, (const char *const[]) { "ova.xml", "=D", NULL }, xml.buf);
  assert_peek (p, true);
  /* An unpacked OVA. */
  snprintf (p, sizeof p, "%s/unpacked", dir);
  assert_int_equal (mkdir (p, 0755), 0);
  snprintf (q, sizeof q, "%s/vm.ovf", p);
  assert_non_null (fp = fopen (q, "w"));
  assert_int_equal (fwrite (ovf.buf, 1, ovf.len, fp), ovf.len);
  assert_int_equal (fclose (fp), 0);
  assert_peek (p, true);
  /* A fifo is never opened: reading it would take the import's data. */
  snprintf (p, sizeof p, "%s/fifo", dir);
  assert_int_equal (mkfifo (p, 0600), 0);
  assert_peek (p, false);
  snprintf (p, sizeof p, "%s/nothing", dir);
  assert_peek (p, false);
  strbuf_release (&ovf);
  strbuf_release (&xml);
}

/* A package naming a domain libvirt has is refused before DIR is made:
 * here DIR's parent does not exist, which the staging would fail on. */
static void
test_refused_before_dir (void **state)
{
  static struct ova_import job;
  struct strbuf ovf = STRBUF_INIT;
  char p[256];

  (void) state;
  descriptor ("test", false, &ovf);     /* the test driver's own domain */
  snprintf (p, sizeof p, "%s/test.ova", dir);
  write_tar (p, (const char *const[]) { "vm.ovf", "=D", NULL }, ovf.buf);
  assert_int_equal (ova_import_run (&job, &(struct ova_import_opts) {
      .package = p, .output = "/nonexistent/out",
      .target = ova_target_find ("xen"), .connect = "test:///default",
      .quiet = true,
    }), -1);
  assert_string_equal (error_get (), "libvirt 'test:///default': domain "
                       "'test' is already defined: refusing to replace it");
  ova_import_free (&job);
  assert_int_equal (unlink (p), 0);
  strbuf_release (&ovf);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_connect_targets),
    cmocka_unit_test (test_connect_refused),
    cmocka_unit_test (test_xen_refused),
    cmocka_unit_test (test_package_fails_after_staging),
    cmocka_unit_test (test_dir_is_empty),
    cmocka_unit_test (test_peek),
    cmocka_unit_test (test_refused_before_dir),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

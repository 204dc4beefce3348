/* test-ova-import.c: the import job's refusals (ova/import.h) — each one
 * line, made before anything is written, leaving nothing in the scratch
 * directory: --connect for a target libvirt does not define, --start
 * without --connect, a URI that does not answer, a libvirt offering no
 * KVM or QEMU guests (libvirt's in-process test driver), a package that
 * cannot be read (its staging removed); and what counts as an empty DIR. */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <string.h>

#include "lib/common/error.h"
#include "ova/import.h"
#include "ova/target.h"

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

/* A Xen domain is not asked the hvm question: the job goes on to DIR,
 * then the package fails, and the staging goes with it. */
static void
test_package_fails_after_staging (void **state)
{
  (void) state;
  assert_int_equal (run ("xen", "test:///default", false), -1);
  assert_non_null (strstr (error_get (), "/nonexistent/vm.ova"));
  assert_only (NULL);
  assert_int_equal (run ("libvirt", NULL, false), -1);
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

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_connect_targets),
    cmocka_unit_test (test_connect_refused),
    cmocka_unit_test (test_package_fails_after_staging),
    cmocka_unit_test (test_dir_is_empty),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

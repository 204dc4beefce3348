/* test-pipeline.c: what the conversion pipeline (pipeline.h) refuses
 * before any appliance starts: no or an unknown target, neither or both of
 * in place, an output and an overlay, target none outside an overlay, a driver folder without a storage driver, an
 * image that cannot be converted in place; the image stays untouched and
 * no output or overlay appears. */
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/guest/pipeline.h"

static char tmpdir[] = "/tmp/ferry-unit-pipeline.XXXXXX";

static void
refused (const struct guest_pipeline_opts *o, const char *image,
         const char *msg)
{
  struct guest_pipeline_result res = { 0 };

  assert_int_equal (guest_pipeline_run (image, o, &res), -1);
  if (strstr (error_get (), msg) == NULL)
    fail_msg ("expected '%s', got '%s'", msg, error_get ());
  assert_int_equal (res.report.changes.len, 0);
  assert_null (res.root);
  guest_pipeline_result_free (&res);
}

static void
test_check (void **state)
{
  char drv[1100], img[1100], out[1100];

  (void) state;
  snprintf (drv, sizeof drv, "%s/drv", tmpdir);
  snprintf (img, sizeof img, "%s/none.img", tmpdir);
  snprintf (out, sizeof out, "%s/out.qcow2", tmpdir);
  assert_int_equal (mkdir (drv, 0755), 0);
  refused (&(struct guest_pipeline_opts) { .output = out,
             .output_format = "qcow2" }, img, "no target");
  refused (&(struct guest_pipeline_opts) { .target = "vmware",
             .in_place = true }, img, "unknown target 'vmware'");
  refused (&(struct guest_pipeline_opts) { .target = "kvm" }, img,
           "either in place, into an output or in an overlay");
  refused (&(struct guest_pipeline_opts) { .target = "kvm", .in_place = true,
             .output = out, .output_format = "qcow2" }, img,
           "either in place, into an output or in an overlay");
  refused (&(struct guest_pipeline_opts) { .target = "kvm", .overlay = out,
             .output = out, .output_format = "qcow2" }, img,
           "either in place, into an output or in an overlay");
  /* "none" converts nothing: only deploy's overlay runs take it */
  refused (&(struct guest_pipeline_opts) { .target = "none",
             .in_place = true }, img, "unknown target 'none'");
  refused (&(struct guest_pipeline_opts) { .target = "kvm", .output = out },
           img, "no output format");
  refused (&(struct guest_pipeline_opts) { .target = "kvm", .drivers = drv,
             .output = out, .output_format = "qcow2" }, img,
           "no storage driver for kvm among 0 .inf files");
  refused (&(struct guest_pipeline_opts) { .target = "kvm", .output = out,
             .output_format = "qcow2" }, img, "none.img");
  assert_int_equal (access (out, F_OK), -1);
}

/* Only raw and qcow2 can be written back safely. */
static void
test_in_place_format (void **state)
{
  struct image *im;
  char img[1100];
  struct stat st;

  (void) state;
  snprintf (img, sizeof img, "%s/disk.vhd", tmpdir);
  im = image_create ("vhd", img, 64 << 20, NULL);
  assert_non_null (im);
  assert_int_equal (image_close (im), 0);
  assert_int_equal (stat (img, &st), 0);
  refused (&(struct guest_pipeline_opts) { .target = "xen",
             .in_place = true }, img,
           "in-place conversion of vhd images is not supported");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_check),
    cmocka_unit_test (test_in_place_format),
  };

  return UNIT_RUN_IN_TMPDIR (tests, tmpdir);
}

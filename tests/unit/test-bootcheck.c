/* test-bootcheck.c: the boot check's reading of a console (bootcheck.h),
 * with a stand-in qemu-system-x86_64 on PATH that prints what a guest
 * would and checks the command line it was given. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "lib/guest/bootcheck.h"

static char dir[] = "/tmp/ferry-bootcheck.XXXXXX";

/* Install the stand-in: it writes its arguments to DIR/args, then runs
 * the shell snippet `body` (with $dir set). */
static void
fake_qemu (const char *body)
{
  char path[256];
  FILE *fp;

  snprintf (path, sizeof path, "%s/qemu-system-x86_64", dir);
  fp = fopen (path, "w");
  assert_non_null (fp);
  fprintf (fp, "#!/bin/sh\ndir=%s\necho \"$@\" > $dir/args\n%s\n", dir, body);
  assert_int_equal (fclose (fp), 0);
  assert_int_equal (chmod (path, 0755), 0);
}

static int
setup (void **state)
{
  char path[4096];

  (void) state;
  assert_non_null (mkdtemp (dir));
  snprintf (path, sizeof path, "%s:%s", dir, getenv ("PATH"));
  setenv ("PATH", path, 1);
  /* no KVM attempt: the stand-in would be run twice */
  setenv ("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg", 1);
  return 0;
}

static int
teardown (void **state)
{
  char cmd[128];

  (void) state;
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system (cmd) == 0 ? 0 : -1;
}

static void
test_classify (void **state)
{
  (void) state;
  assert_int_equal (bootcheck_classify ("Debian GNU/Linux 12 ferry-ref "
                                        "ttyS0\n\nferry-ref login: "),
                    BOOTCHECK_BOOTED);
  assert_int_equal (bootcheck_classify ("[  OK  ] Reached target "
                                        "Multi-User System."),
                    BOOTCHECK_BOOTED);
  assert_int_equal (bootcheck_classify ("Failed to mount /dev/vda1 as root "
                                        "file system."), BOOTCHECK_NO_ROOT);
  assert_int_equal (bootcheck_classify ("Gave up waiting for root file "
                                        "system device."), BOOTCHECK_NO_ROOT);
  assert_int_equal (bootcheck_classify ("(initramfs) "), BOOTCHECK_NO_ROOT);
  assert_int_equal (bootcheck_classify ("You are in emergency mode."),
                    BOOTCHECK_NO_ROOT);
  assert_int_equal (bootcheck_classify ("Kernel panic - not syncing: VFS"),
                    BOOTCHECK_PANIC);
  assert_int_equal (bootcheck_classify ("Loading Linux 6.1.0 ..."),
                    BOOTCHECK_TIMEOUT);
}

static struct bootcheck_opts
opts (enum bootcheck_bus bus, unsigned timeout)
{
  struct bootcheck_opts o = { .image = "/x/disk.qcow2", .format = "qcow2",
                              .bus = bus, .timeout = timeout };
  return o;
}

static char *
args (void)
{
  char path[256];
  size_t len;

  snprintf (path, sizeof path, "%s/args", dir);
  return unit_slurp (path, &len);
}

static void
test_booted (void **state)
{
  struct bootcheck_opts o = opts (BOOTCHECK_VIRTIO, 30);
  struct bootcheck_result r;
  char *a;

  (void) state;
  /* the login prompt has no newline, and arrives in two writes */
  fake_qemu ("printf 'Loading Linux ...\\r\\nDebian GNU/Linux 12 ttyS0\\r\\n"
             "\\r\\nferry-ref lo'; sleep 1; printf 'gin: '; sleep 60");
  assert_int_equal (bootcheck_run (&o, &r), 0);
  assert_int_equal (r.outcome, BOOTCHECK_BOOTED);
  assert_string_equal (r.evidence, "ferry-ref login: ");
  assert_string_equal (r.accel, "tcg");
  assert_true (r.seconds >= 1 && r.seconds < 20);
  assert_non_null (strstr (r.tail, "Debian GNU/Linux 12"));
  a = args ();
  /* never written: a snapshot; the target's devices; console on stdio */
  assert_non_null (strstr (a, "-snapshot"));
  assert_non_null (strstr (a, "file=/x/disk.qcow2,format=qcow2,if=none"));
  assert_non_null (strstr (a, "-device virtio-blk-pci,drive=d"));
  assert_non_null (strstr (a, "-device virtio-net-pci,netdev=n"));
  assert_non_null (strstr (a, "-serial stdio"));
  assert_non_null (strstr (a, "-accel tcg"));
  free (a);
}

static void
test_root_failed (void **state)
{
  struct bootcheck_opts o = opts (BOOTCHECK_AHCI, 30);
  struct bootcheck_result r;
  char *a;

  (void) state;
  fake_qemu ("printf 'Begin: Mounting root file system ... "
             "mount: No such device\\nFailed to mount /dev/vda1 as root "
             "file system.\\n'; sleep 60");
  assert_int_equal (bootcheck_run (&o, &r), 0);
  assert_int_equal (r.outcome, BOOTCHECK_NO_ROOT);
  assert_string_equal (r.evidence,
                       "Failed to mount /dev/vda1 as root file system.");
  a = args ();
  assert_non_null (strstr (a, "-device ahci,id=ahci -device "
                              "ide-hd,bus=ahci.0,drive=d"));
  assert_non_null (strstr (a, "-device e1000,netdev=n"));
  free (a);
}

static void
test_panic_nvme (void **state)
{
  struct bootcheck_opts o = opts (BOOTCHECK_NVME, 30);
  struct bootcheck_result r;
  char *a;

  (void) state;
  fake_qemu ("printf '[ 1.0] Kernel panic - not syncing: VFS: Unable to "
             "mount root fs\\n'; sleep 60");
  assert_int_equal (bootcheck_run (&o, &r), 0);
  assert_int_equal (r.outcome, BOOTCHECK_PANIC);
  assert_non_null (strstr (r.evidence, "Kernel panic"));
  a = args ();
  assert_non_null (strstr (a, "-device nvme,serial=ferry0001,drive=d"));
  free (a);
}

static void
test_timeout_and_exit (void **state)
{
  struct bootcheck_opts o = opts (BOOTCHECK_VIRTIO, 2);
  struct bootcheck_result r;

  (void) state;
  fake_qemu ("printf 'Loading Linux ...\\n'; sleep 60");
  assert_int_equal (bootcheck_run (&o, &r), 0);
  assert_int_equal (r.outcome, BOOTCHECK_TIMEOUT);
  assert_true (r.seconds >= 2 && r.seconds < 10);
  fake_qemu ("echo 'qemu: could not open disk image' >&2; exit 1");
  assert_int_equal (bootcheck_run (&o, &r), 0);
  assert_int_equal (r.outcome, BOOTCHECK_QEMU_EXIT);
  assert_string_equal (r.evidence, "qemu: could not open disk image");
  /* a path qemu would split */
  o.image = "/x/a,b.qcow2";
  assert_int_equal (bootcheck_run (&o, &r), -1);
}

static void
test_names (void **state)
{
  enum bootcheck_bus b;

  (void) state;
  assert_int_equal (bootcheck_bus_parse ("nvme", &b), 0);
  assert_int_equal (b, BOOTCHECK_NVME);
  assert_string_equal (bootcheck_bus_name (b), "nvme");
  assert_int_equal (bootcheck_bus_parse ("ide", &b), -1);
  assert_string_equal (bootcheck_outcome_name (BOOTCHECK_NO_ROOT),
                       "root-failed");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_classify),
    cmocka_unit_test (test_booted),
    cmocka_unit_test (test_root_failed),
    cmocka_unit_test (test_panic_nvme),
    cmocka_unit_test (test_timeout_and_exit),
    cmocka_unit_test (test_names),
  };

  return cmocka_run_group_tests (tests, setup, teardown);
}

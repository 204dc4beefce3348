/* test-hyperv.c: the Hyper-V PowerShell script (ova/hyperv.c) — quoting
 * of names and paths, disk placement per generation, pinned MACs. */
#include "tests/unit/unit.h"

#include <string.h>

#include "lib/common/error.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"
#include "ova/hyperv.h"

static char dir[] = "/tmp/ferry-test-hyperv.XXXXXX";

static void
make_vm (struct vm *vm, const char *name, size_t n_disks)
{
  const uint8_t mac[6] = { 0x00, 0x15, 0x5d, 0x0a, 0x0b, 0x0c };
  char file[64];
  size_t i;

  vm_init (vm);
  vm->name = strdup (name);
  vm->cpus = 2;
  vm->memory_mib = 768;
  for (i = 0; i < n_disks; i++) {
    snprintf (file, sizeof file, "web-disk%zu.vhd", i + 1);
    assert_int_equal (vm_add_disk (vm, file, "vhd", 1 << 20, VM_BUS_IDE), 0);
  }
  assert_int_equal (vm_add_nic (vm, mac, "Default Switch", NULL), 0);
}

static char *
script (const struct vm *vm, const char *const *paths)
{
  struct strbuf sb = STRBUF_INIT;

  assert_int_equal (hyperv_script (&sb, "web", vm, paths), 0);
  return sb.buf;
}

/* A quote in the name is doubled; control characters and non-ASCII
 * become '_' (PowerShell takes the Unicode quotes for ' too). */
static void
test_quote_name (void **state)
{
  struct vm vm;
  char *s;

  (void) state;
  make_vm (&vm, "Bob's 'web' VM", 1);
  s = script (&vm, NULL);
  assert_non_null (strstr (s, "\n$name = 'Bob''s ''web'' VM'\n"));
  free (s);
  free (vm.name);
  vm.name = strdup ("evil\u2019; Remove-Item C:\\ -Recurse #\n");
  s = script (&vm, NULL);
  assert_non_null (strstr (s, "\n$name = 'evil___; Remove-Item C:\\ "
                           "-Recurse #_'\n"));
  free (s);
  free (vm.nics.ptr[0].network);
  vm.nics.ptr[0].network = strdup ("it's");
  s = script (&vm, NULL);
  assert_non_null (strstr (s, "\n$sw = 'it''s'\n"));
  free (s);
  vm_free (&vm);
}

/* Only the last component of a disk's path is used, quoted: spaces stay
 * inside the string, a quote cannot end it. */
static void
test_quote_paths (void **state)
{
  const char *const paths[] = { "/srv/my vms/web/web disk1.vhd",
                                "/srv/my vms/web/o'neil.vhd" };
  struct vm vm;
  char *s;

  (void) state;
  make_vm (&vm, "web", 2);
  s = script (&vm, paths);
  assert_non_null (strstr (s, "$disk = Join-Path $PSScriptRoot "
                           "'web disk1.vhd'\n"));
  assert_non_null (strstr (s, "$disk = Join-Path $PSScriptRoot "
                           "'o''neil.vhd'\n"));
  assert_null (strstr (s, "my vms"));
  free (s);
  /* Without paths, the disks' own file names. */
  s = script (&vm, NULL);
  assert_non_null (strstr (s, "Join-Path $PSScriptRoot 'web-disk2.vhd'\n"));
  free (s);
  vm_free (&vm);
}

/* Generation 1: IDE 0:0..1:1, then SCSI; generation 2: SCSI, VHDX. */
static void
test_generations (void **state)
{
  struct vm vm;
  char *s;

  (void) state;
  make_vm (&vm, "web", 5);
  s = script (&vm, NULL);
  assert_non_null (strstr (s, "-Name $name -Generation 1 "
                           "-MemoryStartupBytes 768MB -NoVHD\n"));
  assert_non_null (strstr (s, "-ProcessorCount 2 -StaticMemory"));
  assert_non_null (strstr (s, "-ControllerType IDE -ControllerNumber 1 "
                           "-ControllerLocation 1 -Path $disk\n"
                           "Add-VMScsiController -VM $vm\n"));
  assert_non_null (strstr (s, "-ControllerType SCSI -ControllerNumber 0 "
                           "-ControllerLocation 0 -Path $disk\n"));
  assert_non_null (strstr (s, "-StaticMacAddress '00155D0A0B0C'\n"));
  assert_null (strstr (s, "Convert-VHD"));
  free (s);
  vm.firmware = VM_FW_UEFI;
  s = script (&vm, NULL);
  assert_non_null (strstr (s, "-Generation 2 "));
  assert_null (strstr (s, "IDE"));
  assert_non_null (strstr (s, "-ControllerType SCSI -ControllerNumber 0 "
                           "-ControllerLocation 4 -Path $disk\n"));
  assert_non_null (strstr (s, "\nSet-VMFirmware -VM $vm -EnableSecureBoot "
                           "Off -FirstBootDevice"));
  free (s);
  vm_free (&vm);
}

static void
test_write_script (void **state)
{
  const char *const paths[] = { "/final/web-disk1.vhd" };
  struct stagedir sd = { .final = strdup ("/final"), .path = strdup (dir) };
  char file[256], *descriptor = NULL, *s;
  struct vm vm;
  size_t len;

  (void) state;
  make_vm (&vm, "web", 1);
  assert_int_equal (hyperv_write_script (&sd, "web", &vm, paths,
                                         &descriptor), 0);
  assert_string_equal (descriptor, "/final/web.ps1");
  snprintf (file, sizeof file, "%s/web.ps1", dir);
  s = unit_slurp (file, &len);
  assert_true (strncmp (s, "# web.ps1: create this VM", 25) == 0);
  free (s);
  free (descriptor);
  assert_int_equal (hyperv_write_script (&sd, "web", &vm, paths,
                                         &descriptor), -1);
  assert_non_null (strstr (error_get (), "web.ps1': File exists"));
  free (descriptor);
  vm_free (&vm);
  free (sd.final);
  free (sd.path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_quote_name),
    cmocka_unit_test (test_quote_paths),
    cmocka_unit_test (test_generations),
    cmocka_unit_test (test_write_script),
  };

  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

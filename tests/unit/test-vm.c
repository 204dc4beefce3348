/* test-vm.c: new identities for a VM, and a VM from options (ova/vm.c). */
#include "tests/unit/unit.h"

#include <string.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "ova/vm.h"

static const uint8_t prefix[3] = { 0x52, 0x54, 0x00 };

static void
add_nics (struct vm *vm, size_t n, const uint8_t *mac)
{
  size_t i;

  for (i = 0; i < n; i++)
    assert_int_equal (vm_add_nic (vm, i == 1 ? mac : NULL, "br0", NULL), 0);
}

static void
assert_unique (const struct vm *vm)
{
  size_t i, j;

  for (i = 0; i < vm->nics.len; i++) {
    assert_true (vm->nics.ptr[i].has_mac);
    for (j = i + 1; j < vm->nics.len; j++)
      assert_memory_not_equal (vm->nics.ptr[i].mac, vm->nics.ptr[j].mac, 6);
  }
}

static void
test_fill_keeps (void **state)
{
  const uint8_t mine[6] = { 0x00, 0x50, 0x56, 0x01, 0x02, 0x03 };
  struct vm vm;
  size_t i;

  (void) state;
  vm_init (&vm);
  add_nics (&vm, VM_MAX_NICS, mine);
  assert_int_equal (vm_fill_macs (&vm, prefix, false), 0);
  assert_memory_equal (vm.nics.ptr[1].mac, mine, 6);
  for (i = 0; i < vm.nics.len; i++)
    if (i != 1)
      assert_memory_equal (vm.nics.ptr[i].mac, prefix, 3);
  assert_unique (&vm);
  vm_free (&vm);
}

static void
test_fresh_replaces (void **state)
{
  const uint8_t mine[6] = { 0x00, 0x50, 0x56, 0x01, 0x02, 0x03 };
  uint8_t old_uuid[16];
  struct vm vm;
  size_t i;

  (void) state;
  vm_init (&vm);
  add_nics (&vm, 4, mine);
  assert_int_equal (ids_uuid_generate (vm.uuid), 0);
  vm.has_uuid = true;
  memcpy (old_uuid, vm.uuid, 16);
  /* A restore keeps the UUID and the MAC there is. */
  assert_int_equal (vm_new_identity (&vm, prefix, false), 0);
  assert_memory_equal (vm.uuid, old_uuid, 16);
  assert_memory_equal (vm.nics.ptr[1].mac, mine, 6);
  /* A new identity replaces both. */
  assert_int_equal (vm_new_identity (&vm, prefix, true), 0);
  assert_memory_not_equal (vm.uuid, old_uuid, 16);
  assert_int_equal (vm.uuid[6] >> 4, 4);               /* version 4 */
  assert_int_equal (vm.uuid[8] & 0xc0, 0x80);          /* RFC 4122 */
  for (i = 0; i < vm.nics.len; i++)
    assert_memory_equal (vm.nics.ptr[i].mac, prefix, 3);
  assert_unique (&vm);
  vm_free (&vm);
}

static void
test_missing_uuid (void **state)
{
  struct vm vm;
  static const uint8_t zero[16];

  (void) state;
  vm_init (&vm);
  assert_int_equal (vm_new_identity (&vm, NULL, false), 0);
  assert_true (vm.has_uuid);
  assert_memory_not_equal (vm.uuid, zero, 16);
  assert_int_equal (vm.uuid[6] >> 4, 4);
  vm_free (&vm);
}

static void
test_random_prefix (void **state)
{
  struct vm vm;
  size_t i;

  (void) state;
  vm_init (&vm);
  add_nics (&vm, 8, NULL);
  assert_int_equal (vm_fill_macs (&vm, NULL, false), 0);
  for (i = 0; i < vm.nics.len; i++)
    /* locally administered unicast */
    assert_int_equal (vm.nics.ptr[i].mac[0] & 3, 2);
  assert_unique (&vm);
  vm_free (&vm);
}

static void
test_bridge_names (void **state)
{
  (void) state;
  assert_true (vm_network_is_bridge ("br0"));
  assert_true (vm_network_is_bridge ("virbr0"));
  assert_true (vm_network_is_bridge ("xenbr1"));
  assert_true (vm_network_is_bridge ("ovsbr0"));
  assert_false (vm_network_is_bridge ("default"));
  assert_false (vm_network_is_bridge ("VM Network"));
  assert_false (vm_network_is_bridge ("Pool-wide network associated with eth0"));
  assert_false (vm_network_is_bridge (""));
  assert_false (vm_network_is_bridge (NULL));
}

/* Nothing given: one CPU, 1 GiB, BIOS, one NIC without a MAC, no disk. */
static void
test_options_defaults (void **state)
{
  struct vm_options o = { .cpus = 0 };
  struct vm vm;

  (void) state;
  vm_init (&vm);
  assert_int_equal (vm_from_options (&vm, &o), 0);
  assert_int_equal (vm.cpus, VM_DEFAULT_CPUS);
  assert_int_equal (vm.cpus, 1);
  assert_int_equal (vm.memory_mib, 1024);
  assert_int_equal (vm.firmware, VM_FW_BIOS);
  assert_int_equal (vm.os, VM_OS_OTHER);
  assert_int_equal (vm.disks.len, 0);
  assert_int_equal (vm.nics.len, 1);
  assert_false (vm.nics.ptr[0].has_mac);
  assert_null (vm.name);
  assert_false (vm.has_uuid);
  vm_free (&vm);
}

static void
test_options_given (void **state)
{
  const char *const images[] = { "a.img", "/srv/b.vhd" };
  char nic1[] = "00:50:56:01:02:03,network=br0,model=e1000";
  const char *const nics[] = { nic1, "auto,network=lan", "model=virtio" };
  struct vm_options o = { .cpus = 4, .memory_mib = 768,
                          .firmware = VM_FW_UEFI, .os = VM_OS_DEBIAN64,
                          .bus = VM_BUS_SATA, .images = images,
                          .n_images = 2, .nics = nics, .n_nics = 3 };
  const uint8_t mac[6] = { 0x00, 0x50, 0x56, 0x01, 0x02, 0x03 };
  struct vm vm;

  (void) state;
  vm_init (&vm);
  assert_int_equal (vm_from_options (&vm, &o), 0);
  assert_int_equal (vm.cpus, 4);
  assert_int_equal (vm.memory_mib, 768);
  assert_int_equal (vm.firmware, VM_FW_UEFI);
  assert_int_equal (vm.os, VM_OS_DEBIAN64);
  assert_int_equal (vm.disks.len, 2);
  assert_string_equal (vm.disks.ptr[1].file, "/srv/b.vhd");
  assert_null (vm.disks.ptr[1].format);
  assert_int_equal (vm.disks.ptr[1].capacity, 1);
  assert_int_equal (vm.disks.ptr[0].bus, VM_BUS_SATA);
  assert_int_equal (vm.nics.len, 3);
  assert_true (vm.nics.ptr[0].has_mac);
  assert_memory_equal (vm.nics.ptr[0].mac, mac, 6);
  assert_string_equal (vm.nics.ptr[0].network, "br0");
  assert_string_equal (vm.nics.ptr[0].model, "e1000");
  assert_false (vm.nics.ptr[1].has_mac);
  assert_string_equal (vm.nics.ptr[1].network, "lan");
  assert_false (vm.nics.ptr[2].has_mac);
  assert_string_equal (vm.nics.ptr[2].model, "virtio");
  /* The specs are read, never cut up. */
  assert_string_equal (nic1, "00:50:56:01:02:03,network=br0,model=e1000");
  vm_free (&vm);
}

static void
expect_refused (const struct vm_options *o, const char *msg)
{
  struct vm vm;

  vm_init (&vm);
  assert_int_equal (vm_from_options (&vm, o), -1);
  assert_non_null (strstr (error_get (), msg));
  vm_free (&vm);
}

static void
test_options_bounds (void **state)
{
  static const char *images[VM_MAX_DISKS + 1];
  static const char *nics[VM_MAX_NICS + 1];
  struct vm_options o = { .cpus = VM_MAX_CPUS,
                          .memory_mib = VM_MAX_MEMORY_MIB,
                          .images = images, .n_images = VM_MAX_DISKS,
                          .nics = nics, .n_nics = VM_MAX_NICS };
  struct vm vm;
  size_t i;

  (void) state;
  for (i = 0; i < VM_MAX_DISKS + 1; i++)
    images[i] = "d.img";
  for (i = 0; i < VM_MAX_NICS + 1; i++)
    nics[i] = "";
  vm_init (&vm);
  assert_int_equal (vm_from_options (&vm, &o), 0);    /* the limits fit */
  assert_int_equal (vm.cpus, VM_MAX_CPUS);
  assert_int_equal (vm.disks.len, VM_MAX_DISKS);
  assert_int_equal (vm.nics.len, VM_MAX_NICS);
  vm_free (&vm);
  o.cpus++;
  expect_refused (&o, "4097 CPUs (limit 4096)");
  o.cpus--;
  o.memory_mib++;
  expect_refused (&o, "MiB of memory (limit");
  o.memory_mib--;
  o.n_images++;
  expect_refused (&o, "65 disks (limit 64)");
  o.n_images--;
  o.n_nics++;
  expect_refused (&o, "65 NICs (limit 64)");
}

static void
test_nic_spec_bad (void **state)
{
  struct vm vm;

  (void) state;
  vm_init (&vm);
  assert_int_equal (vm_add_nic_spec (&vm, "11:22"), -1);
  assert_string_equal (error_get (), "--nic: '11:22' is not a MAC address");
  assert_int_equal (vm_add_nic_spec (&vm, "auto,speed=10"), -1);
  assert_string_equal (error_get (), "--nic: unknown item 'speed=10'");
  /* A MAC only comes first. */
  assert_int_equal (vm_add_nic_spec (&vm, "network=a,00:50:56:01:02:03"), -1);
  assert_int_equal (vm.nics.len, 0);
  vm_free (&vm);
}

static void
test_make_stem (void **state)
{
  char stem[16];

  (void) state;
  vm_make_stem ("web-01.example", SIZE_MAX, stem, sizeof stem);
  assert_string_equal (stem, "web-01.example");
  /* shell, tar and path characters become '_', never a hidden name */
  vm_make_stem (".a b/c;$(x)", SIZE_MAX, stem, sizeof stem);
  assert_string_equal (stem, "_a_b_c___x_");
  /* n bytes of the name at most (export drops ".ova"), and the buffer */
  vm_make_stem ("backup.ova", 6, stem, sizeof stem);
  assert_string_equal (stem, "backup");
  vm_make_stem ("a-very-long-name-indeed", SIZE_MAX, stem, sizeof stem);
  assert_string_equal (stem, "a-very-long-nam");
  vm_make_stem (NULL, SIZE_MAX, stem, sizeof stem);
  assert_string_equal (stem, "vm");
  vm_make_stem ("", SIZE_MAX, stem, sizeof stem);
  assert_string_equal (stem, "vm");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fill_keeps),
    cmocka_unit_test (test_fresh_replaces),
    cmocka_unit_test (test_missing_uuid),
    cmocka_unit_test (test_random_prefix),
    cmocka_unit_test (test_bridge_names),
    cmocka_unit_test (test_options_defaults),
    cmocka_unit_test (test_options_given),
    cmocka_unit_test (test_options_bounds),
    cmocka_unit_test (test_nic_spec_bad),
    cmocka_unit_test (test_make_stem),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

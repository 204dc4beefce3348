/* test-vm.c: new identities for a VM (ova/vm.c). */
#include "tests/unit/unit.h"

#include <string.h>

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

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fill_keeps),
    cmocka_unit_test (test_fresh_replaces),
    cmocka_unit_test (test_missing_uuid),
    cmocka_unit_test (test_random_prefix),
    cmocka_unit_test (test_bridge_names),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

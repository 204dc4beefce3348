/* test-ova-target.c: the hypervisor targets and what they choose — disk
 * format, definition, MAC prefix, disk bus (ova/target.c). */
#include "tests/unit/unit.h"

#include <string.h>

#include "lib/common/ids.h"
#include "ova/target.h"

static void
test_table (void **state)
{
  const struct ova_target *t;

  (void) state;
  t = ova_target_find ("libvirt");
  assert_non_null (t);
  assert_string_equal (t->format, "qcow2");
  assert_int_equal (t->out, OVA_OUT_LIBVIRT);
  assert_int_equal (t->libvirt, LIBVIRT_KVM);
  t = ova_target_find ("raw");
  assert_string_equal (t->ext, "img");
  t = ova_target_find ("xen");
  assert_string_equal (t->subformat, "dynamic");
  assert_int_equal (t->libvirt, LIBVIRT_XEN);
  t = ova_target_find ("hyperv");
  assert_string_equal (t->format, "vhd");
  assert_int_equal (t->out, OVA_OUT_PS1);
  t = ova_target_find ("vmware");
  assert_string_equal (t->format, "vmdk");
  assert_int_equal (t->out, OVA_OUT_OVA);
  t = ova_target_find ("virtualbox");
  assert_int_equal (t->ovf, OVF_VIRTUALBOX);
  assert_null (ova_target_find ("vbox"));
  assert_null (ova_target_find (""));
  assert_null (ova_target_find ("LIBVIRT"));
}

/* Every import target, by name. */
static void
test_mac_prefix_import (void **state)
{
  static const struct { const char *name; uint8_t prefix[3]; } want[] = {
    { "libvirt", { 0x52, 0x54, 0x00 } },
    { "raw", { 0x52, 0x54, 0x00 } },
    { "xen", { 0x00, 0x16, 0x3e } },
    { "hyperv", { 0x00, 0x15, 0x5d } },
    { "vmware", { 0x00, 0x50, 0x56 } },
    { "virtualbox", { 0x08, 0x00, 0x27 } },
  };
  size_t i;

  (void) state;
  for (i = 0; i < sizeof want / sizeof want[0]; i++) {
    const struct ova_target *t = ova_target_find (want[i].name);
    assert_non_null (t);
    assert_memory_equal (ova_target_mac_prefix (t), want[i].prefix, 3);
  }
}

/* Outputs described by their writer (export, the capture agent). */
static void
test_mac_prefix_outputs (void **state)
{
  struct ova_target t = { .out = OVA_OUT_OVA, .ovf = OVF_VMWARE };

  (void) state;
  assert_memory_equal (ova_target_mac_prefix (&t), IDS_MAC_PREFIX_VMWARE, 3);
  t.ovf = OVF_VIRTUALBOX;
  assert_memory_equal (ova_target_mac_prefix (&t),
                       IDS_MAC_PREFIX_VIRTUALBOX, 3);
  t.ovf = OVF_XENSERVER;
  assert_memory_equal (ova_target_mac_prefix (&t), IDS_MAC_PREFIX_XEN, 3);
  t.out = OVA_OUT_XVA;
  t.ovf = OVF_VMWARE;                   /* an XVA is Xen whatever the OVF */
  assert_memory_equal (ova_target_mac_prefix (&t), IDS_MAC_PREFIX_XEN, 3);
  t.out = OVA_OUT_LIBVIRT;
  t.libvirt = LIBVIRT_KVM;
  t.ovf = OVF_XENSERVER;                /* ignored for a domain */
  assert_memory_equal (ova_target_mac_prefix (&t), IDS_MAC_PREFIX_KVM, 3);
  t.libvirt = LIBVIRT_XEN;
  assert_memory_equal (ova_target_mac_prefix (&t), IDS_MAC_PREFIX_XEN, 3);
  t.out = OVA_OUT_PS1;
  assert_memory_equal (ova_target_mac_prefix (&t), IDS_MAC_PREFIX_HYPERV, 3);
}

static void
test_bus (void **state)
{
  struct ova_target t = { .out = OVA_OUT_OVA, .ovf = OVF_VMWARE };

  (void) state;
  assert_int_equal (ova_target_bus (&t), VM_BUS_SCSI);
  t.ovf = OVF_VIRTUALBOX;
  assert_int_equal (ova_target_bus (&t), VM_BUS_SATA);
  t.ovf = OVF_XENSERVER;
  assert_int_equal (ova_target_bus (&t), VM_BUS_XEN);
  t.out = OVA_OUT_XVA;
  t.ovf = OVF_VIRTUALBOX;
  assert_int_equal (ova_target_bus (&t), VM_BUS_XEN);
  t.out = OVA_OUT_LIBVIRT;
  t.libvirt = LIBVIRT_KVM;
  assert_int_equal (ova_target_bus (&t), VM_BUS_VIRTIO);
  t.libvirt = LIBVIRT_XEN;
  assert_int_equal (ova_target_bus (&t), VM_BUS_XEN);
  assert_int_equal (ova_target_bus (ova_target_find ("hyperv")), VM_BUS_SCSI);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_table),
    cmocka_unit_test (test_mac_prefix_import),
    cmocka_unit_test (test_mac_prefix_outputs),
    cmocka_unit_test (test_bus),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

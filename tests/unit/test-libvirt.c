/* test-libvirt.c: libvirt domain XML — round trips judged by
 * virt-xml-validate, virsh dumpxml samples, and the hostile corpus. */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/stagedir.h"
#include "lib/common/strbuf.h"
#include "ova/libvirt.h"

static char dir[] = "/tmp/ferry-test-libvirt.XXXXXX";
static char datadir[512];
static bool have_validator;

static const char *
path (const char *name)
{
  static char buf[1024];
  snprintf (buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static void
spew (const char *file, const char *data, size_t len)
{
  FILE *fp = fopen (file, "wb");
  assert_non_null (fp);
  assert_int_equal (fwrite (data, 1, len, fp), len);
  assert_int_equal (fclose (fp), 0);
}

/* ---- VMs to round-trip ------------------------------------------------ */

static void
add_disk (struct vm *vm, const char *file, const char *fmt, enum vm_bus bus)
{
  assert_int_equal (vm_add_disk (vm, file, fmt, 1ull << 30, bus), 0);
}

static void
add_nic (struct vm *vm, const char *mac, const char *net, const char *model)
{
  uint8_t m[6];

  if (mac)
    assert_int_equal (ids_mac_parse (mac, m), 0);
  assert_int_equal (vm_add_nic (vm, mac ? m : NULL, net, model), 0);
}

static void
make_vm (struct vm *vm, int variant)
{
  static const char *const names[] = {
    "bios-virtio", "uefi-mixed", "ide-legacy", "from-xen",
  };

  vm_init (vm);
  vm->name = strdup (names[variant]);
  assert_int_equal (ids_uuid_generate (vm->uuid), 0);
  vm->has_uuid = variant != 2;
  vm->cpus = 1 + (unsigned) variant * 3;
  vm->memory_mib = 512u << variant;
  switch (variant) {
  case 0:
    add_disk (vm, "/var/lib/libvirt/images/a.qcow2", "qcow2", VM_BUS_VIRTIO);
    add_nic (vm, "52:54:00:12:34:56", NULL, NULL);
    break;
  case 1:
    vm->firmware = VM_FW_UEFI;
    vm->os = VM_OS_DEBIAN64;
    vm->description = strdup ("db & cache <primary> 'quoted'");
    add_disk (vm, "/srv/b0.qcow2", "qcow2", VM_BUS_VIRTIO);
    add_disk (vm, "/srv/b1.raw", "raw", VM_BUS_SATA);
    add_disk (vm, "/srv/b2.raw", NULL, VM_BUS_SCSI);
    add_disk (vm, "/srv/b3.vhd", "vhd", VM_BUS_NVME);
    add_disk (vm, "/srv/b4.raw", "raw", VM_BUS_SATA);
    add_nic (vm, "52:54:00:00:00:01", "default", "virtio");
    add_nic (vm, "52:54:00:00:00:02", "br0", "e1000");
    add_nic (vm, NULL, "isolated", "vmxnet3");
    break;
  case 2:
    vm->os = VM_OS_WINDOWS64;
    add_disk (vm, "/srv/c0.vmdk", "vmdk", VM_BUS_IDE);
    add_disk (vm, "/srv/c1.raw", "raw", VM_BUS_IDE);
    add_disk (vm, "/srv/c2.raw", "raw", VM_BUS_SATA);
    add_nic (vm, "00:50:56:01:02:03", "virbr1", "rtl8139");
    break;
  default:
    add_disk (vm, "/srv/xen/d0.qcow2", "qcow2", VM_BUS_XEN);
    add_disk (vm, "/srv/xen/d1.raw", "raw", VM_BUS_XEN);
    add_nic (vm, "00:16:3e:00:00:01", "xenbr1", "netfront");
    add_nic (vm, "00:16:3e:00:00:02", "Pool-wide network", NULL);
    break;
  }
}

/* What each flavour turns a disk bus and a NIC into. */
static enum vm_bus
expect_bus (enum libvirt_flavour f, enum vm_bus b)
{
  if (f == LIBVIRT_XEN)
    return VM_BUS_XEN;
  return b == VM_BUS_IDE || b == VM_BUS_SATA || b == VM_BUS_SCSI
    ? b : VM_BUS_VIRTIO;
}

static bool
bridge_like (const char *n)
{
  return n && (strncmp (n, "br", 2) == 0 || strncmp (n, "virbr", 5) == 0 ||
               strncmp (n, "xenbr", 5) == 0);
}

static const char *
expect_net (enum libvirt_flavour f, const char *n)
{
  if (f == LIBVIRT_XEN)
    return bridge_like (n) ? n : "xenbr0";
  return n ? n : "default";
}

static const char *
expect_model (enum libvirt_flavour f, const char *m)
{
  if (f == LIBVIRT_XEN)
    return "netfront";
  return m && strcmp (m, "netfront") != 0 ? m : "virtio";
}

static void
compare_nics (const struct vm *a, const struct vm *b, enum libvirt_flavour f)
{
  size_t i;

  assert_int_equal (b->nics.len, a->nics.len);
  for (i = 0; i < a->nics.len; i++) {
    const struct vm_nic *x = &a->nics.ptr[i], *y = &b->nics.ptr[i];
    assert_int_equal (y->has_mac, x->has_mac);
    assert_memory_equal (y->mac, x->mac, 6);
    assert_string_equal (y->network, expect_net (f, x->network));
    assert_string_equal (y->model, expect_model (f, x->model));
  }
}

static void
compare (const struct vm *a, const struct vm *b, enum libvirt_flavour f)
{
  size_t i;

  assert_string_equal (b->name, a->name);
  assert_int_equal (b->has_uuid, a->has_uuid);
  if (a->has_uuid)
    assert_memory_equal (b->uuid, a->uuid, 16);
  assert_int_equal (b->cpus, a->cpus);
  assert_int_equal (b->memory_mib, a->memory_mib);
  assert_int_equal (b->os, a->os);
  if (a->description)
    assert_string_equal (b->description, a->description);
  /* Xen PV boots through pygrub: there is no firmware to keep. */
  assert_int_equal (b->firmware, f == LIBVIRT_XEN ? VM_FW_BIOS : a->firmware);
  assert_int_equal (b->disks.len, a->disks.len);
  for (i = 0; i < a->disks.len; i++) {
    const struct vm_disk *x = &a->disks.ptr[i], *y = &b->disks.ptr[i];
    assert_string_equal (y->file, x->file);
    assert_string_equal (y->format, x->format ? x->format : "raw");
    assert_int_equal (y->bus, expect_bus (f, x->bus));
    assert_int_equal (y->capacity, 0);
    assert_non_null (y->target_dev);
  }
  compare_nics (a, b, f);
}

static void
validate_file (const char *file)
{
  char cmd[2048];

  if (!have_validator)
    return;
  snprintf (cmd, sizeof cmd, "virt-xml-validate '%s' domain >%s/validate.log "
            "2>&1 || { cat %s/validate.log; exit 1; }", file, dir, dir);
  assert_int_equal (system (cmd), 0);
}

static void
round_trip (int variant, enum libvirt_flavour f)
{
  struct strbuf sb = STRBUF_INIT;
  struct vm a, b;
  char name[64];

  make_vm (&a, variant);
  assert_int_equal (libvirt_write (&a, f, NULL, &sb), 0);
  snprintf (name, sizeof name, "%s-%s.xml", a.name,
            f == LIBVIRT_XEN ? "xen" : f == LIBVIRT_QEMU ? "qemu" : "kvm");
  spew (path (name), sb.buf, sb.len);
  validate_file (path (name));
  vm_init (&b);
  if (libvirt_parse (sb.buf, sb.len, name, &b) == -1)
    fail_msg ("%s", error_get ());
  compare (&a, &b, f);
  vm_free (&a);
  vm_free (&b);
  strbuf_release (&sb);
}

static void
test_round_trip_kvm (void **state)
{
  int v;

  (void) state;
  for (v = 0; v < 4; v++)
    round_trip (v, LIBVIRT_KVM);
}

/* A KVM domain for a host without KVM: the same, of type qemu. */
static void
test_round_trip_qemu (void **state)
{
  struct strbuf sb = STRBUF_INIT;
  struct vm vm;
  int v;

  (void) state;
  for (v = 0; v < 4; v++)
    round_trip (v, LIBVIRT_QEMU);
  make_vm (&vm, 1);
  assert_int_equal (libvirt_write (&vm, LIBVIRT_QEMU, NULL, &sb), 0);
  assert_true (strncmp (sb.buf, "<domain type='qemu'>\n", 21) == 0);
  assert_non_null (strstr (sb.buf, "model='virtio-scsi'"));
  vm_free (&vm);
  strbuf_release (&sb);
}

static void
test_round_trip_xen (void **state)
{
  int v;

  (void) state;
  for (v = 0; v < 4; v++)
    round_trip (v, LIBVIRT_XEN);
}

static void
test_write_shape (void **state)
{
  const char *const paths[] = { "/new/a.qcow2", NULL, "/new/c.raw", NULL,
                                "/new/e.raw" };
  struct strbuf sb = STRBUF_INIT;
  struct vm vm;

  (void) state;
  make_vm (&vm, 1);
  assert_int_equal (libvirt_write (&vm, LIBVIRT_KVM, paths, &sb), 0);
  assert_non_null (strstr (sb.buf, "<os firmware='efi'>"));
  assert_non_null (strstr (sb.buf, "machine='q35'"));
  assert_non_null (strstr (sb.buf, "<source file='/new/a.qcow2'/>"));
  assert_non_null (strstr (sb.buf, "<source file='/srv/b1.raw'/>"));
  /* SATA and SCSI share the sd namespace: sda, sdb, sdc, never twice. */
  assert_non_null (strstr (sb.buf, "<target dev='sda' bus='sata'/>"));
  assert_non_null (strstr (sb.buf, "<target dev='sdb' bus='scsi'/>"));
  assert_non_null (strstr (sb.buf, "<target dev='sdc' bus='sata'/>"));
  assert_non_null (strstr (sb.buf, "<target dev='vdb' bus='virtio'/>"));
  assert_non_null (strstr (sb.buf, "model='virtio-scsi'"));
  assert_non_null (strstr (sb.buf, "<interface type='bridge'>"));
  assert_non_null (strstr (sb.buf, "<source network='isolated'/>"));
  assert_non_null (strstr (sb.buf, "db &amp; cache &lt;primary&gt;"));
  vm_free (&vm);
  sb.len = 0;
  make_vm (&vm, 2);
  assert_int_equal (libvirt_write (&vm, LIBVIRT_KVM, NULL, &sb), 0);
  assert_non_null (strstr (sb.buf, "machine='pc'"));   /* IDE: no q35 */
  assert_non_null (strstr (sb.buf, "<target dev='hdb' bus='ide'/>"));
  sb.len = 0;
  assert_int_equal (libvirt_write (&vm, LIBVIRT_XEN, NULL, &sb), 0);
  assert_non_null (strstr (sb.buf, "<bootloader>pygrub</bootloader>"));
  assert_non_null (strstr (sb.buf, "machine='xenpv'>linux</type>"));
  assert_non_null (strstr (sb.buf, "<target dev='xvdc' bus='xen'/>"));
  assert_non_null (strstr (sb.buf, "<model type='netfront'/>"));
  /* A control character cannot be written as XML. */
  free (vm.name);
  vm.name = strdup ("bad\001name");
  sb.len = 0;
  assert_int_equal (libvirt_write (&vm, LIBVIRT_KVM, NULL, &sb), -1);
  assert_non_null (strstr (error_get (), "control character"));
  vm_free (&vm);
  strbuf_release (&sb);
}

/* The domain written into a staging directory, named by its final path. */
static void
test_write_domain (void **state)
{
  const char *const paths[] = { "/final dir/vm-disk1.qcow2", NULL, NULL,
                                NULL, NULL };
  struct stagedir sd = { .final = strdup ("/final dir"),
                         .path = strdup (dir) };
  char *descriptor = NULL, *xml;
  struct vm vm;
  size_t len;

  (void) state;
  make_vm (&vm, 1);
  assert_int_equal (libvirt_write_domain (&sd, "vm", &vm, LIBVIRT_KVM, paths,
                                          &descriptor), 0);
  assert_string_equal (descriptor, "/final dir/vm.xml");
  xml = unit_slurp (path ("vm.xml"), &len);
  assert_non_null (strstr (xml, "<source file='/final dir/vm-disk1.qcow2'/>"));
  assert_non_null (strstr (xml, "<name>uefi-mixed</name>"));
  free (xml);
  free (descriptor);
  /* The file is new: an existing one is an error, never replaced. */
  assert_int_equal (libvirt_write_domain (&sd, "vm", &vm, LIBVIRT_KVM, paths,
                                          &descriptor), -1);
  assert_non_null (strstr (error_get (), "vm.xml': File exists"));
  free (descriptor);
  assert_int_equal (unlink (path ("vm.xml")), 0);
  vm_free (&vm);
  free (sd.final);
  free (sd.path);
}

/* ---- virsh dumpxml samples ------------------------------------------ */

static void
parse_sample (const char *name, struct vm *vm)
{
  char file[1024];
  size_t len;
  char *xml;

  snprintf (file, sizeof file, "%s/libvirt/%s", datadir, name);
  xml = unit_slurp (file, &len);
  vm_init (vm);
  if (libvirt_parse (xml, len, name, vm) == -1)
    fail_msg ("%s", error_get ());
  free (xml);
}

static void
test_sample_kvm (void **state)
{
  struct vm vm;
  char s[37];

  (void) state;
  parse_sample ("kvm-q35-uefi.xml", &vm);
  assert_string_equal (vm.name, "debian12-web");
  ids_uuid_format (vm.uuid, s);
  assert_string_equal (s, "5b1e7c3a-9d2f-4e61-8a7b-0c4d2e9f1a36");
  assert_string_equal (vm.description, "Web front end & cache");
  assert_int_equal (vm.memory_mib, 4096);
  assert_int_equal (vm.cpus, 2);
  assert_int_equal (vm.firmware, VM_FW_UEFI);
  assert_int_equal (vm.os, VM_OS_DEBIAN64);
  assert_int_equal (vm.disks.len, 2);     /* the CD-ROM is not a disk */
  assert_string_equal (vm.disks.ptr[0].file,
                       "/var/lib/libvirt/images/debian12-web.qcow2");
  assert_string_equal (vm.disks.ptr[0].format, "qcow2");
  assert_int_equal (vm.disks.ptr[0].bus, VM_BUS_VIRTIO);
  assert_string_equal (vm.disks.ptr[1].file, "/dev/vg0/web-data");
  assert_int_equal (vm.disks.ptr[1].bus, VM_BUS_SATA);
  assert_int_equal (vm.nics.len, 2);
  assert_string_equal (vm.nics.ptr[0].network, "default");
  assert_string_equal (vm.nics.ptr[1].network, "br0");
  assert_string_equal (vm.nics.ptr[1].model, "e1000e");
  assert_int_equal (vm.nics.ptr[1].mac[5], 0x04);
  vm_free (&vm);
}

static void
test_sample_xen (void **state)
{
  struct vm vm;

  (void) state;
  parse_sample ("xen-pv.xml", &vm);
  assert_string_equal (vm.name, "centos7-db");
  assert_int_equal (vm.memory_mib, 2048);
  assert_int_equal (vm.cpus, 4);
  assert_int_equal (vm.firmware, VM_FW_BIOS);
  assert_int_equal (vm.disks.len, 2);
  assert_int_equal (vm.disks.ptr[1].bus, VM_BUS_XEN);
  assert_int_equal (vm.disks.ptr[1].unit, 1);
  assert_string_equal (vm.disks.ptr[1].target_dev, "xvdb");
  assert_string_equal (vm.disks.ptr[1].file, "/dev/vg_xen/centos7-db-data");
  assert_int_equal (vm.nics.len, 1);
  assert_string_equal (vm.nics.ptr[0].network, "xenbr0");
  assert_null (vm.nics.ptr[0].model);
  vm_free (&vm);
}

static void
test_memory_units (void **state)
{
  static const struct { const char *mem; uint64_t mib; } cases[] = {
    { "<memory>1048576</memory>", 1024 },
    { "<memory unit='GiB'>3</memory>", 3072 },
    { "<memory unit='bytes'>1048577</memory>", 2 },      /* rounded up */
    { "<memory unit='M'>77</memory>", 77 },
    { "<memory unit='GB'>1</memory>", 954 },
  };
  char xml[256];
  size_t i;

  (void) state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct vm vm;
    snprintf (xml, sizeof xml, "<domain type='kvm'><name>m</name>%s"
              "</domain>", cases[i].mem);
    vm_init (&vm);
    if (libvirt_parse (xml, strlen (xml), "mem", &vm) == -1)
      fail_msg ("%s", error_get ());
    assert_int_equal (vm.memory_mib, cases[i].mib);
    vm_free (&vm);
  }
}

/* ---- hostile corpus ------------------------------------------------- */

static const struct { const char *file, *msg; } hostile[] = {
  { "xxe-file.xml", "DOCTYPE declarations are refused" },
  { "xxe-external-dtd.xml", "DOCTYPE declarations are refused" },
  { "billion-laughs.xml", "DOCTYPE declarations are refused" },
  { "doctype-utf16.xml", "DOCTYPE declarations are refused" },
  { "undefined-entity.xml", "malformed XML (line 1: Entity 'x' not defined)" },
  { "malformed.xml", "malformed XML (line 1: Opening and ending tag" },
  { "empty.xml", "malformed XML (line 1: Document is empty)" },
  { "not-a-domain.xml", "not a libvirt domain (root element 'network')" },
  { "no-name.xml", "no <name> element" },
  { "no-memory.xml", "no <memory> element" },
  { "memory-overflow.xml", "invalid memory size '99999999999999999999'" },
  { "memory-unit-overflow.xml", "invalid memory size '100'" },
  { "memory-negative.xml", "invalid memory size '-1'" },
  { "memory-bad-unit.xml", "unknown memory unit 'parsecs'" },
  { "memory-absurd.xml", "MiB of memory is out of range" },
  { "vcpu-zero.xml", "invalid vcpu count '0'" },
  { "vcpu-absurd.xml", "invalid vcpu count '4294967297'" },
  { "bad-uuid.xml", "invalid UUID 'not-a-uuid'" },
  { "too-many-disks.xml", "more than 64 disks" },
  { "too-many-nics.xml", "more than 64 network interfaces" },
  { "bad-mac.xml", "interface 0 has an invalid MAC address" },
  { "multicast-mac.xml", "NIC 0 has a multicast MAC address" },
  { "duplicate-mac.xml", "NICs 0 and 1 share a MAC address" },
  { "duplicate-target.xml", "two disks use target 'vda'" },
  { "disk-no-source.xml", "disk 0 has no source" },
  { "disk-bad-bus.xml", "disk 0: unsupported disk bus 'usb'" },
  { "disk-bad-format.xml", "disk 0: unsupported format 'dmg'" },
  { "disk-no-target.xml", "disk 0 has no valid target dev" },
  { "name-too-long.xml", "VM name longer than 255 bytes" },
};
#define N_HOSTILE (sizeof hostile / sizeof hostile[0])

static bool
listed (const char *name)
{
  size_t i;

  for (i = 0; i < N_HOSTILE; i++)
    if (strcmp (hostile[i].file, name) == 0)
      return true;
  return false;
}

/* Parse one corpus file; return 0 or -1 like libvirt_parse. */
static int
parse_file (const char *name)
{
  char file[1024];
  struct vm vm;
  size_t len;
  char *xml;
  int r;

  snprintf (file, sizeof file, "%s/hostile/%s", dir, name);
  xml = unit_slurp (file, &len);
  vm_init (&vm);
  r = libvirt_parse (xml, len, name, &vm);
  vm_free (&vm);
  free (xml);
  return r;
}

static void
check_refused (size_t i)
{
  char want[512];

  if (parse_file (hostile[i].file) == 0)
    fail_msg ("%s was accepted", hostile[i].file);
  snprintf (want, sizeof want, "libvirt: '%s': ", hostile[i].file);
  if (strncmp (error_get (), want, strlen (want)) != 0 ||
      strstr (error_get (), hostile[i].msg) == NULL ||
      strchr (error_get (), '\n') != NULL)
    fail_msg ("%s: got \"%s\", want \"%s\"", hostile[i].file, error_get (),
              hostile[i].msg);
}

/* Run `fn` with stderr sent to a file; return how many bytes it printed. */
static off_t
stderr_bytes_of (void (*fn) (void))
{
  int saved = dup (2), fd = open (path ("stderr.log"),
                                  O_WRONLY | O_CREAT | O_TRUNC, 0600);
  struct stat st;

  assert_true (saved >= 0 && fd >= 0);
  fflush (stderr);
  dup2 (fd, 2);
  fn ();
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
  assert_int_equal (fstat (fd, &st), 0);
  close (fd);
  return st.st_size;
}

static void
run_corpus (void)
{
  DIR *d = opendir (path ("hostile"));
  struct dirent *e;
  size_t i;

  assert_non_null (d);
  while ((e = readdir (d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (strncmp (e->d_name, "valid-", 6) == 0) {
      if (parse_file (e->d_name) == -1)
        fail_msg ("%s", error_get ());
    }
    else if (!listed (e->d_name))
      fail_msg ("%s has no expected error in test-libvirt.c", e->d_name);
  }
  closedir (d);
  for (i = 0; i < N_HOSTILE; i++)
    check_refused (i);
}

static void
test_hostile_corpus (void **state)
{
  char cmd[2048];

  (void) state;
  snprintf (cmd, sizeof cmd, "%s/gen-hostile-libvirt.sh %s >/dev/null",
            datadir, path ("hostile"));
  assert_int_equal (system (cmd), 0);
  /* libxml2 must stay silent: our one-line error is the only report. */
  assert_int_equal (stderr_bytes_of (run_corpus), 0);
}

static void
test_hostile_too_large (void **state)
{
  size_t len = LIBVIRT_MAX_XML + 1;
  char *xml = malloc (len);
  struct vm vm;

  (void) state;
  assert_non_null (xml);
  memset (xml, ' ', len);
  memcpy (xml, "<domain>", 8);
  vm_init (&vm);
  assert_int_equal (libvirt_parse (xml, len, "big.xml", &vm), -1);
  assert_non_null (strstr (error_get (), "libvirt: 'big.xml': 16777217 "
                           "bytes is too large"));
  vm_free (&vm);
  free (xml);
}

static int
setup (void **state)
{
  const char *slash = strrchr (__FILE__, '/');

  (void) state;
  snprintf (datadir, sizeof datadir, "%.*s/../data",
            slash ? (int) (slash - __FILE__) : 1, slash ? __FILE__ : ".");
  if (mkdtemp (dir) == NULL)
    return -1;
  have_validator = system ("command -v virt-xml-validate >/dev/null 2>&1")
    == 0;
  if (!have_validator)
    printf ("note: virt-xml-validate not installed (package libvirt-clients):"
            " written XML not validated\n");
  return 0;
}

static int
teardown (void **state)
{
  (void) state;
  return unit_remove_dir (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_round_trip_kvm),
    cmocka_unit_test (test_round_trip_qemu),
    cmocka_unit_test (test_round_trip_xen),
    cmocka_unit_test (test_write_shape),
    cmocka_unit_test (test_write_domain),
    cmocka_unit_test (test_sample_kvm),
    cmocka_unit_test (test_sample_xen),
    cmocka_unit_test (test_memory_units),
    cmocka_unit_test (test_hostile_corpus),
    cmocka_unit_test (test_hostile_too_large),
  };

  return cmocka_run_group_tests (tests, setup, teardown);
}

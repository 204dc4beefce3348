/* test-xva-xml.c: XVA ova.xml — round trips, reference consistency, a
 * realistic xe vm-export sample, and the hostile corpus. */
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
#include "lib/common/strbuf.h"
#include "ova/xva-xml.h"

static char dir[] = "/tmp/ferry-test-xva-xml.XXXXXX";
static char datadir[512];

static const char *
path (const char *name)
{
  static char buf[1024];
  snprintf (buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static void
free_refs (char **refs)
{
  char **p;

  for (p = refs; p && *p; p++)
    free (*p);
  free (refs);
}

/* ---- VMs to round-trip ------------------------------------------------ */

static void
add_nic (struct vm *vm, const char *mac, const char *net)
{
  uint8_t m[6];

  if (mac)
    assert_int_equal (ids_mac_parse (mac, m), 0);
  assert_int_equal (vm_add_nic (vm, mac ? m : NULL, net, NULL), 0);
}

static size_t
make_vm (struct vm *vm, int variant, uint64_t *sizes)
{
  static const char *const names[] = {
    "bios-one-disk", "uefi & <many>", "diskless", "windows",
  };
  size_t i, n = variant == 1 ? 5 : variant == 2 ? 0 : 1;

  vm_init (vm);
  vm->name = strdup (names[variant]);
  vm->has_uuid = variant != 3;
  assert_int_equal (ids_uuid_generate (vm->uuid), 0);
  vm->cpus = 1 + (unsigned) variant;
  vm->memory_mib = 768u << variant;
  vm->firmware = variant == 1 ? VM_FW_UEFI : VM_FW_BIOS;
  vm->os = variant == 3 ? VM_OS_WINDOWS64 : variant ? VM_OS_OTHER
    : VM_OS_DEBIAN64;
  if (variant == 1)
    vm->description = strdup ("several disks, networks shared and not");
  for (i = 0; i < n; i++) {
    sizes[i] = (i + 1) * (1ull << 30) + i * 512;
    assert_int_equal (vm_add_disk (vm, "ignored.vhd", "vhd", 1,
                                   VM_BUS_XEN), 0);
  }
  if (variant == 0)
    add_nic (vm, "00:16:3e:11:22:33", NULL);
  if (variant == 1) {
    add_nic (vm, "00:16:3e:00:00:01", "lan");
    add_nic (vm, "00:16:3e:00:00:02", "xenbr1");
    add_nic (vm, NULL, "lan");
    add_nic (vm, "00:16:3e:00:00:04", NULL);
  }
  return n;
}

static void
compare (const struct vm *a, const struct vm *b, const uint64_t *sizes,
         char **refs)
{
  char ref[24];
  size_t i;

  assert_string_equal (b->name, a->name);
  if (a->has_uuid)
    assert_memory_equal (b->uuid, a->uuid, 16);
  assert_true (b->has_uuid);             /* generated when missing */
  assert_int_equal (b->cpus, a->cpus);
  assert_int_equal (b->memory_mib, a->memory_mib);
  assert_int_equal (b->firmware, a->firmware);
  assert_int_equal (b->os, a->os);
  if (a->description)
    assert_string_equal (b->description, a->description);
  assert_int_equal (b->disks.len, a->disks.len);
  for (i = 0; i < a->disks.len; i++) {
    xva_xml_vdi_ref (i, a->disks.len, ref, sizeof ref);
    assert_string_equal (b->disks.ptr[i].file, ref);
    assert_string_equal (refs[i], ref);
    assert_int_equal (b->disks.ptr[i].capacity, sizes[i]);
    assert_int_equal (b->disks.ptr[i].bus, VM_BUS_XEN);
    assert_int_equal (b->disks.ptr[i].unit, i);
  }
  assert_null (refs[a->disks.len]);
  assert_int_equal (b->nics.len, a->nics.len);
  for (i = 0; i < a->nics.len; i++) {
    const struct vm_nic *x = &a->nics.ptr[i], *y = &b->nics.ptr[i];
    assert_int_equal (y->has_mac, x->has_mac);
    assert_memory_equal (y->mac, x->mac, 6);
    assert_string_equal (y->network, x->network ? x->network
                         : "Pool-wide network associated with eth0");
  }
}

/* Every "Ref:N" the document mentions names one of its objects. */
static void
check_refs_resolve (const char *xml)
{
  const char *p = xml;
  char id[64];
  int n;

  while ((p = strstr (p, "<value>Ref:")) != NULL) {
    p += 7;
    n = (int) strcspn (p, "<");
    snprintf (id, sizeof id, "<name>id</name><value>%.*s</value>", n, p);
    if (strstr (xml, id) == NULL)
      fail_msg ("dangling reference %.*s", n, p);
  }
}

static void
round_trip (int variant)
{
  struct strbuf sb = STRBUF_INIT;
  uint64_t sizes[8];
  struct vm a, b;
  char **refs;

  make_vm (&a, variant, sizes);
  assert_int_equal (xva_xml_write (&a, sizes, &sb), 0);
  check_refs_resolve (sb.buf);
  vm_init (&b);
  if (xva_xml_parse (sb.buf, sb.len, "rt.xml", &b, &refs) == -1)
    fail_msg ("%s", error_get ());
  compare (&a, &b, sizes, refs);
  free_refs (refs);
  vm_free (&a);
  vm_free (&b);
  strbuf_release (&sb);
}

static void
test_round_trip (void **state)
{
  int v;

  (void) state;
  for (v = 0; v < 4; v++)
    round_trip (v);
}

static void
test_write_shape (void **state)
{
  static const char *const want[] = {
    "<name>export_vsn</name><value>2</value>",
    "<name>product_brand</name><value>XCP-ng</value>",
    "<name>xapi_major</name><value>1</value>",
    "<name>class</name><value>VM</value></member><member><name>id</name>"
    "<value>Ref:0</value>",
    "<name>class</name><value>SR</value>",
    "<name>class</name><value>network</value>",
    "<name>HVM_boot_policy</name><value>BIOS order</value>",
    "<name>firmware</name><value>uefi</value>",
    "<name>virtual_size</name><value>1073741824</value>",
    "<name>MAC</name><value>00:16:3e:00:00:01</value>",
    "<name>MAC</name><value></value>",
    "<name>bridge</name><value>xenbr1</value>",
    "<name>content_type</name><value>user</value>",
    "<name>power_state</name><value>Halted</value>",
    "<name>is_a_template</name><value><boolean>0</boolean>",
    "<name>type</name><value>Disk</value>",
    "<name>mode</name><value>RW</value>",
    "<name>name_label</name><value>uefi &amp; &lt;many&gt;</value>",
  };
  struct strbuf sb = STRBUF_INIT;
  uint64_t sizes[8];
  struct vm vm;
  char ref[24];
  size_t i;

  (void) state;
  make_vm (&vm, 1, sizes);
  assert_int_equal (xva_xml_write (&vm, sizes, &sb), 0);
  for (i = 0; i < sizeof want / sizeof want[0]; i++)
    if (strstr (sb.buf, want[i]) == NULL)
      fail_msg ("missing %s", want[i]);
  /* Disk i's VDI is Ref:1+n+i: VBDs come first. */
  xva_xml_vdi_ref (0, 5, ref, sizeof ref);
  assert_string_equal (ref, "Ref:6");
  /* The shared "lan" network is one object listing both of its VIFs. */
  assert_non_null (strstr (sb.buf, "<name>VIFs</name><value><array><data>"
                           "<value>Ref:11</value><value>Ref:13</value>"));
  vm_free (&vm);
  strbuf_release (&sb);
}

/* ---- the xe vm-export sample ---------------------------------------- */

static void
test_sample (void **state)
{
  struct vm vm;
  char file[1024], s[37];
  char **refs;
  size_t len;
  char *xml;

  (void) state;
  snprintf (file, sizeof file, "%s/xva/ova.xml", datadir);
  xml = unit_slurp (file, &len);
  vm_init (&vm);
  if (xva_xml_parse (xml, len, "ova.xml", &vm, &refs) == -1)
    fail_msg ("%s", error_get ());
  /* The snapshot VM (Ref:1) and the CD drive (Ref:3) are not read. */
  assert_string_equal (vm.name, "build-server");
  ids_uuid_format (vm.uuid, s);
  assert_string_equal (s, "e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f60718");
  assert_int_equal (vm.memory_mib, 2048);
  assert_int_equal (vm.cpus, 2);
  assert_int_equal (vm.firmware, VM_FW_UEFI);
  assert_int_equal (vm.os, VM_OS_DEBIAN64);
  assert_int_equal (vm.disks.len, 2);
  assert_string_equal (vm.disks.ptr[0].file, "Ref:7");
  assert_int_equal (vm.disks.ptr[0].capacity, 21474836480ull);
  assert_string_equal (vm.disks.ptr[0].target_dev, "xvda");
  assert_string_equal (vm.disks.ptr[1].file, "Ref:8");
  assert_int_equal (vm.disks.ptr[1].capacity, 107374182400ull);
  assert_string_equal (refs[0], "Ref:7");
  assert_string_equal (refs[1], "Ref:8");
  assert_null (refs[2]);
  assert_int_equal (vm.nics.len, 2);
  assert_int_equal (vm.nics.ptr[0].mac[0], 0xb6);
  assert_string_equal (vm.nics.ptr[0].network,
                       "Pool-wide network associated with eth0");
  assert_string_equal (vm.nics.ptr[1].network, "storage-jumbo");
  free_refs (refs);
  vm_free (&vm);
  free (xml);
}

/* ---- hostile corpus ------------------------------------------------- */

static const struct { const char *file, *msg; } hostile[] = {
  { "billion-laughs.xml", "DOCTYPE declarations are refused" },
  { "xxe-file.xml", "DOCTYPE declarations are refused" },
  { "xxe-external-dtd.xml", "DOCTYPE declarations are refused" },
  { "doctype-utf16.xml", "DOCTYPE declarations are refused" },
  { "malformed.xml", "malformed XML (line 1: " },
  { "empty.xml", "malformed XML (line 1: Document is empty)" },
  { "not-xmlrpc.xml", "not an XVA ova.xml (no <value><struct>)" },
  { "no-objects.xml", "not an XVA ova.xml (no objects member)" },
  { "objects-not-array.xml", "objects is not an array" },
  { "object-without-class.xml", "object 4 lacks a class, id or snapshot" },
  { "null-ref-object.xml", "object 4 has the null reference" },
  { "duplicate-ref.xml", "duplicate object reference 'Ref:2'" },
  { "missing-vbd.xml", "the VM refers to a missing VBD 'Ref:99'" },
  { "null-vbd.xml", "the VM refers to a missing VBD 'OpaqueRef:NULL'" },
  { "missing-vdi.xml", "a VBD refers to a missing VDI 'Ref:99'" },
  { "vbd-points-to-sr.xml", "a VBD refers to 'Ref:4', a SR, not a VDI" },
  { "missing-network.xml", "a VIF refers to a missing network 'Ref:99'" },
  { "vdi-size-absurd.xml", "VDI 'Ref:2' has an absurd virtual_size" },
  { "vdi-size-overflow.xml", "VDI 'Ref:2' has an absurd virtual_size" },
  { "vdi-size-negative.xml", "VDI 'Ref:2' has an absurd virtual_size '-1'" },
  { "vdi-size-zero.xml", "VDI 'Ref:2' has an absurd virtual_size '0'" },
  { "several-vms.xml", "several VM objects that are not snapshots" },
  { "only-snapshots.xml", "no VM object" },
  { "deep-structs.xml", "structs nested deeper than 32" },
  { "too-many-vbds.xml", "VM has more than 256 VBDs" },
  { "too-many-disks.xml", "more than 64 disks" },
  { "too-many-vifs.xml", "more than 64 VIFs" },
  { "bad-mac.xml", "VIF 'Ref:3' has an invalid MAC" },
  { "multicast-mac.xml", "NIC 0 has a multicast MAC address" },
  { "duplicate-mac.xml", "NICs 0 and 1 share a MAC address" },
  { "bad-uuid.xml", "VM has an invalid uuid 'not-a-uuid'" },
  { "vcpus-zero.xml", "VM has an invalid VCPU count '0'" },
  { "vcpus-overflow.xml", "invalid VCPU count '18446744073709551617'" },
  { "no-memory.xml", "VM has no valid memory_static_max" },
  { "memory-absurd.xml", "MiB of memory is out of range" },
  { "duplicate-userdevice.xml", "two disks on userdevice 0" },
  { "vdi-attached-twice.xml", "VDI 'Ref:2' is attached twice" },
  { "bad-userdevice.xml", "VBD 'Ref:1' has an invalid userdevice" },
  { "name-not-text.xml", "VM has no name_label" },
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

static int
parse_buf (const char *xml, size_t len, const char *name)
{
  struct vm vm;
  char **refs;
  int r;

  vm_init (&vm);
  r = xva_xml_parse (xml, len, name, &vm, &refs);
  assert_true (r == 0 ? refs != NULL : refs == NULL);
  free_refs (refs);
  vm_free (&vm);
  return r;
}

static int
parse_file (const char *name)
{
  char file[1024];
  size_t len;
  char *xml;
  int r;

  snprintf (file, sizeof file, "%s/hostile/%s", dir, name);
  xml = unit_slurp (file, &len);
  r = parse_buf (xml, len, name);
  free (xml);
  return r;
}

static void
expect_error (const char *name, const char *msg)
{
  char want[512];

  snprintf (want, sizeof want, "xva: '%s': ", name);
  if (strncmp (error_get (), want, strlen (want)) != 0 ||
      strstr (error_get (), msg) == NULL ||
      strchr (error_get (), '\n') != NULL)
    fail_msg ("%s: got \"%s\", want \"%s\"", name, error_get (), msg);
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
      fail_msg ("%s has no expected error in test-xva-xml.c", e->d_name);
  }
  closedir (d);
  for (i = 0; i < N_HOSTILE; i++) {
    if (parse_file (hostile[i].file) == 0)
      fail_msg ("%s was accepted", hostile[i].file);
    expect_error (hostile[i].file, hostile[i].msg);
  }
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
test_hostile_corpus (void **state)
{
  char cmd[2048];

  (void) state;
  snprintf (cmd, sizeof cmd, "%s/gen-hostile-xva.sh %s >/dev/null",
            datadir, path ("hostile"));
  assert_int_equal (system (cmd), 0);
  /* libxml2 must stay silent: our one-line error is the only report. */
  assert_int_equal (stderr_bytes_of (run_corpus), 0);
}

static void
test_hostile_too_large (void **state)
{
  size_t len = XVA_MAX_XML + 1;
  char *xml = malloc (len);

  (void) state;
  assert_non_null (xml);
  memset (xml, ' ', len);
  memcpy (xml, "<value>", 7);
  assert_int_equal (parse_buf (xml, len, "big.xml"), -1);
  expect_error ("big.xml", "16777217 bytes is too large");
  free (xml);
}

static void
test_hostile_too_many_objects (void **state)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  (void) state;
  strbuf_adds (&sb, "<value><struct><member><name>objects</name><value>"
               "<array><data>");
  for (i = 0; i <= XVA_MAX_OBJECTS; i++)
    strbuf_adds (&sb, "<value/>");
  strbuf_adds (&sb, "</data></array></value></member></struct></value>");
  assert_int_equal (parse_buf (sb.buf, sb.len, "many.xml"), -1);
  expect_error ("many.xml", "more than 100000 objects");
  strbuf_release (&sb);
}

static int
setup (void **state)
{
  const char *slash = strrchr (__FILE__, '/');

  (void) state;
  snprintf (datadir, sizeof datadir, "%.*s/../data",
            slash ? (int) (slash - __FILE__) : 1, slash ? __FILE__ : ".");
  return mkdtemp (dir) ? 0 : -1;
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
    cmocka_unit_test (test_round_trip),
    cmocka_unit_test (test_write_shape),
    cmocka_unit_test (test_sample),
    cmocka_unit_test (test_hostile_corpus),
    cmocka_unit_test (test_hostile_too_large),
    cmocka_unit_test (test_hostile_too_many_objects),
  };

  return cmocka_run_group_tests (tests, setup, teardown);
}

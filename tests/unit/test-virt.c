/* test-virt.c: libvirt through its C API (ova/virt.h), against libvirt's
 * own in-process test driver (test:///default: no daemon): defining never
 * replaces a domain (by name or by UUID), a domain's XML and state,
 * starting, a host offering no hvm guests, a URI that does not answer;
 * a domain read as a VM only while shut off. */
#include "tests/unit/unit.h"

#include <string.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "ova/virt.h"
#include "ova/vm.h"

static const char domain[] =
  "<domain type='test'>\n"
  "  <name>%s</name>\n"
  "  <uuid>%s</uuid>\n"
  "  <memory unit='MiB'>64</memory>\n"
  "  <os><type arch='x86_64'>hvm</type></os>\n"
  "</domain>\n";

static const char uuid_a[] = "8b2a6fc6-0000-4000-8000-00000000000a";
static const char uuid_b[] = "8b2a6fc6-0000-4000-8000-00000000000b";

/* Define NAME with UUID (text) through virt_define. */
static int
define (struct virt *v, const char *name, const char *uuid)
{
  char xml[1024];
  uint8_t u[16];

  assert_int_equal (ids_uuid_parse (uuid, u), 0);
  snprintf (xml, sizeof xml, domain, name, uuid);
  return virt_define (v, xml, name, u);
}

static void
test_define_never_replaces (void **state)
{
  struct virt *v = virt_open ("test:///default");
  uint8_t u[16];

  (void) state;
  assert_non_null (v);
  assert_string_equal (virt_uri (v), "test:///default");
  /* The test driver's own domain, "test". */
  assert_int_equal (virt_check_free (v, "test", NULL), -1);
  assert_non_null (strstr (error_get (), "libvirt 'test:///default': "
                           "domain 'test' is already defined"));
  assert_int_equal (define (v, "ferry-a", uuid_a), 0);
  assert_int_equal (define (v, "ferry-a", uuid_b), -1);
  assert_non_null (strstr (error_get (), "domain 'ferry-a' is already "
                           "defined: refusing to replace it"));
  /* libvirt itself would replace a domain of the same name and UUID. */
  assert_int_equal (define (v, "ferry-a", uuid_a), -1);
  assert_int_equal (define (v, "ferry-b", uuid_a), -1);
  assert_non_null (strstr (error_get (), "domain 'ferry-b': UUID "));
  assert_non_null (strstr (error_get (), "belongs to domain 'ferry-a'"));
  assert_int_equal (ids_uuid_parse (uuid_b, u), 0);
  assert_int_equal (virt_check_free (v, "ferry-b", u), 0);
  virt_close (v);
}

static void
test_xml_state_start (void **state)
{
  struct virt *v = virt_open ("test:///default");
  char *xml;

  (void) state;
  assert_non_null (v);
  assert_int_equal (define (v, "ferry-c", uuid_b), 0);
  xml = virt_domain_xml (v, "ferry-c", true);
  assert_non_null (xml);
  assert_non_null (strstr (xml, "<name>ferry-c</name>"));
  assert_non_null (strstr (xml, uuid_b));
  free (xml);
  assert_int_equal (virt_domain_active (v, "ferry-c"), 0);
  assert_int_equal (virt_start (v, "ferry-c"), 0);
  assert_int_equal (virt_domain_active (v, "ferry-c"), 1);
  assert_int_equal (virt_start (v, "ferry-c"), -1);
  assert_non_null (strstr (error_get (), "domain 'ferry-c': start: "));
  assert_null (virt_domain_xml (v, "nothing", false));
  assert_string_equal (error_get (), "libvirt 'test:///default': domain "
                       "'nothing': no such domain");
  assert_int_equal (virt_domain_active (v, "nothing"), -1);
  virt_close (v);
}

static const char with_disk[] =
  "<domain type='test'>\n"
  "  <name>ferry-d</name>\n"
  "  <memory unit='MiB'>96</memory>\n"
  "  <vcpu>2</vcpu>\n"
  "  <os><type arch='x86_64'>hvm</type></os>\n"
  "  <devices>\n"
  "    <disk type='file' device='disk'>\n"
  "      <source file='/srv/ferry-d.img'/>\n"
  "      <target dev='vda' bus='virtio'/>\n"
  "    </disk>\n"
  "    <interface type='network'>\n"
  "      <mac address='52:54:00:12:34:56'/>\n"
  "      <source network='default'/>\n"
  "    </interface>\n"
  "  </devices>\n"
  "</domain>\n";

/* A shut-off domain becomes a VM; a running one (the driver's own "test",
 * then ferry-d started) is refused, naming it and its state. */
static void
test_read_vm (void **state)
{
  struct virt *v = virt_open ("test:///default");
  struct vm vm;

  (void) state;
  assert_non_null (v);
  vm_init (&vm);
  assert_int_equal (virt_read_vm (v, "test", &vm), -1);
  assert_string_equal (error_get (), "libvirt 'test:///default': domain "
                       "'test' is running: shut it down first (its disks "
                       "change while it runs)");
  assert_int_equal (virt_define (v, with_disk, "ferry-d", NULL), 0);
  assert_string_equal (virt_domain_state (v, "ferry-d"), "shut off");
  assert_int_equal (virt_read_vm (v, "ferry-d", &vm), 0);
  assert_string_equal (vm.name, "ferry-d");
  assert_int_equal (vm.cpus, 2);
  assert_int_equal (vm.memory_mib, 96);
  assert_int_equal (vm.disks.len, 1);
  assert_string_equal (vm.disks.ptr[0].file, "/srv/ferry-d.img");
  assert_int_equal (vm.nics.len, 1);
  assert_int_equal (vm.nics.ptr[0].mac[5], 0x56);
  vm_free (&vm);
  assert_int_equal (virt_start (v, "ferry-d"), 0);
  assert_string_equal (virt_domain_state (v, "ferry-d"), "running");
  vm_init (&vm);
  assert_int_equal (virt_read_vm (v, "ferry-d", &vm), -1);
  assert_non_null (strstr (error_get (), "domain 'ferry-d' is running"));
  assert_int_equal (virt_read_vm (v, "nothing", &vm), -1);
  assert_string_equal (error_get (), "libvirt 'test:///default': domain "
                       "'nothing': no such domain");
  assert_null (virt_domain_state (v, "nothing"));
  vm_free (&vm);
  virt_close (v);
}

/* The test driver offers domains of type 'test' only: neither kvm nor
 * qemu. */
static void
test_hvm_type (void **state)
{
  struct virt *v = virt_open ("test:///default");

  (void) state;
  assert_non_null (v);
  assert_null (virt_hvm_type (v, "x86_64"));
  assert_non_null (strstr (error_get (), "offers no x86_64 hvm guests"));
  assert_int_equal (virt_check_offers (v, "hvm", "i686", "test"), 0);
  assert_int_equal (virt_check_offers (v, "xen", "i686", "test"), 0);
  assert_int_equal (virt_check_offers (v, "hvm", "x86_64", "kvm"), -1);
  assert_int_equal (virt_check_offers (v, "xen", "x86_64", "xen"), -1);
  assert_string_equal (error_get (), "libvirt 'test:///default': offers no "
                       "x86_64 xen guests in domains of type xen");
  virt_close (v);
}

/* A socket nobody listens on: one line, naming the URI. */
static void
test_no_answer (void **state)
{
  const char *uri = "qemu+unix:///system?socket=/nonexistent/ferry-sock";

  (void) state;
  assert_null (virt_open (uri));
  assert_non_null (strstr (error_get (), "libvirt 'qemu+unix:///system?"
                           "socket=/nonexistent/ferry-sock': cannot "
                           "connect: "));
  assert_null (strchr (error_get (), '\n'));
  virt_close (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_define_never_replaces),
    cmocka_unit_test (test_xml_state_start),
    cmocka_unit_test (test_read_vm),
    cmocka_unit_test (test_hvm_type),
    cmocka_unit_test (test_no_answer),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* test-virt.c: libvirt through its C API (ova/virt.h), against libvirt's
 * own in-process test driver (test:///default: no daemon): defining never
 * replaces a domain (by name or by UUID), a domain's XML and state,
 * starting, a host offering no hvm guests, a URI that does not answer. */
#include "tests/unit/unit.h"

#include <string.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "ova/virt.h"

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
    cmocka_unit_test (test_hvm_type),
    cmocka_unit_test (test_no_answer),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

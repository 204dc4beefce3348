/* test-ids.c: UUID v4 bits and parsing, MAC prefixes, bits and uniqueness. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"

static void
test_uuid_bits (void **state)
{
  uint8_t u[16], first[16];
  int i;

  (void) state;
  assert_int_equal (ids_uuid_generate (first), 0);
  for (i = 0; i < 1000; i++) {
    assert_int_equal (ids_uuid_generate (u), 0);
    assert_int_equal (u[6] >> 4, 4);            /* version 4 */
    assert_int_equal (u[8] & 0xc0, 0x80);       /* RFC 4122 variant 10xx */
    assert_memory_not_equal (u, first, 16);
  }
}

static void
test_uuid_round_trip (void **state)
{
  uint8_t u[16], back[16];
  char s[37];
  size_t i;

  (void) state;
  assert_int_equal (ids_uuid_generate (u), 0);
  ids_uuid_format (u, s);
  assert_int_equal (strlen (s), 36);
  for (i = 0; i < 36; i++)
    if (i == 8 || i == 13 || i == 18 || i == 23)
      assert_int_equal (s[i], '-');
    else
      assert_non_null (strchr ("0123456789abcdef", s[i]));
  assert_int_equal (s[14], '4');
  assert_int_equal (ids_uuid_parse (s, back), 0);
  assert_memory_equal (u, back, 16);
}

static void
test_uuid_parse_forms (void **state)
{
  static const uint8_t want[16] = {
    0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
    0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00 };
  uint8_t u[16];
  char s[37];

  (void) state;
  assert_int_equal (ids_uuid_parse ("123e4567-e89b-12d3-a456-426614174000", u), 0);
  assert_memory_equal (u, want, 16);
  assert_int_equal (ids_uuid_parse ("123E4567E89B12D3A456426614174000", u), 0);
  assert_memory_equal (u, want, 16);
  ids_uuid_format (want, s);
  assert_string_equal (s, "123e4567-e89b-12d3-a456-426614174000");
}

static void
test_uuid_parse_invalid (void **state)
{
  static const char *const bad[] = {
    "", "123e4567-e89b-12d3-a456-42661417400",     /* short */
    "123e4567-e89b-12d3-a456-4266141740000",       /* long */
    "123e4567e-89b-12d3-a456-426614174000",        /* dash misplaced */
    "123e4567-e89b-12d3-a456-42661417400g",        /* not hex */
    "123e4567-e89b-12d3-a456+426614174000",
    "123e4567e89b12d3a45642661417400 ",
    "{123e4567-e89b-12d3-a456-426614174000}",
  };
  uint8_t u[16], zero[16] = { 0 };
  size_t i;

  (void) state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset (u, 0, sizeof u);
    assert_int_equal (ids_uuid_parse (bad[i], u), -1);
    assert_non_null (strstr (error_get (), "uuid: "));
    assert_memory_equal (u, zero, 16);          /* untouched on failure */
  }
}

static void
test_mac_random_local (void **state)
{
  uint8_t m[6];
  int i;

  (void) state;
  for (i = 0; i < 1000; i++) {
    assert_int_equal (ids_mac_generate (NULL, NULL, 0, m), 0);
    assert_int_equal (m[0] & 0x01, 0);          /* unicast */
    assert_int_equal (m[0] & 0x02, 0x02);       /* locally administered */
  }
}

static void
test_mac_prefix_kept (void **state)
{
  const uint8_t *prefixes[] = { IDS_MAC_PREFIX_XEN, IDS_MAC_PREFIX_KVM,
                                IDS_MAC_PREFIX_VMWARE, IDS_MAC_PREFIX_HYPERV,
                                IDS_MAC_PREFIX_VIRTUALBOX };
  uint8_t m[6];
  size_t i;

  (void) state;
  for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    assert_int_equal (ids_mac_generate (prefixes[i], NULL, 0, m), 0);
    assert_memory_equal (m, prefixes[i], 3);
    assert_int_equal (m[0] & 0x01, 0);
  }
  assert_int_equal (ids_mac_generate ((const uint8_t[3]) { 0x01, 0, 0x5e },
                                  NULL, 0, m), -1);
  assert_non_null (strstr (error_get (), "multicast"));
}

/* A batch: each new MAC joins the avoidance list, so all must differ. */
static void
test_mac_batch_unique (void **state)
{
  const size_t n = 2000;
  uint8_t (*macs)[6] = calloc (n, sizeof *macs);
  size_t i, k;

  (void) state;
  assert_non_null (macs);
  for (i = 0; i < n; i++) {
    assert_int_equal (ids_mac_generate (IDS_MAC_PREFIX_KVM,
                                    (const uint8_t (*)[6]) macs, i,
                                    macs[i]), 0);
    assert_memory_equal (macs[i], IDS_MAC_PREFIX_KVM, 3);
  }
  for (i = 0; i < n; i++)
    for (k = i + 1; k < n; k++)
      assert_memory_not_equal (macs[i], macs[k], 6);
  free (macs);
}

/* Avoid every 00:16:3e:0x:yy:zz with x < 4 (1/64 of the vendor space): over
 * 500 draws about 8 land there and must be redrawn; none may come out. */
static void
test_mac_avoid_respected (void **state)
{
  const size_t n = 4 << 16;
  uint8_t (*avoid)[6] = calloc (n, sizeof *avoid);
  uint8_t m[6];
  size_t i;

  (void) state;
  assert_non_null (avoid);
  for (i = 0; i < n; i++) {
    memcpy (avoid[i], IDS_MAC_PREFIX_XEN, 3);
    avoid[i][3] = (uint8_t) (i >> 16);
    avoid[i][4] = (uint8_t) (i >> 8);
    avoid[i][5] = (uint8_t) i;
  }
  for (i = 0; i < 500; i++) {
    assert_int_equal (ids_mac_generate (IDS_MAC_PREFIX_XEN,
                                    (const uint8_t (*)[6]) avoid, n, m), 0);
    assert_memory_equal (m, IDS_MAC_PREFIX_XEN, 3);
    assert_true (m[3] >= 4);
  }
  free (avoid);
}

static void
test_mac_format_parse (void **state)
{
  const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
  uint8_t m[6];
  char s[18];

  (void) state;
  ids_mac_format (want, s);
  assert_string_equal (s, "52:54:00:ab:cd:ef");
  assert_int_equal (ids_mac_parse (s, m), 0);
  assert_memory_equal (m, want, 6);
  assert_int_equal (ids_mac_parse ("52-54-00-AB-CD-EF", m), 0);
  assert_memory_equal (m, want, 6);
}

static void
test_mac_parse_invalid (void **state)
{
  static const char *const bad[] = {
    "", "52:54:00:ab:cd", "52:54:00:ab:cd:ef:", "52:54:00-ab:cd:ef",
    "52.54.00.ab.cd.ef", "52:54:00:ab:cd:eg", "5254:00:ab:cd:ef:0",
    " 52:54:00:ab:cd:e",
  };
  uint8_t m[6], zero[6] = { 0 };
  size_t i;

  (void) state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset (m, 0, sizeof m);
    assert_int_equal (ids_mac_parse (bad[i], m), -1);
    assert_non_null (strstr (error_get (), "mac: "));
    assert_memory_equal (m, zero, 6);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_uuid_bits),
    cmocka_unit_test (test_uuid_round_trip),
    cmocka_unit_test (test_uuid_parse_forms),
    cmocka_unit_test (test_uuid_parse_invalid),
    cmocka_unit_test (test_mac_random_local),
    cmocka_unit_test (test_mac_prefix_kept),
    cmocka_unit_test (test_mac_batch_unique),
    cmocka_unit_test (test_mac_avoid_respected),
    cmocka_unit_test (test_mac_format_parse),
    cmocka_unit_test (test_mac_parse_invalid),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}

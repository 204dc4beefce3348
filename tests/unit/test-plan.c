/* test-plan.c: clone batch plans — CSV and JSON manifests, every refusal
 * with its row and field, CSV quoting, --count names, derived MACs, UUIDs
 * and machine-ids (determinism, collisions, 1000 MACs), shards, and the
 * hostile corpus of tests/data/gen-hostile-manifest.sh. */
#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "clone/plan.h"

static char dir[] = "/tmp/ferry-test-plan-XXXXXX";
static char datadir[1024];

static const uint8_t golden_mac[1][6] = { { 0x52, 0x54, 0x00, 0xaa, 0xbb,
                                            0xcc } };
static const struct clone_golden_nics golden = {
  .n = 1, .macs = golden_mac, .n_macs = 1,
  .prefix = (const uint8_t[3]) { 0x52, 0x54, 0x00 },
};

static int
parse (const char *path, const char *text, struct clone_plan *plan)
{
  return clone_manifest_parse (path, text, strlen (text), plan);
}

/* Parse and derive, failing the test on any error. */
static void
plan_ok (const char *path, const char *text, const char *seed,
         struct clone_plan *plan)
{
  if (parse (path, text, plan) == -1)
    fail_msg ("%s", error_get ());
  if (clone_plan_derive (plan, seed, &golden) == -1)
    fail_msg ("%s", error_get ());
}

static void
assert_mac (const uint8_t mac[6], const char *want)
{
  char text[18];

  ids_mac_format (mac, text);
  assert_string_equal (text, want);
}

/* ---- good manifests --------------------------------------------------- */

static const char good_csv[] =
  "\xef\xbb\xbfName,hostname,MAC,ip,gateway,dns,mac2,ip2,cpus,memory\r\n"
  "web-01,web-01.example.com,52:54:00:12:34:56,192.0.2.10/24,192.0.2.1,"
  "\"192.0.2.53, 192.0.2.54;2001:db8::53\",,,2,2G\r\n"
  "db.lab,,,,,,,,,\r\n"
  "app_3,app3,,2001:DB8:0:0::10/64,fe80::1,,52-54-00-AB-CD-EF,"
  "10.0.0.5/8,4096,512\r\n"
  "\r\n";

static const char good_json[] =
  "  [ {\"name\": \"web-01\", \"hostname\": \"web-01.example.com\",\n"
  "     \"mac\": \"52:54:00:12:34:56\", \"ip\": \"192.0.2.10/24\",\n"
  "     \"gateway\": \"192.0.2.1\",\n"
  "     \"dns\": \"192.0.2.53, 192.0.2.54;2001:db8::53\",\n"
  "     \"cpus\": 2, \"memory\": \"2G\"},\n"
  "    {\"name\": \"db.lab\", \"mac2\": null},\n"
  "    {\"name\": \"app_3\", \"hostname\": \"app3\",\n"
  "     \"ip\": \"2001:DB8:0:0::10/64\", \"gateway\": \"fe80::1\",\n"
  "     \"MAC2\": \"52-54-00-AB-CD-EF\", \"ip2\": \"10.0.0.5/8\",\n"
  "     \"cpus\": \"4096\", \"memory\": 512} ]\n";

static void
check_good (const struct clone_plan *p)
{
  const struct clone_spec *s = p->specs;

  assert_int_equal (p->n, 3);
  assert_string_equal (s[0].name, "web-01");
  assert_string_equal (s[0].hostname, "web-01.example.com");
  assert_int_equal (s[0].row, 1);
  assert_true (s[0].nics[0].mac_given);
  assert_mac (s[0].nics[0].mac, "52:54:00:12:34:56");
  assert_string_equal (s[0].nics[0].ip, "192.0.2.10/24");
  assert_string_equal (s[0].nics[0].gateway, "192.0.2.1");
  assert_string_equal (s[0].nics[0].dns, "192.0.2.53,192.0.2.54,2001:db8::53");
  assert_int_equal (s[0].cpus, 2);
  assert_int_equal (s[0].memory_mib, 2048);
  assert_int_equal (s[0].n_nics, 1);
  assert_string_equal (s[1].name, "db.lab");
  assert_string_equal (s[1].hostname, "db.lab");
  assert_int_equal (s[1].n_nics, 0);
  assert_int_equal (s[1].cpus, 0);
  assert_null (s[1].nics[0].ip);
  assert_string_equal (s[2].hostname, "app3");
  assert_string_equal (s[2].nics[0].ip, "2001:db8::10/64");
  assert_string_equal (s[2].nics[0].gateway, "fe80::1");
  assert_false (s[2].nics[0].mac_given);
  assert_true (s[2].nics[1].mac_given);
  assert_mac (s[2].nics[1].mac, "52:54:00:ab:cd:ef");
  assert_string_equal (s[2].nics[1].ip, "10.0.0.5/8");
  assert_int_equal (s[2].n_nics, 2);
  assert_int_equal (s[2].cpus, 4096);
  assert_int_equal (s[2].memory_mib, 512);
}

static void
test_good_csv (void **state)
{
  struct clone_plan p;

  (void) state;
  if (parse ("m.csv", good_csv, &p) == -1)
    fail_msg ("%s", error_get ());
  check_good (&p);
  assert_string_equal (p.source, "m.csv");
  clone_plan_free (&p);
  clone_plan_free (&p);         /* twice: the plan is left empty */
}

static void
test_good_json (void **state)
{
  struct clone_plan p;

  (void) state;
  if (parse ("m.json", good_json, &p) == -1)
    fail_msg ("%s", error_get ());
  check_good (&p);
  clone_plan_free (&p);
}

/* After derivation: NIC counts, kept MACs, and CSV and JSON agree. */
static void
test_good_derived (void **state)
{
  struct clone_plan a, b;
  size_t i;

  (void) state;
  plan_ok ("m.csv", good_csv, "s", &a);
  plan_ok ("m.json", good_json, "s", &b);
  assert_int_equal (a.specs[1].n_nics, 1);      /* the golden's one NIC */
  assert_int_equal (a.specs[2].n_nics, 2);
  assert_mac (a.specs[0].nics[0].mac, "52:54:00:12:34:56");
  assert_mac (a.specs[2].nics[1].mac, "52:54:00:ab:cd:ef");
  for (i = 0; i < 3; i++) {
    assert_memory_equal (a.specs[i].nics, b.specs[i].nics, 0);
    assert_memory_equal (a.specs[i].uuid, b.specs[i].uuid, 16);
    assert_memory_equal (a.specs[i].machine_id, b.specs[i].machine_id, 16);
    assert_memory_equal (a.specs[i].nics[0].mac, b.specs[i].nics[0].mac, 6);
    assert_memory_equal (a.specs[i].nics[1].mac, b.specs[i].nics[1].mac, 6);
  }
  clone_plan_free (&a);
  clone_plan_free (&b);
}

/* ---- refusals: each its own test ------------------------------------- */

struct refusal {
  const char *name, *path, *text, *want;
};

#define HDR "name,mac,ip,gateway,dns\n"

static const struct refusal refusals[] = {
  { "name_slash", "m.csv", "name\nweb/1\n",
    "m.csv: row 1, field 'name': 'web/1' contains '/'" },
  { "name_dotdot", "m.csv", "name\nok\na..b\n",
    "m.csv: row 2, field 'name': 'a..b' contains '..'" },
  { "name_control", "m.csv", "name\n\"we\x01x\"\n",
    "m.csv: row 1, field 'name': 'we\\x01x' contains a control character" },
  { "name_newline", "m.csv", "name\n\"we\nx\"\n",
    "m.csv: row 1, field 'name': 'we\\x0ax' contains a control character" },
  { "name_leading_dot", "m.csv", "name\n.web\n",
    "m.csv: row 1, field 'name': '.web' starts with '.'" },
  { "name_leading_dash", "m.csv", "name\n-web\n",
    "m.csv: row 1, field 'name': '-web' starts with '-'" },
  { "name_too_long", "m.csv", "name\n"
    "a123456789012345678901234567890123456789012345678901234567890123\n",
    "m.csv: row 1, field 'name': 'a12345678901234567890123456789012345678901234"
    "567...' is longer than 63 bytes" },
  { "name_bad_char", "m.csv", "name\nweb 1\n",
    "m.csv: row 1, field 'name': 'web 1' contains ' '" },
  { "name_missing", "m.csv", "name,cpus\n,2\n",
    "m.csv: row 1, field 'name': missing" },
  { "name_no_column", "m.csv", "hostname\nweb\n",
    "m.csv: line 1: no 'name' column" },
  { "name_not_hostname", "m.csv", "name\nweb_1\n",
    "m.csv: row 1, field 'name': 'web_1' is no hostname: give the row a "
    "'hostname'" },
  { "hostname_dash", "m.csv", "name,hostname\nweb,web-.example.com\n",
    "m.csv: row 1, field 'hostname': 'web-.example.com' has a label starting "
    "or ending with '-'" },
  { "hostname_empty_label", "m.csv", "name,hostname\nweb,a..b\n",
    "m.csv: row 1, field 'hostname': 'a..b' has an empty label" },
  { "hostname_underscore", "m.csv", "name,hostname\nweb,we_b\n",
    "m.csv: row 1, field 'hostname': 'we_b' is not a valid hostname" },
  { "hostname_numeric_tld", "m.csv", "name,hostname\nweb,10.0.0.1\n",
    "m.csv: row 1, field 'hostname': '10.0.0.1' is not a valid hostname "
    "(its last label is all digits)" },
  { "hostname_label_long", "m.csv", "name,hostname\nweb,"
    "a1234567890123456789012345678901234567890123456789012345678901234.b\n",
    "m.csv: row 1, field 'hostname': 'a12345678901234567890123456789012345678"
    "901234567...' has a label longer than 63 bytes" },
  { "mac_invalid", "m.csv", HDR "web,52:54:00:zz:00:01,,,\n",
    "m.csv: row 1, field 'mac': '52:54:00:zz:00:01' is not a MAC address" },
  { "mac_multicast", "m.csv", HDR "web,01:00:5e:00:00:01,,,\n",
    "m.csv: row 1, field 'mac': 01:00:5e:00:00:01 is a multicast address" },
  { "mac_broadcast", "m.csv", HDR "web,ff:ff:ff:ff:ff:ff,,,\n",
    "m.csv: row 1, field 'mac': ff:ff:ff:ff:ff:ff is a multicast address" },
  { "mac_zero", "m.csv", HDR "web,00:00:00:00:00:00,,,\n",
    "m.csv: row 1, field 'mac': 00:00:00:00:00:00 is not a usable address" },
  { "mac_duplicate", "m.csv", HDR "a,52:54:00:00:00:01,,,\n"
    "b,52:54:00:00:00:02,,,\nc,52-54-00-00-00-01,,,\n",
    "m.csv: row 3, field 'mac': 52:54:00:00:00:01 is also the MAC of row 1 "
    "(field 'mac')" },
  { "mac_duplicate_in_row", "m.csv",
    "name,mac,mac2\na,52:54:00:00:00:01,52:54:00:00:00:01\n",
    "m.csv: row 1, field 'mac2': 52:54:00:00:00:01 is also the MAC of row 1 "
    "(field 'mac')" },
  { "ip_no_prefix", "m.csv", HDR "web,,192.0.2.10,,\n",
    "m.csv: row 1, field 'ip': '192.0.2.10' has no prefix length" },
  { "ip_bad_address", "m.csv", HDR "web,,192.0.2.300/24,,\n",
    "m.csv: row 1, field 'ip': '192.0.2.300/24' is not an IPv4 or IPv6 "
    "address" },
  { "ip_leading_zero", "m.csv", HDR "web,,192.0.2.010/24,,\n",
    "m.csv: row 1, field 'ip': '192.0.2.010/24' is not an IPv4 or IPv6 "
    "address" },
  { "ip_prefix_v4", "m.csv", HDR "web,,192.0.2.10/33,,\n",
    "m.csv: row 1, field 'ip': '192.0.2.10/33': prefix length /33 is out of "
    "range (1-32)" },
  { "ip_prefix_v6", "m.csv", HDR "web,,2001:db8::1/129,,\n",
    "m.csv: row 1, field 'ip': '2001:db8::1/129': prefix length /129 is out "
    "of range (1-128)" },
  { "ip_prefix_zero", "m.csv", HDR "web,,192.0.2.10/0,,\n",
    "m.csv: row 1, field 'ip': '192.0.2.10/0': prefix length /0 is out of "
    "range" },
  { "ip_prefix_junk", "m.csv", HDR "web,,192.0.2.10/2x,,\n",
    "m.csv: row 1, field 'ip': '192.0.2.10/2x' has an invalid prefix length" },
  { "ip_network", "m.csv", HDR "web,,192.0.2.0/24,,\n",
    "m.csv: row 1, field 'ip': '192.0.2.0/24' is the subnet's network or "
    "broadcast address" },
  { "ip_broadcast", "m.csv", HDR "web,,192.0.2.255/24,,\n",
    "m.csv: row 1, field 'ip': '192.0.2.255/24' is the subnet's network or "
    "broadcast address" },
  { "ip_loopback", "m.csv", HDR "web,,127.0.0.2/8,,\n",
    "m.csv: row 1, field 'ip': '127.0.0.2/8' is not a host address" },
  { "ip_multicast_v6", "m.csv", HDR "web,,ff02::1/64,,\n",
    "m.csv: row 1, field 'ip': 'ff02::1/64' is not a host address" },
  { "gateway_outside", "m.csv", HDR "web,,192.0.2.10/24,192.0.3.1,\n",
    "m.csv: row 1, field 'gateway': 192.0.3.1 is outside the subnet of ip "
    "192.0.2.10/24" },
  { "gateway_outside_v6", "m.csv", HDR "web,,2001:db8::10/64,2001:db9::1,\n",
    "m.csv: row 1, field 'gateway': 2001:db9::1 is outside the subnet of ip "
    "2001:db8::10/64" },
  { "gateway_no_ip", "m.csv", HDR "web,,,192.0.2.1,\n",
    "m.csv: row 1, field 'gateway': a gateway needs an ip (column 'ip')" },
  { "gateway2_no_ip", "m.csv", "name,gateway2\nweb,192.0.2.1\n",
    "m.csv: row 1, field 'gateway2': a gateway needs an ip (column 'ip2')" },
  { "gateway_family", "m.csv", HDR "web,,192.0.2.10/24,2001:db8::1,\n",
    "m.csv: row 1, field 'gateway': 2001:db8::1 is not of the same family" },
  { "gateway_prefix", "m.csv", HDR "web,,192.0.2.10/24,192.0.2.1/24,\n",
    "m.csv: row 1, field 'gateway': '192.0.2.1/24': a gateway is an address, "
    "without a prefix length" },
  { "gateway_is_ip", "m.csv", HDR "web,,192.0.2.10/24,192.0.2.10,\n",
    "m.csv: row 1, field 'gateway': 192.0.2.10 is the ip itself" },
  { "gateway_broadcast", "m.csv", HDR "web,,192.0.2.10/24,192.0.2.255,\n",
    "m.csv: row 1, field 'gateway': 192.0.2.255 is the network or broadcast "
    "address" },
  { "dns_bad", "m.csv", HDR "web,,192.0.2.10/24,,\"192.0.2.1,dns.example\"\n",
    "m.csv: row 1, field 'dns': 'dns.example' is not an IPv4 or IPv6 "
    "address" },
  { "dns_no_ip", "m.csv", HDR "web,,,,192.0.2.1\n",
    "m.csv: row 1, field 'dns': dns servers need an ip" },
  { "dns_empty_list", "m.csv", HDR "web,,192.0.2.10/24,,\";,;\"\n",
    "m.csv: row 1, field 'dns': no address" },
  { "dns_too_many", "m.csv", HDR "web,,192.0.2.10/24,,1.1.1.1 1.1.1.2 "
    "1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9 1.1.1.10 "
    "1.1.1.11 1.1.1.12 1.1.1.13 1.1.1.14 1.1.1.15 1.1.1.16 1.1.1.17\n",
    "m.csv: row 1, field 'dns': more than 16 servers" },
  { "cpus_zero", "m.csv", "name,cpus\nweb,0\n",
    "m.csv: row 1, field 'cpus': '0' is not a CPU count (1-4096)" },
  { "cpus_too_many", "m.csv", "name,cpus\nweb,4097\n",
    "m.csv: row 1, field 'cpus': '4097' is not a CPU count (1-4096)" },
  { "cpus_words", "m.csv", "name,cpus\nweb,two\n",
    "m.csv: row 1, field 'cpus': 'two' is not a CPU count" },
  { "cpus_negative", "m.csv", "name,cpus\nweb,-1\n",
    "m.csv: row 1, field 'cpus': '-1' is not a CPU count" },
  { "memory_unit", "m.csv", "name,memory\nweb,2GB\n",
    "m.csv: row 1, field 'memory': '2GB': unknown unit (M, MiB, G, GiB, T, "
    "TiB)" },
  { "memory_zero", "m.csv", "name,memory\nweb,0\n",
    "m.csv: row 1, field 'memory': '0' is out of range" },
  { "memory_overflow", "m.csv", "name,memory\nweb,99999999999999999T\n",
    "m.csv: row 1, field 'memory': '99999999999999999T' is out of range" },
  { "memory_digits", "m.csv", "name,memory\nweb,99999999999999999999\n",
    "m.csv: row 1, field 'memory': '99999999999999999999' is not a memory "
    "size" },
  { "memory_absurd", "m.csv", "name,memory\nweb,65T\n",
    "m.csv: row 1, field 'memory': '65T' is out of range (1 MiB to 64 TiB)" },
  { "nic_index_beyond", "m.csv", "name,mac17\nweb,52:54:00:00:00:01\n",
    "m.csv: line 1, field 'mac17': more NICs than a VM may have (at most 16)" },
  { "nic_index_json", "m.json", "[{\"name\": \"web\", \"ip99\": \"\"}]",
    "m.json: row 1, field 'ip99': more NICs than a VM may have (at most 16)" },
  { "nic_index_huge", "m.csv", "name,dns123456789\nweb,\n",
    "m.csv: line 1, field 'dns123456789': more NICs than a VM may have" },
  { "key_twice", "m.json", "[{\"name\": \"web\", \"MAC\": \"\", \"mac1\": \"\"}]",
    "m.json: row 1, field 'mac1': given twice" },
  { "nic_index_zero", "m.csv", "name,mac0\nweb,\n",
    "m.csv: line 1, field 'mac0': unknown column" },
  { "name_duplicate", "m.csv", "name\nweb\ndb\nWEB\n",
    "m.csv: row 3, field 'name': 'WEB' is also the name of row 1 (names are "
    "file names" },
  { "hostname_duplicate", "m.csv", "name,hostname\na,x.example\nb,X.EXAMPLE\n",
    "m.csv: row 2, field 'hostname': 'X.EXAMPLE' is also the hostname of "
    "row 1" },
  { "hostname_duplicate_default", "m.csv", "name,hostname\na,b\nb,\n",
    "m.csv: row 2, field 'hostname': 'b' is also the hostname of row 1" },
  { "column_unknown", "m.csv", "name,colour\nweb,blue\n",
    "m.csv: line 1, field 'colour': unknown column" },
  { "column_twice", "m.csv", "name,mac,MAC1\nweb,,\n",
    "m.csv: line 1, field 'MAC1': column given twice" },
  { "key_unknown", "m.json", "[{\"name\": \"web\", \"colour\": \"blue\"}]",
    "m.json: row 1, field 'colour': unknown column" },
  { "fields_too_few", "m.csv", "name,cpus\nweb,1\ndb\n",
    "m.csv: row 2: 1 fields where the header has 2" },
  { "fields_too_many", "m.csv", "name,cpus\nweb,1,2\n",
    "m.csv: row 1: 3 fields where the header has 2" },
  { "empty", "m.csv", " \r\n\n", "m.csv: empty manifest" },
  { "header_only", "m.csv", "name,mac\n", "m.csv: no rows" },
  { "header_blank", "m.csv", "\nname\nweb\n", "m.csv: line 1: no header row" },
  { "csv_unterminated", "m.csv", "name,cpus\nweb,\"2\n\ndb,1\n",
    "m.csv: line 2: unterminated quoted field" },
  { "csv_quote_in_plain", "m.csv", "name\nwe\"b\"\n",
    "m.csv: line 2: a quote inside an unquoted field" },
  { "csv_after_quote", "m.csv", "name,cpus\n\"web\"x,1\n",
    "m.csv: line 2: a character after a closing quote" },
  { "csv_quote_lines", "m.csv", "name\n\"we\n\nb\"x\n",
    "m.csv: line 4: a character after a closing quote" },
  { "csv_bare_cr", "m.csv", "name\rweb\n",
    "m.csv: line 1: a carriage return without a line feed" },
  { "csv_nul", "m.csv", "name\nw\0b\n", "m.csv: line 2: a NUL byte" },
  { "csv_blank_between", "m.csv", "name\nweb\n\ndb\n",
    "m.csv: line 3: a blank line between rows" },
  { "csv_doubled_quote", "m.csv", "name\n\"we\"\"b\"\n",
    "m.csv: row 1, field 'name': 'we\"b' contains '\"'" },
  { "json_not_array", "m.json", "{\"name\": \"a\"}",
    "m.json: a JSON manifest is an array of objects" },
  { "json_two_arrays", "m.json", "[{\"name\": \"a\"}] [",
    "m.json: line 1: invalid JSON" },
  { "json_object", "m.json", "  [1]", "m.json: row 1: not an object" },
  { "json_nested", "m.json", "[{\"name\": \"a\", \"dns\": [\"1.1.1.1\"]}]",
    "m.json: row 1: a value is an array or an object" },
  { "json_invalid", "m.json", "[{\"name\": \"a\",}]",
    "m.json: line 1: invalid JSON" },
  { "json_truncated", "m.json", "[{\"name\": \n\"a\"",
    "m.json: line 2: invalid JSON (unexpected end)" },
  { "json_trailing", "m.json", "[{\"name\": \"a\"}] x",
    "m.json: line 1: invalid JSON" },
  { "json_bool", "m.json", "[{\"name\": true}]",
    "m.json: row 1, field 'name': not a string" },
  { "json_number_mac", "m.json", "[{\"name\": \"a\", \"mac\": 5}]",
    "m.json: row 1, field 'mac': not a string" },
  { "json_float_cpus", "m.json", "[{\"name\": \"a\", \"cpus\": 1.5}]",
    "m.json: row 1, field 'cpus': not a string or a whole number" },
  { "json_negative_cpus", "m.json", "[{\"name\": \"a\", \"cpus\": -2}]",
    "m.json: row 1, field 'cpus': '-2' is not a CPU count" },
  { "json_nul", "m.json", "[{\"name\": \"a\\u0000b\"}]",
    "m.json: row 1, field 'name': a NUL character" },
  { "json_no_name", "m.json", "[{\"name\": \"a\"}, {\"cpus\": 2}]",
    "m.json: row 2, field 'name': missing" },
  { "json_empty_array", "m.json", "[]", "m.json: no rows" },
  { "json_single_quotes", "m.json", "[{'name': 'a'}]",
    "m.json: line 1: invalid JSON" },
  { "json_bad_utf8", "m.json", "[{\"name\": \"a\xff\"}]",
    "m.json: line 1: invalid JSON" },
  { "json_dup_name", "m.json", "[{\"name\": \"a\"}, {\"name\": \"A\"}]",
    "m.json: row 2, field 'name': 'A' is also the name of row 1" },
};
#define N_REFUSALS (sizeof refusals / sizeof refusals[0])

static void
assert_one_line_prefix (const char *want)
{
  const char *got = error_get ();

  if (strncmp (got, want, strlen (want)) != 0 || strchr (got, '\n'))
    fail_msg ("got \"%s\", want \"%s...\"", got, want);
}

static void
test_refusal (void **state)
{
  const struct refusal *r = *state;
  struct clone_plan p;
  size_t len = strlen (r->text);

  if (strcmp (r->name, "csv_nul") == 0)
    len = 9;                    /* "name\nw\0b\n" */
  error_clear ();
  if (clone_manifest_parse (r->path, r->text, len, &p) == 0)
    fail_msg ("%s was accepted", r->name);
  assert_null (p.specs);
  assert_int_equal (p.n, 0);
  assert_null (p.source);
  assert_one_line_prefix (r->want);
}

/* ---- bounds ----------------------------------------------------------- */

static void
test_too_large (void **state)
{
  size_t len = CLONE_MAX_MANIFEST + 1;
  char *text = malloc (len);
  struct clone_plan p;

  (void) state;
  assert_non_null (text);
  memset (text, '\n', len);
  memcpy (text, "name\nweb", 8);
  assert_int_equal (clone_manifest_parse ("big.csv", text, len, &p), -1);
  assert_one_line_prefix ("big.csv: 16777217 bytes is too large "
                          "(at most 16777216)");
  free (text);
}

/* CLONE_MAX_ROWS rows pass, one more is refused, in CSV and JSON. */
static char *
many_rows (bool json, size_t n)
{
  size_t size = 32 + n * 24, i, o;
  char *t = malloc (size);

  assert_non_null (t);
  o = (size_t) snprintf (t, size, json ? "[" : "name\n");
  for (i = 0; i < n; i++)
    o += (size_t) snprintf (t + o, size - o, json ? "%s{\"name\":\"v%zu\"}" :
                            "%sv%zu\n", json && i ? "," : "", i);
  snprintf (t + o, size - o, json ? "]" : "");
  return t;
}

static void
test_too_many_rows (void **state)
{
  struct clone_plan p;
  int json;

  (void) state;
  for (json = 0; json <= 1; json++) {
    char *ok = many_rows (json, CLONE_MAX_ROWS);
    char *bad = many_rows (json, CLONE_MAX_ROWS + 1);

    if (parse ("rows", ok, &p) == -1)
      fail_msg ("%s", error_get ());
    assert_int_equal (p.n, CLONE_MAX_ROWS);
    clone_plan_free (&p);
    assert_int_equal (parse ("rows", bad, &p), -1);
    assert_one_line_prefix ("rows: more than 10000 rows");
    free (ok);
    free (bad);
  }
}

static void
test_too_many_fields (void **state)
{
  struct clone_plan p;
  char text[2048];
  size_t o, i;

  (void) state;
  o = (size_t) snprintf (text, sizeof text, "[{\"name\":\"a\"");
  for (i = 0; i < 80; i++)
    o += (size_t) snprintf (text + o, sizeof text - o, ",\"x%zu\":1", i);
  snprintf (text + o, sizeof text - o, "}]");
  assert_int_equal (parse ("f.json", text, &p), -1);
  assert_one_line_prefix ("f.json: row 1: more than 68 fields");
  o = (size_t) snprintf (text, sizeof text, "name");
  for (i = 0; i < 80; i++)
    o += (size_t) snprintf (text + o, sizeof text - o, ",x%zu", i);
  assert_int_equal (parse ("f.csv", text, &p), -1);
  assert_one_line_prefix ("f.csv: line 1: more than 68 fields");
}

static void
test_field_too_long (void **state)
{
  struct clone_plan p;
  char text[6000];

  (void) state;
  snprintf (text, sizeof text, "name\n%05000d\n", 1);
  assert_int_equal (parse ("l.csv", text, &p), -1);
  assert_one_line_prefix ("l.csv: line 2: a field longer than 4096 bytes");
  snprintf (text, sizeof text, "[{\"name\":\"%05000d\"}]", 1);
  assert_int_equal (parse ("l.json", text, &p), -1);
  assert_one_line_prefix ("l.json: row 1, field 'name': longer than 4096 "
                          "bytes");
}

/* All sixteen NICs, each with its columns. */
static void
test_sixteen_nics (void **state)
{
  struct clone_plan p;
  char text[4096];
  size_t o, i;

  (void) state;
  o = (size_t) snprintf (text, sizeof text, "name");
  for (i = 1; i <= CLONE_MAX_NICS; i++)
    o += (size_t) snprintf (text + o, sizeof text - o,
                            ",mac%zu,ip%zu,gateway%zu,dns%zu", i, i, i, i);
  o += (size_t) snprintf (text + o, sizeof text - o, "\nweb");
  for (i = 1; i <= CLONE_MAX_NICS; i++)
    o += (size_t) snprintf (text + o, sizeof text - o,
                            ",52:54:00:00:00:%02zx,10.%zu.0.2/16,10.%zu.0.1,"
                            "10.%zu.0.53", i, i, i, i);
  plan_ok ("n.csv", text, "s", &p);
  assert_int_equal (p.specs[0].n_nics, CLONE_MAX_NICS);
  assert_string_equal (p.specs[0].nics[15].ip, "10.16.0.2/16");
  assert_mac (p.specs[0].nics[15].mac, "52:54:00:00:00:10");
  clone_plan_free (&p);
}

/* ---- CSV quoting ------------------------------------------------------ */

static void
test_csv_quoting (void **state)
{
  /* Quoted header cells, a comma and blanks inside quotes, a quoted empty
   * cell (not given), CRLF line ends, a quoted field across lines. */
  static const char ok[] =
    "\"name\",\"dns\",ip,\"hostname\"\r\n"
    "\"web\",\"1.1.1.1,\t 8.8.8.8\",10.0.0.2/8,\"\"\r\n"
    "db,,,\"db\r\n.example\"\r\n";
  static const char newline[] =
    "name,dns,ip\nweb,\"1.1.1.1\n8.8.8.8\",10.0.0.2/8\n";
  static const char quote_in_header[] = "name,\"host\"\"name\"\nweb,h\n";
  struct clone_plan p;

  (void) state;
  assert_int_equal (parse ("q.csv", ok, &p), -1);
  assert_one_line_prefix ("q.csv: row 2, field 'hostname': 'db\\x0d\\x0a"
                          ".example' is not a valid hostname");
  assert_int_equal (clone_manifest_parse ("q.csv", ok, sizeof ok - 17, &p),
                    0);
  assert_int_equal (p.n, 2);
  assert_string_equal (p.specs[0].nics[0].dns, "1.1.1.1,8.8.8.8");
  assert_string_equal (p.specs[0].hostname, "web");
  assert_string_equal (p.specs[1].name, "db");
  assert_null (p.specs[1].nics[0].dns);
  clone_plan_free (&p);
  assert_int_equal (parse ("q.csv", newline, &p), -1);
  assert_one_line_prefix ("q.csv: row 1, field 'dns': '1.1.1.1\\x0a8.8.8.8' "
                          "is not an IPv4 or IPv6 address");
  assert_int_equal (parse ("q.csv", quote_in_header, &p), -1);
  assert_one_line_prefix ("q.csv: line 1, field 'host\"name': unknown "
                          "column");
}

/* ---- --count / --name ------------------------------------------------- */

static void
test_count (void **state)
{
  struct clone_plan p;

  (void) state;
  assert_int_equal (clone_plan_count (12, "web-%02d", &p), 0);
  assert_int_equal (p.n, 12);
  assert_string_equal (p.specs[0].name, "web-01");
  assert_string_equal (p.specs[11].hostname, "web-12");
  assert_int_equal (p.specs[0].row, 0);
  assert_null (p.source);
  assert_int_equal (clone_plan_derive (&p, "s", &golden), 0);
  clone_plan_free (&p);
  assert_int_equal (clone_plan_count (3, "a%%b%u", &p), -1);
  assert_one_line_prefix ("name pattern 'a%%b%u': clone 1: 'a%b1' contains "
                          "'%'");
  assert_int_equal (clone_plan_count (2, "n%i.x%-3d", &p), -1);
  assert_one_line_prefix ("name pattern 'n%i.x%-3d': one integer conversion");
  assert_int_equal (clone_plan_count (2, "web", &p), -1);
  assert_one_line_prefix ("name pattern 'web': no %d to number the clones");
  assert_int_equal (clone_plan_count (2, "web%s", &p), -1);
  assert_one_line_prefix ("name pattern 'web%s': one integer conversion");
  assert_int_equal (clone_plan_count (2, "w%123d", &p), -1);
  assert_one_line_prefix ("name pattern 'w%123d': one integer conversion");
  assert_int_equal (clone_plan_count (2, "../%d", &p), -1);
  assert_one_line_prefix ("name pattern '../%d': clone 1: '../1' contains "
                          "'/'");
  assert_int_equal (clone_plan_count (2, "w_%d", &p), -1);
  assert_one_line_prefix ("name pattern 'w_%d': clone 1: 'w_1' is not a "
                          "valid hostname");
  assert_int_equal (clone_plan_count (0, "w%d", &p), -1);
  assert_one_line_prefix ("clone count 0 is out of range (1-10000)");
  assert_int_equal (clone_plan_count (10001, "w%d", &p), -1);
  assert_int_equal (clone_plan_count (2, "w%-3d", &p), -1);
  assert_one_line_prefix ("name pattern 'w%-3d': clone 1: 'w1  ' contains "
                          "' '");
  assert_int_equal (clone_plan_count (10000, "w%.5u", &p), 0);
  assert_string_equal (p.specs[9999].name, "w10000");
  assert_string_equal (p.specs[0].name, "w00001");
  clone_plan_free (&p);
}

/* ---- derivation ------------------------------------------------------- */

/* HMAC-SHA256 as plan.h documents it, computed here independently. */
static void
expected_digest (const char *seed, const void *msg, size_t len,
                 uint8_t d[32])
{
  unsigned dlen = 0;

  assert_non_null (HMAC (EVP_sha256 (), seed, (int) strlen (seed), msg, len,
                         d, &dlen));
  assert_int_equal (dlen, 32);
}

static void
expected_mac (const char *seed, const char *name, unsigned nic,
              unsigned counter, uint8_t mac[6])
{
  char msg[128];
  uint8_t d[32];
  int len = snprintf (msg, sizeof msg, "mac%c%s%c%u%c%u", 0, name, 0, nic, 0,
                      counter);

  expected_digest (seed, msg, (size_t) len, d);
  memcpy (mac, golden.prefix, 3);
  memcpy (mac + 3, d, 3);
}

static void
test_derive_documented (void **state)
{
  struct clone_plan p;
  uint8_t mac[6], d[32];
  char msg[64];
  int len;

  (void) state;
  plan_ok ("d.csv", "name,mac2\nweb,\n", "seed-1", &p);
  assert_int_equal (p.specs[0].n_nics, 1);
  expected_mac ("seed-1", "web", 1, 0, mac);
  assert_memory_equal (p.specs[0].nics[0].mac, mac, 6);
  len = snprintf (msg, sizeof msg, "uuid%cweb", 0);
  expected_digest ("seed-1", msg, (size_t) len, d);
  d[6] = (uint8_t) ((d[6] & 0x0f) | 0x40);
  d[8] = (uint8_t) ((d[8] & 0x3f) | 0x80);
  assert_memory_equal (p.specs[0].uuid, d, 16);
  len = snprintf (msg, sizeof msg, "machine-id%cweb", 0);
  expected_digest ("seed-1", msg, (size_t) len, d);
  d[6] = (uint8_t) ((d[6] & 0x0f) | 0x40);
  d[8] = (uint8_t) ((d[8] & 0x3f) | 0x80);
  assert_memory_equal (p.specs[0].machine_id, d, 16);
  /* Deriving again changes nothing. */
  assert_int_equal (clone_plan_derive (&p, "seed-1", &golden), 0);
  assert_memory_equal (p.specs[0].nics[0].mac, mac, 6);
  clone_plan_free (&p);
}

static void
test_derive_deterministic (void **state)
{
  struct clone_plan a, b, c;
  size_t i;

  (void) state;
  plan_ok ("m.csv", good_csv, "one", &a);
  plan_ok ("m.csv", good_csv, "one", &b);
  plan_ok ("m.csv", good_csv, "two", &c);
  for (i = 0; i < a.n; i++) {
    assert_memory_equal (a.specs[i].nics[0].mac, b.specs[i].nics[0].mac, 6);
    assert_memory_equal (a.specs[i].uuid, b.specs[i].uuid, 16);
    assert_memory_equal (a.specs[i].machine_id, b.specs[i].machine_id, 16);
    assert_memory_not_equal (a.specs[i].uuid, c.specs[i].uuid, 16);
    assert_memory_not_equal (a.specs[i].machine_id, c.specs[i].machine_id,
                             16);
    assert_memory_not_equal (a.specs[i].uuid, a.specs[i].machine_id, 16);
    assert_int_equal (a.specs[i].uuid[6] >> 4, 4);
    assert_int_equal (a.specs[i].uuid[8] & 0xc0, 0x80);
    assert_int_equal (a.specs[i].machine_id[6] >> 4, 4);
    assert_int_equal (a.specs[i].machine_id[8] & 0xc0, 0x80);
  }
  /* Given MACs stay; derived ones follow the seed. */
  assert_memory_equal (a.specs[0].nics[0].mac, c.specs[0].nics[0].mac, 6);
  assert_memory_not_equal (a.specs[1].nics[0].mac, c.specs[1].nics[0].mac, 6);
  assert_memory_not_equal (a.specs[0].uuid, a.specs[1].uuid, 16);
  clone_plan_free (&a);
  clone_plan_free (&b);
  clone_plan_free (&c);
}

static bool
same_spec (const struct clone_spec *a, const struct clone_spec *b)
{
  size_t j;

  if (strcmp (a->name, b->name) != 0 || a->n_nics != b->n_nics ||
      memcmp (a->uuid, b->uuid, 16) != 0 ||
      memcmp (a->machine_id, b->machine_id, 16) != 0)
    return false;
  for (j = 0; j < a->n_nics; j++)
    if (memcmp (a->nics[j].mac, b->nics[j].mac, 6) != 0)
      return false;
  return true;
}

/* Each shard run derives alone, as a host would; together the shards
 * hold exactly the specs of the full run. */
static void
test_shards_union (void **state)
{
  static const char text[] =
    "name,mac,mac2\n"
    "a,,\nb,,\nc,52:54:00:00:00:07,\nd,,\ne,,52:54:00:00:00:08\nf,,\ng,,\n";
  struct clone_plan full;
  bool seen[7] = { false };
  unsigned k;
  size_t i;

  (void) state;
  plan_ok ("s.csv", text, "shard-seed", &full);
  for (k = 1; k <= 3; k++) {
    struct clone_plan part;

    plan_ok ("s.csv", text, "shard-seed", &part);
    for (i = 0; i < part.n; i++) {
      if (!clone_plan_in_shard (i, k, 3))
        continue;
      assert_false (seen[i]);
      seen[i] = true;
      assert_true (same_spec (&part.specs[i], &full.specs[i]));
    }
    clone_plan_free (&part);
  }
  for (i = 0; i < full.n; i++)
    assert_true (seen[i]);
  assert_true (clone_plan_in_shard (0, 1, 3));
  assert_true (clone_plan_in_shard (5, 3, 3));
  assert_false (clone_plan_in_shard (5, 1, 3));
  assert_false (clone_plan_in_shard (5, 1, 0));
  clone_plan_free (&full);
}

static int
mac_cmp (const void *a, const void *b)
{
  return memcmp (a, b, 6);
}

static void
test_thousand_macs (void **state)
{
  static uint8_t macs[1000 * 2][6];
  struct clone_plan p;
  size_t i, j, n = 0;

  (void) state;
  assert_int_equal (clone_plan_count (1000, "vm%04d", &p), 0);
  p.specs[0].n_nics = 2;        /* one clone asks for a second NIC */
  assert_int_equal (clone_plan_derive (&p, "batch", &golden), 0);
  for (i = 0; i < p.n; i++)
    for (j = 0; j < p.specs[i].n_nics; j++) {
      const uint8_t *m = p.specs[i].nics[j].mac;

      assert_memory_equal (m, golden.prefix, 3);
      assert_int_equal (m[0] & 0x01, 0);
      assert_memory_not_equal (m, golden_mac[0], 6);
      memcpy (macs[n++], m, 6);
    }
  assert_int_equal (n, 1001);
  qsort (macs, n, 6, mac_cmp);
  for (i = 1; i < n; i++)
    assert_memory_not_equal (macs[i - 1], macs[i], 6);
  clone_plan_free (&p);
}

/* A given MAC of a later row, and the golden's, that the first
 * derivation of an earlier clone would produce: that clone takes the
 * next counter, as everywhere. */
static void
test_forced_collision (void **state)
{
  struct clone_golden_nics g = golden;
  uint8_t first[6], second[6], third[6], gmac[1][6];
  char text[256], m[18];
  struct clone_plan p;

  (void) state;
  expected_mac ("c", "a", 1, 0, first);
  expected_mac ("c", "a", 1, 1, second);
  expected_mac ("c", "a", 1, 2, third);
  ids_mac_format (first, m);
  snprintf (text, sizeof text, "name,mac\na,\nb,%s\n", m);
  plan_ok ("c.csv", text, "c", &p);
  assert_memory_equal (p.specs[1].nics[0].mac, first, 6);
  assert_memory_equal (p.specs[0].nics[0].mac, second, 6);
  clone_plan_free (&p);
  /* The golden holds the second candidate too. */
  memcpy (gmac[0], second, 6);
  g.macs = (const uint8_t (*)[6]) gmac;
  if (parse ("c.csv", text, &p) == -1 ||
      clone_plan_derive (&p, "c", &g) == -1)
    fail_msg ("%s", error_get ());
  assert_memory_equal (p.specs[0].nics[0].mac, third, 6);
  clone_plan_free (&p);
}

static void
test_given_golden_mac (void **state)
{
  struct clone_plan p;

  (void) state;
  assert_int_equal (parse ("g.csv", "name,mac2\nweb,52:54:00:aa:bb:cc\n",
                           &p), 0);
  assert_int_equal (clone_plan_derive (&p, "s", &golden), -1);
  assert_one_line_prefix ("g.csv: row 1, field 'mac2': 52:54:00:aa:bb:cc is "
                          "the golden VM's MAC address");
  clone_plan_free (&p);
}

static void
test_derive_inputs (void **state)
{
  struct clone_golden_nics g = golden;
  struct clone_plan p;

  (void) state;
  assert_int_equal (clone_plan_count (2, "w%d", &p), 0);
  assert_int_equal (clone_plan_derive (&p, "", &golden), 0);
  g.prefix = (const uint8_t[3]) { 0x01, 0x00, 0x5e };
  assert_int_equal (clone_plan_derive (&p, "s", &g), -1);
  assert_one_line_prefix ("clone plan: MAC prefix 01:00:5e is a multicast "
                          "address");
  g.prefix = NULL;
  assert_int_equal (clone_plan_derive (&p, "s", &g), 0);
  assert_int_equal (p.specs[0].nics[0].mac[0] & 0x03, 0x02);
  g.n = CLONE_MAX_NICS + 1;
  assert_int_equal (clone_plan_derive (&p, "s", &g), -1);
  assert_one_line_prefix ("clone plan: the golden VM has 17 NICs");
  clone_plan_free (&p);
}

static void
test_shard_parse (void **state)
{
  static const char *bad[] = { "", "1", "0/3", "4/3", "1/0", "1/1001",
                               "+1/3", "1/3x", " 1/3", "01/3", "1//3",
                               "99999999999/3" };
  unsigned k, n;
  size_t i;

  (void) state;
  assert_int_equal (clone_shard_parse ("2/8", &k, &n), 0);
  assert_int_equal (k, 2);
  assert_int_equal (n, 8);
  assert_int_equal (clone_shard_parse ("1000/1000", &k, &n), 0);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (clone_shard_parse (bad[i], &k, &n) == 0)
      fail_msg ("'%s' was accepted", bad[i]);
    assert_non_null (strstr (error_get (), "shard '"));
  }
}

/* ---- the hostile corpus ----------------------------------------------- */

static const struct { const char *file, *msg; } hostile[] = {
  { "bom-json-nested.json", "row 2: a value is an array or an object" },
  { "csv-injection-name.csv", "row 1, field 'name': '=cmd|' /C calc'!A0' "
    "contains '/'" },
  { "deep-nesting.json", "row 1: a value is an array or an object" },
  { "dotdot-name.csv", "row 1, field 'name': '..' contains '..'" },
  { "huge-row-count.json", "more than 10000 rows" },
  { "huge-row-count.csv", "more than 10000 rows" },
  { "long-line.csv", "line 2: a field longer than 4096 bytes" },
  { "many-columns.csv", "line 1: more than 68 fields" },
  { "mac-multicast.json", "row 1, field 'mac': 01:00:5e:00:00:01 is a "
    "multicast address" },
  { "nic-17.csv", "line 1, field 'ip17': more NICs than a VM may have" },
  { "path-name.json", "row 1, field 'name': '/etc/passwd' contains '/'" },
  { "quote-unterminated.csv", "line 2: unterminated quoted field" },
  { "gateway-outside.csv", "row 1, field 'gateway': 10.0.1.1 is outside the "
    "subnet of ip 10.0.0.5/24" },
  { "escape-name.json", "row 1, field 'name': '\\x1b[2Jx' contains a "
    "control character" },
};
#define N_HOSTILE (sizeof hostile / sizeof hostile[0])

static char *
path (const char *name)
{
  static char buf[2048];

  snprintf (buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static int
parse_file (const char *name, struct clone_plan *p)
{
  size_t len;
  char *text = unit_slurp (path (name), &len);
  int r = clone_manifest_parse (name, text, len, p);

  free (text);
  return r;
}

static bool
listed (const char *name)
{
  size_t i;

  for (i = 0; i < N_HOSTILE; i++)
    if (strcmp (hostile[i].file, name) == 0)
      return true;
  return false;
}

static void
test_hostile_corpus (void **state)
{
  char cmd[4096], want[512];
  struct dirent *e;
  struct clone_plan p;
  DIR *d;
  size_t i;

  (void) state;
  snprintf (cmd, sizeof cmd, "%s/gen-hostile-manifest.sh %s >/dev/null",
            datadir, dir);
  assert_int_equal (system (cmd), 0);
  d = opendir (dir);
  assert_non_null (d);
  while ((e = readdir (d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (strncmp (e->d_name, "valid-", 6) == 0) {
      if (parse_file (e->d_name, &p) == -1 ||
          clone_plan_derive (&p, "corpus", &golden) == -1)
        fail_msg ("%s", error_get ());
      clone_plan_free (&p);
    }
    else if (!listed (e->d_name))
      fail_msg ("%s has no expected error in test-plan.c", e->d_name);
  }
  closedir (d);
  for (i = 0; i < N_HOSTILE; i++) {
    if (parse_file (hostile[i].file, &p) == 0)
      fail_msg ("%s was accepted", hostile[i].file);
    snprintf (want, sizeof want, "%s: %s", hostile[i].file, hostile[i].msg);
    assert_one_line_prefix (want);
  }
}

static int
setup (void **state)
{
  const char *slash = strrchr (__FILE__, '/');

  (void) state;
  snprintf (datadir, sizeof datadir, "%.*s/../data",
            slash ? (int) (slash - __FILE__) : 1, slash ? __FILE__ : ".");
  return mkdtemp (dir) == NULL ? -1 : 0;
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
  static const struct CMUnitTest fixed[] = {
    cmocka_unit_test (test_good_csv),
    cmocka_unit_test (test_good_json),
    cmocka_unit_test (test_good_derived),
    cmocka_unit_test (test_too_large),
    cmocka_unit_test (test_too_many_rows),
    cmocka_unit_test (test_too_many_fields),
    cmocka_unit_test (test_field_too_long),
    cmocka_unit_test (test_sixteen_nics),
    cmocka_unit_test (test_csv_quoting),
    cmocka_unit_test (test_count),
    cmocka_unit_test (test_derive_documented),
    cmocka_unit_test (test_derive_deterministic),
    cmocka_unit_test (test_shards_union),
    cmocka_unit_test (test_thousand_macs),
    cmocka_unit_test (test_forced_collision),
    cmocka_unit_test (test_given_golden_mac),
    cmocka_unit_test (test_derive_inputs),
    cmocka_unit_test (test_shard_parse),
    cmocka_unit_test (test_hostile_corpus),
  };
  size_t n_fixed = sizeof fixed / sizeof fixed[0], i;
  struct CMUnitTest tests[sizeof fixed / sizeof fixed[0] + N_REFUSALS];

  memcpy (tests, fixed, sizeof fixed);
  for (i = 0; i < N_REFUSALS; i++)
    tests[n_fixed + i] = (struct CMUnitTest) {
      .name = refusals[i].name, .test_func = test_refusal,
      .initial_state = (void *) (uintptr_t) &refusals[i],
    };
  return _cmocka_run_group_tests ("test-plan", tests, n_fixed + N_REFUSALS,
                                  setup, teardown);
}

/* test-identity.c: the pure text transforms of a clone's identity —
 * hosts and machine-info, machine-id, NetBIOS names, the answer file,
 * fingerprints — and lib/guest/linux-net.c's clone helpers: MAC pins
 * rewritten per format, connection UUIDs, expected names, and the
 * networkd/netplan/NetworkManager/ifcfg/ifupdown stanzas of a NIC. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "clone/identity-int.h"
#include "lib/common/error.h"
#include "lib/guest/linux-net.h"

static char dir[] = "/tmp/test-identity.XXXXXX";

#define G0 { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 }
#define C0 { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x01 }
#define C1 { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x02 }

static const uint8_t golden[1][6] = { G0 };
static const uint8_t clonemacs[2][6] = { C0, C1 };

static void
expect (char *got, const char *want)
{
  assert_non_null (got);
  assert_string_equal (got, want);
  free (got);
}

static void
test_hosts (void **state)
{
  int ch = 0;

  (void) state;
  expect (clone_id_hosts ("127.0.0.1\tlocalhost\n127.0.1.1\tferry-ref\n"
                          "::1 localhost ip6-localhost\n", "ferry-ref",
                          "web1", &ch),
          "127.0.0.1\tlocalhost\n127.0.1.1\tweb1\n"
          "::1 localhost ip6-localhost\n");
  assert_int_equal (ch, 1);
  ch = 0;
  /* FQDN: the 127.0.1.1 line gets both; other lines keep their form. */
  expect (clone_id_hosts ("127.0.1.1 gold.example.com gold # me\n"
                          "10.0.0.5   gold.example.com  gold\n"
                          "10.0.0.6 goldfish\n", "gold.example.com",
                          "web1.example.org", &ch),
          "127.0.1.1\tweb1.example.org web1 # me\n"
          "10.0.0.5   web1.example.org  web1\n10.0.0.6 goldfish\n");
  assert_int_equal (ch, 3);
  ch = 0;
  /* localhost as the old name is never replaced; comments untouched. */
  expect (clone_id_hosts ("# gold\n127.0.0.1 localhost\n", "localhost",
                          "web1", &ch), "# gold\n127.0.0.1 localhost\n");
  assert_int_equal (ch, 0);
  expect (clone_id_hosts ("127.0.0.1 localhost\n", NULL, "web1", &ch),
          "127.0.0.1 localhost\n");
  assert_int_equal (ch, 0);
}

static void
test_machine_info (void **state)
{
  int ch = 0;

  (void) state;
  expect (clone_id_machine_info ("PRETTY_HOSTNAME=\"gold\"\nCHASSIS=vm\n",
                                 "gold", "web1", &ch),
          "PRETTY_HOSTNAME=\"web1\"\nCHASSIS=vm\n");
  assert_int_equal (ch, 1);
  ch = 0;
  expect (clone_id_machine_info ("PRETTY_HOSTNAME=Build box\n", "gold",
                                 "web1", &ch), "PRETTY_HOSTNAME=Build box\n");
  assert_int_equal (ch, 0);
}

static void
test_machine_id_netbios (void **state)
{
  const uint8_t id[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                           0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };
  char out[33], nb[16], *x;

  (void) state;
  clone_id_machine_id (id, out);
  assert_string_equal (out, "0123456789abcdeffedcba9876543210");
  assert_int_equal (clone_id_netbios ("web-01.example.com", nb), 0);
  assert_string_equal (nb, "WEB-01");
  assert_int_equal (clone_id_netbios ("abcdefghijklmno", nb), 0);
  assert_int_equal (clone_id_netbios ("abcdefghijklmnop", nb), -1);
  assert_non_null (strstr (error_get (), "longer than 15"));
  assert_int_equal (clone_id_netbios (".x", nb), -1);
  x = clone_id_unattend ("WEB-01", "x86_64");
  assert_non_null (x);
  assert_non_null (strstr (x, "<ComputerName>WEB-01</ComputerName>"));
  assert_non_null (strstr (x, "processorArchitecture=\"amd64\""));
  assert_non_null (strstr (x, "Microsoft-Windows-Shell-Setup"));
  free (x);
  assert_null (clone_id_unattend ("a<b", "x86_64"));
  x = clone_id_short ("a.b.c");
  assert_string_equal (x, "a");
  free (x);
}

static void
test_fingerprint (void **state)
{
  (void) state;
  expect (clone_id_fingerprint ("256 SHA256:abcDEF+/x root@web1 (ED25519)\n",
                                "/etc/ssh/ssh_host_ed25519_key.pub"),
          "ED25519 SHA256:abcDEF+/x /etc/ssh/ssh_host_ed25519_key.pub");
  assert_null (clone_id_fingerprint ("garbage", "/x"));
  assert_null (clone_id_fingerprint ("256 MD5:aa x (RSA)", "/x"));
}

static struct lnet_macmap
map2 (void)
{
  struct lnet_macmap m = { .golden = golden, .n_golden = 1,
                           .clone = clonemacs, .n_clone = 2 };
  return m;
}

static void
test_pins (void **state)
{
  struct lnet_macmap m = map2 ();
  int ch = 0;

  (void) state;
  /* networkd: the golden's MAC -> NIC 1's, list values too. */
  expect (lnet_pins_rewrite ("[Match]\nMACAddress=52:54:00:00:00:01\n"
                             "[Network]\nAddress=192.0.2.1/24\n",
                             LNET_NETWORKD, &m, &ch),
          "[Match]\nMACAddress=52:54:00:aa:00:01\n"
          "[Network]\nAddress=192.0.2.1/24\n");
  assert_int_equal (ch, 1);
  /* An unknown MAC takes the NIC the golden lacked; case kept (ifcfg). */
  expect (lnet_pins_rewrite ("DEVICE=eth1\nHWADDR=\"52:54:00:99:99:99\"\n"
                             "#HWADDR=52:54:00:00:00:01\n", LNET_IFCFG, &m,
                             &ch),
          "DEVICE=eth1\nHWADDR=\"52:54:00:aa:00:02\"\n"
          "#HWADDR=52:54:00:00:00:01\n");
  /* The same unknown MAC maps the same way in the next file. */
  expect (lnet_pins_rewrite ("[ethernet]\nmac-address=52:54:00:99:99:99\n"
                             "cloned-mac-address=52-54-00-00-00-01\n",
                             LNET_NMKEYFILE, &m, &ch),
          "[ethernet]\nmac-address=52:54:00:aa:00:02\n"
          "cloned-mac-address=52-54-00-aa-00-01\n");
  /* netplan, upper case kept; a third unknown MAC has no NIC left. */
  expect (lnet_pins_rewrite ("    match:\n      macaddress: \"52:54:00:"
                             "00:00:01\"\n      macaddress: 52:54:00:77:77:"
                             "77\n", LNET_NETPLAN, &m, &ch),
          "    match:\n      macaddress: \"52:54:00:aa:00:01\"\n"
          "      macaddress: 52:54:00:77:77:77\n");
  assert_int_equal (m.unmapped, 1);
  m = map2 ();
  expect (lnet_pins_rewrite ("HWADDR=52:54:00:00:00:01\n", LNET_IFCFG, &m,
                             &ch), "HWADDR=52:54:00:aa:00:01\n");
  m = map2 ();
  expect (lnet_pins_rewrite ("HWADDR=52:54:00:AB:CD:EF\n", LNET_IFCFG, &m,
                             &ch), "HWADDR=52:54:00:AA:00:02\n");
}

static void
test_uuids_names (void **state)
{
  static const char *const nm_keys[] = { "uuid", "master", NULL };
  strv_vector olds = empty_vector, news = empty_vector, names = empty_vector;
  int ch = 0;

  (void) state;
  assert_int_equal (lnet_values_of ("[connection]\nuuid=AAAA\nid=x\n"
                                    "uuid=AAAA\n", "uuid", &olds), 0);
  assert_int_equal (olds.len, 1);
  assert_int_equal (strv_vector_append (&news, strdup ("bbbb")), 0);
  expect (lnet_values_replace ("[connection]\nuuid=aaaa\nmaster=AAAA\n"
                               "id=aaaa\n", nm_keys, &olds, &news, &ch),
          "[connection]\nuuid=bbbb\nmaster=bbbb\nid=aaaa\n");
  assert_int_equal (ch, 2);
  expect (lnet_values_replace ("UUID=\"AAAA\"\n", (const char *const[]) {
        "UUID", NULL }, &olds, &news, &ch), "UUID=\"bbbb\"\n");
  strv_vector_free (&olds);
  strv_vector_free (&news);

  assert_int_equal (lnet_names_add ("auto lo\niface lo inet loopback\n"
                                    "iface eth0 inet dhcp\n"
                                    "iface eth0:1 inet static\n",
                                    LNET_IFUPDOWN, &names), 0);
  assert_int_equal (lnet_names_add ("[Match]\nName=en* ens4\n[Link]\n"
                                    "Name=zz\n", LNET_NETWORKD, &names), 0);
  assert_int_equal (lnet_names_add ("network:\n  ethernets:\n    ens5:\n"
                                    "      dhcp4: true\n    id0:\n"
                                    "      match:\n        macaddress: x\n"
                                    "    id1:\n      match:\n"
                                    "        macaddress: y\n"
                                    "      set-name: lan1\n",
                                    LNET_NETPLAN, &names), 0);
  assert_int_equal (lnet_names_add ("DEVICE=\"eth0\"\n", LNET_IFCFG,
                                    &names), 0);
  assert_int_equal (names.len, 4);
  assert_string_equal (names.ptr[0], "eth0");
  assert_string_equal (names.ptr[1], "ens4");
  assert_string_equal (names.ptr[2], "ens5");
  assert_string_equal (names.ptr[3], "lan1");
  strv_vector_free (&names);
}

static const struct lnet_nic st = { "52:54:00:aa:00:01", "ens3",
                                    "192.0.2.10/24", "192.0.2.1",
                                    "192.0.2.53,192.0.2.54" };
static const struct lnet_nic dh = { "52:54:00:aa:00:02", "enx525400aa0002",
                                    NULL, NULL, NULL };

static void
test_stanzas (void **state)
{
  int ch = 0;

  (void) state;
  expect (lnet_networkd_nic (&st),
          "# Written by ferry clone: the NIC with MAC 52:54:00:aa:00:01.\n"
          "[Match]\nMACAddress=52:54:00:aa:00:01\n\n[Network]\n"
          "Address=192.0.2.10/24\nGateway=192.0.2.1\nDNS=192.0.2.53\n"
          "DNS=192.0.2.54\n");
  expect (lnet_networkd_nic (&dh),
          "# Written by ferry clone: the NIC with MAC 52:54:00:aa:00:02.\n"
          "[Match]\nMACAddress=52:54:00:aa:00:02\n\n[Network]\nDHCP=yes\n");
  expect (lnet_link_nic (&st),
          "# Written by ferry clone: the NIC with MAC 52:54:00:aa:00:01 is "
          "ens3, whatever slot or model it gets.\n[Match]\n"
          "MACAddress=52:54:00:aa:00:01\n\n[Link]\nName=ens3\n");
  expect (lnet_netplan_nic (&st, "00-ferry-nic1"),
          "# Written by ferry clone: the NIC with MAC 52:54:00:aa:00:01.\n"
          "network:\n  version: 2\n  ethernets:\n    00-ferry-nic1:\n"
          "      match:\n        macaddress: \"52:54:00:aa:00:01\"\n"
          "      set-name: ens3\n      dhcp4: false\n"
          "      addresses: [\"192.0.2.10/24\"]\n      routes:\n"
          "        - to: default\n          via: 192.0.2.1\n"
          "      nameservers:\n"
          "        addresses: [\"192.0.2.53\", \"192.0.2.54\"]\n");
  expect (lnet_nmkeyfile_nic (&st, "ferry-nic1", "u-1"),
          "# Written by ferry clone: the NIC with MAC 52:54:00:aa:00:01.\n"
          "[connection]\nid=ferry-nic1\nuuid=u-1\ntype=ethernet\n"
          "autoconnect-priority=50\n\n[ethernet]\n"
          "mac-address=52:54:00:aa:00:01\n\n[ipv4]\nmethod=manual\n"
          "address1=192.0.2.10/24,192.0.2.1\n"
          "dns=192.0.2.53;192.0.2.54;\n\n[ipv6]\nmethod=auto\n");
  expect (lnet_ifcfg_nic ("DEVICE=ens3\nBOOTPROTO=dhcp\nNETMASK=255.0.0.0\n"
                          "UUID=x\n", &st, &ch),
          "DEVICE=ens3\nBOOTPROTO=none\nUUID=x\nHWADDR=52:54:00:aa:00:01\n"
          "TYPE=Ethernet\nONBOOT=yes\nIPADDR=192.0.2.10\nPREFIX=24\n"
          "GATEWAY=192.0.2.1\nDNS1=192.0.2.53\nDNS2=192.0.2.54\n");
  expect (lnet_ifcfg_nic ("", &dh, &ch),
          "DEVICE=enx525400aa0002\nHWADDR=52:54:00:aa:00:02\n"
          "TYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=dhcp\n");
  expect (lnet_ifupdown_nic ("auto lo\niface lo inet loopback\n\n"
                             "allow-hotplug ens3\niface ens3 inet dhcp\n"
                             "    hostname x\niface ens3 inet6 auto\n",
                             &st, &ch),
          "auto lo\niface lo inet loopback\n\nallow-hotplug ens3\n"
          "iface ens3 inet6 auto\n\n"
          "# Written by ferry clone: the NIC with MAC 52:54:00:aa:00:01.\n"
          "iface ens3 inet static\n    address 192.0.2.10/24\n"
          "    gateway 192.0.2.1\n    dns-nameserver 192.0.2.53\n"
          "    dns-nameserver 192.0.2.54\n");
  expect (lnet_ifupdown_nic ("auto lo\n", &dh, &ch),
          "auto lo\n\n"
          "# Written by ferry clone: the NIC with MAC 52:54:00:aa:00:02.\n"
          "auto enx525400aa0002\niface enx525400aa0002 inet dhcp\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hosts),
    cmocka_unit_test (test_machine_info),
    cmocka_unit_test (test_machine_id_netbios),
    cmocka_unit_test (test_fingerprint),
    cmocka_unit_test (test_pins),
    cmocka_unit_test (test_uuids_names),
    cmocka_unit_test (test_stanzas),
  };
  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

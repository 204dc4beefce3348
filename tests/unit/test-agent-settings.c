/* test-agent-settings.c: the agent's table of settings, the ferry.* kernel
 * command line parser (every kind of bad input), the defaults from the
 * hardware and the generated man page section. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "p2v/agent.h"

static char dir[] = "/tmp/ferry-test-agent-settings.XXXXXX";

static void
test_table (void **state)
{
  size_t i, k;

  (void) state;
  for (i = 0; i < AK_COUNT; i++) {
    const struct agent_setting *st = &agent_settings_table[i];
    assert_int_equal (st->key, i);
    assert_true (st->name && st->name[0] && st->help && st->help[0]);
    assert_true (st->label && st->label[0]);
    assert_true (st->screen < AS_COUNT);
    assert_ptr_equal (agent_setting_by_name (st->name), st);
    for (k = 0; k < i; k++)
      assert_string_not_equal (agent_settings_table[k].name, st->name);
    /* A fixed default must pass the table's own checks. */
    if (st->fixed_default && st->fixed_default[0])
      assert_int_equal (agent_setting_check (st->key, st->fixed_default), 0);
    if (st->type == AT_CHOICE || st->type == AT_UINT)
      assert_non_null (st->choices);
  }
  assert_null (agent_setting_by_name ("nosuch"));
}

static void
test_parse_good (void **state)
{
  struct agent_settings s = { 0 };
  bool any;

  (void) state;
  assert_int_equal (agent_cmdline_parse (
    "BOOT_IMAGE=/live/vmlinuz boot=live quiet ferry.disks=sda,/dev/sdb "
    "ferry.target=nfs:10.0.0.5:/srv/p2v ferry.format=vmdk ferry.convert=kvm "
    "\"ferry.name=web-1.example\" ferry.cpus=4 ferry.memory=2048 "
    "ferry.ip=10.0.0.9/24,gw=10.0.0.1,dns=10.0.0.2 ferry.nic=eth1 "
    "ferry.post=shell ferry.console=ttyS0 ferry.yes", &s, &any), 0);
  assert_true (any);
  assert_string_equal (agent_get (&s, AK_DISKS), "sda,/dev/sdb");
  assert_string_equal (agent_get (&s, AK_TARGET), "nfs:10.0.0.5:/srv/p2v");
  assert_string_equal (agent_get (&s, AK_FORMAT), "vmdk");
  assert_string_equal (agent_get (&s, AK_CONVERT), "kvm");
  assert_string_equal (agent_get (&s, AK_NAME), "web-1.example");
  assert_string_equal (agent_get (&s, AK_CPUS), "4");
  assert_string_equal (agent_get (&s, AK_MEMORY), "2048");
  assert_string_equal (agent_get (&s, AK_NIC), "eth1");
  assert_string_equal (agent_get (&s, AK_POST), "shell");
  assert_string_equal (agent_get (&s, AK_CONSOLE), "ttyS0");
  assert_string_equal (agent_get (&s, AK_YES), "1");
  assert_true (agent_settings_unattended (&s));
  agent_settings_free (&s);

  /* No ferry.* word: nothing set, not unattended. */
  assert_int_equal (agent_cmdline_parse ("quiet splash ferryx=1", &s, &any), 0);
  assert_false (any);
  assert_null (s.val[AK_TARGET]);
  assert_false (agent_settings_unattended (&s));
  /* A target without ferry.yes is not unattended either (the TUI starts). */
  assert_int_equal (agent_cmdline_parse ("ferry.target=file:/x", &s, &any), 0);
  assert_false (agent_settings_unattended (&s));
  agent_settings_free (&s);
  /* ferry.yes=0 is explicit "ask". */
  assert_int_equal (agent_cmdline_parse ("ferry.target=/x ferry.yes=0", &s,
                                         &any), 0);
  assert_false (agent_settings_unattended (&s));
  agent_settings_free (&s);
  /* A quoted value keeps its blanks (and is refused by its check). */
  assert_int_equal (agent_cmdline_parse ("\"ferry.name=a b\"", &s, &any), -1);
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse ("", &s, &any), 0);
  assert_int_equal (agent_cmdline_parse ("   \t\n ", &s, &any), 0);
}

/* Every bad input: the parse fails and the message names the problem. */
static void
test_parse_bad (void **state)
{
  static const struct { const char *cmdline, *msg; } bad[] = {
    { "ferry.colour=red", "unknown kernel command line key 'ferry.colour'" },
    { "ferry.", "unknown kernel command line key 'ferry.'" },
    { "ferry.=x", "unknown kernel command line key 'ferry.'" },
    { "ferry.averyveryveryverylongkeyname=1", "unknown kernel command line key" },
    { "ferry.target", "ferry.target: needs a value" },
    { "ferry.yes=2", "ferry.yes: '2' is not 0 or 1" },
    { "ferry.format=iso", "ferry.format: 'iso' is not one of qcow2|vhd|vmdk|raw" },
    { "ferry.format=", "ferry.format: '' is not one of" },
    { "ferry.format=qcow", "ferry.format: 'qcow' is not one of" },
    { "ferry.format=qcow2x", "ferry.format: 'qcow2x' is not one of" },
    { "ferry.convert=vmware", "ferry.convert: 'vmware' is not one of" },
    { "ferry.post=halt", "ferry.post: 'halt' is not one of" },
    { "ferry.cpus=two", "ferry.cpus: 'two' is not a number" },
    { "ferry.cpus=-1", "ferry.cpus: '-1' is not a number" },
    { "ferry.cpus= 4", "ferry.cpus: '' is not a number" },
    { "ferry.cpus=4k", "ferry.cpus: '4k' is not a number" },
    { "ferry.cpus=0", "ferry.cpus: 0 is out of range (1-1024)" },
    { "ferry.cpus=99999999999999999999999", "ferry.cpus: '99999999999999999999999' is not a number" },
    { "ferry.memory=63", "ferry.memory: 63 is out of range" },
    { "ferry.name=", "ferry.name: must be 1 to 63 characters" },
    { "ferry.name=a/b", "ferry.name: 'a/b': only letters" },
    { "ferry.name=..", "ferry.name: '..' must not start" },
    { "ferry.name=-rf", "ferry.name: '-rf' must not start" },
    { "ferry.name=0123456789012345678901234567890123456789012345678901234567890123",
      "ferry.name: must be 1 to 63 characters" },
    { "ferry.ip=static", "ferry.ip: 'static': expected dhcp, none or ADDR/PREFIX" },
    { "ferry.ip=10.0.0.1", "expected dhcp, none or ADDR/PREFIX" },
    { "ferry.ip=10.0.0.1,gw=1.1.1.1/24", "expected dhcp, none or ADDR/PREFIX" },
    { "ferry.ip=10.0.0.256/24", "ferry.ip: address '10.0.0.256' is not an IPv4" },
    { "ferry.ip=10.0.0.1/33", "ferry.ip: bad prefix length '33'" },
    { "ferry.ip=10.0.0.1/", "ferry.ip: bad prefix length ''" },
    { "ferry.ip=10.0.0.1/2x", "ferry.ip: bad prefix length '2x'" },
    { "ferry.ip=10.0.0.1/24,gw=x", "ferry.ip: gateway 'x' is not an IPv4" },
    { "ferry.ip=10.0.0.1/24,dns=", "ferry.ip: unknown option 'dns='" },
    { "ferry.ip=10.0.0.1/24,mtu=9000", "ferry.ip: unknown option 'mtu=9000'" },
    { "ferry.ip=10.0.0.1/24,", "ferry.ip: unknown option ''" },
    { "ferry.disks=", "ferry.disks: '': expected a comma-separated list" },
    { "ferry.disks=sda,,sdb", "ferry.disks: 'sda,,sdb': expected" },
    { "ferry.disks=,sda", "expected a comma-separated list" },
    { "ferry.disks=sda,", "expected a comma-separated list" },
    { "\"ferry.disks=sda sdb\"", "ferry.disks: 'sda sdb': blank in a disk name" },
    { "ferry.target=", "ferry.target: '': expected file:, disk:, nfs:, cifs:// or ssh://" },
    { "ferry.target=ftp://h/x", "ferry.target: 'ftp://h/x': expected file:" },
    { "ferry.target=file:relative", "the directory must be an absolute path" },
    { "ferry.nic=../eth0", "ferry.nic: '../eth0' is not a device name" },
    { "ferry.console=/dev/ttyS0", "ferry.console: '/dev/ttyS0' is not a device name" },
    { "ferry.format=vhd ferry.format=vmdk", "ferry.format given twice" },
  };
  size_t i;
  bool any;

  (void) state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct agent_settings s = { 0 };
    error_clear ();
    if (agent_cmdline_parse (bad[i].cmdline, &s, &any) != -1)
      fail_msg ("accepted: %s", bad[i].cmdline);
    if (strstr (error_get (), bad[i].msg) == NULL)
      fail_msg ("%s: got '%s', want '%s'", bad[i].cmdline, error_get (),
                bad[i].msg);
    assert_null (strchr (error_get (), '\n'));
    assert_true (any);
    agent_settings_free (&s);
  }
}

static void
test_parse_huge (void **state)
{
  struct agent_settings s = { 0 };
  char *big = malloc (70000);
  bool any;

  (void) state;
  assert_non_null (big);
  memset (big, 'a', 69999);
  big[69999] = '\0';
  assert_int_equal (agent_cmdline_parse (big, &s, &any), -1);
  assert_string_equal (error_get (), "kernel command line too long");
  memcpy (big, "ferry.name=", 11);
  big[11 + 5000] = '\0';
  assert_int_equal (agent_cmdline_parse (big, &s, &any), -1);
  assert_non_null (strstr (error_get (), "value too long"));
  free (big);
  agent_settings_free (&s);
}

static void
test_ip (void **state)
{
  struct agent_ip ip;

  (void) state;
  assert_int_equal (agent_ip_parse ("dhcp", &ip), 0);
  assert_true (ip.dhcp);
  assert_int_equal (agent_ip_parse ("none", &ip), 0);
  assert_true (ip.none);
  assert_int_equal (agent_ip_parse ("192.168.1.7/16,dns=8.8.8.8", &ip), 0);
  assert_false (ip.dhcp || ip.none);
  assert_string_equal (ip.addr, "192.168.1.7");
  assert_int_equal (ip.prefix, 16);
  assert_string_equal (ip.gw, "");
  assert_string_equal (ip.dns, "8.8.8.8");
  assert_int_equal (agent_ip_parse ("10.1.2.3/0,gw=10.0.0.1", &ip), 0);
  assert_int_equal (ip.prefix, 0);
  assert_string_equal (ip.gw, "10.0.0.1");
}

static void
write_file (const char *path, const char *text)
{
  FILE *fp = fopen (path, "w");

  assert_non_null (fp);
  fputs (text, fp);
  fclose (fp);
}

static void
make_root (const char *root, const char *product, const char *serial,
           const char *host)
{
  char cmd[4200], p[4200];

  snprintf (cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/sys/class/dmi/id' "
            "'%s/proc' '%s/etc' '%s/sys/devices/system/cpu'", root, root, root,
            root, root);
  assert_int_equal (system (cmd), 0);
  snprintf (p, sizeof p, "%s/sys/class/dmi/id/product_name", root);
  write_file (p, product);
  snprintf (p, sizeof p, "%s/sys/class/dmi/id/product_serial", root);
  write_file (p, serial);
  snprintf (p, sizeof p, "%s/etc/hostname", root);
  write_file (p, host);
  snprintf (p, sizeof p, "%s/proc/meminfo", root);
  write_file (p, "MemTotal:        8011288 kB\nMemFree:  1 kB\n");
  snprintf (p, sizeof p, "%s/sys/devices/system/cpu/online", root);
  write_file (p, "0-3,6\n");
}

static void
test_hw_defaults (void **state)
{
  struct agent_settings s = { 0 };
  struct agent_hw hw;
  char root[4200];
  bool any;

  (void) state;
  snprintf (root, sizeof root, "%s/root", dir);
  make_root (root, "PowerEdge R640\n", "7XK2/ABC\n", "db1\n");
  agent_hw_probe (root, &hw);
  assert_string_equal (hw.name, "PowerEdge-R640-7XK2-ABC");
  assert_int_equal (hw.cpus, 5);
  assert_int_equal (hw.memory_mib, 7936);    /* 7823 MiB rounded up to 128 */

  /* Placeholder DMI strings: the hostname instead. */
  make_root (root, "To Be Filled By O.E.M.\n", "Default string\n",
             "web 01.example\n");
  agent_hw_probe (root, &hw);
  assert_string_equal (hw.name, "web-01.example");

  /* Nothing at all: still valid defaults. */
  agent_hw_probe ("/nonexistent-root", &hw);
  assert_string_equal (hw.name, "p2v");
  assert_int_equal (hw.cpus, 1);
  assert_int_equal (hw.memory_mib, 1024);

  /* Given values win over defaults; the rest are filled in. */
  assert_int_equal (agent_cmdline_parse ("ferry.cpus=2", &s, &any), 0);
  make_root (root, "KVM\n", "\n", "x\n");
  agent_hw_probe (root, &hw);
  assert_int_equal (agent_settings_defaults (&s, &hw), 0);
  assert_string_equal (agent_get (&s, AK_CPUS), "2");
  assert_string_equal (agent_get (&s, AK_MEMORY), "7936");
  assert_string_equal (agent_get (&s, AK_NAME), "KVM");
  assert_string_equal (agent_get (&s, AK_FORMAT), "qcow2");
  assert_string_equal (agent_get (&s, AK_DISKS), "all");
  assert_string_equal (agent_get (&s, AK_POST), "poweroff");
  assert_string_equal (agent_get (&s, AK_TARGET), "");
  assert_false (s.given[AK_MEMORY]);
  assert_true (s.given[AK_CPUS]);
  agent_settings_free (&s);
}

/* The man section lists every key, with its argument and default. */
static void
test_man (void **state)
{
  char path[4200], *text;
  size_t i, len;
  FILE *fp;

  (void) state;
  snprintf (path, sizeof path, "%s/man", dir);
  fp = fopen (path, "w");
  assert_non_null (fp);
  agent_settings_man (fp);
  fclose (fp);
  text = unit_slurp (path, &len);
  assert_true (strncmp (text, ".SH SETTINGS\n", 13) == 0);
  for (i = 0; i < AK_COUNT; i++) {
    char key[64];
    snprintf (key, sizeof key, "ferry.%s", agent_settings_table[i].name);
    assert_non_null (strstr (text, key));
  }
  assert_non_null (strstr (text, ".BI ferry.format= \"FORMAT\"\n"));
  assert_non_null (strstr (text, "Default: qcow2."));
  assert_non_null (strstr (text, ".B ferry.yes\n"));
  assert_non_null (strstr (text, ".BI ferry.mode= \"capture|deploy\"\n"));
  assert_non_null (strstr (text, "Deploy only."));
  assert_null (strstr (text, "\n.SH"));      /* one section only */
  free (text);
}

/* ferry.mode=deploy: unattended with a source and ferry.yes (no target
 * needed); a target alone does not make a deploy unattended. */
static void
test_deploy_settings (void **state)
{
  struct agent_settings s = { 0 };
  bool any;

  (void) state;
  assert_int_equal (agent_cmdline_parse (
    "ferry.mode=deploy ferry.source=nfs:10.0.0.5:/images/web1.qcow2 "
    "ferry.disks=nvme0n1 ferry.post=reboot ferry.yes", &s, &any), 0);
  assert_true (agent_settings_deploy (&s));
  assert_true (agent_settings_unattended (&s));
  assert_string_equal (agent_get (&s, AK_SOURCE),
                       "nfs:10.0.0.5:/images/web1.qcow2");
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse (
    "ferry.mode=deploy ferry.target=/x ferry.yes", &s, &any), 0);
  assert_false (agent_settings_unattended (&s));
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse (
    "ferry.mode=deploy ferry.source=/x/y.img", &s, &any), 0);
  assert_false (agent_settings_unattended (&s));
  agent_settings_free (&s);
  /* capture is the default job; a source alone does not make it deploy */
  assert_int_equal (agent_cmdline_parse (
    "ferry.source=/x/y.img ferry.target=/out ferry.yes", &s, &any), 0);
  assert_false (agent_settings_deploy (&s));
  assert_true (agent_settings_unattended (&s));
  agent_settings_free (&s);

  assert_int_equal (agent_cmdline_parse ("ferry.mode=restore", &s, &any), -1);
  assert_non_null (strstr (error_get (), "'restore' is not one of "
                           "capture|deploy"));
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse ("ferry.source=ftp://h/x.img", &s,
                                         &any), -1);
  assert_non_null (strstr (error_get (), "ferry.source: 'ftp://h/x.img': "
                           "expected file:"));
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse ("ferry.source=disk:/dev/sdb1", &s,
                                         &any), -1);
  agent_settings_free (&s);
}

/* ferry.source: the share mounted and the image's name in it. */
static void
test_source_parse (void **state)
{
  struct agent_source src;
  static const char *const bad[] = {
    "", "x.img", "ftp://h/x", "nfs:", "nfs:host", "nfs::/x/y",
    "ssh://host/x.img", "ssh://u@h/../..", "ssh://u@h/d/..",
    "cifs://h", "cifs://h/s/a b.img", "http://", "https://h",
    "http://h/", "http:///x.img", "http://h/a b.img", "http://h/x\"y",
    "file:relative/x.img", "nfs:h:/e/x,y.img",
  };
  size_t i;

  (void) state;
  assert_int_equal (agent_source_parse ("nfs:10.0.0.5:/images/web1.qcow2",
                                        &src), 0);
  assert_int_equal (src.share.kind, TK_NFS);
  assert_string_equal (src.share.device, "10.0.0.5:/images");
  assert_string_equal (src.name, "web1.qcow2");
  assert_true (src.share.readonly);
  /* an export with one component is mounted as named: a directory */
  assert_int_equal (agent_source_parse ("nfs:h:2049:/images", &src), 0);
  assert_string_equal (src.share.device, "h:/images");
  assert_int_equal (src.share.port, 2049);
  assert_string_equal (src.name, "");
  assert_int_equal (agent_source_parse ("nfs:h:/a/b/", &src), 0);
  assert_string_equal (src.share.device, "h:/a/b");
  assert_string_equal (src.name, "");

  assert_int_equal (agent_source_parse ("ssh://u@h:2222/srv/img/vm.ova",
                                        &src), 0);
  assert_int_equal (src.share.kind, TK_SSH);
  assert_string_equal (src.share.path, "/srv/img");
  assert_string_equal (src.name, "vm.ova");
  assert_int_equal (src.share.port, 2222);
  assert_int_equal (agent_source_parse ("ssh://u@h/vm.img", &src), 0);
  assert_string_equal (src.share.path, "/");
  assert_string_equal (src.name, "vm.img");

  assert_int_equal (agent_source_parse ("cifs://me@h/share/d/vm.vhd", &src),
                    0);
  assert_string_equal (src.share.device, "//h/share");
  assert_string_equal (src.share.path, "/d");
  assert_string_equal (src.name, "vm.vhd");
  assert_int_equal (agent_source_parse ("cifs://h/share", &src), 0);
  assert_string_equal (src.name, "");

  assert_int_equal (agent_source_parse ("file:/mnt/usb/vm.qcow2", &src), 0);
  assert_int_equal (src.share.kind, TK_FILE);
  assert_string_equal (src.share.path, "/mnt/usb");
  assert_string_equal (src.name, "vm.qcow2");
  assert_int_equal (agent_source_parse ("/vm.qcow2", &src), 0);
  assert_string_equal (src.share.path, "/");

  assert_int_equal (agent_source_parse ("https://h:8443/a/disk.raw?x=1",
                                        &src), 0);
  assert_int_equal (src.share.kind, TK_HTTP);
  assert_string_equal (src.url, "https://h:8443/a/disk.raw?x=1");
  assert_string_equal (src.name, "disk.raw?x=1");

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (agent_source_parse (bad[i], &src) != -1)
      fail_msg ("accepted '%s'", bad[i]);
    assert_non_null (strstr (error_get (), "ferry.source: "));
  }
}

static void
add_disk (agent_disk_vector *v, const char *name, bool live)
{
  struct agent_disk d;

  memset (&d, 0, sizeof d);
  snprintf (d.name, sizeof d.name, "%s", name);
  snprintf (d.path, sizeof d.path, "/dev/%s", name);
  d.live = live;
  assert_int_equal (agent_disk_vector_append (v, d), 0);
}

/* ferry.disks for a deploy: named, in the order given, never all, never
 * the live medium or a disk twice. */
static void
test_deploy_targets (void **state)
{
  agent_disk_vector v = empty_vector;
  struct agent_settings s = { 0 };
  size_t idx[4], n;
  bool any;

  (void) state;
  add_disk (&v, "sda", true);
  add_disk (&v, "nvme0n1", false);
  add_disk (&v, "sdb", false);
  assert_int_equal (agent_cmdline_parse ("ferry.disks=sdb,/dev/nvme0n1",
                                         &s, &any), 0);
  assert_int_equal (agent_deploy_targets (&s, &v, idx, 4, &n), 0);
  assert_int_equal (n, 2);
  assert_int_equal (idx[0], 2);
  assert_int_equal (idx[1], 1);
  agent_settings_free (&s);

  /* the default (all), unset, is refused */
  assert_int_equal (agent_settings_defaults (&s, &(struct agent_hw) {
        .name = "x" }), 0);
  assert_int_equal (agent_deploy_targets (&s, &v, idx, 4, &n), -1);
  assert_non_null (strstr (error_get (), "name them with ferry.disks="));
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse ("ferry.disks=all", &s, &any), 0);
  assert_int_equal (agent_deploy_targets (&s, &v, idx, 4, &n), -1);
  assert_non_null (strstr (error_get (), "all is refused"));
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse ("ferry.disks=sda", &s, &any), 0);
  assert_int_equal (agent_deploy_targets (&s, &v, idx, 4, &n), -1);
  assert_non_null (strstr (error_get (), "holds the running live medium"));
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse ("ferry.disks=sdb,sdb", &s, &any), 0);
  assert_int_equal (agent_deploy_targets (&s, &v, idx, 4, &n), -1);
  assert_non_null (strstr (error_get (), "named twice"));
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse ("ferry.disks=sdc", &s, &any), 0);
  assert_int_equal (agent_deploy_targets (&s, &v, idx, 4, &n), -1);
  assert_non_null (strstr (error_get (), "disk 'sdc' does not exist"));
  agent_settings_free (&s);
  assert_int_equal (agent_cmdline_parse ("ferry.disks=sdb,nvme0n1", &s,
                                         &any), 0);
  assert_int_equal (agent_deploy_targets (&s, &v, idx, 1, &n), -1);
  assert_non_null (strstr (error_get (), "too many disks"));
  agent_settings_free (&s);
  agent_disk_vector_reset (&v);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_table),
    cmocka_unit_test (test_parse_good),
    cmocka_unit_test (test_parse_bad),
    cmocka_unit_test (test_parse_huge),
    cmocka_unit_test (test_ip),
    cmocka_unit_test (test_hw_defaults),
    cmocka_unit_test (test_man),
    cmocka_unit_test (test_deploy_settings),
    cmocka_unit_test (test_source_parse),
    cmocka_unit_test (test_deploy_targets),
  };
  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

/* test-agent-discover.c: disk and NIC discovery on fake sysfs/dev/proc
 * trees: attributes, skipped devices, the live medium, the boot disk
 * (active MBR partition, GPT ESP), partition parents and ferry.disks. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "p2v/agent.h"

static char dir[] = "/tmp/ferry-test-agent-discover.XXXXXX";
static char sysfs[4200], dev[4200], proc[4200];

static void
sh (const char *fmt)
{
  char cmd[8192];

  snprintf (cmd, sizeof cmd, "set -e; cd '%s'; %s", dir, fmt);
  if (system (cmd) != 0)
    fail_msg ("command failed: %s", fmt);
}

/* sys/block/{sda,sdb,nvme0n1,loop0,sr0}, dev/ with partitioned disk files,
 * proc/mounts with the live medium on sdb1, sys/class/net/{lo,eth0,wlan0}. */
static int
setup (void **state)
{
  (void) state;
  snprintf (sysfs, sizeof sysfs, "%s/sys", dir);
  snprintf (dev, sizeof dev, "%s/dev", dir);
  snprintf (proc, sizeof proc, "%s/proc", dir);
  sh ("rm -rf sys dev proc; mkdir -p dev proc "
      "sys/block/sda/device sys/block/sda/queue sys/block/sda/sda1 "
      "sys/block/sda/sda2 sys/block/sdb/device sys/block/sdb/queue "
      "sys/block/sdb/sdb1 sys/block/nvme0n1/nvme0n1p1 sys/block/nvme0n1/queue "
      "sys/block/loop0 sys/block/sr0 sys/block/sdc "
      "sys/class/net/lo sys/class/net/eth0/device sys/class/net/wlan0 "
      "sys/bus/pci/drivers/e1000e sys/dev/block");
  sh ("echo 131072 > sys/block/sda/size; echo 0 > sys/block/sda/removable; "
      "echo 1 > sys/block/sda/queue/rotational; "
      "echo 'QEMU HARDDISK   ' > sys/block/sda/device/model; "
      "echo QM0001 > sys/block/sda/device/serial; "
      "echo 1 > sys/block/sda/sda1/partition; echo 2 > sys/block/sda/sda2/partition; "
      "echo 65536 > sys/block/sdb/size; echo 1 > sys/block/sdb/removable; "
      "echo 0 > sys/block/sdb/queue/rotational; echo 'USB Stick' > sys/block/sdb/device/model; "
      "echo 1 > sys/block/sdb/sdb1/partition; "
      "echo 81920 > sys/block/nvme0n1/size; echo 0 > sys/block/nvme0n1/queue/rotational; "
      "echo S4EW > sys/block/nvme0n1/serial; echo 1 > sys/block/nvme0n1/nvme0n1p1/partition; "
      "echo 1000 > sys/block/loop0/size; echo 1000 > sys/block/sr0/size; "
      "echo 0 > sys/block/sdc/size");
  /* sda: MBR, partition 1 active (ext4), 2 swap. */
  sh ("truncate -s 64M dev/sda; printf 'start=2048,size=65536,type=83,bootable\\n"
      "start=67584,type=82\\n' | sfdisk -q dev/sda; "
      "truncate -s 32M dev/sdb; truncate -s 40M dev/nvme0n1; "
      "printf 'label: gpt\\nstart=2048,size=32768,type=uefi\\nstart=34816,type=linux\\n' "
      "| sfdisk -q dev/nvme0n1");
  sh ("echo '/dev/sdb1 /run/live/medium iso9660 ro 0 0' > proc/mounts; "
      "echo 'proc /proc proc rw 0 0' >> proc/mounts");
  sh ("echo 52:54:00:12:34:56 > sys/class/net/eth0/address; "
      "echo 1 > sys/class/net/eth0/carrier; echo up > sys/class/net/eth0/operstate; "
      "ln -s ../../../../bus/pci/drivers/e1000e sys/class/net/eth0/device/driver; "
      "echo 00:00:00:00:00:00 > sys/class/net/lo/address; "
      "echo aa:bb:cc:dd:ee:ff > sys/class/net/wlan0/address; "
      "echo down > sys/class/net/wlan0/operstate");
  sh ("ln -s ../../block/sda/sda1 sys/dev/block/8:1");
  return 0;
}

static struct agent_env
env (void)
{
  return (struct agent_env) { .sysfs = sysfs, .dev = dev, .proc = proc };
}

static const struct agent_disk *
by_name (const agent_disk_vector *v, const char *name)
{
  size_t i;

  for (i = 0; i < v->len; i++)
    if (strcmp (v->ptr[i].name, name) == 0)
      return &v->ptr[i];
  fail_msg ("disk %s not found", name);
  return NULL;
}

static void
test_disks (void **state)
{
  struct agent_env e = env ();
  agent_disk_vector v = empty_vector;
  const struct agent_disk *d;

  (void) state;
  assert_int_equal (agent_discover_disks (&e, &v), 0);
  /* loop, sr and an empty (size 0) device are not disks to capture. */
  assert_int_equal (v.len, 3);
  assert_string_equal (v.ptr[0].name, "nvme0n1");
  assert_string_equal (v.ptr[1].name, "sda");
  assert_string_equal (v.ptr[2].name, "sdb");

  d = by_name (&v, "sda");
  assert_string_equal (d->model, "QEMU HARDDISK");
  assert_string_equal (d->serial, "QM0001");
  assert_int_equal (d->size, 131072 * 512);
  assert_false (d->removable);
  assert_true (d->rotational);
  assert_false (d->live);
  assert_string_equal (d->table, "msdos");
  assert_true (d->boots);
  assert_int_equal (d->parts.len, 2);
  assert_true (d->parts.ptr[0].boot);
  assert_false (d->parts.ptr[1].boot);
  assert_string_equal (d->parts.ptr[1].fstype, "");
  assert_true (d->used_bytes > 0 && d->used_bytes <= d->size);

  d = by_name (&v, "nvme0n1");
  assert_string_equal (d->serial, "S4EW");
  assert_false (d->rotational);
  assert_string_equal (d->table, "gpt");
  assert_true (d->boots);
  assert_int_equal (d->parts.len, 2);
  assert_true (d->parts.ptr[0].esp);
  assert_false (d->parts.ptr[1].esp);

  /* The live medium (sdb1 is mounted on /run/live/medium). */
  d = by_name (&v, "sdb");
  assert_true (d->live);
  assert_true (d->removable);
  assert_string_equal (d->model, "USB Stick");
  agent_disks_free (&v);

  /* --live overrides the mounts. */
  e.live_dev = "/dev/nvme0n1p1";
  assert_int_equal (agent_discover_disks (&e, &v), 0);
  assert_true (by_name (&v, "nvme0n1")->live);
  assert_false (by_name (&v, "sdb")->live);
  agent_disks_free (&v);

  e.sysfs = "/nonexistent";
  assert_int_equal (agent_discover_disks (&e, &v), -1);
  assert_non_null (strstr (error_get (), "'/nonexistent/block'"));
  agent_disks_free (&v);
}

static void
test_select (void **state)
{
  struct agent_env e = env ();
  agent_disk_vector v = empty_vector;
  bool sel[8];

  (void) state;
  assert_int_equal (agent_discover_disks (&e, &v), 0);
  assert_int_equal (agent_select_disks (&v, "all", sel), 0);
  assert_true (sel[0] && sel[1]);
  assert_false (sel[2]);                        /* live */
  assert_int_equal (agent_select_disks (&v, "sda", sel), 0);
  assert_true (!sel[0] && sel[1] && !sel[2]);
  /* By path, and by /dev/NAME. */
  {
    char path[4300];
    snprintf (path, sizeof path, "%s/nvme0n1", dev);
    assert_int_equal (agent_select_disks (&v, path, sel), 0);
    assert_true (sel[0] && !sel[1]);
  }
  assert_int_equal (agent_select_disks (&v, "/dev/sda,nvme0n1", sel), 0);
  assert_true (sel[0] && sel[1] && !sel[2]);
  assert_int_equal (agent_select_disks (&v, "sda,sdz", sel), -1);
  assert_string_equal (error_get (), "disk 'sdz' does not exist");
  assert_int_equal (agent_select_disks (&v, "sdb", sel), -1);
  assert_string_equal (error_get (), "disk 'sdb' holds the running live medium");
  agent_disks_free (&v);
  /* No disk at all. */
  assert_int_equal (agent_select_disks (&v, "all", sel), -1);
  assert_string_equal (error_get (), "no disk to capture was found");
}

/* ferry.disks=all leaves out the disk holding a disk: target; naming that
 * disk is refused. */
static void
test_validate_target_disk (void **state)
{
  struct agent_env e = env ();
  agent_disk_vector v = empty_vector;
  struct agent_settings s = { 0 };
  struct agent_hw hw = { .name = "vm", .cpus = 1, .memory_mib = 512 };
  bool sel[8], any;

  (void) state;
  assert_int_equal (agent_discover_disks (&e, &v), 0);
  assert_int_equal (agent_cmdline_parse ("ferry.target=disk:/dev/sda1", &s,
                                         &any), 0);
  assert_int_equal (agent_settings_defaults (&s, &hw), 0);
  assert_int_equal (agent_validate (&s, &v, &e, sel), 0);
  assert_true (sel[0]);                         /* nvme0n1 */
  assert_false (sel[1]);                        /* sda: holds the target */
  assert_false (sel[2]);                        /* sdb: live */
  agent_settings_free (&s);

  assert_int_equal (agent_cmdline_parse ("ferry.target=disk:/dev/sda1 "
                                         "ferry.disks=sda,nvme0n1", &s, &any),
                    0);
  assert_int_equal (agent_settings_defaults (&s, &hw), 0);
  assert_int_equal (agent_validate (&s, &v, &e, sel), -1);
  assert_string_equal (error_get (), "target 'disk:/dev/sda1' is on disk "
                       "'sda', which is being captured");
  agent_settings_free (&s);

  /* Only the target's disk left: nothing to capture. */
  assert_int_equal (agent_cmdline_parse ("ferry.target=disk:/dev/nvme0n1p1",
                                         &s, &any), 0);
  assert_int_equal (agent_settings_defaults (&s, &hw), 0);
  v.ptr[1].live = true;
  assert_int_equal (agent_validate (&s, &v, &e, sel), -1);
  assert_non_null (strstr (error_get (), "no disk to capture"));
  agent_settings_free (&s);
  agent_disks_free (&v);
}

static void
test_parent (void **state)
{
  struct agent_env e = env ();
  char disk[64];

  (void) state;
  assert_int_equal (agent_parent_disk (&e, "sda1", disk, sizeof disk), 0);
  assert_string_equal (disk, "sda");
  assert_int_equal (agent_parent_disk (&e, "/dev/nvme0n1p1", disk,
                                       sizeof disk), 0);
  assert_string_equal (disk, "nvme0n1");
  assert_int_equal (agent_parent_disk (&e, "sdb", disk, sizeof disk), 0);
  assert_string_equal (disk, "sdb");
  assert_int_equal (agent_parent_disk (&e, "sdq9", disk, sizeof disk), -1);
  assert_string_equal (error_get (), "no disk holds partition 'sdq9'");
  assert_int_equal (agent_parent_disk (&e, "../sda", disk, sizeof disk), -1);
  assert_int_equal (agent_parent_disk (&e, "", disk, sizeof disk), -1);
}

static void
test_files (void **state)
{
  agent_disk_vector v = empty_vector;
  char path[4300];

  (void) state;
  snprintf (path, sizeof path, "%s/sda", dev);
  assert_int_equal (agent_disk_add_file (path, &v), 0);
  assert_string_equal (v.ptr[0].name, "sda");
  assert_string_equal (v.ptr[0].path, path);
  assert_true (v.ptr[0].boots);
  assert_int_equal (v.ptr[0].size, 64 << 20);
  assert_int_equal (agent_disk_add_file (path, &v), -1);
  assert_non_null (strstr (error_get (), "given twice"));
  assert_int_equal (agent_disk_add_file ("/nonexistent/disk.img", &v), -1);
  assert_non_null (strstr (error_get (), "disk '/nonexistent/disk.img': "));
  assert_int_equal (v.len, 1);
  agent_disks_free (&v);
}

/* A hostile GPT header (entry count and size out of range) is ignored. */
static void
test_hostile_gpt (void **state)
{
  agent_disk_vector v = empty_vector;
  char path[4300];

  (void) state;
  sh ("cp dev/nvme0n1 dev/bad; "
      "printf '\\377\\377\\377\\377\\377\\377\\377\\377' | "
      "dd of=dev/bad bs=1 seek=592 conv=notrunc status=none");
  snprintf (path, sizeof path, "%s/bad", dev);
  assert_int_equal (agent_disk_add_file (path, &v), 0);
  assert_int_equal (v.len, 1);
  agent_disks_free (&v);
}

static void
test_nics (void **state)
{
  struct agent_env e = env ();
  agent_nic_vector v = empty_vector;
  size_t i;
  int eth = -1, wlan = -1;

  (void) state;
  assert_int_equal (agent_discover_nics (&e, &v), 0);
  assert_int_equal (v.len, 2);                 /* lo is skipped */
  for (i = 0; i < v.len; i++) {
    if (strcmp (v.ptr[i].name, "eth0") == 0) eth = (int) i;
    if (strcmp (v.ptr[i].name, "wlan0") == 0) wlan = (int) i;
  }
  assert_true (eth >= 0 && wlan >= 0);
  assert_string_equal (v.ptr[eth].mac, "52:54:00:12:34:56");
  assert_string_equal (v.ptr[eth].driver, "e1000e");
  assert_true (v.ptr[eth].carrier && v.ptr[eth].up);
  assert_false (v.ptr[wlan].carrier || v.ptr[wlan].up);
  assert_string_equal (v.ptr[wlan].driver, "");
  agent_nic_vector_reset (&v);
}

/* Partition device names, and the local partitions the TUI offers as
 * targets: ext4 on sda1 (after mkfs here; "ext4" to libblkid) is one; the ESP of nvme0n1, the
 * empty swap partition of sda, the live medium sdb and any disk being
 * captured are not; an image file has no partition devices. */
static void
test_target_choices (void **state)
{
  struct agent_env e = env ();
  agent_disk_vector v = empty_vector;
  struct agent_target_choice c[4];
  char buf[4300], want[4300];
  bool sel[3] = { true, false, false };       /* nvme0n1, sda, sdb */

  (void) state;
  sh ("mkfs.ext4 -q -F -L backup -E offset=1048576 dev/sda 32M");
  assert_int_equal (agent_discover_disks (&e, &v), 0);
  assert_int_equal (v.len, 3);
  assert_string_equal (v.ptr[1].name, "sda");
  assert_string_equal (v.ptr[1].parts.ptr[0].fstype, "ext4");

  assert_int_equal (agent_part_device (&v.ptr[1], 1, buf, sizeof buf), 0);
  snprintf (want, sizeof want, "%s/sda1", dev);
  assert_string_equal (buf, want);
  assert_int_equal (agent_part_device (&v.ptr[0], 2, buf, sizeof buf), 0);
  snprintf (want, sizeof want, "%s/nvme0n1p2", dev);
  assert_string_equal (buf, want);
  assert_int_equal (agent_part_device (&v.ptr[0], 2, buf, 8), -1);

  assert_int_equal (agent_target_choices (&v, sel, c, 4), 1);
  snprintf (want, sizeof want, "disk:%s/sda1", dev);
  assert_string_equal (c[0].target, want);
  assert_non_null (strstr (c[0].desc, "ext4 "));
  assert_non_null (strstr (c[0].desc, "32.0 MiB"));
  assert_non_null (strstr (c[0].desc, "QEMU HARDDISK (sda)"));
  assert_int_equal (agent_target_choices (&v, sel, c, 0), 0);
  sel[1] = true;                              /* sda captured: none */
  assert_int_equal (agent_target_choices (&v, sel, c, 4), 0);
  assert_int_equal (agent_target_choices (&v, NULL, c, 4), 1);
  agent_disks_free (&v);

  snprintf (buf, sizeof buf, "%s/sda", dev);
  assert_int_equal (agent_disk_add_file (buf, &v), 0);
  assert_int_equal (agent_part_device (&v.ptr[0], 1, want, sizeof want), -1);
  assert_non_null (strstr (error_get (), "is an image file"));
  assert_int_equal (agent_target_choices (&v, NULL, c, 4), 0);
  agent_disks_free (&v);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup (test_disks, setup),
    cmocka_unit_test (test_select),
    cmocka_unit_test (test_validate_target_disk),
    cmocka_unit_test (test_parent),
    cmocka_unit_test (test_files),
    cmocka_unit_test (test_hostile_gpt),
    cmocka_unit_test (test_nics),
    cmocka_unit_test (test_target_choices),
  };
  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

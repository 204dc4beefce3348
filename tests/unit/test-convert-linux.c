/* test-convert-linux.c: the pure text transforms of Linux conversion,
 * and the host-side helpers around it: the in-place overlay, the root
 * refusal's listing, the forced-TCG test. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/inspect.h"
#include "lib/guest/linux-boot.h"
#include "lib/guest/linux-devmap.h"
#include "lib/guest/linux-kernel.h"
#include "lib/guest/linux-net.h"
#include "lib/guest/linux-text.h"
#include "lib/guest/overlay.h"
#include "lib/guest/session.h"
#include "lib/image/image.h"

#define U1 "11111111-1111-1111-1111-111111111111"
#define U2 "22222222-2222-2222-2222-222222222222"

static devmap
make_map (void)
{
  devmap m = empty_vector;

  assert_int_equal (devmap_append (&m, (struct devmap_entry) {
        0, 1, strdup (U1) }), 0);
  assert_int_equal (devmap_append (&m, (struct devmap_entry) {
        0, 2, strdup (U2) }), 0);
  return m;
}

static void
test_devname_parse (void **state)
{
  unsigned d, p;

  (void) state;
  assert_int_equal (devmap_parse_name ("/dev/sda1", &d, &p), 0);
  assert_int_equal (d, 0); assert_int_equal (p, 1);
  assert_int_equal (devmap_parse_name ("/dev/xvdb", &d, &p), 0);
  assert_int_equal (d, 1); assert_int_equal (p, 0);
  assert_int_equal (devmap_parse_name ("/dev/hdc12", &d, &p), 0);
  assert_int_equal (d, 2); assert_int_equal (p, 12);
  assert_int_equal (devmap_parse_name ("/dev/sdaa3", &d, &p), 0);
  assert_int_equal (d, 26); assert_int_equal (p, 3);
  assert_int_equal (devmap_parse_name ("/dev/nvme0n1p2", &d, &p), 0);
  assert_int_equal (d, 0); assert_int_equal (p, 2);
  assert_int_equal (devmap_parse_name ("/dev/nvme1n1", &d, &p), 0);
  assert_int_equal (d, 1); assert_int_equal (p, 0);
  assert_int_equal (devmap_parse_name ("/dev/mapper/vg-root", &d, &p), -1);
  assert_int_equal (devmap_parse_name ("UUID=abc", &d, &p), -1);
  assert_int_equal (devmap_parse_name ("/dev/sda1x", &d, &p), -1);
  assert_int_equal (devmap_parse_name ("/dev/nvme0n1px", &d, &p), -1);
}

static void
test_fstab (void **state)
{
  devmap m = make_map ();
  int n = 0;
  char *r = devmap_rewrite_table (
    "# /dev/sda1 stays in comments\n"
    "/dev/sda1\t/ ext4 defaults 0 1\n"
    "/dev/vda2 none swap sw 0 0\n"
    "/dev/mapper/vg-home /home ext4 defaults 0 2\n"
    "/dev/sdb1 /data ext4 defaults 0 2\n", 0, &m, &n);

  (void) state;
  assert_string_equal (r,
    "# /dev/sda1 stays in comments\n"
    "UUID=" U1 "\t/ ext4 defaults 0 1\n"
    "UUID=" U2 " none swap sw 0 0\n"
    "/dev/mapper/vg-home /home ext4 defaults 0 2\n"
    "/dev/sdb1 /data ext4 defaults 0 2\n");
  assert_int_equal (n, 2);
  free (r);
  devmap_free (&m);
}

static void
test_crypttab (void **state)
{
  devmap m = make_map ();
  int n = 0;
  char *r = devmap_rewrite_table ("cr_root /dev/nvme0n1p2 none luks\n",
                                  1, &m, &n);

  (void) state;
  assert_string_equal (r, "cr_root UUID=" U2 " none luks\n");
  assert_int_equal (n, 1);
  free (r);
  devmap_free (&m);
}

static void
test_console (void **state)
{
  int n = 0;
  char *r;

  (void) state;
  r = lboot_cmdline_set_console ("quiet console=hvc0", "kvm", &n);
  assert_string_equal (r, "quiet console=ttyS0,115200n8");
  free (r);
  r = lboot_cmdline_set_console ("console=tty0 console=ttyS0,115200n8", "xen",
                                 &n);
  assert_string_equal (r, "console=tty0 console=ttyS0,115200n8 console=hvc0");
  free (r);
  n = 0;
  r = lboot_cmdline_set_console ("console=ttyS0,115200n8 console=hvc0", "xen",
                                 &n);
  assert_string_equal (r, "console=ttyS0,115200n8 console=hvc0");
  assert_int_equal (n, 0);
  free (r);
  r = lboot_cmdline_set_console ("console=ttyS1,9600", "native", &n);
  assert_string_equal (r, "console=ttyS1,9600");
  assert_int_equal (n, 0);
  free (r);
}

static void
test_grub_default (void **state)
{
  devmap m = make_map ();
  int n = 0;
  char *r = lboot_grub_default_edit (
    "GRUB_DEFAULT=0\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet resume=/dev/sda2\"\n"
    "GRUB_CMDLINE_LINUX='root=/dev/sda1 console=xvc0'\n"
    "GRUB_DISABLE_LINUX_UUID=true\n", "kvm", &m, &n);

  (void) state;
  assert_string_equal (r,
    "GRUB_DEFAULT=0\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet resume=UUID=" U2 "\"\n"
    "GRUB_CMDLINE_LINUX=\"root=UUID=" U1 " console=ttyS0,115200n8\"\n"
    "#GRUB_DISABLE_LINUX_UUID=true  # disabled by ferry convert\n");
  assert_int_equal (n, 5);
  free (r);
  n = 0;
  r = lboot_grub_default_edit ("GRUB_TIMEOUT=5", "xen", &m, &n);
  assert_string_equal (r,
    "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"console=hvc0\"\n");
  free (r);
  devmap_free (&m);
}

static void
test_resume_and_kv (void **state)
{
  devmap m = make_map ();
  int n = 0;
  char *r = ltext_kv_rewrite_device ("RESUME=/dev/sda2\n", "RESUME", &m, &n);

  (void) state;
  assert_string_equal (r, "RESUME=UUID=" U2 "\n");
  free (r);
  r = ltext_kv_set ("# c\nMODULES=list\nBUSYBOX=auto\n", "MODULES", "most",
                    &n);
  assert_string_equal (r, "# c\nMODULES=most\nBUSYBOX=auto\n");
  free (r);
  r = ltext_kv_set ("A=1", "MODULES", "most", &n);
  assert_string_equal (r, "A=1\nMODULES=most\n");
  free (r);
  devmap_free (&m);
}

static void
test_modules_file (void **state)
{
  static const char *const mods[] = { "virtio_blk", "virtio-net", "ahci",
                                      NULL };
  int n = 0;
  char *r = lkernel_modules_file_add ("# list\nahci\nvirtio_net\n", mods,
                                      "ferry", &n);

  (void) state;
  assert_string_equal (r, "# list\nahci\nvirtio_net\n# ferry\nvirtio_blk\n");
  assert_int_equal (n, 1);
  free (r);
}

static void
test_networkd (void **state)
{
  int n = 0;
  char *r = lnet_networkd_drop_mac (
    "[Match]\nMACAddress=52:54:00:aa:bb:cc\n\n"
    "[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\n", &n);

  (void) state;
  assert_string_equal (r,
    "[Match]\nName=en* eth*\n\n"
    "[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\n");
  assert_int_equal (n, 2);
  free (r);
  n = 0;
  r = lnet_networkd_drop_mac ("[Match]\nName=eth0\nMACAddress=aa\n", &n);
  assert_string_equal (r, "[Match]\nName=eth0\n");
  assert_int_equal (n, 1);
  free (r);
  n = 0;
  r = lnet_networkd_drop_mac ("[Match]\nMACAddress=aa", &n);
  assert_string_equal (r, "[Match]\nName=en* eth*\n");
  free (r);
}

static void
test_ifcfg_nm (void **state)
{
  int n = 0;
  char *r = lnet_ifcfg_drop_mac ("DEVICE=eth0\nHWADDR=52:54:00:aa:bb:cc\n"
                                 "BOOTPROTO=none\nIPADDR=192.0.2.10\n", &n);

  (void) state;
  assert_string_equal (r, "DEVICE=eth0\nBOOTPROTO=none\nIPADDR=192.0.2.10\n");
  assert_int_equal (n, 1);
  free (r);
  n = 0;
  r = lnet_nmkeyfile_drop_mac (
    "[connection]\nid=wired\ninterface-name=enp3s0\n\n"
    "[ethernet]\nmac-address=52:54:00:AA:BB:CC\n\n"
    "[ipv4]\naddress1=192.0.2.10/24\nmethod=manual\n", &n);
  assert_string_equal (r,
    "[connection]\nid=wired\n\n[ethernet]\n\n"
    "[ipv4]\naddress1=192.0.2.10/24\nmethod=manual\n");
  assert_int_equal (n, 2);
  free (r);
}

static void
test_netplan (void **state)
{
  int n = 0;
  char *r = lnet_netplan_drop_mac (
    "network:\n"
    "  ethernets:\n"
    "    lan:\n"
    "      match:\n"
    "        macaddress: 52:54:00:aa:bb:cc\n"
    "      set-name: lan\n"
    "      addresses: [192.0.2.10/24]\n", &n);

  (void) state;
  assert_string_equal (r,
    "network:\n"
    "  ethernets:\n"
    "    lan:\n"
    "      match:\n"
    "        name: \"e*\"\n"
    "      addresses: [192.0.2.10/24]\n");
  assert_int_equal (n, 3);
  free (r);
}

static void
test_ifupdown (void **state)
{
  struct strbuf sb = STRBUF_INIT;

  (void) state;
  assert_int_equal (lnet_ifupdown_static_ifaces (
    "auto lo\niface lo inet loopback\n"
    "allow-hotplug enp3s0\niface enp3s0 inet static\n  address 192.0.2.10/24\n"
    "iface enp3s0:1 inet static\n  address 192.0.2.11/24\n"
    "iface enp3s0 inet6 static\n  address 2001:db8::1/64\n"
    "# iface eth9 inet static\n", &sb), 1);
  assert_string_equal (sb.buf, "enp3s0");
  strbuf_release (&sb);
  assert_int_equal (lnet_ifupdown_static_ifaces (
    "iface eth0 inet static\niface eth1 inet static\n"
    "iface eth2 inet dhcp\n", &sb), 2);
  assert_string_equal (sb.buf, "eth0 eth1");
  strbuf_release (&sb);
}

static void
test_kernel_choice (void **state)
{
  static const char *const kvm[] = { "virtio_blk", "virtio_net",
                                     "virtio_pci", NULL };
  static const char *const xen[] = { "xen-blkfront", NULL };
  const char *paths[] = {
    "/lib/modules/6.1.0-1-amd64/kernel/drivers/block/virtio_blk.ko.xz",
    "/lib/modules/6.1.0-1-amd64/kernel/drivers/net/virtio_net.ko",
    "/lib/modules/6.1.0-1-amd64/kernel/drivers/block/xen-blkfront.ko.zst",
  };
  struct strbuf sb = STRBUF_INIT;

  (void) state;
  assert_int_equal (lkernel_missing_drivers (paths, 3,
      "kernel/drivers/virtio/virtio_pci.ko\n", kvm, &sb), 0);
  assert_int_equal (lkernel_missing_drivers (paths, 2, "", kvm, &sb), 1);
  assert_string_equal (sb.buf, "virtio_pci");
  assert_int_equal (lkernel_missing_drivers (paths, 3, NULL, xen, &sb), 0);
  strbuf_release (&sb);
  assert_true (lkernel_version_cmp ("6.1.0-27-amd64", "6.1.0-28-amd64") < 0);
  assert_true (lkernel_version_cmp ("6.10.0-1-amd64", "6.9.0-1-amd64") > 0);
  assert_int_equal (lkernel_version_cmp ("5.4", "5.4"), 0);
}

static const char moddep[] =
  "kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz "
  "kernel/drivers/virtio/virtio_ring.ko.xz\n"
  "kernel/drivers/virtio/virtio.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz\n"
  "kernel/drivers/virtio/virtio_ring.ko.xz:\n"
  "kernel/drivers/block/xen-blkfront.ko.xz:\n";

static void
test_moddep_closure (void **state)
{
  static const char *const kvm[] = { "virtio_blk", "virtio", NULL };
  static const char *const xen[] = { "xen_blkfront", NULL };
  static const char *const none[] = { "nvme", NULL };
  strv_vector v = empty_vector;

  (void) state;
  assert_int_equal (lkernel_moddep_closure (moddep, kvm, &v), 0);
  assert_int_equal (v.len, 3);        /* no duplicates */
  assert_string_equal (v.ptr[0], "kernel/drivers/block/virtio_blk.ko.xz");
  assert_true (strv_vector_has (&v, "kernel/drivers/virtio/virtio_ring.ko.xz"));
  strv_vector_free (&v);
  assert_int_equal (lkernel_moddep_closure (moddep, xen, &v), 0);
  assert_int_equal (v.len, 1);        /* '-' and '_' alike */
  strv_vector_free (&v);
  assert_int_equal (lkernel_moddep_closure (moddep, none, &v), -1);
  assert_non_null (strstr (error_get (), "'nvme' is not in modules.dep"));
  strv_vector_free (&v);
  /* Hostile paths from the guest are refused. */
  assert_int_equal (lkernel_moddep_closure ("../../etc/virtio_blk.ko: \n", kvm,
                                            &v), -1);
  assert_int_equal (lkernel_moddep_closure ("/abs/virtio_blk.ko:\n", kvm, &v),
                    -1);
  assert_int_equal (lkernel_moddep_closure ("k/virtio_blk.ko: a/../../x.ko\n",
                                            kvm, &v), -1);
  strv_vector_free (&v);

  /* Every module listed, in order; those paths answer the drivers check
   * as a listing of the tree would. */
  {
    static const char *const want[] = { "virtio_blk", "xen-blkfront", NULL };
    struct strbuf missing = STRBUF_INIT;

    assert_int_equal (lkernel_moddep_paths (moddep, &v), 4);
    assert_string_equal (v.ptr[0], "kernel/drivers/block/virtio_blk.ko.xz");
    assert_string_equal (v.ptr[3], "kernel/drivers/block/xen-blkfront.ko.xz");
    assert_int_equal (lkernel_missing_drivers ((const char *const *) v.ptr,
                                               v.len, NULL, want, &missing),
                      0);
    assert_int_equal (lkernel_missing_drivers ((const char *const *) v.ptr,
                                               v.len, NULL, none, &missing),
                      1);
    strbuf_release (&missing);
    strv_vector_free (&v);
  }
  assert_int_equal (lkernel_moddep_paths ("", &v), 0);
  assert_int_equal (lkernel_moddep_paths ("no colon here\n", &v), 0);
  assert_int_equal (lkernel_moddep_paths ("k/a.ko:\n../x.ko:\n", &v), -1);
  assert_non_null (strstr (error_get (), "bad module path"));
  strv_vector_free (&v);
}

static void
test_grub_cfg_ready (void **state)
{
  static const char uuid_cfg[] =
    "menuentry 'Debian' {\n"
    "\tlinux\t/boot/vmlinuz-6.1 root=UUID=" U1 " ro console=tty0 "
    "console=ttyS0,115200n8\n"
    "\tinitrd\t/boot/initrd.img-6.1\n}\n";
  static const char dev_cfg[] =
    "\tlinux /boot/vmlinuz-6.1 root=/dev/sda1 ro console=ttyS0\n";
  static const char noconsole[] =
    "\tlinuxefi /vmlinuz-6.1 root=/dev/mapper/vg-root ro quiet\n";

  (void) state;
  assert_true (lboot_grub_cfg_ready (uuid_cfg, "kvm"));
  assert_false (lboot_grub_cfg_ready (uuid_cfg, "xen"));   /* wants hvc0 */
  assert_false (lboot_grub_cfg_ready (dev_cfg, "kvm"));    /* device name */
  /* no serial console */
  assert_false (lboot_grub_cfg_ready (noconsole, "kvm"));
  /* no kernel */
  assert_false (lboot_grub_cfg_ready ("set default=0\n", "kvm"));
}

static void
test_env_forces_tcg (void **state)
{
  (void) state;
  assert_true (guest_env_forces_tcg ("force_tcg"));
  assert_true (guest_env_forces_tcg ("force_tcg=1"));
  assert_true (guest_env_forces_tcg ("a=b:force_tcg=Yes:c"));
  assert_true (guest_env_forces_tcg ("x:force_tcg"));
  assert_false (guest_env_forces_tcg (NULL));
  assert_false (guest_env_forces_tcg (""));
  assert_false (guest_env_forces_tcg ("force_tcg=0"));
  assert_false (guest_env_forces_tcg ("force_tcg=no:x"));
  assert_false (guest_env_forces_tcg ("force_tcgx"));
  assert_false (guest_env_forces_tcg ("noforce_tcg:force_kvm"));
}

static void
test_choose_root_listing (void **state)
{
  struct guest_root r[2] = {
    { .device = (char *) "/dev/sda1", .distro = (char *) "debian",
      .product = (char *) "12.15", .hostname = (char *) "web1" },
    { .device = (char *) "/dev/sda3", .distro = (char *) "debian",
      .product = (char *) "12.15", .hostname = (char *) "web2" },
  };
  guest_root_vector roots = { .ptr = r, .len = 2, .cap = 0 };

  (void) state;
  assert_int_equal (guest_choose_root (&roots, NULL), -1);
  assert_string_equal (error_get (), "several operating systems found: "
                       "/dev/sda1 (debian 12.15, hostname web1), /dev/sda3 "
                       "(debian 12.15, hostname web2); choose one with "
                       "--root DEV or --root ask (ferry.root=DEV in the agent)");
  assert_int_equal (guest_choose_root (&roots, "/dev/sdb1"), -1);
  assert_non_null (strstr (error_get (), "no operating system root "
                           "'/dev/sdb1' (roots: /dev/sda1 (debian 12.15, "
                           "hostname web1), "));
  assert_int_equal (guest_choose_root (&roots, "/dev/sda3"), 1);
}

static char dir[] = "/tmp/ferry-unit-convert-XXXXXX";
#define DISK_SIZE (4u << 20)

static unsigned char
pattern (size_t i)
{
  return (unsigned char) (i * 7 % 251);
}

static char *
make_raw (void)
{
  char *path = xasprintf ("%s/disk.img", dir);
  unsigned char *buf = malloc (DISK_SIZE);
  FILE *f;
  size_t i;

  assert_non_null (path);
  assert_non_null (buf);
  for (i = 0; i < DISK_SIZE; i++)
    buf[i] = pattern (i);
  assert_non_null (f = fopen (path, "wb"));
  assert_int_equal (fwrite (buf, 1, DISK_SIZE, f), DISK_SIZE);
  assert_int_equal (fclose (f), 0);
  free (buf);
  return path;
}

/* Files in dir besides disk.img. */
static int
other_files (void)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int n = 0;

  assert_non_null (d);
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..") &&
        strcmp (e->d_name, "disk.img"))
      n++;
  closedir (d);
  return n;
}

static void
test_overlay_abort (void **state)
{
  struct guest_overlay ov = { 0 };
  char *path = make_raw (), *after;
  size_t i, len;

  (void) state;
  assert_int_equal (guest_overlay_begin (&ov, path, "raw", DISK_SIZE), 0);
  assert_non_null (strstr (ov.path, "/.disk.img.ferry-tmp-"));
  assert_int_equal (access (ov.path, F_OK), 0);
  assert_int_equal (other_files (), 1);
  guest_overlay_abort (&ov);
  assert_int_equal (other_files (), 0);
  after = unit_slurp (path, &len);
  assert_int_equal (len, DISK_SIZE);
  for (i = 0; i < len; i++)
    if ((unsigned char) after[i] != pattern (i))
      fail_msg ("byte %zu changed", i);
  free (after);
  assert_int_equal (guest_overlay_begin (&ov, path, "vmdk", DISK_SIZE), -1);
  assert_non_null (strstr (error_get (), "not supported"));
  assert_int_equal (other_files (), 0);
  free (path);
}

/* disk.img holding pattern(): a raw file, or a qcow2 image. */
static char *
make_disk (const char *format)
{
  char *path;
  unsigned char *buf;
  struct image *img;
  size_t i;

  if (strcmp (format, "raw") == 0)
    return make_raw ();
  path = xasprintf ("%s/disk.img", dir);
  buf = malloc (DISK_SIZE);
  assert_non_null (path);
  assert_non_null (buf);
  for (i = 0; i < DISK_SIZE; i++)
    buf[i] = pattern (i);
  unlink (path);                        /* an earlier test's; create is O_EXCL */
  img = image_create (format, path, DISK_SIZE, &(struct image_create_opts) { 0 });
  assert_non_null (img);
  assert_int_equal (image_pwrite (img, buf, DISK_SIZE, 0), 0);
  assert_int_equal (image_close (img), 0);
  free (buf);
  return path;
}

/* The guest's view of disk.img (through the image layer). */
static unsigned char *
read_disk (const char *path)
{
  struct image *img = image_open (path, 0);
  unsigned char *buf = malloc (DISK_SIZE);

  assert_non_null (img);
  assert_non_null (buf);
  assert_int_equal (img->size, DISK_SIZE);
  assert_int_equal (image_pread (img, buf, DISK_SIZE, 0), 0);
  assert_int_equal (image_close (img), 0);
  return buf;
}

/* What an appliance would do: write into the overlay (recreated here with
 * the same backing, since the image layer writes only new qcow2 files),
 * then commit: exactly the written bytes land in the image (raw through
 * the image layer, qcow2 through qemu-nbd). */
static void
check_commit (const char *format)
{
  struct guest_overlay ov = { 0 };
  char *path = make_disk (format), *base = realpath (path, NULL);
  unsigned char data[5000], *after;
  struct image *img;
  size_t i;
  const uint64_t at = (1u << 20) + 512;

  memset (data, 0xab, sizeof data);
  assert_int_equal (guest_overlay_begin (&ov, path, format, DISK_SIZE), 0);
  assert_int_equal (unlink (ov.path), 0);
  img = image_create ("qcow2", ov.path, DISK_SIZE, &(struct image_create_opts) {
      .backing = base, .backing_format = format });
  assert_non_null (img);
  assert_int_equal (image_pwrite (img, data, sizeof data, at), 0);
  assert_int_equal (image_close (img), 0);
  /* Until the commit the image is untouched. */
  after = read_disk (path);
  assert_int_equal (after[at], pattern (at));
  free (after);
  assert_int_equal (guest_overlay_commit (&ov), 0);
  guest_overlay_abort (&ov);
  assert_int_equal (other_files (), 0);
  after = read_disk (path);
  for (i = 0; i < DISK_SIZE; i++) {
    unsigned char want = i >= at && i < at + sizeof data ? 0xab : pattern (i);
    if (after[i] != want)
      fail_msg ("%s: byte %zu: %u, want %u", format, i, after[i], want);
  }
  free (after);
  free (base);
  free (path);
}

static void
test_overlay_commit_raw (void **state)
{
  (void) state;
  check_commit ("raw");
}

static void
test_overlay_commit_qcow2 (void **state)
{
  (void) state;
  check_commit ("qcow2");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_devname_parse),
    cmocka_unit_test (test_fstab),
    cmocka_unit_test (test_crypttab),
    cmocka_unit_test (test_console),
    cmocka_unit_test (test_grub_default),
    cmocka_unit_test (test_resume_and_kv),
    cmocka_unit_test (test_modules_file),
    cmocka_unit_test (test_networkd),
    cmocka_unit_test (test_ifcfg_nm),
    cmocka_unit_test (test_netplan),
    cmocka_unit_test (test_ifupdown),
    cmocka_unit_test (test_kernel_choice),
    cmocka_unit_test (test_moddep_closure),
    cmocka_unit_test (test_grub_cfg_ready),
    cmocka_unit_test (test_env_forces_tcg),
    cmocka_unit_test (test_choose_root_listing),
    cmocka_unit_test (test_overlay_abort),
    cmocka_unit_test (test_overlay_commit_raw),
    cmocka_unit_test (test_overlay_commit_qcow2),
  };
  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

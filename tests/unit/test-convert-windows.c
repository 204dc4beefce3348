/* test-convert-windows.c: the .inf parser (ANSI, UTF-16LE, hostile input),
 * the pure choices of Windows driver injection (models by arch and
 * version, target IDs, CriticalDeviceDatabase/DriverDatabase key names,
 * DevicePath, tags, GUIDs) and the driver-folder check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/common/error.h"
#include "lib/guest/convert-windows.h"
#include "lib/guest/windows-inf.h"

static char tmpdir[] = "/tmp/ferry-unit-win.XXXXXX";

#define SCSI_GUID "{4D36E97B-E325-11CE-BFC1-08002BE10318}"

/* viostor.inf as virtio-win writes it, trimmed. */
static const char viostor[] =
  "; viostor.inf\r\n"
  "[Version]\r\n"
  "Signature=\"$WINDOWS NT$\"\r\n"
  "Class=SCSIAdapter\r\n"
  "ClassGUID=" SCSI_GUID "\r\n"
  "Provider=%VENDOR%   ; the vendor\r\n"
  "CatalogFile=viostor.cat\r\n"
  "\r\n"
  "[Manufacturer]\r\n"
  "%VENDOR% = RHEL, NTamd64.6.1, NTamd64.10.0, NTx86.6.1, NTia64\r\n"
  "\r\n"
  "[RHEL.NTamd64.6.1]\r\n"
  "%Desc% = rhelscsi_inst, PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00\r\n"
  "[RHEL.NTamd64.10.0]\r\n"
  "%Desc% = rhelscsi_inst, PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00\r\n"
  "%Desc% = rhelscsi_inst, PCI\\VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01\r\n"
  "[RHEL.NTx86.6.1]\r\n"
  "%Desc% = rhelscsi_inst, PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00\r\n"
  "[RHEL.NTia64]\r\n"
  "%Desc% = rhelscsi_inst, PCI\\VEN_1AF4&DEV_1001\r\n"
  "\r\n"
  "[rhelscsi_inst.Services]\r\n"
  "AddService = wrong, 0x00000000, wrong_Service_Inst\r\n"
  "AddService = viostor, 0x00000002, rhelscsi_Service_Inst, ev\r\n"
  "\r\n"
  "[rhelscsi_Service_Inst]\r\n"
  "ServiceType    = 1\r\n"
  "ServiceBinary  = %12%\\viostor.sys\r\n"
  "\r\n"
  "[Strings]\r\n"
  "VENDOR = \"Red Hat, Inc.\"\r\n"
  "Desc = \"VirtIO SCSI controller\"\r\n";

static void
check_viostor (const struct win_inf *inf)
{
  const struct win_models *m;

  assert_string_equal (inf->class_name, "SCSIAdapter");
  assert_string_equal (inf->class_guid, SCSI_GUID);
  assert_string_equal (inf->provider, "Red Hat, Inc.");
  assert_string_equal (inf->catalog, "viostor.cat");
  assert_string_equal (inf->service, "viostor");
  assert_string_equal (inf->sys, "viostor.sys");
  assert_true (win_inf_is_storage (inf));
  assert_int_equal (inf->models.len, 3);      /* ia64 skipped */
  m = win_inf_models_for (inf, WIN_ARCH_AMD64, 6, 1);
  assert_non_null (m);
  assert_int_equal (m->major, 6);
  assert_int_equal (m->hwids.len, 1);
  assert_string_equal (m->install, "rhelscsi_inst");
  m = win_inf_models_for (inf, WIN_ARCH_AMD64, 10, 0);
  assert_non_null (m);
  assert_int_equal (m->major, 10);
  assert_int_equal (m->hwids.len, 2);
  assert_string_equal (m->hwids.ptr[1],
                       "PCI\\VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01");
  m = win_inf_models_for (inf, WIN_ARCH_X86, 6, 3);
  assert_non_null (m);
  assert_int_equal (m->arch, WIN_ARCH_X86);
  assert_null (win_inf_models_for (inf, WIN_ARCH_AMD64, 6, 0));
  assert_null (win_inf_models_for (inf, WIN_ARCH_ARM64, 10, 0));
  assert_true (win_inf_serves (inf, "kvm"));
  assert_false (win_inf_serves (inf, "xen"));
}

static void
test_parse_ansi (void **state)
{
  struct win_inf inf;

  (void) state;
  assert_int_equal (win_inf_parse (viostor, strlen (viostor), &inf), 0);
  check_viostor (&inf);
  win_inf_free (&inf);
}

/* ASCII text widened to UTF-16LE, with or without a BOM. */
static char *
utf16 (const char *s, bool bom, size_t *len)
{
  size_t n = strlen (s), i, o = 0;
  char *u = malloc (2 * n + 2);

  assert_non_null (u);
  if (bom)
    u[o++] = (char) 0xff, u[o++] = (char) 0xfe;
  for (i = 0; i < n; i++)
    u[o++] = s[i], u[o++] = 0;
  *len = o;
  return u;
}

static void
test_parse_utf16 (void **state)
{
  struct win_inf inf;
  size_t len;
  char *u;

  (void) state;
  u = utf16 (viostor, true, &len);
  assert_int_equal (win_inf_parse (u, len, &inf), 0);
  check_viostor (&inf);
  win_inf_free (&inf);
  free (u);
  u = utf16 (viostor, false, &len);
  assert_int_equal (win_inf_parse (u, len, &inf), 0);
  check_viostor (&inf);
  win_inf_free (&inf);
  /* A truncated (odd) length still parses what is there. */
  assert_int_equal (win_inf_parse (u, len - 1, &inf), 0);
  win_inf_free (&inf);
  free (u);
}

static void
test_parse_shapes (void **state)
{
  static const char plain[] =
    "[Version]\nClass=Net\nClassGuid={4d36e972-e325-11ce-bfc1-08002be10318}\n"
    "[Manufacturer]\nXen=XenModels\nOther=Foo,NTmips\n"
    "[XenModels]\n"
    "\"Xen PV\" = xen_inst, PCI\\VEN_5853&DEV_0001, \\\n"
    "   XENBUS\\VEN_XS0001&DEV_VIF, BAD\\\\ID, \\LEAD, %X%\n"
    "[xen_inst.NT.Services]\nAddService=xennet,,xen_svc\n";
  struct win_inf inf;
  const struct win_models *m;

  (void) state;
  assert_int_equal (win_inf_parse (plain, strlen (plain), &inf), 0);
  assert_false (win_inf_is_storage (&inf));
  assert_string_equal (inf.service, "xennet");
  assert_string_equal (inf.sys, "xennet.sys");   /* no ServiceBinary */
  assert_int_equal (inf.models.len, 1);           /* NTmips skipped */
  m = win_inf_models_for (&inf, WIN_ARCH_ARM64, 5, 1);  /* undecorated */
  assert_non_null (m);
  assert_int_equal (m->hwids.len, 2);             /* continued line */
  assert_string_equal (m->hwids.ptr[1], "XENBUS\\VEN_XS0001&DEV_VIF");
  assert_true (win_inf_serves (&inf, "xen"));
  assert_false (win_inf_serves (&inf, "kvm"));
  win_inf_free (&inf);
}

/* ANSI bytes are Latin-1; a %string% naming itself is not a loop. */
static void
test_parse_ansi_strings (void **state)
{
  static const char text[] =
    "[Version]\nClass=hdc\nProvider=%P%\nCatalogFile=%Q%\n"
    "[Manufacturer]\n%P%=M,NTamd64\n[M.NTamd64]\nd=i,PCI\\VEN_1AF4&DEV_1001\n"
    "[i.Services]\nAddService=%S%,2,svc\n"
    "[Strings]\nP=\"Soci\xe9t\xe9\"\nQ=%Q%\nS=\"stor\"\n";
  struct win_inf inf;

  (void) state;
  assert_int_equal (win_inf_parse (text, strlen (text), &inf), 0);
  assert_string_equal (inf.provider, "Soci\xc3\xa9t\xc3\xa9");
  assert_string_equal (inf.service, "stor");
  assert_string_equal (inf.catalog, "%Q%");
  assert_true (win_inf_is_storage (&inf));
  win_inf_free (&inf);
}

static void
refuse (const void *data, size_t len, const char *msg)
{
  struct win_inf inf;

  assert_int_equal (win_inf_parse (data, len, &inf), -1);
  if (strstr (error_get (), msg) == NULL)
    fail_msg ("expected '%s', got '%s'", msg, error_get ());
  assert_null (inf.service);
  assert_int_equal (inf.models.len, 0);
}

static void
test_parse_hostile (void **state)
{
  static const char nomodels[] = "[Version]\nClass=SCSIAdapter\n";
  static const char noservice[] =
    "[Manufacturer]\nA=B\n[B]\nx = i, PCI\\VEN_1AF4&DEV_1001\n";
  static const char badsect[] = "[Version\nClass=x\n";
  static const char badsvc[] =
    "[Manufacturer]\nA=B\n[B]\nx = i, PCI\\VEN_1AF4&DEV_1001\n"
    "[i.Services]\nAddService = ..\\evil, 2, s\n";
  static const char badbin[] =
    "[Manufacturer]\nA=B\n[B]\nx = i, PCI\\VEN_1AF4&DEV_1001\n"
    "[i.Services]\nAddService = ok, 2, s\n[s]\nServiceBinary=%12%\\..\n";
  char *big, *many;
  size_t i, n;

  (void) state;
  refuse (nomodels, strlen (nomodels), "no [Manufacturer] models");
  refuse (noservice, strlen (noservice), "no AddService");
  refuse (badsect, strlen (badsect), "bad section header");
  refuse (badsvc, strlen (badsvc), "bad service name");
  refuse (badbin, strlen (badbin), "bad ServiceBinary '..'");
  big = calloc (1, WIN_INF_MAX_SIZE + 1);
  assert_non_null (big);
  memset (big, ' ', WIN_INF_MAX_SIZE + 1);
  refuse (big, WIN_INF_MAX_SIZE + 1, "larger than");
  free (big);
  /* More hardware IDs than a models section may hold. */
  many = malloc (64 * 1024);
  assert_non_null (many);
  n = (size_t) snprintf (many, 64, "[Manufacturer]\nA=B\n[B]\nx = i");
  for (i = 0; i <= WIN_INF_MAX_HWIDS; i++)
    n += (size_t) snprintf (many + n, 64, ", PCI\\VEN_1AF4&DEV_%04zx", i);
  refuse (many, n, "more than 512 hardware IDs");
  free (many);
  /* More lines than any real .inf; a continued line without end. */
  big = malloc (3 * (WIN_INF_MAX_LINES + 1) + 1);
  assert_non_null (big);
  for (i = 0; i <= WIN_INF_MAX_LINES; i++)
    memcpy (big + 3 * i, "a\r\n", 3);
  refuse (big, 3 * (WIN_INF_MAX_LINES + 1), "more than 20000 lines");
  for (i = 0; i <= WIN_INF_MAX_LINES; i++)
    memcpy (big + 3 * i, "a\\\n", 3);
  refuse (big, 3 * (WIN_INF_MAX_LINES + 1), "continued line longer than");
  free (big);
  /* An unpaired surrogate is not UTF-16. */
  refuse ("\xff\xfe\x00\xd8[\x00", 6, "invalid UTF-16LE");
}

/* Random bytes and random mutations of a real .inf never crash. */
static void
test_parse_random (void **state)
{
  uint32_t x = 12345;
  char buf[sizeof viostor];
  struct win_inf inf;
  size_t i, k, len;

  (void) state;
  for (i = 0; i < 3000; i++) {
    memcpy (buf, viostor, sizeof buf);
    len = i % 2 ? sizeof buf - 1 : (x % (sizeof buf - 1)) + 1;
    for (k = 0; k < 1 + i % 16; k++) {
      x = x * 1103515245 + 12345;
      buf[(x >> 8) % len] = (char) (x >> 20);
    }
    if (win_inf_parse (buf, len, &inf) == 0)
      win_inf_free (&inf);
  }
}

static void
test_targets_and_versions (void **state)
{
  (void) state;
  assert_true (win_hwid_for_target ("PCI\\VEN_1AF4&DEV_1001", "kvm"));
  assert_true (win_hwid_for_target ("pci\\ven_1af4&dev_1048", "kvm"));
  assert_false (win_hwid_for_target ("PCI\\VEN_1AF40&DEV_1001", "kvm"));
  assert_false (win_hwid_for_target ("PCI\\VEN_1AF4&DEV_1001", "xen"));
  assert_true (win_hwid_for_target ("PCI\\VEN_5853&DEV_0002", "xen"));
  assert_true (win_hwid_for_target ("XENVBD\\DEVICE", "xen"));
  assert_false (win_hwid_for_target ("PCI\\VEN_1AF4&DEV_1001", "native"));
  assert_true (win_needs_cddb (5, 1));
  assert_true (win_needs_cddb (6, 1));
  assert_false (win_needs_cddb (6, 2));
  assert_false (win_needs_cddb (6, 3));
  assert_false (win_needs_cddb (10, 0));
  assert_int_equal (win_arch_from_guest ("x86_64"), WIN_ARCH_AMD64);
  assert_int_equal (win_arch_from_guest ("i386"), WIN_ARCH_X86);
  assert_int_equal (win_arch_from_guest ("aarch64"), WIN_ARCH_ARM64);
  assert_int_equal (win_arch_from_guest ("sparc"), 0);
  assert_int_equal (win_arch_from_guest (NULL), 0);
  assert_string_equal (win_arch_name (WIN_ARCH_AMD64), "amd64");
}

static void
test_cddb_keys (void **state)
{
  strv_vector v = empty_vector;

  (void) state;
  assert_int_equal (win_cddb_keys (
      "PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00", &v), 0);
  assert_int_equal (v.len, 3);
  assert_string_equal (v.ptr[0],
                       "pci#ven_1af4&dev_1001&subsys_00021af4&rev_00");
  assert_string_equal (v.ptr[1], "pci#ven_1af4&dev_1001&subsys_00021af4");
  assert_string_equal (v.ptr[2], "pci#ven_1af4&dev_1001");
  /* The same device through another ID adds only what is new. */
  assert_int_equal (win_cddb_keys ("PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4",
                                   &v), 0);
  assert_int_equal (v.len, 3);
  assert_int_equal (win_cddb_keys ("PCI\\VEN_1AF4&DEV_1042", &v), 0);
  assert_int_equal (v.len, 4);
  assert_string_equal (v.ptr[3], "pci#ven_1af4&dev_1042");
  assert_int_equal (win_cddb_keys ("XENBUS\\VEN_XP0001&DEV_VBD&REV_1", &v), 0);
  assert_int_equal (v.len, 5);
  assert_string_equal (v.ptr[4], "xenbus#ven_xp0001&dev_vbd&rev_1");
  assert_int_equal (win_cddb_keys ("NOENUMERATOR", &v), -1);
  strv_vector_free (&v);
}

static void
test_ddb_devicepath_tag (void **state)
{
  static const unsigned char list[] = { 3, 0, 0, 0, 1, 0, 0, 0, 0x21, 0, 0,
                                        0, 2, 0, 0, 0 };
  static const unsigned char lying[] = { 0xff, 0xff, 0, 0, 7, 0, 0, 0 };
  bool present;
  char *s;

  (void) state;
  s = win_ddb_id ("pci\\ven_1af4&dev_1001&Subsys_00021af4");
  assert_string_equal (s, "PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4");
  free (s);
  s = win_devicepath_add ("%SystemRoot%\\inf", "%SystemRoot%\\Drivers\\Ferry",
                          &present);
  assert_string_equal (s, "%SystemRoot%\\inf;%SystemRoot%\\Drivers\\Ferry");
  assert_false (present);
  free (s);
  s = win_devicepath_add ("a;", "b", &present);
  assert_string_equal (s, "a;b");
  free (s);
  s = win_devicepath_add (NULL, "b", &present);
  assert_string_equal (s, "%SystemRoot%\\inf;b");
  free (s);
  assert_null (win_devicepath_add ("x;%SYSTEMROOT%\\drivers\\ferry;y",
                                   "%SystemRoot%\\Drivers\\Ferry", &present));
  assert_true (present);
  assert_int_equal (win_next_tag (list, sizeof list), 0x22);
  assert_int_equal (win_next_tag (list, 3), 1);
  assert_int_equal (win_next_tag (NULL, 0), 1);
  assert_int_equal (win_next_tag (lying, sizeof lying), 8);  /* bounded */
}

static void
test_guid_utf16 (void **state)
{
  static const unsigned char scsi[16] = {
    0x7b, 0xe9, 0x36, 0x4d, 0x25, 0xe3, 0xce, 0x11,
    0xbf, 0xc1, 0x08, 0x00, 0x2b, 0xe1, 0x03, 0x18 };
  const char *v[2] = { "ab", "c" };
  unsigned char g[16];
  size_t len;
  char *u, *s;

  (void) state;
  assert_int_equal (win_guid_bytes (SCSI_GUID, g), 0);
  assert_memory_equal (g, scsi, 16);
  assert_int_equal (win_guid_bytes ("{4D36E97B-E325-11CE-BFC1-08002BE1031}",
                                    g), -1);
  assert_int_equal (win_guid_bytes ("4D36E97B-E325-11CE-BFC1-08002BE10318",
                                    g), -1);
  u = win_utf16 ("Ab\xc3\xa9", &len);
  assert_int_equal (len, 8);
  assert_memory_equal (u, "A\0b\0\xe9\0\0\0", 8);
  s = win_utf8 (u, len);
  assert_string_equal (s, "Ab\xc3\xa9");
  free (s);
  free (u);
  u = win_utf16_multi (v, 2, &len);
  assert_int_equal (len, 12);
  assert_memory_equal (u, "a\0b\0\0\0c\0\0\0\0\0", 12);
  free (u);
}

static void
write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");

  assert_non_null (f);
  fputs (text, f);
  assert_int_equal (fclose (f), 0);
}

static void
test_drivers_dir (void **state)
{
  char d[300], p[400];
  win_driver_vector v = empty_vector;

  (void) state;
  snprintf (d, sizeof d, "%s/drv", tmpdir);
  assert_int_equal (mkdir (d, 0755), 0);
  assert_int_equal (windows_drivers_check (d, "kvm"), -1);
  assert_non_null (strstr (error_get (), "no storage driver for kvm among 0"));
  snprintf (p, sizeof p, "%s/w10", d);
  assert_int_equal (mkdir (p, 0755), 0);
  snprintf (p, sizeof p, "%s/w10/VIOSTOR.INF", d);
  write_file (p, viostor);
  assert_int_equal (windows_drivers_check (d, "kvm"), 0);
  assert_int_equal (windows_drivers_check (d, "xen"), -1);
  assert_non_null (strstr (error_get (), "no storage driver for xen among 1"));
  assert_int_equal (windows_drivers_load (d, &v), 0);
  assert_int_equal (v.len, 1);
  assert_string_equal (v.ptr[0].inf_name, "VIOSTOR.INF");
  windows_drivers_free (&v);
  snprintf (p, sizeof p, "%s/bad.inf", d);
  write_file (p, "[Version]\nClass=SCSIAdapter\n");
  assert_int_equal (windows_drivers_check (d, "kvm"), -1);
  assert_non_null (strstr (error_get (), "bad.inf': no [Manufacturer]"));
  snprintf (p, sizeof p, "%s/none", tmpdir);
  assert_int_equal (windows_drivers_check (p, "kvm"), -1);
  assert_non_null (strstr (error_get (), "drivers '"));
}

/* Refusals that come before the appliance is touched (g unused). */
static void
test_convert_refusals (void **state)
{
  struct guest_root root = { .product = (char *) "Windows 10 Pro",
                             .major = 10 };
  struct convert_report rep = { 0 };

  (void) state;
  assert_int_equal (convert_windows (NULL, &root, "native", "/nonexistent",
                                     &rep), -1);
  assert_non_null (strstr (error_get (), "--to kvm or xen only"));
  assert_int_equal (convert_windows (NULL, &root, "kvm", NULL, &rep), -1);
  assert_non_null (strstr (error_get (), "needs --drivers DIR"));
  assert_int_equal (rep.changes.len, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_ansi),
    cmocka_unit_test (test_parse_utf16),
    cmocka_unit_test (test_parse_shapes),
    cmocka_unit_test (test_parse_ansi_strings),
    cmocka_unit_test (test_parse_hostile),
    cmocka_unit_test (test_parse_random),
    cmocka_unit_test (test_targets_and_versions),
    cmocka_unit_test (test_cddb_keys),
    cmocka_unit_test (test_ddb_devicepath_tag),
    cmocka_unit_test (test_guid_utf16),
    cmocka_unit_test (test_drivers_dir),
    cmocka_unit_test (test_convert_refusals),
  };

  return UNIT_RUN_IN_TMPDIR (tests, tmpdir);
}

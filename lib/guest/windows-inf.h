/* windows-inf.h: Windows driver .inf files (hostile input: bounded,
 * UTF-16LE or ANSI) and the pure decisions of Windows driver injection:
 * which driver serves a target, arch and Windows version, and which
 * registry keys name its hardware IDs.  No libguestfs here.
 *
 *   struct win_inf inf = { 0 };
 *   if (win_inf_parse (bytes, len, &inf) == -1) ... error_get ()
 *   m = win_inf_models_for (&inf, WIN_ARCH_AMD64, 6, 1);
 *   ... m->hwids, inf.service, inf.sys ...;  win_inf_free (&inf);
 */
#ifndef FERRY_GUEST_WINDOWS_INF_H
#define FERRY_GUEST_WINDOWS_INF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/common/strv.h"
#include "lib/common/vector.h"

/* Larger .inf files are refused (virtio-win's biggest is ~30 KiB). */
#define WIN_INF_MAX_SIZE (1024 * 1024)
/* Lines per .inf (virtio-win's have ~200), bytes per continued line. */
#define WIN_INF_MAX_LINES 20000
#define WIN_INF_MAX_LINE 4096
/* Hardware IDs kept per models section, decorations per .inf. */
#define WIN_INF_MAX_HWIDS 512
#define WIN_INF_MAX_MODELS 32

enum { WIN_ARCH_X86 = 1, WIN_ARCH_AMD64 = 2, WIN_ARCH_ARM64 = 4 };

/* One models section: [Manufacturer]'s "base,NTamd64.6.1" decoration. */
struct win_models {
  unsigned arch;              /* WIN_ARCH_*, 0 = undecorated (any) */
  int major, minor;           /* minimum Windows version, 0.0 = any */
  char *install;              /* install section of the first model */
  strv_vector hwids;    /* "PCI\VEN_1AF4&DEV_1001&SUBSYS_...", as written */
};
DEFINE_VECTOR_TYPE (win_models_vector, struct win_models);

struct win_inf {
  char *class_name;           /* [Version] Class, "" if absent */
  char *class_guid;           /* [Version] ClassGuid, "" if absent */
  char *provider;             /* %strings% substituted */
  char *catalog;              /* CatalogFile, "" if absent */
  char *service;              /* AddService with SPSVCINST_ASSOCSERVICE, or first */
  char *sys;                  /* ServiceBinary's file name, else SERVICE.sys */
  win_models_vector models;
};

/* Parse an .inf.  -1 with an error for oversized or undecodable input or
 * one without models or AddService. */
int win_inf_parse (const void *data, size_t len, struct win_inf *inf);
void win_inf_free (struct win_inf *inf);

/* SCSIAdapter / hdc class (by name or GUID). */
bool win_inf_is_storage (const struct win_inf *inf);

/* The models section for this arch and Windows version: the highest
 * minimum version not above (major, minor), or NULL. */
const struct win_models *win_inf_models_for (const struct win_inf *inf,
                                             unsigned arch, int major,
                                             int minor);

/* Whether any models section of `inf` names a device of `target`. */
bool win_inf_serves (const struct win_inf *inf, const char *target);

/* A hardware ID of the target's devices: kvm PCI\VEN_1AF4 (virtio), xen
 * PCI\VEN_5853 (Xen platform device) or XENBUS\ / XENVBD\. */
bool win_hwid_for_target (const char *hwid, const char *target);

/* guestfs arch ("x86_64", "i386", "aarch64") to WIN_ARCH_*, 0 if unknown;
 * and the .inf name of one ("amd64"). */
unsigned win_arch_from_guest (const char *arch);
const char *win_arch_name (unsigned arch);

/* Windows before 8 (6.2) binds boot drivers by CriticalDeviceDatabase,
 * later ones by DriverDatabase. */
bool win_needs_cddb (int major, int minor);

/* CriticalDeviceDatabase key names for a hardware ID, appended to *out
 * unless already there: '\' becomes '#', lower-case; a PCI ID gives
 * "pci#ven_1af4&dev_1001&subsys_00021af4&rev_00", then without &rev_,
 * then vendor and device only.  -1 for an ID without an enumerator. */
int win_cddb_keys (const char *hwid, strv_vector *out);

/* DriverDatabase\DeviceIds key path for a hardware ID: "PCI\VEN_1AF4&..."
 * stays "PCI\VEN_1AF4&..." (enumerator, then the rest), upper-case. */
char *win_ddb_id (const char *hwid);

/* DevicePath with `dir` appended (';'-separated, case-insensitive), or
 * NULL with *present = true when it is already there. */
char *win_devicepath_add (const char *old, const char *dir, bool *present);

/* A Tag for a new driver of a group: one above the largest in the group's
 * GroupOrderList value (a DWORD count, then DWORD tags), 1 if none. */
uint32_t win_next_tag (const void *list, size_t len);

/* "{4D36E97B-E325-11CE-BFC1-08002BE10318}" as Windows stores a GUID
 * (first three fields little-endian).  -1 with an error if malformed. */
int win_guid_bytes (const char *guid, unsigned char out[16]);

/* UTF-8 to UTF-16LE with a terminating NUL (registry strings); *len is the
 * byte length.  MULTI_SZ: strings joined with NULs plus a final NUL. */
char *win_utf16 (const char *s, size_t *len);
char *win_utf16_multi (const char *const *v, size_t n, size_t *len);

/* UTF-16LE (up to its first NUL) to UTF-8, NULL with an error if invalid. */
char *win_utf8 (const void *data, size_t len);


#endif

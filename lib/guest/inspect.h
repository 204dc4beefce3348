/* inspect.h: what is on a guest's disks (libguestfs inspection), choosing
 * one root among several, and mounting a root inside the appliance.
 *
 * guest_inspect fills a guest_roots the caller frees with
 * guest_roots_free.  Nothing is mounted by inspection itself.
 */
#ifndef FERRY_GUEST_INSPECT_H
#define FERRY_GUEST_INSPECT_H

#include <stdbool.h>
#include <stddef.h>

#include <guestfs.h>

#include "lib/common/vector.h"

struct guest_mount {
  char *mountpoint;           /* "/", "/boot", ... */
  char *device;               /* appliance device, "/dev/sda1" */
};
DEFINE_VECTOR_TYPE (guest_mount_vector, struct guest_mount);

struct guest_root {
  char *device;               /* the root filesystem, appliance name */
  char *type;                 /* "linux", "windows", "freebsd", "unknown" */
  char *distro;               /* "debian", "fedora", "rhel", ... */
  char *product;              /* "Debian GNU/Linux 12 (bookworm)" */
  int major, minor;
  char *package_format;       /* "deb", "rpm", ... */
  char *hostname;
  guest_mount_vector mounts;  /* sorted: parents before children */
  /* Windows roots only (NULL otherwise): */
  char *arch;                 /* "x86_64", "i386" (of System32\cmd.exe) */
  char *systemroot;           /* "/Windows", as libguestfs resolved it */
  char *control_set;          /* "ControlSet002": SYSTEM's Select\Current */
  char *system_hive;          /* "/Windows/System32/config/SYSTEM" */
  char *software_hive;
  char *build;                /* SOFTWARE CurrentBuildNumber, "7601"; "" if absent */
};
DEFINE_VECTOR_TYPE (guest_root_vector, struct guest_root);

/* Inspect all disks of a launched handle.  No roots is not an error here
 * (roots->len == 0): the caller says why (guest_explain_no_root). */
int guest_inspect (guestfs_h *g, guest_root_vector *roots);

/* Set an error saying why no OS was found: encrypted (LUKS) filesystems
 * without a key, or simply no operating system.  Returns -1. */
int guest_explain_no_root (guestfs_h *g, const char *image);

/* Pick the root named `want` (appliance device, e.g. "/dev/sda1"), or the
 * only root when want is NULL; several roots and no `want` is an error
 * listing them (never pick silently).  Returns the index or -1. */
int guest_choose_root (const guest_root_vector *roots, const char *want);

/* Mount the root's filesystems, parents first, read-write or read-only. */
int guest_mount_root (guestfs_h *g, const struct guest_root *root,
                      bool readonly);

void guest_roots_free (guest_root_vector *roots);

#endif

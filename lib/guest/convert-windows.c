/* convert-windows.c: make a Windows guest's storage driver boot on the
 * target — files copied into the guest, a boot-start service, the PnP
 * database entry that binds it (CriticalDeviceDatabase before Windows 8,
 * DriverDatabase from 8 on) and DevicePath — all through libguestfs's
 * hivex calls inside the appliance.  See convert-windows.h. */
#include "lib/common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/guest/convert-windows.h"
#include "lib/guest/session.h"
#include "lib/guest/windows-reg.h"

#define SCSI_CLASS_GUID "{4D36E97B-E325-11CE-BFC1-08002BE10318}"

/* ---- the driver folder (host side, hostile input) ------------------- */

static int
read_inf (const char *path, struct win_inf *inf)
{
  struct stat st;
  char *buf;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

  if (fd == -1)
    return error_errno ("'%s'", path);
  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode) ||
      st.st_size > WIN_INF_MAX_SIZE) {
    close (fd);
    return error_set ("'%s': not a regular file of at most %d bytes", path,
                      WIN_INF_MAX_SIZE);
  }
  if ((buf = malloc ((size_t) st.st_size + 1)) == NULL) {
    close (fd);
    return error_errno ("malloc");
  }
  r = full_pread (fd, buf, (size_t) st.st_size, 0, path);
  close (fd);
  if (r == 0 && (r = win_inf_parse (buf, (size_t) st.st_size, inf)) == -1)
    error_prefix ("'%s': ", path);
  free (buf);
  return r;
}

static int load_dir (const char *dir, int depth, win_driver_vector *out);

static int
load_entry (const char *dir, const char *name, int depth,
            win_driver_vector *out)
{
  struct win_driver d = { 0 };
  struct stat st;
  char *path = xasprintf ("%s/%s", dir, name);
  size_t n = strlen (name);
  int r = 0;

  if (path == NULL || lstat (path, &st) == -1) {
    r = path ? error_errno ("'%s'", path) : -1;
  } else if (S_ISDIR (st.st_mode)) {
    if (depth < WIN_DRIVERS_MAX_DEPTH)
      r = load_dir (path, depth + 1, out);
  } else if (S_ISREG (st.st_mode) && n > 4 &&
             strcasecmp (name + n - 4, ".inf") == 0) {
    if (out->len >= WIN_DRIVERS_MAX_INFS)
      r = error_set ("'%s': more than %d .inf files", dir,
                     WIN_DRIVERS_MAX_INFS);
    else if ((r = read_inf (path, &d.inf)) == 0) {
      d.dir = xstrdup (dir);
      d.inf_name = xstrdup (name);
      if (!d.dir || !d.inf_name || win_driver_vector_append (out, d) == -1) {
        free (d.dir);
        free (d.inf_name);
        win_inf_free (&d.inf);
        r = -1;
      }
    }
  }
  free (path);
  return r;
}

/* Sorted (scandir), so the same folder always gives the same result. */
static int
load_dir (const char *dir, int depth, win_driver_vector *out)
{
  struct dirent **ents;
  int n = scandir (dir, &ents, NULL, alphasort), i, r = 0;

  if (n == -1)
    return error_errno ("'%s'", dir);
  for (i = 0; i < n; i++) {
    if (r == 0 && strcmp (ents[i]->d_name, ".") &&
        strcmp (ents[i]->d_name, ".."))
      r = load_entry (dir, ents[i]->d_name, depth, out);
    free (ents[i]);
  }
  free (ents);
  return r;
}

int
windows_drivers_load (const char *dir, win_driver_vector *out)
{
  struct stat st;

  if (stat (dir, &st) == -1)
    return error_errno ("drivers '%s'", dir);
  if (!S_ISDIR (st.st_mode))
    return error_set ("drivers '%s': not a directory", dir);
  return load_dir (dir, 0, out);
}

void
windows_drivers_free (win_driver_vector *v)
{
  size_t i;

  for (i = 0; i < v->len; i++) {
    free (v->ptr[i].dir);
    free (v->ptr[i].inf_name);
    win_inf_free (&v->ptr[i].inf);
  }
  win_driver_vector_reset (v);
}

static const char *
target_ids (const char *target)
{
  return strcmp (target, "xen") == 0
    ? "Xen PV (PCI\\VEN_5853, XENBUS\\, XENVBD\\)" : "virtio (PCI\\VEN_1AF4)";
}

static int
no_storage_error (const char *dir, const char *target, size_t ninf)
{
  return error_set ("drivers '%s': no storage driver for %s among %zu .inf "
                    "file%s (looked for a SCSIAdapter/hdc class driver with "
                    "%s hardware IDs)", dir, target, ninf,
                    ninf == 1 ? "" : "s", target_ids (target));
}

int
windows_drivers_check (const char *dir, const char *target)
{
  win_driver_vector v = empty_vector;
  size_t i;
  int r = -1;

  if (windows_drivers_load (dir, &v) == 0) {
    for (i = 0; i < v.len && r == -1; i++)
      if (win_inf_is_storage (&v.ptr[i].inf) &&
          win_inf_serves (&v.ptr[i].inf, target))
        r = 0;
    if (r == -1)
      no_storage_error (dir, target, v.len);
  }
  windows_drivers_free (&v);
  return r;
}

/* ---- the plan: which driver goes where, decided before any write ---- */

struct use {
  const struct win_driver *drv;
  const struct win_models *models;
  bool storage;               /* boot-start, bound to the target's IDs */
  char *sys, *cat;            /* host paths; NULL if absent */
};
DEFINE_VECTOR_TYPE (use_vector, struct use);

/* `name` in `dir`, matched without case (Windows names), or NULL. */
static char *
find_file (const char *dir, const char *name)
{
  DIR *d;
  struct dirent *e;
  char *path = NULL;

  if (*name == '\0' || (d = opendir (dir)) == NULL)
    return NULL;
  while (path == NULL && (e = readdir (d)) != NULL)
    if (strcasecmp (e->d_name, name) == 0)
      path = xasprintf ("%s/%s", dir, e->d_name);
  closedir (d);
  return path;
}

static int
check_file (const char *path)
{
  struct stat st;

  if (path == NULL)
    return 0;
  if (lstat (path, &st) == -1)
    return error_errno ("'%s'", path);
  if (!S_ISREG (st.st_mode) || st.st_size > WIN_DRIVER_MAX_FILE)
    return error_set ("'%s': not a regular file of at most %d MiB", path,
                      WIN_DRIVER_MAX_FILE >> 20);
  return 0;
}

static bool
models_serve (const struct win_models *m, const char *target)
{
  size_t i;

  for (i = 0; i < m->hwids.len; i++)
    if (win_hwid_for_target (m->hwids.ptr[i], target))
      return true;
  return false;
}

/* virtio-win ships one .inf per Windows release for the same service
 * (w7/, w10/, 2k19/...): of those that fit the guest, the one made for the
 * newest Windows wins; on a tie, the first in folder order. */
static bool
best_for_service (const win_driver_vector *drvs, size_t i, unsigned arch,
                  const struct guest_root *root)
{
  const struct win_models *mi, *mj;
  size_t j;

  mi = win_inf_models_for (&drvs->ptr[i].inf, arch, root->major, root->minor);
  if (mi == NULL)
    return false;
  for (j = 0; j < drvs->len; j++) {
    if (j == i || strcasecmp (drvs->ptr[j].inf.service,
                              drvs->ptr[i].inf.service) != 0)
      continue;
    mj = win_inf_models_for (&drvs->ptr[j].inf, arch, root->major,
                             root->minor);
    if (mj && (mj->major > mi->major ||
               (mj->major == mi->major && mj->minor > mi->minor) ||
               (mj->major == mi->major && mj->minor == mi->minor && j < i)))
      return false;
  }
  return true;
}

static int
add_use (use_vector *uses, const struct win_driver *d,
         const struct win_models *m, bool storage)
{
  struct use u = { d, m, storage, NULL, NULL };
  char *cat = *d->inf.catalog ? xstrdup (d->inf.catalog)
    : xasprintf ("%.*s.cat", (int) strlen (d->inf_name) - 4, d->inf_name);

  u.sys = find_file (d->dir, d->inf.sys);
  u.cat = cat ? find_file (d->dir, cat) : NULL;
  free (cat);
  if (storage && u.sys == NULL) {
    free (u.cat);
    return error_set ("drivers '%s': %s names %s, which is not there",
                      d->dir, d->inf_name, d->inf.sys);
  }
  if (check_file (u.sys) == -1 || check_file (u.cat) == -1 ||
      use_vector_append (uses, u) == -1) {
    free (u.sys);
    free (u.cat);
    return -1;
  }
  return 0;
}

/* Why no storage driver fits this guest: wrong arch, too new, or none. */
static int
explain_no_fit (const char *dir, const win_driver_vector *drvs,
                const char *target, const struct guest_root *root,
                unsigned arch)
{
  const struct win_driver *d;
  size_t i, j;

  for (i = 0; i < drvs->len; i++) {
    d = &drvs->ptr[i];
    if (!win_inf_is_storage (&d->inf) || !win_inf_serves (&d->inf, target))
      continue;
    for (j = 0; j < d->inf.models.len; j++)
      if (d->inf.models.ptr[j].arch == 0 || d->inf.models.ptr[j].arch == arch)
        return error_set ("drivers '%s': %s (%s) needs Windows %d.%d or "
                          "later; the guest is %d.%d", dir, d->inf_name,
                          d->inf.service, d->inf.models.ptr[j].major,
                          d->inf.models.ptr[j].minor, root->major,
                          root->minor);
    return error_set ("drivers '%s': %s (%s) is a driver for %s; the guest "
                      "is %s (%s): give the %s drivers", dir, d->inf_name,
                      d->inf.service,
                      win_arch_name (d->inf.models.len
                                     ? d->inf.models.ptr[0].arch : 0),
                      root->arch, win_arch_name (arch), win_arch_name (arch));
  }
  return no_storage_error (dir, target, drvs->len);
}

static int
plan (const char *dir, const win_driver_vector *drvs, const char *target,
      const struct guest_root *root, use_vector *uses)
{
  unsigned arch = win_arch_from_guest (root->arch);
  const struct win_models *m;
  bool storage, any = false;
  size_t i;

  if (arch == 0)
    return error_set ("Windows on '%s' is not supported", root->arch);
  for (i = 0; i < drvs->len; i++) {
    const struct win_driver *d = &drvs->ptr[i];
    if (!best_for_service (drvs, i, arch, root))
      continue;
    m = win_inf_models_for (&d->inf, arch, root->major, root->minor);
    storage = win_inf_is_storage (&d->inf) && models_serve (m, target);
    any |= storage;
    if (add_use (uses, d, m, storage) == -1)
      return -1;
  }
  return any ? 0 : explain_no_fit (dir, drvs, target, root, arch);
}

static void
uses_free (use_vector *uses)
{
  size_t i;

  for (i = 0; i < uses->len; i++) {
    free (uses->ptr[i].sys);
    free (uses->ptr[i].cat);
  }
  use_vector_reset (uses);
}

/* ---- the guest: hibernation, mounting, files ------------------------ */

/* A hiberfil.sys in use starts with "hibr"/"HIBR" (hibernated) or "wake"
 * ("WAKE"): Windows will resume from it and must find its disk as it
 * left it; ntfs-3g refuses such a volume read-write anyway. */
static int
check_hibernation (guestfs_h *g, const struct guest_root *root)
{
  static const char *const sigs[] = { "hibr", "HIBR", "wake", "WAKE" };
  char *path, *head = NULL;
  size_t n = 0, i;
  int r = 0;

  if (guest_mount_root (g, root, true) == -1)
    return -1;
  path = guestfs_case_sensitive_path (g, "/hiberfil.sys");
  if (path && guestfs_is_file (g, path) > 0)
    head = guestfs_pread (g, path, 4, 0, &n);
  for (i = 0; head && n == 4 && i < sizeof sigs / sizeof sigs[0]; i++)
    if (memcmp (head, sigs[i], 4) == 0)
      r = error_set ("Windows on %s is hibernated (hiberfil.sys says "
                     "\"%s\"): boot it and shut it down fully (shutdown /s "
                     "/t 0, fast startup off), then convert; nothing was "
                     "written", root->device, sigs[i]);
  free (head);
  free (path);
  if (guestfs_umount_all (g) == -1 && r == 0)
    r = guest_error (g, "umount");
  return r;
}

static int
mount_rw (guestfs_h *g, const struct guest_root *root)
{
  if (guest_mount_root (g, root, false) == 0)
    return 0;
  return error_prefix ("Windows on %s cannot be mounted read-write (a "
                       "dirty or hibernated NTFS: run chkdsk or shut Windows "
                       "down fully, then convert; nothing was written): ",
                       root->device);
}

/* A guest path below the system root, spelled as the guest spells it. */
static char *
guest_path (guestfs_h *g, const struct guest_root *root, const char *rel)
{
  char *p = xasprintf ("%s/%s", root->systemroot, rel), *real;

  if (p == NULL)
    return NULL;
  real = guestfs_case_sensitive_path (g, p);
  if (real == NULL)
    guest_error (g, p);
  free (p);
  return real;
}

/* SYSTEMROOT/a/b, made if absent, with the guest's spelling of what
 * exists (libguestfs resolves case only while the parent exists). */
static char *
make_dirs (guestfs_h *g, const struct guest_root *root, const char *a,
           const char *b)
{
  char *dir = guest_path (g, root, a), *sub, *real = NULL;

  if (dir == NULL || guestfs_mkdir_p (g, dir) == -1 ||
      (sub = xasprintf ("%s/%s", dir, b)) == NULL) {
    if (dir)
      guest_error (g, dir);
    free (dir);
    return NULL;
  }
  if ((real = guestfs_case_sensitive_path (g, sub)) == NULL ||
      guestfs_mkdir_p (g, real) == -1) {
    guest_error (g, sub);
    free (real);
    real = NULL;
  }
  free (sub);
  free (dir);
  return real;
}

static int
upload (guestfs_h *g, const char *src, const char *dir, const char *name,
        struct guest_changes *ch, const char *detail)
{
  char *dst = xasprintf ("%s/%s", dir, name);
  int r = -1;

  if (dst && guestfs_upload (g, src, dst) == -1)
    guest_error (g, dst);
  else if (dst)
    r = guest_changes_add (ch, "driver", dst, "%s", detail);
  free (dst);
  return r;
}

static const char *
base_name (const char *path)
{
  const char *s = strrchr (path, '/');

  return s ? s + 1 : path;
}

static int
copy_files (guestfs_h *g, const struct guest_root *root,
            const use_vector *uses, struct guest_changes *ch)
{
  char *drivers = guest_path (g, root, "System32/drivers");
  char *staging = make_dirs (g, root, "Drivers", "Ferry");
  char *inf = NULL;
  size_t i;
  int r = -1;

  if (!drivers || !staging)
    goto out;
  for (i = 0; i < uses->len; i++) {
    const struct use *u = &uses->ptr[i];
    free (inf);
    if ((inf = xasprintf ("%s/%s", u->drv->dir, u->drv->inf_name)) == NULL ||
        upload (g, inf, staging, u->drv->inf_name, ch,
                "driver package staged for Plug and Play") == -1 ||
        (u->cat && upload (g, u->cat, staging, base_name (u->cat), ch,
                           "driver catalog staged") == -1) ||
        (u->sys && upload (g, u->sys, staging, base_name (u->sys), ch,
                           "driver binary staged") == -1) ||
        (u->storage && upload (g, u->sys, drivers, u->drv->inf.sys, ch,
                               "boot storage driver") == -1))
      goto out;
  }
  r = 0;
out:
  free (inf);
  free (drivers);
  free (staging);
  return r;
}

/* ---- SYSTEM hive ---------------------------------------------------- */

static int64_t
key (guestfs_h *g, struct strbuf *path, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* The node of a formatted key path (created), its path left in *path. */
static int64_t
key (guestfs_h *g, struct strbuf *path, const char *fmt, ...)
{
  va_list ap;
  char *p;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&p, fmt, ap);
  va_end (ap);
  if (n < 0)
    return error_errno ("vasprintf");
  strbuf_release (path);
  strbuf_adds (path, p);
  free (p);
  return win_reg_key (g, path->buf, true);
}

/* Tag: after the SCSI miniport group's listed tags (GroupOrderList). */
static int
next_tag (guestfs_h *g, const char *cs, uint32_t *tag)
{
  char *path = xasprintf ("%s\\Control\\GroupOrderList", cs), *list = NULL;
  int64_t node = path ? win_reg_key (g, path, false) : -1;
  size_t len = 0;
  bool found = false;

  free (path);
  if (node == -1)
    return -1;
  if (node > 0 && (list = win_reg_get (g, node, "SCSI miniport", &len,
                                       &found)) == NULL && found)
    return -1;
  *tag = win_next_tag (list, len);
  free (list);
  return 0;
}

static int
add_service (guestfs_h *g, const struct guest_root *root, const struct use *u,
             uint32_t tag, struct guest_changes *ch)
{
  struct strbuf path = STRBUF_INIT;
  const char *svc = u->drv->inf.service;
  char *image = xasprintf ("system32\\drivers\\%s", u->drv->inf.sys);
  int64_t n = image ? key (g, &path, "%s\\Services\\%s", root->control_set,
                           svc) : -1;
  int r = -1;

  if (n > 0 &&
      win_reg_set_dword (g, n, "Type", 1) == 0 &&
      win_reg_set_dword (g, n, "Start", 0) == 0 &&
      win_reg_set_dword (g, n, "ErrorControl", 1) == 0 &&
      win_reg_set_string (g, n, "Group", WIN_REG_SZ, "SCSI miniport") == 0 &&
      win_reg_set_string (g, n, "ImagePath", WIN_REG_EXPAND_SZ, image) == 0 &&
      win_reg_set_dword (g, n, "Tag", tag) == 0)
    r = guest_changes_add (ch, "registry", "", "HKLM\\SYSTEM\\%s: "
                           "boot-start service (Start=0, group SCSI "
                           "miniport, tag %u, %s)", path.buf, tag, image);
  strbuf_release (&path);
  free (image);
  return r;
}

static const char *
class_guid (const struct use *u)
{
  return *u->drv->inf.class_guid ? u->drv->inf.class_guid : SCSI_CLASS_GUID;
}

/* Windows < 8: CriticalDeviceDatabase\pci#ven_...: Service, ClassGUID. */
static int
add_cddb (guestfs_h *g, const struct guest_root *root, const struct use *u,
          const char *target, struct guest_changes *ch)
{
  strv_vector keys = empty_vector;
  struct strbuf path = STRBUF_INIT;
  size_t i;
  int64_t n;
  int r = 0;

  for (i = 0; i < u->models->hwids.len && r == 0; i++)
    if (win_hwid_for_target (u->models->hwids.ptr[i], target))
      r = win_cddb_keys (u->models->hwids.ptr[i], &keys);
  for (i = 0; i < keys.len && r == 0; i++) {
    n = key (g, &path, "%s\\Control\\CriticalDeviceDatabase\\%s",
             root->control_set, keys.ptr[i]);
    if (n <= 0 ||
        win_reg_set_string (g, n, "Service", WIN_REG_SZ,
                            u->drv->inf.service) == -1 ||
        win_reg_set_string (g, n, "ClassGUID", WIN_REG_SZ,
                            class_guid (u)) == -1 ||
        guest_changes_add (ch, "registry", "", "HKLM\\SYSTEM\\%s: "
                           "Service=%s", path.buf,
                           u->drv->inf.service) == -1)
      r = -1;
  }
  strbuf_release (&path);
  strv_vector_free (&keys);
  return r;
}

/* DriverPackages\<label>'s values, as Windows' own setup writes them. */
static int
ddb_package_values (guestfs_h *g, int64_t n, const struct use *u,
                    const struct guest_root *root)
{
  unsigned char version[48] = { 0x00, 0xff, 0x09 };
  char *oem = xasprintf ("C:%s\\%s", root->systemroot, WIN_STAGING_DIR), *p;
  int r;

  for (p = oem; p && *p; p++)
    if (*p == '/')
      *p = '\\';
  if (oem == NULL || win_guid_bytes (class_guid (u), version + 8) == -1) {
    free (oem);
    return -1;
  }
  r = (win_reg_set_string (g, n, "", WIN_REG_SZ, u->drv->inf_name) == 0 &&
       win_reg_set_dword (g, n, "F6", 1) == 0 &&
       win_reg_set_string (g, n, "InfName", WIN_REG_SZ,
                           u->drv->inf_name) == 0 &&
       win_reg_set_string (g, n, "OemPath", WIN_REG_SZ, oem) == 0 &&
       win_reg_set_string (g, n, "Provider", WIN_REG_SZ,
                           u->drv->inf.provider) == 0 &&
       win_reg_set_dword (g, n, "SignerScore", 0x0d000005) == 0 &&
       win_reg_set_dword (g, n, "StatusFlags", 0x12) == 0 &&
       win_reg_set_binary (g, n, "Version", version, sizeof version) == 0)
    ? 0 : -1;
  free (oem);
  return r;
}

/* Windows >= 8: DriverDatabase (at the SYSTEM hive's root). */
static int
add_ddb (guestfs_h *g, const struct use *u, const struct guest_root *root,
         const char *target, struct guest_changes *ch)
{
  static const unsigned char rank[4] = { 0x01, 0xff, 0x00, 0x00 };
  struct strbuf path = STRBUF_INIT;
  const char *inf = u->drv->inf_name, *conf = u->models->install;
  char *label = xasprintf ("%s_%s_ferry", inf, win_arch_name (u->models->arch));
  char *id = NULL;
  const char *lv[1] = { label }, *cv[1] = { conf };
  int64_t n;
  size_t i;
  int r = -1;

  if (label == NULL ||
      (n = key (g, &path, "DriverDatabase\\DriverInfFiles\\%s", inf)) <= 0 ||
      win_reg_set_multi (g, n, "", lv, 1) == -1 ||
      win_reg_set_string (g, n, "Active", WIN_REG_SZ, label) == -1 ||
      win_reg_set_multi (g, n, "Configurations", cv, 1) == -1 ||
      (n = key (g, &path, "DriverDatabase\\DriverPackages\\%s",
                label)) <= 0 ||
      ddb_package_values (g, n, u, root) == -1 ||
      (n = key (g, &path, "DriverDatabase\\DriverPackages\\%s\\"
                "Configurations\\%s", label, conf)) <= 0 ||
      win_reg_set_dword (g, n, "ConfigFlags", 0) == -1 ||
      win_reg_set_string (g, n, "Service", WIN_REG_SZ,
                          u->drv->inf.service) == -1 ||
      guest_changes_add (ch, "registry", "", "HKLM\\SYSTEM\\DriverDatabase"
                         "\\DriverPackages\\%s: package %s, service %s",
                         label, inf, u->drv->inf.service) == -1)
    goto out;
  for (i = 0; i < u->models->hwids.len; i++) {
    if (!win_hwid_for_target (u->models->hwids.ptr[i], target))
      continue;
    free (id);
    if ((id = win_ddb_id (u->models->hwids.ptr[i])) == NULL ||
        (n = key (g, &path, "DriverDatabase\\DeviceIds\\%s", id)) <= 0 ||
        win_reg_set_binary (g, n, inf, rank, sizeof rank) == -1 ||
        guest_changes_add (ch, "registry", "", "HKLM\\SYSTEM\\%s: %s",
                           path.buf, inf) == -1 ||
        (n = key (g, &path, "DriverDatabase\\DriverPackages\\%s\\"
                  "Descriptors\\%s", label, id)) <= 0 ||
        win_reg_set_string (g, n, "Configuration", WIN_REG_SZ, conf) == -1)
      goto out;
  }
  r = 0;
out:
  free (id);
  free (label);
  strbuf_release (&path);
  return r;
}

static int
edit_system (guestfs_h *g, const struct guest_root *root,
             const use_vector *uses, const char *target,
             struct guest_changes *ch)
{
  bool cddb = win_needs_cddb (root->major, root->minor);
  uint32_t tag;
  size_t i;
  int r = 0;

  if (win_reg_open (g, root->system_hive, true) == -1)
    return -1;
  if (next_tag (g, root->control_set, &tag) == -1)
    r = -1;
  for (i = 0; i < uses->len && r == 0; i++) {
    const struct use *u = &uses->ptr[i];
    if (!u->storage)
      continue;
    r = add_service (g, root, u, tag++, ch);
    if (r == 0)
      r = cddb ? add_cddb (g, root, u, target, ch)
        : add_ddb (g, u, root, target, ch);
  }
  if (r == -1) {
    win_reg_close (g);
    return error_prefix ("%s: ", root->system_hive);
  }
  return win_reg_commit_close (g);
}

/* ---- SOFTWARE hive: DevicePath -------------------------------------- */

static int
edit_software (guestfs_h *g, const struct guest_root *root,
               struct guest_changes *ch)
{
  const char *dir = "%SystemRoot%\\" WIN_STAGING_DIR;
  const char *kp = "Microsoft\\Windows\\CurrentVersion";
  char *old = NULL, *val = NULL;
  bool found, present = false;
  int64_t n;
  int r = -1;

  if (win_reg_open (g, root->software_hive, true) == -1)
    return -1;
  if ((n = win_reg_key (g, kp, true)) <= 0)
    goto out;
  old = win_reg_get_string (g, n, "DevicePath", &found);
  if ((val = win_devicepath_add (old, dir, &present)) == NULL && !present)
    goto out;
  if (val && (win_reg_set_string (g, n, "DevicePath", WIN_REG_EXPAND_SZ,
                                  val) == -1 ||
              guest_changes_add (ch, "registry", "", "HKLM\\SOFTWARE\\%s: "
                                 "DevicePath=%s", kp, val) == -1))
    goto out;
  r = 0;
out:
  free (old);
  free (val);
  if (r == -1) {
    win_reg_close (g);
    return error_prefix ("%s: ", root->software_hive);
  }
  return win_reg_commit_close (g);
}

int
convert_windows (guestfs_h *g, const struct guest_root *root,
                 const char *target, const char *drivers_dir,
                 struct convert_report *rep)
{
  struct guest_changes *ch = &rep->changes;
  win_driver_vector drvs = empty_vector;
  use_vector uses = empty_vector;
  int r = -1;

  if (strcmp (target, "kvm") && strcmp (target, "xen"))
    return error_set ("%s: Windows guests are converted --to kvm or xen "
                      "only", root->product);
  if (drivers_dir == NULL)
    return error_set ("%s: Windows conversion needs --drivers DIR (the "
                      "target's storage drivers for this Windows and arch, "
                      "e.g. from virtio-win)", root->product);
  if (guest_changes_add (ch, "windows", root->device, "%s %d.%d build %s "
                         "(%s), system root %s, %s in use", root->product,
                         root->major, root->minor, root->build, root->arch,
                         root->systemroot, root->control_set) == 0 &&
      windows_drivers_load (drivers_dir, &drvs) == 0 &&
      plan (drivers_dir, &drvs, target, root, &uses) == 0 &&
      check_hibernation (g, root) == 0 &&
      mount_rw (g, root) == 0 &&
      copy_files (g, root, &uses, ch) == 0 &&
      edit_system (g, root, &uses, target, ch) == 0 &&
      edit_software (g, root, ch) == 0)
    r = 0;
  uses_free (&uses);
  windows_drivers_free (&drvs);
  return r;
}

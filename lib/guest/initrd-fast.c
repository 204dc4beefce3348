/* initrd-fast.c: add drivers to a guest's existing initramfs without
 * running its builder (update-initramfs or dracut take minutes inside a
 * TCG appliance): the image is repacked on the host, where it is fast. */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/guest/guest-edit.h"
#include "lib/guest/initrd.h"
#include "lib/guest/linux-kernel.h"
#include "lib/guest/session.h"

#define MAX_INITRD (1LL << 30)

static const char *const depmod_paths[] = { "/usr/sbin/depmod",
                                            "/sbin/depmod", NULL };

static const char *
host_depmod (void)
{
  size_t i;

  for (i = 0; depmod_paths[i]; i++)
    if (access (depmod_paths[i], X_OK) == 0)
      return depmod_paths[i];
  return NULL;
}

static int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  remove (path);
  return 0;
}

static void
rm_tree (const char *dir)
{
  if (dir)
    nftw (dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p of the parent of `path`. */
static int
mkdir_parents (const char *path)
{
  char *p = xstrdup (path), *s;
  int r = 0;

  if (p == NULL)
    return -1;
  for (s = strchr (p + 1, '/'); s && r == 0; s = strchr (s + 1, '/')) {
    *s = '\0';
    if (mkdir (p, 0755) == -1 && errno != EEXIST)
      r = error_errno ("'%s'", p);
    *s = '/';
  }
  free (p);
  return r;
}

static int
run_depmod (const char *depmod, const char *stage, const char *kver)
{
  pid_t pid;
  int status, fd;

  if (depmod == NULL)
    return error_set ("no depmod on this host");
  if ((pid = fork ()) == -1)
    return error_errno ("depmod");
  if (pid == 0) {
    fd = open ("/dev/null", O_RDWR);
    if (fd != -1) {
      dup2 (fd, 1);
      dup2 (fd, 2);
    }
    execl (depmod, "depmod", "-b", stage, kver, (char *) NULL);
    _exit (127);
  }
  if (waitpid (pid, &status, 0) == -1)
    return error_errno ("depmod");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return error_set ("depmod -b '%s' %s failed (status %d)", stage, kver,
                      status);
  return 0;
}

int
initrd_depmod (const char *stage, const char *kver)
{
  return run_depmod (host_depmod (), stage, kver);
}

struct fast {
  guestfs_h *g;
  const char *kver, *path;
  const char *const *mods;
  char *tmp, *stage, *orig, *repacked;
  struct initrd_image im;
  struct initrd_add add;
  char *conf, *load;
  size_t kept;                  /* old modules proven still loadable */
};

/* The modules and their dependencies, from the guest's modules.dep. */
static int
closure (struct fast *f, strv_vector *all)
{
  char *dep = xasprintf ("/lib/modules/%s/modules.dep", f->kver), *text;
  size_t size;
  int64_t len;
  int r = -1;

  if (dep == NULL)
    return -1;
  if ((len = guestfs_filesize (f->g, dep)) == -1)
    guest_error (f->g, dep);
  else if (len > 64 << 20)
    error_set ("%s: too large", dep);
  else if ((text = guest_read_file (f->g, dep, &size)) == NULL)
    guest_error (f->g, dep);
  else {
    r = memchr (text, '\0', size) ? error_set ("%s: binary", dep)
      : lkernel_moddep_closure (text, f->mods, all);
    free (text);
  }
  free (dep);
  return r;
}

/* Download the modules the image lacks into the stage. */
static int
fetch_modules (struct fast *f, const strv_vector *all)
{
  size_t i;
  int r = 0;

  for (i = 0; r == 0 && i < all->len; i++) {
    char *name = xasprintf ("%s/%s", f->im.moddir, all->ptr[i]);
    char *from = xasprintf ("/lib/modules/%s/%s", f->kver, all->ptr[i]);
    char *to = xasprintf ("%s/lib/modules/%s/%s", f->stage, f->kver,
                          all->ptr[i]);
    char *keep = xstrdup (all->ptr[i]);
    if (name == NULL || from == NULL || to == NULL || keep == NULL)
      r = -1;
    else if (strv_vector_has (&f->im.names, name))
      r = 0;
    else if (mkdir_parents (to) == -1)
      r = -1;
    else if (guest_fetch_file (f->g, from, to) == -1)
      r = -1;
    else if (strv_vector_append (&f->add.modules, keep) == 0)
      keep = NULL;
    else
      r = error_errno ("initramfs");
    free (name);
    free (from);
    free (to);
    free (keep);
  }
  return r;
}

/* modules.builtin, .builtin.modinfo and .order: depmod needs them for
 * the builtin index and the load order; the kernel's own, from the
 * guest, unless the image had them. */
static int
fetch_kernel_lists (struct fast *f)
{
  static const char *const lists[] = { "modules.builtin",
                                       "modules.builtin.modinfo",
                                       "modules.order", NULL };
  size_t i;
  int r = 0;

  for (i = 0; r == 0 && lists[i]; i++) {
    char *from = xasprintf ("/lib/modules/%s/%s", f->kver, lists[i]);
    char *to = xasprintf ("%s/lib/modules/%s/%s", f->stage, f->kver,
                          lists[i]);
    if (from == NULL || to == NULL)
      r = -1;
    else if (access (to, F_OK) != 0 && guestfs_is_file (f->g, from) > 0 &&
             guest_fetch_file (f->g, from, to) == -1)
      r = -1;
    free (from);
    free (to);
  }
  return r;
}

/* initramfs-tools loads conf/modules; systemd's initrd modules-load.d. */
static int
loader_config (struct fast *f)
{
  struct strbuf sb = STRBUF_INIT;
  int changed = 0;
  size_t i;

  if (f->im.conf_modules) {
    f->conf = lkernel_modules_file_add (f->im.conf_modules, f->mods,
                                "added by ferry convert", &changed);
    if (f->conf == NULL)
      return -1;
    f->add.conf_modules = f->conf;
  }
  if (f->im.modules_load_d) {
    strbuf_adds (&sb, "# Written by ferry convert.\n");
    for (i = 0; f->mods[i]; i++)
      strbuf_addf (&sb, "%s\n", f->mods[i]);
    if (sb.buf == NULL)
      return error_errno ("initramfs");
    f->add.modules_load = f->load = strbuf_detach (&sb);
  }
  return 0;
}

/* Test hook: FERRY_TEST_INITRD_DROP=NAME removes module NAME from the
 * stage before depmod (and from the modules added), so the repacked
 * image is broken the way Debian 13's was (modules.dep without it) and
 * the check below must catch it.  Tests only; never set in production. */
static int
drop_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  const char *want = getenv ("FERRY_TEST_INITRD_DROP");
  const char *base = path + ftw->base;
  size_t n = strlen (want);

  (void) st;
  if (flag == FTW_F && strncmp (base, want, n) == 0 &&
      strncmp (base + n, ".ko", 3) == 0)
    unlink (path);
  return 0;
}

void
initrd_test_drop (const char *stage, strv_vector *added)
{
  const char *want = getenv ("FERRY_TEST_INITRD_DROP");
  size_t i, j = 0, n;

  if (want == NULL || *want == '\0' || strchr (want, '/'))
    return;
  nftw (stage, drop_one, 16, FTW_PHYS);
  n = strlen (want);
  for (i = 0; i < added->len; i++) {
    const char *m = added->ptr[i], *base = strrchr (m, '/');
    base = base ? base + 1 : m;
    if (strncmp (base, want, n) == 0 && strncmp (base + n, ".ko", 3) == 0)
      free (added->ptr[i]);
    else
      added->ptr[j++] = added->ptr[i];
  }
  added->len = j;
}

/* A small text file of the guest; NULL when absent or too large. */
static char *
guest_small_text (guestfs_h *g, const char *path)
{
  char *text;
  size_t size;
  int64_t len = guestfs_filesize (g, path);

  if (len < 0 || len > (16 << 20) ||
      (text = guest_read_file (g, path, &size)) == NULL)
    return NULL;
  if (memchr (text, '\0', size) != NULL) {
    free (text);
    return NULL;
  }
  return text;
}

/* The root filesystem's module, from the guest's fstab; NULL if none. */
static char *
root_fs_module (guestfs_h *g)
{
  char *text = guest_small_text (g, "/etc/fstab"), *mod = NULL;

  if (text)
    mod = initrd_root_fs_module (text);
  free (text);
  return mod;
}

/* The image `new_path` (a host file), read back whole, must keep every
 * module `old_path` could load and resolve `mods` and the root
 * filesystem's module from the guest's /etc/fstab, for kernel `kver`
 * (initrd-verify.c); the guest's modules.builtin says what needs no
 * file. */
static int
verify_files (guestfs_h *g, const char *kver, const char *const *mods,
              const char *old_path, const char *new_path, size_t *kept)
{
  struct initrd_check c = { .kver = kver };
  const char **req;
  char *fs = root_fs_module (g), *builtin;
  size_t i, n = 0;
  int r;

  for (i = 0; mods[i]; i++)
    ;
  if ((req = calloc (i + 2, sizeof *req)) == NULL) {
    free (fs);
    return error_errno ("initramfs");
  }
  for (i = 0; mods[i]; i++)
    req[n++] = mods[i];
  if (fs)
    req[n++] = fs;
  builtin = xasprintf ("/lib/modules/%s/modules.builtin", kver);
  c.required = req;
  c.builtin = builtin ? guest_small_text (g, builtin) : NULL;
  r = initrd_verify (old_path, new_path, &c);
  *kept = c.kept;
  free ((char *) c.builtin);
  free (builtin);
  free (req);
  free (fs);
  return r;
}

static int
verify (struct fast *f)
{
  if (verify_files (f->g, f->kver, f->mods, f->orig, f->repacked,
                    &f->kept) == -1)
    return error_prefix ("the repacked image failed its check: ");
  return 0;
}

/* A temporary directory for downloads; the caller frees and removes it. */
static char *
temp_dir (void)
{
  const char *dir = getenv ("TMPDIR");
  char *tmp = xasprintf ("%s/ferry-initrd-XXXXXX",
                         dir && *dir ? dir : "/tmp");

  if (tmp && mkdtemp (tmp) == NULL) {
    error_errno ("initramfs: temporary directory");
    free (tmp);
    return NULL;
  }
  return tmp;
}

/* Download guest file `from` (at most MAX_INITRD bytes) to `to`. */
static int
download_bounded (guestfs_h *g, const char *from, const char *to)
{
  int64_t size = guestfs_filesize (g, from);

  if (size == -1)
    return guest_error (g, from);
  if (size > MAX_INITRD)
    return error_set ("%s: larger than 1 GiB", from);
  if (guestfs_download (g, from, to) == -1)
    return guest_error (g, from);
  return 0;
}

static int
prepare (struct fast *f)
{
  if ((f->tmp = temp_dir ()) == NULL)
    return -1;
  f->stage = xasprintf ("%s/stage", f->tmp);
  f->orig = xasprintf ("%s/orig", f->tmp);
  f->repacked = xasprintf ("%s/new", f->tmp);
  if (f->stage == NULL || f->orig == NULL || f->repacked == NULL)
    return -1;
  return download_bounded (f->g, f->path, f->orig);
}

static void
fast_free (struct fast *f)
{
  rm_tree (f->tmp);
  free (f->tmp);
  free (f->stage);
  free (f->orig);
  free (f->repacked);
  free (f->conf);
  free (f->load);
  initrd_image_free (&f->im);
  strv_vector_free (&f->add.modules);
}

static char *
describe (struct fast *f, const char *compression)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  strbuf_addf (&sb, "%zu module file%s added without the builder (",
               f->add.modules.len, f->add.modules.len == 1 ? "" : "s");
  for (i = 0; i < f->add.modules.len; i++) {
    const char *base = strrchr (f->add.modules.ptr[i], '/');
    strbuf_addf (&sb, "%s%s", i ? " " : "", base ? base + 1
                 : f->add.modules.ptr[i]);
  }
  strbuf_addf (&sb, "), depmod indexes regenerated%s%s, repacked (%s), "
               "checked (%zu modules still loadable, the target's and the "
               "root filesystem's resolve)",
               f->conf ? ", conf/modules" : "",
               f->load ? ", modules-load.d" : "", compression, f->kept);
  return strbuf_detach (&sb);
}

/* Everything that may fail for a reason that only means "not here". */
static int
try_fast (struct fast *f, const char *depmod, const char **compression)
{
  strv_vector all = empty_vector;
  int r = -1;

  if (prepare (f) == -1 || closure (f, &all) == -1 ||
      initrd_image_read (f->orig, f->kver, f->stage, &f->im) == -1)
    goto out;
  f->add.kver = f->kver;
  f->add.stage = f->stage;
  f->add.moddir = f->im.moddir;
  if (fetch_modules (f, &all) == -1 || fetch_kernel_lists (f) == -1)
    goto out;
  initrd_test_drop (f->stage, &f->add.modules);
  if (run_depmod (depmod, f->stage, f->kver) == -1 ||
      loader_config (f) == -1 ||
      initrd_image_write (f->orig, &f->im, &f->add, f->repacked,
                          compression) == -1 ||
      verify (f) == -1)
    goto out;
  r = 0;
out:
  strv_vector_free (&all);
  return r;
}

int
initrd_fast_add (guestfs_h *g, const char *kver, const char *path,
                 const char *const *mods, char **detail)
{
  struct fast f = { .g = g, .kver = kver, .path = path, .mods = mods };
  const char *depmod = host_depmod (), *compression = "";
  const char *env = getenv ("FERRY_INITRD");
  int r = 0;

  *detail = NULL;
  if (env && strcmp (env, "rebuild") == 0)
    *detail = xstrdup ("FERRY_INITRD=rebuild");
  else if (depmod == NULL)
    *detail = xstrdup ("no depmod on this host");
  else if (guestfs_is_file (g, path) <= 0)
    *detail = xasprintf ("%s does not exist yet", path);
  else if (try_fast (&f, depmod, &compression) == -1)
    *detail = xstrdup (error_get ());
  else if (guestfs_upload (g, f.repacked, path) == -1)
    r = guest_error (g, path);
  else {
    *detail = describe (&f, compression);
    r = 1;
  }
  fast_free (&f);
  if (r != -1 && *detail == NULL)
    r = -1;
  return r;
}

int
initrd_check_built (guestfs_h *g, const char *kver, const char *path,
                    const char *old, const char *const *mods, size_t *kept)
{
  char *tmp = temp_dir (), *o = NULL, *n = NULL;
  bool have_old = old && guestfs_is_file (g, old) > 0;
  int r = -1;

  *kept = 0;
  if (tmp == NULL ||
      (o = xasprintf ("%s/old", tmp)) == NULL ||
      (n = xasprintf ("%s/new", tmp)) == NULL ||
      download_bounded (g, path, n) == -1 ||
      (have_old && download_bounded (g, old, o) == -1))
    goto out;
  r = verify_files (g, kver, mods, have_old ? o : n, n, kept);
out:
  rm_tree (tmp);
  free (tmp);
  free (o);
  free (n);
  return r;
}

/* cow.c: clone disks from a golden disk — overlays, differencing disks,
 * reflinks and used-block copies (cow.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clone/cow.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/image/copy.h"

/* qemu's lock bytes (block/file-posix.c): RAW_LOCK_PERM_BASE + the bit
 * number of BLK_PERM_WRITE (0x02). */
#define QEMU_LOCK_PERM_BASE 100
#define QEMU_PERM_WRITE_BIT 1

static const char *const method_names[] = {
  [COW_AUTO] = "auto", [COW_QCOW2] = "qcow2", [COW_VHD] = "vhd",
  [COW_REFLINK] = "reflink", [COW_FULL] = "full",
};

const char *
cow_method_name (enum cow_method m)
{
  if ((size_t) m >= sizeof method_names / sizeof method_names[0])
    return "?";
  return method_names[m];
}

int
cow_method_parse (const char *s, enum cow_method *m)
{
  size_t i;

  for (i = 0; i < sizeof method_names / sizeof method_names[0]; i++)
    if (strcmp (s, method_names[i]) == 0) {
      *m = (enum cow_method) i;
      return 0;
    }
  return error_set ("'%s' is not auto, qcow2, vhd, reflink or full", s);
}

/* ---- the golden ---------------------------------------------------------- */

int
cow_file_write_locked (const char *path)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct flock fl = {
    .l_type = F_WRLCK, .l_whence = SEEK_SET,
    .l_start = QEMU_LOCK_PERM_BASE + QEMU_PERM_WRITE_BIT, .l_len = 1,
  };

  if (fd == -1)
    return error_errno ("'%s'", path);
  if (fcntl (fd, F_OFD_GETLK, &fl) == -1) {
    /* Filesystems without locks (some network ones) cannot be asked. */
    if (errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP)
      return 0;
    return error_errno ("'%s': lock test", path);
  }
  return fl.l_type != F_UNLCK;
}

static unsigned
chain_depth (const struct image *img)
{
  unsigned n = 0;

  for (; img; img = img->backing)
    n++;
  return n;
}

static bool
is_uri (const char *path)
{
  return strstr (path, "://") != NULL;
}

int
cow_golden_open (struct cow_golden *g, const char *path)
{
  int locked;

  if (is_uri (path))
    g->path = xstrdup (path);
  else if ((g->path = realpath (path, NULL)) == NULL)
    return error_errno ("golden '%s'", path);
  if (g->path == NULL)
    return -1;
  if (!is_uri (g->path)) {
    if ((locked = cow_file_write_locked (g->path)) == -1)
      return -1;
    if (locked)
      return error_set ("golden '%s' is open for writing by another process "
                        "(a running VM?): shut it down, or clone a copy",
                        path);
  }
  if ((g->img = image_open (g->path, 0)) == NULL)
    return error_prefix ("golden: ");
  g->depth = chain_depth (g->img);
  return 0;
}

void
cow_golden_close (struct cow_golden *g)
{
  if (g == NULL)
    return;
  image_close (g->img);
  g->img = NULL;
  if (g->has_map)
    usedmap_free (&g->map);
  g->has_map = false;
  free (g->path);
  g->path = NULL;
}

/* ---- choosing ------------------------------------------------------------ */

static bool
golden_is (const struct cow_golden *g, const char *format)
{
  return strcmp (image_format (g->img), format) == 0;
}

static int
plan_auto (struct cow_golden *g)
{
  if (golden_is (g, "qcow2")) {
    g->method = COW_QCOW2;
    g->why = "qcow2 golden: qcow2 overlays";
  } else if (golden_is (g, "vhd")) {
    g->method = COW_VHD;
    g->why = "VHD golden: VHD differencing disks (fast clone)";
  } else if (golden_is (g, "raw") && !is_uri (g->path)) {
    g->method = COW_REFLINK;
    g->why = "raw golden: reflinks (FICLONE)";
    g->may_fall_back = true;
  } else {
    g->method = COW_FULL;
    g->why = "no copy-on-write for this golden's format: used-block copies";
  }
  return 0;
}

/* Explicit choices that cannot apply are refused, not replaced. */
static int
plan_explicit (struct cow_golden *g, enum cow_method want)
{
  if (want == COW_VHD && !golden_is (g, "vhd"))
    return error_set ("--cow vhd: a differencing disk needs a VHD golden; "
                      "'%s' is %s", g->path, image_format (g->img));
  if (want == COW_REFLINK && (is_uri (g->path) || g->depth > 1))
    return error_set ("--cow reflink: '%s' is not one plain file (it has a "
                      "backing chain or is remote): use qcow2 or full",
                      g->path);
  if (want == COW_QCOW2 && is_uri (g->path))
    return error_set ("--cow qcow2: a remote golden cannot be a backing "
                      "file");
  g->method = want;
  g->why = want == COW_QCOW2 ? "asked: qcow2 overlays"
    : want == COW_VHD ? "asked: VHD differencing disks"
    : want == COW_REFLINK ? "asked: reflinks (FICLONE)"
    : "asked: independent used-block copies";
  return 0;
}

int
cow_plan (struct cow_golden *g, enum cow_method want)
{
  g->may_fall_back = false;
  if (want != COW_AUTO && plan_explicit (g, want) == -1)
    return -1;
  if (want == COW_AUTO)
    plan_auto (g);
  if ((g->method == COW_QCOW2 || g->method == COW_VHD) &&
      g->depth >= COW_MAX_CHAIN) {
    g->method = COW_FULL;
    g->why = "the golden's backing chain is already 30 images deep (the "
      "cap): flattened into full copies";
  }
  return 0;
}

const char *
cow_clone_format (const struct cow_golden *g)
{
  switch (g->method) {
  case COW_QCOW2:
    return "qcow2";
  case COW_VHD:
    return "vhd";
  case COW_REFLINK:
    return image_format (g->img);
  default:
    break;
  }
  if (golden_is (g, "raw") || golden_is (g, "vhd") || golden_is (g, "qcow2"))
    return image_format (g->img);
  return golden_is (g, "nbd") ? "raw" : "qcow2";
}

/* ---- making -------------------------------------------------------------- */

static int
make_overlay (struct cow_golden *g, const char *path)
{
  struct image_create_opts co = {
    .backing = g->path, .backing_format = image_format (g->img),
  };
  struct image *img = image_create (cow_clone_format (g), path,
                                    g->img->size, &co);

  if (img == NULL)
    return -1;
  if (image_close (img) == -1) {
    unlink (path);
    return -1;
  }
  return 0;
}

static bool
reflink_unsupported (int err)
{
  return err == EOPNOTSUPP || err == EXDEV || err == EINVAL ||
    err == ENOTTY || err == ENOSYS;
}

/* FICLONE g onto a new `path`: 0, 1 when the filesystem cannot (nothing
 * left behind, errno kept for the reason), -1 on other errors. */
static int
reflink (const struct cow_golden *g, const char *path)
{
  CLEANUP_CLOSE int in = open (g->path, O_RDONLY | O_CLOEXEC);
  int out, e;

  if (in == -1)
    return error_errno ("'%s'", g->path);
  out = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out == -1)
    return error_errno ("'%s'", path);
  if (ioctl (out, FICLONE, in) == 0 && fsync (out) == 0) {
    if (close (out) == 0)
      return 0;
    out = -1;
  }
  e = errno;
  if (out != -1)
    close (out);
  unlink (path);
  errno = e;
  if (reflink_unsupported (e))
    return error_errno ("'%s': reflink", path), 1;
  return error_errno ("'%s': reflink", path);
}

static int
full_copy (struct cow_golden *g, const char *path,
           const struct cow_make_opts *o, struct cow_made *made)
{
  struct image_create_opts co = { 0 };
  struct copy_opts po = { .label = o->label, .quiet = o->quiet };
  struct copy_stats st = { .bytes_read = 0 };
  int r;

  if (!g->has_map) {
    if (usedmap_build (g->img, 2, &g->map) == -1)
      return error_prefix ("golden '%s': ", g->path);
    g->has_map = true;
  }
  po.mask = &g->map.keep;
  r = image_convert (g->img, cow_clone_format (g), path, &co, &po, false,
                     &st);
  extent_vector_reset (&st.bad);
  if (r == -1)
    return -1;
  if (st.bytes_bad) {
    unlink (path);
    return error_set ("'%s': the golden has unreadable ranges", path);
  }
  made->bytes_written = st.bytes_written;
  return 0;
}

/* FERRY_TEST_COW_FAIL=SUBSTRING: making a clone disk whose path holds
 * SUBSTRING fails, to prove a batch failing part-way (tests only). */
static int
test_hook (const char *path)
{
  const char *s = getenv ("FERRY_TEST_COW_FAIL");

  if (s && *s && strstr (path, s))
    return error_set ("'%s': FERRY_TEST_COW_FAIL", path);
  return 0;
}

int
cow_make (struct cow_golden *g, const char *path,
          const struct cow_make_opts *o, struct cow_made *made)
{
  int r;

  made->method = g->method;
  made->bytes_written = 0;
  if (test_hook (path) == -1)
    return -1;
  if (g->method == COW_QCOW2 || g->method == COW_VHD)
    return make_overlay (g, path);
  if (g->method == COW_REFLINK) {
    if ((r = reflink (g, path)) != 1)
      return r;
    if (!g->may_fall_back)
      return error_prefix ("--cow reflink: ");
    g->method = COW_FULL;
    g->why = errno == EXDEV
      ? "raw golden on another filesystem than DIR (no reflink): "
        "used-block copies"
      : "raw golden, no reflinks on this filesystem: used-block copies";
    made->method = COW_FULL;
  }
  return full_copy (g, path, o, made);
}

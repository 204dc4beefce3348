/* target.c: a deploy target checked before anything is written — not
 * mounted, not swap, not held by LVM/RAID/crypt, not the disk of the
 * running system, not the source nor the disk holding it; its model,
 * serial, size and sector size. */
#include "lib/common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/common/sysfs.h"
#include "lib/disk/parttable.h"
#include "v2p/deploy.h"

#define MAX_DEVS 128                    /* the disk and its partitions */

struct devset {
  dev_t dev[MAX_DEVS];
  char name[MAX_DEVS][64];              /* sysfs names: "sda", "sda1" */
  size_t n;
};

static bool
devset_has (const struct devset *s, dev_t d)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    if (s->dev[i] == d)
      return true;
  return false;
}

static void
devset_add (struct devset *s, dev_t d, const char *name)
{
  if (s->n < MAX_DEVS && strlen (name) < sizeof s->name[0]) {
    s->dev[s->n] = d;
    memcpy (s->name[s->n], name, strlen (name) + 1);
    s->n++;
  }
}

/* "8:1" in a sysfs dev file. */
static bool
read_devno (const char *dir, dev_t *d)
{
  char buf[32];
  unsigned ma, mi;

  sysfs_read (dir, "dev", buf, sizeof buf);
  if (sscanf (buf, "%u:%u", &ma, &mi) != 2)
    return false;
  *d = makedev (ma, mi);
  return true;
}

/* The disk /sys/class/block/NAME and its partitions (subdirectories
 * holding a "partition" file). */
static int
collect_devs (const char *sysfs, const char *name, dev_t disk,
              struct devset *s)
{
  char dir[4200], sub[4400], part[32];
  struct dirent *e;
  dev_t d;
  DIR *dp;

  devset_add (s, disk, name);
  snprintf (dir, sizeof dir, "%s/block/%s", sysfs, name);
  if ((dp = opendir (dir)) == NULL)
    return 0;                           /* no sysfs: the disk alone */
  while ((e = readdir (dp)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (snprintf (sub, sizeof sub, "%s/%s", dir, e->d_name) >=
        (int) sizeof sub)
      continue;
    sysfs_read (sub, "partition", part, sizeof part);
    if (part[0] && read_devno (sub, &d))
      devset_add (s, d, e->d_name);
  }
  closedir (dp);
  return 0;
}

/* The sysfs name of a block device ("sda", or "sda1" for a partition)
 * from /sys/dev/block/MAJ:MIN; *is_part when it is a partition. */
static int
sysfs_name (const char *sysfs, dev_t d, char *name, size_t len,
            bool *is_part)
{
  char link[4200], target[4200], part[32], *base;
  ssize_t n;

  snprintf (link, sizeof link, "%s/dev/block/%u:%u", sysfs, major (d),
            minor (d));
  if ((n = readlink (link, target, sizeof target - 1)) == -1)
    return -1;
  target[n] = '\0';
  base = strrchr (target, '/');
  base = base ? base + 1 : target;
  if (strlen (base) >= len)
    return -1;
  memcpy (name, base, strlen (base) + 1);
  sysfs_read (link, "partition", part, sizeof part);
  *is_part = part[0] != '\0';
  return 0;
}

/* Field 3 of mountinfo is MAJ:MIN, field 5 the mount point. */
static int
check_mounts (const char *proc, const struct devset *s, const char *path)
{
  char file[4200], line[8192], mnt[4096];
  unsigned ma, mi;
  FILE *fp;
  int r = 0;

  snprintf (file, sizeof file, "%s/self/mountinfo", proc);
  if ((fp = fopen (file, "re")) == NULL)
    return error_errno ("'%s': cannot tell whether it is mounted ('%s')",
                        path, file);
  while (r == 0 && fgets (line, sizeof line, fp)) {
    if (sscanf (line, "%*u %*u %u:%u %*s %4095s", &ma, &mi, mnt) != 3)
      continue;
    if (!devset_has (s, makedev (ma, mi)))
      continue;
    r = strcmp (mnt, "/") == 0
      ? error_set ("'%s' holds the running system (mounted at /)", path)
      : error_set ("'%s' is mounted (at %s): unmount it first", path, mnt);
  }
  fclose (fp);
  return r;
}

static int
check_swaps (const char *proc, const struct devset *s, const char *path)
{
  char file[4200], line[4200], dev[4096];
  struct stat st;
  FILE *fp;
  int r = 0;

  snprintf (file, sizeof file, "%s/swaps", proc);
  if ((fp = fopen (file, "re")) == NULL)
    return 0;                           /* no swap support at all */
  while (r == 0 && fgets (line, sizeof line, fp)) {
    if (sscanf (line, "%4095s", dev) != 1 || dev[0] != '/')
      continue;
    if (stat (dev, &st) == 0 && S_ISBLK (st.st_mode) &&
        devset_has (s, st.st_rdev))
      r = error_set ("'%s' is in use as swap (%s): swapoff first", path, dev);
  }
  fclose (fp);
  return r;
}

/* LVM, md RAID, dm-crypt and multipath hold their members through
 * holders/ (the disk's or a partition's). */
static int
check_holders (const char *sysfs, const struct devset *s, const char *path)
{
  char dir[4300];
  struct dirent *e;
  size_t i;
  DIR *dp;
  int r = 0;

  for (i = 0; r == 0 && i < s->n; i++) {
    snprintf (dir, sizeof dir, "%s/class/block/%s/holders", sysfs,
              s->name[i]);
    if ((dp = opendir (dir)) == NULL)
      continue;
    while (r == 0 && (e = readdir (dp)) != NULL)
      if (e->d_name[0] != '.')
        r = error_set ("'%s' is in use by %s (LVM, RAID or encryption on "
                       "%s): deactivate it first", path, e->d_name,
                       s->name[i]);
    closedir (dp);
  }
  return r;
}

/* The source's file, or the filesystem holding it, must not be on the
 * target. */
static int
check_source (const char *path, const struct stat *tst, const char *source,
              const struct devset *s)
{
  struct stat st;

  if (source == NULL || strstr (source, "://") || stat (source, &st) == -1)
    return 0;
  if (S_ISREG (tst->st_mode))
    return st.st_dev == tst->st_dev && st.st_ino == tst->st_ino
      ? error_set ("'%s' is the source", path) : 0;
  if (S_ISBLK (st.st_mode) && devset_has (s, st.st_rdev))
    return error_set ("'%s' is the source, or holds it", path);
  if (devset_has (s, st.st_dev))
    return error_set ("'%s' holds the source ('%s' is on a filesystem of "
                      "that disk)", path, source);
  return 0;
}

static int
device_facts (const char *path, const char *sysfs, const struct stat *st,
              struct deploy_target *t, struct devset *s)
{
  char name[64], dir[4200];
  bool is_part;
  int fd, ss = 512;

  if ((fd = open (path, O_RDONLY | O_CLOEXEC)) == -1)
    return error_errno ("'%s'", path);
  if (ioctl (fd, BLKGETSIZE64, &t->size) == -1 ||
      ioctl (fd, BLKSSZGET, &ss) == -1) {
    error_errno ("'%s': size", path);
    close (fd);
    return -1;
  }
  close (fd);
  t->sector_size = (unsigned) ss;
  if (sysfs_name (sysfs, st->st_rdev, name, sizeof name, &is_part) == -1) {
    devset_add (s, st->st_rdev, "");
    return 0;
  }
  if (is_part)
    return error_set ("'%s' is a partition (%s): deploy writes whole disks",
                      path, name);
  snprintf (dir, sizeof dir, "%s/block/%s", sysfs, name);
  sysfs_read (dir, "device/model", t->model, sizeof t->model);
  sysfs_read (dir, "device/serial", t->serial, sizeof t->serial);
  if (t->serial[0] == '\0')
    sysfs_read (dir, "serial", t->serial, sizeof t->serial);
  return collect_devs (sysfs, name, st->st_rdev, s);
}

int
deploy_target_check (const char *path, const char *source,
                     const char *sysfs, const char *proc,
                     struct deploy_target *t)
{
  struct devset s = { .n = 0 };
  struct stat st;

  memset (t, 0, sizeof *t);
  if ((t->path = xstrdup (path)) == NULL)
    return -1;
  if (stat (path, &st) == -1)
    return error_errno ("'%s'", path);
  if (S_ISREG (st.st_mode)) {
    t->size = (uint64_t) st.st_size;
    t->sector_size = 512;
    if (t->size == 0)
      return error_set ("'%s' is an empty file: a file standing in for a "
                        "disk keeps its size (truncate -s SIZE)", path);
    return check_source (path, &st, source, &s);
  }
  if (!S_ISBLK (st.st_mode))
    return error_set ("'%s' is neither a block device nor a file", path);
  t->device = true;
  if (device_facts (path, sysfs, &st, t, &s) == -1 ||
      check_source (path, &st, source, &s) == -1 ||
      check_mounts (proc, &s, path) == -1 ||
      check_swaps (proc, &s, path) == -1 ||
      check_holders (sysfs, &s, path) == -1)
    return -1;
  return 0;
}

void
deploy_target_free (struct deploy_target *t)
{
  free (t->path);
  t->path = NULL;
}

unsigned
deploy_image_sector_size (struct image *img)
{
  struct parttable_disk d512 = { .img = img, .sector_size = 512 };
  struct parttable_disk d4k = { .img = img, .sector_size = 4096 };
  struct parttable pt;
  int r;

  r = parttable_read_gpt (&d512, &pt);
  parttable_free (&pt);
  if (r == 0)
    return 512;
  r = parttable_read_gpt (&d4k, &pt);
  parttable_free (&pt);
  error_clear ();
  return r == 0 ? 4096 : 512;
}

/* agent-discover.c: what the agent finds on the machine — disks from sysfs
 * (partitions and filesystems read through usedmap, boot flags through
 * parttable, read-only) and network interfaces.  Every path is below
 * env->sysfs / env->dev so the unit tests feed fake trees. */
#include "lib/common/compat.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2v/agent.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/common/sysfs.h"
#include "lib/image/image.h"
#include "lib/disk/parttable.h"
#include "lib/disk/usedmap.h"

static bool
skipped_disk (const char *name)
{
  static const char *const skip[] = { "loop", "ram", "zram", "sr", "dm-",
                                      "md", "fd", "nbd" };
  size_t i;

  if (name[0] == '.')
    return true;
  for (i = 0; i < sizeof skip / sizeof skip[0]; i++)
    if (strncmp (name, skip[i], strlen (skip[i])) == 0)
      return true;
  return false;
}

/* ---- filesystems and boot flags (bounded reads of untrusted disks) ---- */

static void
probe_fstype (struct image *img, struct agent_part *p)
{
  static const struct {
    uint64_t off;
    const char *magic;
    size_t len;
    const char *type;
  } sigs[] = {
    { 3, "NTFS    ", 8, "ntfs" },
    { 82, "FAT32   ", 8, "vfat" },
    { 54, "FAT16   ", 8, "vfat" },
    { 54, "FAT12   ", 8, "vfat" },
    { 0, "XFSB", 4, "xfs" },
    { 65600, "_BHRfS_M", 8, "btrfs" },
    { 0, "LUKS\xba\xbe", 6, "crypto_LUKS" },
  };
  char buf[8];
  size_t i;

  if (p->fstype[0])
    return;
  for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    if (sigs[i].off + sigs[i].len > p->length ||
        image_pread (img, buf, sigs[i].len, p->offset + sigs[i].off) == -1)
      continue;
    if (memcmp (buf, sigs[i].magic, sigs[i].len) == 0) {
      agent_textf (p->fstype, sizeof p->fstype, "%s", sigs[i].type);
      return;
    }
  }
  error_clear ();
}

static struct agent_part *
part_at (struct agent_disk *d, uint64_t offset)
{
  size_t i;

  for (i = 0; i < d->parts.len; i++)
    if (d->parts.ptr[i].offset == offset)
      return &d->parts.ptr[i];
  return NULL;
}

/* GPT: mark ESPs.  A damaged table (parttable.c checks it) marks none. */
static void
probe_esp (struct image *img, struct agent_disk *d)
{
  struct parttable_disk disk = { .img = img };
  struct parttable pt;
  struct agent_part *p;
  size_t i;

  if (parttable_read_gpt (&disk, &pt) == 0)
    for (i = 0; i < pt.parts.len; i++)
      if (pt.parts.ptr[i].esp &&
          (p = part_at (d, pt.parts.ptr[i].offset)) != NULL)
        p->esp = d->boots = true;
  parttable_free (&pt);
}

/* MBR: the active (0x80) primary partitions. */
static void
probe_active (struct image *img, struct agent_disk *d)
{
  struct parttable_disk disk = { .img = img };
  struct parttable pt;
  struct agent_part *p;
  size_t i;

  if (parttable_read_mbr (&disk, &pt) == 0)
    for (i = 0; i < pt.parts.len; i++)
      if (pt.parts.ptr[i].bootable &&
          (p = part_at (d, pt.parts.ptr[i].offset)) != NULL)
        p->boot = d->boots = true;
  parttable_free (&pt);
}

int
agent_disk_probe (struct agent_disk *d)
{
  struct usedmap map = { 0 };
  struct image *img;
  size_t i;

  agent_part_vector_reset (&d->parts);
  img = image_open (d->path, IMAGE_OPEN_RAW);
  if (img == NULL)
    return -1;
  d->size = img->size;
  if (usedmap_build (img, 1, &map) == -1) {
    image_close (img);
    return -1;
  }
  agent_textf (d->table, sizeof d->table, "%s", map.table);
  d->used_bytes = 0;
  for (i = 0; i < map.keep.len; i++)
    d->used_bytes += map.keep.ptr[i].length;
  for (i = 0; i < map.parts.len; i++) {
    struct agent_part p = { .number = map.parts.ptr[i].number,
                            .offset = map.parts.ptr[i].offset,
                            .length = map.parts.ptr[i].length };
    agent_textf (p.fstype, sizeof p.fstype, "%s", map.parts.ptr[i].fstype);
    probe_fstype (img, &p);
    if (agent_part_vector_append (&d->parts, p) == -1)
      break;
  }
  usedmap_free (&map);
  probe_active (img, d);
  probe_esp (img, d);
  image_close (img);
  error_clear ();
  return 0;
}

int
agent_disk_add_file (const char *path, agent_disk_vector *out)
{
  struct agent_disk d = { 0 };
  const char *base = strrchr (path, '/');
  size_t i;

  for (i = 0; i < out->len; i++)
    if (strcmp (out->ptr[i].path, path) == 0)
      return error_set ("disk '%s' given twice", path);
  if (strlen (path) >= sizeof d.path)
    return error_set ("disk '%.64s...': path too long", path);
  agent_pathf (d.path, sizeof d.path, "%s", path);
  agent_textf (d.name, sizeof d.name, "%s", base ? base + 1 : path);
  agent_textf (d.model, sizeof d.model, "image file");
  d.file = true;
  if (agent_disk_probe (&d) == -1)
    return error_prefix ("disk '%s': ", path);
  return agent_disk_vector_append (out, d);
}

int
agent_part_device (const struct agent_disk *d, int number, char *buf,
                   size_t len)
{
  size_t n = strlen (d->path);

  if (d->file)
    return error_set ("'%s' is an image file: no partition devices",
                      d->path);
  /* A name ending in a digit takes "p" before the number (nvme0n1p2,
   * mmcblk0p1, loop0p1), as the kernel names them. */
  return agent_pathf (buf, len, "%s%s%d", d->path,
                      n > 0 && isdigit ((unsigned char) d->path[n - 1])
                      ? "p" : "", number);
}

size_t
agent_target_choices (const agent_disk_vector *v, const bool *sel,
                      struct agent_target_choice *out, size_t max)
{
  char dev[4200], size[32];
  size_t i, k, n = 0;

  for (i = 0; i < v->len; i++) {
    const struct agent_disk *d = &v->ptr[i];
    if (d->live || d->file || (sel && sel[i]))
      continue;
    for (k = 0; k < d->parts.len && n < max; k++) {
      const struct agent_part *p = &d->parts.ptr[k];
      if (p->fstype[0] == '\0' || strcmp (p->fstype, "swap") == 0 || p->esp)
        continue;
      if (agent_part_device (d, p->number, dev, sizeof dev) == -1 ||
          strlen (dev) + 5 >= sizeof out[n].target) {
        error_clear ();
        continue;
      }
      format_bytes (size, sizeof size, p->length);
      agent_textf (out[n].target, sizeof out[n].target, "disk:%s", dev);
      agent_textf (out[n].desc, sizeof out[n].desc, "%-6s %10s  %s (%s)",
                   p->fstype, size, d->model[0] ? d->model : "disk", d->name);
      n++;
    }
  }
  return n;
}

/* The device of the mounted live medium: /run/live/medium (live-boot) or
 * any iso9660 mount. */
static void
find_live_source (const struct agent_env *env, char *dev, size_t len)
{
  char file[4200], line[1024], src[512], mnt[512], type[64];
  FILE *fp;

  dev[0] = '\0';
  agent_pathf (file, sizeof file, "%s/mounts", env->proc);
  if ((fp = fopen (file, "re")) == NULL)
    return;
  while (fgets (line, sizeof line, fp))
    if (sscanf (line, "%511s %511s %63s", src, mnt, type) == 3 &&
        strncmp (src, "/dev/", 5) == 0 &&
        (strcmp (mnt, "/run/live/medium") == 0 ||
         strcmp (mnt, "/lib/live/mount/medium") == 0 ||
         strcmp (type, "iso9660") == 0)) {
      agent_textf (dev, len, "%s", src + 5);
      break;
    }
  fclose (fp);
}

int
agent_parent_disk (const struct agent_env *env, const char *part, char *disk,
                   size_t len)
{
  char dir[4200], p[4200];
  struct dirent *e;
  struct stat st;
  DIR *d;
  int r = -1;

  if (strncmp (part, "/dev/", 5) == 0)
    part += 5;
  if (strchr (part, '/') || part[0] == '\0' || part[0] == '.')
    return error_set ("'%s' is not a device name", part);
  agent_pathf (dir, sizeof dir, "%s/block", env->sysfs);
  agent_pathf (p, sizeof p, "%s/%s", dir, part);
  if (stat (p, &st) == 0) {            /* a whole disk */
    agent_textf (disk, len, "%s", part);
    return 0;
  }
  if ((d = opendir (dir)) == NULL)
    return error_errno ("'%s'", dir);
  while ((e = readdir (d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    agent_pathf (p, sizeof p, "%s/%s/%s/partition", dir, e->d_name, part);
    if (stat (p, &st) == 0) {
      agent_textf (disk, len, "%s", e->d_name);
      r = 0;
      break;
    }
  }
  closedir (d);
  if (r == -1)
    error_set ("no disk holds partition '%s'", part);
  return r;
}

static int
add_sys_disk (const struct agent_env *env, const char *name,
              const char *live, agent_disk_vector *out)
{
  struct agent_disk d = { 0 };
  char dir[4200];

  agent_pathf (dir, sizeof dir, "%s/block/%s", env->sysfs, name);
  agent_textf (d.name, sizeof d.name, "%s", name);
  agent_pathf (d.path, sizeof d.path, "%s/%s", env->dev, name);
  sysfs_read (dir, "device/model", d.model, sizeof d.model);
  sysfs_read (dir, "device/serial", d.serial, sizeof d.serial);
  if (d.serial[0] == '\0')
    sysfs_read (dir, "serial", d.serial, sizeof d.serial);
  d.size = sysfs_read_u64 (dir, "size") * 512;
  d.removable = sysfs_read_u64 (dir, "removable") != 0;
  d.rotational = sysfs_read_u64 (dir, "queue/rotational") != 0;
  d.live = live[0] && strcmp (live, name) == 0;
  agent_textf (d.table, sizeof d.table, "unknown");
  if (d.size == 0)
    return 0;                   /* empty card reader, no medium */
  if (!d.live)
    agent_disk_probe (&d);      /* best effort: unreadable disks still show */
  error_clear ();
  return agent_disk_vector_append (out, d);
}

static int
cmp_disk (const void *a, const void *b)
{
  return strcmp (((const struct agent_disk *) a)->name,
                 ((const struct agent_disk *) b)->name);
}

int
agent_discover_disks (const struct agent_env *env, agent_disk_vector *out)
{
  char dir[4200], live_src[512] = "", live[64] = "";
  struct dirent *e;
  DIR *d;
  int r = 0;

  if (env->live_dev && env->live_dev[0])
    agent_pathf (live_src, sizeof live_src, "%s", env->live_dev);
  else
    find_live_source (env, live_src, sizeof live_src);
  if (live_src[0] && agent_parent_disk (env, live_src, live, sizeof live) == -1)
    error_clear ();
  agent_pathf (dir, sizeof dir, "%s/block", env->sysfs);
  if ((d = opendir (dir)) == NULL)
    return error_errno ("'%s'", dir);
  while (r == 0 && (e = readdir (d)) != NULL)
    if (!skipped_disk (e->d_name) && strlen (e->d_name) < 64)
      r = add_sys_disk (env, e->d_name, live, out);
  closedir (d);
  if (out->len > 1)
    qsort (out->ptr, out->len, sizeof out->ptr[0], cmp_disk);
  return r;
}

void
agent_disks_free (agent_disk_vector *v)
{
  size_t i;

  for (i = 0; i < v->len; i++)
    agent_part_vector_reset (&v->ptr[i].parts);
  agent_disk_vector_reset (v);
}

static void
nic_driver (const char *dir, char *buf, size_t len)
{
  char link[4200], target[PATH_MAX];
  const char *base;
  ssize_t n;

  buf[0] = '\0';
  agent_pathf (link, sizeof link, "%s/device/driver", dir);
  if ((n = readlink (link, target, sizeof target - 1)) <= 0)
    return;
  target[n] = '\0';
  base = strrchr (target, '/');
  agent_textf (buf, len, "%s", base ? base + 1 : target);
}

int
agent_discover_nics (const struct agent_env *env, agent_nic_vector *out)
{
  char dir[4200], ndir[4400], state[32], carrier[8];
  struct dirent *e;
  DIR *d;

  agent_pathf (dir, sizeof dir, "%s/class/net", env->sysfs);
  if ((d = opendir (dir)) == NULL)
    return error_errno ("'%s'", dir);
  while ((e = readdir (d)) != NULL) {
    struct agent_nic n = { 0 };
    if (e->d_name[0] == '.' || strcmp (e->d_name, "lo") == 0 ||
        strlen (e->d_name) >= sizeof n.name)
      continue;
    agent_pathf (ndir, sizeof ndir, "%s/%s", dir, e->d_name);
    agent_textf (n.name, sizeof n.name, "%s", e->d_name);
    sysfs_read (ndir, "address", n.mac, sizeof n.mac);
    sysfs_read (ndir, "operstate", state, sizeof state);
    sysfs_read (ndir, "carrier", carrier, sizeof carrier);
    n.up = strcmp (state, "up") == 0;
    n.carrier = strcmp (carrier, "1") == 0;
    nic_driver (ndir, n.driver, sizeof n.driver);
    if (agent_nic_vector_append (out, n) == -1) {
      closedir (d);
      return -1;
    }
  }
  closedir (d);
  return 0;
}

/* One item of ferry.disks against the disk list; -1 if none matches. */
static int
find_disk (const agent_disk_vector *v, const char *item)
{
  size_t i;

  for (i = 0; i < v->len; i++) {
    const struct agent_disk *d = &v->ptr[i];
    if (strcmp (d->name, item) == 0 || strcmp (d->path, item) == 0 ||
        (strncmp (item, "/dev/", 5) == 0 && strcmp (d->name, item + 5) == 0))
      return (int) i;
  }
  return -1;
}

int
agent_select_disks (const agent_disk_vector *v, const char *spec, bool *sel)
{
  char *copy, *item, *save = NULL;
  size_t i, n = 0;
  int k, r = 0;

  for (i = 0; i < v->len; i++)
    sel[i] = false;
  if (strcmp (spec, "all") == 0 || spec[0] == '\0') {
    for (i = 0; i < v->len; i++)
      n += sel[i] = !v->ptr[i].live;
    return n ? 0 : error_set ("no disk to capture was found");
  }
  if ((copy = xstrdup (spec)) == NULL)
    return -1;
  for (item = strtok_r (copy, ",", &save); item && r == 0;
       item = strtok_r (NULL, ",", &save)) {
    if ((k = find_disk (v, item)) == -1)
      r = error_set ("disk '%s' does not exist", item);
    else if (v->ptr[k].live)
      r = error_set ("disk '%s' holds the running live medium", item);
    else
      sel[k] = true;
  }
  free (copy);
  return r;
}

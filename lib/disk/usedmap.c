/* usedmap.c: build the used-range map of a source disk (usedmap.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <parted/parted.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/image/copy.h"
#include "lib/disk/usedmap.h"

#define MiB (1024 * 1024)
#define MAX_TABLE_PASSES 64   /* EBR chains are followed this deep */

/* A sparse file the size of the source holding only the sectors a
 * partition table lives in.  libparted opens what it is given read-write,
 * so it is given this copy, never the source. */
struct shadow {
  char path[4096];
  int fd;
  struct image *src;
  unsigned retries;
};

static int
shadow_copy (struct shadow *sh, uint64_t off, uint64_t len)
{
  unsigned char *buf;
  int r;

  if (off >= sh->src->size)
    return 0;
  len = MIN (len, sh->src->size - off);
  buf = malloc (len ? len : 1);
  if (buf == NULL)
    return error_errno ("malloc");
  r = image_pread_retry (sh->src, buf, len, off, sh->retries);
  if (r == -1 && is_media_error (errno))
    r = 0;                    /* unreadable table sectors: leave zeros */
  else if (r == 0)
    r = full_pwrite (sh->fd, buf, len, off, sh->path);
  free (buf);
  return r;
}

static int
shadow_open (struct shadow *sh, struct image *src)
{
  const char *tmpdir = getenv ("TMPDIR");

  if (tmpdir == NULL || *tmpdir == '\0' ||
      strlen (tmpdir) > sizeof sh->path - 32)
    tmpdir = "/tmp";
  snprintf (sh->path, sizeof sh->path, "%s/ferry-ptable-XXXXXX", tmpdir);
  sh->src = src;
  sh->fd = mkstemp (sh->path);
  if (sh->fd == -1)
    return error_errno ("'%s': create", sh->path);
  if (ftruncate (sh->fd, (off_t) src->size) == -1)
    return error_errno ("'%s': truncate", sh->path);
  /* MBR, GPT header and entries, and the GPT backup at the end. */
  if (shadow_copy (sh, 0, MiB) == -1)
    return -1;
  return src->size > MiB ? shadow_copy (sh, src->size - MiB, MiB) : 0;
}

static void
shadow_close (struct shadow *sh)
{
  if (sh->fd >= 0) {
    close (sh->fd);
    unlink (sh->path);
  }
  sh->fd = -1;
}

/* libparted prints exceptions on its own; make it quiet and let us decide. */
static PedExceptionOption
quiet_handler (PedException *ex)
{
  (void) ex;
  return PED_EXCEPTION_CANCEL;
}

/* Pull in the sectors around extended and logical partitions so that the
 * next pass can follow the EBR chain.  Returns the partition count. */
static int
shadow_follow_ebrs (struct shadow *sh, PedDisk *disk, int *count)
{
  PedPartition *p;
  uint64_t ss = (uint64_t) disk->dev->sector_size;

  *count = 0;
  for (p = ped_disk_next_partition (disk, NULL); p;
       p = ped_disk_next_partition (disk, p)) {
    uint64_t start = (uint64_t) p->geom.start * ss;
    uint64_t end = ((uint64_t) p->geom.end + 1) * ss;

    if (p->num <= 0)
      continue;
    (*count)++;
    if (p->type & PED_PARTITION_EXTENDED) {
      if (shadow_copy (sh, start, MiB) == -1)
        return -1;
    }
    else if (p->type & PED_PARTITION_LOGICAL) {
      if (shadow_copy (sh, start > MiB ? start - MiB : 0, MiB) == -1 ||
          shadow_copy (sh, end, MiB) == -1)
        return -1;
    }
  }
  return 0;
}

static int
add_part (struct usedmap *map, int num, uint64_t off, uint64_t len)
{
  return usedmap_part_vector_append (&map->parts, (struct usedmap_part) {
      .number = num, .offset = off, .length = len, .policy = USEDMAP_ALL });
}

static int
collect_parts (PedDisk *disk, struct usedmap *map)
{
  PedPartition *p;
  uint64_t ss = (uint64_t) disk->dev->sector_size;

  snprintf (map->table, sizeof map->table, "%s", disk->type->name);
  for (p = ped_disk_next_partition (disk, NULL); p;
       p = ped_disk_next_partition (disk, p)) {
    if (p->num <= 0 || (p->type & PED_PARTITION_EXTENDED))
      continue;
    if (add_part (map, strcmp (disk->type->name, "loop") == 0 ? 0 : p->num,
                  (uint64_t) p->geom.start * ss,
                  (uint64_t) p->geom.length * ss) == -1)
      return -1;
  }
  return 0;
}

/* Read the partition table, following EBR chains until they stop growing. */
static int
read_table (struct image *src, unsigned retries, struct usedmap *map)
{
  struct shadow sh = { .fd = -1, .retries = retries };
  PedDevice *dev = NULL;
  PedDisk *disk = NULL;
  int pass, count, last = -1, r = -1;

  ped_exception_set_handler (quiet_handler);
  if (shadow_open (&sh, src) == -1)
    goto out;
  for (pass = 0; pass < MAX_TABLE_PASSES; pass++) {
    if (disk)
      ped_disk_destroy (disk);
    if (dev)
      ped_device_destroy (dev);
    disk = NULL;
    dev = ped_device_get (sh.path);
    if (dev == NULL || ped_disk_probe (dev) == NULL ||
        (disk = ped_disk_new (dev)) == NULL) {
      snprintf (map->table, sizeof map->table, "none");
      r = 0;
      goto out;
    }
    if (shadow_follow_ebrs (&sh, disk, &count) == -1)
      goto out;
    if (count == last)
      break;
    last = count;
  }
  r = collect_parts (disk, map);
 out:
  if (disk)
    ped_disk_destroy (disk);
  if (dev)
    ped_device_destroy (dev);
  shadow_close (&sh);
  return r;
}

/* Does the partition start with a swap header?  Returns its page size. */
static uint64_t
swap_header_size (struct image *src, unsigned retries,
                  const struct usedmap_part *p)
{
  static const uint64_t pages[] = { 4096, 8192, 16384, 65536 };
  char magic[10];
  size_t i;

  for (i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    if (p->length < pages[i] ||
        image_pread_retry (src, magic, 10, p->offset + pages[i] - 10,
                           retries) == -1)
      continue;
    if (memcmp (magic, "SWAPSPACE2", 10) == 0 ||
        memcmp (magic, "SWAP-SPACE", 10) == 0)
      return pages[i];
  }
  return 0;
}

/* Total bytes in the map (ranges merge, so count totals, not entries). */
static uint64_t
keep_bytes (const extent_vector *keep)
{
  uint64_t n = 0;
  size_t i;

  for (i = 0; i < keep->len; i++)
    n += keep->ptr[i].length;
  return n;
}

/* FAT, exFAT, NTFS and btrfs, tried in turn (fatmap.c, exfatmap.c,
 * ntfsmap.c, btrfsmap.c).  1 when none of them is the partition's; 0 when
 * one mapped it, or recognised it in a state it cannot trust (then the
 * partition is kept whole and p->warning says why). */
static int
map_other (struct image *src, unsigned retries, struct usedmap *map,
           struct usedmap_part *p)
{
  static const struct {
    const char *name;
    int (*used) (struct image *, uint64_t, uint64_t, unsigned,
                 extent_vector *);
  } fs[] = {
    { "vfat", fatmap_used }, { "exfat", exfatmap_used },
    { "ntfs", ntfsmap_used }, { "btrfs", btrfsmap_used },
  };
  size_t i;
  int r;

  for (i = 0; i < sizeof fs / sizeof fs[0]; i++) {
    r = fs[i].used (src, p->offset, p->length, retries, &map->keep);
    if (r == 1)
      continue;
    if (r == -1)
      return -1;
    snprintf (p->fstype, sizeof p->fstype, "%s", fs[i].name);
    if (r == USEDMAP_UNSAFE) {
      snprintf (p->warning, sizeof p->warning, "%s", error_get ());
      error_clear ();
      return extent_add (&map->keep, p->offset, p->length, EXTENT_DATA);
    }
    p->policy = USEDMAP_FS;
    return 0;
  }
  return 1;
}

/* Decide the policy of one partition and add its ranges to the map. */
static int
map_partition (struct image *src, unsigned retries, struct usedmap *map,
               struct usedmap_part *p)
{
  uint64_t before = keep_bytes (&map->keep);
  uint64_t swap;
  int r;

  r = extmap_used (src, p->offset, p->length, retries, &map->keep);
  if (r == -1)
    return -1;
  if (r == 0) {
    p->policy = USEDMAP_EXT;
    snprintf (p->fstype, sizeof p->fstype, "ext");
  }
  else if ((r = map_other (src, retries, map, p)) != 1) {
    if (r == -1)
      return -1;
  }
  else if ((swap = swap_header_size (src, retries, p)) != 0) {
    p->policy = USEDMAP_SWAP;
    snprintf (p->fstype, sizeof p->fstype, "swap");
    if (extent_add (&map->keep, p->offset, swap, EXTENT_DATA) == -1)
      return -1;
  }
  else if (extent_add (&map->keep, p->offset, p->length, EXTENT_DATA) == -1)
    return -1;
  p->used_bytes = keep_bytes (&map->keep) - before;
  return 0;
}

static int
compare_parts (const void *a, const void *b)
{
  const struct usedmap_part *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int
usedmap_build (struct image *src, unsigned retries, struct usedmap *map)
{
  uint64_t pos = 0;
  size_t i;

  memset (map, 0, sizeof *map);
  if (read_table (src, retries, map) == -1)
    return -1;
  if (map->parts.len == 0 && add_part (map, 0, 0, src->size) == -1)
    return -1;
  qsort (map->parts.ptr, map->parts.len, sizeof *map->parts.ptr,
         compare_parts);
  for (i = 0; i < map->parts.len; i++) {
    struct usedmap_part *p = &map->parts.ptr[i];

    if (p->offset < pos || p->offset + p->length > src->size)
      continue;               /* overlapping or beyond the disk: keep all */
    /* The gap before it (MBR, GPT, boot loader) is copied in full. */
    if (extent_add (&map->keep, pos, p->offset - pos, EXTENT_DATA) == -1 ||
        map_partition (src, retries, map, p) == -1)
      return -1;
    pos = p->offset + p->length;
  }
  return extent_add (&map->keep, pos, src->size - pos, EXTENT_DATA);
}

void
usedmap_free (struct usedmap *map)
{
  usedmap_part_vector_reset (&map->parts);
  extent_vector_reset (&map->keep);
}

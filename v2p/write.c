/* write.c: a fitted image written onto a disk in the order that keeps an
 * interrupted deploy from looking complete: the table area and the last
 * MiB (a stale backup GPT, md 0.90/1.0 superblocks) are zeroed first, so
 * the disk stops being what it was; then the body — used blocks only,
 * and every other byte the result could read zeroed, so no old data shows
 * through where the image has zeros; then the backup GPT at the disk's
 * real end; the table last. */
#include "lib/common/compat.h"

#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/disk/parttable.h"
#include "lib/disk/usedmap.h"
#include "lib/image/copy.h"
#include "v2p/deploy-int.h"

/* What is written by hand: the head [0, head_len) and the backup GPT. */
struct held {
  uint8_t *head;
  size_t head_len;
  uint8_t *tail;
  size_t tail_len;
  uint64_t tail_off;
  uint64_t old_off, old_len;          /* the image's own backup GPT, which
                                         must not land mid-disk */
};

static void
held_free (struct held *h)
{
  free (h->head);
  free (h->tail);
}

static int
cmp_extent (const void *a, const void *b)
{
  const struct extent *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sort and merge overlapping or touching ranges in place. */
static void
extents_normalise (extent_vector *v)
{
  size_t i, n = 0;

  if (v->len == 0)
    return;
  qsort (v->ptr, v->len, sizeof v->ptr[0], cmp_extent);
  for (i = 1; i < v->len; i++) {
    struct extent *last = &v->ptr[n];
    uint64_t end = last->offset + last->length;
    if (v->ptr[i].offset <= end) {
      uint64_t e2 = v->ptr[i].offset + v->ptr[i].length;
      if (e2 > end)
        last->length = e2 - last->offset;
    }
    else
      v->ptr[++n] = v->ptr[i];
  }
  v->len = n + 1;
}

/* The head: everything before the first partition, at most 1 MiB (MBR or
 * protective MBR, GPT header and entries, GRUB's core in the gap). */
static int
read_head (struct image *src, const struct usedmap *map, struct held *h)
{
  uint64_t first = MIB;
  size_t i;

  for (i = 0; i < map->parts.len; i++)
    if (map->parts.ptr[i].number > 0 && map->parts.ptr[i].offset < first)
      first = map->parts.ptr[i].offset;
  if (map->parts.len == 0 || map->parts.ptr[0].number == 0)
    first = 0;                  /* no table: nothing to hold back */
  if (first > src->size)
    first = src->size;
  h->head_len = (size_t) first;
  if (first == 0)
    return 0;
  if ((h->head = malloc (h->head_len)) == NULL)
    return error_errno ("malloc");
  return image_pread (src, h->head, h->head_len, 0);
}

static int
fit_gpt (struct image *src, struct image *dst, struct held *h)
{
  struct parttable_disk disk = { .img = src };
  int r;

  struct parttable_gpt_header hdr;

  if (h->head_len < 2 * 512)
    return 0;
  memcpy (&hdr, h->head + 512, sizeof hdr);
  if (memcmp (hdr.signature, PARTTABLE_GPT_SIGNATURE, 8) == 0 &&
      le64toh (hdr.backup_lba) < src->size / 512) {
    uint64_t array = ((uint64_t) le32toh (hdr.entry_count) *
                      le32toh (hdr.entry_size) + 511) / 512;
    uint64_t lba = le64toh (hdr.backup_lba);
    if (array < lba) {
      h->old_off = (lba - array) * 512;
      h->old_len = (array + 1) * 512;
    }
  }
  r = parttable_gpt_fit (&disk, h->head, h->head_len, dst->size, &h->tail,
                         &h->tail_len, &h->tail_off);
  if (r == 1)
    error_clear ();
  return r == -1 ? -1 : 0;
}

/* Ranges whose old contents may stay: filesystems' free space (the used
 * map's partitions other than "copy all", less what they keep), and what
 * is written by hand afterwards. */
static int
keep_old_ranges (const struct usedmap *map, const struct held *h,
                 extent_vector *out)
{
  extent_vector runs = empty_vector;
  size_t i, j;
  int r = 0;

  for (i = 0; r == 0 && i < map->parts.len; i++) {
    const struct usedmap_part *p = &map->parts.ptr[i];
    if (p->policy == USEDMAP_ALL)
      continue;
    runs.len = 0;
    r = mask_split (&map->keep, p->offset, p->length, &runs);
    for (j = 0; r == 0 && j < runs.len; j++)
      if (runs.ptr[j].type != EXTENT_DATA)
        r = extent_vector_append (out, runs.ptr[j]);
  }
  extent_vector_reset (&runs);
  if (r == 0 && h->head_len)
    r = extent_vector_append (out, (struct extent) { 0, h->head_len,
                                                     EXTENT_DATA });
  if (r == 0 && h->tail_len)
    r = extent_vector_append (out, (struct extent) { h->tail_off,
                                                     h->tail_len,
                                                     EXTENT_DATA });
  extents_normalise (out);
  return r;
}

/* [s, e) less [x, x+n), appended to out (at most two pieces). */
static int
append_less (extent_vector *out, uint64_t s, uint64_t e, uint64_t x,
             uint64_t n)
{
  if (n && x < e && x + n > s) {
    if (s < x && append_less (out, s, x, 0, 0) == -1)
      return -1;
    return x + n < e ? append_less (out, x + n, e, 0, 0) : 0;
  }
  return s < e ? extent_vector_append (out, (struct extent) {
      s, e - s, EXTENT_DATA }) : 0;
}

/* The copy mask: the used map inside [head_len, length), less the new
 * backup GPT (written by hand) and the image's old one (zeroed). */
static int
body_mask (const struct usedmap *map, const struct held *h, uint64_t length,
           extent_vector *out)
{
  extent_vector tmp = empty_vector;
  size_t i;
  int r = 0;

  for (i = 0; r == 0 && i < map->keep.len; i++) {
    uint64_t s = map->keep.ptr[i].offset;
    uint64_t e = s + map->keep.ptr[i].length;
    r = append_less (&tmp, MAX (s, (uint64_t) h->head_len), MIN (e, length),
                     h->tail_off, h->tail_len);
  }
  for (i = 0; r == 0 && i < tmp.len; i++)
    r = append_less (out, tmp.ptr[i].offset,
                     tmp.ptr[i].offset + tmp.ptr[i].length, h->old_off,
                     h->old_len);
  extent_vector_reset (&tmp);
  return r;
}

/* Every partition of the fitted layout lies inside the first `length`
 * bytes (a deploy onto a smaller disk). */
static int
check_inside (const struct usedmap *map, uint64_t length)
{
  size_t i;

  for (i = 0; i < map->parts.len; i++) {
    const struct usedmap_part *p = &map->parts.ptr[i];
    if (p->offset + p->length > length)
      return error_set ("partition %d ends at byte %" PRIu64 ", past the "
                        "target's %" PRIu64 " bytes", p->number,
                        p->offset + p->length, length);
  }
  return 0;
}

static int
wipe_first (struct image *dst, const struct held *h)
{
  uint64_t tail = dst->size > MIB ? dst->size - MIB : 0;

  if (image_zero (dst, 0, h->head_len ? h->head_len : MIN (dst->size, MIB))
      == -1 ||
      image_zero (dst, tail, dst->size - tail) == -1)
    return -1;
  return image_flush (dst);
}

static int
write_held (struct image *dst, const struct held *h)
{
  if (h->tail_len &&
      (image_pwrite (dst, h->tail, h->tail_len, h->tail_off) == -1 ||
       image_flush (dst) == -1))
    return -1;
  if (h->head_len &&
      (image_pwrite (dst, h->head, h->head_len, 0) == -1 ||
       image_flush (dst) == -1))
    return -1;
  return 0;
}

static int
write_body (struct image *src, uint64_t length, struct image *dst,
            const struct usedmap *map, const struct held *h,
            struct deploy_fit *f)
{
  extent_vector mask = empty_vector, old = empty_vector;
  struct copy_opts c = f->o->copy ? *f->o->copy : (struct copy_opts) {
    .quiet = true };
  int r = -1;

  if (keep_old_ranges (map, h, &old) == 0 &&
      body_mask (map, h, length, &mask) == 0) {
    c.mask = &mask;
    c.dirty_target = true;
    c.keep_old = &old;
    c.length = length;
    c.strict = true;
    c.base = NULL;
    c.before_publish = NULL;
    if (c.label == NULL)
      c.label = dst->path;
    r = image_copy (src, dst, &c, &f->d->stats);
  }
  extent_vector_reset (&mask);
  extent_vector_reset (&old);
  return r;
}

int
deploy_write (struct image *src, uint64_t length, struct image *dst,
              struct deploy_fit *f)
{
  struct usedmap map = { .table = "" };
  struct held h = { .head = NULL };
  int r = -1;

  if (usedmap_build (src, 2, &map) == -1 ||
      check_inside (&map, length) == -1 ||
      read_head (src, &map, &h) == -1 || fit_gpt (src, dst, &h) == -1)
    goto out;
  snprintf (f->d->table, sizeof f->d->table, "%s", map.table);
  deploy_note (f, &f->d->layout, "writing %s: table area wiped first, "
               "written last", dst->path);
  if (wipe_first (dst, &h) == 0 &&
      write_body (src, length, dst, &map, &h, f) == 0 &&
      write_held (dst, &h) == 0)
    r = 0;
  else
    /* the deploy's contract: an error after the first write says so */
    error_prefix ("written in part, its table wiped (it boots nothing): ");
  if (r == 0 && h.tail_len)
    deploy_note (f, &f->d->layout, "backup GPT at the disk's end (LBA %"
                 PRIu64 ")", (h.tail_off + h.tail_len) / 512 - 1);
 out:
  usedmap_free (&map);
  held_free (&h);
  return r;
}

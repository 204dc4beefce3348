/* fuzz-parttable.c: libFuzzer harness for the MBR and GPT parser — the
 * input is a whole disk held in memory, read with 512- and 4096-byte
 * sectors, as it is and with its primary GPT's CRC32s made right (random
 * bytes almost never match a CRC, and the checks behind it would go
 * untested); whatever is accepted must keep parttable.h's promises (every
 * partition non-empty, inside the disk, sorted, apart).  The GPT is also
 * fitted to a disk twice and half the size (deploy), with the input's
 * first 64 KiB as the held head: the tail must lie at the new disk's end,
 * and the fitted disk must read back; and each partition is made to end
 * halfway through itself in the held head, which must read back so. */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/common/error.h"
#include "lib/disk/parttable.h"

static void
check (const struct parttable *pt, const char *what)
{
  uint64_t end = 0;
  size_t i;

  for (i = 0; i < pt->parts.len; i++) {
    const struct parttable_part *p = &pt->parts.ptr[i];

    if (p->length == 0 || p->offset < end || p->offset > pt->disk_size ||
        p->length > pt->disk_size - p->offset) {
      fprintf (stderr, "%s: partition %u (%llu+%llu) breaks the promises "
               "on a %llu-byte disk\n", what, p->number,
               (unsigned long long) p->offset,
               (unsigned long long) p->length,
               (unsigned long long) pt->disk_size);
      abort ();
    }
    end = p->offset + p->length;
  }
}

/* Make the CRC32s of the GPT header at LBA 1 (sectors of ss bytes) and
 * of the entry array it names right, where they lie inside the input. */
static void
fix_crcs (uint8_t *d, size_t size, unsigned ss)
{
  struct parttable_gpt_header h;
  uint64_t array, len;
  uint32_t hsize;

  if (size < 2 * (size_t) ss)
    return;
  memcpy (&h, d + ss, sizeof h);
  array = le64toh (h.entries_lba);
  len = (uint64_t) le32toh (h.entry_count) * le32toh (h.entry_size);
  if (array < size / ss && len <= size - array * ss)
    h.entries_crc32 = htole32 ((uint32_t) crc32 (0, d + array * ss,
                                                 (uInt) len));
  h.header_crc32 = 0;
  memcpy (d + ss, &h, sizeof h);
  hsize = le32toh (h.header_size);
  if (hsize <= ss)
    h.header_crc32 = htole32 ((uint32_t) crc32 (0, d + ss, hsize));
  memcpy (d + ss, &h, sizeof h);
}

/* The fitted table on a disk of new_size bytes (at most 2x the input),
 * made of the head and the tail, must read back as a GPT. */
static void
fit (const struct parttable_disk *disk, const uint8_t *data, size_t size,
     uint64_t new_size)
{
  uint8_t head[65536], *tail = NULL, *img;
  size_t hl = size < sizeof head ? size : sizeof head, tl;
  uint64_t off;
  struct parttable pt;
  struct parttable_disk nd = { .size = new_size,
                               .sector_size = disk->sector_size };

  memcpy (head, data, hl);
  if (parttable_gpt_fit (disk, head, hl, new_size, &tail, &tl, &off) != 0) {
    free (tail);
    return;
  }
  if (off + tl != new_size / disk->sector_size * disk->sector_size ||
      (img = calloc (1, new_size)) == NULL) {
    fprintf (stderr, "gpt fit: tail at %llu+%zu on a %llu-byte disk\n",
             (unsigned long long) off, tl, (unsigned long long) new_size);
    abort ();
  }
  memcpy (img, head, hl < new_size ? hl : new_size);
  memcpy (img + off, tail, tl);
  nd.mem = img;
  if (parttable_read_gpt (&nd, &pt) != 0 || pt.gpt_backup) {
    fprintf (stderr, "gpt fit: the fitted disk does not read back: %s\n",
             error_get ());
    abort ();
  }
  check (&pt, "gpt fit");
  parttable_free (&pt);
  free (img);
  free (tail);
}

/* The edited disk reads back, and partition num lies at first..end
 * (LBAs); abort otherwise, naming `what`. */
static void
expect_at (const struct parttable_disk *nd, enum parttable_kind kind,
           unsigned num, uint64_t first, uint64_t end, const char *what)
{
  struct parttable back;
  bool found = false;
  unsigned ss = nd->sector_size;
  size_t j;

  if ((kind == PARTTABLE_GPT ? parttable_read_gpt (nd, &back)
       : parttable_read_mbr (nd, &back)) != 0) {
    fprintf (stderr, "%s: partition %u at LBA %llu-%llu does not read "
             "back: %s\n", what, num, (unsigned long long) first,
             (unsigned long long) end, error_get ());
    abort ();
  }
  check (&back, what);
  for (j = 0; j < back.parts.len; j++)
    if (back.parts.ptr[j].number == num)
      found = back.parts.ptr[j].offset == first * ss &&
        back.parts.ptr[j].length == (end - first + 1) * ss;
  if (!found) {
    fprintf (stderr, "%s: partition %u is not at LBA %llu-%llu\n", what,
             num, (unsigned long long) first, (unsigned long long) end);
    abort ();
  }
  parttable_free (&back);
}

/* Each partition made to end halfway through itself, in a copy of the
 * held head: accepted edits must read back from the edited disk, with
 * that partition ending there and the promises kept. */
static void
set_ends (const struct parttable *pt, const uint8_t *data, size_t size,
          unsigned ss)
{
  size_t hl = size < 65536 ? size : 65536, i;
  uint8_t *img;
  struct parttable_disk nd = { .size = size, .sector_size = ss };

  if (size == 0 || (img = malloc (size)) == NULL)
    return;
  nd.mem = img;
  for (i = 0; i < pt->parts.len && i < 8; i++) {
    const struct parttable_part *p = &pt->parts.ptr[i];
    uint64_t first = p->offset / ss, end = first + p->length / ss / 2;

    memcpy (img, data, size);
    if (parttable_set_end (img, hl, ss, size, p->number, end) != 0)
      continue;
    expect_at (&nd, pt->kind, p->number, first, end, "set_end");
  }
  free (img);
}

/* Each partition moved inside itself (its second quarter), then, for a
 * GPT, the backup made again from the edited primary: accepted edits must
 * read back there, and a GPT from its backup alone as well. */
static void
moves (const struct parttable *pt, const uint8_t *data, size_t size,
       unsigned ss)
{
  size_t hl = size < 65536 ? size : 65536, i, tail_len;
  uint8_t *img, *tail;
  uint64_t tail_off;
  struct parttable_disk nd = { .size = size, .sector_size = ss };

  if (size == 0 || (img = malloc (size)) == NULL)
    return;
  nd.mem = img;
  for (i = 0; i < pt->parts.len && i < 8; i++) {
    const struct parttable_part *p = &pt->parts.ptr[i];
    uint64_t n = p->length / ss, first = p->offset / ss + n / 4;
    uint64_t end = p->offset / ss + n / 2;
    int pass;

    if (n < 4)
      continue;
    memcpy (img, data, size);
    if (parttable_set_range (img, hl, ss, size, p->number, first, end) != 0)
      continue;
    for (pass = 0; pass < 2; pass++) {
      if (pass == 1) {
        if (pt->kind != PARTTABLE_GPT ||
            parttable_gpt_backup (img, hl, ss, size, &tail, &tail_len,
                                  &tail_off) != 0)
          break;
        if (tail_off > size || tail_len > size - tail_off) {
          fprintf (stderr, "gpt_backup: tail at %llu+%zu outside the disk\n",
                   (unsigned long long) tail_off, tail_len);
          abort ();
        }
        memcpy (img + tail_off, tail, tail_len);
        free (tail);
        img[ss + 8] ^= 0xff;            /* the primary damaged */
      }
      expect_at (&nd, pt->kind, p->number, first, end,
                 pass ? "set_range (backup)" : "set_range");
    }
  }
  free (img);
}

static void
parse (const uint8_t *data, size_t size, unsigned ss)
{
  struct parttable_disk disk = { .mem = size ? data : (const void *) "",
                                 .size = size, .sector_size = ss };
  struct parttable pt;

  if (parttable_read_mbr (&disk, &pt) == 0) {
    check (&pt, "mbr");
    /* (a GPT header held beside the MBR takes precedence in set_end) */
    if (size < 2 * (size_t) ss ||
        memcmp (data + ss, PARTTABLE_GPT_SIGNATURE, 8) != 0) {
      set_ends (&pt, data, size, ss);
      moves (&pt, data, size, ss);
    }
  }
  parttable_free (&pt);
  if (parttable_read_gpt (&disk, &pt) == 0) {
    check (&pt, "gpt");
    if (!pt.gpt_backup) {
      set_ends (&pt, data, size, ss);
      moves (&pt, data, size, ss);
    }
    if (!pt.gpt_backup && size <= (1u << 20)) {
      fit (&disk, data, size, 2 * (uint64_t) size);
      fit (&disk, data, size, size / 2);
    }
  }
  parttable_free (&pt);
  error_clear ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const unsigned sector_sizes[] = { 512, 4096 };
  uint8_t *copy;
  size_t i;

  for (i = 0; i < sizeof sector_sizes / sizeof sector_sizes[0]; i++) {
    parse (data, size, sector_sizes[i]);
    if ((copy = malloc (size ? size : 1)) == NULL)
      abort ();
    memcpy (copy, data, size);
    fix_crcs (copy, size, sector_sizes[i]);
    parse (copy, size, sector_sizes[i]);
    free (copy);
  }
  return 0;
}

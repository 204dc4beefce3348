/* fuzz-parttable.c: libFuzzer harness for the MBR and GPT parser — the
 * input is a whole disk held in memory, read with 512- and 4096-byte
 * sectors, as it is and with its primary GPT's CRC32s made right (random
 * bytes almost never match a CRC, and the checks behind it would go
 * untested); whatever is accepted must keep parttable.h's promises (every
 * partition non-empty, inside the disk, sorted, apart). */
#include <endian.h>
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

static void
parse (const uint8_t *data, size_t size, unsigned ss)
{
  struct parttable_disk disk = { .mem = size ? data : (const void *) "",
                                 .size = size, .sector_size = ss };
  struct parttable pt;

  if (parttable_read_mbr (&disk, &pt) == 0)
    check (&pt, "mbr");
  parttable_free (&pt);
  if (parttable_read_gpt (&disk, &pt) == 0)
    check (&pt, "gpt");
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

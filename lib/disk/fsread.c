/* fsread.c: bounded reads and kept ranges for the used-block maps
 * (fsread.h). */
#include "lib/common/compat.h"

#include "lib/image/copy.h"
#include "lib/disk/fsread.h"

uint16_t
fs_le16 (const unsigned char *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

uint32_t
fs_le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
    | (uint32_t) p[3] << 24;
}

uint64_t
fs_le64 (const unsigned char *p)
{
  return (uint64_t) fs_le32 (p) | (uint64_t) fs_le32 (p + 4) << 32;
}

int
fs_read (const struct fsread *f, void *buf, uint64_t len, uint64_t off)
{
  if (off > f->length || len > f->length - off)
    return -1;
  return image_pread_retry (f->img, buf, len, f->offset + off, f->retries);
}

int
fs_keep (const struct fsread *f, extent_vector *keep, uint64_t off,
         uint64_t len)
{
  if (off >= f->length || len == 0)
    return 0;
  if (len > f->length - off)
    len = f->length - off;
  return extent_add (keep, f->offset + off, len, EXTENT_DATA);
}

int
fs_keep_bits (const struct fsread *f, extent_vector *keep,
              const unsigned char *bits, uint64_t first, uint64_t nbits,
              uint64_t base, uint64_t unit)
{
  uint64_t i = 0, run;

  while (i < nbits) {
    if (bits[i / 8] == 0 && i % 8 == 0) {
      i += 8;                 /* a free byte: the common case */
      continue;
    }
    if (!(bits[i / 8] >> (i % 8) & 1)) {
      i++;
      continue;
    }
    for (run = i; run < nbits && (bits[run / 8] >> (run % 8) & 1); run++)
      ;
    if (fs_keep (f, keep, base + (first + i) * unit, (run - i) * unit) == -1)
      return -1;
    i = run;
  }
  return 0;
}

int
fs_append (extent_vector *keep, const extent_vector *mine)
{
  size_t i;

  for (i = 0; i < mine->len; i++)
    if (extent_add (keep, mine->ptr[i].offset, mine->ptr[i].length,
                    EXTENT_DATA) == -1)
      return -1;
  return 0;
}

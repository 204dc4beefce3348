/* fuzz-btrfsmap.c: libFuzzer harness for the btrfs used-block map
 * (lib/disk/btrfsmap.c), over a sparse disk (fuzz-fs.h), as it is and
 * with the crc32c of the superblock and of every tree block whose fsid
 * is the superblock's made right (random bytes almost never match a CRC,
 * and the checks behind it would go untested). */
#include "tests/fuzz/fuzz-fs.h"

static uint32_t
crc32c (const uint8_t *p, size_t n)
{
  uint32_t crc = 0xffffffffu;
  size_t i;
  int k;

  for (i = 0; i < n; i++) {
    crc ^= p[i];
    for (k = 0; k < 8; k++)
      crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
  }
  return ~crc;
}

static void
put_crc (uint8_t *b, size_t n)
{
  uint32_t c = crc32c (b + 32, n - 32);

  b[0] = (uint8_t) c;
  b[1] = (uint8_t) (c >> 8);
  b[2] = (uint8_t) (c >> 16);
  b[3] = (uint8_t) (c >> 24);
}

static uint8_t fsid[16];
static uint32_t nodesize;

/* A record at partition offset off: fix whatever blocks it holds whole. */
static void
fix_crcs (uint8_t *b, size_t len, uint64_t off)
{
  uint64_t pos;

  if (off <= 0x10000 && len >= 0x10000 - off + 4096) {
    uint8_t *sb = b + (0x10000 - off);

    memcpy (fsid, sb + 32, 16);
    nodesize = fuzz_le32 (sb + 148);
    put_crc (sb, 4096);
  }
  if (nodesize < 4096 || nodesize > 65536 || (nodesize & (nodesize - 1)))
    return;
  for (pos = (off + nodesize - 1) / nodesize * nodesize;
       pos + nodesize <= off + len; pos += nodesize)
    if (memcmp (b + (pos - off) + 32, fsid, 16) == 0)
      put_crc (b + (pos - off), nodesize);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_fs ("btrfsmap", btrfsmap_used, data, size, fix_crcs);
}

/* parttable.h: MBR and GPT partition tables as they lie on disk (packed
 * little-endian structs, sizes checked at compile time) and a parser that
 * treats every table as hostile: signatures, CRC32s, entry size and count
 * bounds, and every partition inside the disk, before a single partition
 * is reported.
 *
 * Only the tables themselves are read: MBR primary slots (logical
 * partitions inside an extended one are not followed; usedmap.c has
 * libparted do that) and the GPT entry array.
 */
#ifndef FERRY_PARTTABLE_H
#define FERRY_PARTTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/common/vector.h"
#include "lib/image/image.h"

/* ---- on-disk layout (all fields little-endian) ---- */

#define PARTTABLE_MBR_SIGNATURE 0xaa55      /* bytes 55 AA at 510 */
#define PARTTABLE_MBR_ACTIVE 0x80           /* status of a bootable slot */
#define PARTTABLE_MBR_TYPE_GPT 0xee         /* protective MBR of a GPT */
#define PARTTABLE_MBR_TYPE_ESP 0xef         /* EFI system partition */

/* An extended partition's slot type (CHS, LBA, Linux): its EBR chain holds
 * the logical partitions. */
static inline bool
parttable_mbr_extended (unsigned type)
{
  return type == 0x05 || type == 0x0f || type == 0x85;
}

struct parttable_mbr_entry {
  uint8_t status;               /* 0x80 active, 0x00 inactive */
  uint8_t chs_first[3];         /* ignored: LBA fields are the truth */
  uint8_t type;                 /* 0 = unused slot */
  uint8_t chs_last[3];
  uint32_t first_lba;
  uint32_t sectors;
} __attribute__ ((packed));
_Static_assert (sizeof (struct parttable_mbr_entry) == 16,
                "MBR partition entry is 16 bytes");

struct parttable_mbr {
  uint8_t boot_code[440];
  uint32_t disk_signature;
  uint16_t reserved;
  struct parttable_mbr_entry entries[4];
  uint16_t signature;           /* PARTTABLE_MBR_SIGNATURE */
} __attribute__ ((packed));
_Static_assert (sizeof (struct parttable_mbr) == 512, "MBR is 512 bytes");

#define PARTTABLE_GPT_SIGNATURE "EFI PART"

struct parttable_gpt_header {
  char signature[8];            /* PARTTABLE_GPT_SIGNATURE */
  uint32_t revision;            /* 0x00010000 */
  uint32_t header_size;         /* 92 up to one sector */
  uint32_t header_crc32;        /* of header_size bytes, this field 0 */
  uint32_t reserved;
  uint64_t current_lba;         /* where this header lies */
  uint64_t backup_lba;          /* where the other one lies */
  uint64_t first_usable_lba;
  uint64_t last_usable_lba;     /* inclusive */
  uint8_t disk_guid[16];
  uint64_t entries_lba;
  uint32_t entry_count;
  uint32_t entry_size;          /* 128 * 2^n */
  uint32_t entries_crc32;       /* of entry_count * entry_size bytes */
} __attribute__ ((packed));
_Static_assert (sizeof (struct parttable_gpt_header) == 92,
                "GPT header is 92 bytes");

struct parttable_gpt_entry {
  uint8_t type_guid[16];        /* all zeros = unused entry */
  uint8_t unique_guid[16];
  uint64_t first_lba;
  uint64_t last_lba;            /* inclusive */
  uint64_t attributes;          /* bit 2: legacy BIOS bootable */
  uint16_t name[36];            /* UTF-16LE */
} __attribute__ ((packed));
_Static_assert (sizeof (struct parttable_gpt_entry) == 128,
                "GPT partition entry is 128 bytes");

#define PARTTABLE_GPT_ATTR_LEGACY_BOOT (1ull << 2)

/* Bounds on what the parser accepts.  Every tool writes 128 entries of 128
 * bytes; the agent's ESP probe accepted up to 256 entries of up to 4 KiB,
 * so the entry array read here is at most 1 MiB. */
#define PARTTABLE_GPT_MAX_ENTRIES 256
#define PARTTABLE_GPT_MAX_ENTRY_SIZE 4096

/* The EFI System Partition type, C12A7328-F81F-11D2-BA4B-00A0C93EC93B, in
 * its on-disk (mixed-endian) byte order. */
extern const uint8_t parttable_esp_guid[16];
/* GRUB's BIOS boot partition, 21686148-6449-6E6F-744E-656564454649. */
extern const uint8_t parttable_bios_boot_guid[16];

/* ---- the parser ---- */

/* Where a table is read from: an image (through image_pread), or else a
 * whole disk held in memory (tests, fuzzing). */
struct parttable_disk {
  struct image *img;
  const void *mem;
  uint64_t size;                /* bytes; 0 with img means img->size */
  unsigned sector_size;         /* 512 or 4096; 0 means 512 */
};

enum parttable_kind {
  PARTTABLE_NONE,
  PARTTABLE_MBR,
  PARTTABLE_GPT,
};

struct parttable_part {
  unsigned number;              /* MBR slot 1-4, GPT entry index + 1 */
  uint64_t offset, length;      /* bytes, inside the disk, length > 0 */
  uint8_t mbr_type;             /* MBR: the type byte; GPT: 0 */
  uint8_t type_guid[16];        /* GPT: as stored on disk; MBR: zeros */
  bool bootable;                /* MBR: status 0x80; GPT: legacy boot bit */
  bool esp;                     /* GPT ESP type GUID, or MBR type 0xef */
};
DEFINE_VECTOR_TYPE (parttable_part_vector, struct parttable_part);

struct parttable {
  enum parttable_kind kind;
  unsigned sector_size;
  uint64_t disk_size;
  uint32_t mbr_signature;       /* MBR: the disk signature at 440 */
  bool protective;              /* MBR: holds a 0xee slot (not listed) */
  bool gpt_backup;              /* GPT: read from the backup header, the
                                 * primary being damaged */
  uint8_t disk_guid[16];        /* GPT */
  uint64_t first_usable, last_usable;   /* GPT: bytes, last inclusive */
  parttable_part_vector parts;  /* used slots, sorted by offset; the
                                 * caller frees with parttable_free */
};

/* Read the MBR at sector 0.  The used primary slots become parts; a 0xee
 * slot (the protective MBR of a GPT) only sets `protective`.  Returns 0,
 * 1 if there is no 55 AA signature (not an MBR: pt is empty), or -1 with
 * the error set if the table is invalid: a status other than 0x00/0x80, a
 * partition at sector 0, past the end of the disk, or overlapping
 * another. */
int parttable_read_mbr (const struct parttable_disk *disk,
                        struct parttable *pt);

/* Read the GPT: the primary header at LBA 1 and its entry array, or the
 * backup header at the last LBA when the primary is damaged (pt->
 * gpt_backup says so).  Both CRC32s are checked, the entry size (128 *
 * 2^n, at most PARTTABLE_GPT_MAX_ENTRY_SIZE) and count (at most
 * PARTTABLE_GPT_MAX_ENTRIES) bounded, the header, entry array and usable
 * area must not overlap and lie inside the disk, and every used entry
 * inside the usable area, first <= last, overlapping no other.  Returns 0,
 * 1 if LBA 1 holds no "EFI PART" signature (a stale backup at the end of
 * a disk relabelled MBR is not a GPT), or -1 with the error set (the
 * primary header's error when the backup is unusable too). */
int parttable_read_gpt (const struct parttable_disk *disk,
                        struct parttable *pt);

/* The firmware a disk boots with, from its table: UEFI when it is a GPT
 * with an EFI System Partition and no BIOS boot partition (GRUB's
 * 21686148-6449-6E6F-744E-656564454649), BIOS otherwise (MBR disks, GPT
 * disks with a BIOS boot partition, which boot under both).  Reads the
 * GPT, then the MBR; -1 with the error set when a table is invalid. */
enum parttable_firmware { PARTTABLE_BIOS, PARTTABLE_UEFI };
int parttable_firmware (const struct parttable_disk *disk,
                        enum parttable_firmware *fw);
/* The same for the image at `path` (opened read-only; flags as
 * image_open's, IMAGE_OPEN_RAW for a disk). */
int parttable_image_firmware (const char *path, unsigned flags,
                              enum parttable_firmware *fw);

/* Partition num of the table in head (the disk's first head_len bytes,
 * from a disk of disk_size bytes) made to end at end_lba, its start kept:
 * a primary MBR slot, or a GPT entry with the entry array's and the
 * primary header's CRCs recomputed (the backup is parttable_gpt_fit's
 * business).  A GPT header in head (signature present) decides: the
 * GPT is edited, or refused if its header or array is damaged; the MBR
 * beside it (protective or hybrid) is left alone, as parted would.  Only head is read: a GPT's entry array must lie in it.
 * Refuses a logical or extended MBR partition, an unused entry, an end
 * before the start or past the disk (MBR) or the last usable LBA (GPT),
 * and an overlap with another partition.  Returns 0 or -1, head
 * unchanged on error. */
int parttable_set_end (uint8_t *head, size_t head_len, unsigned sector_size,
                       uint64_t disk_size, unsigned num, uint64_t end_lba);

/* The same, partition num made to lie at start_lba..end_lba (moved: its
 * contents are the caller's business).  An MBR slot's CHS fields are
 * written too (255 heads, 63 sectors; 1023/254/63 past that), as fdisk
 * does. */
int parttable_set_range (uint8_t *head, size_t head_len, unsigned sector_size,
                         uint64_t disk_size, unsigned num, uint64_t start_lba,
                         uint64_t end_lba);

/* The backup GPT of the primary held in head (checked as by set_end; its
 * backup LBA must be the last of a disk of disk_size bytes), after
 * set_end/set_range edited it: *tail (the entry array's copy and the
 * backup header, *tail_len bytes, the caller frees) goes at *tail_offset.
 * Returns 0, 1 if head holds no GPT header, or -1 with the error set. */
int parttable_gpt_backup (const uint8_t *head, size_t head_len,
                          unsigned sector_size, uint64_t disk_size,
                          uint8_t **tail, size_t *tail_len,
                          uint64_t *tail_offset);

/* A GPT fitted to a disk of another size (a deploy onto a larger or
 * smaller disk): `head` holds the disk's first head_len bytes, covering
 * LBA 0, the primary header and its entry array, which must be valid on
 * `disk` (the image it was read from).  In head, the protective MBR's 0xee
 * slot is resized and the primary header gets the new backup LBA and last
 * usable LBA (CRC recomputed); *tail (head's entry array and the backup
 * header, *tail_len bytes, the caller frees) goes at *tail_offset, the end
 * of the new disk.  Refuses a partition past the new last usable LBA, and
 * an entry array that does not lie between the header and the usable area.
 * Returns 0, 1 if the disk has no GPT, or -1 with the error set. */
int parttable_gpt_fit (const struct parttable_disk *disk, uint8_t *head,
                       size_t head_len, uint64_t new_size, uint8_t **tail,
                       size_t *tail_len, uint64_t *tail_offset);

/* Free pt->parts; pt may be zeroed or already freed. */
void parttable_free (struct parttable *pt);

#endif

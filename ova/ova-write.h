/* ova-write.h: write an OVA — a tar holding the OVF descriptor, the disks
 * streamed straight from their sources by the copy engine, and a manifest.
 *
 * Layout: NAME.ovf first, the disks in References order, NAME.mf after
 * them (FORMATS.md allows the manifest at the end) and, when signing,
 * NAME.cert last (sign.h), so the package stays streamable.  A compressed disk's size
 * is known only once it is written, yet both the .ovf (References
 * ovf:size, before the disks) and each member's tar header state it.  So
 * the output is a seekable file: the .ovf is written with fixed-width
 * size fields, each disk gets a placeholder header, and both are patched
 * in place when the sizes are known (ova_size_*, tar.h).  Nothing is
 * copied twice and no temporary disk file exists.  The output appears
 * atomically (outfile.h).
 */
#ifndef FERRY_OVA_WRITE_H
#define FERRY_OVA_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/common/hash.h"
#include "lib/image/image.h"
#include "ova/ovf.h"
#include "ova/sign.h"
#include "ova/tar.h"
#include "ova/vm.h"

struct ova_disk_in {
  struct image *src;            /* the disk to export, open for reading */
  const extent_vector *mask;    /* ranges to read; NULL = whole disk */
};

struct ova_write_opts {
  enum ovf_flavour flavour;
  enum hash_kind manifest;      /* HASH_SHA256 or HASH_SHA1 */
  const char *stem;             /* NAME of NAME.ovf and NAME.mf */
  bool overwrite, quiet;
  unsigned threads;             /* compression threads; 0 = all cores */
  const struct ova_signer *signer;  /* non-NULL: add NAME.cert */
};

/* One member of the written package. */
struct ova_member {
  char name[TAR_NAME_MAX + 1];
  uint64_t size;                /* bytes in the archive */
  char hash[HASH_HEX_MAX];      /* as in the manifest; "" for .mf/.cert */
  uint64_t bytes_read;          /* disks: read from the source */
  uint64_t bytes_skipped;       /* disks: holes, unused and zero blocks */
  double seconds;               /* disks: copy time */
};

struct ova_result {
  struct ova_member members[VM_MAX_DISKS + 3];   /* .ovf, disks, .mf, .cert */
  size_t n_members;
};

/* Write `vm` and its disks to `path`.  vm->disks.ptr[i] names member i
 * (`file`, a plain name of at most TAR_NAME_MAX bytes), its `format`
 * ("vmdk": streamOptimized, "vhd": dynamic) and its `capacity` (at least
 * the source's size, a multiple of 512); its file_size is filled in.
 * disks[i] is its source.  0, or -1 with the error set and no output. */
int ova_write (const char *path, struct vm *vm,
               const struct ova_disk_in *disks,
               const struct ova_write_opts *o, struct ova_result *res);

/* ---- the fixed-width size fields (exposed for the unit tests) ---- */

/* A size field's bytes: up to 20 digits and the closing quote, padded
 * with spaces (whitespace between attributes is valid XML). */
#define OVA_SIZE_WIDTH 21u
/* The value ova_write gives disk i's file_size so that ovf_write prints a
 * field of full width that occurs nowhere else. */
#define OVA_SIZE_SENTINEL(i) (10000000000000000000ull + (uint64_t) (i))

/* Find the n fields ovf:size="OVA_SIZE_SENTINEL(i)" in the `len` bytes of
 * `xml`, store the offset of each value in slots[i], and turn each into
 * the placeholder `0"` + spaces.  -1 + error unless each occurs once. */
int ova_size_slots (char *xml, size_t len, size_t n, size_t *slots);
/* Write `value` and the closing quote over the OVA_SIZE_WIDTH bytes at
 * `field`, padded with spaces. */
void ova_size_patch (char *field, uint64_t value);

#endif

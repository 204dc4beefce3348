/* ova-read.h: read an OVA package — a plain, gzip- or xz-compressed tar,
 * or an unpacked directory holding one .ovf — as hostile input: verify it
 * and hand back the VM and its disks, opened.
 *
 * Checks, each failing with one line "ova: 'PKG': ...": member names must
 * be plain (no "..", no absolute or nested names, no control characters),
 * members must be regular files (no links, devices, fifos), no duplicate
 * names, at most OVA_MAX_MEMBERS members, exactly one .ovf which comes
 * first and is at most OVF_MAX_SIZE bytes, a well-formed manifest (.mf,
 * SHA1 or SHA256 lines) that covers every member but itself and the .cert
 * and matches each (a mismatch is fatal), every file the OVF references
 * present and no larger than its ovf:size, every disk of the declared
 * format, without backing file, and no larger than its OVF capacity.
 * The .cert signature is not checked.
 *
 * Disks are not read in place: the image layer opens paths only (no byte
 * offset), and a compressed tar has no offsets anyway.  So each disk member
 * is extracted, sparse, into `workdir` (a fresh directory the caller owns,
 * inside the import's own temporary output), hashed on the way, opened,
 * and unlinked at once: the open image keeps the data, and no copy is
 * left behind whatever happens next.
 */
#ifndef FERRY_OVA_READ_H
#define FERRY_OVA_READ_H

#include <stdbool.h>

#include "common/hash.h"
#include "image/image.h"
#include "vm.h"

#define OVA_MAX_MEMBERS 1024
#define OVA_MAX_MANIFEST (1u << 20)

struct ova_pkg {
  struct vm vm;                         /* from the .ovf */
  struct image *disks[VM_MAX_DISKS];    /* disk i of vm, open read-only */
  bool manifest;                        /* a manifest was verified */
  bool compressed;                      /* the tar was gzip/xz/... */
  bool directory;                       /* an unpacked directory */
};

/* Read and verify `path` into *pkg (initialised by the call), extracting
 * the disks into `workdir`.  0, or -1 with the error set and *pkg empty. */
int ova_read (const char *path, const char *workdir, struct ova_pkg *pkg);
/* Close the disks and free the VM.  NULL-safe. */
void ova_pkg_free (struct ova_pkg *pkg);

#endif

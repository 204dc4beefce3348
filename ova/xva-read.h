/* xva-read.h: read a XenServer/XCP-ng XVA (`xe vm-export`) — a plain or
 * compressed tar of ova.xml and 1 MiB disk chunks — as hostile input, and
 * hand back the VM and its disks, opened.  Same contract as ova_read().
 *
 * Layout (FORMATS.md): ova.xml first; then per VDI "Ref:N/%08d" chunks in
 * ascending number, each directly followed by "Ref:N/%08d.checksum"
 * (SHA-1) or ".xxhash" (XXH64, 16 hex digits).  The disk is rebuilt by
 * xapi's SEQUENTIAL algorithm, not number x 1 MiB: the zero-block length
 * is the first chunk's length, each missing number is one zero block,
 * data goes at the running position (an empty keep-alive chunk does not
 * advance it).
 *
 * Checks, each failing with one line "xva: 'PKG': ...": ova.xml first and
 * at most XVA_MAX_XML bytes; plain relative names (no "..", no absolute
 * names, no control characters); regular files only (directories named
 * after a VDI are allowed and ignored); no member but ova.xml, chunks of
 * a VDI ova.xml names and their checksums; the first chunk of a VDI is
 * number 0, numbers strictly ascend, a VDI's chunks are contiguous in the
 * archive; every chunk directly followed by a checksum that matches (one
 * kind per package); no chunk beyond the VDI's virtual size; every VDI
 * present and complete (its data reaches its virtual size: the exporter
 * always writes the last chunk, so a shorter VDI means truncation).
 *
 * Each VDI becomes a sparse raw file in `workdir` (all-zero blocks and
 * omitted chunks stay holes), opened through the image layer and unlinked
 * at once, as ova_read does.
 */
#ifndef FERRY_XVA_READ_H
#define FERRY_XVA_READ_H

#include <stdbool.h>

#include "ova/ova-read.h"

/* The largest checksum member read (a hex digest and a newline). */
#define XVA_MAX_CHECKSUM 128

/* Read and verify the XVA `path` into *pkg (initialised by the call),
 * extracting the disks into `workdir`.  pkg->manifest is true: every
 * chunk was verified against its checksum.  0, or -1 with the error set
 * and *pkg empty (free it with ova_pkg_free either way). */
int xva_read (const char *path, const char *workdir, struct ova_pkg *pkg);

/* Whether `path` is an XVA by content: a regular file whose (possibly
 * compressed) tar starts with the member "ova.xml" or with a chunk
 * ("DIR/NNNNNNNN").  An OVA starts with its .ovf.  Anything unreadable,
 * and anything but a regular file (a pipe cannot be read twice), is "no":
 * the OVA reader then says why. */
bool xva_probe (const char *path);

#endif

/* clone-int.h: what the files of a clone batch share (clone.c runs it,
 * clone-golden.c reads the golden, clone-make.c makes the disks and
 * applies identity, clone-publish.c writes definitions and publishes). */
#ifndef FERRY_CLONE_INT_H
#define FERRY_CLONE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clone/clone.h"
#include "lib/common/stagedir.h"
#include "ova/ova-read.h"
#include "ova/target.h"

struct clone_batch {
  const struct clone_opts *o;
  struct clone_report *r;
  struct vm vm;                       /* the golden VM */
  struct cow_golden g[VM_MAX_DISKS];  /* its disks, k of them */
  size_t k;
  bool package;                       /* an OVA/XVA: disks staged later */
  struct ova_pkg pkg;                 /* ... read into pkg_sd */
  struct stagedir pkg_sd;
  bool made_dir;                      /* DIR made by this run */
  struct ova_target target;           /* MAC prefix, disk bus */
  uint8_t golden_macs[VM_MAX_NICS][6];
  /* Per clone c (r->clones order), slot c * (k + 1) + j: disk j (j < k)
   * or the definition (j == k); NULL where there is none. */
  char **final;                       /* published names in DIR */
  char **tmp;                         /* hidden temporaries beside them */
  bool *made;                         /* disks made, not yet published */
};

/* clone-golden.c */
int clone_golden_load (struct clone_batch *b);   /* VM, disks, methods */
int clone_golden_stage (struct clone_batch *b);  /* a package's copies */
/* The format a package's disks are staged in for `cow` (and so that of
 * their clones). */
const char *clone_package_format (enum cow_method cow);
/* DIR/STEM-golden-diskN.FORMAT: where a package's disk j is staged. */
char *clone_golden_copy_path (const struct clone_batch *b, size_t j);

/* clone-make.c */
int clone_names_make (struct clone_batch *b);    /* refuses existing */
void clone_names_free (struct clone_batch *b);
const char *clone_disk_format (const struct clone_batch *b, size_t j);
void clone_make_all (struct clone_batch *b);
void clone_identity_all (struct clone_batch *b);
/* Mark clone c failed with the current error; its temporaries go. */
void clone_fail (struct clone_batch *b, size_t c);
void clone_drop_temps (struct clone_batch *b, size_t c);

/* clone-publish.c */
void clone_publish_all (struct clone_batch *b);

/* clone.c */
int clone_fsync_dir (const char *dir);

#endif

/* clone.h: a batch of clones from one golden VM — the job behind `ferry
 * clone`, as a library function the command (and later the agent or a
 * service) calls.
 *
 *   struct clone_opts o = { .golden = "g.qcow2", .dir = "out", .count = 3,
 *                           .to = CLONE_TO_LIBVIRT, .no_identity = true };
 *   struct clone_report r = { 0 };
 *   if (clone_run (&o, &r) == -1) ... nothing was written: error_get ()
 *   ... r.clones[i].ok, r.n_failed ...
 *   clone_report_free (&r);
 *
 * The golden is a disk image, a libvirt domain XML (`from_libvirt`) or an
 * OVA/XVA (its disks staged once into DIR as golden copies).  Every disk
 * of the VM is cloned (cow.h).  Each clone's files are made under hidden
 * temporary names in DIR, the identity step runs once over all of them
 * (clone_identity_batch), and a clone is published (renamed, never over
 * an existing file) only when complete: a batch failing part-way leaves
 * every finished clone complete and listed, and nothing half-made.
 *
 * Ownership: the report owns everything in it; clone_report_free
 * releases it (safe on a zeroed report).
 */
#ifndef FERRY_CLONE_CLONE_H
#define FERRY_CLONE_CLONE_H

#include <stdbool.h>
#include <stddef.h>

/* identity.h names the result struct in a parameter list before
 * declaring it: declare it first. */
struct clone_identity_result;

#include "clone/cow.h"
#include "clone/identity.h"
#include "clone/plan.h"
#include "ova/vm.h"

enum clone_to {
  CLONE_TO_LIBVIRT = 0,   /* NAME.xml, a libvirt KVM domain */
  CLONE_TO_LIBVIRT_XEN,   /* NAME.xml, a libvirt Xen (libxl) domain */
  CLONE_TO_OVA,           /* NAME.ova holding the clone's disks */
  CLONE_TO_XVA,           /* NAME.xva holding the clone's disks */
  CLONE_TO_NONE,          /* disks only */
};

const char *clone_to_name (enum clone_to t);
int clone_to_parse (const char *s, enum clone_to *t);

struct clone_result;

struct clone_opts {
  const char *golden;           /* image, domain XML or package */
  bool from_libvirt;            /* golden is a libvirt domain XML */
  const char *dir;              /* output directory (made if missing) */
  unsigned count;               /* --count N ... */
  const char *name_pattern;     /* ... --name PATTERN (NULL: GOLDEN-%02d) */
  const char *manifest;         /* or --manifest FILE */
  enum cow_method cow;
  enum clone_to to;
  const char *seed;             /* NULL: a random one, reported */
  unsigned shard_k, shard_n;    /* --shard K/N; 0/0: every clone */
  bool no_identity;             /* disks and definitions only */
  bool unattend;                /* Windows: Unattend.xml */
  const char *root;             /* the golden's root device, or NULL */
  bool quiet;                   /* no progress meters */
  /* Called when a clone is published or has failed; may be NULL. */
  void (*on_clone) (void *opaque, const struct clone_result *c, size_t done,
                    size_t total);
  void *opaque;
};

/* One disk of the golden VM and how its clones were made. */
struct clone_golden_disk {
  char *path;                   /* the golden disk (canonical path) */
  char *format;                 /* its image format */
  unsigned depth;               /* images in its chain */
  enum cow_method method;       /* what its clones got */
  const char *why;              /* static */
  char *staged;                 /* a package's disk staged into DIR as the
                                   golden copy; NULL otherwise */
};

struct clone_result {
  size_t index;                 /* in the plan (manifest order, 0-based) */
  const struct clone_spec *spec;    /* points into the report's plan */
  bool ok;
  char *error;                  /* one line, when !ok */
  char *files[VM_MAX_DISKS];    /* published disk paths (not for ova/xva) */
  size_t n_files;
  char *definition;             /* NAME.xml / NAME.ova / NAME.xva, or NULL */
  enum cow_method methods[VM_MAX_DISKS];  /* per disk */
  struct clone_identity_result *identity;  /* NULL: not run */
  double seconds;
};

struct clone_report {
  char *seed;
  bool seed_random;             /* made up by this run: print it */
  char *golden;                 /* as given */
  const char *golden_kind;      /* "image", "libvirt", "ova", "xva" */
  char *dir;                    /* absolute */
  enum clone_to to;
  struct clone_golden_disk disks[VM_MAX_DISKS];
  size_t n_disks;
  struct clone_plan plan;
  unsigned shard_k, shard_n;
  struct clone_result *clones;  /* this run's (its shard), plan order */
  size_t n;
  struct clone_identity_result *identity;   /* n_identity results */
  size_t n_identity;
  bool identity_run;
  size_t n_ok, n_failed;
  double seconds;
};

/* Run the batch.  -1 with the error set when it cannot start (a bad
 * golden, manifest, option or an existing clone file in DIR): nothing was
 * written.  0 once it ran, even if clones failed (n_failed, each with its
 * error). */
int clone_run (const struct clone_opts *o, struct clone_report *r);
void clone_report_free (struct clone_report *r);

#endif

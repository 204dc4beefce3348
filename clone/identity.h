/* identity.h: each clone's identity inside its guest, applied to a whole
 * batch of clone disks in as few appliance launches as possible, never to
 * the golden.  For more than two clones, clone 0 gets an appliance of its
 * own, which inspects the golden (libguestfs inspects every root it sees,
 * and each clone holds one) and edits clone 0, while the other clones'
 * appliances (one per CLONE_DISKS_PER_LAUNCH disks) start in a thread;
 * SSH host keys are made ahead by worker processes (identity-keys.c).
 *
 *   struct clone_identity_result *res = calloc (n, sizeof *res);
 *   if (clone_identity_batch (specs, n, paths, formats, k, &opts, res) == -1)
 *     ... the golden itself cannot be edited (no OS, encrypted root,
 *         unsupported OS): error_get (), nothing was changed
 *   for (i = 0; i < n; i++) if (!res[i].ok) ... res[i].error ...
 *   clone_identity_results_free (res, n);
 *
 * Clone i's disks are paths[i*k] .. paths[i*k + k-1] (the VM's disks in
 * order; formats[0..k-1] are theirs, the same for every clone), written in
 * place.  A clone is edited with only its own filesystems mounted (clones
 * share the golden's filesystem UUIDs: xfs refuses two mounted at once;
 * LVM is filtered to the clone's own disks, the golden's VG names being
 * on every clone).
 *
 * SSH host keys are random per clone, never derived from the seed (a seed
 * on a command line is no secret).
 *
 * Linux: hostname (/etc/hostname, /etc/hosts, /etc/HOSTNAME,
 * /etc/sysconfig/network, /etc/machine-info), SSH host keys (new ones of
 * every type the golden has, modes/owners kept), DHCP leases and
 * 70-persistent-net.rules removed, MAC pins rewritten to the clone's MACs,
 * connection UUIDs renewed, static addresses in the guest's own network
 * system, each NIC named by its MAC, cloud-init instance state and the
 * random seed cleared, /etc/machine-id written last (and
 * /var/lib/dbus/machine-id made to agree).  Windows: the computer name
 * (and with opts.unattend an Unattend.xml in %WINDIR%\Panther\).
 */
#ifndef FERRY_CLONE_IDENTITY_H
#define FERRY_CLONE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/guest/guest-edit.h"
#include "clone/plan.h"

/* Disks attached to one appliance (libguestfs with virtio-scsi allows
 * 255; below that for headroom). */
#define CLONE_DISKS_PER_LAUNCH 200

struct clone_identity_result;

struct clone_identity_opts {
  const char *root;           /* --root: the golden's root device, or NULL */
  const uint8_t (*golden_macs)[6];   /* the golden VM's MACs (NIC order), */
  size_t n_golden_macs;              /* to map its pins onto the clone's */
  bool unattend;              /* Windows: write Panther\Unattend.xml */
  /* Called for each clone (ok or not) once the appliance that edited it
   * has shut down cleanly (only then is ok final), e.g. for progress; may
   * be NULL. */
  void (*done) (size_t index, const struct clone_identity_result *r,
                void *opaque);
  void *opaque;
};

struct clone_identity_result {
  bool ok;
  char *error;                /* one line, when !ok */
  char *os;                   /* "debian 12", "windows 10.0" ... */
  char machine_id[33];        /* as written (Linux), "" otherwise */
  char **ssh_host_keys;       /* NULL-terminated: "ED25519 SHA256:... /etc/ssh/
                                 ssh_host_ed25519_key.pub" (the type, the
                                 fingerprint as ssh-keygen -l prints it,
                                 the file); NULL if none */
  struct guest_changes changes;
  double seconds;             /* this clone's edit time plus its share of
                                 the launch */
};

int clone_identity_batch (const struct clone_spec *specs, size_t n,
                          const char *const *paths,
                          const char *const *formats, size_t k,
                          const struct clone_identity_opts *opts,
                          struct clone_identity_result *results);

void clone_identity_results_free (struct clone_identity_result *r, size_t n);

#endif

/* identity-int.h: what clone/identity*.c share — the pure text transforms
 * of a clone's identity (unit-tested in tests/unit/test-identity.c) and
 * each guest family's edit of one clone whose filesystems are mounted.
 */
#ifndef FERRY_CLONE_IDENTITY_INT_H
#define FERRY_CLONE_IDENTITY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <guestfs.h>

#include "clone/identity.h"
#include "lib/guest/inspect.h"

/* A guest file Ferry reads to edit it is at most this big (the guest is
 * hostile: a 2 GiB /etc/hosts is refused, not read). */
#define CLONE_ID_MAX_FILE (1u << 20)

/* One clone being edited: the golden's root (inspected on the first
 * clone; device names are not used here), the clone's spec and its
 * result to fill. */
struct clone_id_job {
  guestfs_h *g;
  const struct guest_root *root;
  const struct clone_spec *spec;
  const struct clone_identity_opts *opts;
  struct clone_identity_result *res;
  const char *tmpdir;         /* private (0700) host directory */
  struct clone_keygen *keys;  /* host keys made ahead, or NULL */
  size_t index;               /* the clone's index in the batch */
};

int clone_id_linux (struct clone_id_job *j);

/* ---- SSH host keys made ahead (identity-keys.c) ----
 * Worker processes run `ssh-keygen -t rsa|ecdsa|ed25519 -C root@HOST`
 * for every clone into `tmpdir` (private, 0700) while the appliance
 * launches; clone_keygen_ready waits until clone i's keys are all there
 * (then its key of `type` is at clone_keygen_path) and is false when they
 * never will be or `type` is not made ahead (make it inline then).  A NULL keygen is valid (nothing ahead).
 * clone_keygen_stop stops the workers, waits for them and frees kg; the
 * caller removes tmpdir. */
struct clone_keygen;
struct clone_keygen *clone_keygen_start (const char *tmpdir,
                                         const struct clone_spec *specs,
                                         size_t n);
bool clone_keygen_ready (struct clone_keygen *kg, size_t i,
                         const char *type);
void clone_keygen_path (const char *tmpdir, size_t i, const char *type,
                        char *out, size_t outsz);
void clone_keygen_stop (struct clone_keygen *kg);

/* Run a host command (no shell); the first outsz-1 bytes of its stdout
 * into out (may be NULL).  -1 with the error when it fails. */
int clone_id_run (char *const argv[], char *out, size_t outsz);
int clone_id_windows (struct clone_id_job *j);

/* ---- pure transforms (strings in, malloc'd strings out; *changed
 * counts edits, as lib/guest/linux-text.h's) ---- */

/* /etc/hosts: names equal to the old hostname (or to its first label,
 * when it is an FQDN) become the new one (or its first label); Debian's
 * `127.0.1.1` line becomes "127.0.1.1<TAB>FQDN SHORT" (or the one name).
 * localhost names are never replaced.  `old` may be NULL or "". */
char *clone_id_hosts (const char *text, const char *old, const char *host,
                      int *changed);

/* /etc/machine-info: PRETTY_HOSTNAME= set to `host` only when it equals
 * the old hostname (a pretty name an admin chose stays). */
char *clone_id_machine_info (const char *text, const char *old,
                             const char *host, int *changed);

/* The first label of a hostname, as a new string. */
char *clone_id_short (const char *host);

/* 32 lower-case hex digits, NUL-terminated: systemd's machine-id format. */
void clone_id_machine_id (const uint8_t id[16], char out[33]);

/* The Windows computer (NetBIOS) name for a hostname: its first label,
 * upper-case, at most 15 characters; -1 with the error when longer. */
int clone_id_netbios (const char *host, char out[16]);

/* An unattended-setup answer file naming the computer (specialize pass,
 * Microsoft-Windows-Shell-Setup/ComputerName); arch "x86_64" or "i386". */
char *clone_id_unattend (const char *computer, const char *arch);

/* "256 SHA256:abc root@web (ED25519)" (ssh-keygen -l) and the guest file
 * -> "ED25519 SHA256:abc /etc/ssh/ssh_host_ed25519_key.pub"; NULL with
 * the error when the line is not ssh-keygen's. */
char *clone_id_fingerprint (const char *keygen_line, const char *path);

#endif

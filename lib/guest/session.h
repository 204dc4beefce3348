/* session.h: a libguestfs session over one or many disks (one appliance
 * for a batch), launched on KVM with a fallback to TCG.
 *
 *   struct guest_disk disks[] = { { "a.qcow2", "qcow2", false } };
 *   struct guest_session *s = guest_session_open (disks, 1);
 *   if (s == NULL || guest_session_launch (s) == -1) ...
 *   ... guest_session_handle (s) ...     // the guestfs_h, owned by s
 *   guest_session_close (s);             // NULL is accepted
 *
 * Guest filesystems are only ever mounted inside the appliance, never on
 * the host.  libguestfs never prints: its errors become Ferry's error
 * (error.h) with the libguestfs message.
 */
#ifndef FERRY_GUEST_SESSION_H
#define FERRY_GUEST_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <guestfs.h>

struct guest_disk {
  const char *path;
  const char *format;         /* "raw", "qcow2", ... never probed */
  bool readonly;
};

struct guest_session;

/* Prepare a handle with the disks added (nothing is started yet). */
struct guest_session *guest_session_open (const struct guest_disk *disks,
                                          size_t n);

/* Start the appliance: KVM first (libguestfs' default), and when that
 * launch fails, or its kernel prints nothing within FERRY_KVM_TIMEOUT
 * seconds (default 10; nested KVM may hang in the firmware rather than
 * fail), a fresh handle with backend setting force_tcg.  A failed KVM
 * attempt is remembered for the rest of the process and, through a cache
 * file holding the host's boot id ($XDG_CACHE_HOME/ferry-kvm-failed, else
 * ~/.cache/ferry-kvm-failed, else /var/tmp/ferry-kvm-failed-UID), until
 * the host reboots: later launches go straight to TCG (delete the file to
 * try KVM again). */
int guest_session_launch (struct guest_session *s);
/* When LIBGUESTFS_BACKEND_SETTINGS forces TCG (force_tcg, force_tcg=1,
 * =true, =yes, =on), the launch goes straight to TCG and says so in the
 * fallback reason; the remembered-failure cache is neither read nor
 * written.  The test on the setting's text (NULL ok): */
bool guest_env_forces_tcg (const char *settings);

/* The KVM memory the launch uses, for other qemu runs of Ferry (the boot
 * check): FERRY_KVM_TIMEOUT in seconds (default 10); whether KVM failed
 * earlier in this process or on this boot of the host (*why, owned by the
 * caller, says which); and remembering that it failed. */
unsigned guest_kvm_timeout (void);
bool guest_kvm_known_bad (char **why);
void guest_kvm_remember_bad (void);

/* "kvm" or "tcg" after a successful launch, else NULL. */
const char *guest_session_accel (const struct guest_session *s);

/* Why the first attempt was abandoned ("" if it was not). */
const char *guest_session_fallback_reason (const struct guest_session *s);

/* Seconds the successful launch took. */
double guest_session_launch_seconds (const struct guest_session *s);

guestfs_h *guest_session_handle (struct guest_session *s);

/* Set Ferry's error to "WHAT: <libguestfs's last error>"; returns -1. */
int guest_error (guestfs_h *g, const char *what);

/* Unmount everything, sync and shut the appliance down.  Returns -1 when
 * the shutdown reported an error (writes may be lost): callers that wrote
 * must check it. */
int guest_session_shutdown (struct guest_session *s);

void guest_session_close (struct guest_session *s);

#endif

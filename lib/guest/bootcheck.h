/* bootcheck.h: prove that a disk image boots, by booting it.
 *
 * The image is started under qemu on a throwaway overlay (-snapshot: the
 * image itself is never written) with the devices of the target — virtio
 * for KVM, AHCI or NVMe for native hardware — and its serial console is
 * read until the guest reaches its login prompt or multi-user target
 * (booted), or shows a root-mount failure, an initramfs or emergency
 * shell, a kernel panic (failed), or nothing of the kind before the
 * timeout.  KVM is tried first unless it failed earlier on this boot of
 * the host (guest_kvm_known_bad); a KVM guest that prints nothing within
 * FERRY_KVM_TIMEOUT seconds is restarted under TCG, as the appliance is.
 *
 * The guest must write its console to the first serial port (conversion
 * sets console=ttyS0); Xen targets cannot be booted here and are refused.
 *
 *   struct bootcheck_opts o = { .image = "out.qcow2", .format = "qcow2",
 *                               .bus = BOOTCHECK_VIRTIO };
 *   struct bootcheck_result r;
 *   if (bootcheck_run (&o, &r) == -1) ...   // could not run qemu at all
 *   if (r.outcome != BOOTCHECK_BOOTED) ...  // r.evidence says why
 */
#ifndef FERRY_GUEST_BOOTCHECK_H
#define FERRY_GUEST_BOOTCHECK_H

#include <stdbool.h>

enum bootcheck_bus {
  BOOTCHECK_VIRTIO,             /* virtio-blk-pci, virtio-net-pci */
  BOOTCHECK_AHCI,               /* AHCI + SATA disk, e1000 */
  BOOTCHECK_NVME,               /* NVMe controller, e1000 */
};

enum bootcheck_outcome {
  BOOTCHECK_BOOTED,             /* login prompt or multi-user target */
  BOOTCHECK_NO_ROOT,            /* root device or mount failed, rescue shell */
  BOOTCHECK_PANIC,              /* kernel panic */
  BOOTCHECK_TIMEOUT,            /* none of these before the timeout */
  BOOTCHECK_QEMU_EXIT,          /* qemu stopped by itself */
};

struct bootcheck_opts {
  const char *image;
  const char *format;           /* qemu's name: raw, qcow2, vpc, vmdk */
  enum bootcheck_bus bus;
  bool uefi;                    /* OVMF instead of SeaBIOS */
  unsigned timeout;             /* seconds; 0: FERRY_BOOT_TIMEOUT or 300 */
  unsigned memory_mib;          /* 0: 1024 */
  const char *console_log;      /* keep the console here; NULL: not kept */
};

struct bootcheck_result {
  enum bootcheck_outcome outcome;
  double seconds;               /* from qemu's start to the outcome */
  const char *accel;            /* "kvm" or "tcg" */
  char evidence[160];           /* the console line that decided, or why */
  char tail[2048];              /* the console's last lines, for reports */
};

/* Boot and watch.  -1 (error set) only when qemu could not be run; every
 * boot that ran fills *r. */
int bootcheck_run (const struct bootcheck_opts *o, struct bootcheck_result *r);

/* "booted", "root-failed", "panic", "timeout", "qemu-exited". */
const char *bootcheck_outcome_name (enum bootcheck_outcome o);
/* "virtio", "ahci", "nvme"; parse: -1 (error set) if unknown. */
const char *bootcheck_bus_name (enum bootcheck_bus b);
int bootcheck_bus_parse (const char *s, enum bootcheck_bus *b);

/* Decide from console text alone (one line or a partial one): BOOTED,
 * NO_ROOT or PANIC when it shows one, else TIMEOUT (nothing yet).  Exposed
 * for the unit test. */
enum bootcheck_outcome bootcheck_classify (const char *text);

#endif

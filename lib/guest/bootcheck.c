/* bootcheck.c: boot an image under qemu and read its serial console
 * (bootcheck.h). */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/guest/bootcheck.h"
#include "lib/guest/session.h"

/* What the console says, most decisive first.  Login prompts of getty
 * ("NAME login:") and systemd's multi-user target mean the guest is up;
 * initramfs-tools ("Gave up waiting for root", "ALERT!", "(initramfs)",
 * "Failed to mount ... as root"), dracut ("Entering emergency mode",
 * "Could not boot") and systemd ("emergency mode") mean its root never
 * came; the kernel panics by name. */
static const struct {
  const char *needle;
  enum bootcheck_outcome outcome;
} signs[] = {
  { "Kernel panic", BOOTCHECK_PANIC },
  { "Gave up waiting for root", BOOTCHECK_NO_ROOT },
  { "ALERT! ", BOOTCHECK_NO_ROOT },
  { "(initramfs)", BOOTCHECK_NO_ROOT },
  { "as root file system", BOOTCHECK_NO_ROOT },
  { "emergency mode", BOOTCHECK_NO_ROOT },
  { "dracut Warning: Could not boot", BOOTCHECK_NO_ROOT },
  { "login:", BOOTCHECK_BOOTED },
  { "Reached target Multi-User System", BOOTCHECK_BOOTED },
  { "Reached target multi-user.target", BOOTCHECK_BOOTED },
};

/* The first sign (in the order above) in `text`, and where it is. */
static enum bootcheck_outcome
find_sign (const char *text, const char **where)
{
  size_t i;

  for (i = 0; i < sizeof signs / sizeof signs[0]; i++) {
    if ((*where = strstr (text, signs[i].needle)) != NULL)
      return signs[i].outcome;
  }
  return BOOTCHECK_TIMEOUT;
}

enum bootcheck_outcome
bootcheck_classify (const char *text)
{
  const char *where;

  return find_sign (text, &where);
}

const char *
bootcheck_outcome_name (enum bootcheck_outcome o)
{
  switch (o) {
  case BOOTCHECK_BOOTED:
    return "booted";
  case BOOTCHECK_NO_ROOT:
    return "root-failed";
  case BOOTCHECK_PANIC:
    return "panic";
  case BOOTCHECK_TIMEOUT:
    return "timeout";
  case BOOTCHECK_QEMU_EXIT:
    return "qemu-exited";
  }
  return "unknown";
}

static const char *const bus_names[] = { "virtio", "ahci", "nvme" };

const char *
bootcheck_bus_name (enum bootcheck_bus b)
{
  return (size_t) b < sizeof bus_names / sizeof bus_names[0]
    ? bus_names[b] : "unknown";
}

int
bootcheck_bus_parse (const char *s, enum bootcheck_bus *b)
{
  size_t i;

  for (i = 0; i < sizeof bus_names / sizeof bus_names[0]; i++) {
    if (strcmp (s, bus_names[i]) == 0) {
      *b = (enum bootcheck_bus) i;
      return 0;
    }
  }
  return error_set ("unknown bus '%s' (virtio, ahci or nvme)", s);
}

static unsigned
boot_timeout (const struct bootcheck_opts *o)
{
  const char *s = getenv ("FERRY_BOOT_TIMEOUT");
  int n = s ? atoi (s) : 0;

  if (o->timeout)
    return o->timeout;
  return n > 0 ? (unsigned) n : 300;
}

/* The firmware image for -bios, from Debian's ovmf package. */
static const char *
ovmf_path (void)
{
  static const char *const paths[] = {
    "/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd", NULL,
  };
  size_t i;

  for (i = 0; paths[i]; i++)
    if (access (paths[i], R_OK) == 0)
      return paths[i];
  return NULL;
}

/* qemu's command line; the caller frees each string and the vector. */
struct argv {
  char *v[40];
  size_t n;
  bool failed;
};

static void
arg (struct argv *a, const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;

  if (a->failed)
    return;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) == -1 || a->n + 1 >= sizeof a->v / sizeof a->v[0])
    a->failed = true;
  va_end (ap);
  if (!a->failed)
    a->v[a->n++] = s;
  else
    free (s);
}

static void
argv_free (struct argv *a)
{
  size_t i;

  for (i = 0; i < a->n; i++)
    free (a->v[i]);
}

/* A path qemu's -drive option takes whole: its separator is ','. */
static int
check_path (const char *path)
{
  if (strchr (path, ','))
    return error_set ("boot check: '%s': a ',' in the path cannot be given "
                      "to qemu", path);
  return 0;
}

static int
build_argv (const struct bootcheck_opts *o, const char *accel,
            struct argv *a)
{
  static const char *const disk_dev[][2] = {
    { "virtio-blk-pci,drive=d", NULL },
    { "ahci,id=ahci", "ide-hd,bus=ahci.0,drive=d" },
    { "nvme,serial=ferry0001,drive=d", NULL },
  };
  static const char *const nic_dev[] = {
    "virtio-net-pci,netdev=n", "e1000,netdev=n", "e1000,netdev=n",
  };
  size_t i;

  if (check_path (o->image) == -1)
    return -1;
  arg (a, "qemu-system-x86_64");
  arg (a, "-accel");
  arg (a, "%s", accel);
  arg (a, "-machine");
  arg (a, "pc");
  arg (a, "-m");
  arg (a, "%u", o->memory_mib ? o->memory_mib : 1024);
  arg (a, "-display");
  arg (a, "none");
  arg (a, "-monitor");
  arg (a, "none");
  arg (a, "-serial");
  arg (a, "stdio");
  arg (a, "-no-reboot");
  arg (a, "-snapshot");
  arg (a, "-drive");
  arg (a, "file=%s,format=%s,if=none,id=d", o->image, o->format);
  for (i = 0; i < 2 && disk_dev[o->bus][i]; i++) {
    arg (a, "-device");
    arg (a, "%s", disk_dev[o->bus][i]);
  }
  arg (a, "-netdev");
  arg (a, "user,id=n");
  arg (a, "-device");
  arg (a, "%s", nic_dev[o->bus]);
  if (o->uefi) {
    const char *fw = ovmf_path ();

    if (fw == NULL) {
      argv_free (a);
      return error_set ("boot check: UEFI guest, but no OVMF firmware "
                        "(install the ovmf package)");
    }
    arg (a, "-bios");
    arg (a, "%s", fw);
  }
  if (a->failed) {
    argv_free (a);
    return error_errno ("boot check: qemu's command line");
  }
  a->v[a->n] = NULL;
  return 0;
}

/* A running qemu: its pid and the read ends of its stdout (the guest's
 * serial console) and stderr. */
struct vm {
  pid_t pid;
  int console, errors;
};

static int
start_qemu (char *const *argv, struct vm *vm)
{
  int out[2] = { -1, -1 }, err[2] = { -1, -1 }, devnull;
  pid_t pid;

  if (pipe2 (out, O_CLOEXEC) == -1 || pipe2 (err, O_CLOEXEC) == -1) {
    error_errno ("boot check: pipe");
    goto fail;
  }
  if ((pid = fork ()) == -1) {
    error_errno ("boot check: fork");
    goto fail;
  }
  if (pid == 0) {
    devnull = open ("/dev/null", O_RDONLY);
    if (devnull == -1 || dup2 (devnull, 0) == -1 || dup2 (out[1], 1) == -1 ||
        dup2 (err[1], 2) == -1)
      _exit (126);
    setpgid (0, 0);
    execvp (argv[0], argv);
    _exit (127);
  }
  close (out[1]);
  close (err[1]);
  vm->pid = pid;
  vm->console = out[0];
  vm->errors = err[0];
  return 0;
fail:
  for (int i = 0; i < 2; i++) {
    if (out[i] != -1)
      close (out[i]);
    if (err[i] != -1)
      close (err[i]);
  }
  return -1;
}

/* Stop qemu (if still running) and reap it. */
static void
stop_qemu (struct vm *vm)
{
  int status;

  if (vm->pid > 0) {
    kill (-vm->pid, SIGKILL);     /* its own group (setpgid in the child) */
    kill (vm->pid, SIGKILL);
    while (waitpid (vm->pid, &status, 0) == -1 && errno == EINTR)
      ;
    vm->pid = 0;
  }
  if (vm->console != -1)
    close (vm->console);
  if (vm->errors != -1)
    close (vm->errors);
  vm->console = vm->errors = -1;
}

/* The console as it arrives: a window for the patterns (a sign may be
 * split between two reads, and a login prompt has no newline), the tail
 * kept for the report, and the optional log file. */
struct console {
  char win[1024];
  size_t len;
  struct strbuf tail;
  int log;
  bool any;                     /* the guest printed something */
};

static void
console_tail_keep (struct console *c, size_t max)
{
  if (c->tail.len > max) {
    size_t cut = c->tail.len - max / 2;
    const char *nl = memchr (c->tail.buf + cut, '\n', c->tail.len - cut);

    if (nl)
      cut = (size_t) (nl + 1 - c->tail.buf);
    memmove (c->tail.buf, c->tail.buf + cut, c->tail.len - cut + 1);
    c->tail.len -= cut;
  }
}

/* Feed bytes; returns the outcome they show (TIMEOUT: nothing yet) and
 * the deciding line in `evidence`. */
static enum bootcheck_outcome
console_feed (struct console *c, const char *buf, size_t n, char *evidence,
              size_t elen)
{
  enum bootcheck_outcome o;
  const char *line;
  size_t i;

  if (c->log != -1 && write (c->log, buf, n) != (ssize_t) n) {
    close (c->log);             /* a log that cannot be written is dropped */
    c->log = -1;
  }
  for (i = 0; i < n; i++) {
    char ch = buf[i];

    if (ch == '\r' || ch == '\0')
      continue;
    c->any = true;
    if (c->len == sizeof c->win - 1) {
      memmove (c->win, c->win + sizeof c->win / 2,
               c->len - sizeof c->win / 2);
      c->len -= sizeof c->win / 2;
    }
    c->win[c->len++] = ch;
    strbuf_add (&c->tail, &ch, 1);
  }
  c->win[c->len] = '\0';
  console_tail_keep (c, 4096);
  if ((o = find_sign (c->win, &line)) != BOOTCHECK_TIMEOUT) {
    while (line > c->win && line[-1] != '\n')
      line--;
    snprintf (evidence, elen, "%.*s", (int) strcspn (line, "\n"), line);
  }
  else {
    /* keep the window's last line only: signs are within one line */
    char *nl = strrchr (c->win, '\n');

    if (nl) {
      c->len = strlen (nl + 1);
      memmove (c->win, nl + 1, c->len + 1);
    }
  }
  return o;
}

/* Read what qemu wrote on its stderr; its first line is kept in `said`
 * (the reason when it exits).  At end of file the pipe is closed. */
static void
drain_errors (struct vm *vm, char *said, size_t len)
{
  char buf[4096];
  ssize_t n;

  if (vm->errors == -1)
    return;
  n = read (vm->errors, buf, sizeof buf - 1);
  if (n <= 0) {
    if (n == 0 || errno != EINTR) {
      close (vm->errors);
      vm->errors = -1;
    }
    return;
  }
  buf[n] = '\0';
  if (said[0] == '\0')
    snprintf (said, len, "%.*s", (int) strcspn (buf, "\n"), buf);
}

/* One boot under `accel`.  *kvm_stuck: the guest printed nothing within
 * `quiet_limit` seconds (0: no limit), so KVM is hanging. */
static int
boot_once (const struct bootcheck_opts *o, const char *accel,
           unsigned quiet_limit, struct bootcheck_result *r, bool *kvm_stuck)
{
  struct console c = { .tail = STRBUF_INIT, .log = -1 };
  struct vm vm = { 0, -1, -1 };
  struct argv a = { .n = 0 };
  double t0, limit = boot_timeout (o);
  char buf[4096], qemu_said[160] = "";
  int ret = 0;

  *kvm_stuck = false;
  if (build_argv (o, accel, &a) == -1)
    return -1;
  if (o->console_log)
    c.log = open (o->console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0644);
  t0 = monotonic_seconds ();
  if (start_qemu (a.v, &vm) == -1) {
    ret = -1;
    goto out;
  }
  r->accel = accel;
  r->outcome = BOOTCHECK_TIMEOUT;
  snprintf (r->evidence, sizeof r->evidence,
            "no login prompt within %.0f s", limit);
  for (;;) {
    struct pollfd p[2] = { { .fd = vm.console, .events = POLLIN },
                           { .fd = vm.errors, .events = POLLIN } };
    double left = limit - (monotonic_seconds () - t0);
    ssize_t n;

    if (left <= 0)
      break;
    if (quiet_limit && !c.any && monotonic_seconds () - t0 > quiet_limit) {
      *kvm_stuck = true;
      break;
    }
    if (poll (p, vm.errors != -1 ? 2 : 1, 1000) == -1 && errno != EINTR) {
      ret = error_errno ("boot check: poll");
      break;
    }
    /* qemu's own messages: kept (the first line) only if it exits, but
     * always read, so that a chatty qemu never blocks on a full pipe */
    if (p[1].revents & (POLLIN | POLLHUP))
      drain_errors (&vm, qemu_said, sizeof qemu_said);
    if (!(p[0].revents & (POLLIN | POLLHUP)))
      continue;
    n = read (vm.console, buf, sizeof buf);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0) {
      r->outcome = BOOTCHECK_QEMU_EXIT;
      drain_errors (&vm, qemu_said, sizeof qemu_said);
      snprintf (r->evidence, sizeof r->evidence, "%s",
                qemu_said[0] ? qemu_said : "qemu exited");
      break;
    }
    r->outcome = console_feed (&c, buf, (size_t) n, r->evidence,
                               sizeof r->evidence);
    if (r->outcome != BOOTCHECK_TIMEOUT)
      break;
  }
  r->seconds = monotonic_seconds () - t0;
  snprintf (r->tail, sizeof r->tail, "%s",
            c.tail.buf ? c.tail.buf + (c.tail.len > sizeof r->tail - 1
                                       ? c.tail.len - (sizeof r->tail - 1)
                                       : 0) : "");
out:
  stop_qemu (&vm);
  if (c.log != -1)
    close (c.log);
  strbuf_release (&c.tail);
  argv_free (&a);
  return ret;
}

int
bootcheck_run (const struct bootcheck_opts *o, struct bootcheck_result *r)
{
  char *why = NULL;
  bool stuck = false;
  int kvm_fd;

  memset (r, 0, sizeof *r);
  if ((unsigned) o->bus > BOOTCHECK_NVME)
    return error_set ("boot check: unknown bus %d", (int) o->bus);
  kvm_fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm_fd != -1)
    close (kvm_fd);
  if (kvm_fd != -1 &&
      !guest_env_forces_tcg (getenv ("LIBGUESTFS_BACKEND_SETTINGS")) &&
      !guest_kvm_known_bad (&why)) {
    /* a guest's first line may wait for GRUB's menu: longer than the
     * appliance's */
    if (boot_once (o, "kvm", 3 * guest_kvm_timeout (), r, &stuck) == -1)
      return -1;
    if (!stuck && (r->outcome != BOOTCHECK_QEMU_EXIT ||
                   !strcasestr (r->evidence, "kvm")))
      return 0;
    /* KVM hangs (nested KVM spins in the firmware) or qemu refused it */
    guest_kvm_remember_bad ();
    memset (r, 0, sizeof *r);
  }
  free (why);
  return boot_once (o, "tcg", 0, r, &stuck);
}

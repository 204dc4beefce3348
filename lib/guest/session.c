/* session.c: libguestfs handles for Ferry: disks, launch with KVM-then-TCG
 * fallback, and libguestfs errors turned into Ferry's error convention. */
#include "lib/common/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/common/error.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/guest/session.h"

struct guest_session {
  guestfs_h *g;
  struct guest_disk *disks;   /* paths and formats owned */
  size_t nr_disks;
  const char *accel;          /* static string */
  char *fallback_reason;
  double launch_seconds;
};

int
guest_error (guestfs_h *g, const char *what)
{
  const char *msg = g ? guestfs_last_error (g) : NULL;
  char *one, *nl;

  if (msg == NULL)
    return error_set ("%s failed", what);
  /* Keep errors on one line: libguestfs may append command output. */
  one = xstrdup (msg);
  if (one == NULL)
    return -1;
  while ((nl = strchr (one, '\n')) != NULL)
    *nl = ' ';
  error_set ("%s: %s", what, one);
  free (one);
  return -1;
}

static guestfs_h *
make_handle (const struct guest_disk *disks, size_t n, bool tcg)
{
  guestfs_h *g = guestfs_create ();
  long ncpu;
  size_t i;

  if (g == NULL) {
    error_set ("libguestfs: cannot create a handle");
    return NULL;
  }
  guestfs_set_error_handler (g, NULL, NULL);
  /* Up to 4 vCPUs: the appliance's kernel, udev and the daemon's helpers
   * run beside each other (under TCG a launch takes ~10% less with two
   * than with libguestfs's one). */
  ncpu = sysconf (_SC_NPROCESSORS_ONLN);
  if (ncpu > 1)
    guestfs_set_smp (g, (int) (ncpu < 4 ? ncpu : 4));
  /* The environment may already force TCG (LIBGUESTFS_BACKEND_SETTINGS):
   * the first attempt always tries the hardware accelerator. */
  if (tcg)
    guestfs_set_backend_setting (g, "force_tcg", "1");
  else
    guestfs_clear_backend_setting (g, "force_tcg");
  for (i = 0; i < n; i++) {
    if (guestfs_add_drive_opts (g, disks[i].path,
                                GUESTFS_ADD_DRIVE_OPTS_FORMAT, disks[i].format,
                                GUESTFS_ADD_DRIVE_OPTS_READONLY,
                                (int) disks[i].readonly, -1) == -1) {
      guest_error (g, "libguestfs: add disk");
      error_prefix ("'%s': ", disks[i].path);
      guestfs_close (g);
      return NULL;
    }
  }
  return g;
}

static int
copy_disks (struct guest_session *s, const struct guest_disk *disks, size_t n)
{
  size_t i;

  s->disks = calloc (n ? n : 1, sizeof *s->disks);
  if (s->disks == NULL)
    return error_errno ("guest session");
  for (i = 0; i < n; i++) {
    s->disks[i].readonly = disks[i].readonly;
    s->nr_disks++;              /* counted first: close frees partial ones */
    if ((s->disks[i].path = xstrdup (disks[i].path)) == NULL ||
        (s->disks[i].format = xstrdup (disks[i].format)) == NULL)
      return -1;
  }
  return 0;
}

struct guest_session *
guest_session_open (const struct guest_disk *disks, size_t n)
{
  struct guest_session *s = calloc (1, sizeof *s);

  if (s == NULL) {
    error_errno ("guest session");
    return NULL;
  }
  if (copy_disks (s, disks, n) == -1 ||
      (s->g = make_handle (disks, n, false)) == NULL) {
    guest_session_close (s);
    return NULL;
  }
  return s;
}

/* The watchdog: kills our own qemu child when a launch makes no progress
 * (nested KVM can spin forever in the firmware instead of failing).
 * Progress is the appliance kernel's first console output: the firmware's
 * own messages (SeaBIOS) come before it even when KVM hangs. */
struct watchdog {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool done;                  /* the launch returned */
  bool booting;               /* the appliance kernel is running */
  bool fired;
  unsigned seconds;
};

static void
on_appliance_output (guestfs_h *g, void *opaque, uint64_t event,
                     int event_handle, int flags, const char *buf,
                     size_t len, const uint64_t *array, size_t array_len)
{
  struct watchdog *w = opaque;

  (void) g;
  (void) event;
  (void) event_handle;
  (void) flags;
  (void) array;
  (void) array_len;
  if (memmem (buf, len, "supermin:", 9) ||
      memmem (buf, len, "Linux version", 13)) {
    pthread_mutex_lock (&w->lock);
    w->booting = true;
    pthread_cond_signal (&w->cond);
    pthread_mutex_unlock (&w->lock);
  }
}

static bool
is_our_qemu (const char *pid)
{
  char path[64], comm[64] = "", buf[512];
  FILE *fp;
  int ppid = -1;
  char *p;

  snprintf (path, sizeof path, "/proc/%s/stat", pid);
  if ((fp = fopen (path, "r")) == NULL)
    return false;
  if (fgets (buf, sizeof buf, fp) == NULL)
    buf[0] = '\0';
  fclose (fp);
  /* "PID (comm) S PPID ...": comm may hold spaces, so parse after ')'. */
  if ((p = strrchr (buf, ')')) == NULL || sscanf (p + 1, " %*c %d", &ppid) != 1)
    return false;
  snprintf (comm, sizeof comm, "%.*s", (int) (p - strchr (buf, '(') - 1),
            strchr (buf, '(') + 1);
  return ppid == getpid () && strncmp (comm, "qemu", 4) == 0;
}

static void
kill_our_qemu (void)
{
  DIR *d = opendir ("/proc");
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && is_our_qemu (e->d_name))
      kill ((pid_t) atoi (e->d_name), SIGKILL);
  closedir (d);
}

static void *
watchdog_run (void *opaque)
{
  struct watchdog *w = opaque;
  struct timespec until;
  int r = 0;

  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += w->seconds;
  pthread_mutex_lock (&w->lock);
  while (!w->done && !w->booting && r != ETIMEDOUT)
    r = pthread_cond_timedwait (&w->cond, &w->lock, &until);
  if (!w->done && !w->booting) {
    w->fired = true;
    kill_our_qemu ();
  }
  pthread_mutex_unlock (&w->lock);
  return NULL;
}

unsigned
guest_kvm_timeout (void)
{
  const char *s = getenv ("FERRY_KVM_TIMEOUT");
  int n = s ? atoi (s) : 0;

  return n > 0 ? (unsigned) n : 10;
}

/* Launch s->g with a watchdog; sets *timed_out. */
static int
launch_watched (guestfs_h *g, unsigned seconds, bool *timed_out)
{
  struct watchdog w = { .lock = PTHREAD_MUTEX_INITIALIZER,
                        .cond = PTHREAD_COND_INITIALIZER,
                        .seconds = seconds };
  pthread_t th;
  bool have_thread;
  int r, eh;

  eh = guestfs_set_event_callback (g, on_appliance_output,
                                   GUESTFS_EVENT_APPLIANCE, 0, &w);
  have_thread = pthread_create (&th, NULL, watchdog_run, &w) == 0;
  r = guestfs_launch (g);
  if (have_thread) {
    pthread_mutex_lock (&w.lock);
    w.done = true;
    pthread_cond_signal (&w.cond);
    pthread_mutex_unlock (&w.lock);
    pthread_join (th, NULL);
  }
  if (eh != -1)
    guestfs_delete_event_callback (g, eh);
  *timed_out = w.fired;
  return r;
}

/* Without a usable /dev/kvm libguestfs' default silently runs TCG. */
static const char *
default_accel (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd == -1)
    return "tcg";
  close (fd);
  return "kvm";
}

/* Replace the handle by a TCG one and launch it; `why` (owned; NULL when
 * its allocation failed, the error then set) is what the report says about
 * the fallback. */
static int
launch_tcg (struct guest_session *s, char *why)
{
  if (why == NULL)
    return -1;
  s->fallback_reason = why;
  guestfs_close (s->g);
  if ((s->g = make_handle (s->disks, s->nr_disks, true)) == NULL)
    return -1;
  if (guestfs_launch (s->g) == -1)
    return guest_error (s->g, "libguestfs: appliance launch (tcg)");
  s->accel = "tcg";
  return 0;
}

static int
retry_tcg (struct guest_session *s, bool timed_out, unsigned secs)
{
  return launch_tcg (s, timed_out
    ? xasprintf ("kvm appliance did not start its kernel within %u s", secs)
    : xasprintf ("kvm launch failed: %s", error_get ()));
}

/* A failed KVM launch is remembered for this boot of the host: in the
 * process, and in a small cache file holding the host's boot id, so the
 * next run goes straight to TCG instead of waiting again. */
static bool kvm_failed;

static char *
kvm_cache_path (void)
{
  const char *xdg = getenv ("XDG_CACHE_HOME"), *home = getenv ("HOME");

  if (xdg && xdg[0] == '/')
    return xasprintf ("%s/ferry-kvm-failed", xdg);
  if (home && home[0] == '/')
    return xasprintf ("%s/.cache/ferry-kvm-failed", home);
  return xasprintf ("/var/tmp/ferry-kvm-failed-%u", (unsigned) getuid ());
}

static bool
read_small (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n;

  if (fd == -1)
    return false;
  n = read (fd, buf, size - 1);
  close (fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  return true;
}

bool
guest_kvm_known_bad (char **why)
{
  char boot[64], seen[64], *path;

  if (kvm_failed) {
    *why = xstrdup ("kvm failed earlier in this process");
    return true;
  }
  if ((path = kvm_cache_path ()) == NULL)
    return false;
  if (read_small ("/proc/sys/kernel/random/boot_id", boot, sizeof boot) &&
      read_small (path, seen, sizeof seen) && strcmp (boot, seen) == 0) {
    kvm_failed = true;
    *why = xasprintf ("kvm failed earlier on this boot of the host (%s)",
                      path);
    free (path);
    return true;
  }
  free (path);
  return false;
}

/* Best effort: a cache that cannot be written only costs the wait. */
void
guest_kvm_remember_bad (void)
{
  char boot[64], *path = kvm_cache_path (), *tmp = NULL;
  int fd;

  kvm_failed = true;
  if (path == NULL ||
      !read_small ("/proc/sys/kernel/random/boot_id", boot, sizeof boot) ||
      (tmp = xasprintf ("%s.%d", path, (int) getpid ())) == NULL)
    goto out;
  *strrchr (tmp, '/') = '\0';
  mkdir (tmp, 0700);            /* ~/.cache may not exist yet */
  tmp[strlen (tmp)] = '/';
  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
             0644);
  if (fd == -1)
    goto out;
  if (write (fd, boot, strlen (boot)) != (ssize_t) strlen (boot) ||
      close (fd) == -1 || rename (tmp, path) == -1)
    unlink (tmp);
out:
  free (tmp);
  free (path);
}

bool
guest_env_forces_tcg (const char *settings)
{
  static const char *const yes[] = { "1", "true", "t", "yes", "y", "on",
                                     NULL };
  const char *p = settings, *end, *v;
  size_t n, i;

  /* libguestfs: "name" or "name=value", separated by colons; a bare
   * name is true, a value counts as libguestfs' guestfs_int_is_true. */
  while (p && *p) {
    end = strchr (p, ':');
    n = end ? (size_t) (end - p) : strlen (p);
    if (n >= 9 && strncmp (p, "force_tcg", 9) == 0) {
      if (n == 9)
        return true;
      if (p[9] == '=') {
        v = p + 10;
        for (i = 0; yes[i]; i++)
          if (strlen (yes[i]) == n - 10 && strncasecmp (v, yes[i], n - 10) == 0)
            return true;
      }
    }
    p = end ? end + 1 : NULL;
  }
  return false;
}

int
guest_session_launch (struct guest_session *s)
{
  unsigned secs = guest_kvm_timeout ();
  double t0 = monotonic_seconds ();
  bool timed_out = false;
  char *why = NULL;

  /* The user forced TCG: trying KVM first would only cost the wait. */
  if (guest_env_forces_tcg (getenv ("LIBGUESTFS_BACKEND_SETTINGS"))) {
    if (launch_tcg (s, xstrdup ("LIBGUESTFS_BACKEND_SETTINGS forces "
                                "tcg")) == -1)
      return -1;
  }
  else if (guest_kvm_known_bad (&why)) {
    if (launch_tcg (s, why) == -1)
      return -1;
  }
  else if (launch_watched (s->g, secs, &timed_out) == 0) {
    s->accel = default_accel ();
  }
  else {
    guest_error (s->g, "libguestfs: appliance launch (kvm)");
    guest_kvm_remember_bad ();
    t0 = monotonic_seconds ();
    if (retry_tcg (s, timed_out, secs) == -1)
      return -1;
  }
  s->launch_seconds = monotonic_seconds () - t0;
  return 0;
}

const char *
guest_session_accel (const struct guest_session *s)
{
  return s->accel;
}

const char *
guest_session_fallback_reason (const struct guest_session *s)
{
  return s->fallback_reason ? s->fallback_reason : "";
}

double
guest_session_launch_seconds (const struct guest_session *s)
{
  return s->launch_seconds;
}

guestfs_h *
guest_session_handle (struct guest_session *s)
{
  return s->g;
}

int
guest_session_shutdown (struct guest_session *s)
{
  if (s->g == NULL || s->accel == NULL)
    return 0;
  if (guestfs_umount_all (s->g) == -1 || guestfs_sync (s->g) == -1 ||
      guestfs_shutdown (s->g) == -1)
    return guest_error (s->g, "libguestfs: shutdown");
  return 0;
}

void
guest_session_close (struct guest_session *s)
{
  size_t i;

  if (s == NULL)
    return;
  if (s->g)
    guestfs_close (s->g);
  for (i = 0; i < s->nr_disks; i++) {
    free ((char *) s->disks[i].path);
    free ((char *) s->disks[i].format);
  }
  free (s->disks);
  free (s->fallback_reason);
  free (s);
}

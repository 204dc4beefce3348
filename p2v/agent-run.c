/* agent-run.c: one agent run — check the settings against the hardware,
 * bring up the network, mount the target, capture each selected disk into
 * TARGET/NAME/, convert if asked, and leave a log, the capture report and
 * a status file beside the images. */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "p2v/agent.h"
#include "p2v/capture.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"

#define AGENT_MAX_DISKS 16

int
agent_write_file (const char *path, const char *text)
{
  struct outfile o;
  FILE *fp;
  int r;

  if (outfile_begin (&o, path, true) == -1)
    return -1;
  if ((fp = fopen (o.tmp, "we")) == NULL) {
    error_errno ("'%s'", path);
    outfile_abort (&o);
    return -1;
  }
  r = fputs (text, fp) < 0 || fflush (fp) != 0 || fsync (fileno (fp)) != 0;
  if (fclose (fp) != 0 || r) {
    error_errno ("'%s': write", path);
    outfile_abort (&o);
    return -1;
  }
  return outfile_commit (&o);
}

int
agent_write_status (const char *file, int status, const char *msg)
{
  char *text;
  int r;

  if (file == NULL || file[0] == '\0')
    return 0;
  if ((text = xasprintf ("%d %s\n", status, msg)) == NULL)
    return -1;
  r = agent_write_file (file, text);
  free (text);
  return r;
}

/* ---- the network ---- */

static const char *
pick_nic (const char *want, const agent_nic_vector *nics)
{
  size_t i;

  if (strcmp (want, "auto") != 0) {
    for (i = 0; i < nics->len; i++)
      if (strcmp (nics->ptr[i].name, want) == 0)
        return want;
    error_set ("ferry.nic: interface '%s' does not exist", want);
    return NULL;
  }
  for (i = 0; i < nics->len; i++)
    if (nics->ptr[i].carrier)
      return nics->ptr[i].name;
  if (nics->len)
    return nics->ptr[0].name;
  error_set ("no network interface found");
  return NULL;
}

static int
static_ip (const char *nic, const struct agent_ip *ip)
{
  char addr[96], resolv[96];
  const char *add[] = { "ip", "addr", "replace", addr, "dev", nic, NULL };
  const char *route[] = { "ip", "route", "replace", "default", "via", ip->gw,
                          NULL };

  agent_pathf (addr, sizeof addr, "%s/%u", ip->addr, ip->prefix);
  if (agent_spawn (add, NULL, NULL) == -1)
    return -1;
  if (ip->gw[0] && agent_spawn (route, NULL, NULL) == -1)
    return -1;
  if (ip->dns[0]) {
    agent_pathf (resolv, sizeof resolv, "nameserver %s\n", ip->dns);
    return agent_write_file ("/etc/resolv.conf", resolv);
  }
  return 0;
}

int
agent_network_up (const struct agent_settings *s, const agent_nic_vector *nics)
{
  struct agent_ip ip;
  const char *nic;

  if (agent_ip_parse (agent_get (s, AK_IP), &ip) == -1)
    return -1;
  if (ip.none)
    return 0;
  if ((nic = pick_nic (agent_get (s, AK_NIC), nics)) == NULL)
    return -1;
  {
    const char *up[] = { "ip", "link", "set", nic, "up", NULL };
    const char *dhcp[] = { "dhclient", "-1", nic, NULL };
    if (agent_spawn (up, NULL, NULL) == -1)
      return error_prefix ("network: ");
    if ((ip.dhcp ? agent_spawn (dhcp, NULL, NULL)
         : static_ip (nic, &ip)) == -1)
      return error_prefix ("network: '%s': ", nic);
  }
  return 0;
}

/* ---- checks made before anything is written ---- */

/* Packages are streamed from the disks: there is no overlay to convert
 * in (capture_one converts only into an image). */
static int
check_convert (const struct agent_settings *s)
{
  const char *conv = agent_get (s, AK_CONVERT), *fmt = agent_get (s, AK_FORMAT);

  if (strcmp (conv, "none") != 0 &&
      (strcmp (fmt, "ova") == 0 || strcmp (fmt, "xva") == 0))
    return error_set ("ferry.convert=%s needs an image format "
                      "(ferry.format=vhd, vmdk, qcow2 or raw), not %s",
                      conv, fmt);
  if (strcmp (agent_get (s, AK_VERIFY), "1") == 0 &&
      strcmp (conv, "kvm") != 0)
    return error_set ("ferry.verify=1 boots a kvm conversion: it needs "
                      "ferry.convert=kvm (a xen guest cannot be booted "
                      "here), not %s", conv);
  return 0;
}

/* ferry.disks=all means every disk but the live medium and the one
 * holding a disk: target. */
static void
skip_target_disk (const agent_disk_vector *disks, const struct agent_env *env,
                  const struct agent_target *t, bool *sel)
{
  const char *base = strrchr (t->device, '/');
  char disk[64];
  size_t i;

  if (agent_parent_disk (env, base ? base + 1 : t->device, disk, sizeof disk)
      == -1)
    disk[0] = '\0';
  error_clear ();
  for (i = 0; i < disks->len; i++)
    if (strcmp (disks->ptr[i].path, t->device) == 0 ||
        (disk[0] && strcmp (disks->ptr[i].name, disk) == 0))
      sel[i] = false;
}

int
agent_validate (const struct agent_settings *s, const agent_disk_vector *disks,
                const struct agent_env *env, bool *sel)
{
  struct agent_target t;
  const char *src[AGENT_MAX_DISKS];
  size_t i, n = 0;

  if (agent_get (s, AK_TARGET)[0] == '\0')
    return error_set ("no target given (ferry.target=)");
  if (agent_target_parse (agent_get (s, AK_TARGET), &t) == -1 ||
      agent_select_disks (disks, agent_get (s, AK_DISKS), sel) == -1 ||
      check_convert (s) == -1)
    return -1;
  if (t.kind == TK_DISK && strcmp (agent_get (s, AK_DISKS), "all") == 0)
    skip_target_disk (disks, env, &t, sel);
  for (i = 0; i < disks->len; i++)
    if (sel[i]) {
      if (n == AGENT_MAX_DISKS)
        return error_set ("too many disks (at most %d)", AGENT_MAX_DISKS);
      src[n++] = disks->ptr[i].path;
    }
  if (n == 0)
    return error_set ("no disk to capture (the target's disk is not one)");
  if (t.kind == TK_FILE)
    agent_pathf (t.mountpoint, sizeof t.mountpoint, "%s", t.path);
  return agent_target_check_sources (env, &t, src, n);
}

/* ---- the log ---- */

struct run {
  const struct agent_settings *s;
  const agent_disk_vector *disks;
  const struct agent_run_opts *o;
  const struct agent_ui *ui;
  struct agent_result *res;
  struct strbuf log;
  bool sel[AGENT_MAX_DISKS * 8];
  struct agent_target t;
  struct json j;
  FILE *report;
  char *report_text;
  size_t report_len;
};

void
agent_say_va (struct strbuf *log, const struct agent_ui *ui, const char *fmt,
              va_list ap)
{
  char msg[4400], stamp[32];
  time_t now = time (NULL);
  struct tm tm;

  vsnprintf (msg, sizeof msg, fmt, ap);
  gmtime_r (&now, &tm);
  strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  strbuf_addf (log, "%s %s\n", stamp, msg);
  if (ui && ui->line)
    ui->line (ui->opaque, msg);
}

static void
say (struct run *r, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
say (struct run *r, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  agent_say_va (&r->log, r->ui, fmt, ap);
  va_end (ap);
}

/* ---- capturing ---- */

struct prog {
  struct run *r;
  struct agent_disk_progress p;
  size_t idx, n;
  double last;
  bool copying;               /* the copy has started: p.start is set */
};

static void
on_progress (void *opaque, uint64_t done, uint64_t bad, uint64_t total)
{
  struct prog *pg = opaque;
  double now = monotonic_seconds ();

  /* Rate and ETA count from the copy, not from the used-block scan or
   * the conversion's appliance before it. */
  if (!pg->copying) {
    pg->copying = true;
    pg->p.start = pg->last = now;     /* first draw once a rate exists */
  }
  pg->p.done = done;
  pg->p.bad = bad;
  pg->p.total = total;
  if (now - pg->last < 0.5 && done < total)
    return;
  pg->last = now;
  if (pg->r->ui && pg->r->ui->progress)
    pg->r->ui->progress (pg->r->ui->opaque, &pg->p, pg->idx, pg->n);
}

/* capture_one with the agent's progress; the boot disk is converted on
 * the way when ferry.convert asks for it (`convert` not NULL). */
static int
capture_disk (const char *source, const char *out, const char *format,
              const char *convert, const struct agent_settings *s,
              struct prog *pg, struct capture_result *res)
{
  const char *root = agent_get (s, AK_ROOT);
  struct capture_opts o = {
    .format = format, .quiet = true, .retries = 2, .convert = convert,
    .root = root && *root ? root : NULL,
    .verify_boot = convert && strcmp (agent_get (s, AK_VERIFY), "1") == 0,
    .on_progress = on_progress, .opaque = pg,
  };

  return capture_one (source, out, &o, res);
}

/* ova/xva: every selected disk into one package, TARGET/NAME/NAME.FMT. */
static int
package_all (struct run *r)
{
  const char *fmt = agent_get (r->s, AK_FORMAT);
  const char *src[AGENT_MAX_DISKS];
  bool uefi = false;
  size_t i, k, n = 0;
  char *out = r->res->images[0];

  for (i = 0; i < r->disks->len && n < AGENT_MAX_DISKS; i++)
    if (r->sel[i]) {
      src[n++] = r->disks->ptr[i].path;
      for (k = 0; k < r->disks->ptr[i].parts.len; k++)
        uefi |= r->disks->ptr[i].parts.ptr[k].esp;
    }
  if (agent_pathf (out, sizeof r->res->images[0], "%s/%s.%s", r->res->dir,
                   agent_get (r->s, AK_NAME), fmt) == -1)
    return -1;
  say (r, "packaging %zu disk(s) -> '%s'", n, out);
  if (agent_package (out, r->s, src, n, uefi, &r->j) == -1)
    return -1;
  r->res->n_images = 1;
  say (r, "packaged %zu disk(s) into '%s'", n, out);
  return 0;
}

/* The disk ferry.convert converts: the first selected one with a boot
 * loader, else the first selected one. */
static size_t
boot_disk (const struct run *r)
{
  size_t i, first = SIZE_MAX;

  for (i = 0; i < r->disks->len; i++) {
    if (!r->sel[i])
      continue;
    if (r->disks->ptr[i].boots)
      return i;
    if (first == SIZE_MAX)
      first = i;
  }
  return first;
}

static void
log_capture (struct run *r, const struct agent_disk *d,
             const struct capture_result *res, const char *convert)
{
  size_t i;

  if (convert)
    say (r, "converted %s for %s (%zu change(s), appliance on %s)",
         res->root, convert, res->convert.changes.len, res->accel);
  for (i = 0; i < res->boots.n; i++)
    say (r, "verify-boot: %s on %s in %.0f s (%s): %s",
         bootcheck_outcome_name (res->boots.r[i].outcome),
         bootcheck_bus_name (res->boots.bus[i]), res->boots.r[i].seconds,
         res->boots.r[i].accel, res->boots.r[i].evidence);
  say (r, "captured '%s': read %llu bytes, wrote %llu, unreadable %llu, "
       "%.1f s", d->name, (unsigned long long) res->stats.bytes_read,
       (unsigned long long) res->stats.bytes_written,
       (unsigned long long) res->stats.bytes_bad, res->stats.seconds);
}

static int
capture_all (struct run *r)
{
  const char *fmt = agent_get (r->s, AK_FORMAT);
  const char *ext = strcmp (fmt, "raw") == 0 ? "img" : fmt;
  const char *target = agent_get (r->s, AK_CONVERT);
  size_t i, k = 0, n = 0, boot = boot_disk (r);

  for (i = 0; i < r->disks->len; i++)
    n += r->sel[i];
  for (i = 0; i < r->disks->len; i++) {
    const struct agent_disk *d = &r->disks->ptr[i];
    struct prog pg = { .r = r, .idx = k, .n = n,
                       .p = { .name = d->name, .start = monotonic_seconds () } };
    const char *convert = i == boot && strcmp (target, "none") != 0
      ? target : NULL;
    struct capture_result res;
    char *out;
    if (!r->sel[i])
      continue;
    out = r->res->images[r->res->n_images];
    if (agent_pathf (out, sizeof r->res->images[0], "%s/%s-%s.%s",
                     r->res->dir, agent_get (r->s, AK_NAME), d->name, ext)
        == -1)
      return -1;
    if (convert)
      say (r, "capturing '%s' (%s) -> '%s', converting it for %s", d->path,
           d->name, out, convert);
    else
      say (r, "capturing '%s' (%s) -> '%s'", d->path, d->name, out);
    if (capture_disk (d->path, out, fmt, convert, r->s, &pg, &res) == -1)
      return -1;
    pg.last = 0;
    on_progress (&pg, res.source_size, res.stats.bytes_bad, res.source_size);
    capture_result_json (&r->j, d->path, out, fmt, convert, &res);
    log_capture (r, d, &res, convert);
    capture_result_free (&res);
    r->res->n_images++;
    k++;
  }
  return 0;
}

/* ---- the run ---- */

static uint64_t
bytes_to_copy (const struct run *r)
{
  uint64_t need = 0;
  size_t i;

  for (i = 0; i < r->disks->len; i++)
    if (r->sel[i])
      need += r->disks->ptr[i].used_bytes ? r->disks->ptr[i].used_bytes
        : r->disks->ptr[i].size;
  return need;
}

static int
prepare_target (struct run *r)
{
  const char *src[AGENT_MAX_DISKS];
  size_t i, n = 0;
  char *dir;

  say (r, "mounting target '%s'", r->t.spec);
  if (agent_target_mount (&r->t, r->o->mount_dir, agent_get (r->s, AK_PASSWORD),
                          agent_get (r->s, AK_SSHKEY)) == -1)
    return -1;
  for (i = 0; i < r->disks->len; i++)
    if (r->sel[i])
      src[n++] = r->disks->ptr[i].path;
  if (agent_target_check_sources (r->o->env, &r->t, src, n) == -1 ||
      agent_target_check_space (&r->t, bytes_to_copy (r)) == -1)
    return -1;
  dir = xasprintf ("%s/%s", r->t.mountpoint, agent_get (r->s, AK_NAME));
  if (dir == NULL)
    return -1;
  agent_pathf (r->res->dir, sizeof r->res->dir, "%s", dir);
  free (dir);
  if (mkdir (r->res->dir, 0755) == -1 && errno != EEXIST)
    return error_errno ("target '%s': '%s'", r->t.spec, r->res->dir);
  return 0;
}

static bool
needs_network (const struct agent_target *t)
{
  return t->kind == TK_NFS || t->kind == TK_CIFS || t->kind == TK_SSH;
}

static int
run_steps (struct run *r)
{
  agent_nic_vector nics = empty_vector;
  int rc;

  if (agent_validate (r->s, r->disks, r->o->env, r->sel) == -1 ||
      agent_target_parse (agent_get (r->s, AK_TARGET), &r->t) == -1)
    return -1;
  if (needs_network (&r->t) && !r->o->no_network) {
    say (r, "network: %s", agent_get (r->s, AK_IP));
    rc = agent_discover_nics (r->o->env, &nics);
    if (rc == 0)
      rc = agent_network_up (r->s, &nics);
    agent_nic_vector_reset (&nics);
    if (rc == -1)
      return -1;
  }
  if (prepare_target (r) == -1)
    return -1;
  json_object_begin (&r->j);
  json_key (&r->j, "captures");
  json_array_begin (&r->j);
  rc = strcmp (agent_get (r->s, AK_FORMAT), "ova") == 0 ||
    strcmp (agent_get (r->s, AK_FORMAT), "xva") == 0 ? package_all (r)
    : capture_all (r);
  json_array_end (&r->j);
  json_key_bool (&r->j, "ok", rc == 0);
  json_object_end (&r->j);
  return rc;
}

/* The report, the log and the status file, in the result directory. */
static void
write_results (struct run *r, int rc)
{
  char path[4200];
  const char *msg = rc == 0 ? "ok" : error_get ();
  CLEANUP_FREE char *keep = xstrdup (msg);

  if (r->res->dir[0] == '\0')
    return;
  if (json_finish (&r->j) == 0 && r->report && fflush (r->report) == 0) {
    agent_pathf (path, sizeof path, "%s/%s.json", r->res->dir,
              agent_get (r->s, AK_NAME));
    if (agent_write_file (path, r->report_text ? r->report_text : "") == 0)
      agent_pathf (r->res->report, sizeof r->res->report, "%s", path);
  }
  agent_pathf (path, sizeof path, "%s/ferry-status", r->res->dir);
  agent_write_status (path, rc == 0 ? 0 : 1, keep ? keep : "failed");
  agent_pathf (path, sizeof path, "%s/ferry-agent.log", r->res->dir);
  agent_write_file (path, r->log.buf ? r->log.buf : "");
  if (rc == -1 && keep)
    error_set ("%s", keep);
}

int
agent_run (const struct agent_settings *s, const agent_disk_vector *disks,
           const struct agent_run_opts *o, const struct agent_ui *ui,
           struct agent_result *res)
{
  struct run r = { .s = s, .disks = disks, .o = o, .ui = ui, .res = res,
                   .log = STRBUF_INIT };
  char *err;
  int rc;

  if (agent_settings_deploy (s))
    return agent_deploy (s, disks, o, ui, res);
  memset (res, 0, sizeof *res);
  if (disks->len > sizeof r.sel / sizeof r.sel[0])
    return error_set ("too many disks found (%zu)", disks->len);
  r.report = open_memstream (&r.report_text, &r.report_len);
  if (r.report == NULL)
    return error_errno ("report");
  json_init (&r.j, r.report);
  say (&r, "starting: target '%s', format %s, name %s",
       agent_get (s, AK_TARGET), agent_get (s, AK_FORMAT),
       agent_get (s, AK_NAME));
  rc = run_steps (&r);
  if (rc == -1)
    say (&r, "error: %s", error_get ());
  else
    say (&r, "done: %zu image(s) in '%s'", res->n_images, res->dir);
  write_results (&r, rc);
  err = rc == -1 ? xstrdup (error_get ()) : NULL;
  agent_target_umount (&r.t);
  agent_write_status (o->status_file, rc == 0 ? 0 : 1,
                      rc == 0 ? "ok" : err ? err : "failed");
  if (err) {
    error_set ("%s", err);
    free (err);
  }
  fclose (r.report);
  free (r.report_text);
  strbuf_release (&r.log);
  res->ok = rc == 0;
  return rc;
}

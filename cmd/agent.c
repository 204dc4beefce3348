/* agent.c: `ferry agent` — the agent of the boot ISO: the TUI, or an
 * unattended run from ferry.* kernel command line keys (p2v/agent.h); its
 * deploy job (ferry.mode=deploy) is v2p's deploy_run, adapted here (p2v/
 * and v2p/ never include each other). */
#include "lib/common/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/options.h"
#include "lib/common/error.h"
#include "lib/common/outfile.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/common/json.h"
#include "p2v/agent.h"
#include "v2p/deploy.h"

struct agent_args {
  const char *cmdline;
  const char *files[16];
  int nr_files;
  struct agent_env env;
  bool sysfs_given, no_post, list, man;
  struct agent_run_opts run;
};

static int
opt_disk (void *args, const char *value)
{
  struct agent_args *a = args;

  if (a->nr_files == 16)
    return error_set ("at most 16 disks");
  a->files[a->nr_files++] = value;
  return 0;
}

static int
opt_sysfs (void *args, const char *value)
{
  struct agent_args *a = args;

  a->env.sysfs = value;
  a->sysfs_given = true;
  return 0;
}

static const struct cmd_option agent_options[] = {
  CMD_OPT_STRING (0, "cmdline", struct agent_args, cmdline, "STRING",
                  "use STRING instead of /proc/cmdline"),
  CMD_OPT_FN (0, "disk", opt_disk, "FILE", NULL,
              "offer an image file as a disk (repeatable; without\n"
              "--sysfs, the machine's own disks are then not listed)"),
  CMD_OPT_FN (0, "sysfs", opt_sysfs, "DIR", NULL,
              "read /sys from DIR (default /sys)"),
  CMD_OPT_STRING (0, "dev", struct agent_args, env.dev, "DIR",
                  "disk device nodes in DIR (default /dev)"),
  CMD_OPT_STRING (0, "proc", struct agent_args, env.proc, "DIR",
                  "read /proc from DIR (default /proc)"),
  CMD_OPT_STRING (0, "live", struct agent_args, env.live_dev, "DEV",
                  "the live medium's device (default: from mounts)"),
  CMD_OPT_STRING (0, "status", struct agent_args, run.status_file, "FILE",
                  "status file (default /run/ferry-agent.status)"),
  CMD_OPT_STRING (0, "mount-dir", struct agent_args, run.mount_dir, "DIR",
                  "where targets and sources are mounted (default\n"
                  "/run/ferry/target, /run/ferry/source)"),
  CMD_OPT_BOOL (0, "no-network", struct agent_args, run.no_network,
                "never configure the network"),
  CMD_OPT_BOOL (0, "no-post", struct agent_args, no_post,
                "print the ferry.post action instead of running it"),
  CMD_OPT_BOOL (0, "list", struct agent_args, list,
                "print the disks and network interfaces found"),
  CMD_OPT_BOOL (0, "man", struct agent_args, man,
                "print the man page section of the settings"),
  CMD_OPT_END
};

static const struct cmd_spec agent_spec = {
  "agent",
  "usage: ferry agent [options]\n\n"
  "The agent of the Ferry boot ISO.  Reads ferry.* settings from the\n"
  "kernel command line; with ferry.target= and ferry.yes it captures\n"
  "unattended, with ferry.mode=deploy, ferry.source=, ferry.disks= and\n"
  "ferry.yes it deploys unattended, otherwise it starts the TUI.  See\n"
  "ferry-agent(1).\n\n",
  agent_options,
};

static int
parse_opts (int argc, char **argv, struct agent_args *a)
{
  int r, first;

  if ((r = cmd_options_parse (&agent_spec, argc, argv, a, &first)) != 0)
    return r;
  if (first < argc)
    return cmd_usage_error ("agent", "unexpected argument '%s'", argv[first]);
  return 0;
}

/* /proc/cmdline, bounded. */
static char *
read_cmdline (const char *proc)
{
  char file[4200], *buf;
  ssize_t n;
  int fd;

  agent_pathf (file, sizeof file, "%s/cmdline", proc);
  if ((fd = open (file, O_RDONLY | O_CLOEXEC)) == -1) {
    error_errno ("'%s'", file);
    return NULL;
  }
  if ((buf = malloc (65537)) == NULL) {
    close (fd);
    error_set ("out of memory");
    return NULL;
  }
  n = read (fd, buf, 65536);
  close (fd);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

static int
discover (struct agent_args *a, agent_disk_vector *disks,
          agent_nic_vector *nics)
{
  int i;

  if ((a->nr_files == 0 || a->sysfs_given) &&
      agent_discover_disks (&a->env, disks) == -1)
    return -1;
  for (i = 0; i < a->nr_files; i++)
    if (agent_disk_add_file (a->files[i], disks) == -1)
      return -1;
  if (agent_discover_nics (&a->env, nics) == -1)
    error_clear ();             /* no NICs: local targets still work */
  return 0;
}

static void
list_hw (const agent_disk_vector *disks, const agent_nic_vector *nics)
{
  size_t i, k;
  char size[32], used[32];

  for (i = 0; i < disks->len; i++) {
    const struct agent_disk *d = &disks->ptr[i];
    format_bytes (size, sizeof size, d->size);
    format_bytes (used, sizeof used, d->used_bytes);
    printf ("disk %s path=%s size=%s used=%s model=\"%s\" serial=\"%s\" "
            "removable=%d rotational=%d table=%s%s%s\n", d->name, d->path,
            size, used, d->model, d->serial, d->removable, d->rotational,
            d->table, d->boots ? " boots" : "", d->live ? " live" : "");
    for (k = 0; k < d->parts.len; k++)
      printf ("  part %d offset=%llu length=%llu fs=%s%s%s\n",
              d->parts.ptr[k].number,
              (unsigned long long) d->parts.ptr[k].offset,
              (unsigned long long) d->parts.ptr[k].length,
              d->parts.ptr[k].fstype[0] ? d->parts.ptr[k].fstype : "-",
              d->parts.ptr[k].boot ? " active" : "",
              d->parts.ptr[k].esp ? " esp" : "");
  }
  for (i = 0; i < nics->len; i++)
    printf ("nic %s mac=%s driver=%s link=%s\n", nics->ptr[i].name,
            nics->ptr[i].mac, nics->ptr[i].driver[0] ? nics->ptr[i].driver
            : "-", nics->ptr[i].carrier ? "up" : "down");
}

/* ---- the deploy job: v2p's deploy_run behind the agent's hook ---- */

static void
deploy_step (void *opaque, const char *line)
{
  const struct agent_deploy_req *req = opaque;

  req->line (req->opaque, line);
}

/* The agent has confirmed (ferry.yes, or the TUI's confirmation naming
 * the disks), so no confirm hook; deploy_run still checks every target
 * before it writes.  Its steps (layout, bootloader) come as lines through
 * on_step; the bytes written per disk are added, and the report. */
static int
agent_deploy_job (void *opaque, const struct agent_deploy_req *req)
{
  struct deploy_result res = { .n_disks = 0 };
  struct copy_opts copy = { .quiet = true, .on_progress = req->progress,
                            .opaque = req->opaque };
  char line[4400];
  size_t i;
  int r;

  (void) opaque;
  r = deploy_run (&(struct deploy_opts) {
      .source = req->source, .targets = req->targets,
      .n_targets = req->n_targets, .convert = req->native ? "native" : "none",
      .no_grow = !req->grow, .root = req->root,
      .on_step = deploy_step, .opaque = (void *) req, .copy = &copy,
    }, &res);
  for (i = 0; r == 0 && i < res.n_disks; i++) {
    const struct deploy_disk_result *d = &res.disks[i];
    agent_textf (line, sizeof line, "deployed onto %s: %llu bytes written, "
                 "%llu zeroed", d->target.path,
                 (unsigned long long) d->stats.bytes_written,
                 (unsigned long long) d->stats.bytes_zeroed);
    req->line (req->opaque, line);
  }
  if (req->report)
    deploy_result_json (req->report, &res);
  deploy_result_free (&res);
  return r;
}

/* ---- the console of an unattended run ---- */

struct console {
  FILE *extra;                  /* ferry.console=, or NULL */
};

static void
console_line (void *opaque, const char *msg)
{
  struct console *c = opaque;

  fprintf (stderr, "ferry agent: %s\n", msg);
  if (c->extra)
    fprintf (c->extra, "ferry agent: %s\r\n", msg), fflush (c->extra);
}

static void
console_progress (void *opaque, const struct agent_disk_progress *p,
                  size_t idx, size_t n)
{
  char done[32], total[32], rate[32], eta[32], line[256];
  double el = monotonic_seconds () - p->start;
  double r = el > 0 ? (double) p->done / el : 0;

  format_bytes (done, sizeof done, p->done);
  format_bytes (total, sizeof total, p->total);
  format_bytes (rate, sizeof rate, (uint64_t) r);
  format_duration (eta, sizeof eta, r > 0 && p->total > p->done
                   ? (double) (p->total - p->done) / r : 0);
  agent_textf (line, sizeof line, "disk %zu/%zu %s: %3.0f%% %s/%s %s/s ETA %s, "
            "%llu bytes unreadable", idx + 1, n, p->name,
            p->total ? 100.0 * (double) p->done / (double) p->total : 100.0,
            done, total, rate, eta, (unsigned long long) p->bad);
  console_line (opaque, line);
}

static void
post_action (const struct agent_settings *s, bool no_post)
{
  const char *post = agent_get (s, AK_POST);

  if (no_post) {
    fprintf (stderr, "ferry agent: ferry.post=%s not run (--no-post)\n", post);
    return;
  }
  fprintf (stderr, "ferry agent: %s\n", post);
  if (strcmp (post, "shell") == 0)
    execl ("/bin/sh", "sh", "-i", (char *) NULL);
  else {
    const char *verb = strcmp (post, "reboot") == 0 ? "reboot" : "poweroff";

    /* `systemctl poweroff` would ask logind over D-Bus first, which the
     * live system lacks, and print an alarming "Failed to connect to
     * bus"; starting the target is what it falls back to. */
    execlp ("systemctl", "systemctl", "--quiet", "--no-block",
            "--job-mode=replace-irreversibly", "start",
            verb[0] == 'r' ? "reboot.target" : "poweroff.target",
            (char *) NULL);
    execlp (verb, verb, (char *) NULL);
  }
  fprintf (stderr, "ferry agent: %s: %s\n", post, strerror (errno));
}

static FILE *
open_console (const struct agent_args *a, const struct agent_settings *s)
{
  char path[4200];
  const char *con = agent_get (s, AK_CONSOLE);
  FILE *f;
  struct stat st, err;

  if (con[0] == '\0')
    return NULL;
  agent_pathf (path, sizeof path, "%s/%s", a->env.dev, con);
  f = fopen (path, "we");
  /* The agent's own terminal already gets every line on stderr. */
  if (f && fstat (fileno (f), &st) == 0 && fstat (2, &err) == 0 &&
      S_ISCHR (st.st_mode) && S_ISCHR (err.st_mode) &&
      st.st_rdev == err.st_rdev) {
    fclose (f);
    return NULL;
  }
  return f;
}

static int
unattended (struct agent_args *a, const struct agent_settings *s,
            const agent_disk_vector *disks)
{
  struct console c = { .extra = open_console (a, s) };
  struct agent_ui ui = { .line = console_line, .progress = console_progress,
                         .opaque = &c };
  struct agent_result res;
  int rc;

  a->run.env = &a->env;
  rc = agent_run (s, disks, &a->run, &ui, &res);   /* errors: on the console */
  if (rc == 0 && res.report[0]) {
    char line[4200];
    agent_textf (line, sizeof line, "report: %s", res.report);
    console_line (&c, line);
  }
  if (c.extra)
    fclose (c.extra);
  post_action (s, a->no_post);
  return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

/* A run that cannot start: say why, leave the status file, then ferry.post
 * (an unattended machine must not sit there forever). */
static int
early_failure (struct agent_args *a, const struct agent_settings *s)
{
  fprintf (stderr, "ferry agent: %s\n", error_get ());
  agent_write_status (a->run.status_file, 1, error_get ());
  post_action (s, a->no_post);
  return EXIT_FAIL;
}

static int
run_agent (struct agent_args *a, struct agent_settings *s)
{
  agent_disk_vector disks = empty_vector;
  agent_nic_vector nics = empty_vector;
  struct agent_hw hw;
  char *cmdline = NULL;
  bool any = false, bad;
  char *msg = NULL;
  int rc;

  if (a->cmdline == NULL && (cmdline = read_cmdline (a->env.proc)) == NULL)
    return cmd_fail ();
  bad = agent_cmdline_parse (a->cmdline ? a->cmdline : cmdline, s, &any) == -1;
  if (bad && strstr (a->cmdline ? a->cmdline : cmdline, "ferry.yes")) {
    free (cmdline);
    agent_settings_defaults (s, &(struct agent_hw) { .name = "p2v" });
    return early_failure (a, s);
  }
  free (cmdline);
  if (bad)
    msg = xstrdup (error_get ());
  agent_hw_probe ("", &hw);
  if (agent_settings_defaults (s, &hw) == -1) {
    free (msg);
    return cmd_fail ();
  }
  if (discover (a, &disks, &nics) == -1)
    rc = agent_settings_unattended (s) ? early_failure (a, s) : cmd_fail ();
  else if (a->list)
    list_hw (&disks, &nics), rc = EXIT_OK;
  else if (agent_settings_unattended (s) && !bad)
    rc = unattended (a, s, &disks);
  else {
    a->run.env = &a->env;
    rc = agent_tui (s, &disks, &nics, &a->run, msg) == -1 ? cmd_fail ()
      : EXIT_OK;
  }
  free (msg);
  agent_disks_free (&disks);
  agent_nic_vector_reset (&nics);
  return rc;
}

int
cmd_agent (int argc, char **argv)
{
  struct agent_args a = {
    .env = { .sysfs = "/sys", .dev = "/dev", .proc = "/proc" },
    .run = { .status_file = "/run/ferry-agent.status" },
  };
  struct agent_settings s = { 0 };
  int r;

  a.run.deploy = agent_deploy_job;

  if ((r = parse_opts (argc, argv, &a)) != 0)
    return r == -1 ? EXIT_OK : r;
  if (a.man) {
    agent_settings_man (stdout);
    return EXIT_OK;
  }
  outfile_install_signal_handlers ();
  r = run_agent (&a, &s);
  agent_settings_free (&s);
  return r;
}

/* agent-deploy.c: the agent's second job, ferry.mode=deploy — the target
 * disks named by ferry.disks (never the live medium, never "all"), the
 * network, the source share mounted read-only and its image checked
 * readable, then the deploy hook (the command's adapter to v2p/, which
 * checks every target before writing).  The share is read-only, so the
 * report and the log go beside the status file (/run on the ISO), and
 * every line to the console or the TUI. */
#include "lib/common/compat.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2v/agent.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/json.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"

#define MAX_TARGETS 16

struct dep {
  const struct agent_settings *s;
  const agent_disk_vector *disks;
  const struct agent_run_opts *o;
  const struct agent_ui *ui;
  struct agent_result *res;
  struct strbuf log;
  size_t idx[MAX_TARGETS], n;
  struct agent_source src;
  struct agent_disk_progress p;
  double last;
  bool copying;
};

static void
say (struct dep *d, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
say (struct dep *d, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  agent_say_va (&d->log, d->ui, fmt, ap);
  va_end (ap);
}

/* ---- checks before anything is mounted or written ---- */

static int
find (const agent_disk_vector *v, const char *item)
{
  size_t i;

  for (i = 0; i < v->len; i++) {
    const struct agent_disk *k = &v->ptr[i];
    if (strcmp (k->name, item) == 0 || strcmp (k->path, item) == 0 ||
        (strncmp (item, "/dev/", 5) == 0 && strcmp (k->name, item + 5) == 0))
      return (int) i;
  }
  return -1;
}

int
agent_deploy_targets (const struct agent_settings *s,
                      const agent_disk_vector *disks, size_t *idx,
                      size_t max, size_t *n)
{
  const char *spec = agent_get (s, AK_DISKS);
  CLEANUP_FREE char *copy = NULL;
  char *item, *save = NULL;
  size_t i;
  int k;

  *n = 0;
  if (!s->given[AK_DISKS] || strcmp (spec, "all") == 0 || spec[0] == '\0')
    return error_set ("ferry.mode=deploy erases disks: name them with "
                      "ferry.disks= (all is refused)");
  if ((copy = xstrdup (spec)) == NULL)
    return -1;
  for (item = strtok_r (copy, ",", &save); item;
       item = strtok_r (NULL, ",", &save)) {
    if ((k = find (disks, item)) == -1)
      return error_set ("disk '%s' does not exist", item);
    if (disks->ptr[k].live)
      return error_set ("disk '%s' holds the running live medium: refusing "
                        "to erase it", item);
    for (i = 0; i < *n; i++)
      if (idx[i] == (size_t) k)
        return error_set ("disk '%s' is named twice in ferry.disks", item);
    if (*n == max)
      return error_set ("too many disks (at most %zu)", max);
    idx[(*n)++] = (size_t) k;
  }
  return *n ? 0 : error_set ("ferry.disks: no disk named");
}

static bool
needs_network (const struct agent_source *src)
{
  return src->share.kind == TK_NFS || src->share.kind == TK_CIFS ||
    src->share.kind == TK_SSH || src->share.kind == TK_HTTP;
}

/* ---- the hook's callbacks ---- */

static void
on_line (void *opaque, const char *msg)
{
  say (opaque, "%s", msg);
}

static void
on_progress (void *opaque, uint64_t done, uint64_t bad, uint64_t total)
{
  struct dep *d = opaque;
  double now = monotonic_seconds ();

  if (!d->copying) {
    d->copying = true;
    d->p.start = d->last = now;
  }
  d->p.done = done;
  d->p.bad = bad;
  d->p.total = total;
  if (now - d->last < 0.5 && done < total)
    return;
  d->last = now;
  if (d->ui && d->ui->progress)
    d->ui->progress (d->ui->opaque, &d->p, 0, 1);
}

/* ---- the run ---- */

static int
steps (struct dep *d, struct json *j)
{
  const char *targets[MAX_TARGETS];
  const char *root = agent_get (d->s, AK_ROOT);
  agent_nic_vector nics = empty_vector;
  size_t i;
  int rc;

  if (agent_get (d->s, AK_SOURCE)[0] == '\0')
    return error_set ("no source given (ferry.source=)");
  if (agent_source_parse (agent_get (d->s, AK_SOURCE), &d->src) == -1 ||
      agent_deploy_targets (d->s, d->disks, d->idx, MAX_TARGETS, &d->n) == -1)
    return -1;
  if (d->o->deploy == NULL)
    return error_set ("this agent cannot deploy");
  for (i = 0; i < d->n; i++) {
    const struct agent_disk *k = &d->disks->ptr[d->idx[i]];
    char size[32];
    format_bytes (size, sizeof size, k->size);
    targets[i] = k->path;
    agent_pathf (d->res->images[i], sizeof d->res->images[i], "%s", k->path);
    say (d, "target %zu: %s (%s%s%s, %s): everything on it will be "
         "erased", i + 1, k->path, k->model[0] ? k->model : "no model",
         k->serial[0] ? ", serial " : "", k->serial, size);
  }
  d->res->n_images = d->n;
  if (needs_network (&d->src) && !d->o->no_network) {
    say (d, "network: %s", agent_get (d->s, AK_IP));
    rc = agent_discover_nics (d->o->env, &nics);
    if (rc == 0)
      rc = agent_network_up (d->s, &nics);
    agent_nic_vector_reset (&nics);
    if (rc == -1)
      return -1;
  }
  say (d, "opening source '%s' (read-only)", agent_get (d->s, AK_SOURCE));
  if (agent_source_open (&d->src, d->o->mount_dir,
                         agent_get (d->s, AK_PASSWORD),
                         agent_get (d->s, AK_SSHKEY)) == -1)
    return -1;
  if (d->src.is_dir) {
    struct agent_source_entry e[8];
    size_t n = agent_source_list (&d->src, e, 8), k;
    struct strbuf sb = STRBUF_INIT;

    for (k = 0; k < n; k++)
      strbuf_addf (&sb, "%s%s", k ? ", " : "", e[k].name);
    error_set ("source '%s' is a directory: name an image or package in it "
               "(%s)", agent_get (d->s, AK_SOURCE),
               sb.len ? sb.buf : "it holds none");
    strbuf_release (&sb);
    return -1;
  }
  say (d, "deploying '%s' onto %zu disk(s)", d->src.path, d->n);
  d->p.name = d->disks->ptr[d->idx[0]].name;
  d->p.start = monotonic_seconds ();
  return d->o->deploy (d->o->deploy_opaque, &(struct agent_deploy_req) {
      .source = d->src.path, .targets = targets, .n_targets = d->n,
      .root = root[0] ? root : NULL,
      .native = strcmp (agent_get (d->s, AK_NATIVE), "1") == 0,
      .grow = strcmp (agent_get (d->s, AK_GROW), "1") == 0, .line = on_line,
      .progress = on_progress, .opaque = d, .report = j });
}

/* ferry-deploy.json and ferry-deploy.log beside the status file. */
static void
write_results (struct dep *d, const char *report_text)
{
  CLEANUP_FREE char *copy = NULL;
  char path[4200];
  const char *dir;

  if (d->o->status_file == NULL || d->o->status_file[0] == '\0' ||
      (copy = xstrdup (d->o->status_file)) == NULL)
    return;
  dir = dirname (copy);
  if (agent_pathf (path, sizeof path, "%s/ferry-deploy.json", dir) == 0 &&
      agent_write_file (path, report_text ? report_text : "") == 0)
    agent_pathf (d->res->report, sizeof d->res->report, "%s", path);
  if (agent_pathf (path, sizeof path, "%s/ferry-deploy.log", dir) == 0)
    agent_write_file (path, d->log.buf ? d->log.buf : "");
  error_clear ();
}

int
agent_deploy (const struct agent_settings *s, const agent_disk_vector *disks,
              const struct agent_run_opts *o, const struct agent_ui *ui,
              struct agent_result *res)
{
  struct dep *d = calloc (1, sizeof *d);
  char *text = NULL, *err = NULL;
  size_t len = 0;
  FILE *fp;
  struct json j;
  int rc;

  memset (res, 0, sizeof *res);
  if (d == NULL)
    return error_set ("out of memory");
  *d = (struct dep) { .s = s, .disks = disks, .o = o, .ui = ui, .res = res,
                      .log = STRBUF_INIT };
  if ((fp = open_memstream (&text, &len)) == NULL) {
    free (d);
    return error_errno ("report");
  }
  json_init (&j, fp);
  json_object_begin (&j);
  json_key_string (&j, "mode", "deploy");
  json_key_string (&j, "source", agent_get (s, AK_SOURCE));
  say (d, "starting: deploy '%s' onto %s", agent_get (s, AK_SOURCE),
       agent_get (s, AK_DISKS));
  rc = steps (d, &j);
  if (rc == -1) {
    err = xstrdup (error_get ());
    json_key_string (&j, "error", err ? err : "failed");
    say (d, "error: %s", err ? err : "failed");
  }
  else
    say (d, "done: '%s' deployed onto %s", agent_get (s, AK_SOURCE),
         agent_get (s, AK_DISKS));
  json_key_bool (&j, "ok", rc == 0);
  json_object_end (&j);
  json_finish (&j);
  fclose (fp);
  agent_source_close (&d->src);
  write_results (d, text);
  agent_write_status (o->status_file, rc == 0 ? 0 : 1,
                      rc == 0 ? "ok" : err ? err : "failed");
  if (err)
    error_set ("%s", err);
  free (err);
  free (text);
  strbuf_release (&d->log);
  free (d);
  res->ok = rc == 0;
  return rc;
}

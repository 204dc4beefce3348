/* agent-tui.c: the agent's ncurses screens — the job (capture or deploy);
 * to capture: disks, target, format, VM, network, confirmation, progress,
 * summary; to deploy: network, source (the images on the share listed),
 * the disks to erase (model, serial, size), a confirmation naming them,
 * progress, summary.  Keyboard only, 80x25, no colour needed: the title
 * line and key bar are A_REVERSE, the cursor A_REVERSE, messages A_BOLD.
 * Fields come from agent_settings_table. */
#include "lib/common/compat.h"

#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2v/agent.h"
#include "lib/common/error.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

/* The form screens share the numbers of enum agent_screen. */
enum { SC_MODE, SC_DISKS, SC_SOURCE, SC_TARGET, SC_FORMAT, SC_VM,
       SC_NETWORK, SC_CONFIRM, SC_PROGRESS, SC_SUMMARY, SC_QUIT };

static const char *const titles[] = {
  "Job", "Disks to capture", "Source", "Target", "Format and conversion",
  "Virtual machine", "Network", "Confirmation", "Capturing", "Summary",
};

/* The screens of each job, in order. */
static const int capture_seq[] = {
  SC_MODE, SC_DISKS, SC_TARGET, SC_FORMAT, SC_VM, SC_NETWORK, SC_CONFIRM,
  SC_PROGRESS, SC_SUMMARY,
};
static const int deploy_seq[] = {
  SC_MODE, SC_NETWORK, SC_SOURCE, SC_DISKS, SC_FORMAT, SC_CONFIRM,
  SC_PROGRESS, SC_SUMMARY,
};

#define MAX_ENTRIES 8

#define MSG_LINE (LINES - 2)           /* 23 on an 80x25 console */
#define KEY_LINE (LINES - 1)
#define MAX_FIELDS 8
#define LOG_LINES 6

struct tui {
  struct agent_settings *s;
  const agent_disk_vector *disks;
  const agent_nic_vector *nics;
  const struct agent_run_opts *o;
  bool *sel;
  int screen, cur;
  char msg[256];
  char log[LOG_LINES][80];
  struct agent_result res;
  bool deploy, net_up;
  /* The source screen: what the last look at the source found. */
  char dir_spec[4200];        /* the spec naming the directory listed */
  struct agent_source_entry entries[MAX_ENTRIES];
  size_t n_entries;
  char checked[4200];         /* the spec last found a readable image */
  char found[128];            /* what it is */
};

static const int *
seq (const struct tui *t, size_t *n)
{
  *n = t->deploy ? sizeof deploy_seq / sizeof deploy_seq[0]
    : sizeof capture_seq / sizeof capture_seq[0];
  return t->deploy ? deploy_seq : capture_seq;
}

/* Position of the current screen in its job's sequence (0-based). */
static size_t
position (const struct tui *t)
{
  size_t n, i;
  const int *q = seq (t, &n);

  for (i = 0; i < n; i++)
    if (q[i] == t->screen)
      return i;
  return 0;
}

/* The next (dir 1) or previous (-1) screen of the job. */
static void
go (struct tui *t, int dir)
{
  size_t n, i = position (t);
  const int *q = seq (t, &n);

  if (dir > 0 && i + 1 < n)
    t->screen = q[i + 1];
  else if (dir < 0 && i > 0)
    t->screen = q[i - 1];
  t->cur = 0;
}

/* Print text from (y, x) within `width` columns, breaking at blanks, on at
 * most `lines` lines.  Returns the next free line. */
static int
wrap (int y, int x, int width, int lines, const char *text)
{
  while (*text && lines-- > 0) {
    int n = (int) strlen (text), cut = n;
    if (n > width) {
      for (cut = width; cut > 0 && text[cut] != ' '; cut--)
        ;
      if (cut == 0)
        cut = width;
    }
    mvprintw (y++, x, "%.*s", cut, text);
    text += cut;
    while (*text == ' ')
      text++;
  }
  return y;
}

static void
title (const struct tui *t)
{
  char line[96];

  size_t n;
  const char *name = titles[t->screen];

  seq (t, &n);
  if (t->deploy && t->screen == SC_DISKS)
    name = "Disks to erase";
  else if (t->deploy && t->screen == SC_FORMAT)
    name = "Deploy options";
  else if (t->deploy && t->screen == SC_PROGRESS)
    name = "Deploying";
  agent_textf (line, sizeof line, " Ferry agent - %s (%zu/%zu)", name,
               position (t) + 1, n);
  attron (A_REVERSE | A_BOLD);
  mvprintw (0, 0, "%-80.80s", line);
  attroff (A_REVERSE | A_BOLD);
}

static void
footer (const struct tui *t, const char *keys)
{
  if (t->msg[0]) {
    attron (A_BOLD);
    wrap (MSG_LINE - 2, 0, 80, 3, t->msg);
    attroff (A_BOLD);
  }
  attron (A_REVERSE);
  mvprintw (KEY_LINE, 0, "%-80.80s", keys);
  attroff (A_REVERSE);
}

static void
set_msg (struct tui *t, const char *fmt, const char *arg)
{
  agent_textf (t->msg, sizeof t->msg, fmt, arg);
}

/* ---- disks ---- */

static void
draw_disks (struct tui *t)
{
  char size[32], used[32];
  size_t i;

  if (t->deploy)
    mvprintw (2, 2, "Choose the disks to ERASE and write, one per disk of "
              "the source, in this order.");
  else
    mvprintw (2, 2, "Choose the disks to capture (Space toggles).  "
              "Sources are only read.");
  for (i = 0; i < t->disks->len && i < 16; i++) {
    const struct agent_disk *d = &t->disks->ptr[i];
    format_bytes (size, sizeof size, d->size);
    format_bytes (used, sizeof used, d->used_bytes);
    if ((int) i == t->cur)
      attron (A_REVERSE);
    if (t->deploy)
      mvprintw (4 + (int) i, 2, "[%c] %-10.10s %10s  %-20.20s %-20.20s %s",
                d->live ? '-' : t->sel[i] ? 'x' : ' ', d->name, size,
                d->model, d->serial, d->live ? "live medium" : "");
    else
      mvprintw (4 + (int) i, 2, "[%c] %-10.10s %10s  used %10s  %-16.16s "
                "%s%s", d->live ? '-' : t->sel[i] ? 'x' : ' ', d->name, size,
                used, d->model, d->boots ? "boots" : "",
                d->live ? "live medium" : "");
    attroff (A_REVERSE);
  }
  if (t->disks->len == 0)
    mvprintw (4, 2, "No disks found.");
}

static int
disks_to_setting (struct tui *t)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;
  int r;

  for (i = 0; i < t->disks->len; i++)
    if (t->sel[i])
      strbuf_addf (&sb, "%s%s", sb.len ? "," : "", t->disks->ptr[i].path);
  if (sb.len == 0) {
    strbuf_release (&sb);
    set_msg (t, "%s", "Choose at least one disk.");
    return -1;
  }
  r = agent_settings_set (t->s, AK_DISKS, sb.buf);
  strbuf_release (&sb);
  if (r == -1)
    set_msg (t, "%s", error_get ());
  return r;
}

static void
key_disks (struct tui *t, int ch)
{
  int n = (int) t->disks->len;

  if ((ch == KEY_DOWN || ch == 'j') && t->cur + 1 < n)
    t->cur++;
  else if ((ch == KEY_UP || ch == 'k') && t->cur > 0)
    t->cur--;
  else if (ch == ' ' && t->cur < n && !t->disks->ptr[t->cur].live)
    t->sel[t->cur] = !t->sel[t->cur];
  else if ((ch == 'n' || ch == '\n') && disks_to_setting (t) == 0)
    go (t, 1);
  else if (ch == 'b')
    go (t, -1);
}

/* ---- forms generated from the settings table ---- */

/* The fields of a form screen for the job.  Deploy shows no target or VM
 * screen: its settings kept there (password, SSH key) are on the source
 * screen; its format screen holds the deploy options (root, native,
 * grow). */
static int
fields (const struct tui *t, int screen, enum agent_key *keys)
{
  unsigned mode = t->deploy ? AM_DEPLOY : AM_CAPTURE;
  int i, n = 0;

  for (i = 0; i < AK_COUNT && n < MAX_FIELDS; i++) {
    const struct agent_setting *st = &agent_settings_table[i];
    int on = (int) st->screen;
    if (!(st->modes & mode))
      continue;
    if (t->deploy && (on == SC_TARGET || on == SC_VM))
      on = SC_SOURCE;
    if (on == screen)
      keys[n++] = st->key;
  }
  return n;
}

#define MAX_CHOICES 6

/* The local partitions the Target field offers (disks not captured). */
static size_t
target_choices (const struct tui *t, struct agent_target_choice *c)
{
  return agent_target_choices (t->disks, t->sel, c, MAX_CHOICES);
}

/* Left/Right on the Target field: the next or previous local partition. */
static void
pick_target (struct tui *t, int dir)
{
  struct agent_target_choice c[MAX_CHOICES];
  size_t n = target_choices (t, c), i, at = n;
  const char *cur = agent_get (t->s, AK_TARGET);

  if (n == 0) {
    set_msg (t, "%s", "No other local disk holds a filesystem: press "
             "Enter and type a network target.");
    return;
  }
  for (i = 0; i < n; i++)
    if (strcmp (c[i].target, cur) == 0)
      at = i;
  if (at == n)
    i = dir > 0 ? 0 : n - 1;
  else
    i = (at + n + (size_t) (dir > 0 ? 1 : n - 1)) % n;
  if (agent_settings_set (t->s, AK_TARGET, c[i].target) == -1)
    set_msg (t, "%s", error_get ());
}

/* ---- the job and the source ---- */

static void
draw_mode (const struct tui *t)
{
  mvprintw (12, 2, "This machine: %zu disk(s), %zu network interface(s).",
            t->disks->len, t->nics->len);
}

/* Set by the job screen when left: deploy starts with no disk chosen
 * (unless ferry.disks named some): every chosen disk will be erased. */
static void
leave_mode (struct tui *t)
{
  size_t i;

  t->deploy = agent_settings_deploy (t->s);
  if (t->deploy && !t->s->given[AK_DISKS])
    for (i = 0; i < t->disks->len; i++)
      t->sel[i] = false;
  go (t, 1);
}

static bool
source_needs_network (const struct agent_source *src)
{
  return src->share.kind == TK_NFS || src->share.kind == TK_CIFS ||
    src->share.kind == TK_SSH || src->share.kind == TK_HTTP;
}

/* What a readable source is: "qcow2 disk, 4.0 GiB". */
static void
describe_source (struct tui *t, const struct agent_source *src)
{
  struct image *img = image_open (src->path, 0);
  char size[32];

  if (img == NULL) {
    agent_textf (t->found, sizeof t->found, "readable");
    error_clear ();
    return;
  }
  format_bytes (size, sizeof size, img->size);
  agent_textf (t->found, sizeof t->found, "%s (%s), %s", src->name,
               image_format (img), size);
  image_close (img);
}

/* Mount the source read-only and look: a readable image, or a directory
 * whose images and packages are listed; unmounted again at once (the run
 * mounts it for itself).  Errors go to the message line. */
static void
look (struct tui *t)
{
  const char *spec = agent_get (t->s, AK_SOURCE);
  struct agent_source *src;
  size_t n = strlen (spec);

  t->n_entries = 0;
  t->checked[0] = t->found[0] = t->dir_spec[0] = '\0';
  if (n == 0) {
    set_msg (t, "%s", "Type the source first (Enter edits).");
    return;
  }
  if ((src = calloc (1, sizeof *src)) == NULL)
    return;
  if (agent_source_parse (spec, src) == -1)
    goto fail;
  if (source_needs_network (src) && !t->o->no_network && !t->net_up) {
    if (agent_network_up (t->s, t->nics) == -1)
      goto fail;
    t->net_up = true;
  }
  if (agent_source_open (src, t->o->mount_dir, agent_get (t->s, AK_PASSWORD),
                         agent_get (t->s, AK_SSHKEY)) == -1)
    goto fail;
  if (src->is_dir) {
    t->n_entries = agent_source_list (src, t->entries, MAX_ENTRIES);
    agent_textf (t->dir_spec, sizeof t->dir_spec, "%s%s", spec,
                 spec[n - 1] == '/' ? "" : "/");
    if (t->n_entries == 0)
      set_msg (t, "%s", "No image or package (img, raw, qcow2, vmdk, vhd, "
               "vhdx, ova, xva) in this directory.");
  }
  else {
    agent_textf (t->checked, sizeof t->checked, "%s", spec);
    describe_source (t, src);
  }
  agent_source_close (src);
  free (src);
  return;
 fail:
  set_msg (t, "%s", error_get ());
  free (src);
}

/* Left/Right on the Source field: the next or previous image listed. */
static void
pick_entry (struct tui *t, int dir)
{
  const char *cur = agent_get (t->s, AK_SOURCE);
  char spec[4600];
  size_t i, at = t->n_entries, n = t->n_entries;

  if (n == 0) {
    set_msg (t, "%s", "Nothing listed: type a share's directory (ending in "
             "/) and press Enter, or l to look again.");
    return;
  }
  for (i = 0; i < n; i++) {
    agent_textf (spec, sizeof spec, "%s%s", t->dir_spec, t->entries[i].name);
    if (strcmp (spec, cur) == 0)
      at = i;
  }
  if (at == n)
    i = dir > 0 ? 0 : n - 1;
  else
    i = (at + n + (size_t) (dir > 0 ? 1 : n - 1)) % n;
  agent_textf (spec, sizeof spec, "%s%s", t->dir_spec, t->entries[i].name);
  if (agent_settings_set (t->s, AK_SOURCE, spec) == -1)
    set_msg (t, "%s", error_get ());
}

static void
leave_source (struct tui *t)
{
  if (strcmp (t->checked, agent_get (t->s, AK_SOURCE)) != 0 ||
      t->checked[0] == '\0') {
    size_t listed;
    look (t);
    listed = t->n_entries;
    if (t->msg[0])
      return;
    if (t->checked[0] == '\0') {
      if (listed)
        set_msg (t, "%s", "Choose an image or package: Left/Right on the "
                 "Source field.");
      return;
    }
  }
  go (t, 1);
}

static void
draw_source (const struct tui *t, int y)
{
  const char *cur = agent_get (t->s, AK_SOURCE);
  char spec[4600];
  size_t k;

  if (t->checked[0] && strcmp (t->checked, cur) == 0)
    mvprintw (y++, 2, "Found: %.70s", t->found);
  if (t->n_entries == 0)
    return;
  mvprintw (y++, 2, "Images and packages here (Left/Right on Source):");
  for (k = 0; k < t->n_entries && y < MSG_LINE - 2; k++) {
    agent_textf (spec, sizeof spec, "%s%s", t->dir_spec, t->entries[k].name);
    mvprintw (y++, 2, "%c %-44.44s %-30.30s", strcmp (spec, cur) == 0 ? '>'
              : ' ', t->entries[k].name, t->entries[k].desc);
  }
}

static void
draw_value (const struct tui *t, enum agent_key k, int y)
{
  const char *v = agent_get (t->s, k);
  char stars[64];
  size_t n = strlen (v);

  if (k == AK_PASSWORD) {
    n = n < sizeof stars - 1 ? n : sizeof stars - 1;
    memset (stars, '*', n);
    stars[n] = '\0';
    v = stars;
  }
  mvprintw (y, 20, "%-58.58s", v);
}

static void
draw_form (struct tui *t)
{
  enum agent_key keys[MAX_FIELDS];
  int i, n = fields (t, t->screen, keys);
  size_t k;

  if (t->screen == SC_MODE)
    draw_mode (t);
  for (i = 0; i < n; i++) {
    const struct agent_setting *st = &agent_settings_table[keys[i]];
    if (i == t->cur)
      attron (A_REVERSE);
    mvprintw (2 + 2 * i, 2, "%-16.16s:", st->label);
    draw_value (t, keys[i], 2 + 2 * i);
    attroff (A_REVERSE);
    if (st->type == AT_CHOICE)
      mvprintw (3 + 2 * i, 20, "(%s: Left/Right)", st->choices);
  }
  wrap (3 + 2 * n, 2, 76, 4,
        agent_settings_table[keys[t->cur < n ? t->cur : 0]].help);
  if (t->screen == SC_TARGET) {
    struct agent_target_choice c[MAX_CHOICES];
    size_t nc = target_choices (t, c);
    const char *cur = agent_get (t->s, AK_TARGET);

    if (nc > 0) {
      mvprintw (3, 20, "(Left/Right: a local partition below)");
      mvprintw (13, 2, "Local partitions (not on the disks being captured):");
    }
    for (k = 0; k < nc; k++)
      mvprintw (14 + (int) k, 2, "%c %-30.30s %-44.44s",
                strcmp (c[k].target, cur) == 0 ? '>' : ' ', c[k].target,
                c[k].desc);
  }
  if (t->screen == SC_SOURCE)
    draw_source (t, 3 + 2 * n + 4);
  if (t->screen == SC_NETWORK)
    for (k = 0; k < t->nics->len && k < 8; k++)
      mvprintw (13 + (int) k, 2, "%-12.12s %-17.17s %-12.12s link %s",
                t->nics->ptr[k].name, t->nics->ptr[k].mac,
                t->nics->ptr[k].driver, t->nics->ptr[k].carrier ? "up" : "down");
}

/* Next or previous choice of a choice field. */
static void
cycle (struct tui *t, enum agent_key k, int dir)
{
  const char *choices = agent_settings_table[k].choices, *cur = agent_get (t->s, k);
  char list[8][32];
  int n = 0, i, at = 0;
  const char *p = choices;

  while (*p && n < 8) {
    size_t len = strcspn (p, "|");
    agent_textf (list[n], sizeof list[n], "%.*s", (int) len, p);
    if (strcmp (list[n], cur) == 0)
      at = n;
    n++;
    p += len + (p[len] == '|');
  }
  i = (at + dir + n) % n;
  agent_settings_set (t->s, k, list[i]);
}

/* Edit a value on its line; Enter accepts, Esc cancels. */
static void
edit (struct tui *t, enum agent_key k, int y)
{
  char buf[256];
  size_t n;
  int ch;

  agent_textf (buf, sizeof buf, "%s", agent_get (t->s, k));
  curs_set (1);
  for (;;) {
    n = strlen (buf);
    attron (A_BOLD);
    mvprintw (y, 20, "%-58.58s", k == AK_PASSWORD ? "" : buf);
    if (k == AK_PASSWORD)
      mvprintw (y, 20, "%.*s", (int) (n < 58 ? n : 58),
                "**********************************************************");
    attroff (A_BOLD);
    move (y, 20 + (int) (n < 58 ? n : 58));
    refresh ();
    ch = getch ();
    if (ch == '\n' || ch == KEY_ENTER || ch == 27 || ch == ERR)
      break;
    if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0)
      buf[n - 1] = '\0';
    else if (ch == 21)                  /* Ctrl-U */
      buf[0] = '\0';
    else if (ch >= 32 && ch < 127 && n + 1 < sizeof buf) {
      buf[n] = (char) ch;
      buf[n + 1] = '\0';
    }
  }
  curs_set (0);
  if (ch != '\n' && ch != KEY_ENTER)
    return;
  if (agent_settings_set (t->s, k, buf) == -1)
    set_msg (t, "%s", error_get ());    /* the old value stays */
  else
    t->msg[0] = '\0';
}

static void
key_form (struct tui *t, int ch)
{
  enum agent_key keys[MAX_FIELDS];
  int n = fields (t, t->screen, keys);
  enum agent_key k = keys[t->cur < n ? t->cur : 0];

  if ((ch == KEY_DOWN || ch == 'j' || ch == '\t') && t->cur + 1 < n)
    t->cur++;
  else if ((ch == KEY_UP || ch == 'k') && t->cur > 0)
    t->cur--;
  else if (agent_settings_table[k].type == AT_CHOICE &&
           (ch == KEY_RIGHT || ch == ' ' || ch == KEY_LEFT))
    cycle (t, k, ch == KEY_LEFT ? -1 : 1);
  else if (k == AK_TARGET && (ch == KEY_RIGHT || ch == KEY_LEFT))
    pick_target (t, ch == KEY_LEFT ? -1 : 1);
  else if (k == AK_SOURCE && (ch == KEY_RIGHT || ch == KEY_LEFT))
    pick_entry (t, ch == KEY_LEFT ? -1 : 1);
  else if ((ch == '\n' || ch == KEY_ENTER) &&
           agent_settings_table[k].type != AT_CHOICE) {
    edit (t, k, 2 + 2 * t->cur);
    if (k == AK_SOURCE && t->msg[0] == '\0')
      look (t);
  }
  else if (ch == 'l' && t->screen == SC_SOURCE)
    look (t);
  else if (ch == 'n' && t->screen == SC_MODE)
    leave_mode (t);
  else if (ch == 'n' && t->screen == SC_SOURCE)
    leave_source (t);
  else if (ch == 'n')
    go (t, 1);
  else if (ch == 'b')
    go (t, -1);
}

/* ---- confirmation ---- */

/* Deploy: name what will be erased, disk by disk. */
static void
draw_confirm_deploy (struct tui *t)
{
  char size[32];
  size_t i;
  int y = 2;

  mvprintw (y++, 2, "Deploy %.68s", agent_get (t->s, AK_SOURCE));
  y++;
  attron (A_BOLD);
  mvprintw (y++, 2, "EVERYTHING on these disks will be ERASED:");
  attroff (A_BOLD);
  for (i = 0; i < t->disks->len && y < 14; i++) {
    const struct agent_disk *d = &t->disks->ptr[i];
    if (!t->sel[i])
      continue;
    format_bytes (size, sizeof size, d->size);
    mvprintw (y++, 4, "%-12.12s %10s  %-24.24s serial %-16.16s", d->name,
              size, d->model[0] ? d->model : "(no model)",
              d->serial[0] ? d->serial : "-");
  }
  y++;
  mvprintw (y++, 2, "%s",
            strcmp (agent_get (t->s, AK_GROW), "1") == 0
            ? "The partitions are fitted to the disks."
            : "The image's layout is kept as it is.");
  mvprintw (y++, 2, "%s  When done: %s.",
            strcmp (agent_get (t->s, AK_NATIVE), "1") == 0
            ? "The system is made to boot on this hardware."
            : "The image is not converted.", agent_get (t->s, AK_POST));
  attron (A_BOLD);
  mvprintw (y + 1, 2, "Press y to erase and deploy, b to go back.");
  attroff (A_BOLD);
}

static void
draw_confirm (struct tui *t)
{
  int i, y = 2;

  if (t->deploy) {
    draw_confirm_deploy (t);
    return;
  }
  mvprintw (y++, 2, "Capture with these settings?  Nothing is written to the "
            "source disks.");
  y++;
  for (i = 0; i < AK_COUNT; i++) {
    const struct agent_setting *st = &agent_settings_table[i];
    if (st->screen == AS_CONFIRM || st->screen == AS_MODE ||
        !(st->modes & AM_CAPTURE))
      continue;
    mvprintw (y++, 4, "%-16.16s %-58.58s", st->label,
              i == AK_PASSWORD && agent_get (t->s, i)[0] ? "(set)"
              : agent_get (t->s, i));
  }
  attron (A_BOLD);
  mvprintw (y + 1, 2, "Press y to start, b to go back.");
  attroff (A_BOLD);
}

/* ---- progress ---- */

static void
draw_log (const struct tui *t)
{
  int i;

  for (i = 0; i < LOG_LINES; i++)
    mvprintw (15 + i, 2, "%-76.76s", t->log[i]);
}

static void
tui_line (void *opaque, const char *msg)
{
  struct tui *t = opaque;

  memmove (t->log[0], t->log[1], sizeof t->log[0] * (LOG_LINES - 1));
  agent_textf (t->log[LOG_LINES - 1], sizeof t->log[0], "%s", msg);
  draw_log (t);
  refresh ();
}

static void
tui_progress (void *opaque, const struct agent_disk_progress *p, size_t idx,
              size_t n)
{
  char done[32], total[32], rate[32], eta[32], bad[32], bar[41];
  double el = monotonic_seconds () - p->start;
  double r = el > 0 ? (double) p->done / el : 0;
  double frac = p->total ? (double) p->done / (double) p->total : 1;
  int y = 3 + 2 * (int) (idx < 5 ? idx : 5);

  (void) opaque;
  memset (bar, '.', 40);
  memset (bar, '#', (size_t) (frac * 40));
  bar[40] = '\0';
  format_bytes (done, sizeof done, p->done);
  format_bytes (total, sizeof total, p->total);
  format_bytes (rate, sizeof rate, (uint64_t) r);
  format_bytes (bad, sizeof bad, p->bad);
  format_duration (eta, sizeof eta, r > 0 && p->total > p->done
                   ? (double) (p->total - p->done) / r : 0);
  mvprintw (y, 2, "disk %zu/%zu %-10.10s [%s] %3.0f%%", idx + 1, n, p->name,
            bar, frac * 100);
  /* Unreadable sectors as the copy engine finds them, not only at the
   * end: a dying disk shows itself while there is time to stop. */
  mvprintw (y + 1, 6, "%s of %s  %s/s  ETA %s  bad sectors: %llu (%s)    ",
            done, total, rate, eta, (unsigned long long) (p->bad / 512), bad);
  refresh ();
}

static void
run_capture (struct tui *t)
{
  struct agent_ui ui = { .line = tui_line, .progress = tui_progress,
                         .opaque = t };
  int ch;

  t->screen = SC_PROGRESS;
  t->msg[0] = '\0';
  memset (t->log, 0, sizeof t->log);
  erase ();
  title (t);
  footer (t, t->deploy ? " Deploying... do not power off: the disks are "
          "being written" : " Capturing... the source disks are only read");
  refresh ();
  if (agent_run (t->s, t->disks, t->o, &ui, &t->res) == -1) {
    set_msg (t, "Failed: %s", error_get ());
    t->screen = SC_CONFIRM;             /* back to the screen */
    return;
  }
  /* Leave the final numbers (unreadable bytes above all) on screen. */
  footer (t, t->deploy ? " Deploy complete: press Enter for the summary"
          : " Capture complete: press Enter for the summary");
  refresh ();
  while ((ch = getch ()) != '\n' && ch != KEY_ENTER && ch != ERR)
    ;
  t->screen = SC_SUMMARY;
}

static void
key_confirm (struct tui *t, int ch)
{
  size_t idx[16], n;

  if (ch == 'b')
    go (t, -1);
  else if (ch == 'y' && t->deploy) {
    if (agent_deploy_targets (t->s, t->disks, idx, 16, &n) == -1)
      set_msg (t, "%s", error_get ());
    else
      run_capture (t);
  }
  else if (ch == 'y') {
    if (agent_validate (t->s, t->disks, t->o->env, t->sel) == -1)
      set_msg (t, "%s", error_get ());
    else
      run_capture (t);
  }
}

/* ---- summary ---- */

static void
draw_summary_deploy (struct tui *t)
{
  size_t i;
  int y = 2;

  mvprintw (y++, 2, "Done.  Deployed");
  mvprintw (y++, 4, "%.74s", agent_get (t->s, AK_SOURCE));
  mvprintw (y++, 2, "onto:");
  for (i = 0; i < t->res.n_images && i < 8; i++)
    mvprintw (y++, 4, "%.74s", t->res.images[i]);
  y++;
  mvprintw (y++, 2, "Report: %.70s", t->res.report);
  mvprintw (y++, 2, "Log:    ferry-deploy.log in the same directory");
  y++;
  mvprintw (y++, 2, "Remove the boot medium and restart: the machine boots "
            "the deployed");
  mvprintw (y++, 2, "system, its partitions fitted to the disk, its "
            "initramfs made for this hardware.");
}

static void
draw_summary (struct tui *t)
{
  const char *name = agent_get (t->s, AK_NAME);
  size_t i;
  int y = 2;

  if (t->deploy) {
    draw_summary_deploy (t);
    return;
  }
  mvprintw (y++, 2, "Done.  The images are in %.50s", t->res.dir);
  for (i = 0; i < t->res.n_images && i < 4; i++)
    mvprintw (y++, 4, "%.74s", t->res.images[i]);
  mvprintw (y++, 2, "Report: %.70s", t->res.report);
  mvprintw (y++, 2, "Log:    ferry-agent.log in the same directory");
  y++;
  mvprintw (y++, 2, "To run it under libvirt/KVM on the host that holds them:");
  mvprintw (y++, 4, "virt-install --import --name %s --vcpus %s --memory %s \\",
            name, agent_get (t->s, AK_CPUS), agent_get (t->s, AK_MEMORY));
  mvprintw (y++, 6, "--disk %s --osinfo detect=on,require=off",
            t->res.n_images ? strrchr (t->res.images[0], '/') + 1 : "");
  if (strcmp (agent_get (t->s, AK_CONVERT), "none") == 0) {
    mvprintw (y++, 2, "Not converted for a hypervisor yet: first");
    mvprintw (y++, 4, "ferry convert IMAGE --to kvm --in-place");
  }
  mvprintw (y++, 2, "Or as a package, to import anywhere:");
  mvprintw (y++, 4, "ferry export IMAGE... -o %s.ova --name %s", name, name);
  mvprintw (y++, 4, "ferry import %s.ova --to libvirt -o DIR", name);
  mvprintw (y++, 4, "virsh define DIR/%s.xml", name);
}

/* ---- the loop ---- */

static void
draw (struct tui *t)
{
  static const char *const keys[] = {
    " Left/Right choose the job  n next  q quit",
    " Up/Down move  Space select  n next  b back  q quit",
    " Up/Down  Enter edit  Left/Right pick an image  l look  n next  b back  q quit",
    " Up/Down move  Enter edit  Left/Right local partition  n next  b back  q quit",
    " Up/Down move  Left/Right choose  n next  b back  q quit",
    " Up/Down move  Enter edit  n next  b back  q quit",
    " Up/Down move  Enter edit  Left/Right choose  n next  b back  q quit",
    " y start  b back  q quit",
    " Working...",
    " q quit",
  };

  erase ();
  title (t);
  if (t->screen == SC_DISKS)
    draw_disks (t);
  else if (t->screen == SC_CONFIRM)
    draw_confirm (t);
  else if (t->screen == SC_SUMMARY)
    draw_summary (t);
  else
    draw_form (t);
  footer (t, keys[t->screen]);
  refresh ();
}

static void
handle_key (struct tui *t, int ch)
{
  if (ch == 'q' || ch == ERR) {         /* ERR: the terminal went away */
    t->screen = SC_QUIT;
    return;
  }
  t->msg[0] = '\0';
  switch (t->screen) {
  case SC_DISKS:
    key_disks (t, ch);
    break;
  case SC_CONFIRM:
    key_confirm (t, ch);
    break;
  case SC_SUMMARY: break;
  default:
    key_form (t, ch);
    break;
  }
  if (t->screen == SC_MODE)
    t->deploy = agent_settings_deploy (t->s);
}

int
agent_tui (struct agent_settings *s, const agent_disk_vector *disks,
           const agent_nic_vector *nics, const struct agent_run_opts *o,
           const char *msg)
{
  struct tui t = { .s = s, .disks = disks, .nics = nics, .o = o,
                   .deploy = agent_settings_deploy (s) };
  SCREEN *scr;

  if (!isatty (STDIN_FILENO) || !isatty (STDOUT_FILENO))
    return error_set ("the TUI needs a terminal (an unattended run needs "
                      "ferry.target= and ferry.yes)");
  if ((t.sel = calloc (disks->len + 1, sizeof *t.sel)) == NULL)
    return error_set ("out of memory");
  if (agent_select_disks (disks, agent_get (s, AK_DISKS), t.sel) == -1)
    set_msg (&t, "%s", error_get ());
  if (msg)
    set_msg (&t, "%s", msg);
  if ((scr = newterm (NULL, stdout, stdin)) == NULL) {
    free (t.sel);
    return error_set ("cannot use the terminal (TERM=%s)",
                      getenv ("TERM") ? getenv ("TERM") : "");
  }
  cbreak ();
  noecho ();
  keypad (stdscr, TRUE);
  set_escdelay (50);
  curs_set (0);
  while (t.screen != SC_QUIT) {
    draw (&t);
    handle_key (&t, getch ());
  }
  endwin ();
  delscreen (scr);
  free (t.sel);
  return 0;
}

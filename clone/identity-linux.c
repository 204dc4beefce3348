/* identity-linux.c: one Linux clone's identity, its filesystems mounted:
 * hostname, network (pins, names, addresses), SSH host keys, leases,
 * cloud-init and seeds cleared, machine-id last (see identity.h). */
#include "lib/common/compat.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone/identity-int.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "lib/common/strv.h"
#include "lib/guest/guest-edit.h"
#include "lib/guest/linux-net.h"
#include "lib/guest/linux-text.h"
#include "lib/guest/session.h"

#define CH(j) (&(j)->res->changes)

/* A new host key file is smaller than this (RSA 16384: about 13 KiB). */
#define CLONE_ID_KEY_MAX (64 * 1024)

/* 1: a regular file (not a symlink) small enough to read, its size in
 * *size; 0: absent or not a regular file; -1: too big (a hostile guest).
 * One lstat: under TCG every appliance round trip counts. */
static int
small_file_size (guestfs_h *g, const char *path, int64_t *size)
{
  struct guestfs_statns *st = guestfs_lstatns (g, path);
  int r = 1;

  if (st == NULL) {
    error_clear ();
    return 0;
  }
  *size = st->st_size;
  if (!S_ISREG (st->st_mode))
    r = 0;
  else if (st->st_size > (int64_t) CLONE_ID_MAX_FILE)
    r = error_set ("'%s': %lld bytes: more than Ferry reads of a guest file",
                   path, (long long) st->st_size);
  guestfs_free_statns (st);
  return r;
}

static int
small_file (guestfs_h *g, const char *path)
{
  int64_t size;

  return small_file_size (g, path, &size);
}

/* A small regular file's text, or NULL: *absent when there is none (read
 * in one call: guest_read_file). */
static char *
read_small (guestfs_h *g, const char *path, bool *absent)
{
  int64_t size = 0;
  size_t got = 0;
  char *t;
  int r = small_file_size (g, path, &size);

  *absent = r == 0;
  if (r <= 0)
    return NULL;
  if (size == 0)
    return xstrdup ("");
  if ((t = guest_read_file (g, path, &got)) == NULL)
    guest_error (g, path);
  return t;
}

/* guest_edit_file's edit, read as read_small reads. */
static int
edit (struct clone_id_job *j, const char *path, guest_text_fn fn, void *ctx,
      const char *what, const char *detail)
{
  bool absent;
  char *text = read_small (j->g, path, &absent), *out;
  int changed = 0, r = 0;

  if (text == NULL)
    return absent ? 0 : -1;
  out = fn (text, ctx, &changed);
  free (text);
  if (out == NULL)
    return error_prefix ("%s: ", path);
  if (changed > 0) {
    if (guestfs_write (j->g, path, out, strlen (out)) == -1)
      r = guest_error (j->g, path);
    else
      r = guest_changes_add (CH (j), what, path, "%s", detail);
  }
  free (out);
  return r;
}

/* Write a whole file, owned by root, replacing a symlink in the way. */
static int
put_file (guestfs_h *g, const char *path, const char *text, int mode)
{
  char *dir = strndup (path, (size_t) (strrchr (path, '/') - path));
  int r = dir && *dir ? guestfs_mkdir_p (g, dir) : 0;

  free (dir);
  if (r == -1 || (guestfs_is_symlink (g, path) > 0 &&
                  guestfs_rm (g, path) == -1))
    return guest_error (g, path);
  if (guestfs_write (g, path, text, strlen (text)) == -1 ||
      guestfs_chown (g, 0, 0, path) == -1 ||
      guestfs_chmod (g, mode, path) == -1)
    return guest_error (g, path);
  return 0;
}

/* Remove what a glob names (directories with their contents). */
static int
rm_glob (struct clone_id_job *j, const char *pattern, const char *detail)
{
  char **files = guestfs_glob_expand (j->g, pattern);
  size_t i;
  int r = 0;

  if (files == NULL)
    return guest_error (j->g, pattern);
  for (i = 0; files[i] && r == 0; i++) {
    size_t len = strlen (files[i]);
    /* glob marks directories with a '/': a symlink to one must go, not
     * what it points to. */
    if (len > 1 && files[i][len - 1] == '/')
      files[i][len - 1] = '\0';
    if (guestfs_rm_rf (j->g, files[i]) == -1)
      r = guest_error (j->g, files[i]);
    else
      r = guest_changes_add (CH (j), "identity", files[i], "%s", detail);
  }
  strv_free (files);
  return r;
}

/* ---- hostname ---- */

struct host_ctx {
  const char *old, *host;
};

static char *
t_hosts (const char *text, void *ctx, int *changed)
{
  struct host_ctx *c = ctx;

  return clone_id_hosts (text, c->old, c->host, changed);
}

static char *
t_machine_info (const char *text, void *ctx, int *changed)
{
  struct host_ctx *c = ctx;

  return clone_id_machine_info (text, c->old, c->host, changed);
}

/* HOSTNAME= of /etc/sysconfig/network, only where it is set already. */
static char *
t_sysconfig (const char *text, void *ctx, int *changed)
{
  struct host_ctx *c = ctx;

  if (strncmp (text, "HOSTNAME=", 9) != 0 && !strstr (text, "\nHOSTNAME="))
    return xstrdup (text);
  return ltext_kv_set (text, "HOSTNAME", c->host, changed);
}

static char *
old_hostname (struct clone_id_job *j)
{
  bool absent;
  char *t = read_small (j->g, "/etc/hostname", &absent), *name = NULL;

  if (t != NULL) {
    t[strcspn (t, "\n")] = '\0';
    name = xstrdup (str_trim (t));
    free (t);
  }
  if ((name == NULL || *name == '\0') &&
      strcmp (j->root->hostname, "unknown") != 0) {
    free (name);
    name = xstrdup (j->root->hostname);
  }
  error_clear ();
  return name;
}

static int
set_hostname (struct clone_id_job *j)
{
  struct host_ctx c = { .host = j->spec->hostname ? j->spec->hostname
                                                  : j->spec->name };
  char *line = xasprintf ("%s\n", c.host), *old = old_hostname (j);
  int r = line ? 0 : -1;

  c.old = old;
  if (r == 0)
    r = put_file (j->g, "/etc/hostname", line, 0644);
  if (r == 0)
    r = guest_changes_add (CH (j), "hostname", "/etc/hostname", "%s (was %s)",
                           c.host, old && *old ? old : "unset");
  if (r == 0)
    r = edit (j, "/etc/hosts", t_hosts, &c, "hostname",
              "the old hostname's names replaced");
  if (r == 0 && small_file (j->g, "/etc/HOSTNAME") == 1) {
    r = put_file (j->g, "/etc/HOSTNAME", line, 0644);
    if (r == 0)
      r = guest_changes_add (CH (j), "hostname", "/etc/HOSTNAME", "%s",
                             c.host);
  }
  if (r == 0)
    r = edit (j, "/etc/sysconfig/network", t_sysconfig, &c, "hostname",
              "HOSTNAME= set");
  if (r == 0)
    r = edit (j, "/etc/machine-info", t_machine_info, &c, "hostname",
              "PRETTY_HOSTNAME was the old hostname: set to the new one");
  free (line);
  free (old);
  return r;
}

/* ---- network ---- */

enum netsys { NS_NONE, NS_NETPLAN, NS_NM, NS_IFCFG, NS_IFUPDOWN, NS_NETWORKD };

static const char *const netsys_name[] = {
  "none", "netplan", "NetworkManager", "ifcfg", "ifupdown",
  "systemd-networkd",
};

struct net {
  struct clone_id_job *j;
  struct lnet_macmap map;
  uint8_t macs[CLONE_MAX_NICS][6];
  char mac_s[CLONE_MAX_NICS][18];
  char *names[CLONE_MAX_NICS];
  size_t n;
  strv_vector known;          /* interface names the golden expects */
  strv_vector nm_old, nm_new; /* NetworkManager connection UUIDs */
  strv_vector cfg_old, cfg_new;   /* ifcfg UUID= */
  bool udev;
  enum netsys sys;
};

static const struct {
  const char *glob;
  enum lnet_format fmt;
} net_files[] = {
  { "/etc/netplan/*.yaml", LNET_NETPLAN },
  { "/etc/systemd/network/*.network", LNET_NETWORKD },
  { "/etc/systemd/network/*.link", LNET_NETWORKD },
  { "/etc/NetworkManager/system-connections/*", LNET_NMKEYFILE },
  { "/etc/sysconfig/network-scripts/ifcfg-*", LNET_IFCFG },
  { "/etc/sysconfig/network/ifcfg-*", LNET_IFCFG },
};
#define N_NET_FILES (sizeof net_files / sizeof net_files[0])

/* Call fn on the text of every file a glob names. */
typedef int (*file_fn) (struct net *nt, size_t k, const char *path,
                        const char *text);

static int
each_file (struct net *nt, size_t k, const char *pattern, file_fn fn)
{
  char **files = guestfs_glob_expand (nt->j->g, pattern);
  size_t i;
  bool absent;
  char *t;
  int r = 0;

  if (files == NULL)
    return guest_error (nt->j->g, pattern);
  for (i = 0; files[i] && r == 0; i++) {
    t = read_small (nt->j->g, files[i], &absent);
    if (t == NULL && !absent)
      r = -1;
    else if (t != NULL)
      r = fn (nt, k, files[i], t);
    free (t);
  }
  strv_free (files);
  return r;
}

static int
learn_file (struct net *nt, size_t k, const char *path, const char *text)
{
  enum lnet_format fmt = net_files[k].fmt;

  (void) path;
  if (lnet_names_add (text, fmt, &nt->known) == -1)
    return -1;
  if (fmt == LNET_NMKEYFILE)
    return lnet_values_of (text, "uuid", &nt->nm_old);
  if (fmt == LNET_IFCFG)
    return lnet_values_of (text, "UUID", &nt->cfg_old);
  return 0;
}

static int
new_uuids (const strv_vector *old, strv_vector *out)
{
  uint8_t u[16];
  char s[37], *d;
  size_t i;

  for (i = 0; i < old->len; i++) {
    if (ids_uuid_generate (u) == -1)
      return -1;
    ids_uuid_format (u, s);
    if ((d = xstrdup (s)) == NULL || strv_vector_append (out, d) == -1) {
      free (d);
      return -1;
    }
  }
  return 0;
}

/* What the golden's files say, before anything is edited. */
static int
learn (struct net *nt)
{
  size_t k;
  bool absent;
  char *t;
  int r = 0;

  for (k = 0; k < N_NET_FILES && r == 0; k++)
    r = each_file (nt, k, net_files[k].glob, learn_file);
  t = read_small (nt->j->g, "/etc/network/interfaces", &absent);
  if (r == 0 && t == NULL && !absent)
    r = -1;
  if (r == 0 && t)
    r = lnet_names_add (t, LNET_IFUPDOWN, &nt->known);
  free (t);
  if (r == 0)
    r = new_uuids (&nt->nm_old, &nt->nm_new);
  if (r == 0)
    r = new_uuids (&nt->cfg_old, &nt->cfg_new);
  return r;
}

struct pin_ctx {
  enum lnet_format fmt;
  struct net *nt;
};

static char *
t_pins (const char *text, void *ctx, int *changed)
{
  struct pin_ctx *c = ctx;

  return lnet_pins_rewrite (text, c->fmt, &c->nt->map, changed);
}

static char *
t_uuids (const char *text, void *ctx, int *changed)
{
  static const char *const nm_keys[] = { "uuid", "master", "controller",
                                         "parent", NULL };
  static const char *const cfg_keys[] = { "UUID", "MASTER", NULL };
  struct pin_ctx *c = ctx;

  if (c->fmt == LNET_NMKEYFILE)
    return lnet_values_replace (text, nm_keys, &c->nt->nm_old,
                                &c->nt->nm_new, changed);
  return lnet_values_replace (text, cfg_keys, &c->nt->cfg_old,
                              &c->nt->cfg_new, changed);
}

static int
rewrite_file (struct net *nt, size_t k, const char *path, const char *text)
{
  struct pin_ctx c = { .fmt = net_files[k].fmt, .nt = nt };
  int r;

  (void) text;
  r = edit (nt->j, path, t_pins, &c, "network",
            "MAC pins rewritten to this clone's MACs");
  if (r == 0 && (c.fmt == LNET_NMKEYFILE || c.fmt == LNET_IFCFG))
    r = edit (nt->j, path, t_uuids, &c, "network",
              "connection UUIDs renewed");
  return r;
}

static bool
any_glob (guestfs_h *g, const char *pattern)
{
  char **f = guestfs_glob_expand (g, pattern);
  bool r = f && f[0];

  strv_free (f);
  return r;
}

/* The guest's own network system, by what is configured and enabled. */
static enum netsys
detect (struct net *nt, bool ifupdown_ifaces)
{
  guestfs_h *g = nt->j->g;
  bool nm_on = any_glob (g, "/etc/systemd/system/*.wants/"
                         "NetworkManager.service");
  bool nd_on = any_glob (g, "/etc/systemd/system/*.wants/"
                         "systemd-networkd.service");

  if (any_glob (g, "/etc/netplan/*.yaml"))
    return NS_NETPLAN;
  if (any_glob (g, "/etc/NetworkManager/system-connections/*"))
    return NS_NM;
  if (nt->cfg_old.len || any_glob (g, "/etc/sysconfig/network-scripts/"
                                   "ifcfg-e*"))
    return NS_IFCFG;
  if (ifupdown_ifaces)
    return NS_IFUPDOWN;
  if (nd_on || any_glob (g, "/etc/systemd/network/*.network"))
    return NS_NETWORKD;
  if (nm_on)
    return NS_NM;
  return NS_NONE;
}

static int
has_ifupdown_ifaces (struct net *nt, bool *yes)
{
  strv_vector v = empty_vector;
  bool absent;
  char *t = read_small (nt->j->g, "/etc/network/interfaces", &absent);
  int r = 0;

  *yes = false;
  if (t == NULL)
    return absent ? 0 : -1;
  r = lnet_names_add (t, LNET_IFUPDOWN, &v);
  *yes = v.len > 0 && guestfs_is_file (nt->j->g, "/sbin/ifup") > 0;
  strv_vector_free (&v);
  free (t);
  return r;
}

static int
name_nics (struct net *nt)
{
  size_t i;

  for (i = 0; i < nt->n; i++) {
    if (i < nt->known.len)
      nt->names[i] = xstrdup (nt->known.ptr[i]);
    else if (nt->udev)
      nt->names[i] = xasprintf ("enx%02x%02x%02x%02x%02x%02x", nt->macs[i][0],
                                nt->macs[i][1], nt->macs[i][2], nt->macs[i][3],
                                nt->macs[i][4], nt->macs[i][5]);
    else
      nt->names[i] = xasprintf ("eth%zu", i);
    if (nt->names[i] == NULL)
      return -1;
  }
  return 0;
}

static int
write_links (struct net *nt)
{
  struct lnet_nic nic = { 0 };
  char path[80], *body;
  size_t i;
  int r = 0;

  if (!nt->udev)
    return 0;
  if (guestfs_mkdir_p (nt->j->g, "/etc/systemd/network") == -1)
    return guest_error (nt->j->g, "/etc/systemd/network");
  for (i = 0; i < nt->n && r == 0; i++) {
    nic.mac = nt->mac_s[i];
    nic.name = nt->names[i];
    snprintf (path, sizeof path, "/etc/systemd/network/00-ferry-nic%zu.link",
              i + 1);
    if ((body = lnet_link_nic (&nic)) == NULL)
      return -1;
    r = put_file (nt->j->g, path, body, 0644);
    free (body);
    if (r == 0)
      r = guest_changes_add (CH (nt->j), "network", path, "NIC %zu (%s) is "
                             "named %s by its MAC", i + 1, nt->mac_s[i],
                             nt->names[i]);
  }
  return r;
}

static int
put_new (struct net *nt, const char *path, char *body, int mode,
         const struct lnet_nic *nic, size_t i)
{
  int r;

  if (body == NULL)
    return -1;
  r = put_file (nt->j->g, path, body, mode);
  free (body);
  if (r == 0)
    r = guest_changes_add (CH (nt->j), "network", path, "NIC %zu (%s, %s): "
                           "%s%s%s%s%s (%s)", i + 1, nic->mac, nic->name,
                           nic->ip ? nic->ip : "DHCP",
                           nic->gateway ? " via " : "",
                           nic->gateway ? nic->gateway : "",
                           nic->dns ? " dns " : "", nic->dns ? nic->dns : "",
                           netsys_name[nt->sys]);
  return r;
}

static char *
t_ifupdown (const char *text, void *ctx, int *changed)
{
  return lnet_ifupdown_nic (text, ctx, changed);
}

static char *
t_ifcfg (const char *text, void *ctx, int *changed)
{
  return lnet_ifcfg_nic (text, ctx, changed);
}

/* The ifcfg file for a NIC: the golden's naming its (rewritten) MAC or
 * its name, else a new ifcfg-NAME. */
static char *
ifcfg_path (struct net *nt, const struct lnet_nic *nic)
{
  char **files = guestfs_glob_expand (nt->j->g,
                                      "/etc/sysconfig/network-scripts/ifcfg-*");
  char *found = NULL, *t;
  bool absent;
  size_t i;

  for (i = 0; files && files[i] && !found; i++) {
    t = read_small (nt->j->g, files[i], &absent);
    if (t && (strcasestr (t, nic->mac) ||
              (nic->name && str_has_suffix (files[i], nic->name) &&
               files[i][strlen (files[i]) - strlen (nic->name) - 1] == '-')))
      found = xstrdup (files[i]);
    free (t);
  }
  strv_free (files);
  error_clear ();
  return found ? found : xasprintf ("/etc/sysconfig/network-scripts/ifcfg-%s",
                                    nic->name);
}

static int
write_ifcfg (struct net *nt, const struct lnet_nic *nic, size_t i)
{
  char *path = ifcfg_path (nt, nic), *body;
  int r, changed = 0;

  if (path == NULL)
    return -1;
  if (guestfs_is_file (nt->j->g, path) > 0)
    r = edit (nt->j, path, t_ifcfg, (void *) nic, "network",
              nic->ip ? "static address set" : "DHCP for a new NIC");
  else {
    body = lnet_ifcfg_nic ("", nic, &changed);
    r = guestfs_mkdir_p (nt->j->g, "/etc/sysconfig/network-scripts") == -1
      ? guest_error (nt->j->g, "ifcfg") : put_new (nt, path, body, 0644, nic, i);
  }
  free (path);
  return r;
}

static int
write_nic (struct net *nt, size_t i)
{
  const struct clone_nic *cn = &nt->j->spec->nics[i];
  struct lnet_nic nic = { nt->mac_s[i], nt->names[i], cn->ip, cn->gateway,
                          cn->dns };
  char path[96], id[40], us[37];
  uint8_t u[16];

  snprintf (id, sizeof id, "ferry-nic%zu", i + 1);
  switch (nt->sys) {
  case NS_NETWORKD:
    snprintf (path, sizeof path, "/etc/systemd/network/00-%s.network", id);
    return put_new (nt, path, lnet_networkd_nic (&nic), 0644, &nic, i);
  case NS_NETPLAN:
    snprintf (path, sizeof path, "/etc/netplan/90-%s.yaml", id);
    snprintf (id, sizeof id, "00-ferry-nic%zu", i + 1);
    return put_new (nt, path, lnet_netplan_nic (&nic, id), 0600, &nic, i);
  case NS_NM:
    if (ids_uuid_generate (u) == -1)
      return -1;
    ids_uuid_format (u, us);
    snprintf (path, sizeof path, "/etc/NetworkManager/system-connections/"
              "%s.nmconnection", id);
    if (guestfs_mkdir_p (nt->j->g, "/etc/NetworkManager/system-connections")
        == -1)
      return guest_error (nt->j->g, path);
    return put_new (nt, path, lnet_nmkeyfile_nic (&nic, id, us), 0600, &nic,
                    i);
  case NS_IFCFG:
    return write_ifcfg (nt, &nic, i);
  case NS_IFUPDOWN:
    return edit (nt->j, "/etc/network/interfaces", t_ifupdown, &nic,
                 "network", nic.ip ? "static stanza written"
                 : "DHCP stanza for a new NIC");
  case NS_NONE:
    break;
  }
  return guest_changes_add (CH (nt->j), "network", "", "NIC %zu (%s): no "
                            "network system found in the guest: %s not "
                            "configured", i + 1, nic.mac,
                            nic.ip ? nic.ip : "DHCP");
}

static int
write_addresses (struct net *nt)
{
  size_t golden = nt->j->opts && nt->j->opts->n_golden_macs
    ? nt->j->opts->n_golden_macs : 1, i;
  bool ifupdown;
  int r = has_ifupdown_ifaces (nt, &ifupdown);

  if (r == 0)
    nt->sys = detect (nt, ifupdown);
  for (i = 0; i < nt->n && r == 0; i++)
    if (nt->j->spec->nics[i].ip || i >= golden)
      r = write_nic (nt, i);
  return r;
}

static int
remove_net_state (struct clone_id_job *j)
{
  static const struct {
    const char *glob, *detail;
  } state[] = {
    { "/etc/udev/rules.d/70-persistent-net.rules",
      "removed (NIC names pinned to the golden's MACs)" },
    { "/var/lib/dhcp/*", "DHCP lease removed" },
    { "/var/lib/dhclient/*", "DHCP lease removed" },
    { "/var/lib/NetworkManager/*.lease", "DHCP lease removed" },
    { "/var/lib/NetworkManager/secret_key", "NetworkManager's secret key "
      "removed (stable IPv6 addresses and MACs derive from it)" },
    { "/var/lib/systemd/network/*", "networkd state removed" },
    { "/run/systemd/netif/leases/*", "networkd lease removed" },
  };
  size_t i;
  int r = 0;

  for (i = 0; i < sizeof state / sizeof state[0] && r == 0; i++)
    r = rm_glob (j, state[i].glob, state[i].detail);
  return r;
}

static void
net_free (struct net *nt)
{
  size_t i;

  for (i = 0; i < CLONE_MAX_NICS; i++)
    free (nt->names[i]);
  strv_vector_free (&nt->known);
  strv_vector_free (&nt->nm_old);
  strv_vector_free (&nt->nm_new);
  strv_vector_free (&nt->cfg_old);
  strv_vector_free (&nt->cfg_new);
}

static int
set_network (struct clone_id_job *j)
{
  struct net nt = { .j = j };
  size_t i, k;
  int r;

  nt.n = j->spec->n_nics < CLONE_MAX_NICS ? j->spec->n_nics : CLONE_MAX_NICS;
  for (i = 0; i < nt.n; i++) {
    memcpy (nt.macs[i], j->spec->nics[i].mac, 6);
    ids_mac_format (nt.macs[i], nt.mac_s[i]);
  }
  nt.map.golden = j->opts ? j->opts->golden_macs : NULL;
  nt.map.n_golden = j->opts && j->opts->golden_macs ? j->opts->n_golden_macs
                                                    : 0;
  nt.map.clone = (const uint8_t (*)[6]) nt.macs;
  nt.map.n_clone = nt.n;
  nt.udev = guestfs_exists (j->g, "/lib/systemd/systemd-udevd") > 0 ||
    guestfs_exists (j->g, "/usr/lib/systemd/systemd-udevd") > 0;
  r = learn (&nt);
  if (r == 0)
    r = remove_net_state (j);
  for (k = 0; k < N_NET_FILES && r == 0; k++)
    r = each_file (&nt, k, net_files[k].glob, rewrite_file);
  if (r == 0 && nt.map.unmapped)
    r = guest_changes_add (CH (j), "network", "", "%zu MAC pin(s) name a "
                           "MAC no NIC of this clone could take: left as "
                           "they were", nt.map.unmapped);
  if (r == 0)
    r = name_nics (&nt);
  if (r == 0)
    r = write_links (&nt);
  if (r == 0)
    r = write_addresses (&nt);
  net_free (&nt);
  return r;
}

/* ---- SSH host keys ---- */

int
clone_id_run (char *const argv[], char *out, size_t outsz)
{
  int pfd[2], status, fd;
  pid_t pid;
  ssize_t got = 0, n;
  char sink[256];

  if (pipe (pfd) == -1)
    return error_errno ("%s", argv[0]);
  if ((pid = fork ()) == -1) {
    close (pfd[0]);
    close (pfd[1]);
    return error_errno ("%s", argv[0]);
  }
  if (pid == 0) {
    fd = open ("/dev/null", O_RDWR);
    dup2 (fd, 0);
    dup2 (pfd[1], 1);
    dup2 (fd, 2);
    execvp (argv[0], argv);
    _exit (127);
  }
  close (pfd[1]);
  while (out && (size_t) got < outsz - 1 &&
         (n = read (pfd[0], out + got, outsz - 1 - (size_t) got)) > 0)
    got += n;
  while (read (pfd[0], sink, sizeof sink) > 0)
    ;
  close (pfd[0]);
  if (out)
    out[got] = '\0';
  if (waitpid (pid, &status, 0) == -1)
    return error_errno ("%s", argv[0]);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
    return error_set ("%s: not found on this host", argv[0]);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return error_set ("%s %s failed (status %d)", argv[0], argv[1], status);
  return 0;
}

/* A host key file's bytes (a few KiB at most). */
static char *
slurp (const char *local, size_t *len)
{
  char *buf = malloc (CLONE_ID_KEY_MAX);
  int fd = open (local, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n = -1;

  if (buf && fd >= 0)
    n = read (fd, buf, CLONE_ID_KEY_MAX);
  if (fd >= 0)
    close (fd);
  if (n < 0 || n == CLONE_ID_KEY_MAX) {
    free (buf);
    error_set ("'%s': cannot read the new key", local);
    return NULL;
  }
  *len = (size_t) n;
  return buf;
}

/* The guest's `path` becomes the host file `local`, owner root, the
 * group the golden's file had, `mode`; a symlink in the way is replaced.
 * Written with one guestfs_write (an upload costs ten times more under
 * TCG). */
static int
upload (guestfs_h *g, const char *local, const char *path, int mode)
{
  struct guestfs_statns *st = guestfs_lstatns (g, path);
  int64_t gid = st ? st->st_gid : 0;
  bool link = st && S_ISLNK (st->st_mode);
  size_t len = 0;
  char *data;
  int r = 0;

  if (st == NULL)
    error_clear ();
  guestfs_free_statns (st);
  if ((data = slurp (local, &len)) == NULL)
    return -1;
  if ((link && guestfs_rm (g, path) == -1) ||
      guestfs_write (g, path, data, len) == -1 ||
      guestfs_chown (g, 0, (int) gid, path) == -1 ||
      guestfs_chmod (g, mode, path) == -1)
    r = guest_error (g, path);
  free (data);
  return r;
}

/* A new key of `type` into `key` (and key.pub): made ahead when the
 * workers had this clone's keys ready, else here. */
static int
make_key (struct clone_id_job *j, const char *type, char *key, size_t keysz)
{
  char comment[300];

  if (clone_keygen_ready (j->keys, j->index, type)) {
    clone_keygen_path (j->tmpdir, j->index, type, key, keysz);
    if (access (key, R_OK) == 0)
      return 0;
  }
  snprintf (key, keysz, "%s/ssh_host_%s_key", j->tmpdir, type);
  snprintf (comment, sizeof comment, "root@%s", j->spec->hostname
            ? j->spec->hostname : j->spec->name);
  unlink (key);
  {
    char pub[140];
    char *gen[] = { "ssh-keygen", "-q", "-t", (char *) type, "-N", "", "-C",
                    comment, "-f", key, NULL };
    snprintf (pub, sizeof pub, "%s.pub", key);
    unlink (pub);
    return clone_id_run (gen, NULL, 0);
  }
}

/* A new key of `type` for guest file `path` (and path.pub). */
static int
new_host_key (struct clone_id_job *j, const char *type, const char *path,
              strv_vector *fps)
{
  char key[128], pub[140], line[512], *gpub = NULL, *fp = NULL;
  int r = make_key (j, type, key, sizeof key);

  snprintf (pub, sizeof pub, "%s.pub", key);
  if (r == 0) {
    char *list[] = { "ssh-keygen", "-l", "-f", pub, NULL };
    r = clone_id_run (list, line, sizeof line);
  }
  if (r == 0 && (gpub = xasprintf ("%s.pub", path)) == NULL)
    r = -1;
  if (r == 0 && (fp = clone_id_fingerprint (line, gpub)) == NULL)
    r = -1;
  if (r == 0)
    r = upload (j->g, key, path, 0600);
  if (r == 0)
    r = upload (j->g, pub, gpub, 0644);
  if (r == 0 && strv_vector_append (fps, fp) == 0) {
    r = guest_changes_add (CH (j), "ssh", path, "new %s host key: %.*s",
                           type, (int) strcspn (strchr (fp, ' ') + 1, " "),
                           strchr (fp, ' ') + 1);
    fp = NULL;
  }
  unlink (key);
  unlink (pub);
  free (gpub);
  free (fp);
  return r;
}

/* "/etc/ssh/ssh_host_ed25519_key" -> "ed25519", or NULL. */
static char *
key_type (const char *path)
{
  static const char *const known[] = { "rsa", "ecdsa", "ed25519", "dsa",
                                       NULL };
  const char *b = strrchr (path, '/');
  size_t i, n;

  b = b ? b + 1 : path;
  if (!str_has_prefix (b, "ssh_host_") || !str_has_suffix (b, "_key"))
    return NULL;
  b += 9;
  n = strlen (b) - 4;
  for (i = 0; known[i]; i++)
    if (strlen (known[i]) == n && strncmp (b, known[i], n) == 0)
      return xstrdup (known[i]);
  return NULL;
}

static int
host_key (struct clone_id_job *j, const char *path, strv_vector *fps)
{
  char *type = key_type (path);
  int r;

  if (type == NULL || guestfs_is_file (j->g, path) <= 0) {
    free (type);
    return 0;
  }
  r = new_host_key (j, type, path, fps);
  if (r == -1 && strcmp (type, "dsa") == 0) {
    /* OpenSSH >= 9.8 cannot make DSA keys: a shared key must not stay. */
    error_clear ();
    r = rm_glob (j, path, "the golden's DSA host key removed (this host "
                 "cannot make DSA keys; sshd uses the others)");
    if (r == 0) {
      char *pub = xasprintf ("%s.pub", path);
      r = pub ? rm_glob (j, pub, "the golden's DSA host key removed") : -1;
      free (pub);
    }
  }
  free (type);
  return r;
}

static int
set_ssh_keys (struct clone_id_job *j)
{
  char **keys = guestfs_glob_expand (j->g, "/etc/ssh/ssh_host_*_key");
  strv_vector fps = empty_vector;
  size_t i;
  int r = 0;

  if (keys == NULL)
    return guest_error (j->g, "/etc/ssh");
  for (i = 0; keys[i] && r == 0; i++)
    r = host_key (j, keys[i], &fps);
  strv_free (keys);
  if (r == 0 && fps.len && strv_vector_append (&fps, NULL) == 0) {
    j->res->ssh_host_keys = fps.ptr;
    return 0;
  }
  strv_vector_free (&fps);
  return r;
}

/* ---- the rest, and machine-id last ---- */

static int
clear_state (struct clone_id_job *j)
{
  static const struct {
    const char *glob, *detail;
  } state[] = {
    { "/var/lib/cloud/instance", "cloud-init instance state removed" },
    { "/var/lib/cloud/instances/*", "cloud-init instance state removed" },
    { "/var/lib/cloud/data", "cloud-init instance state removed" },
    { "/var/lib/systemd/random-seed", "random seed removed" },
    { "/var/lib/urandom/random-seed", "random seed removed" },
  };
  size_t i;
  int r = 0;

  for (i = 0; i < sizeof state / sizeof state[0] && r == 0; i++)
    r = rm_glob (j, state[i].glob, state[i].detail);
  return r;
}

/* /etc/machine-id, written last so that no later step refills it, and
 * D-Bus's copy made a symlink to it (systemd ignores a symlinked D-Bus id
 * and never copies it back; libdbus reads through it). */
static int
set_machine_id (struct clone_id_job *j)
{
  static const char dbus[] = "/var/lib/dbus/machine-id";
  char line[34];
  int r;

  clone_id_machine_id (j->spec->machine_id, j->res->machine_id);
  snprintf (line, sizeof line, "%s\n", j->res->machine_id);
  if (guestfs_is_dir (j->g, "/var/lib/dbus") > 0) {
    if ((guestfs_exists (j->g, dbus) > 0 || guestfs_is_symlink (j->g, dbus) > 0)
        && guestfs_rm (j->g, dbus) == -1)
      return guest_error (j->g, dbus);
    if (guestfs_ln_s (j->g, "/etc/machine-id", dbus) == -1)
      return guest_error (j->g, dbus);
    if (guest_changes_add (CH (j), "identity", dbus, "a symlink to "
                           "/etc/machine-id") == -1)
      return -1;
  }
  r = put_file (j->g, "/etc/machine-id", line, 0444);
  if (r == 0)
    r = guest_changes_add (CH (j), "identity", "/etc/machine-id", "%s",
                           j->res->machine_id);
  return r;
}

int
clone_id_linux (struct clone_id_job *j)
{
  int r = set_hostname (j);

  if (r == 0)
    r = set_network (j);
  if (r == 0)
    r = set_ssh_keys (j);
  if (r == 0)
    r = clear_state (j);
  if (r == 0)
    r = set_machine_id (j);
  return r;
}

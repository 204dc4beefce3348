/* agent-target.c: where the agent writes — parsing ferry.target, mounting
 * local partitions, NFS, CIFS and SSH (sshfs) targets, and the checks made
 * before anything is written (not on a source disk, enough free space). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2v/agent.h"
#include "lib/common/error.h"
#include "lib/common/progress.h"
#include "lib/common/spawn.h"
#include "lib/common/strbuf.h"

#define DEFAULT_MOUNTDIR "/run/ferry/target"

/* Characters that could smuggle mount or ssh options: refused. */
static int
check_chars (const char *spec, const char *what, const char *s,
             const char *extra_bad)
{
  for (; *s; s++)
    if (iscntrl ((unsigned char) *s) || isspace ((unsigned char) *s) ||
        strchr (",\"'\\", *s) || strchr (extra_bad, *s))
      return error_set ("ferry.target: '%s': bad character in %s", spec,
                        what);
  return 0;
}

static int
set (char *dst, size_t len, const char *src, size_t n, const char *spec)
{
  if (n >= len)
    return error_set ("ferry.target: '%.64s': too long", spec);
  memcpy (dst, src, n);
  dst[n] = '\0';
  return 0;
}

/* The decimal port between s and end (exclusive), 1-65535. */
static int
parse_port (const char *spec, const char *s, const char *end, unsigned *port)
{
  unsigned long n = 0;

  if (s == end || end - s > 5)
    return error_set ("ferry.target: '%s': bad port", spec);
  for (; s < end; s++) {
    if (!isdigit ((unsigned char) *s))
      return error_set ("ferry.target: '%s': bad port", spec);
    n = n * 10 + (unsigned long) (*s - '0');
  }
  if (n == 0 || n > 65535)
    return error_set ("ferry.target: '%s': bad port", spec);
  *port = (unsigned) n;
  return 0;
}

/* HOST[:PORT]:/EXPORT[/SUB] after nfs: (the device is HOST:/EXPORT...) */
static int
parse_nfs (const char *spec, const char *rest, struct agent_target *t)
{
  const char *colon = strchr (rest, ':'), *share;
  size_t hlen;

  if (colon == NULL || colon == rest || colon[1] == '\0')
    return error_set ("ferry.target: '%s': expected nfs:HOST[:PORT]:/EXPORT",
                      spec);
  t->kind = TK_NFS;
  hlen = (size_t) (colon - rest);
  share = colon + 1;
  if (share[0] != '/') {
    const char *end = strchr (share, ':');
    if (end == NULL || end[1] != '/')
      return error_set ("ferry.target: '%s': expected "
                        "nfs:HOST[:PORT]:/EXPORT", spec);
    if (parse_port (spec, share, end, &t->port) == -1)
      return -1;
    share = end + 1;
  }
  if (hlen + 1 + strlen (share) >= sizeof t->device)
    return error_set ("ferry.target: '%.64s': too long", spec);
  memcpy (t->device, rest, hlen);
  t->device[hlen] = ':';
  memcpy (t->device + hlen + 1, share, strlen (share) + 1);
  return check_chars (spec, "the share", t->device, "@");
}

/* [USER@]HOST[:PORT]/SHARE[/SUB] after cifs:// (the device is
 * //HOST/SHARE, the port a mount option) */
static int
parse_cifs (const char *spec, const char *rest, struct agent_target *t)
{
  const char *slash = strchr (rest, '/'), *at, *colon, *sub;
  size_t hlen;

  t->kind = TK_CIFS;
  at = slash ? memchr (rest, '@', (size_t) (slash - rest)) : NULL;
  if (at && set (t->user, sizeof t->user, rest, (size_t) (at - rest), spec)
      == -1)
    return -1;
  rest = at ? at + 1 : rest;
  if (slash == NULL || slash == rest || slash[1] == '\0' || slash[1] == '/')
    return error_set ("ferry.target: '%s': expected "
                      "cifs://[USER@]HOST[:PORT]/SHARE[/DIR]", spec);
  colon = memchr (rest, ':', (size_t) (slash - rest));
  if (colon && parse_port (spec, colon + 1, slash, &t->port) == -1)
    return -1;
  hlen = (size_t) ((colon ? colon : slash) - rest);
  if (hlen == 0)
    return error_set ("ferry.target: '%s': expected "
                      "cifs://[USER@]HOST[:PORT]/SHARE[/DIR]", spec);
  sub = strchr (slash + 1, '/');
  if (sub == NULL)
    sub = slash + strlen (slash);
  if (hlen + (size_t) (sub - slash) + 3 > sizeof t->device ||
      set (t->path, sizeof t->path, sub, strlen (sub), spec) == -1)
    return error_set ("ferry.target: '%.64s': too long", spec);
  t->device[0] = t->device[1] = '/';
  memcpy (t->device + 2, rest, hlen);
  memcpy (t->device + 2 + hlen, slash, (size_t) (sub - slash));
  t->device[2 + hlen + (size_t) (sub - slash)] = '\0';
  return check_chars (spec, "the user", t->user, "@:/") == -1 ||
    check_chars (spec, "the share", t->device, "@:") == -1 ||
    check_chars (spec, "the directory", t->path, "") == -1 ? -1 : 0;
}

/* USER@HOST[:PORT]/PATH after ssh:// */
static int
parse_ssh (const char *spec, const char *rest, struct agent_target *t)
{
  const char *at = strchr (rest, '@'), *slash, *colon;

  t->kind = TK_SSH;
  slash = strchr (rest, '/');
  if (at == NULL || at == rest || slash == NULL || slash < at)
    return error_set ("ferry.target: '%s': expected "
                      "ssh://USER@HOST[:PORT]/PATH", spec);
  if (set (t->user, sizeof t->user, rest, (size_t) (at - rest), spec) == -1)
    return -1;
  colon = memchr (at + 1, ':', (size_t) (slash - at - 1));
  if (set (t->device, sizeof t->device, at + 1,
           (size_t) ((colon ? colon : slash) - at - 1), spec) == -1)
    return -1;
  if (colon && parse_port (spec, colon + 1, slash, &t->port) == -1)
    return -1;
  if (t->device[0] == '\0' || t->device[0] == '-' || t->user[0] == '-')
    return error_set ("ferry.target: '%s': bad host or user", spec);
  if (set (t->path, sizeof t->path, slash, strlen (slash), spec) == -1)
    return -1;
  return check_chars (spec, "the user", t->user, "@:/") == -1 ||
    check_chars (spec, "the host", t->device, "@:/") == -1 ||
    check_chars (spec, "the path", t->path, "") == -1 ? -1 : 0;
}

int
agent_target_parse (const char *spec, struct agent_target *t)
{
  memset (t, 0, sizeof *t);
  if (set (t->spec, sizeof t->spec, spec, strlen (spec), spec) == -1)
    return -1;
  if (strncmp (spec, "file:", 5) == 0 || spec[0] == '/') {
    const char *dir = spec[0] == '/' ? spec : spec + 5;
    t->kind = TK_FILE;
    if (dir[0] != '/')
      return error_set ("ferry.target: '%s': the directory must be an "
                        "absolute path", spec);
    return set (t->path, sizeof t->path, dir, strlen (dir), spec);
  }
  if (strncmp (spec, "disk:", 5) == 0) {
    t->kind = TK_DISK;
    if (spec[5] != '/')
      return error_set ("ferry.target: '%s': expected disk:/dev/PARTITION",
                        spec);
    if (set (t->device, sizeof t->device, spec + 5, strlen (spec + 5), spec)
        == -1)
      return -1;
    return check_chars (spec, "the device", t->device, "");
  }
  if (strncmp (spec, "nfs:", 4) == 0)
    return parse_nfs (spec, spec + 4, t);
  if (strncmp (spec, "cifs://", 7) == 0)
    return parse_cifs (spec, spec + 7, t);
  if (strncmp (spec, "ssh://", 6) == 0)
    return parse_ssh (spec, spec + 6, t);
  return error_set ("ferry.target: '%s': expected file:, disk:, nfs:, "
                    "cifs:// or ssh://", spec);
}

/* ---- running helpers ---- */

int
agent_spawn (const char *const *argv, const char *input,
             const char *const *env)
{
  return spawn_run (argv, input, env);
}

/* ---- mounting ---- */

static const char *
what (const struct agent_target *t)
{
  return t->readonly ? "source" : "target";
}

static int
check_dir (const struct agent_target *t, const char *dir)
{
  struct stat st;

  if (stat (dir, &st) == -1)
    return error_errno ("%s '%s': '%s'", what (t), t->spec, dir);
  if (!S_ISDIR (st.st_mode))
    return error_set ("%s '%s': '%s' is not a directory", what (t), t->spec,
                      dir);
  if (t->readonly && access (dir, R_OK | X_OK) == -1)
    return error_errno ("source '%s': '%s' is not readable", t->spec, dir);
  if (!t->readonly && access (dir, W_OK) == -1)
    return error_errno ("target '%s': '%s' is not writable", t->spec, dir);
  return 0;
}

int
agent_mkdir_p (const char *dir)
{
  char buf[4096];
  size_t i;

  if (agent_pathf (buf, sizeof buf, "%s", dir) == -1)
    return error_set ("'%s': path too long", dir);
  for (i = 1; buf[i]; i++)
    if (buf[i] == '/') {
      buf[i] = '\0';
      if (mkdir (buf, 0755) == -1 && errno != EEXIST)
        return error_errno ("'%s': create directory", buf);
      buf[i] = '/';
    }
  if (mkdir (buf, 0755) == -1 && errno != EEXIST)
    return error_errno ("'%s': create directory", buf);
  return 0;
}

static int
mount_sshfs (struct agent_target *t, const char *password, const char *key)
{
  char remote[4400], port[16], idopt[4200];
  const char *argv[24];
  size_t n = 0;

  agent_pathf (remote, sizeof remote, "%s@%s:%s", t->user, t->device, t->path);
  agent_pathf (port, sizeof port, "%u", t->port ? t->port : 22);
  argv[n++] = "sshfs";
  argv[n++] = remote;
  argv[n++] = t->mountpoint;
  argv[n++] = "-p";
  argv[n++] = port;
  /* The agent boots fresh every time: no known host can be pinned, so
   * the first key is accepted (and logged by ssh). */
  argv[n++] = "-o";
  argv[n++] = "StrictHostKeyChecking=accept-new,UserKnownHostsFile=/dev/null,"
    "ConnectTimeout=10,ServerAliveInterval=15,reconnect";
  if (key && key[0]) {
    agent_pathf (idopt, sizeof idopt, "IdentityFile=%s,IdentitiesOnly=yes", key);
    argv[n++] = "-o";
    argv[n++] = idopt;
  }
  argv[n++] = "-o";
  argv[n++] = password && password[0] ? "password_stdin" : "BatchMode=yes";
  if (t->readonly) {
    argv[n++] = "-o";
    argv[n++] = "ro";
  }
  argv[n] = NULL;
  return agent_spawn (argv, password && password[0] ? password : NULL, NULL);
}

static int
mount_target (struct agent_target *t, const char *password, const char *key)
{
  char opts[512], port[16] = "";
  char penv[4200];
  const char *env[2] = { NULL, NULL };

  if (t->port)
    agent_pathf (port, sizeof port, ",port=%u", t->port);

  switch (t->kind) {
  case TK_DISK: {
    const char *argv[] = { "mount", "-o", t->readonly ? "ro" : "rw",
                           t->device, t->mountpoint, NULL };
    return agent_spawn (argv, NULL, NULL);
  }
  case TK_NFS: {
    const char *argv[] = { "mount.nfs", t->device, t->mountpoint, "-o", opts,
                           NULL };
    agent_pathf (opts, sizeof opts, "%snolock,soft,timeo=100%s",
                 t->readonly ? "ro," : "", port);
    return agent_spawn (argv, NULL, NULL);
  }
  case TK_CIFS: {
    /* The password goes through the environment, never argv (ps). */
    const char *argv[] = { "mount.cifs", t->device, t->mountpoint, "-o", opts,
                           NULL };
    agent_pathf (opts, sizeof opts, "username=%s%s%s%s",
              t->user[0] ? t->user : "guest",
              password && password[0] ? "" : ",guest", port,
              t->readonly ? ",ro" : "");
    agent_pathf (penv, sizeof penv, "PASSWD=%s", password ? password : "");
    env[0] = penv;
    return agent_spawn (argv, NULL, env);
  }
  case TK_SSH:
    return mount_sshfs (t, password, key);
  case TK_FILE:
  case TK_HTTP:
    break;
  }
  return 0;
}

int
agent_target_mount (struct agent_target *t, const char *mountdir,
                    const char *password, const char *sshkey)
{
  char sub[4200];

  if (t->kind == TK_FILE) {
    agent_pathf (t->mountpoint, sizeof t->mountpoint, "%s", t->path);
    return check_dir (t, t->path);
  }
  if (mountdir == NULL)
    mountdir = DEFAULT_MOUNTDIR;
  agent_pathf (t->mountpoint, sizeof t->mountpoint, "%s", mountdir);
  if (agent_mkdir_p (mountdir) == -1)
    return error_prefix ("%s '%s': ", what (t), t->spec);
  if (mount_target (t, password, sshkey) == -1)
    return error_prefix ("%s '%s' is unreachable: ", what (t), t->spec);
  t->mounted = true;
  if (t->kind == TK_CIFS && t->path[0]) {
    agent_pathf (sub, sizeof sub, "%s%s", t->mountpoint, t->path);
    agent_pathf (t->mountpoint, sizeof t->mountpoint, "%s", sub);
  }
  if (check_dir (t, t->mountpoint) == -1) {
    agent_target_umount (t);
    return -1;
  }
  return 0;
}

void
agent_target_umount (struct agent_target *t)
{
  char mp[4096];

  if (!t->mounted)
    return;
  agent_pathf (mp, sizeof mp, "%s", t->mountpoint);
  if (t->kind == TK_CIFS && t->path[0])
    mp[strlen (mp) - strlen (t->path)] = '\0';
  sync ();
  if (t->kind == TK_SSH) {
    const char *argv[] = { "fusermount", "-u", mp, NULL };
    agent_spawn (argv, NULL, NULL);
  }
  else {
    const char *argv[] = { "umount", mp, NULL };
    agent_spawn (argv, NULL, NULL);
  }
  error_clear ();
  t->mounted = false;
}

/* ---- checks ---- */

static const char *
base_name (const char *path)
{
  const char *s = strrchr (path, '/');
  return s ? s + 1 : path;
}

/* The disk (sysfs name) holding a block device number, or "" */
static void
disk_of_devno (const struct agent_env *env, dev_t dev, char *disk, size_t len)
{
  char link[4200], target[4096];
  ssize_t n;

  disk[0] = '\0';
  agent_pathf (link, sizeof link, "%s/dev/block/%u:%u", env->sysfs,
            major (dev), minor (dev));
  if ((n = readlink (link, target, sizeof target - 1)) <= 0)
    return;
  target[n] = '\0';
  if (agent_parent_disk (env, base_name (target), disk, len) == -1) {
    disk[0] = '\0';
    error_clear ();
  }
}

static int
check_disk_target (const struct agent_env *env, const struct agent_target *t,
                   const char *const *sources, size_t n)
{
  char disk[64];
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp (t->device, sources[i]) == 0)
      return error_set ("target '%s' is a disk being captured", t->spec);
  if (agent_parent_disk (env, base_name (t->device), disk, sizeof disk)
      == -1) {
    error_clear ();
    return 0;
  }
  for (i = 0; i < n; i++)
    if (strcmp (base_name (sources[i]), disk) == 0 &&
        strncmp (sources[i], env->dev, strlen (env->dev)) == 0)
      return error_set ("target '%s' is on disk '%s', which is being "
                        "captured", t->spec, disk);
  return 0;
}

int
agent_target_check_sources (const struct agent_env *env,
                            const struct agent_target *t,
                            const char *const *sources, size_t n)
{
  struct stat st, ss;
  char disk[64];
  size_t i;

  if (t->kind == TK_DISK && check_disk_target (env, t, sources, n) == -1)
    return -1;
  if (t->mountpoint[0] == '\0' || stat (t->mountpoint, &st) == -1)
    return 0;
  disk_of_devno (env, st.st_dev, disk, sizeof disk);
  for (i = 0; i < n; i++) {
    if (stat (sources[i], &ss) == -1 || !S_ISBLK (ss.st_mode))
      continue;
    if (ss.st_rdev == st.st_dev ||
        (disk[0] && strcmp (base_name (sources[i]), disk) == 0))
      return error_set ("target '%s' is on '%s', which is being captured",
                        t->spec, sources[i]);
  }
  return 0;
}

int
agent_target_check_space (const struct agent_target *t, uint64_t need)
{
  struct statvfs sv;
  uint64_t avail;
  char a[32], b[32];

  if (statvfs (t->mountpoint, &sv) == -1)
    return error_errno ("target '%s'", t->spec);
  avail = (uint64_t) sv.f_bavail * sv.f_frsize;
  if (avail < need) {
    format_bytes (a, sizeof a, avail);
    format_bytes (b, sizeof b, need);
    return error_set ("target '%s' is too small: %s free, %s to copy",
                      t->spec, a, b);
  }
  return 0;
}

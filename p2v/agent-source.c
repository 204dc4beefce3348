/* agent-source.c: what the agent deploys from — parsing ferry.source,
 * mounting the share holding the image read-only (the targets' mounts of
 * agent-target.c), or serving an http(s) URL as NBD through nbdkit's curl
 * plugin; checking the source is there and readable before any disk is
 * touched; listing the images and packages in a directory for the TUI. */
#include "lib/common/compat.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2v/agent.h"
#include "lib/common/error.h"
#include "lib/common/progress.h"
#include "lib/common/strbuf.h"
#include "lib/image/image.h"

#define DEFAULT_SOURCEDIR "/run/ferry/source"
#define SOURCE_FORMS "expected file:, nfs:, cifs://, ssh://, http:// or " \
  "https://"

/* agent_target_parse's errors say ferry.target: say ferry.source. */
static int
as_source_error (void)
{
  const char *msg = error_get ();
  char *keep;

  if (strncmp (msg, "ferry.target: ", 14) != 0)
    return -1;
  if ((keep = xstrdup (msg + 14)) == NULL)
    return -1;
  error_set ("ferry.source: %s", keep);
  free (keep);
  return -1;
}

static int
copy_str (char *dst, size_t len, const char *src, size_t n, const char *spec)
{
  if (n >= len)
    return error_set ("ferry.source: '%.64s': too long", spec);
  memcpy (dst, src, n);
  dst[n] = '\0';
  return 0;
}

static int
parse_http (const char *spec, struct agent_source *src)
{
  const char *host = strstr (spec, "://") + 3;
  const char *p;

  for (p = spec; *p; p++)
    if (iscntrl ((unsigned char) *p) || isspace ((unsigned char) *p) ||
        strchr ("\"'\\", *p))
      return error_set ("ferry.source: '%s': bad character in the URL", spec);
  if (*host == '\0' || *host == '/' || *host == '-')
    return error_set ("ferry.source: '%s': expected http(s)://HOST/PATH",
                      spec);
  if ((p = strrchr (host, '/')) == NULL || p[1] == '\0')
    return error_set ("ferry.source: '%s': an http(s) source names the "
                      "image (a web server's directory cannot be listed)",
                      spec);
  src->share.kind = TK_HTTP;
  if (copy_str (src->share.spec, sizeof src->share.spec, spec, strlen (spec),
                spec) == -1 ||
      copy_str (src->url, sizeof src->url, spec, strlen (spec), spec) == -1)
    return -1;
  return copy_str (src->name, sizeof src->name, p + 1, strlen (p + 1), spec);
}

/* Split the last component of `path` (inside buf, NUL-terminated) into
 * src->name, leaving the directory in path; keep = true when the path has
 * a single component that must stay (an NFS export). */
static int
split_name (char *path, const char *spec, struct agent_source *src,
            bool keep_single)
{
  size_t n = strlen (path);
  char *slash;

  if (n > 1 && path[n - 1] == '/') {    /* "DIR/": the directory itself */
    path[n - 1] = '\0';
    return 0;
  }
  if ((slash = strrchr (path, '/')) == NULL)
    return 0;
  if (keep_single && slash == path)
    return 0;
  if (copy_str (src->name, sizeof src->name, slash + 1, strlen (slash + 1),
                spec) == -1)
    return -1;
  if (strcmp (src->name, ".") == 0 || strcmp (src->name, "..") == 0)
    return error_set ("ferry.source: '%s': bad file name", spec);
  if (slash == path)
    slash[1] = '\0';                    /* "/IMAGE": the root directory */
  else
    *slash = '\0';
  return 0;
}

int
agent_source_parse (const char *spec, struct agent_source *src)
{
  struct agent_target *t = &src->share;

  memset (src, 0, sizeof *src);
  if (strncmp (spec, "http://", 7) == 0 || strncmp (spec, "https://", 8) == 0)
    return parse_http (spec, src);
  if (strncmp (spec, "file:", 5) != 0 && spec[0] != '/' &&
      strncmp (spec, "nfs:", 4) != 0 && strncmp (spec, "cifs://", 7) != 0 &&
      strncmp (spec, "ssh://", 6) != 0)
    return error_set ("ferry.source: '%.200s': " SOURCE_FORMS, spec);
  if (agent_target_parse (spec, t) == -1)
    return as_source_error ();
  t->readonly = true;
  switch (t->kind) {
  case TK_NFS: {
    char *colon = strchr (t->device, ':');
    return split_name (colon + 1, spec, src, true);
  }
  case TK_CIFS:
    return t->path[0] ? split_name (t->path, spec, src, false) : 0;
  default:
    return split_name (t->path, spec, src, false);
  }
}

/* ---- opening ---- */

/* Formats read over http(s) are raw only: say what the first bytes are. */
static const char *
not_raw (const unsigned char *b, size_t n)
{
  if (n >= 4 && memcmp (b, "QFI\xfb", 4) == 0)
    return "a qcow2 image";
  if (n >= 4 && memcmp (b, "KDMV", 4) == 0)
    return "a VMDK image";
  if (n >= 21 && memcmp (b, "# Disk DescriptorFile", 21) == 0)
    return "a VMDK descriptor";
  if (n >= 8 && memcmp (b, "conectix", 8) == 0)
    return "a VHD image";
  if (n >= 8 && memcmp (b, "vhdxfile", 8) == 0)
    return "a VHDX image";
  if (n >= 262 && memcmp (b + 257, "ustar", 5) == 0)
    return "a tar archive (an OVA or XVA package)";
  if (n >= 5 && (memcmp (b, "<?xml", 5) == 0 || memcmp (b, "<doma", 5) == 0))
    return "an XML file";
  return NULL;
}

/* Open the image and read its first bytes: the source exists and can be
 * read (a wrong path, a permission or a dead server shows here, before
 * any disk is touched). */
static int
check_readable (struct agent_source *src)
{
  unsigned char buf[4096];
  struct image *img;
  size_t n;
  const char *what;

  if ((img = image_open (src->path, 0)) == NULL)
    return -1;
  n = img->size < sizeof buf ? (size_t) img->size : sizeof buf;
  if (n == 0) {
    image_close (img);
    return error_set ("is empty");
  }
  if (image_pread (img, buf, n, 0) == -1) {
    image_close (img);
    return -1;
  }
  image_close (img);
  if (src->share.kind == TK_HTTP && (what = not_raw (buf, n)) != NULL)
    return error_set ("is %s: an http(s) source is read as a raw disk; "
                      "serve it over nfs, cifs or ssh, or convert it to raw",
                      what);
  return 0;
}

static void
stop_nbdkit (struct agent_source *src)
{
  FILE *fp;
  long pid = 0;

  if (src->pidfile[0] == '\0')
    return;
  if ((fp = fopen (src->pidfile, "re")) != NULL) {
    if (fscanf (fp, "%ld", &pid) != 1)
      pid = 0;
    fclose (fp);
  }
  if (pid > 1)
    kill ((pid_t) pid, SIGTERM);
  unlink (src->pidfile);
  src->pidfile[0] = '\0';
}

static int
start_nbdkit (struct agent_source *src, const char *dir)
{
  char url[4200];
  const char *argv[] = { "nbdkit", "-r", "-U", src->sock, "-P", src->pidfile,
                         "curl", url, "timeout=30", NULL };

  if (agent_mkdir_p (dir) == -1 ||
      agent_pathf (src->sock, sizeof src->sock, "%s/nbd.sock", dir) == -1 ||
      agent_pathf (src->pidfile, sizeof src->pidfile, "%s/nbdkit.pid", dir)
      == -1 ||
      agent_pathf (url, sizeof url, "url=%s", src->url) == -1)
    return -1;
  unlink (src->sock);
  unlink (src->pidfile);
  /* nbdkit goes to the background once it listens. */
  if (agent_spawn (argv, NULL, NULL) == -1) {
    src->pidfile[0] = '\0';
    return -1;
  }
  return agent_pathf (src->path, sizeof src->path,
                      "nbd+unix:///?socket=%s", src->sock);
}

static int
open_share (struct agent_source *src, const char *dir, const char *password,
            const char *sshkey)
{
  struct stat st;

  /* (its errors name the source) */
  if (agent_target_mount (&src->share, dir, password, sshkey) == -1)
    return -1;
  if (src->name[0] == '\0') {
    src->is_dir = true;
    return agent_pathf (src->dir, sizeof src->dir, "%s",
                        src->share.mountpoint);
  }
  if (agent_pathf (src->path, sizeof src->path, "%s/%s",
                   src->share.mountpoint, src->name) == -1)
    return -1;
  if (stat (src->path, &st) == -1)
    return error_errno ("'%s' on the share", src->name);
  if (S_ISDIR (st.st_mode)) {
    src->is_dir = true;
    return agent_pathf (src->dir, sizeof src->dir, "%s", src->path);
  }
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
    return error_set ("'%s' is not a file", src->name);
  return 0;
}

int
agent_source_open (struct agent_source *src, const char *mountdir,
                   const char *password, const char *sshkey)
{
  int r;

  src->is_dir = false;
  src->path[0] = src->dir[0] = '\0';
  if (mountdir == NULL)
    mountdir = DEFAULT_SOURCEDIR;
  if (src->share.kind == TK_HTTP) {
    if (start_nbdkit (src, mountdir) == -1)
      return error_prefix ("source '%s': ", src->url);
    r = check_readable (src);
    if (r == -1) {
      /* The curl plugin opens the URL when the client connects, and a
       * failed request shows here only as a refused NBD handshake. */
      if (strncmp (error_get (), "nbd: ", 5) == 0)
        error_set ("source '%s' cannot be read: the web server is "
                   "unreachable or does not serve that path (HTTP GET/HEAD "
                   "through nbdkit's curl plugin failed)", src->url);
      else
        error_prefix ("source '%s': ", src->url);
      stop_nbdkit (src);
    }
    return r;
  }
  r = open_share (src, mountdir, password, sshkey);
  if (r == 0 && !src->is_dir)
    r = check_readable (src);
  if (r == -1) {
    char *keep;
    if (strncmp (error_get (), "source '", 8) != 0)
      error_prefix ("source '%s': ", src->share.spec);
    keep = xstrdup (error_get ());
    agent_source_close (src);           /* (clears the error) */
    error_set ("%s", keep ? keep : "source: out of memory");
    free (keep);
  }
  return r;
}

void
agent_source_close (struct agent_source *src)
{
  stop_nbdkit (src);
  agent_target_umount (&src->share);
}

/* ---- listing ---- */

static const char *
known_ext (const char *name)
{
  static const char *const exts[] = {
    "img", "raw", "qcow2", "vmdk", "vhd", "vhdx", "ova", "xva",
  };
  const char *dot = strrchr (name, '.');
  size_t i;

  if (dot == NULL || dot == name)
    return NULL;
  for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
    if (strcasecmp (dot + 1, exts[i]) == 0)
      return exts[i];
  return NULL;
}

static void
describe (const char *dir, const char *name, const char *ext,
          const struct stat *st, char *desc, size_t len)
{
  char path[4400], size[32];
  struct image *img;

  if (strcmp (ext, "ova") == 0 || strcmp (ext, "xva") == 0) {
    format_bytes (size, sizeof size, (uint64_t) st->st_size);
    agent_textf (desc, len, "%s package %s", strcmp (ext, "ova") == 0
                 ? "OVA" : "XVA", size);
    return;
  }
  if (agent_pathf (path, sizeof path, "%s/%s", dir, name) == 0 &&
      (img = image_open (path, 0)) != NULL) {
    format_bytes (size, sizeof size, img->size);
    agent_textf (desc, len, "%-6s disk %s", image_format (img), size);
    image_close (img);
  }
  else
    agent_textf (desc, len, "unreadable");
  error_clear ();
}

static int
by_name (const void *a, const void *b)
{
  return strcmp (((const struct agent_source_entry *) a)->name,
                 ((const struct agent_source_entry *) b)->name);
}

size_t
agent_source_list (const struct agent_source *src,
                   struct agent_source_entry *out, size_t max)
{
  DIR *d;
  struct dirent *e;
  size_t n = 0;

  if (!src->is_dir || (d = opendir (src->dir)) == NULL)
    return 0;
  while (n < max && (e = readdir (d)) != NULL) {
    char path[4400];
    struct stat st;
    const char *ext = known_ext (e->d_name);

    if (ext == NULL || e->d_name[0] == '.' ||
        strlen (e->d_name) >= sizeof out[n].name ||
        agent_pathf (path, sizeof path, "%s/%s", src->dir, e->d_name) == -1 ||
        stat (path, &st) == -1 || !S_ISREG (st.st_mode))
      continue;
    agent_textf (out[n].name, sizeof out[n].name, "%s", e->d_name);
    describe (src->dir, e->d_name, ext, &st, out[n].desc,
              sizeof out[n].desc);
    n++;
  }
  closedir (d);
  error_clear ();
  qsort (out, n, sizeof *out, by_name);
  return n;
}

/* identity-text.c: the pure text transforms of a clone's identity —
 * hosts and machine-info files, machine-id, the Windows computer name and
 * answer file, SSH fingerprints (see identity-int.h). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clone/identity-int.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/linux-text.h"

char *
clone_id_short (const char *host)
{
  return strndup (host, strcspn (host, "."));
}

static bool
is_localhost (const char *name)
{
  return strncasecmp (name, "localhost", 9) == 0 &&
    (name[9] == '\0' || name[9] == '.');
}

struct hosts_ctx {
  const char *old, *host;
  char *old_short, *new_short;
  int *changed;
};

/* The replacement for one name of a hosts line, or NULL to keep it. */
static const char *
hosts_name (const struct hosts_ctx *c, const char *w, size_t n)
{
  if (c->old == NULL || *c->old == '\0' || is_localhost (c->old))
    return NULL;
  if (strlen (c->old) == n && strncasecmp (w, c->old, n) == 0)
    return c->host;
  if (strcmp (c->old, c->old_short) != 0 && strlen (c->old_short) == n &&
      strncasecmp (w, c->old_short, n) == 0)
    return c->new_short;
  return NULL;
}

static int
hosts_127 (struct hosts_ctx *c, const char *comment, struct strbuf *out)
{
  (*c->changed)++;
  if (strcmp (c->host, c->new_short) != 0)
    return strbuf_addf (out, "127.0.1.1\t%s %s%s%s", c->host, c->new_short,
                        *comment ? " " : "", comment);
  return strbuf_addf (out, "127.0.1.1\t%s%s%s", c->host, *comment ? " " : "",
                      comment);
}

static int
hosts_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct hosts_ctx *c = opaque;
  size_t body = strcspn (line, "#"), s, e, at = 0;
  const char *rep;
  int k, r = 0;
  char *comment;

  if (body > len)
    body = len;
  if (ltext_blank_or_comment (line, len) ||
      !ltext_find_field (line, body, 0, &s, &e))
    return strbuf_add (out, line, len);
  if (e - s == 9 && strncmp (line + s, "127.0.1.1", 9) == 0) {
    if ((comment = strndup (line + body, len - body)) == NULL)
      return error_errno ("hosts");
    r = hosts_127 (c, comment, out);
    free (comment);
    return r;
  }
  for (k = 1; r == 0 && ltext_find_field (line, body, k, &s, &e); k++) {
    if ((rep = hosts_name (c, line + s, e - s)) == NULL)
      continue;
    r = strbuf_add (out, line + at, s - at);
    if (r == 0)
      r = strbuf_adds (out, rep);
    at = e;
    if (strlen (rep) != e - s || strncmp (rep, line + s, e - s) != 0)
      (*c->changed)++;
  }
  return r == 0 ? strbuf_add (out, line + at, len - at) : -1;
}

char *
clone_id_hosts (const char *text, const char *old, const char *host,
                int *changed)
{
  struct hosts_ctx c = { .old = old, .host = host, .changed = changed };
  char *r = NULL;

  c.old_short = clone_id_short (old ? old : "");
  c.new_short = clone_id_short (host);
  if (c.old_short && c.new_short)
    r = ltext_each_line (text, hosts_line, &c);
  else
    error_errno ("hosts");
  free (c.old_short);
  free (c.new_short);
  return r;
}

struct info_ctx {
  const char *old, *host;
  int *changed;
};

static int
info_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct info_ctx *c = opaque;
  size_t vs, ve;
  char q;

  if (!ltext_split_assignment (line, len, "PRETTY_HOSTNAME", &vs, &ve, &q) ||
      c->old == NULL || strlen (c->old) != ve - vs ||
      strncasecmp (line + vs, c->old, ve - vs) != 0 ||
      strcmp (c->old, c->host) == 0)
    return strbuf_add (out, line, len);
  (*c->changed)++;
  return strbuf_addf (out, "PRETTY_HOSTNAME=%s%s%s", q ? (q == '"' ? "\"" :
                      "'") : "", c->host, q ? (q == '"' ? "\"" : "'") : "");
}

char *
clone_id_machine_info (const char *text, const char *old, const char *host,
                       int *changed)
{
  struct info_ctx c = { .old = old, .host = host, .changed = changed };

  return ltext_each_line (text, info_line, &c);
}

void
clone_id_machine_id (const uint8_t id[16], char out[33])
{
  static const char hex[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < 16; i++) {
    out[2 * i] = hex[id[i] >> 4];
    out[2 * i + 1] = hex[id[i] & 15];
  }
  out[32] = '\0';
}

int
clone_id_netbios (const char *host, char out[16])
{
  size_t n = strcspn (host, "."), i;

  if (n == 0)
    return error_set ("hostname '%s': no computer name", host);
  if (n > 15)
    return error_set ("hostname '%s': the Windows computer name '%.*s' is "
                      "longer than 15 characters (NetBIOS limit)", host,
                      (int) n, host);
  for (i = 0; i < n; i++) {
    if (!isalnum ((unsigned char) host[i]) && host[i] != '-')
      return error_set ("hostname '%s': '%c' is not allowed in a Windows "
                        "computer name", host, host[i]);
    out[i] = (char) toupper ((unsigned char) host[i]);
  }
  out[n] = '\0';
  return 0;
}

char *
clone_id_unattend (const char *computer, const char *arch)
{
  const char *pa = arch && strcmp (arch, "i386") == 0 ? "x86" : "amd64";
  size_t i;

  for (i = 0; computer[i]; i++)   /* the XML is not escaped: refuse */
    if (!isalnum ((unsigned char) computer[i]) && computer[i] != '-') {
      error_set ("unattend: '%s' is not a computer name", computer);
      return NULL;
    }
  return xasprintf (
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
    "<!-- Written by ferry clone: this clone's computer name. -->\r\n"
    "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">\r\n"
    "  <settings pass=\"specialize\">\r\n"
    "    <component name=\"Microsoft-Windows-Shell-Setup\" "
    "processorArchitecture=\"%s\" publicKeyToken=\"31bf3856ad364e35\" "
    "language=\"neutral\" versionScope=\"nonSxS\" "
    "xmlns:wcm=\"http://schemas.microsoft.com/WMIConfig/2002/State\">\r\n"
    "      <ComputerName>%s</ComputerName>\r\n"
    "    </component>\r\n"
    "  </settings>\r\n"
    "</unattend>\r\n", pa, computer);
}

char *
clone_id_fingerprint (const char *line, const char *path)
{
  const char *fp, *type, *end;
  size_t n;

  fp = strchr (line, ' ');
  type = strrchr (line, '(');
  if (fp == NULL || type == NULL || type < fp) {
    error_set ("ssh-keygen: unexpected output '%.80s'", line);
    return NULL;
  }
  fp++;
  n = strcspn (fp, " \n");
  end = strchr (type, ')');
  if (end == NULL || end - type < 2 || n == 0 ||
      strncmp (fp, "SHA256:", 7) != 0) {
    error_set ("ssh-keygen: unexpected output '%.80s'", line);
    return NULL;
  }
  return xasprintf ("%.*s %.*s %s", (int) (end - type - 1), type + 1,
                    (int) n, fp, path);
}

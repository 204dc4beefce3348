/* linux-boot.c: the kernel command line (device names, serial console)
 * and GRUB (/etc/default/grub, whether grub.cfg already boots the target;
 * see linux-boot.h). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/linux-boot.h"
#include "lib/guest/linux-text.h"

/* Kernel command lines as word vectors. */
DEFINE_VECTOR_TYPE (word_vector, char *);

static void
words_free (word_vector *w)
{
  size_t i;

  for (i = 0; i < w->len; i++)
    free (w->ptr[i]);
  word_vector_reset (w);
}

static int
words_split (const char *s, word_vector *w)
{
  while (*s) {
    size_t n;
    char *word;
    while (isspace ((unsigned char) *s))
      s++;
    if (*s == '\0')
      break;
    for (n = 0; s[n] && !isspace ((unsigned char) s[n]); n++)
      ;
    if ((word = strndup (s, n)) == NULL || word_vector_append (w, word) == -1) {
      free (word);
      return error_errno ("cmdline");
    }
    s += n;
  }
  return 0;
}

static char *
words_join (const word_vector *w)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;

  if (strbuf_add (&sb, "", 0) == -1)
    return NULL;
  for (i = 0; i < w->len; i++)
    if (w->ptr[i] && strbuf_addf (&sb, "%s%s", sb.len ? " " : "",
                                  w->ptr[i]) == -1) {
      strbuf_release (&sb);
      return NULL;
    }
  return strbuf_detach (&sb);
}

static int
rewrite_word (char **word, const devmap *m, int *changed)
{
  static const char *const keys[] = { "root=", "resume=" };
  const char *uuid;
  char *n;
  size_t i;

  for (i = 0; i < 2; i++) {
    if (!str_has_prefix (*word, keys[i]))
      continue;
    uuid = devmap_lookup (m, *word + strlen (keys[i]));
    if (uuid == NULL)
      return 0;
    if ((n = xasprintf ("%sUUID=%s", keys[i], uuid)) == NULL)
      return -1;
    free (*word);
    *word = n;
    (*changed)++;
  }
  return 0;
}

char *
lboot_cmdline_rewrite_devices (const char *cmdline, const devmap *m,
                               int *changed)
{
  word_vector w = empty_vector;
  char *r = NULL;
  size_t i;

  if (words_split (cmdline, &w) == -1)
    goto out;
  for (i = 0; i < w.len; i++)
    if (rewrite_word (&w.ptr[i], m, changed) == -1)
      goto out;
  r = words_join (&w);
out:
  words_free (&w);
  return r;
}

static bool
is_pv_console (const char *w)
{
  return str_has_prefix (w, "console=hvc") || str_has_prefix (w, "console=xvc");
}

/* Remove words matching pred; returns how many were removed. */
static int
words_drop (word_vector *w, bool (*pred) (const char *))
{
  size_t i;
  int n = 0;

  for (i = 0; i < w->len; i++)
    if (w->ptr[i] && pred (w->ptr[i])) {
      free (w->ptr[i]);
      w->ptr[i] = NULL;
      n++;
    }
  return n;
}

static bool
is_serial_console (const char *w)
{
  return str_has_prefix (w, "console=ttyS");
}

static int
words_add (word_vector *w, const char *s)
{
  char *d = xstrdup (s);

  if (d == NULL || word_vector_append (w, d) == -1) {
    free (d);
    return -1;
  }
  return 0;
}

static int
set_console_words (word_vector *w, const char *target, int *changed)
{
  size_t i;
  bool has_serial = false, last_is_hvc0;
  int dropped;

  for (i = 0; i < w->len; i++)
    has_serial |= is_serial_console (w->ptr[i]);
  if (strcmp (target, "xen") == 0) {
    last_is_hvc0 = w->len > 0 &&
      strcmp (w->ptr[w->len - 1], "console=hvc0") == 0;
    if (last_is_hvc0)
      return 0;
    words_drop (w, is_pv_console);
    (*changed)++;
    return words_add (w, "console=hvc0");
  }
  dropped = words_drop (w, is_pv_console);
  *changed += dropped;
  if (has_serial)
    return 0;
  (*changed)++;
  return words_add (w, "console=ttyS0,115200n8");
}

char *
lboot_cmdline_set_console (const char *cmdline, const char *target,
                           int *changed)
{
  word_vector w = empty_vector;
  char *r = NULL;

  if (words_split (cmdline, &w) == 0 &&
      set_console_words (&w, target, changed) == 0)
    r = words_join (&w);
  words_free (&w);
  return r;
}

/* Only drop foreign PV consoles (for GRUB_CMDLINE_LINUX_DEFAULT). */
static char *
cmdline_drop_pv_console (const char *cmdline, int *changed)
{
  word_vector w = empty_vector;
  char *r = NULL;

  if (words_split (cmdline, &w) == 0) {
    *changed += words_drop (&w, is_pv_console);
    r = words_join (&w);
  }
  words_free (&w);
  return r;
}

struct grub_ctx {
  const char *target;
  const devmap *m;
  int *changed;
  bool seen_linux;
};

static int
grub_cmdline_line (const char *line, size_t len, struct grub_ctx *c,
                   const char *key, struct strbuf *out)
{
  size_t vs, ve;
  char q, *val, *a = NULL, *b = NULL;
  bool is_linux = strcmp (key, "GRUB_CMDLINE_LINUX") == 0;
  int r = -1;

  ltext_split_assignment (line, len, key, &vs, &ve, &q);
  if ((val = strndup (line + vs, ve - vs)) == NULL)
    return error_errno ("grub");
  if ((a = lboot_cmdline_rewrite_devices (val, c->m, c->changed)) == NULL)
    goto out;
  b = is_linux ? lboot_cmdline_set_console (a, c->target, c->changed)
    : strcmp (c->target, "xen") ? cmdline_drop_pv_console (a, c->changed)
    : xstrdup (a);
  if (b == NULL)
    goto out;
  r = strbuf_addf (out, "%s=\"%s\"", key, b);
out:
  free (val);
  free (a);
  free (b);
  return r;
}

static int
grub_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct grub_ctx *c = opaque;
  size_t vs, ve;
  char q;

  if (ltext_split_assignment (line, len, "GRUB_CMDLINE_LINUX", &vs, &ve, &q)) {
    c->seen_linux = true;
    return grub_cmdline_line (line, len, c, "GRUB_CMDLINE_LINUX", out);
  }
  if (ltext_split_assignment (line, len, "GRUB_CMDLINE_LINUX_DEFAULT", &vs,
                              &ve, &q))
    return grub_cmdline_line (line, len, c, "GRUB_CMDLINE_LINUX_DEFAULT", out);
  if (ltext_split_assignment (line, len, "GRUB_DISABLE_LINUX_UUID", &vs, &ve,
                              &q) &&
      strncmp (line + vs, "true", 4) == 0) {
    (*c->changed)++;
    return strbuf_addf (out, "#%.*s  # disabled by ferry convert",
                        (int) len, line);
  }
  return strbuf_add (out, line, len);
}

char *
lboot_grub_default_edit (const char *text, const char *target, const devmap *m,
                         int *changed)
{
  struct grub_ctx c = { target, m, changed, false };
  char *r = ltext_each_line (text, grub_line, &c), *line, *n;
  size_t len;

  if (r == NULL || c.seen_linux)
    return r;
  if ((line = lboot_cmdline_set_console ("", target, changed)) == NULL) {
    free (r);
    return NULL;
  }
  len = strlen (r);
  n = xasprintf ("%s%sGRUB_CMDLINE_LINUX=\"%s\"\n", r,
                 len && r[len - 1] != '\n' ? "\n" : "", line);
  free (r);
  free (line);
  return n;
}

/* One kernel line of grub.cfg ("linux /vmlinuz-x root=... ro"): its
 * arguments after the kernel path, or NULL for other lines. */
static const char *
grub_kernel_args (const char *line, size_t len, size_t *alen)
{
  const char *p = line, *end = line + len;

  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (end - p < 6 || strncmp (p, "linux", 5) != 0)
    return NULL;
  while (p < end && *p != ' ' && *p != '\t')
    p++;                        /* linux, linux16, linuxefi */
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  while (p < end && *p != ' ' && *p != '\t')
    p++;                        /* the kernel */
  *alen = (size_t) (end - p);
  return p;
}

static bool
args_ready (const char *args, size_t len, const char *target)
{
  word_vector w = empty_vector;
  char *s = strndup (args, len), *out = NULL;
  unsigned disk, part;
  int changed = 0;
  bool ok = s && words_split (s, &w) == 0;
  size_t i;

  for (i = 0; ok && i < w.len; i++) {
    const char *v = str_has_prefix (w.ptr[i], "root=") ? w.ptr[i] + 5
      : str_has_prefix (w.ptr[i], "resume=") ? w.ptr[i] + 7 : NULL;
    if (v && devmap_parse_name (v, &disk, &part) == 0)
      ok = false;
  }
  if (ok)
    ok = (out = lboot_cmdline_set_console (s, target, &changed)) != NULL &&
      changed == 0;
  words_free (&w);
  free (out);
  free (s);
  return ok;
}

bool
lboot_grub_cfg_ready (const char *text, const char *target)
{
  const char *p = text, *args;
  size_t len, alen;
  int kernels = 0;

  while (*p) {
    len = strcspn (p, "\n");
    if ((args = grub_kernel_args (p, len, &alen)) != NULL) {
      if (!args_ready (args, alen, target))
        return false;
      kernels++;
    }
    p += len + (p[len] == '\n');
  }
  return kernels > 0;
}

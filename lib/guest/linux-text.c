/* linux-text.c: line-by-line editing of Linux configuration text, shared
 * by the linux-*.c transforms, and shell KEY=value files (see
 * linux-text.h). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/linux-devmap.h"
#include "lib/guest/linux-text.h"

/* Call fn on each line (without its '\n'); fn appends the new line. */
char *
ltext_each_line (const char *text, ltext_line_fn fn, void *ctx)
{
  struct strbuf out = STRBUF_INIT;
  const char *p = text, *nl;

  if (strbuf_add (&out, "", 0) == -1)
    return NULL;
  while (*p) {
    size_t len;
    nl = strchr (p, '\n');
    len = nl ? (size_t) (nl - p) : strlen (p);
    if (fn (p, len, ctx, &out) == -1 ||
        (nl && strbuf_add (&out, "\n", 1) == -1)) {
      strbuf_release (&out);
      return NULL;
    }
    p += len + (nl != NULL);
  }
  return strbuf_detach (&out);
}

bool
ltext_blank_or_comment (const char *line, size_t len)
{
  size_t i = 0;

  while (i < len && isspace ((unsigned char) line[i]))
    i++;
  return i == len || line[i] == '#';
}

/* Find whitespace-separated field k: [*start, *end). */
bool
ltext_find_field (const char *line, size_t len, int k, size_t *start,
                  size_t *end)
{
  size_t i = 0;
  int f;

  for (f = 0; f <= k; f++) {
    while (i < len && isspace ((unsigned char) line[i]))
      i++;
    if (i == len)
      return false;
    *start = i;
    while (i < len && !isspace ((unsigned char) line[i]))
      i++;
    *end = i;
  }
  return true;
}

/* Split `KEY=value` (value optionally quoted) of a shell assignment. */
bool
ltext_split_assignment (const char *line, size_t len, const char *key,
                        size_t *vstart, size_t *vend, char *quote)
{
  size_t k = strlen (key);

  if (len <= k || strncmp (line, key, k) != 0 || line[k] != '=')
    return false;
  *vstart = k + 1;
  *vend = len;
  *quote = '\0';
  if (*vstart < len && (line[*vstart] == '"' || line[*vstart] == '\'')) {
    *quote = line[*vstart];
    (*vstart)++;
    while (*vend > *vstart && line[*vend - 1] != *quote)
      (*vend)--;
    if (*vend > *vstart)
      (*vend)--;
  }
  return true;
}

struct kv_ctx {
  const char *key, *value;
  const devmap *m;
  int *changed;
  bool done;
};

static int
kv_device_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct kv_ctx *c = opaque;
  size_t vs, ve;
  char q, *val;
  const char *uuid = NULL;

  if (ltext_split_assignment (line, len, c->key, &vs, &ve, &q)) {
    if ((val = strndup (line + vs, ve - vs)) == NULL)
      return error_errno ("rewrite");
    uuid = devmap_lookup (c->m, val);
    free (val);
  }
  if (uuid == NULL)
    return strbuf_add (out, line, len);
  (*c->changed)++;
  return strbuf_addf (out, "%s=UUID=%s", c->key, uuid);
}

char *
ltext_kv_rewrite_device (const char *text, const char *key, const devmap *m,
                         int *changed)
{
  struct kv_ctx c = { .key = key, .m = m, .changed = changed };

  return ltext_each_line (text, kv_device_line, &c);
}

static int
kv_set_line (const char *line, size_t len, void *opaque, struct strbuf *out)
{
  struct kv_ctx *c = opaque;
  size_t vs, ve;
  char q;

  if (c->done || !ltext_split_assignment (line, len, c->key, &vs, &ve, &q))
    return strbuf_add (out, line, len);
  c->done = true;
  if (ve - vs == strlen (c->value) && !strncmp (line + vs, c->value, ve - vs))
    return strbuf_add (out, line, len);
  (*c->changed)++;
  return strbuf_addf (out, "%s=%s", c->key, c->value);
}

char *
ltext_kv_set (const char *text, const char *key, const char *value,
              int *changed)
{
  struct kv_ctx c = { .key = key, .value = value, .changed = changed };
  char *r = ltext_each_line (text, kv_set_line, &c), *n;
  size_t len;

  if (r == NULL || c.done)
    return r;
  (*changed)++;
  len = strlen (r);
  n = xasprintf ("%s%s%s=%s\n", r, len && r[len - 1] != '\n' ? "\n" : "",
                 key, value);
  free (r);
  return n;
}

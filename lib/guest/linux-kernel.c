/* linux-kernel.c: kernels and their modules — version order, drivers
 * present or missing, initramfs module lists, modules.dep closures (see
 * linux-kernel.h). */
#include "lib/common/compat.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/common/strv.h"
#include "lib/guest/linux-kernel.h"
#include "lib/guest/linux-text.h"

/* Module names compare with '-' and '_' equal. */
static bool
modname_eq (const char *a, size_t alen, const char *b, size_t blen)
{
  size_t i;

  if (alen != blen)
    return false;
  for (i = 0; i < alen; i++) {
    char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
    if (x != y)
      return false;
  }
  return true;
}

static bool
modules_file_has (const char *text, const char *mod)
{
  const char *p = text;

  while (*p) {
    size_t len = strcspn (p, "\n"), s, e;
    if (!ltext_blank_or_comment (p, len) &&
        ltext_find_field (p, len, 0, &s, &e) &&
        modname_eq (p + s, e - s, mod, strlen (mod)))
      return true;
    p += len + (p[len] == '\n');
  }
  return false;
}

char *
lkernel_modules_file_add (const char *text, const char *const *mods,
                          const char *comment, int *changed)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i, len = strlen (text);
  bool first = true;

  if (strbuf_add (&sb, text, len) == -1)
    return NULL;
  if (len && text[len - 1] != '\n' && strbuf_add (&sb, "\n", 1) == -1)
    goto fail;
  for (i = 0; mods[i]; i++) {
    if (modules_file_has (text, mods[i]))
      continue;
    if (first && comment && strbuf_addf (&sb, "# %s\n", comment) == -1)
      goto fail;
    first = false;
    (*changed)++;
    if (strbuf_addf (&sb, "%s\n", mods[i]) == -1)
      goto fail;
  }
  return strbuf_detach (&sb);
fail:
  strbuf_release (&sb);
  return NULL;
}

int
lkernel_version_cmp (const char *a, const char *b)
{
  while (*a && *b) {
    if (isdigit ((unsigned char) *a) && isdigit ((unsigned char) *b)) {
      char *ea, *eb;
      unsigned long long x = strtoull (a, &ea, 10), y = strtoull (b, &eb, 10);
      if (x != y)
        return x < y ? -1 : 1;
      a = ea;
      b = eb;
      continue;
    }
    if (*a != *b)
      return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
    a++;
    b++;
  }
  return *a ? 1 : *b ? -1 : 0;
}

/* The module name of a path: basename without .ko[.xz|.zst|.gz]. */
static bool
module_name_of (const char *path, size_t len, const char **name, size_t *n)
{
  static const char *const exts[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
  const char *base = path + len;
  size_t i, e;

  while (base > path && base[-1] != '/')
    base--;
  for (i = 0; i < 4; i++) {
    e = strlen (exts[i]);
    if ((size_t) (path + len - base) > e &&
        strncmp (path + len - e, exts[i], e) == 0) {
      *name = base;
      *n = (size_t) (path + len - base) - e;
      return true;
    }
  }
  return false;
}

static bool
driver_in_lines (const char *text, const char *drv)
{
  const char *p = text, *name;
  size_t n;

  while (p && *p) {
    size_t len = strcspn (p, "\n");
    if (module_name_of (p, len, &name, &n) &&
        modname_eq (name, n, drv, strlen (drv)))
      return true;
    p += len + (p[len] == '\n');
  }
  return false;
}

static bool
driver_in_paths (const char *const *paths, size_t np, const char *drv)
{
  const char *name;
  size_t i, n;

  for (i = 0; i < np; i++)
    if (module_name_of (paths[i], strlen (paths[i]), &name, &n) &&
        modname_eq (name, n, drv, strlen (drv)))
      return true;
  return false;
}

bool
lkernel_path_is (const char *path, const char *drv)
{
  return driver_in_paths (&path, 1, drv);
}

int
lkernel_missing_drivers (const char *const *module_paths, size_t n,
                         const char *builtin, const char *const *drivers,
                         struct strbuf *missing)
{
  size_t i;
  int count = 0;

  for (i = 0; drivers[i]; i++) {
    if (driver_in_paths (module_paths, n, drivers[i]) ||
        (builtin && driver_in_lines (builtin, drivers[i])))
      continue;
    strbuf_addf (missing, "%s%s", count ? ", " : "", drivers[i]);
    count++;
  }
  return count;
}

/* Module paths come from the guest and become file names on the host and
 * in the appliance: relative, no "..", a small character set. */
static bool
module_path_ok (const char *p, size_t n)
{
  size_t i;

  if (n == 0 || n > 512 || p[0] == '/')
    return false;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char) p[i];
    if (!isalnum (c) && !strchr ("_-+./", c))
      return false;
    if (c == '.' && i + 1 < n && p[i + 1] == '.')
      return false;
  }
  return true;
}

static int
add_path (strv_vector *out, const char *p, size_t n)
{
  char *s;

  if (!module_path_ok (p, n))
    return error_set ("modules.dep: bad module path '%.*s'",
                      (int) (n > 80 ? 80 : n), p);
  if ((s = strndup (p, n)) == NULL)
    return error_errno ("modules.dep");
  if (strv_vector_has (out, s)) {
    free (s);
    return 0;
  }
  if (strv_vector_append (out, s) == -1) {
    free (s);
    return error_errno ("modules.dep");
  }
  return 0;
}

/* The modules.dep line of module `name`, or NULL; *len is its length. */
static const char *
moddep_line (const char *dep, const char *name, size_t *len)
{
  const char *p = dep, *mn;
  size_t n;

  while (*p) {
    size_t l = strcspn (p, "\n"), k = strcspn (p, ":\n");
    if (k < l && module_name_of (p, k, &mn, &n) &&
        modname_eq (mn, n, name, strlen (name))) {
      *len = l;
      return p;
    }
    p += l + (p[l] == '\n');
  }
  return NULL;
}

/* The words of one line after its ':' (depmod lists every dependency,
 * transitively, so one line is the whole closure of its module). */
static int
add_line (strv_vector *out, const char *line, size_t len)
{
  size_t k = strcspn (line, ":"), s, e;

  if (add_path (out, line, k) == -1)
    return -1;
  for (s = k + 1; s < len; s = e) {
    while (s < len && (line[s] == ' ' || line[s] == '\t'))
      s++;
    for (e = s; e < len && line[e] != ' ' && line[e] != '\t'; e++)
      ;
    if (e > s && add_path (out, line + s, e - s) == -1)
      return -1;
  }
  return 0;
}

int
lkernel_moddep_paths (const char *moddep, strv_vector *out)
{
  const char *p = moddep;
  int count = 0;
  char *s;

  while (*p) {
    size_t l = strcspn (p, "\n"), k = strcspn (p, ":\n");
    if (k < l) {
      if (!module_path_ok (p, k))
        return error_set ("modules.dep: bad module path '%.*s'",
                          (int) (k > 80 ? 80 : k), p);
      if (count == INT_MAX || (s = strndup (p, k)) == NULL)
        return error_errno ("modules.dep");
      if (strv_vector_append (out, s) == -1) {
        free (s);
        return error_errno ("modules.dep");
      }
      count++;
    }
    p += l + (p[l] == '\n');
  }
  return count;
}

int
lkernel_moddep_closure (const char *moddep, const char *const *names,
                        strv_vector *out)
{
  size_t i, len;

  for (i = 0; names[i]; i++) {
    const char *line = moddep_line (moddep, names[i], &len);
    if (line == NULL)
      return error_set ("module '%s' is not in modules.dep", names[i]);
    if (add_line (out, line, len) == -1)
      return -1;
  }
  return 0;
}

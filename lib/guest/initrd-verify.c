/* initrd-verify.c: the proof, read from a new initramfs image itself (all
 * its archives), that nothing the old image could load was lost, that the
 * modules a boot needs resolve, and that the module tree is the kernel's:
 * a conversion reports success only about an image checked this way. */
#include "lib/common/compat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/initrd.h"

#define MAX_KVERS 64
#define MAX_LINES 200000
#define MAX_DEPS 4096           /* on one modules.dep line */
#define MAX_DEPTH 64            /* of a dependency chain */
#define MAX_NAMED 8             /* modules named in an error */
#define MAX_BIN (64 << 20)

enum { UNKNOWN, VISITING, LOADABLE, BROKEN };

struct dep_entry {
  const char *path;             /* into tree.moddep */
  char *name;                   /* "xfs", '-' as '_'; owned */
  size_t dep0, ndeps;           /* into tree.deps */
  int state;
};
DEFINE_VECTOR_TYPE (dep_vector, struct dep_entry);
DEFINE_VECTOR_TYPE (cstr_vector, const char *);

/* What one image holds for kernel `kver`. */
struct tree {
  const char *path, *kver;
  strv_vector files;            /* regular files of the tree, relative */
  strv_vector kvers;            /* every module tree's version */
  char *moddep, *builtin;       /* the last of each, as the kernel keeps */
  char *depbin;                 /* modules.dep.bin, or NULL */
  size_t depbin_len;
  dep_vector lines;             /* sorted by path */
  cstr_vector deps;
  struct dep_entry **by_name;   /* sorted by name */
};

static void
tree_free (struct tree *t)
{
  size_t i;

  strv_vector_free (&t->files);
  strv_vector_free (&t->kvers);
  free (t->moddep);
  free (t->builtin);
  free (t->depbin);
  for (i = 0; i < t->lines.len; i++)
    free (t->lines.ptr[i].name);
  dep_vector_reset (&t->lines);
  cstr_vector_reset (&t->deps);
  free (t->by_name);
}

/* "kernel/fs/xfs/xfs.ko.zst" -> "xfs"; NULL when not a module file. */
static char *
module_name (const char *path)
{
  static const char *const sfx[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz",
                                     NULL };
  const char *base = strrchr (path, '/');
  size_t i, len, sl;
  char *n;

  base = base ? base + 1 : path;
  len = strlen (base);
  for (i = 0; sfx[i]; i++) {
    sl = strlen (sfx[i]);
    if (len > sl && strcmp (base + len - sl, sfx[i]) == 0)
      break;
  }
  if (sfx[i] == NULL || (n = strndup (base, len - sl)) == NULL)
    return NULL;
  for (i = 0; n[i]; i++)
    if (n[i] == '-')
      n[i] = '_';
  return n;
}

static int
keep (strv_vector *v, const char *s, size_t len)
{
  char *copy = strndup (s, len);

  if (copy == NULL || strv_vector_append (v, copy) == -1) {
    free (copy);
    return error_errno ("initramfs check");
  }
  return 0;
}

static int
note_kver (struct tree *t, const char *k, size_t kl)
{
  size_t i;

  for (i = 0; i < t->kvers.len; i++)
    if (strlen (t->kvers.ptr[i]) == kl && strncmp (t->kvers.ptr[i], k, kl)
        == 0)
      return 0;
  if (t->kvers.len == MAX_KVERS)
    return error_set ("initramfs '%s': more than %d module trees", t->path,
                      MAX_KVERS);
  return keep (&t->kvers, k, kl);
}

static int
read_bin (struct archive *a, struct archive_entry *e, struct tree *t)
{
  int64_t size = archive_entry_size (e);

  if (size < 0 || size > MAX_BIN)
    return error_set ("initramfs '%s': modules.dep.bin too large", t->path);
  free (t->depbin);
  t->depbin_len = (size_t) size;
  if ((t->depbin = malloc (t->depbin_len + 1)) == NULL)
    return error_errno ("initramfs check");
  if (size && archive_read_data (a, t->depbin, t->depbin_len) != size)
    return error_set ("initramfs '%s': short modules.dep.bin", t->path);
  t->depbin[t->depbin_len] = '\0';
  return 0;
}

static int
gather (struct archive *a, struct archive_entry *e, const char *name,
        bool early, void *ctx)
{
  struct tree *t = ctx;
  const char *k, *rel;
  size_t kl;
  mode_t type = archive_entry_filetype (e);

  (void) early;
  if ((rel = initrd_module_rel (name, &k, &kl)) == NULL)
    return 0;
  if (note_kver (t, k, kl) == -1)
    return -1;
  if (kl != strlen (t->kver) || strncmp (k, t->kver, kl) != 0 ||
      type != AE_IFREG)
    return 0;
  if (strcmp (rel, "modules.dep") == 0)
    return initrd_entry_text (a, e, t->path, &t->moddep);
  if (strcmp (rel, "modules.builtin") == 0)
    return initrd_entry_text (a, e, t->path, &t->builtin);
  if (strcmp (rel, "modules.dep.bin") == 0)
    return read_bin (a, e, t);
  return keep (&t->files, rel, strlen (rel));
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
cmp_path (const void *a, const void *b)
{
  return strcmp (((const struct dep_entry *) a)->path,
                 ((const struct dep_entry *) b)->path);
}

static int
cmp_name (const void *a, const void *b)
{
  return strcmp ((*(struct dep_entry *const *) a)->name,
                 (*(struct dep_entry *const *) b)->name);
}

/* A modules.dep path: relative, no "..", a small character set. */
static bool
path_ok (const char *p)
{
  return *p && *p != '/' && strstr (p, "..") == NULL && strlen (p) < 1024 &&
    strspn (p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "0123456789_-./+") == strlen (p);
}

/* One line "path: dep dep", cut in place. */
static int
parse_line (struct tree *t, char *line)
{
  struct dep_entry d = { .path = line, .dep0 = t->deps.len };
  char *colon = strchr (line, ':'), *w, *save = NULL;

  if (colon == NULL)
    return error_set ("initramfs '%s': modules.dep: no ':' in '%s'",
                      t->path, line);
  *colon = '\0';
  if (!path_ok (line) || (d.name = module_name (line)) == NULL)
    return error_set ("initramfs '%s': modules.dep: bad module '%s'",
                      t->path, line);
  for (w = strtok_r (colon + 1, " \t", &save); w;
       w = strtok_r (NULL, " \t", &save)) {
    if (!path_ok (w) || ++d.ndeps > MAX_DEPS ||
        cstr_vector_append (&t->deps, w) == -1) {
      free (d.name);
      return error_set ("initramfs '%s': modules.dep: bad line of '%s'",
                        t->path, line);
    }
  }
  if (dep_vector_append (&t->lines, d) == -1) {
    free (d.name);
    return error_errno ("initramfs check");
  }
  return 0;
}

static int
parse_moddep (struct tree *t)
{
  char *line, *save = NULL;
  size_t i;

  if (t->moddep == NULL)
    return 0;
  for (line = strtok_r (t->moddep, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    if (*line == '#' || strspn (line, " \t\r") == strlen (line))
      continue;
    if (t->lines.len == MAX_LINES)
      return error_set ("initramfs '%s': modules.dep too long", t->path);
    if (parse_line (t, line) == -1)
      return -1;
  }
  qsort (t->lines.ptr, t->lines.len, sizeof *t->lines.ptr, cmp_path);
  qsort (t->files.ptr, t->files.len, sizeof *t->files.ptr, cmp_str);
  if ((t->by_name = calloc (t->lines.len + 1, sizeof *t->by_name)) == NULL)
    return error_errno ("initramfs check");
  for (i = 0; i < t->lines.len; i++)
    t->by_name[i] = &t->lines.ptr[i];
  qsort (t->by_name, t->lines.len, sizeof *t->by_name, cmp_name);
  return 0;
}

static int
tree_read (struct tree *t, const char *path, const char *kver)
{
  struct initrd_layout lay;

  t->path = path;
  t->kver = kver;
  if (initrd_image_walk (path, gather, t, &lay) == -1)
    return -1;
  return parse_moddep (t);
}

static bool
has_file (const struct tree *t, const char *rel)
{
  return bsearch (&rel, t->files.ptr, t->files.len, sizeof *t->files.ptr,
                  cmp_str) != NULL;
}

static struct dep_entry *
by_path (const struct tree *t, const char *path)
{
  struct dep_entry key = { .path = path };

  return bsearch (&key, t->lines.ptr, t->lines.len, sizeof *t->lines.ptr,
                  cmp_path);
}

static struct dep_entry *
by_name (const struct tree *t, const char *name)
{
  struct dep_entry key = { .name = (char *) name }, *kp = &key, **r;

  r = bsearch (&kp, t->by_name, t->lines.len, sizeof *t->by_name, cmp_name);
  return r ? *r : NULL;
}

/* modules.dep closure over the files present: the module and everything
 * it needs are in the image and listed. */
static bool
loadable (struct tree *t, struct dep_entry *d, unsigned depth)
{
  size_t i;
  bool ok;

  if (d->state == LOADABLE || d->state == BROKEN || d->state == VISITING)
    return d->state == LOADABLE;
  if (depth > MAX_DEPTH)
    return false;
  d->state = VISITING;
  ok = has_file (t, d->path);
  for (i = 0; ok && i < d->ndeps; i++) {
    struct dep_entry *dep = by_path (t, t->deps.ptr[d->dep0 + i]);
    ok = dep && loadable (t, dep, depth + 1);
  }
  d->state = ok ? LOADABLE : BROKEN;
  return ok;
}

/* ---- kmod's modules.dep.bin (libkmod-index.c, version 2): a trie of
 * nodes; an offset's top bits say what the node holds. ---- */

#define BIN_MAGIC 0xB007F457u
#define NODE_PREFIX 0x80000000u
#define NODE_VALUES 0x40000000u
#define NODE_CHILDS 0x20000000u
#define NODE_MASK 0x0FFFFFFFu

struct bin {
  const unsigned char *p;
  size_t len, pos;
  bool bad;
};

static uint32_t
bin_u32 (struct bin *b)
{
  uint32_t v;

  if (b->pos > b->len || b->len - b->pos < 4) {
    b->bad = true;
    return 0;
  }
  v = (uint32_t) b->p[b->pos] << 24 | (uint32_t) b->p[b->pos + 1] << 16 |
    (uint32_t) b->p[b->pos + 2] << 8 | b->p[b->pos + 3];
  b->pos += 4;
  return v;
}

static const char *
bin_str (struct bin *b)
{
  const char *s = (const char *) b->p + b->pos;
  const void *nul = b->pos < b->len ? memchr (s, '\0', b->len - b->pos)
    : NULL;

  if (nul == NULL) {
    b->bad = true;
    return "";
  }
  b->pos += (size_t) ((const char *) nul - s) + 1;
  return s;
}

/* Match the node's prefix against *key; false when it differs. */
static bool
bin_prefix (struct bin *b, const char **key)
{
  const char *pre = bin_str (b);
  size_t n = strlen (pre);

  if (b->bad || strncmp (*key, pre, n) != 0)
    return false;
  *key += n;
  return true;
}

/* The first value of `key` (the module's modules.dep line), or NULL. */
static const char *
bin_lookup (const char *data, size_t len, const char *key)
{
  struct bin b = { (const unsigned char *) data, len, 0, false };
  uint32_t off, first, last, n;
  unsigned steps;

  if (bin_u32 (&b) != BIN_MAGIC || (bin_u32 (&b) >> 16) != 2)
    return NULL;
  off = bin_u32 (&b);
  for (steps = 0; !b.bad && steps < 4096; steps++) {
    if ((off & NODE_MASK) == 0)
      return NULL;
    b.pos = off & NODE_MASK;
    if ((off & NODE_PREFIX) && !bin_prefix (&b, &key))
      return NULL;
    first = last = 0;
    if (off & NODE_CHILDS) {
      first = b.pos < b.len ? b.p[b.pos] : 0;
      last = b.pos + 1 < b.len ? b.p[b.pos + 1] : 0;
      b.pos += 2;
    }
    if (*key == '\0') {
      if (!(off & NODE_VALUES))
        return NULL;
      b.pos += (off & NODE_CHILDS) && last >= first
        ? 4 * (size_t) (last - first + 1) : 0;
      n = bin_u32 (&b);
      (void) bin_u32 (&b);      /* the priority */
      return n && !b.bad ? bin_str (&b) : NULL;
    }
    if (!(off & NODE_CHILDS) || (unsigned char) *key < first ||
        (unsigned char) *key > last)
      return NULL;
    b.pos += 4 * (size_t) ((unsigned char) *key - first);
    key++;
    off = bin_u32 (&b);
  }
  return NULL;
}

/* The binary index, which modprobe reads, agrees with modules.dep. */
static bool
bin_agrees (const struct tree *t, const struct dep_entry *d)
{
  struct strbuf sb = STRBUF_INIT;
  const char *v;
  size_t i;
  bool ok;

  if (t->depbin == NULL)
    return true;
  v = bin_lookup (t->depbin, t->depbin_len, d->name);
  strbuf_addf (&sb, "%s:", d->path);
  for (i = 0; i < d->ndeps; i++)
    strbuf_addf (&sb, " %s", t->deps.ptr[d->dep0 + i]);
  ok = v && sb.buf && strcmp (v, sb.buf) == 0;
  strbuf_release (&sb);
  return ok;
}

/* ---- the proof ---- */

static bool
is_builtin (const struct tree *t, const char *builtin, const char *name)
{
  const char *text = t->builtin ? t->builtin : builtin;
  const char *p, *end;
  char *one, *n;
  bool found = false;

  for (p = text; p && *p && !found; p = *end ? end + 1 : end) {
    end = strchrnul (p, '\n');
    if ((one = strndup (p, (size_t) (end - p))) == NULL)
      return false;
    n = module_name (one);
    found = n && strcmp (n, name) == 0;
    free (n);
    free (one);
  }
  return found;
}

/* Add `name` to the failure list (the first few only). */
static void
fail_name (struct strbuf *sb, size_t *n, const char *name)
{
  if ((*n)++ < MAX_NAMED)
    strbuf_addf (sb, "%s%s", *n > 1 ? ", " : "", name);
  else if (*n == MAX_NAMED + 1)
    strbuf_adds (sb, ", ...");
}

static bool
resolves (struct tree *t, struct dep_entry *d)
{
  return d && loadable (t, d, 0) && bin_agrees (t, d);
}

static int
check_kept (struct tree *old, struct tree *new, size_t *kept)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i, n = 0;
  int r = 0;

  for (i = 0; i < old->lines.len; i++) {
    struct dep_entry *d = &old->lines.ptr[i];
    if (!loadable (old, d, 0))
      continue;
    if (resolves (new, by_name (new, d->name)))
      (*kept)++;
    else
      fail_name (&sb, &n, d->name);
  }
  if (n)
    r = error_set ("initramfs check: '%s': %zu module%s the old image could "
                   "load %s not: %s", new->path, n, n == 1 ? "" : "s",
                   n == 1 ? "is" : "are", sb.buf ? sb.buf : "");
  strbuf_release (&sb);
  return r;
}

static char *
normal_name (const char *name)
{
  char *n = xstrdup (name);
  size_t i;

  for (i = 0; n && n[i]; i++)
    if (n[i] == '-')
      n[i] = '_';
  return n;
}

static int
check_required (struct tree *t, const struct initrd_check *c)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i, n = 0;
  char *name;
  int r = 0;

  for (i = 0; c->required && c->required[i]; i++) {
    if ((name = normal_name (c->required[i])) == NULL)
      return -1;
    if (!is_builtin (t, c->builtin, name) && !resolves (t, by_name (t, name)))
      fail_name (&sb, &n, c->required[i]);
    free (name);
  }
  if (n)
    r = error_set ("initramfs check: '%s': required module%s missing or "
                   "not loadable: %s", t->path, n == 1 ? "" : "s",
                   sb.buf ? sb.buf : "");
  strbuf_release (&sb);
  return r;
}

static int
check_tree (const struct tree *new, const struct tree *old)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i;
  int r = 0;

  for (i = 0; i < new->kvers.len; i++)
    strbuf_addf (&sb, "%s%s", i ? ", " : "", new->kvers.ptr[i]);
  if (new->moddep == NULL)
    r = error_set ("initramfs check: '%s': no modules.dep of kernel %s "
                   "(module trees: %s)", new->path, new->kver,
                   sb.buf ? sb.buf : "none");
  else if (old->depbin && new->depbin == NULL)
    r = error_set ("initramfs check: '%s': no modules.dep.bin (modprobe "
                   "reads only the binary index)", new->path);
  strbuf_release (&sb);
  return r;
}

int
initrd_verify (const char *old_path, const char *new_path,
               struct initrd_check *c)
{
  struct tree old = { 0 }, new = { 0 };
  int r = -1;

  c->kept = 0;
  if (tree_read (&old, old_path, c->kver) == -1 ||
      tree_read (&new, new_path, c->kver) == -1 ||
      check_tree (&new, &old) == -1 ||
      check_kept (&old, &new, &c->kept) == -1 ||
      check_required (&new, c) == -1)
    goto out;
  r = 0;
out:
  tree_free (&old);
  tree_free (&new);
  return r;
}

/* The root filesystem's module from /etc/fstab: "xfs", "btrfs"; ext2 and
 * ext3 are mounted by ext4 on every kernel a conversion targets. */
char *
initrd_root_fs_module (const char *fstab)
{
  const char *p, *end;
  char spec[256], dir[256], type[64];
  char *line;
  int n;

  for (p = fstab; p && *p; p = *end ? end + 1 : end) {
    end = strchrnul (p, '\n');
    if ((size_t) (end - p) > 1024 || (line = strndup (p, (size_t) (end - p)))
        == NULL)
      continue;
    n = sscanf (line, " %255s %255s %63s", spec, dir, type);
    free (line);
    if (n == 3 && spec[0] != '#' && strcmp (dir, "/") == 0) {
      if (strcmp (type, "ext2") == 0 || strcmp (type, "ext3") == 0)
        return xstrdup ("ext4");
      if (strspn (type, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
          strlen (type) || strcmp (type, "auto") == 0)
        return NULL;
      return normal_name (type);
    }
  }
  return NULL;
}

/* vhd-parent.c: the parent of a differencing VHD — its UTF-16 name, the
 * parent locators (W2ku, W2ru, MacX) read to find and verify it at open
 * and written for a new child, and the paths they hold. */
#include "lib/common/compat.h"

#include <endian.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/common/charset.h"
#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "lib/image/vhd-int.h"

#define LOCATOR_MAX 8192u             /* a path, UTF-16: PATH_MAX * 2 */

/* ---- UTF-16 for parent names and locators ---- */

/* `s` as UTF-16 in byte order `order` into out[cap]; byte length or -1. */
static ssize_t
utf16_into (const char *s, uint8_t *out, size_t cap,
            enum charset_utf16 order)
{
  size_t n;
  CLEANUP_FREE void *u = charset_utf8_to_utf16 (s, order, &n);

  if (u == NULL)
    return error_prefix ("vhd: path '%s': ", s);
  if (n > cap)
    return error_set ("vhd: path '%s' is too long for a VHD", s);
  memcpy (out, u, n);
  return (ssize_t) n;
}

/* ---- paths ---- */

/* The directory part of `path` ("." when there is none); caller frees. */
static char *
dir_of (const char *path)
{
  const char *slash = strrchr (path, '/');

  if (slash == NULL)
    return xstrdup (".");
  if (slash == path)
    return xstrdup ("/");
  return xasprintf ("%.*s", (int) (slash - path), path);
}

static const char *
base_of (const char *path)
{
  const char *slash = strrchr (path, '/');

  return slash ? slash + 1 : path;
}

/* A parent path relative to the child's directory, as locators and QEMU's
 * backing files mean it; an absolute path is returned as is. */
static char *
relative_to (const char *child, const char *path)
{
  CLEANUP_FREE char *dir = NULL;

  if (path[0] == '/')
    return xstrdup (path);
  dir = dir_of (child);
  if (dir == NULL)
    return NULL;
  return xasprintf ("%s/%s", dir, path);
}

/* Relative path from directory `from` to file `to` (both canonical) with
 * Windows separators, as W2ru wants: ".\p.vhd", "..\d\p.vhd". */
static char *
windows_relative (const char *from, const char *to)
{
  struct strbuf sb = STRBUF_INIT;
  size_t i = 0, common = 0;
  const char *p, *up;

  while (from[i] && from[i] == to[i])
    if (from[i++] == '/')
      common = i;
  up = from + common;                 /* the part of `from` to climb out of */
  if (from[i] == '\0' && to[i] == '/') {
    common = i + 1;
    up = from + i;
  }
  strbuf_adds (&sb, "");
  for (p = up; *p; ) {
    strbuf_adds (&sb, "..\\");
    while (*p && *p != '/') p++;
    while (*p == '/') p++;
  }
  if (sb.len == 0)
    strbuf_adds (&sb, ".\\");
  for (p = to + common; *p; p++)
    strbuf_add (&sb, *p == '/' ? "\\" : p, 1);
  if (sb.buf == NULL)
    error_set ("vhd: out of memory");
  return sb.buf;
}

/* ---- opening the parent ---- */

/* The path a locator names, resolved against the child's directory; NULL
 * (no error) when the locator is unusable. */
static char *
locator_path (struct vhd *v, const struct vhd_locator *loc)
{
  uint64_t off = be64toh (loc->data_offset);
  uint32_t len = be32toh (loc->data_length);
  CLEANUP_FREE uint8_t *buf = NULL;
  CLEANUP_FREE char *s = NULL;
  char *p;

  if (len == 0 || len > LOCATOR_MAX || off > v->file_size ||
      v->file_size - off < len || (buf = calloc (1, len + 1)) == NULL ||
      vhd_read_at (v, buf, len, off) == -1)
    return NULL;
  if (memcmp (loc->code, "MacX", 4) == 0)
    s = xstrdup ((char *) buf);
  else
    s = charset_utf16_to_utf8 (buf, len, CHARSET_UTF16LE);
  if (s == NULL)
    return NULL;
  for (p = s; *p; p++)
    if (*p == '\\')
      *p = '/';
  p = s;
  if (str_has_prefix (p, "file://"))
    p += 7;
  if (str_has_prefix (p, "localhost/"))
    p += 9;
  while (str_has_prefix (p, "./"))
    p += 2;
  return *p ? relative_to (v->img.path, p) : NULL;
}

static int
parent_verify (struct vhd *v, struct image *p, const char *path)
{
  char want[37], got[37];
  const struct vhd *pv = (const struct vhd *) p;

  if (p->ops != &vhd_ops)
    return VHD_ERR (v, "parent '%s' is a %s image, not VHD", path,
                    image_format (p));
  if (memcmp (pv->footer.unique_id, v->header.parent_uuid, 16) != 0) {
    ids_uuid_format (v->header.parent_uuid, want);
    ids_uuid_format (pv->footer.unique_id, got);
    return VHD_ERR (v, "parent '%s' has unique id %s, expected %s", path, got,
                    want);
  }
  return 0;
}

static int
parent_attach (struct vhd *v, const char *path, unsigned depth)
{
  CLEANUP_FREE char *me = realpath (v->img.path, NULL);
  CLEANUP_FREE char *it = realpath (path, NULL);
  struct image *p;

  if (me && it && strcmp (me, it) == 0)
    return VHD_ERR (v, "parent locator points at the image itself");
  p = image_open_backing (path, depth + 1);
  if (p == NULL)
    return -1;
  if (parent_verify (v, p, path) == -1) {
    image_close (p);
    return -1;
  }
  v->img.backing = p;
  v->parent_path = xstrdup (path);
  return v->parent_path ? 0 : -1;
}

int
vhd_parent_open (struct vhd *v, unsigned depth)
{
  static const char codes[][5] = { "W2ku", "W2ru", "MacX" };
  CLEANUP_FREE char *name = NULL;
  size_t c, i;

  for (c = 0; c < 3; c++)
    for (i = 0; i < VHD_N_LOCATORS; i++) {
      const struct vhd_locator *loc = &v->header.locators[i];
      CLEANUP_FREE char *path = NULL;

      if (memcmp (loc->code, codes[c], 4) != 0 ||
          (path = locator_path (v, loc)) == NULL || access (path, F_OK) != 0)
        continue;
      return parent_attach (v, path, depth);
    }
  name = charset_utf16_to_utf8 (v->header.parent_name,
                                sizeof v->header.parent_name, CHARSET_UTF16BE);
  return VHD_ERR (v, "parent '%s' not found (no parent locator names an "
                  "existing file)", name ? name : "?");
}

/* ---- naming the parent of a new image ---- */

/* Write one parent locator's data at v->next_free and describe it. */
static int
locator_add (struct vhd *v, size_t i, const char *code, const void *data,
             size_t len)
{
  struct vhd_locator *loc = &v->header.locators[i];
  uint64_t space = DIV_ROUND_UP (MAX (len, 1), VHD_SECTOR) * VHD_SECTOR;

  memcpy (loc->code, code, 4);
  loc->data_space = htobe32 ((uint32_t) space);   /* bytes, as MS does */
  loc->data_length = htobe32 ((uint32_t) len);
  loc->data_offset = htobe64 (v->next_free);
  if (vhd_write_at (v, data, len, v->next_free) == -1)
    return -1;
  v->next_free += space;
  return 0;
}

static int
locator_add_utf16 (struct vhd *v, size_t i, const char *code, const char *s)
{
  uint8_t buf[LOCATOR_MAX];
  ssize_t n = utf16_into (s, buf, sizeof buf, CHARSET_UTF16LE);

  if (n < 0)
    return -1;
  return locator_add (v, i, code, buf, (size_t) n);
}

/* Name the parent: UUID, mtime, UTF-16BE file name, and three locators. */
int
vhd_parent_describe (struct vhd *v, const char *parent)
{
  CLEANUP_FREE char *abs = realpath (parent, NULL);
  CLEANUP_FREE char *dir = NULL, *cdir = NULL, *rel = NULL, *url = NULL;
  const struct vhd *pv = (const struct vhd *) v->img.backing;
  struct stat st;

  if (abs == NULL || stat (abs, &st) == -1)
    return error_errno ("vhd: '%s'", parent);
  memcpy (v->header.parent_uuid, pv->footer.unique_id, 16);
  v->header.parent_timestamp =
    htobe32 (st.st_mtime > VHD_EPOCH ? (uint32_t) (st.st_mtime - VHD_EPOCH) : 0);
  if (utf16_into (base_of (abs), v->header.parent_name,
                  sizeof v->header.parent_name, CHARSET_UTF16BE) == -1)
    return -1;
  dir = dir_of (v->img.path);
  cdir = dir ? realpath (dir, NULL) : NULL;
  if (cdir == NULL)
    return error_errno ("vhd: '%s': directory", v->img.path);
  rel = windows_relative (cdir, abs);
  url = xasprintf ("file://%s", abs);
  if (rel == NULL || url == NULL ||
      locator_add_utf16 (v, 0, "W2ku", abs) == -1 ||
      locator_add_utf16 (v, 1, "W2ru", rel) == -1 ||
      locator_add (v, 2, "MacX", url, strlen (url)) == -1)
    return -1;
  return 0;
}

/* Open the parent of a new differencing disk.  A relative path means
 * relative to the child's directory (as in locators and QEMU); if nothing
 * is there but the path names a file from the current directory, use it. */
int
vhd_parent_open_new (struct vhd *v, const char *backing, char **used)
{
  char *path = relative_to (v->img.path, backing);
  struct image *p;

  if (path && access (path, F_OK) != 0 && access (backing, F_OK) == 0) {
    free (path);
    path = xstrdup (backing);
  }
  if (path == NULL)
    return -1;
  p = image_open_backing (path, 1);
  if (p == NULL || p->ops != &vhd_ops) {
    if (p)
      error_set ("vhd: '%s': parent '%s' is a %s image, not VHD",
                 v->img.path, path, image_format (p));
    image_close (p);
    free (path);
    return -1;
  }
  v->img.backing = p;
  *used = path;
  return 0;
}

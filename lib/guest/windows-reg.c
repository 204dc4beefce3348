/* windows-reg.c: hive access through libguestfs's hivex calls (see
 * windows-reg.h).  Values from the guest are bounded before use. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/session.h"
#include "lib/guest/windows-inf.h"
#include "lib/guest/windows-reg.h"

/* Registry values Ferry reads are short; a longer one is hostile. */
#define WIN_REG_MAX_VALUE (64 * 1024)

int
win_reg_open (guestfs_h *g, const char *hive, bool write)
{
  if (guestfs_hivex_open (g, hive, GUESTFS_HIVEX_OPEN_WRITE, write ? 1 : 0,
                          -1) == -1)
    return guest_error (g, hive);
  return 0;
}

int
win_reg_commit_close (guestfs_h *g)
{
  if (guestfs_hivex_commit (g, NULL) == -1) {
    guest_error (g, "hivex commit");
    guestfs_hivex_close (g);
    return -1;
  }
  if (guestfs_hivex_close (g) == -1)
    return guest_error (g, "hivex close");
  return 0;
}

void
win_reg_close (guestfs_h *g)
{
  guestfs_hivex_close (g);
}

int64_t
win_reg_key (guestfs_h *g, const char *path, bool create)
{
  int64_t node = guestfs_hivex_root (g), child;
  char name[256];
  const char *p = path, *end;
  size_t n;

  if (node == -1)
    return guest_error (g, "hivex root");
  while (*p) {
    end = strchr (p, '\\');
    n = end ? (size_t) (end - p) : strlen (p);
    if (n == 0 || n >= sizeof name)
      return error_set ("bad registry key path '%s'", path);
    memcpy (name, p, n);
    name[n] = '\0';
    child = guestfs_hivex_node_get_child (g, node, name);
    if (child == -1)
      return guest_error (g, path);
    if (child == 0) {
      if (!create)
        return 0;
      if ((child = guestfs_hivex_node_add_child (g, node, name)) <= 0)
        return guest_error (g, path);
    }
    node = child;
    p = end ? end + 1 : p + n;
  }
  return node;
}

static int
set_value (guestfs_h *g, int64_t node, const char *name, int type,
           const char *val, size_t len)
{
  if (guestfs_hivex_node_set_value (g, node, name, type, val, len) == -1)
    return guest_error (g, name);
  return 0;
}

int
win_reg_set_string (guestfs_h *g, int64_t node, const char *name, int type,
                    const char *s)
{
  size_t len;
  char *u = win_utf16 (s, &len);
  int r;

  if (u == NULL)
    return -1;
  r = set_value (g, node, name, type, u, len);
  free (u);
  return r;
}

int
win_reg_set_multi (guestfs_h *g, int64_t node, const char *name,
                   const char *const *v, size_t n)
{
  size_t len;
  char *u = win_utf16_multi (v, n, &len);
  int r;

  if (u == NULL)
    return -1;
  r = set_value (g, node, name, WIN_REG_MULTI_SZ, u, len);
  free (u);
  return r;
}

int
win_reg_set_dword (guestfs_h *g, int64_t node, const char *name, uint32_t v)
{
  char b[4] = { (char) (v & 0xff), (char) ((v >> 8) & 0xff),
                (char) ((v >> 16) & 0xff), (char) (v >> 24) };

  return set_value (g, node, name, WIN_REG_DWORD, b, 4);
}

int
win_reg_set_binary (guestfs_h *g, int64_t node, const char *name,
                    const void *data, size_t len)
{
  return set_value (g, node, name, WIN_REG_BINARY, data, len);
}

char *
win_reg_get (guestfs_h *g, int64_t node, const char *name, size_t *len,
             bool *found)
{
  int64_t v = guestfs_hivex_node_get_value (g, node, name);
  char *data;

  *len = 0;
  *found = false;
  if (v == -1) {
    guest_error (g, name);
    return NULL;
  }
  if (v == 0)
    return NULL;
  *found = true;
  if ((data = guestfs_hivex_value_value (g, v, len)) == NULL) {
    guest_error (g, name);
    return NULL;
  }
  if (*len > WIN_REG_MAX_VALUE) {
    free (data);
    error_set ("registry value '%s' is larger than %d bytes", name,
               WIN_REG_MAX_VALUE);
    return NULL;
  }
  return data;
}

char *
win_reg_get_string (guestfs_h *g, int64_t node, const char *name,
                    bool *found)
{
  int64_t v = guestfs_hivex_node_get_value (g, node, name), type;
  size_t len;
  char *data, *s;

  *found = false;
  if (v <= 0)
    return NULL;
  if ((type = guestfs_hivex_value_type (g, v)) != WIN_REG_SZ &&
      type != WIN_REG_EXPAND_SZ)
    return NULL;
  if ((data = win_reg_get (g, node, name, &len, found)) == NULL)
    return NULL;
  s = win_utf8 (data, len);
  free (data);
  return s;
}

/* guest-edit.c: small appliance helpers shared by every guest edit:
 * running guest commands, editing guest files, the list of changes. */
#include "lib/common/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/common/vector.h"
#include "lib/guest/guest-edit.h"
#include "lib/guest/session.h"

int
guest_sh (guestfs_h *g, const char *what, const char *cmd)
{
  char *out = guestfs_sh (g, cmd);

  if (out == NULL)
    return guest_error (g, what);
  free (out);
  return 0;
}

char *
guest_read_file (guestfs_h *g, const char *path, size_t *size)
{
  char *buf = guestfs_pread (g, path, GUEST_READ_ONE + 1, 0, size), *r;

  if (buf != NULL && *size > GUEST_READ_ONE) {
    free (buf);
    buf = guestfs_read_file (g, path, size);
  }
  if (buf == NULL)
    return NULL;
  if ((r = realloc (buf, *size + 1)) == NULL) {
    free (buf);
    error_errno ("%s", path);
    return NULL;
  }
  r[*size] = '\0';
  return r;
}

int
guest_fetch_file (guestfs_h *g, const char *from, const char *to)
{
  size_t size;
  char *buf = guestfs_pread (g, from, GUEST_READ_ONE + 1, 0, &size);
  FILE *fp;
  int r = 0;

  if (buf == NULL)
    return guest_error (g, from);
  if (size > GUEST_READ_ONE) {
    free (buf);
    return guestfs_download (g, from, to) == -1 ? guest_error (g, from) : 0;
  }
  if ((fp = fopen (to, "we")) == NULL)
    r = error_errno ("'%s'", to);
  else {
    if (size && fwrite (buf, 1, size, fp) != size)
      r = error_errno ("'%s'", to);
    if (fclose (fp) == EOF && r == 0)
      r = error_errno ("'%s'", to);
  }
  free (buf);
  return r;
}

int
guest_edit_file (guestfs_h *g, const char *path, guest_text_fn fn,
                 void *ctx, struct guest_changes *ch, const char *what,
                 const char *detail)
{
  size_t size;
  char *text, *out;
  int changed = 0, r = 0;

  if (guestfs_is_file (g, path) <= 0)
    return 0;
  if ((text = guest_read_file (g, path, &size)) == NULL)
    return guest_error (g, path);
  out = fn (text, ctx, &changed);
  free (text);
  if (out == NULL)
    return error_prefix ("%s: ", path);
  if (changed > 0) {
    if (guestfs_write (g, path, out, strlen (out)) == -1)
      r = guest_error (g, path);
    else
      r = guest_changes_add (ch, what, path, "%s", detail);
  }
  free (out);
  return r;
}

int
guest_changes_add (struct guest_changes *ch, const char *what,
                   const char *path, const char *fmt, ...)
{
  struct guest_change c = { xstrdup (what), xstrdup (path), NULL };
  struct strbuf sb = STRBUF_INIT;
  va_list ap;
  char *tmp = NULL;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&tmp, fmt, ap);
  va_end (ap);
  if (n >= 0)
    strbuf_adds (&sb, tmp);
  free (tmp);
  c.detail = sb.buf;
  if (c.what && c.path && c.detail &&
      generic_vector_reserve ((void **) &ch->ptr, &ch->cap, ch->len, 1,
                              sizeof *ch->ptr) == 0) {
    ch->ptr[ch->len++] = c;
    return 0;
  }
  free (c.what);
  free (c.path);
  free (c.detail);
  return error_set ("report: out of memory");
}

void
guest_changes_free (struct guest_changes *ch)
{
  size_t i;

  for (i = 0; i < ch->len; i++) {
    free (ch->ptr[i].what);
    free (ch->ptr[i].path);
    free (ch->ptr[i].detail);
  }
  free (ch->ptr);
  ch->ptr = NULL;
  ch->len = ch->cap = 0;
}

/* guest-edit.c: small appliance helpers shared by the conversions:
 * running guest commands, editing guest files, the change report. */
#include "lib/common/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/initrd.h"
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

int
guest_edit_file (guestfs_h *g, const char *path, text_fn fn, void *ctx,
                 struct convert_report *rep, const char *what,
                 const char *detail)
{
  size_t size;
  char *text, *out;
  int changed = 0, r = 0;

  if (guestfs_is_file (g, path) <= 0)
    return 0;
  if ((text = guestfs_read_file (g, path, &size)) == NULL)
    return guest_error (g, path);
  out = fn (text, ctx, &changed);
  free (text);
  if (out == NULL)
    return error_prefix ("%s: ", path);
  if (changed > 0) {
    if (guestfs_write (g, path, out, strlen (out)) == -1)
      r = guest_error (g, path);
    else
      r = convert_report_add (rep, what, path, "%s", detail);
  }
  free (out);
  return r;
}

int
convert_report_add (struct convert_report *rep, const char *what,
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
      guest_change_vector_append (&rep->changes, c) == 0)
    return 0;
  free (c.what);
  free (c.path);
  free (c.detail);
  return error_set ("report: out of memory");
}

void
convert_report_free (struct convert_report *rep)
{
  size_t i;

  for (i = 0; i < rep->changes.len; i++) {
    free (rep->changes.ptr[i].what);
    free (rep->changes.ptr[i].path);
    free (rep->changes.ptr[i].detail);
  }
  guest_change_vector_reset (&rep->changes);
  free (rep->kernel);
  rep->kernel = NULL;
}

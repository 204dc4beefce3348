/* identity-windows.c: one Windows clone's computer name, in its SYSTEM
 * hive (through hivex in the appliance), and optionally an Unattend.xml
 * for Sysprep in %WINDIR%\Panther (see identity.h).  The machine SID is
 * not changed: Microsoft supports duplication only through Sysprep. */
#include "lib/common/compat.h"

#include <stdlib.h>
#include <string.h>

#include "clone/identity-int.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "lib/guest/guest-edit.h"
#include "lib/guest/session.h"
#include "lib/guest/windows-reg.h"

#define CH(j) (&(j)->res->changes)

/* Set string values under one key of the open hive. */
static int
set_values (struct clone_id_job *j, const char *key, const char *const *names,
            const char *value)
{
  char *path = xasprintf ("%s\\%s", j->root->control_set, key);
  int64_t node = path ? win_reg_key (j->g, path, true) : -1;
  size_t i;
  int r = node > 0 ? 0 : -1;

  for (i = 0; names[i] && r == 0; i++)
    r = win_reg_set_string (j->g, node, names[i], WIN_REG_SZ, value);
  if (r == 0)
    r = guest_changes_add (CH (j), "registry", j->root->system_hive,
                           "HKLM\\SYSTEM\\%s: %s%s = %s", path, names[0],
                           names[1] ? " and others" : "", value);
  else if (path)
    error_prefix ("%s: ", path);
  free (path);
  return r;
}

static int
set_names (struct clone_id_job *j, const char *netbios, const char *host)
{
  static const char *const cn[] = { "ComputerName", NULL };
  static const char *const hn[] = { "Hostname", "NV Hostname", NULL };
  static const char *const dn[] = { "Domain", "NV Domain", NULL };
  const char *dot = strchr (host, '.');
  char *label = strndup (host, strcspn (host, "."));
  int r = label ? 0 : error_errno ("windows");

  if (r == 0)
    r = set_values (j, "Control\\ComputerName\\ComputerName", cn, netbios);
  if (r == 0)
    r = set_values (j, "Control\\ComputerName\\ActiveComputerName", cn,
                    netbios);
  if (r == 0)
    r = set_values (j, "Services\\Tcpip\\Parameters", hn, label);
  if (r == 0 && dot && dot[1])
    r = set_values (j, "Services\\Tcpip\\Parameters", dn, dot + 1);
  free (label);
  return r;
}

/* %WINDIR%\Panther\Unattend.xml, spelled as the guest spells what exists. */
static int
write_unattend (struct clone_id_job *j, const char *netbios)
{
  char *dir = NULL, *p = xasprintf ("%s/Panther", j->root->systemroot);
  char *file = NULL, *xml = clone_id_unattend (netbios, j->root->arch);
  int r = p && xml ? 0 : -1;

  if (r == 0 && (dir = guestfs_case_sensitive_path (j->g, p)) == NULL)
    r = guest_error (j->g, p);
  if (r == 0 && guestfs_mkdir_p (j->g, dir) == -1)
    r = guest_error (j->g, dir);
  free (p);
  p = dir ? xasprintf ("%s/Unattend.xml", dir) : NULL;
  if (r == 0 && (p == NULL ||
                 (file = guestfs_case_sensitive_path (j->g, p)) == NULL))
    r = p ? guest_error (j->g, p) : -1;
  if (r == 0 && guestfs_write (j->g, file, xml, strlen (xml)) == -1)
    r = guest_error (j->g, file);
  if (r == 0)
    r = guest_changes_add (CH (j), "unattend", file, "Sysprep answer file: "
                           "ComputerName %s", netbios);
  free (dir);
  free (p);
  free (file);
  free (xml);
  return r;
}

int
clone_id_windows (struct clone_id_job *j)
{
  const char *host = j->spec->hostname ? j->spec->hostname : j->spec->name;
  char netbios[16];
  int r;

  if (clone_id_netbios (host, netbios) == -1)
    return -1;
  if (win_reg_open (j->g, j->root->system_hive, true) == -1)
    return -1;
  r = set_names (j, netbios, host);
  if (r == 0)
    r = win_reg_commit_close (j->g);
  else
    win_reg_close (j->g);
  if (r == 0 && j->opts && j->opts->unattend)
    r = write_unattend (j, netbios);
  return r;
}

/* identity-windows.c: one Windows clone's computer name, in its SYSTEM
 * hive (through hivex in the appliance) and optionally an Unattend.xml
 * for Sysprep (see identity.h). */
#include "lib/common/compat.h"

#include "clone/identity-int.h"
#include "lib/common/error.h"

int
clone_id_windows (struct clone_id_job *j)
{
  (void) j;
  return error_set ("windows: not yet");
}

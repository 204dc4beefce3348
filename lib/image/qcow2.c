/* qcow2.c: placeholder until the qcow2 driver lands. */
#include "common/error.h"
#include "image.h"

static struct image *
qcow2_open (const char *path, unsigned flags, unsigned depth)
{
  (void) flags; (void) depth;
  error_set ("qcow2: '%s': format not implemented yet", path);
  return NULL;
}

const struct image_ops qcow2_ops = {
  .name = "qcow2",
  .open = qcow2_open,
};

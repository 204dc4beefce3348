/* vhd.c: placeholder until the vhd driver lands. */
#include "common/error.h"
#include "image.h"

static struct image *
vhd_open (const char *path, unsigned flags, unsigned depth)
{
  (void) flags; (void) depth;
  error_set ("vhd: '%s': format not implemented yet", path);
  return NULL;
}

const struct image_ops vhd_ops = {
  .name = "vhd",
  .open = vhd_open,
};

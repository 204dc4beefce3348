/* vmdk.c: placeholder until the vmdk driver lands. */
#include "common/error.h"
#include "image.h"

static struct image *
vmdk_open (const char *path, unsigned flags, unsigned depth)
{
  (void) flags; (void) depth;
  error_set ("vmdk: '%s': format not implemented yet", path);
  return NULL;
}

const struct image_ops vmdk_ops = {
  .name = "vmdk",
  .open = vmdk_open,
};

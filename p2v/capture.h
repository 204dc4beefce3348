/* capture.h: the capture pipeline — one source disk to one image, reading
 * only the blocks its filesystems use (usedmap.h), through the copy engine;
 * optionally converted for a hypervisor on the way (lib/guest/pipeline.h).
 */
#ifndef FERRY_CAPTURE_H
#define FERRY_CAPTURE_H

#include <stdbool.h>

#include "lib/guest/convert.h"
#include "lib/guest/pipeline.h"
#include "lib/image/copy.h"
#include "lib/image/image.h"
#include "lib/disk/usedmap.h"

struct capture_opts {
  const char *format;                 /* "vhd", "vmdk", "qcow2", "raw" */
  struct image_create_opts create;
  bool all_blocks;                    /* no used-block map: zero-skip only */
  bool strict;                        /* first unreadable sector is fatal */
  unsigned retries;
  bool quiet;                         /* no progress meter */
  bool overwrite;
  /* "kvm" or "xen": convert the guest while capturing, through the one
   * conversion pipeline (lib/guest/pipeline.h), Linux or Windows.  The
   * source is still never written: the conversion's writes go to a qcow2
   * overlay backed by it (a hidden temporary beside the output, removed
   * on failure or a signal), and the copy engine then reads source +
   * overlay once into the output: the used blocks plus every cluster the
   * conversion wrote.  NULL: plain capture. */
  const char *convert;
  const char *root;                   /* --root DEV with several roots */
  const char *drivers;                /* --drivers DIR: Windows drivers */
  /* With convert: boot the result before it is published (kvm: virtio;
   * the firmware from the source's partition table); a boot that fails
   * publishes nothing (lib/guest/pipeline.h). */
  bool verify_boot;
  /* The copy engine's progress hook (copy.h): bytes done and unreadable
   * so far, for callers drawing their own progress (the agent).  NULL:
   * the terminal meter unless quiet. */
  void (*on_progress) (void *opaque, uint64_t done, uint64_t bad,
                       uint64_t total);
  void *opaque;
};

struct capture_result {
  uint64_t source_size;
  struct usedmap map;                 /* empty with all_blocks */
  struct copy_stats stats;
  /* With opts->convert: */
  struct convert_report convert;      /* every change made */
  char *root;                         /* "/dev/sda1 (debian 12.4)" */
  char accel[8];                      /* the appliance's "kvm" or "tcg" */
  struct guest_pipeline_boots boots;  /* verify_boot: the boots made */
};

/* Capture `source` (block device, file standing in for one, or nbd:// URI;
 * always opened read-only) into a new image at `output`.  The output
 * appears only when complete. */
int capture_one (const char *source, const char *output,
                 const struct capture_opts *opts, struct capture_result *res);
void capture_result_free (struct capture_result *res);

/* One entry of a capture report's "captures" array, the shape `ferry
 * capture --json` and the agent's report share: source, output, format,
 * partitions, the copy stats and, when `convert` is not NULL, what the
 * conversion changed. */
struct json;
void capture_result_json (struct json *j, const char *source,
                          const char *output, const char *format,
                          const char *convert,
                          const struct capture_result *res);

#endif

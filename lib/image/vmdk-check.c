/* vmdk-check.c: `ferry check` for VMDK — what open does not already
 * refuse: every grain table entry, every grain marker and every compressed
 * grain, the stream's grain order and the clean-shutdown flag. */
#include "lib/common/compat.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/checked.h"
#include "lib/common/cleanup.h"
#include "lib/common/error.h"
#include "lib/common/fullrw.h"
#include "lib/common/strbuf.h"
#include "lib/image/vmdk.h"

/* A hostile image can be wrong everywhere; the report stays readable. */
#define MAX_REPORTED 100

struct checker {
  struct vmdk *v;
  struct strbuf *report;
  uint64_t problems;
  uint64_t last_offset;         /* of the previous compressed grain */
  char prefix[512];             /* "vmdk: 'PATH': ", cut from messages */
};

static int
problem (struct checker *c, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static int
problem (struct checker *c, const char *fmt, ...)
{
  CLEANUP_FREE char *line = NULL;
  va_list ap;
  int n;

  if (c->problems++ >= MAX_REPORTED)
    return 0;
  va_start (ap, fmt);
  n = vasprintf (&line, fmt, ap);
  va_end (ap);
  if (n < 0)
    return error_errno ("vasprintf");
  return strbuf_addf (c->report, "%s\n", line);
}

/* The reader's error for this grain, without the "vmdk: 'path': " the
 * report does not need. */
static int
grain_problem (struct checker *c)
{
  const char *msg = error_get ();
  size_t n = strlen (c->prefix);

  if (strncmp (msg, c->prefix, n) == 0)
    msg += n;
  return problem (c, "%s", msg);
}

static int
check_grain (struct checker *c, uint64_t t, uint64_t i, uint32_t entry)
{
  struct vmdk *v = c->v;
  uint64_t g = t * v->gtes + i, off = (uint64_t) entry * VMDK_SECTOR;

  if (entry <= VMDK_GTE_ZEROED)
    return 0;
  if (off >= v->file_size)
    return problem (c, "grain table %llu entry %llu points past end of file",
                    (unsigned long long) t, (unsigned long long) i);
  if (!v->compressed)
    return 0;
  /* Out of order or shared: report, and do not inflate it again (a
   * hostile table can point every entry at one grain). */
  if (off <= c->last_offset)
    return problem (c, "grain %llu is stored before the grain preceding it "
                    "(readers of streams expect ascending order)",
                    (unsigned long long) g);
  c->last_offset = off;
  if (vmdk_load_grain (v, g, entry) == -1)
    return grain_problem (c);
  return 0;
}

static int
check_table (struct checker *c, uint64_t t, uint32_t *gt)
{
  struct vmdk *v = c->v;
  uint64_t i;

  if (full_pread (v->fd, gt, (size_t) v->gtes * 4,
                  (uint64_t) v->gd[t] * VMDK_SECTOR, v->img.path) == -1)
    return error_prefix ("vmdk: ");
  for (i = 0; i < v->gtes && t * v->gtes + i < v->n_grains; i++)
    if (check_grain (c, t, i, le32toh (gt[i])) == -1)
      return -1;
  return 0;
}

static int
check_sparse (struct checker *c)
{
  struct vmdk *v = c->v;
  CLEANUP_FREE uint32_t *gt = malloc ((size_t) v->gtes * 4);
  uint64_t t;

  if (gt == NULL)
    return error_errno ("malloc");
  if (v->unclean)
    problem (c, "image was not closed cleanly (uncleanShutdown is set)");
  for (t = 0; t < v->n_gd; t++)
    if (v->gd[t] != 0 && check_table (c, t, gt) == -1)
      return -1;
  return 0;
}

int
vmdk_check (struct image *img, struct strbuf *report)
{
  struct vmdk *v = (struct vmdk *) img;
  struct checker c = { .v = v, .report = report };
  int r;

  if (v->w)
    return error_set ("vmdk: '%s': a streamOptimized image being written "
                      "cannot be checked", img->path);
  if (v->flat)
    return 0;
  snprintf (c.prefix, sizeof c.prefix, "vmdk: '%s': ", img->path);
  pthread_mutex_lock (&v->lock);
  r = check_sparse (&c);
  pthread_mutex_unlock (&v->lock);
  if (r == -1)
    return -1;
  if (c.problems > MAX_REPORTED &&
      strbuf_addf (report, "... and %llu more problems\n",
                   (unsigned long long) (c.problems - MAX_REPORTED)) == -1)
    return -1;
  return c.problems ? 1 : 0;
}

/* lvmmap.c: the used extents of an LVM2 physical volume.  Reads the PV
 * label ("LABELONE" in one of sectors 0-3), the PV header (uuid, metadata
 * areas), the first metadata area's header ("\x20LVM2 x[5A%r0N*>") and
 * the newest committed text metadata in its circular buffer (CRC
 * checked), then parses the text (iteratively: bounded size, node count
 * and depth) into this PV's LVs and the runs of extents they own.
 *
 * Kept: everything before the first extent (label, metadata area), after
 * the last, and each LV's extents.  An LV that is linear and wholly on
 * this PV, and that no other LV uses (thin pools, snapshots, raid and
 * cache keep their data in hidden LVs that are named by others), is seen
 * through a view image of its segments and mapped by `inner` (the
 * filesystem table of usedmap.c): only what its filesystem uses is kept.
 * Every other LV (striped, thin, snapshot, raid, cache, spread over other
 * PVs) keeps its extents on this PV whole.  Extents no LV owns (the VG's
 * free space) are dropped.  Needs only lib/image and zlib (the fuzzer
 * builds it).
 */
#include "lib/common/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/common/checked.h"
#include "lib/common/error.h"
#include "lib/image/copy.h"
#include "lib/disk/lvmmap.h"
#include "lib/disk/usedmap.h"

#define SECTOR 512
#define LVM_MDA_MAGIC "\040\114\126\115\062\040\170\133\065\101\045\162\060\116\052\076"
#define LVM_INITIAL_CRC 0xf597a6cfu
#define LVM_MAX_LVS 4096
#define LVM_MAX_SEGS 4096

/* ---- the text format ---- */

enum node_kind { N_SECTION, N_STRING, N_NUMBER, N_ARRAY };

struct node {
  enum node_kind kind;
  const char *key;          /* NULL for array items */
  const char *str;          /* N_STRING */
  int64_t num;              /* N_NUMBER */
  int child, last, next;    /* first/last child, next sibling; -1 none */
};
DEFINE_VECTOR_TYPE (node_vector, struct node);

struct parser {
  char *text;               /* a private, NUL-terminated copy, cut up */
  size_t pos, len;
  char pending;             /* a delimiter cut off by a word's NUL */
  node_vector nodes;
};

enum tok { T_END, T_ERR, T_WORD, T_STRING, T_PUNCT };

/* The next token.  Words and strings are terminated in place (a string's
 * escapes resolved): a delimiter right after a word is overwritten by the
 * word's NUL and remembered in p->pending for the next call. */
static enum tok
next_token (struct parser *p, char **word, char *punct)
{
  char *t = p->text;

  if (p->pending) {
    char c = p->pending;

    p->pending = 0;
    if (c != '#') {
      *punct = c;
      return T_PUNCT;
    }
    while (p->pos < p->len && t[p->pos] != '\n')
      p->pos++;
  }
  for (;;) {
    while (p->pos < p->len && strchr (" \t\r\n", t[p->pos]))
      p->pos++;
    if (p->pos < p->len && t[p->pos] == '#') {
      while (p->pos < p->len && t[p->pos] != '\n')
        p->pos++;
      continue;
    }
    break;
  }
  if (p->pos >= p->len)
    return T_END;
  if (strchr ("{}[]=,", t[p->pos])) {
    *punct = t[p->pos++];
    return T_PUNCT;
  }
  if (t[p->pos] == '"') {
    size_t out = ++p->pos;

    *word = t + out;
    while (p->pos < p->len && t[p->pos] != '"') {
      if (t[p->pos] == '\\' && p->pos + 1 < p->len)
        p->pos++;
      t[out++] = t[p->pos++];
    }
    if (p->pos >= p->len)
      return T_ERR;
    p->pos++;
    t[out] = '\0';
    return T_STRING;
  }
  *word = t + p->pos;
  while (p->pos < p->len && !strchr (" \t\r\n{}[]=,\"#", t[p->pos]))
    p->pos++;
  if (p->pos < p->len) {
    if (t[p->pos] == '"')
      return T_ERR;
    if (!strchr (" \t\r\n", t[p->pos]))
      p->pending = t[p->pos];
    t[p->pos++] = '\0';
  }
  return T_WORD;
}

static int
add_node (struct parser *p, int parent, struct node n)
{
  int idx;

  if (p->nodes.len >= LVM_MAX_NODES)
    return error_set ("lvm metadata: too many entries");
  n.child = n.last = n.next = -1;
  if (node_vector_append (&p->nodes, n) == -1)
    return -2;
  idx = (int) p->nodes.len - 1;
  if (parent >= 0) {
    struct node *up = &p->nodes.ptr[parent];

    if (up->last >= 0)
      p->nodes.ptr[up->last].next = idx;
    else
      up->child = idx;
    up->last = idx;
  }
  return idx;
}

/* Parse the whole text into p->nodes; node 0 is the root section. */
static int
parse_text (struct parser *p)
{
  int stack[LVM_MAX_DEPTH + 2];
  int depth = 0, r;
  char *word = NULL, *key = NULL;
  char punct = 0;
  enum tok t;

  if ((r = add_node (p, -1, (struct node) { .kind = N_SECTION })) < 0)
    return r;
  stack[0] = 0;
  for (;;) {
    t = next_token (p, &word, &punct);
    if (t == T_END)
      return depth == 0 ? 0 : error_set ("lvm metadata: unterminated");
    if (t == T_PUNCT && punct == '}') {
      if (depth == 0)
        return error_set ("lvm metadata: unbalanced }");
      depth--;
      continue;
    }
    if (t != T_WORD)
      return error_set ("lvm metadata: expected a name");
    key = word;
    t = next_token (p, &word, &punct);
    if (t != T_PUNCT)
      return error_set ("lvm metadata: expected = or {");
    if (punct == '{') {
      if (depth >= LVM_MAX_DEPTH)
        return error_set ("lvm metadata: nested too deep");
      if ((r = add_node (p, stack[depth],
                         (struct node) { .kind = N_SECTION, .key = key })) < 0)
        return r;
      stack[++depth] = r;
      continue;
    }
    if (punct != '=')
      return error_set ("lvm metadata: expected = or {");
    t = next_token (p, &word, &punct);
    if (t == T_PUNCT && punct == '[') {
      int arr = add_node (p, stack[depth],
                          (struct node) { .kind = N_ARRAY, .key = key });
      if (arr < 0)
        return arr;
      for (;;) {
        t = next_token (p, &word, &punct);
        if (t == T_PUNCT && punct == ']')
          break;
        if (t == T_PUNCT && punct == ',')
          continue;
        if (t == T_STRING)
          r = add_node (p, arr, (struct node) { .kind = N_STRING,
                                                .str = word });
        else if (t == T_WORD)
          r = add_node (p, arr, (struct node) {
              .kind = N_NUMBER, .num = strtoll (word, NULL, 10) });
        else
          return error_set ("lvm metadata: bad array");
        if (r < 0)
          return r;
      }
    }
    else if (t == T_STRING) {
      if ((r = add_node (p, stack[depth], (struct node) {
              .kind = N_STRING, .key = key, .str = word })) < 0)
        return r;
    }
    else if (t == T_WORD) {
      if ((r = add_node (p, stack[depth], (struct node) {
              .kind = N_NUMBER, .key = key,
              .num = strtoll (word, NULL, 10) })) < 0)
        return r;
    }
    else
      return error_set ("lvm metadata: bad value");
  }
}

static int
child (const struct parser *p, int sec, const char *key)
{
  int c;

  if (sec < 0)
    return -1;
  for (c = p->nodes.ptr[sec].child; c >= 0; c = p->nodes.ptr[c].next)
    if (p->nodes.ptr[c].key && strcmp (p->nodes.ptr[c].key, key) == 0)
      return c;
  return -1;
}

static bool
num (const struct parser *p, int sec, const char *key, int64_t *v)
{
  int c = child (p, sec, key);

  if (c < 0 || p->nodes.ptr[c].kind != N_NUMBER)
    return false;
  *v = p->nodes.ptr[c].num;
  return true;
}

static const char *
str (const struct parser *p, int sec, const char *key)
{
  int c = child (p, sec, key);

  return c >= 0 && p->nodes.ptr[c].kind == N_STRING ? p->nodes.ptr[c].str
    : NULL;
}

/* Is `name` a string value anywhere under logical_volumes other than in
 * its own section (another LV's segment naming it as a sub-LV)?  One pass
 * over every node: the tree is walked by an explicit stack. */
static bool
used_by_other_lv (const struct parser *p, int lvs, int self,
                  const char *name)
{
  int stack[LVM_MAX_DEPTH + 2], depth = 0, c;

  for (c = p->nodes.ptr[lvs].child; c >= 0; c = p->nodes.ptr[c].next) {
    int n;

    if (c == self || p->nodes.ptr[c].kind != N_SECTION)
      continue;
    depth = 0;
    stack[0] = p->nodes.ptr[c].child;
    while (depth >= 0) {
      n = stack[depth];
      if (n < 0) {
        depth--;
        if (depth >= 0)
          stack[depth] = p->nodes.ptr[stack[depth]].next;
        continue;
      }
      if (p->nodes.ptr[n].kind == N_STRING &&
          strcmp (p->nodes.ptr[n].str, name) == 0)
        return true;
      if ((p->nodes.ptr[n].kind == N_SECTION ||
           p->nodes.ptr[n].kind == N_ARRAY) &&
          p->nodes.ptr[n].child >= 0 && depth + 1 < LVM_MAX_DEPTH + 2) {
        stack[++depth] = p->nodes.ptr[n].child;
        continue;
      }
      stack[depth] = p->nodes.ptr[n].next;
    }
  }
  return false;
}

static void
uuid_plain (const char *in, char *out, size_t size)
{
  size_t n = 0;

  for (; *in && n + 1 < size; in++)
    if (*in != '-')
      out[n++] = *in;
  out[n] = '\0';
}

static int
compare_areas (const void *a, const void *b)
{
  const struct lvm_area *x = a, *y = b;

  return x->pv_extent < y->pv_extent ? -1 : x->pv_extent > y->pv_extent;
}

/* One LV: its segments' runs on this PV, and whether it can be mapped. */
static int
read_lv (const struct parser *p, int lvs, int lv, const char *pvname,
         struct lvm_pv_map *m)
{
  struct lvm_lv out = { .mappable = true };
  size_t index = m->lvs.len;
  int c, nseg = 0;

  snprintf (out.name, sizeof out.name, "%s", p->nodes.ptr[lv].key);
  snprintf (out.kind, sizeof out.kind, "linear");
  for (c = p->nodes.ptr[lv].child; c >= 0; c = p->nodes.ptr[c].next) {
    int64_t start, count, stripes = 0;
    const char *type;
    int arr, item, k;

    if (p->nodes.ptr[c].kind != N_SECTION ||
        strncmp (p->nodes.ptr[c].key, "segment", 7) != 0)
      continue;
    if (++nseg > LVM_MAX_SEGS)
      return error_set ("lvm metadata: too many segments");
    if (!num (p, c, "start_extent", &start) ||
        !num (p, c, "extent_count", &count) || start < 0 || count <= 0 ||
        start > (INT64_C (1) << 40) || count > (INT64_C (1) << 40) ||
        (type = str (p, c, "type")) == NULL)
      return error_set ("lvm metadata: bad segment in LV %s", out.name);
    if ((uint64_t) start + (uint64_t) count > out.extents)
      out.extents = (uint64_t) start + (uint64_t) count;
    if (strcmp (type, "striped") != 0) {
      out.mappable = false;
      snprintf (out.kind, sizeof out.kind, "%s", type);
      /* Its data lives in hidden LVs, kept through their own entries. */
      continue;
    }
    num (p, c, "stripe_count", &stripes);
    arr = child (p, c, "stripes");
    if (stripes < 1 || arr < 0 || p->nodes.ptr[arr].kind != N_ARRAY)
      return error_set ("lvm metadata: bad stripes in LV %s", out.name);
    if (stripes > 1) {
      out.mappable = false;
      snprintf (out.kind, sizeof out.kind, "striped");
    }
    /* Pairs "pvN", first extent; each stripe holds count/stripes. */
    item = p->nodes.ptr[arr].child;
    for (k = 0; k < stripes; k++) {
      const struct node *pv, *pe;
      uint64_t per = (uint64_t) count / (uint64_t) stripes;

      if (item < 0 || (pv = &p->nodes.ptr[item])->kind != N_STRING ||
          p->nodes.ptr[item].next < 0 ||
          (pe = &p->nodes.ptr[p->nodes.ptr[item].next])->kind != N_NUMBER ||
          pe->num < 0)
        return error_set ("lvm metadata: bad stripes in LV %s", out.name);
      item = pe->next;
      if (strcmp (pv->str, pvname) != 0) {
        out.mappable = false;         /* partly on another PV */
        if (strcmp (out.kind, "linear") == 0)
          snprintf (out.kind, sizeof out.kind, "multi-pv");
        continue;
      }
      if ((uint64_t) pe->num > m->pe_count ||
          per > m->pe_count - (uint64_t) pe->num)
        return error_set ("lvm metadata: LV %s past its PV", out.name);
      if (per == 0)
        continue;
      if (m->areas.len >= (size_t) LVM_MAX_LVS * 16)
        return error_set ("lvm metadata: too many segments");
      if (lvm_area_vector_append (&m->areas, (struct lvm_area) {
            .pv_extent = (uint64_t) pe->num, .count = per, .lv = index,
            .lv_extent = (uint64_t) start }) == -1)
        return -2;
    }
  }
  if (nseg == 0 || out.extents == 0)
    out.mappable = false;
  if (out.mappable && used_by_other_lv (p, lvs, lv, out.name)) {
    out.mappable = false;
    snprintf (out.kind, sizeof out.kind, "sub-lv");
  }
  if (m->lvs.len >= LVM_MAX_LVS)
    return error_set ("lvm metadata: too many LVs");
  return lvm_lv_vector_append (&m->lvs, out) == -1 ? -2 : 0;
}

static int
describe_pv (const struct parser *p, const char *pv_uuid,
             struct lvm_pv_map *m)
{
  int vg = -1, pvs, lvs, c;
  int64_t extent_size, pe_start, pe_count;
  const char *pvname = NULL;
  char want[40], have[40];
  size_t i;

  /* The VG is the one section at the top. */
  for (c = p->nodes.ptr[0].child; c >= 0; c = p->nodes.ptr[c].next)
    if (p->nodes.ptr[c].kind == N_SECTION) {
      if (vg >= 0)
        return error_set ("lvm metadata: several volume groups");
      vg = c;
    }
  if (vg < 0)
    return error_set ("lvm metadata: no volume group");
  if (!num (p, vg, "extent_size", &extent_size) || extent_size < 8 ||
      extent_size > (INT64_C (1) << 32) || (extent_size & (extent_size - 1)))
    return error_set ("lvm metadata: bad extent size");
  m->extent_size = (uint64_t) extent_size * SECTOR;
  uuid_plain (pv_uuid, want, sizeof want);
  pvs = child (p, vg, "physical_volumes");
  for (c = pvs >= 0 ? p->nodes.ptr[pvs].child : -1; c >= 0;
       c = p->nodes.ptr[c].next) {
    const char *id = str (p, c, "id");

    if (p->nodes.ptr[c].kind != N_SECTION || id == NULL)
      continue;
    uuid_plain (id, have, sizeof have);
    if (strcmp (have, want) == 0) {
      pvname = p->nodes.ptr[c].key;
      break;
    }
  }
  if (pvname == NULL)
    return error_set ("lvm metadata: this PV is not in its VG");
  if (!num (p, c, "pe_start", &pe_start) ||
      !num (p, c, "pe_count", &pe_count) || pe_start < 0 || pe_count < 0 ||
      pe_start > (INT64_C (1) << 50) || pe_count > (INT64_C (1) << 40))
    return error_set ("lvm metadata: bad PV geometry");
  m->pe_start = (uint64_t) pe_start * SECTOR;
  m->pe_count = (uint64_t) pe_count;
  lvs = child (p, vg, "logical_volumes");
  for (c = lvs >= 0 ? p->nodes.ptr[lvs].child : -1; c >= 0;
       c = p->nodes.ptr[c].next) {
    int r;

    if (p->nodes.ptr[c].kind != N_SECTION)
      continue;
    if ((r = read_lv (p, lvs, c, pvname, m)) < 0)
      return r;
  }
  if (m->areas.len > 1)
    qsort (m->areas.ptr, m->areas.len, sizeof *m->areas.ptr, compare_areas);
  for (i = 1; i < m->areas.len; i++)
    if (m->areas.ptr[i].pv_extent <
        m->areas.ptr[i - 1].pv_extent + m->areas.ptr[i - 1].count)
      return error_set ("lvm metadata: LVs overlap on the PV");
  return 0;
}

int
lvm_parse_metadata (const char *text, size_t len, const char *pv_uuid,
                    struct lvm_pv_map *out)
{
  struct parser p = { .nodes = empty_vector };
  int r;

  memset (out, 0, sizeof *out);
  if (len > LVM_MAX_TEXT)
    return error_set ("lvm metadata: too large"), 1;
  if ((p.text = malloc (len + 1)) == NULL)
    return error_errno ("malloc");
  memcpy (p.text, text, len);
  p.text[len] = '\0';
  p.len = strlen (p.text);    /* stop at a NUL: the rest is padding */
  r = parse_text (&p);
  if (r == 0)
    r = describe_pv (&p, pv_uuid, out);
  free (p.text);
  node_vector_reset (&p.nodes);
  if (r == -2)
    return error_errno ("malloc");
  return r == -1 ? 1 : 0;
}

void
lvm_pv_map_free (struct lvm_pv_map *m)
{
  lvm_lv_vector_reset (&m->lvs);
  lvm_area_vector_reset (&m->areas);
}

/* ---- the PV on disk ---- */

static uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
    (uint32_t) p[3] << 24;
}

static uint64_t
le64 (const unsigned char *p)
{
  return (uint64_t) le32 (p) | (uint64_t) le32 (p + 4) << 32;
}

/* LVM's CRC: zlib's polynomial, without the final inversion. */
static uint32_t
lvm_crc (uint32_t initial, const unsigned char *buf, size_t len)
{
  uLong c = ~(uLong) initial & 0xffffffffu;

  while (len > 0) {
    uInt n = len > (1u << 30) ? 1u << 30 : (uInt) len;

    c = crc32 (c, buf, n);
    buf += n;
    len -= n;
  }
  return ~(uint32_t) c;
}

struct pv {
  struct image *src;
  uint64_t offset, length;
  unsigned retries;
};

static int
pv_read (struct pv *pv, void *buf, uint64_t len, uint64_t off)
{
  if (off > pv->length || len > pv->length - off)
    return error_set ("read past the PV");
  return image_pread_retry (pv->src, buf, len, pv->offset + off,
                            pv->retries);
}

/* The label and PV header: the uuid and the first usable metadata
 * area's text.  Returns 0 with *text (malloc'd) or -1. */
static int
read_pv_metadata (struct pv *pv, char uuid[33], char **text, size_t *len)
{
  unsigned char sec[SECTOR], mda[SECTOR];
  uint64_t lsec, hoff, mda_off, mda_size, roff, rsize, first;
  unsigned char *buf;
  unsigned s, i, areas;
  const unsigned char *ph, *d;

  *text = NULL;
  for (s = 0; s < 4; s++) {
    if (pv_read (pv, sec, SECTOR, (uint64_t) s * SECTOR) == -1)
      return -1;
    if (memcmp (sec, "LABELONE", 8) == 0 && le64 (sec + 8) == s &&
        memcmp (sec + 24, "LVM2 001", 8) == 0)
      break;
  }
  if (s == 4)
    return error_set ("no LVM2 label");
  lsec = s;
  (void) lsec;
  if (lvm_crc (LVM_INITIAL_CRC, sec + 20, SECTOR - 20) != le32 (sec + 16))
    return error_set ("LVM2 label checksum mismatch");
  hoff = le32 (sec + 20);
  if (hoff < 32 || hoff > SECTOR - 32 - 16)
    return error_set ("bad PV header offset");
  ph = sec + hoff;
  memcpy (uuid, ph, 32);
  uuid[32] = '\0';
  /* Data areas, then metadata areas, each list ended by a zero entry. */
  d = ph + 40;
  for (areas = 0; d + 16 <= sec + SECTOR && le64 (d) != 0; d += 16)
    areas++;
  d += 16;
  for (i = 0; d + 16 <= sec + SECTOR && le64 (d) != 0 && i < 2; d += 16, i++) {
    mda_off = le64 (d);
    mda_size = le64 (d + 8);
    if (mda_size < 2 * SECTOR || mda_off > pv->length ||
        mda_size > pv->length - mda_off)
      continue;
    if (pv_read (pv, mda, SECTOR, mda_off) == -1)
      continue;
    if (memcmp (mda + 4, LVM_MDA_MAGIC, 16) != 0 || le32 (mda + 20) != 1 ||
        le64 (mda + 24) != mda_off ||
        lvm_crc (LVM_INITIAL_CRC, mda + 4, SECTOR - 4) != le32 (mda))
      continue;
    /* raw_locn 0: the committed metadata; flag 1 = ignored area. */
    roff = le64 (mda + 40);
    rsize = le64 (mda + 48);
    if (le32 (mda + 60) & 1 || rsize == 0 || rsize > LVM_MAX_TEXT ||
        rsize > mda_size - SECTOR || roff < SECTOR || roff >= mda_size)
      continue;
    if ((buf = malloc (rsize)) == NULL)
      return error_errno ("malloc");
    /* A circular buffer: what passes its end goes on after its header. */
    first = MIN (rsize, mda_size - roff);
    if (pv_read (pv, buf, first, mda_off + roff) == -1 ||
        (first < rsize &&
         pv_read (pv, buf + first, rsize - first, mda_off + SECTOR) == -1) ||
        lvm_crc (LVM_INITIAL_CRC, buf, rsize) != le32 (mda + 56)) {
      free (buf);
      continue;
    }
    *text = (char *) buf;
    *len = rsize;
    return 0;
  }
  return error_set ("no readable metadata area");
}

/* An LV seen as a disk of its own: reads go to its runs on the PV. */
struct lvview {
  struct image img;
  struct image *src;
  uint64_t pv_offset;           /* the PV's offset in src */
  const struct lvm_pv_map *m;
  const struct lvm_area *runs;  /* sorted by lv_extent, contiguous */
  size_t nruns;
};

static int
lvview_pread (struct image *img, void *buf, size_t count, uint64_t offset)
{
  struct lvview *v = (struct lvview *) img;
  uint64_t es = v->m->extent_size;
  size_t i;

  for (i = 0; i < v->nruns && count > 0; i++) {
    uint64_t start = v->runs[i].lv_extent * es;
    uint64_t end = start + v->runs[i].count * es, n;

    if (offset >= end)
      continue;
    n = MIN ((uint64_t) count, end - offset);
    if (image_pread (v->src, buf, n, v->pv_offset + v->m->pe_start +
                     v->runs[i].pv_extent * es + (offset - start)) == -1)
      return -1;
    buf = (char *) buf + n;
    count -= n;
    offset += n;
  }
  if (count > 0) {
    errno = EINVAL;
    return error_set ("LV view: read past its segments");
  }
  return 0;
}

static const struct image_ops lvview_ops = {
  .name = "lv",
  .pread = lvview_pread,
};

static int
compare_lv_runs (const void *a, const void *b)
{
  const struct lvm_area *x = a, *y = b;

  return x->lv_extent < y->lv_extent ? -1 : x->lv_extent > y->lv_extent;
}

static int
compare_extents (const void *a, const void *b)
{
  const struct extent *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void
note_add (char *note, size_t size, const char *name, const char *method)
{
  size_t n;

  if (note == NULL || size == 0)
    return;
  n = strlen (note);
  if (n + strlen (name) + strlen (method) + 6 >= size) {
    if (n + 4 < size && (n < 3 || strcmp (note + n - 3, "...") != 0))
      snprintf (note + n, size - n, "%s...", n ? " " : "");
    return;
  }
  snprintf (note + n, size - n, "%s%s=%s", n ? " " : "", name, method);
}

/* Map LV `lv`: its runs (all on this PV, contiguous from extent 0) seen
 * through a view, handed to inner; its kept ranges go back to PV offsets
 * in *out.  Returns 0 mapped, 1 not (keep it whole), -1 on errors. */
static int
map_lv (struct pv *pv, const struct lvm_pv_map *m, size_t lv,
        usedmap_inner_fn *inner, extent_vector *out, char *method,
        size_t method_size)
{
  struct lvview v = { .src = pv->src, .pv_offset = pv->offset, .m = m };
  struct lvm_area *runs = NULL;
  extent_vector kept = empty_vector;
  uint64_t next = 0, es = m->extent_size;
  size_t i, j, n = 0;
  int r = 1;

  for (i = 0; i < m->areas.len; i++)
    n += m->areas.ptr[i].lv == lv;
  if (n == 0 || (runs = calloc (n, sizeof *runs)) == NULL)
    return n == 0 ? 1 : error_errno ("calloc");
  for (i = 0, j = 0; i < m->areas.len; i++)
    if (m->areas.ptr[i].lv == lv)
      runs[j++] = m->areas.ptr[i];
  qsort (runs, n, sizeof *runs, compare_lv_runs);
  for (i = 0; i < n; i++) {
    if (runs[i].lv_extent != next)
      goto out;               /* a hole: part of it is elsewhere */
    next += runs[i].count;
  }
  if (next != m->lvs.ptr[lv].extents || next > UINT64_MAX / es)
    goto out;
  v.runs = runs;
  v.nruns = n;
  if (image_init (&v.img, &lvview_ops, "lv", next * es, false) == -1) {
    r = -1;
    goto out;
  }
  r = inner (&v.img, pv->retries, &kept, method, method_size);
  image_fini (&v.img);
  if (r != 0)
    goto out;
  /* Back to PV offsets, split where runs end. */
  for (i = 0; i < kept.len; i++) {
    uint64_t off = kept.ptr[i].offset, len = kept.ptr[i].length;

    for (j = 0; j < n && len > 0; j++) {
      uint64_t start = runs[j].lv_extent * es, end = start + runs[j].count * es;
      uint64_t take;

      if (off >= end || off < start)
        continue;
      take = MIN (len, end - off);
      if (extent_vector_append (out, (struct extent) {
            .offset = pv->offset + m->pe_start + runs[j].pv_extent * es +
              (off - start), .length = take, .type = EXTENT_DATA }) == -1) {
        r = -1;
        goto out;
      }
      off += take;
      len -= take;
    }
  }
 out:
  extent_vector_reset (&kept);
  free (runs);
  return r;
}

int
lvmmap_used (struct image *src, uint64_t offset, uint64_t length,
             unsigned retries, extent_vector *keep, usedmap_inner_fn *inner,
             char *note, size_t note_size)
{
  struct pv pv = { .src = src, .offset = offset, .length = length,
                   .retries = retries };
  struct lvm_pv_map m = { 0 };
  extent_vector mine = empty_vector;
  char uuid[33], method[48];
  char *text = NULL;
  size_t len = 0, i, l;
  uint64_t data_end;
  int r = 1, q;

  if (note && note_size)
    note[0] = '\0';
  if (read_pv_metadata (&pv, uuid, &text, &len) == -1)
    goto out;
  q = lvm_parse_metadata (text, len, uuid, &m);
  if (q != 0) {
    r = q;
    goto out;
  }
  if (m.pe_start > length ||
      m.pe_count > (length - m.pe_start) / m.extent_size) {
    error_set ("extents past the PV's end");
    goto out;
  }
  data_end = m.pe_start + m.pe_count * m.extent_size;
  /* Label, metadata area, and whatever follows the last extent. */
  if (extent_vector_append (&mine, (struct extent) {
        .offset = offset, .length = m.pe_start, .type = EXTENT_DATA }) == -1 ||
      extent_vector_append (&mine, (struct extent) {
        .offset = offset + data_end, .length = length - data_end,
        .type = EXTENT_DATA }) == -1)
    goto nomem;
  for (l = 0; l < m.lvs.len; l++) {
    const struct lvm_lv *lv = &m.lvs.ptr[l];

    q = 1;
    method[0] = '\0';
    if (lv->mappable && inner)
      q = map_lv (&pv, &m, l, inner, &mine, method, sizeof method);
    if (q == -1)
      goto nomem;
    if (q == 1) {
      for (i = 0; i < m.areas.len; i++)
        if (m.areas.ptr[i].lv == l &&
            extent_vector_append (&mine, (struct extent) {
                .offset = offset + m.pe_start +
                  m.areas.ptr[i].pv_extent * m.extent_size,
                .length = m.areas.ptr[i].count * m.extent_size,
                .type = EXTENT_DATA }) == -1)
          goto nomem;
      if (method[0] == '\0')
        snprintf (method, sizeof method, "full(%s)", lv->kind);
    }
    for (i = 0; i < m.areas.len && m.areas.ptr[i].lv != l; i++)
      ;
    if (i < m.areas.len)      /* LVs with nothing here are not named */
      note_add (note, note_size, lv->name, method);
  }
  /* Sorted and merged into keep. */
  qsort (mine.ptr, mine.len, sizeof *mine.ptr, compare_extents);
  {
    uint64_t cur = 0, end = 0;
    bool open = false;

    for (i = 0; i < mine.len; i++) {
      struct extent *e = &mine.ptr[i];

      if (e->length == 0)
        continue;
      if (open && e->offset <= end) {
        end = MAX (end, e->offset + e->length);
        continue;
      }
      if (open && extent_add (keep, cur, end - cur, EXTENT_DATA) == -1)
        goto nomem;
      cur = e->offset;
      end = e->offset + e->length;
      open = true;
    }
    if (open && extent_add (keep, cur, end - cur, EXTENT_DATA) == -1)
      goto nomem;
  }
  r = 0;
  goto out;
 nomem:
  r = -1;
 out:
  extent_vector_reset (&mine);
  lvm_pv_map_free (&m);
  free (text);
  return r;
}

/* xml.c: the XML plumbing the package codecs share (xml.h) — a locked-down
 * libxml2 reader for hostile input, number parsing, DOM lookups, a writer. */
#include "lib/common/compat.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "lib/common/error.h"
#include "lib/common/strbuf.h"
#include "ova/xml.h"

/* ---- reading hostile input ---------------------------------------------- */

struct xml_guard {
  bool doctype;
  char first[200];              /* libxml2's first error, one line */
};

const char *
xml_show (char buf[80], const char *s)
{
  size_t i, n = 0;

  if (s == NULL)
    s = "";
  for (i = 0; s[i] && n < 64; i++)
    buf[n++] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
  if (s[i])
    buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
  buf[n] = '\0';
  return buf;
}

/* A DOCTYPE is where entities (XXE, billion laughs) are declared, and no
 * format we read needs one: stop the parser before its internal subset. */
static void
on_doctype (void *ctx, const xmlChar *name, const xmlChar *eid,
            const xmlChar *sid)
{
  xmlParserCtxtPtr c = ctx;

  (void) name, (void) eid, (void) sid;
  ((struct xml_guard *) c->_private)->doctype = true;
  xmlStopParser (c);
}

static void
on_entity (void *ctx, const xmlChar *name, int type, const xmlChar *pid,
           const xmlChar *sid, xmlChar *content)
{
  (void) name, (void) type, (void) pid, (void) sid, (void) content;
  on_doctype (ctx, NULL, NULL, NULL);
}

/* Keep libxml2 quiet; remember its first complaint for our message. */
static void
on_error (void *ctx, xmlErrorPtr e)
{
  xmlParserCtxtPtr c = ctx;
  struct xml_guard *g = c->_private;
  char b[80];

  if (g->first[0] || e == NULL || e->level < XML_ERR_ERROR)
    return;
  if (e->line > 0)
    snprintf (g->first, sizeof g->first, "line %d: %s", e->line,
              xml_show (b, e->message));
  else
    snprintf (g->first, sizeof g->first, "%s", xml_show (b, e->message));
  /* libxml2 messages end in a newline, shown as '?'. */
  if (str_has_suffix (g->first, "?"))
    g->first[strlen (g->first) - 1] = '\0';
}

static xmlDocPtr
parse_quietly (xmlParserCtxtPtr c, const char *xml, size_t len)
{
  xmlStructuredErrorFunc old = xmlStructuredError;
  void *old_data = xmlStructuredErrorContext;
  xmlDocPtr doc;

  /* Encoding and I/O errors bypass the context and would go to stderr:
   * catch them too, for this thread and this call only. */
  xmlSetStructuredErrorFunc (c, on_error);
  /* No NOENT, no DTDLOAD/DTDATTR: nothing is substituted or fetched. */
  doc = xmlCtxtReadMemory (c, xml, (int) len, NULL, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR |
                           XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  xmlSetStructuredErrorFunc (old_data, old);
  return doc;
}

/* The document if it is well-formed and declares no DTD; else NULL. */
static xmlDocPtr
accept_doc (xmlParserCtxtPtr c, xmlDocPtr doc, struct xml_guard *g)
{
  if (doc && (doc->intSubset || doc->extSubset))
    g->doctype = true;
  if (doc && !g->doctype && c->wellFormed)
    return doc;
  xmlFreeDoc (doc);
  return NULL;
}

static void
set_error (const char *pfx, const char *fmt, ...)
{
  char msg[512];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  error_set ("%s: %s", pfx, msg);
}

xmlDocPtr
xml_read_hostile (const char *xml, size_t len, const struct xml_rules *r,
                  const char *pfx)
{
  struct xml_guard g = { .doctype = false };
  xmlParserCtxtPtr c;
  xmlDocPtr doc;

  if (len > r->max_size || len > INT_MAX)
    return set_error (pfx, r->too_large, len, r->max_size), NULL;
  xmlInitParser ();
  if ((c = xmlNewParserCtxt ()) == NULL)
    return error_set ("%s: out of memory", pfx), NULL;
  c->_private = &g;
  c->sax->internalSubset = on_doctype;
  c->sax->entityDecl = on_entity;
  c->sax->serror = on_error;
  doc = accept_doc (c, parse_quietly (c, xml, len), &g);
  xmlFreeParserCtxt (c);
  if (doc)
    return doc;
  if (g.doctype)
    set_error (pfx, "%s", r->doctype);
  else
    set_error (pfx, r->malformed, g.first[0] ? g.first : "unknown");
  return NULL;
}

/* ---- numbers ------------------------------------------------------------- */

int
xml_parse_u64 (const char *s, uint64_t *out)
{
  unsigned long long v;
  char *end;

  if (s == NULL)
    return -1;
  while (isspace ((unsigned char) *s))
    s++;
  if (!isdigit ((unsigned char) *s))
    return -1;                  /* no sign, no empty string */
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno == ERANGE)
    return -1;
  while (isspace ((unsigned char) *end))
    end++;
  if (*end != '\0')
    return -1;
  *out = v;
  return 0;
}

int
xml_parse_range (const char *s, unsigned min, unsigned max, unsigned *out)
{
  uint64_t v;

  if (xml_parse_u64 (s, &v) == -1 || v < min || v > max)
    return -1;
  *out = (unsigned) v;
  return 0;
}

/* ---- the tree ------------------------------------------------------------ */

bool
xml_is_elem (const xmlNode *n, const char *local)
{
  return n && n->type == XML_ELEMENT_NODE &&
    strcmp ((const char *) n->name, local) == 0;
}

bool
xml_in_ns (const xmlNode *n, const char *href)
{
  return n->ns && n->ns->href &&
    strcmp ((const char *) n->ns->href, href) == 0;
}

xmlNode *
xml_child (const xmlNode *parent, const char *local)
{
  xmlNode *c;

  for (c = parent ? parent->children : NULL; c; c = c->next)
    if (xml_is_elem (c, local))
      return c;
  return NULL;
}

xmlNode *
xml_child_ns (const xmlNode *parent, const char *ns, const char *local)
{
  xmlNode *c;

  for (c = parent ? parent->children : NULL; c; c = c->next)
    if (xml_is_elem (c, local) && xml_in_ns (c, ns))
      return c;
  return NULL;
}

xmlNode *
xml_first_elem (const xmlNode *parent)
{
  xmlNode *c;

  for (c = parent ? parent->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return c;
  return NULL;
}

xmlNode *
xml_next_elem (const xmlNode *n)
{
  for (n = n->next; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE)
      return (xmlNode *) n;
  return NULL;
}

/* No DTD is ever read, so an attribute is one text node (entities are
 * always expanded in values). */
const char *
xml_attr (const xmlNode *n, const char *name, const char *ns)
{
  xmlAttr *a = xmlHasNsProp (n, BAD_CAST name, BAD_CAST ns);

  if (a == NULL && ns != NULL)
    a = xmlHasNsProp (n, BAD_CAST name, NULL);
  if (a == NULL || a->type != XML_ATTRIBUTE_NODE)
    return NULL;
  if (a->children == NULL)
    return "";
  if (a->children->type != XML_TEXT_NODE || a->children->next != NULL)
    return NULL;
  return (const char *) a->children->content;
}

void
xml_free_p (xmlChar **p)
{
  xmlFree (*p);
}

/* ---- writing ------------------------------------------------------------- */

void
xml_add (struct xml_writer *w, const char *fmt, ...)
{
  char small[256], *buf = small;
  va_list ap;
  int n;

  if (w->failed)
    return;
  va_start (ap, fmt);
  n = vsnprintf (small, sizeof small, fmt, ap);
  va_end (ap);
  if (n >= (int) sizeof small) {
    if ((buf = malloc ((size_t) n + 1)) == NULL) {
      w->failed = error_errno ("%s: %s", w->who, w->doing);
      return;
    }
    va_start (ap, fmt);
    vsnprintf (buf, (size_t) n + 1, fmt, ap);
    va_end (ap);
  }
  if (n < 0 || strbuf_add (w->sb, buf, (size_t) n) == -1)
    w->failed = -1;
  if (buf != small)
    free (buf);
}

static void
add_escaped (struct xml_writer *w, const char *s, bool quotes)
{
  const unsigned char *p;

  for (p = (const unsigned char *) s; !w->failed && *p; p++) {
    switch (*p) {
    case '&':
      xml_add (w, "&amp;");
      break;
    case '<':
      xml_add (w, "&lt;");
      break;
    case '>':
      xml_add (w, "&gt;");
      break;
    case '\'':
      xml_add (w, quotes ? "&apos;" : "'");
      break;
    case '"':
      xml_add (w, quotes ? "&quot;" : "\"");
      break;
    case '\t':
    case '\n':
    case '\r':
      xml_add (w, "&#%d;", *p);
      break;
    default:
      if (*p < 0x20)
        w->failed = error_set ("%s: '%.40s' contains a control character "
                               "that XML cannot hold", w->who, s);
      else
        xml_add (w, "%c", *p);
    }
  }
}

void
xml_add_text (struct xml_writer *w, const char *s)
{
  add_escaped (w, s, false);
}

void
xml_add_attr (struct xml_writer *w, const char *s)
{
  add_escaped (w, s, true);
}

void
xml_add_elem (struct xml_writer *w, const char *indent, const char *tag,
              const char *s)
{
  xml_add (w, "%s<%s>", indent, tag);
  xml_add_attr (w, s);
  xml_add (w, "</%s>\n", tag);
}

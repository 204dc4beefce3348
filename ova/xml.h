/* xml.h: what the package codecs (ovf, libvirt, xva-xml) share about XML —
 * one locked-down reader for hostile documents, number parsing, small DOM
 * lookups and an escaping writer.
 *
 * Ownership: a document from xml_read_hostile() belongs to the caller
 * (xmlFreeDoc).  Every `const char *` the DOM helpers return points into
 * that document and lives as long as it; nothing here allocates otherwise,
 * except the writer, which appends to a strbuf the caller owns.
 */
#ifndef FERRY_OVA_XML_H
#define FERRY_OVA_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "lib/common/strbuf.h"

/* ---- reading hostile input ---------------------------------------------- */

/* How one codec words the reader's refusals.  Each message is appended to
 * the codec's prefix: "PREFIX: message", PREFIX being "NAME: 'WHAT'". */
struct xml_rules {
  size_t max_size;          /* larger documents are refused unread */
  const char *too_large;    /* printf format: %zu the size, %zu the limit */
  const char *doctype;      /* the refusal of any DOCTYPE */
  const char *malformed;    /* printf format: %s libxml2's first complaint */
};

/* Parse `len` bytes that nobody vouches for: capped at r->max_size, no
 * network, no entity substitution, any DOCTYPE refused before a single
 * declaration is read, and libxml2 kept silent (its first error, as one
 * bounded line, goes into our message).  NULL + error on failure. */
xmlDocPtr xml_read_hostile (const char *xml, size_t len,
                            const struct xml_rules *r, const char *pfx);

/* A printable, bounded copy of hostile text (at most 64 bytes, then "...";
 * control characters become '?') for a one-line error message. */
const char *xml_show (char buf[80], const char *s);

/* ---- numbers ------------------------------------------------------------- */

/* Decimal digits only, surrounding white space allowed; no sign, no empty
 * string, no overflow.  NULL is refused.  0 or -1 (no error is set). */
int xml_parse_u64 (const char *s, uint64_t *out);

/* The same, also refusing values outside [min, max]. */
int xml_parse_range (const char *s, unsigned min, unsigned max,
                     unsigned *out);

/* ---- the tree ------------------------------------------------------------ */

/* n is an element called `local` (namespace not considered); NULL: false. */
bool xml_is_elem (const xmlNode *n, const char *local);

/* n is in the namespace `href`. */
bool xml_in_ns (const xmlNode *n, const char *href);

/* The first element child called `local`, in any namespace (xml_child) or
 * in `ns` (xml_child_ns); NULL if none or if parent is NULL. */
xmlNode *xml_child (const xmlNode *parent, const char *local);
xmlNode *xml_child_ns (const xmlNode *parent, const char *ns,
                       const char *local);

/* Element children in order: the first, the one after n; NULL at the end. */
xmlNode *xml_first_elem (const xmlNode *parent);
xmlNode *xml_next_elem (const xmlNode *n);

/* The attribute `name` in namespace `ns`, falling back to no namespace
 * (which some writers use); ns NULL: no namespace only.  NULL if absent or
 * not plain text. */
const char *xml_attr (const xmlNode *n, const char *name, const char *ns);

/* xmlFree()d when it goes out of scope. */
void xml_free_p (xmlChar **p);
#define CLEANUP_XFREE __attribute__ ((cleanup (xml_free_p)))

/* ---- writing ------------------------------------------------------------- */

/* Every append goes through the writer so that one ENOMEM or bad string is
 * remembered and reported once, at the end: after a failure every call is
 * a no-op and `failed` stays -1.  The strbuf is the caller's. */
struct xml_writer {
  struct strbuf *sb;
  const char *who;          /* "libvirt": errors read "libvirt: ..." */
  const char *doing;        /* ENOMEM reads "WHO: DOING: strerror" */
  int failed;
};

void xml_add (struct xml_writer *w, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* s escaped for element content: & < > as entities, tab, LF and CR as
 * character references (parsers normalise them when raw).  Other control
 * characters cannot be written in XML 1.0 at all: the writer fails. */
void xml_add_text (struct xml_writer *w, const char *s);

/* The same with both quotes escaped too: fit for attribute values (and
 * for content). */
void xml_add_attr (struct xml_writer *w, const char *s);

/* INDENT<TAG>s</TAG> and a newline, s escaped as by xml_add_attr(). */
void xml_add_elem (struct xml_writer *w, const char *indent, const char *tag,
                   const char *s);

#endif

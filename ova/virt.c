/* virt.c: a running libvirt through its C API — connections, the host's
 * domain type, defining, reading and starting domains (virt.h). */
#include "lib/common/compat.h"

#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>

#include "lib/common/error.h"
#include "lib/common/ids.h"
#include "lib/common/strbuf.h"
#include "ova/libvirt.h"
#include "ova/virt.h"
#include "ova/xml.h"

struct virt {
  virConnectPtr conn;
  char *uri;                    /* canonical, from the daemon */
};

/* ---- errors -------------------------------------------------------------- */

/* libvirt prints every error to stderr unless told otherwise. */
static void
silent (void *opaque, virErrorPtr e)
{
  (void) opaque;
  (void) e;
}

/* libvirt's last error as one line (QEMU's stderr, which some messages
 * carry, spans several). */
static const char *
last_error (char *buf, size_t len)
{
  const char *m = virGetLastErrorMessage ();
  size_t i;

  snprintf (buf, len, "%s", m ? m : "unknown libvirt error");
  for (i = 0; buf[i]; i++)
    if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
      buf[i] = ' ';
  while (i > 0 && buf[i - 1] == ' ')
    buf[--i] = '\0';
  virResetLastError ();
  return buf;
}

/* "libvirt 'URI': domain 'NAME': WHAT: libvirt's message"; -1. */
static int
fail (const char *uri, const char *name, const char *what)
{
  char msg[1024];

  last_error (msg, sizeof msg);
  if (name)
    return error_set ("libvirt '%s': domain '%s': %s: %s", uri, name, what,
                      msg);
  return error_set ("libvirt '%s': %s: %s", uri, what, msg);
}

/* ---- the connection ------------------------------------------------------ */

struct virt *
virt_open (const char *uri)
{
  struct virt *v;

  if (virInitialize () == -1) {
    fail (uri, NULL, "initialise");
    return NULL;
  }
  virSetErrorFunc (NULL, silent);
  if ((v = calloc (1, sizeof *v)) == NULL) {
    error_errno ("malloc");
    return NULL;
  }
  /* virConnectGetURI is a round trip: a daemon that does not answer fails
   * here, before anything is made. */
  v->conn = virConnectOpen (uri);
  if (v->conn == NULL || (v->uri = virConnectGetURI (v->conn)) == NULL) {
    fail (uri, NULL, v->conn ? "no answer" : "cannot connect");
    virt_close (v);
    return NULL;
  }
  return v;
}

void
virt_close (struct virt *v)
{
  if (v == NULL)
    return;
  if (v->conn)
    virConnectClose (v->conn);
  free (v->uri);
  free (v);
}

const char *
virt_uri (const struct virt *v)
{
  return v->uri;
}

/* ---- the host's domain types --------------------------------------------- */

static const struct xml_rules caps_rules = {
  .max_size = LIBVIRT_MAX_XML,
  .too_large = "%zu bytes is too large for capabilities (limit %zu)",
  .doctype = "DOCTYPE declarations are refused",
  .malformed = "malformed capabilities XML (%s)",
};

/* The <arch> of a <guest> for `os_type` guests of `arch`, or NULL. */
static const xmlNode *
guest_arch (const xmlNode *guest, const char *os_type, const char *arch)
{
  xmlNode *os = xml_child (guest, "os_type");
  xmlNode *a = xml_child (guest, "arch");
  CLEANUP_XFREE xmlChar *t = os ? xmlNodeGetContent (os) : NULL;
  const char *name = xml_attr (a, "name", NULL);

  if (t == NULL || strcmp ((const char *) t, os_type) != 0 ||
      name == NULL || strcmp (name, arch) != 0)
    return NULL;
  return a;
}

/* Whether the capabilities offer `os_type` guests of `arch` in domains
 * of `type`. */
static bool
offers (const xmlNode *caps, const char *os_type, const char *arch,
        const char *type)
{
  const xmlNode *g, *a, *d;
  const char *t;

  for (g = xml_first_elem (caps); g; g = xml_next_elem (g)) {
    if (!xml_is_elem (g, "guest") ||
        (a = guest_arch (g, os_type, arch)) == NULL)
      continue;
    for (d = xml_first_elem (a); d; d = xml_next_elem (d)) {
      t = xml_is_elem (d, "domain") ? xml_attr (d, "type", NULL) : NULL;
      if (t && strcmp (t, type) == 0)
        return true;
    }
  }
  return false;
}

/* libvirt's capabilities, parsed as hostile; NULL with the error set. */
static xmlDocPtr
capabilities (struct virt *v)
{
  char *caps = virConnectGetCapabilities (v->conn);
  char pfx[600];
  xmlDocPtr doc;

  if (caps == NULL) {
    fail (v->uri, NULL, "capabilities");
    return NULL;
  }
  snprintf (pfx, sizeof pfx, "libvirt '%s': capabilities", v->uri);
  doc = xml_read_hostile (caps, strlen (caps), &caps_rules, pfx);
  free (caps);
  return doc;
}

const char *
virt_hvm_type (struct virt *v, const char *arch)
{
  xmlDocPtr doc = capabilities (v);
  const char *type = NULL;

  if (doc == NULL)
    return NULL;
  if (offers (xmlDocGetRootElement (doc), "hvm", arch, "kvm"))
    type = "kvm";
  else if (offers (xmlDocGetRootElement (doc), "hvm", arch, "qemu"))
    type = "qemu";
  xmlFreeDoc (doc);
  if (type == NULL)
    error_set ("libvirt '%s': offers no %s hvm guests (kvm or qemu): is it "
               "a QEMU host?", v->uri, arch);
  return type;
}

int
virt_check_offers (struct virt *v, const char *os_type, const char *arch,
                   const char *type)
{
  xmlDocPtr doc = capabilities (v);
  bool yes;

  if (doc == NULL)
    return -1;
  yes = offers (xmlDocGetRootElement (doc), os_type, arch, type);
  xmlFreeDoc (doc);
  if (!yes)
    return error_set ("libvirt '%s': offers no %s %s guests in domains of "
                      "type %s", v->uri, arch, os_type, type);
  return 0;
}

/* ---- domains ------------------------------------------------------------- */

/* The domain called `name` (or, name NULL, of `uuid`): 1 with *dom set,
 * 0 when there is none, -1 with the error set. */
static int
find (struct virt *v, const char *name, const uint8_t *uuid,
      virDomainPtr *dom)
{
  char s[37];

  *dom = name ? virDomainLookupByName (v->conn, name)
    : virDomainLookupByUUID (v->conn, uuid);
  if (*dom)
    return 1;
  if (virGetLastErrorCode () == VIR_ERR_NO_DOMAIN) {
    virResetLastError ();
    return 0;
  }
  if (name)
    return fail (v->uri, name, "look-up");
  ids_uuid_format (uuid, s);
  return fail (v->uri, s, "look-up by UUID");
}

/* The domain `name`, which must exist; NULL with the error set. */
static virDomainPtr
get (struct virt *v, const char *name)
{
  virDomainPtr dom;
  int r = find (v, name, NULL, &dom);

  if (r == 0)
    error_set ("libvirt '%s': domain '%s': no such domain", v->uri, name);
  return r == 1 ? dom : NULL;
}

int
virt_check_free (struct virt *v, const char *name, const uint8_t *uuid)
{
  virDomainPtr dom;
  const char *other;
  char s[37];
  int r;

  if ((r = find (v, name, NULL, &dom)) != 0) {
    if (r == 1)
      virDomainFree (dom);
    return r == 1 ? error_set ("libvirt '%s': domain '%s' is already "
                               "defined: refusing to replace it", v->uri,
                               name) : -1;
  }
  if (uuid == NULL || (r = find (v, NULL, uuid, &dom)) == 0)
    return 0;
  if (r == -1)
    return -1;
  ids_uuid_format (uuid, s);
  other = virDomainGetName (dom);
  error_set ("libvirt '%s': domain '%s': UUID %s belongs to domain '%s': "
             "refusing to replace it", v->uri, name, s, other ? other : "?");
  virDomainFree (dom);
  return -1;
}

int
virt_define (struct virt *v, const char *xml, const char *name,
             const uint8_t *uuid)
{
  virDomainPtr dom;

  if (virt_check_free (v, name, uuid) == -1)
    return -1;
  dom = virDomainDefineXMLFlags (v->conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
  if (dom == NULL)
    return fail (v->uri, name, "define");
  virDomainFree (dom);
  return 0;
}

char *
virt_domain_xml (struct virt *v, const char *name, bool inactive)
{
  virDomainPtr dom = get (v, name);
  char *xml;

  if (dom == NULL)
    return NULL;
  xml = virDomainGetXMLDesc (dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
  virDomainFree (dom);
  if (xml == NULL)
    fail (v->uri, name, "XML");
  else if (strlen (xml) > LIBVIRT_MAX_XML) {
    free (xml);
    error_set ("libvirt '%s': domain '%s': XML larger than %u bytes",
               v->uri, name, LIBVIRT_MAX_XML);
    return NULL;
  }
  return xml;
}

int
virt_domain_active (struct virt *v, const char *name)
{
  virDomainPtr dom = get (v, name);
  int r;

  if (dom == NULL)
    return -1;
  r = virDomainIsActive (dom);
  virDomainFree (dom);
  return r == -1 ? fail (v->uri, name, "state") : r;
}

static const char *
state_name (int state)
{
  switch (state) {
  case VIR_DOMAIN_RUNNING: return "running";
  case VIR_DOMAIN_BLOCKED: return "blocked";
  case VIR_DOMAIN_PAUSED: return "paused";
  case VIR_DOMAIN_SHUTDOWN: return "being shut down";
  case VIR_DOMAIN_SHUTOFF: return "shut off";
  case VIR_DOMAIN_CRASHED: return "crashed";
  case VIR_DOMAIN_PMSUSPENDED: return "suspended";
  default: return "in no known state";
  }
}

const char *
virt_domain_state (struct virt *v, const char *name)
{
  virDomainPtr dom = get (v, name);
  int state, reason, r;

  if (dom == NULL)
    return NULL;
  r = virDomainGetState (dom, &state, &reason, 0);
  virDomainFree (dom);
  if (r == -1) {
    fail (v->uri, name, "state");
    return NULL;
  }
  return state_name (state);
}

int
virt_read_vm (struct virt *v, const char *name, struct vm *vm)
{
  const char *state = virt_domain_state (v, name);
  char *xml;
  int r;

  if (state == NULL)
    return -1;
  /* Only a shut-off domain's disks hold still while they are read. */
  if (strcmp (state, "shut off") != 0)
    return error_set ("libvirt '%s': domain '%s' is %s: shut it down first "
                      "(its disks change while it runs)", v->uri, name,
                      state);
  if ((xml = virt_domain_xml (v, name, true)) == NULL)
    return -1;
  r = libvirt_parse (xml, strlen (xml), name, vm);
  free (xml);
  return r;
}

int
virt_start (struct virt *v, const char *name)
{
  virDomainPtr dom = get (v, name);
  int r;

  if (dom == NULL)
    return -1;
  r = virDomainCreate (dom);
  virDomainFree (dom);
  return r == -1 ? fail (v->uri, name, "start") : 0;
}

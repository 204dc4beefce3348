/* agent-settings.c: the one table of agent settings, and what is generated
 * from it: the kernel command line parser, defaults and the man page. */
#include "lib/common/compat.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "p2v/agent.h"
#include "lib/common/error.h"
#include "lib/common/strbuf.h"

const struct agent_setting agent_settings_table[AK_COUNT] = {
  { AK_MODE, "mode", AT_CHOICE, "capture|deploy", "capture", "capture|deploy",
    "Job", AS_MODE,
    "capture: image this machine's disks onto a share.  deploy: lay an image "
    "or a package (OVA or XVA) from a share onto this machine's "
    "disks, fitted to them and made to boot here; everything on those disks "
    "is erased.",
    AM_BOTH },
  { AK_DISKS, "disks", AT_STRING, NULL, "all", "DISK[,DISK...]|all",
    "Disks", AS_DISKS,
    "The disks to capture, by name (sda) or path (/dev/sda); all means every "
    "disk except the live medium.  To deploy: the disks to erase and write, "
    "one per disk of the source, in order; they must be named (all is "
    "refused).",
    AM_BOTH },
  { AK_SOURCE, "source", AT_STRING, NULL, "", "SOURCE",
    "Source", AS_SOURCE,
    "What to deploy: an image (any format Ferry reads) or a package (OVA "
    "or XVA) at file:/DIR/IMAGE, nfs:HOST[:PORT]:/EXPORT/IMAGE, "
    "cifs://[USER@]HOST[:PORT]/SHARE/IMAGE or "
    "ssh://USER@HOST[:PORT]/DIR/IMAGE (the directory is mounted read-only); "
    "or a raw image at http://HOST[:PORT]/PATH or https://... (read through "
    "nbdkit's curl plugin).  Naming the directory instead lists its images "
    "in the TUI.",
    AM_DEPLOY },
  { AK_TARGET, "target", AT_STRING, NULL, "", "TARGET",
    "Target", AS_TARGET,
    "Where the images go: file:/DIR, disk:/dev/sdXN (a partition holding a "
    "filesystem), nfs:HOST[:PORT]:/EXPORT[/SUB], "
    "cifs://[USER@]HOST[:PORT]/SHARE[/SUB] or ssh://USER@HOST[:PORT]/PATH "
    "(through sshfs); a PORT replaces the default 2049, 445 or 22.",
    AM_CAPTURE },
  { AK_PASSWORD, "password", AT_STRING, NULL, "", "PASSWORD",
    "Password", AS_TARGET,
    "Password for a cifs or ssh target or source.  The kernel command line is readable "
    "by every local user: prefer a key for ssh.",
    AM_BOTH },
  { AK_SSHKEY, "sshkey", AT_STRING, NULL, "", "FILE",
    "SSH key file", AS_TARGET,
    "Private key file for an ssh target or source.",
    AM_BOTH },
  { AK_FORMAT, "format", AT_CHOICE, "qcow2|vhd|vmdk|raw|ova|xva", "qcow2",
    "FORMAT", "Format", AS_FORMAT,
    "Image format: qcow2, vhd (dynamic), vmdk (streamOptimized) or raw, one "
    "image per disk; or one package of all the disks: ova (VMware flavour, "
    "streamOptimized VMDK disks, SHA-256 manifest) or xva (XenServer).",
    AM_CAPTURE },
  { AK_CONVERT, "convert", AT_CHOICE, "none|kvm|xen", "none", "HYPERVISOR",
    "Convert for", AS_FORMAT,
    "Make the captured guest boot on kvm (virtio) or xen (PV drivers); the "
    "written image is converted, never the source.",
    AM_CAPTURE },
  { AK_ROOT, "root", AT_STRING, NULL, "", "DEV",
    "Root to convert", AS_FORMAT,
    "With several operating systems (multi-boot) on the disk: the root "
    "filesystem to convert, named as the conversion sees the captured "
    "disk: /dev/sda2 is its second partition, whatever its name here.  "
    "Without it such a disk is refused with the list of roots; a single "
    "root needs nothing.",
    AM_BOTH },
  { AK_VERIFY, "verify", AT_CHOICE, "0|1", "0", "0|1",
    "Verify boot", AS_FORMAT,
    "With ferry.convert=kvm, 1 boots the converted image under qemu with "
    "virtio devices before it is written, until its login prompt; an image "
    "that does not boot is not written and the run fails.  With KVM on the "
    "machine it costs seconds.",
    AM_CAPTURE },
  { AK_NATIVE, "native", AT_CHOICE, "0|1", "1", "0|1",
    "Make bootable", AS_FORMAT,
    "1: make the deployed system boot on this hardware (a generic "
    "initramfs with the disk and network drivers, fstab and bootloader by "
    "UUID, GRUB reinstalled or the UEFI fallback loader).  0: write the "
    "image as it is (ferry deploy --convert none).",
    AM_DEPLOY },
  { AK_GROW, "grow", AT_CHOICE, "0|1", "1", "0|1",
    "Fit to disks", AS_FORMAT,
    "1: grow the root's partition (its LVM PV and LV) and filesystem to "
    "fill each disk, or shrink them onto a smaller one.  0: keep the "
    "image's layout; each disk must then be at least the image's size "
    "(ferry deploy --no-grow).",
    AM_DEPLOY },
  { AK_NAME, "name", AT_STRING, NULL, NULL, "NAME",
    "VM name", AS_VM,
    "Name of the virtual machine and of the result directory (letters, "
    "digits, '.', '_', '-').  The default is made of the machine's DMI "
    "product name and serial, else its hostname.",
    AM_CAPTURE },
  { AK_CPUS, "cpus", AT_UINT, "1-1024", NULL, "N",
    "CPUs", AS_VM,
    "Virtual CPUs; default the machine's online CPUs.",
    AM_CAPTURE },
  { AK_MEMORY, "memory", AT_UINT, "64-16777216", NULL, "MIB",
    "Memory (MiB)", AS_VM,
    "Memory in MiB; default the machine's memory.",
    AM_CAPTURE },
  { AK_IP, "ip", AT_STRING, NULL, "dhcp", "dhcp|none|ADDR/PREFIX[,gw=GW][,dns=DNS]",
    "IP", AS_NETWORK,
    "Network configuration for nfs, cifs, ssh (and http) targets and sources: DHCP, none, or a "
    "static IPv4 address with an optional gateway and DNS server.",
    AM_BOTH },
  { AK_NIC, "nic", AT_STRING, NULL, "auto", "NAME|auto",
    "Interface", AS_NETWORK,
    "The network interface; auto picks the first one with a link.",
    AM_BOTH },
  { AK_POST, "post", AT_CHOICE, "poweroff|reboot|shell", "poweroff", "ACTION",
    "When done", AS_CONFIRM,
    "What an unattended run does at the end, after success or failure.  "
    "After a deploy, reboot starts the deployed system (the firmware boots "
    "the written disk once the medium is removed, or first in its order).",
    AM_BOTH },
  { AK_CONSOLE, "console", AT_STRING, NULL, "", "TTY",
    "Console", AS_CONFIRM,
    "Also print the progress lines of an unattended run on this device "
    "(ttyS0); they always go to standard error.",
    AM_BOTH },
  { AK_YES, "yes", AT_BOOL, NULL, "0", NULL,
    "Unattended", AS_CONFIRM,
    "Start without asking: with ferry.target= (capture) or ferry.source= "
    "and ferry.disks= (deploy) this makes the run unattended.",
    AM_BOTH },
};

int
agent_pathf (char *buf, size_t len, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (buf, len, fmt, ap);
  va_end (ap);
  if (n < 0 || (size_t) n >= len)
    return error_set ("'%.64s...': too long", buf);
  return 0;
}

void
agent_textf (char *buf, size_t len, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (buf, len, fmt, ap);
  va_end (ap);
}

const struct agent_setting *
agent_setting_by_name (const char *name)
{
  size_t i;

  for (i = 0; i < AK_COUNT; i++)
    if (strcmp (agent_settings_table[i].name, name) == 0)
      return &agent_settings_table[i];
  return NULL;
}

const char *
agent_get (const struct agent_settings *s, enum agent_key k)
{
  return s->val[k] ? s->val[k] : "";
}

bool
agent_settings_deploy (const struct agent_settings *s)
{
  return strcmp (agent_get (s, AK_MODE), "deploy") == 0;
}

bool
agent_settings_unattended (const struct agent_settings *s)
{
  enum agent_key k = agent_settings_deploy (s) ? AK_SOURCE : AK_TARGET;

  return s->given[k] && s->val[k] && s->val[k][0] &&
    strcmp (agent_get (s, AK_YES), "1") == 0;
}

void
agent_settings_free (struct agent_settings *s)
{
  size_t i;

  for (i = 0; i < AK_COUNT; i++) {
    free (s->val[i]);
    s->val[i] = NULL;
    s->given[i] = false;
  }
}

static bool
in_choices (const char *choices, const char *v)
{
  size_t n = strlen (v);
  const char *p = choices;

  while (n > 0 && *p) {
    const char *bar = strchr (p, '|');
    size_t len = bar ? (size_t) (bar - p) : strlen (p);
    if (len == n && strncmp (p, v, n) == 0)
      return true;
    if (!bar)
      break;
    p = bar + 1;
  }
  return false;
}

static int
check_uint (const struct agent_setting *st, const char *v)
{
  unsigned long long lo, hi, n;
  char *end;

  if (sscanf (st->choices, "%llu-%llu", &lo, &hi) != 2)
    return error_set ("internal: bad range for %s", st->name);
  errno = 0;
  if (!isdigit ((unsigned char) v[0]))
    return error_set ("ferry.%s: '%s' is not a number", st->name, v);
  n = strtoull (v, &end, 10);
  if (errno || *end)
    return error_set ("ferry.%s: '%s' is not a number", st->name, v);
  if (n < lo || n > hi)
    return error_set ("ferry.%s: %llu is out of range (%llu-%llu)",
                      st->name, n, lo, hi);
  return 0;
}

/* VM names become file and directory names: a conservative alphabet. */
static int
check_name (const char *v)
{
  size_t i, n = strlen (v);

  if (n == 0 || n > 63)
    return error_set ("ferry.name: must be 1 to 63 characters");
  if (v[0] == '.' || v[0] == '-')
    return error_set ("ferry.name: '%s' must not start with '.' or '-'", v);
  for (i = 0; i < n; i++)
    if (!isalnum ((unsigned char) v[i]) && !strchr ("._-", v[i]))
      return error_set ("ferry.name: '%s': only letters, digits, '.', '_' "
                        "and '-' are allowed", v);
  return 0;
}

static int
check_ipv4 (const char *what, const char *v)
{
  struct in_addr a;

  if (inet_pton (AF_INET, v, &a) != 1)
    return error_set ("ferry.ip: %s '%s' is not an IPv4 address", what, v);
  return 0;
}

static int
copy_field (char *dst, size_t len, const char *src, size_t n)
{
  if (n >= len)
    return error_set ("ferry.ip: value too long");
  memcpy (dst, src, n);
  dst[n] = '\0';
  return 0;
}

static int
ip_option (struct agent_ip *ip, const char *opt, size_t n)
{
  if (n > 3 && strncmp (opt, "gw=", 3) == 0) {
    if (copy_field (ip->gw, sizeof ip->gw, opt + 3, n - 3) == -1)
      return -1;
    return check_ipv4 ("gateway", ip->gw);
  }
  if (n > 4 && strncmp (opt, "dns=", 4) == 0) {
    if (copy_field (ip->dns, sizeof ip->dns, opt + 4, n - 4) == -1)
      return -1;
    return check_ipv4 ("dns", ip->dns);
  }
  return error_set ("ferry.ip: unknown option '%.*s' (gw=, dns=)",
                    (int) n, opt);
}

int
agent_ip_parse (const char *s, struct agent_ip *ip)
{
  const char *slash, *comma;
  char prefix[8];
  char *end;
  unsigned long p;

  memset (ip, 0, sizeof *ip);
  if (strcmp (s, "dhcp") == 0)
    return ip->dhcp = true, 0;
  if (strcmp (s, "none") == 0)
    return ip->none = true, 0;
  slash = strchr (s, '/');
  comma = strchr (s, ',');
  if (slash == NULL || (comma && comma < slash))
    return error_set ("ferry.ip: '%s': expected dhcp, none or ADDR/PREFIX", s);
  if (copy_field (ip->addr, sizeof ip->addr, s, (size_t) (slash - s)) == -1 ||
      check_ipv4 ("address", ip->addr) == -1)
    return -1;
  if (copy_field (prefix, sizeof prefix, slash + 1,
                  comma ? (size_t) (comma - slash - 1) : strlen (slash + 1))
      == -1)
    return -1;
  errno = 0;
  p = strtoul (prefix, &end, 10);
  if (!isdigit ((unsigned char) prefix[0]) || *end || errno || p > 32)
    return error_set ("ferry.ip: bad prefix length '%s' (0-32)", prefix);
  ip->prefix = (unsigned) p;
  while (comma) {
    const char *opt = comma + 1;
    comma = strchr (opt, ',');
    if (ip_option (ip, opt, comma ? (size_t) (comma - opt) : strlen (opt))
        == -1)
      return -1;
  }
  return 0;
}

static int
check_disks (const char *v)
{
  size_t i;

  if (v[0] == '\0' || v[0] == ',' || v[strlen (v) - 1] == ',' ||
      strstr (v, ",,"))
    return error_set ("ferry.disks: '%s': expected a comma-separated list", v);
  for (i = 0; v[i]; i++)
    if (isspace ((unsigned char) v[i]) || iscntrl ((unsigned char) v[i]))
      return error_set ("ferry.disks: '%s': blank in a disk name", v);
  return 0;
}

static int
check_special (enum agent_key k, const char *v)
{
  struct agent_target t;
  struct agent_ip ip;
  struct agent_source *src;
  int r;

  switch (k) {
  case AK_DISKS: return check_disks (v);
  case AK_TARGET: return agent_target_parse (v, &t);
  case AK_SOURCE:
    if ((src = malloc (sizeof *src)) == NULL)
      return error_set ("out of memory");
    r = agent_source_parse (v, src);
    free (src);
    return r;
  case AK_NAME: return check_name (v);
  case AK_IP: return agent_ip_parse (v, &ip);
  case AK_NIC:
  case AK_CONSOLE:
    if (strchr (v, '/') || strstr (v, "..") || strlen (v) > 31)
      return error_set ("ferry.%s: '%s' is not a device name",
                        agent_settings_table[k].name, v);
    return 0;
  default: return 0;
  }
}

int
agent_setting_check (enum agent_key k, const char *v)
{
  const struct agent_setting *st = &agent_settings_table[k];

  if (strlen (v) > 4000)
    return error_set ("ferry.%s: value too long", st->name);
  switch (st->type) {
  case AT_CHOICE:
    if (!in_choices (st->choices, v))
      return error_set ("ferry.%s: '%s' is not one of %s", st->name, v,
                        st->choices);
    break;
  case AT_UINT:
    if (check_uint (st, v) == -1)
      return -1;
    break;
  case AT_BOOL:
    if (strcmp (v, "0") != 0 && strcmp (v, "1") != 0)
      return error_set ("ferry.%s: '%s' is not 0 or 1", st->name, v);
    break;
  case AT_STRING:
    break;
  }
  return check_special (k, v);
}

int
agent_settings_set (struct agent_settings *s, enum agent_key k,
                    const char *value)
{
  char *copy;

  if (agent_setting_check (k, value) == -1)
    return -1;
  if ((copy = xstrdup (value)) == NULL)
    return -1;
  free (s->val[k]);
  s->val[k] = copy;
  s->given[k] = true;
  return 0;
}

/* One ferry.KEY[=VALUE] word. */
static int
cmdline_word (const char *w, struct agent_settings *s)
{
  const char *eq = strchr (w, '=');
  size_t n = eq ? (size_t) (eq - w) : strlen (w);
  char key[32];
  const struct agent_setting *st;

  if (n - 6 >= sizeof key)
    return error_set ("unknown kernel command line key '%.40s'", w);
  memcpy (key, w + 6, n - 6);
  key[n - 6] = '\0';
  if ((st = agent_setting_by_name (key)) == NULL)
    return error_set ("unknown kernel command line key 'ferry.%s'", key);
  if (eq == NULL) {
    if (st->type != AT_BOOL)
      return error_set ("ferry.%s: needs a value (ferry.%s=%s)", key, key,
                        st->arg);
    return agent_settings_set (s, st->key, "1");
  }
  if (s->given[st->key])
    return error_set ("ferry.%s given twice", key);
  return agent_settings_set (s, st->key, eq + 1);
}

/* Next word of a command line into *out (owned), handling double quotes. */
static const char *
next_word (const char *p, struct strbuf *out)
{
  bool quoted = false;

  while (*p && isspace ((unsigned char) *p))
    p++;
  if (*p == '\0')
    return NULL;
  for (; *p && (quoted || !isspace ((unsigned char) *p)); p++) {
    if (*p == '"')
      quoted = !quoted;
    else if (strbuf_add (out, p, 1) == -1)
      return NULL;
  }
  if (out->buf == NULL && strbuf_adds (out, "") == -1)
    return NULL;
  return p;
}

int
agent_cmdline_parse (const char *cmdline, struct agent_settings *s,
                     bool *any)
{
  const char *p = cmdline;

  *any = false;
  if (strlen (cmdline) > 65536)
    return error_set ("kernel command line too long");
  for (;;) {
    struct strbuf w = STRBUF_INIT;
    int r = 0;

    p = next_word (p, &w);
    if (p == NULL) {
      strbuf_release (&w);
      return 0;
    }
    if (strncmp (w.buf, "ferry.", 6) == 0) {
      *any = true;
      r = cmdline_word (w.buf, s);
    }
    strbuf_release (&w);
    if (r == -1)
      return -1;
  }
}

static const char *
hw_default (enum agent_key k, const struct agent_hw *hw, char *buf,
            size_t len)
{
  switch (k) {
  case AK_NAME: return hw->name;
  case AK_CPUS:
    agent_textf (buf, len, "%u", hw->cpus ? hw->cpus : 1);
    return buf;
  case AK_MEMORY:
    agent_textf (buf, len, "%llu", (unsigned long long)
              (hw->memory_mib >= 64 ? hw->memory_mib : 1024));
    return buf;
  default: return NULL;
  }
}

int
agent_settings_defaults (struct agent_settings *s, const struct agent_hw *hw)
{
  size_t i;
  char buf[32];

  for (i = 0; i < AK_COUNT; i++) {
    const struct agent_setting *st = &agent_settings_table[i];
    const char *d = st->fixed_default ? st->fixed_default
      : hw_default (st->key, hw, buf, sizeof buf);
    if (s->val[i] || d == NULL)
      continue;
    if ((s->val[i] = xstrdup (d)) == NULL)
      return -1;
  }
  return 0;
}

/* ---- hardware defaults ---- */

static void
read_line (const char *sysroot, const char *path, char *buf, size_t len)
{
  char file[4200];
  FILE *fp;

  buf[0] = '\0';
  agent_pathf (file, sizeof file, "%s%s", sysroot, path);
  if ((fp = fopen (file, "re")) == NULL)
    return;
  if (fgets (buf, (int) len, fp) == NULL)
    buf[0] = '\0';
  fclose (fp);
  buf[strcspn (buf, "\n")] = '\0';
}

/* Keep [A-Za-z0-9._-], turn runs of anything else into one '-'. */
static void
sanitize_name (char *out, size_t len, const char *in)
{
  size_t o = 0;

  for (; *in && o + 1 < len; in++) {
    if (isalnum ((unsigned char) *in) || *in == '.' || *in == '_')
      out[o++] = *in;
    else if (o > 0 && out[o - 1] != '-')
      out[o++] = '-';
  }
  while (o > 0 && (out[o - 1] == '-' || out[o - 1] == '.'))
    o--;
  out[o] = '\0';
}

static bool
useful_dmi (const char *s)
{
  static const char *const junk[] = {
    "", "None", "Default string", "To Be Filled By O.E.M.",
    "To be filled by O.E.M.", "System Product Name", "0", "Not Specified",
  };
  size_t i;

  for (i = 0; i < sizeof junk / sizeof junk[0]; i++)
    if (strcmp (s, junk[i]) == 0)
      return false;
  return true;
}

static void
probe_name (const char *sysroot, struct agent_hw *hw)
{
  char product[64], serial[64], both[160];

  read_line (sysroot, "/sys/class/dmi/id/product_name", product,
             sizeof product);
  read_line (sysroot, "/sys/class/dmi/id/product_serial", serial,
             sizeof serial);
  if (useful_dmi (product)) {
    agent_textf (both, sizeof both, "%s%s%s", product,
              useful_dmi (serial) ? "-" : "", useful_dmi (serial) ? serial : "");
    sanitize_name (hw->name, sizeof hw->name, both);
  }
  if (hw->name[0] == '\0') {
    read_line (sysroot, "/etc/hostname", both, sizeof both);
    sanitize_name (hw->name, sizeof hw->name, both);
  }
  if (hw->name[0] == '\0' || check_name (hw->name) == -1)
    agent_textf (hw->name, sizeof hw->name, "p2v");
  error_clear ();
}

static void
probe_memory (const char *sysroot, struct agent_hw *hw)
{
  char file[4200], line[256];
  unsigned long long kib;
  FILE *fp;

  agent_pathf (file, sizeof file, "%s/proc/meminfo", sysroot);
  if ((fp = fopen (file, "re")) == NULL)
    return;
  while (fgets (line, sizeof line, fp))
    if (sscanf (line, "MemTotal: %llu kB", &kib) == 1) {
      /* Round up to 128 MiB: firmware keeps some of the RAM. */
      hw->memory_mib = (kib / 1024 + 127) / 128 * 128;
      break;
    }
  fclose (fp);
}

/* "0-3,6" -> 5 */
static unsigned
count_cpus (const char *list)
{
  unsigned n = 0, a, b;
  const char *p = list;
  int used;

  while (*p) {
    if (sscanf (p, "%u-%u%n", &a, &b, &used) == 2 && b >= a && b - a < 65536)
      n += b - a + 1;
    else if (sscanf (p, "%u%n", &a, &used) == 1)
      n++;
    else
      break;
    p += used;
    if (*p != ',')
      break;
    p++;
  }
  return n;
}

void
agent_hw_probe (const char *sysroot, struct agent_hw *hw)
{
  char online[256];

  memset (hw, 0, sizeof *hw);
  probe_name (sysroot, hw);
  probe_memory (sysroot, hw);
  read_line (sysroot, "/sys/devices/system/cpu/online", online,
             sizeof online);
  hw->cpus = count_cpus (online);
  if (hw->cpus == 0 && sysroot[0] == '\0') {
    long n = sysconf (_SC_NPROCESSORS_ONLN);
    hw->cpus = n > 0 ? (unsigned) n : 1;
  }
  if (hw->cpus == 0)
    hw->cpus = 1;
  if (hw->memory_mib == 0)
    hw->memory_mib = 1024;
}

/* ---- the man page section ---- */

/* roff-escape: backslashes and leading dots/quotes; '-' as \-. */
static void
man_text (FILE *fp, const char *s)
{
  for (; *s; s++) {
    if (*s == '\\')
      fputs ("\\e", fp);
    else if (*s == '-')
      fputs ("\\-", fp);
    else
      fputc (*s, fp);
  }
}

static void
man_default (FILE *fp, const struct agent_setting *st)
{
  if (st->type == AT_BOOL)
    return;
  fputs (" Default: ", fp);
  if (st->fixed_default == NULL)
    fputs ("from the hardware.", fp);
  else if (st->fixed_default[0] == '\0')
    fputs ("none.", fp);
  else {
    man_text (fp, st->fixed_default);
    fputc ('.', fp);
  }
}

void
agent_settings_man (FILE *fp)
{
  size_t i;

  fputs (".SH SETTINGS\n"
         "Each setting is a kernel command line word\n"
         ".BI ferry. KEY = VALUE\n"
         "and a field of the TUI.\n"
         "Words not starting with\n"
         ".B ferry.\n"
         "are ignored; an unknown key or a bad value stops the agent.\n", fp);
  for (i = 0; i < AK_COUNT; i++) {
    const struct agent_setting *st = &agent_settings_table[i];
    fputs (".TP\n", fp);
    if (st->arg) {
      fprintf (fp, ".BI ferry.%s= \"", st->name);
      man_text (fp, st->arg);
      fputs ("\"\n", fp);
    }
    else
      fprintf (fp, ".B ferry.%s\n", st->name);
    man_text (fp, st->help);
    man_default (fp, st);
    if (st->modes != AM_BOTH)
      fputs (st->modes == AM_DEPLOY ? " Deploy only." : " Capture only.", fp);
    fputs (" (TUI: ", fp);
    man_text (fp, st->label);
    fputs (".)\n", fp);
  }
}

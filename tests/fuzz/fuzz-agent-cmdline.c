/* fuzz-agent-cmdline.c: libFuzzer harness for the agent's kernel command
 * line — the ferry.* parser (every setting checked against the table, and
 * the targets', sources', addresses' own syntax), then the pieces alone
 * on the raw input: agent_target_parse, agent_source_parse, agent_ip_parse.
 * What is accepted must hold its invariants: a value that passed passes
 * again, a source's image name is one path component, no network share,
 * path or user carries a character that could smuggle a mount or ssh
 * option. */
/* fuzz-sources: p2v/agent-settings.c p2v/agent-target.c p2v/agent-source.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "p2v/agent.h"

/* agent-target.c names a partition's disk through agent-discover.c
 * (libparted, not in the fuzz build): no disk here. */
int
agent_parent_disk (const struct agent_env *env, const char *part, char *disk,
                   size_t len)
{
  (void) env; (void) part; (void) disk; (void) len;
  return error_set ("no sysfs in the fuzzer");
}

static void
die (const char *what, const char *v)
{
  fprintf (stderr, "%s: '%s': %s\n", what, v, error_get ());
  abort ();
}

static void
check_clean (const char *what, const char *s)
{
  for (; *s; s++)
    if ((unsigned char) *s < 0x20 || *s == ' ' || *s == ',' || *s == '"' ||
        *s == '\'' || *s == '\\')
      die (what, s);
}

static void
check_source (const struct agent_source *src)
{
  if (strchr (src->name, '/'))
    die ("source name", src->name);
  if (src->share.kind == TK_HTTP) {     /* the name only shown */
    if (strncmp (src->url, "http://", 7) != 0 &&
        strncmp (src->url, "https://", 8) != 0)
      die ("url", src->url);
    /* one argv word for nbdkit: commas are fine, blanks and quotes not */
    if (strpbrk (src->url, " \t\n\"'\\"))
      die ("url", src->url);
    return;
  }
  if (strcmp (src->name, "..") == 0 || strcmp (src->name, ".") == 0)
    die ("source name", src->name);
  if (!src->share.readonly)
    die ("source not read-only", src->share.spec);
  if (src->share.kind == TK_FILE)       /* a local path: never an option */
    return;
  check_clean ("source device", src->share.device);
  check_clean ("source path", src->share.path);
  check_clean ("source user", src->share.user);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct agent_settings s = { 0 };
  struct agent_source src;
  struct agent_target t;
  struct agent_ip ip;
  char *line;
  bool any;
  size_t i;

  if (size > 70000)
    return 0;
  if ((line = malloc (size + 1)) == NULL)
    return 0;
  memcpy (line, data, size);
  line[size] = '\0';

  if (agent_cmdline_parse (line, &s, &any) == 0) {
    for (i = 0; i < AK_COUNT; i++)
      if (s.val[i] && agent_setting_check ((enum agent_key) i, s.val[i]) == -1)
        die ("accepted value refused", s.val[i]);
    if (s.val[AK_SOURCE]) {
      if (agent_source_parse (s.val[AK_SOURCE], &src) == -1)
        die ("accepted source refused", s.val[AK_SOURCE]);
      check_source (&src);
    }
    (void) agent_settings_unattended (&s);
  }
  agent_settings_free (&s);
  error_clear ();

  if (agent_source_parse (line, &src) == 0)
    check_source (&src);
  if (agent_target_parse (line, &t) == 0 && t.kind != TK_FILE) {
    check_clean ("target device", t.device);
    check_clean ("target user", t.user);
  }
  if (agent_ip_parse (line, &ip) == 0 && !ip.dhcp && !ip.none &&
      ip.prefix > 32)
    die ("prefix", line);
  error_clear ();
  free (line);
  return 0;
}

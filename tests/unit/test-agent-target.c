/* test-agent-target.c: ferry.target parsing (every form and the option
 * smuggling it refuses), directory targets, the free space and
 * "target on a source disk" checks, agent_spawn and the status file. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/common/error.h"
#include "p2v/agent.h"

static char dir[] = "/tmp/ferry-test-agent-target.XXXXXX";

static void
test_parse_good (void **state)
{
  struct agent_target t;

  (void) state;
  assert_int_equal (agent_target_parse ("file:/srv/p2v", &t), 0);
  assert_int_equal (t.kind, TK_FILE);
  assert_string_equal (t.path, "/srv/p2v");
  assert_int_equal (agent_target_parse ("/mnt/usb", &t), 0);
  assert_int_equal (t.kind, TK_FILE);
  assert_string_equal (t.path, "/mnt/usb");

  assert_int_equal (agent_target_parse ("disk:/dev/sdb1", &t), 0);
  assert_int_equal (t.kind, TK_DISK);
  assert_string_equal (t.device, "/dev/sdb1");

  assert_int_equal (agent_target_parse ("nfs:10.0.0.5:/export/p2v", &t), 0);
  assert_int_equal (t.kind, TK_NFS);
  assert_string_equal (t.device, "10.0.0.5:/export/p2v");
  assert_int_equal (t.port, 0);
  assert_int_equal (agent_target_parse ("nfs:nas:20490:/export/p2v", &t), 0);
  assert_int_equal (t.kind, TK_NFS);
  assert_string_equal (t.device, "nas:/export/p2v");
  assert_int_equal (t.port, 20490);

  assert_int_equal (agent_target_parse ("cifs://backup@fs1/images/p2v/a", &t),
                    0);
  assert_int_equal (t.kind, TK_CIFS);
  assert_string_equal (t.user, "backup");
  assert_string_equal (t.device, "//fs1/images");
  assert_string_equal (t.path, "/p2v/a");
  assert_int_equal (agent_target_parse ("cifs://fs1/share", &t), 0);
  assert_string_equal (t.user, "");
  assert_string_equal (t.device, "//fs1/share");
  assert_string_equal (t.path, "");
  assert_int_equal (t.port, 0);
  assert_int_equal (agent_target_parse ("cifs://u@10.0.2.2:4450/s/d@1", &t),
                    0);
  assert_string_equal (t.user, "u");
  assert_string_equal (t.device, "//10.0.2.2/s");
  assert_string_equal (t.path, "/d@1");
  assert_int_equal (t.port, 4450);

  assert_int_equal (agent_target_parse ("ssh://root@10.0.0.5:2222/srv/p2v",
                                        &t), 0);
  assert_int_equal (t.kind, TK_SSH);
  assert_string_equal (t.user, "root");
  assert_string_equal (t.device, "10.0.0.5");
  assert_int_equal (t.port, 2222);
  assert_string_equal (t.path, "/srv/p2v");
  assert_int_equal (agent_target_parse ("ssh://u@host.example/x", &t), 0);
  assert_int_equal (t.port, 0);
  assert_string_equal (t.device, "host.example");
}

static void
test_parse_bad (void **state)
{
  static const struct { const char *spec, *msg; } bad[] = {
    { "", "expected file:, disk:, nfs:, cifs:// or ssh://" },
    { "http://x/y", "expected file:, disk:" },
    { "file:", "the directory must be an absolute path" },
    { "file:x", "the directory must be an absolute path" },
    { "disk:sdb1", "expected disk:/dev/PARTITION" },
    { "disk:/dev/sdb1 -o", "bad character in the device" },
    { "nfs:host", "expected nfs:HOST[:PORT]:/EXPORT" },
    { "nfs:host:", "expected nfs:HOST[:PORT]:/EXPORT" },
    { "nfs::/export", "expected nfs:HOST[:PORT]:/EXPORT" },
    { "nfs:host:export", "expected nfs:HOST[:PORT]:/EXPORT" },
    { "nfs:host:2049:export", "expected nfs:HOST[:PORT]:/EXPORT" },
    { "nfs:host:20x9:/export", "bad port" },
    { "nfs:host::/export", "bad port" },
    { "nfs:host:0:/export", "bad port" },
    { "nfs:host:65536:/export", "bad port" },
    { "nfs:host:/e,rw", "bad character in the share" },
    { "cifs://host", "expected cifs://[USER@]HOST[:PORT]/SHARE[/DIR]" },
    { "cifs://:445/share", "expected cifs://" },
    { "cifs://host:/share", "bad port" },
    { "cifs://host:4a5/share", "bad port" },
    { "cifs://host:000445/share", "bad port" },
    { "cifs://host:99999/share", "bad port" },
    { "cifs://host/", "expected cifs://" },
    { "cifs:///share", "expected cifs://" },
    { "cifs://a,uid=0@host/share", "bad character in the user" },
    { "cifs://host/share/a\"b", "bad character in the directory" },
    { "ssh://host/path", "expected ssh://USER@HOST[:PORT]/PATH" },
    { "ssh://u@host", "expected ssh://USER@HOST[:PORT]/PATH" },
    { "ssh://@host/x", "expected ssh://" },
    { "ssh://u@host:0/x", "bad port" },
    { "ssh://u@host:70000/x", "bad port" },
    { "ssh://u@host:22x/x", "bad port" },
    { "ssh://u@-oProxyCommand=x/y", "bad host or user" },
    { "ssh://-l@host/y", "bad host or user" },
    { "ssh://u@host/a'b", "bad character in the path" },
    { "ssh://u@ho\tst/x", "bad character in the host" },
  };
  struct agent_target t;
  size_t i;

  (void) state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    error_clear ();
    if (agent_target_parse (bad[i].spec, &t) != -1)
      fail_msg ("accepted: '%s'", bad[i].spec);
    if (strstr (error_get (), bad[i].msg) == NULL)
      fail_msg ("'%s': got '%s', want '%s'", bad[i].spec, error_get (),
                bad[i].msg);
    assert_non_null (strstr (error_get (), "ferry.target: "));
  }
}

static void
test_file_target (void **state)
{
  struct agent_target t;
  char spec[4400], file[4300];
  FILE *fp;

  (void) state;
  snprintf (spec, sizeof spec, "file:%s", dir);
  assert_int_equal (agent_target_parse (spec, &t), 0);
  assert_int_equal (agent_target_mount (&t, NULL, NULL, NULL), 0);
  assert_string_equal (t.mountpoint, dir);
  assert_false (t.mounted);
  assert_int_equal (agent_target_check_space (&t, 0), 0);
  assert_int_equal (agent_target_check_space (&t, UINT64_MAX / 2), -1);
  assert_non_null (strstr (error_get (), "is too small: "));
  assert_non_null (strstr (error_get (), "free, 8.0 EiB to copy"));
  agent_target_umount (&t);                     /* not mounted: no-op */

  snprintf (spec, sizeof spec, "file:%s/missing", dir);
  assert_int_equal (agent_target_parse (spec, &t), 0);
  assert_int_equal (agent_target_mount (&t, NULL, NULL, NULL), -1);
  assert_non_null (strstr (error_get (), "No such file or directory"));

  snprintf (file, sizeof file, "%s/plain", dir);
  fp = fopen (file, "w");
  assert_non_null (fp);
  fclose (fp);
  snprintf (spec, sizeof spec, "file:%s", file);
  assert_int_equal (agent_target_parse (spec, &t), 0);
  assert_int_equal (agent_target_mount (&t, NULL, NULL, NULL), -1);
  assert_non_null (strstr (error_get (), "is not a directory"));
}

/* A disk: target on a disk being captured is refused, by path and through
 * sysfs (a partition of a captured disk). */
static void
test_on_source (void **state)
{
  char sysfs[4300], cmd[17600];
  struct agent_env e = { .dev = "/dev", .proc = "/proc" };
  struct agent_target t;
  const char *sda[] = { "/dev/sda" };
  const char *files[] = { "/images/a.raw", "/images/b.raw" };

  (void) state;
  snprintf (sysfs, sizeof sysfs, "%s/sys", dir);
  snprintf (cmd, sizeof cmd, "mkdir -p '%s/block/sda/sda2' '%s/block/sdb/sdb1' "
            "&& touch '%s/block/sda/sda2/partition' '%s/block/sdb/sdb1/partition'",
            sysfs, sysfs, sysfs, sysfs);
  assert_int_equal (system (cmd), 0);
  e.sysfs = sysfs;

  assert_int_equal (agent_target_parse ("disk:/dev/sda2", &t), 0);
  assert_int_equal (agent_target_check_sources (&e, &t, sda, 1), -1);
  assert_string_equal (error_get (), "target 'disk:/dev/sda2' is on disk "
                       "'sda', which is being captured");
  assert_int_equal (agent_target_parse ("disk:/dev/sdb1", &t), 0);
  assert_int_equal (agent_target_check_sources (&e, &t, sda, 1), 0);
  assert_int_equal (agent_target_parse ("disk:/dev/sda", &t), 0);
  assert_int_equal (agent_target_check_sources (&e, &t, sda, 1), -1);
  assert_non_null (strstr (error_get (), "is a disk being captured"));
  assert_int_equal (agent_target_parse ("disk:/images/b.raw", &t), 0);
  assert_int_equal (agent_target_check_sources (&e, &t, files, 2), -1);
  assert_string_equal (error_get (), "target 'disk:/images/b.raw' is a disk "
                       "being captured");
  /* A directory on a filesystem that is no source disk. */
  assert_int_equal (agent_target_parse ("file:/tmp", &t), 0);
  snprintf (t.mountpoint, sizeof t.mountpoint, "/tmp");
  assert_int_equal (agent_target_check_sources (&e, &t, files, 2), 0);
}

static void
test_spawn (void **state)
{
  const char *ok[] = { "true", NULL };
  const char *no[] = { "false", NULL };
  const char *msg[] = { "sh", "-c", "echo boom >&2; echo more; exit 3", NULL };
  const char *input[] = { "sh", "-c", "read x; [ \"$x\" = s3cret ]", NULL };
  const char *env[] = { "sh", "-c", "[ \"$PASSWD\" = pw ]", NULL };
  const char *envv[] = { "PASSWD=pw", NULL };
  const char *missing[] = { "ferry-no-such-program", NULL };

  (void) state;
  assert_int_equal (agent_spawn (ok, NULL, NULL), 0);
  assert_int_equal (agent_spawn (no, NULL, NULL), -1);
  assert_string_equal (error_get (), "false failed");
  assert_int_equal (agent_spawn (msg, NULL, NULL), -1);
  assert_string_equal (error_get (), "sh failed: boom");
  assert_int_equal (agent_spawn (input, "s3cret", NULL), 0);
  assert_int_equal (agent_spawn (input, "wrong", NULL), -1);
  assert_int_equal (agent_spawn (env, NULL, envv), 0);
  assert_int_equal (agent_spawn (env, NULL, NULL), -1);
  assert_int_equal (agent_spawn (missing, NULL, NULL), -1);
  assert_string_equal (error_get (), "'ferry-no-such-program' is not installed");
}

/* The mount helpers' arguments: fake mount.cifs/mount.nfs/umount first in
 * PATH record what they were given (and PASSWD, which must never be in
 * argv); a refused login becomes the helper's own first line. */
static void
test_mount_args (void **state)
{
  static char want[131072], path[8192];
  char bin[4300], mnt[4300], log[4300], cmd[17600], *text;
  const char *old = getenv ("PATH");
  struct agent_target t;
  size_t len;

  (void) state;
  snprintf (bin, sizeof bin, "%s/bin", dir);
  snprintf (mnt, sizeof mnt, "%s/mnt", dir);
  snprintf (log, sizeof log, "%s/mount.log", dir);
  snprintf (cmd, sizeof cmd, "mkdir -p '%s' && cd '%s' && "
            "printf '#!/bin/sh\\necho \"$0 $* PASSWD=$PASSWD\" >>\"%s\"\\n"
            "[ \"$PASSWD\" != bad ] || { echo \"mount error(13): Permission "
            "denied\"; exit 32; }\\n' >mount.cifs && "
            "cp mount.cifs mount.nfs && cp mount.cifs umount && "
            "chmod +x mount.cifs mount.nfs umount", bin, bin, log);
  assert_int_equal (system (cmd), 0);
  snprintf (path, sizeof path, "%s:%s", bin, old ? old : "/usr/bin:/bin");
  setenv ("PATH", path, 1);

  assert_int_equal (agent_target_parse ("cifs://u@10.0.2.2:4450/s", &t), 0);
  assert_int_equal (agent_target_mount (&t, mnt, "pw", NULL), 0);
  assert_true (t.mounted);
  agent_target_umount (&t);
  assert_int_equal (agent_target_parse ("cifs://10.0.2.2/s/sub", &t), 0);
  snprintf (cmd, sizeof cmd, "mkdir -p '%s/sub'", mnt);
  assert_int_equal (system (cmd), 0);
  assert_int_equal (agent_target_mount (&t, mnt, NULL, NULL), 0);
  assert_non_null (strstr (t.mountpoint, "/mnt/sub"));
  agent_target_umount (&t);
  assert_int_equal (agent_target_parse ("nfs:nas:20490:/e/x", &t), 0);
  assert_int_equal (agent_target_mount (&t, mnt, NULL, NULL), 0);
  agent_target_umount (&t);
  assert_int_equal (agent_target_parse ("nfs:nas:/e", &t), 0);
  assert_int_equal (agent_target_mount (&t, mnt, NULL, NULL), 0);
  agent_target_umount (&t);
  assert_int_equal (agent_target_parse ("cifs://u@h/s", &t), 0);
  assert_int_equal (agent_target_mount (&t, mnt, "bad", NULL), -1);
  assert_false (t.mounted);
  assert_string_equal (error_get (), "target 'cifs://u@h/s' is unreachable: "
                       "mount.cifs failed: mount error(13): Permission denied");
  setenv ("PATH", old ? old : "/usr/bin:/bin", 1);

  text = unit_slurp (log, &len);
  snprintf (want, sizeof want,
            "%s/mount.cifs //10.0.2.2/s %s -o username=u,port=4450 PASSWD=pw\n"
            "%s/umount %s PASSWD=\n"
            "%s/mount.cifs //10.0.2.2/s %s -o username=guest,guest PASSWD=\n"
            "%s/umount %s PASSWD=\n"
            "%s/mount.nfs nas:/e/x %s -o nolock,soft,timeo=100,port=20490 PASSWD=\n"
            "%s/umount %s PASSWD=\n"
            "%s/mount.nfs nas:/e %s -o nolock,soft,timeo=100 PASSWD=\n"
            "%s/umount %s PASSWD=\n"
            "%s/mount.cifs //h/s %s -o username=u PASSWD=bad\n",
            bin, mnt, bin, mnt, bin, mnt, bin, mnt, bin, mnt, bin, mnt,
            bin, mnt, bin, mnt, bin, mnt);
  assert_string_equal (text, want);
  free (text);
}

static void
test_status (void **state)
{
  char path[4300], *text;
  size_t len;

  (void) state;
  snprintf (path, sizeof path, "%s/status", dir);
  assert_int_equal (agent_write_status (path, 1, "target 'x' is too small"), 0);
  text = unit_slurp (path, &len);
  assert_string_equal (text, "1 target 'x' is too small\n");
  free (text);
  assert_int_equal (agent_write_status (path, 0, "ok"), 0);   /* replaced */
  text = unit_slurp (path, &len);
  assert_string_equal (text, "0 ok\n");
  free (text);
  assert_int_equal (agent_write_status (NULL, 0, "ok"), 0);
  assert_int_equal (agent_write_status ("/nonexistent/dir/status", 1, "x"), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_good),
    cmocka_unit_test (test_parse_bad),
    cmocka_unit_test (test_file_target),
    cmocka_unit_test (test_on_source),
    cmocka_unit_test (test_spawn),
    cmocka_unit_test (test_mount_args),
    cmocka_unit_test (test_status),
  };
  return UNIT_RUN_IN_TMPDIR (tests, dir);
}

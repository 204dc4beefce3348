/* spawn.h: run a helper program — the agent's mount, sshfs, ip and
 * dhclient, deploy's efibootmgr — with an argv (never a shell). */
#ifndef FERRY_SPAWN_H
#define FERRY_SPAWN_H

/* Run argv[0] (searched in $PATH) with `input` (a line, or NULL) on its
 * standard input and the strings of `env` ("K=V", NULL-terminated, or
 * NULL) added to its environment; wait for it.  0 when it exits 0;
 * otherwise -1 with "PROG failed: <the first line it printed>", or "'PROG'
 * is not installed".  Its output goes to an unlinked file, not a pipe, so
 * daemons it leaves behind cannot block the wait. */
int spawn_run (const char *const *argv, const char *input,
               const char *const *env);

#endif

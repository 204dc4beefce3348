/* agent.h: `ferry agent`, the agent of the boot ISO — hardware discovery,
 * the one table of settings, targets and sources, the unattended run and
 * the ncurses TUI.  It has two jobs (ferry.mode): capture the machine's
 * disks into images on a share, or deploy an image or package from a
 * share onto the machine's disks (the deploy itself is a hook, given by
 * the command: p2v/ never includes v2p/).
 *
 * One table (agent-settings.c, agent_settings_table) defines every setting
 * once: its kernel command line key (ferry.KEY=VALUE), type and choices,
 * default (from the hardware where that makes sense), help text and the
 * TUI screen showing it.  The command line parser, the TUI forms and the
 * man page section (`ferry agent --man`, kept equal to docs/ferry-agent.1
 * by a test) are all generated from it.
 *
 * When a run is unattended: the kernel command line (or --cmdline) holds
 * ferry.yes and ferry.target= (capture), or ferry.mode=deploy with
 * ferry.source= (deploy).  Otherwise the TUI starts, with any ferry.*
 * values given as its initial values.
 *
 * External programs the agent runs (the ISO must ship them):
 *   ip (iproute2)         static addresses, routes, link up
 *   dhclient              ferry.ip=dhcp (isc-dhcp-client)
 *   mount, umount         local/USB partitions (util-linux)
 *   mount.nfs             nfs: targets (nfs-common)
 *   mount.cifs            cifs: targets (cifs-utils)
 *   sshfs, fusermount     ssh: targets (sshfs, fuse3; ssh from
 *                         openssh-client); a password is passed to sshfs
 *                         with -o password_stdin
 *   nbdkit (curl plugin)  http(s):// deploy sources, served read-only as
 *                         NBD on a Unix socket (nbdkit)
 *   poweroff, reboot, sh  ferry.post= (systemd-sysv / busybox, dash)
 *
 * Library code here returns -1 with the error set (error.h); only the TUI
 * (which owns the screen) and the run's console/log lines print.
 */
#ifndef FERRY_AGENT_H
#define FERRY_AGENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/common/vector.h"

/* snprintf into a path or label buffer; -1 + error when it does not fit
 * (so truncation is never silent). */
int agent_pathf (char *buf, size_t len, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
/* snprintf for display text, where cutting is fine: never touches the
 * error (a message being shown must not be replaced by a truncation). */
void agent_textf (char *buf, size_t len, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* ---- settings (agent-settings.c) ---- */

enum agent_key {
  AK_MODE, AK_DISKS, AK_SOURCE, AK_TARGET, AK_PASSWORD, AK_SSHKEY, AK_FORMAT, AK_CONVERT,
  AK_ROOT, AK_VERIFY, AK_NATIVE, AK_GROW, AK_NAME, AK_CPUS, AK_MEMORY, AK_IP, AK_NIC, AK_POST, AK_CONSOLE, AK_YES,
  AK_COUNT
};

enum agent_type { AT_STRING, AT_CHOICE, AT_UINT, AT_BOOL };

/* The TUI screen a setting is edited on. */
enum agent_screen {
  AS_MODE, AS_DISKS, AS_SOURCE, AS_TARGET, AS_FORMAT, AS_VM, AS_NETWORK, AS_CONFIRM,
  AS_COUNT
};

struct agent_setting {
  enum agent_key key;
  const char *name;           /* ferry.NAME */
  enum agent_type type;
  const char *choices;        /* AT_CHOICE: "a|b|c"; AT_UINT: "MIN-MAX" */
  const char *fixed_default;  /* NULL: from the hardware (agent_defaults) */
  const char *arg;            /* man page: value placeholder */
  const char *label;          /* TUI field label */
  enum agent_screen screen;
  const char *help;           /* one sentence or two, man page and TUI */
  unsigned modes;             /* AM_CAPTURE | AM_DEPLOY: the jobs using it */
};

#define AM_CAPTURE 1u
#define AM_DEPLOY 2u
#define AM_BOTH (AM_CAPTURE | AM_DEPLOY)

extern const struct agent_setting agent_settings_table[AK_COUNT];

struct agent_settings {
  char *val[AK_COUNT];        /* owned; NULL = unset */
  bool given[AK_COUNT];       /* set from the command line or the TUI */
};

/* The hardware-derived defaults: VM name, CPUs, memory. */
struct agent_hw {
  char name[64];
  unsigned cpus;
  uint64_t memory_mib;
};

/* Read the defaults below `sysroot` ("" = /): /sys/class/dmi/id,
 * /proc/meminfo, the online CPUs, /etc/hostname. Never fails. */
void agent_hw_probe (const char *sysroot, struct agent_hw *hw);

/* Fill every unset value with its default. */
int agent_settings_defaults (struct agent_settings *s,
                             const struct agent_hw *hw);
/* Set one value after checking it against the table (-1 + error). */
int agent_settings_set (struct agent_settings *s, enum agent_key k,
                        const char *value);
/* Check one value: type, choices, range, then the key's own syntax. */
int agent_setting_check (enum agent_key k, const char *value);
/* Parse a kernel command line: ferry.* words are settings (unknown keys
 * and bad values are errors naming the word); other words are ignored.
 * Words may be double-quoted ("ferry.name=a b").  *any says whether a
 * ferry.* word was seen. */
int agent_cmdline_parse (const char *cmdline, struct agent_settings *s,
                         bool *any);
bool agent_settings_unattended (const struct agent_settings *s);
/* ferry.mode=deploy */
bool agent_settings_deploy (const struct agent_settings *s);
const char *agent_get (const struct agent_settings *s, enum agent_key k);
void agent_settings_free (struct agent_settings *s);
/* The man page section generated from the table (roff). */
void agent_settings_man (FILE *fp);
/* Find a setting by name ("format"), or NULL. */
const struct agent_setting *agent_setting_by_name (const char *name);

/* ferry.ip=dhcp|none|ADDR/PREFIX[,gw=ADDR][,dns=ADDR] */
struct agent_ip {
  bool dhcp, none;
  char addr[64], gw[64], dns[64];
  unsigned prefix;
};
int agent_ip_parse (const char *s, struct agent_ip *ip);

/* ---- discovery (agent-discover.c) ---- */

struct agent_part {
  int number;
  uint64_t offset, length;
  char fstype[16];            /* "ext4", "swap", "vfat", ... or "" */
  bool boot, esp;             /* MBR active flag; EFI system partition */
};
DEFINE_VECTOR_TYPE (agent_part_vector, struct agent_part);

struct agent_disk {
  char name[64];              /* "sda", or the file's base name */
  char path[4096];            /* /dev/sda or the file given with --disk */
  char model[64], serial[64];
  uint64_t size;
  bool removable, rotational;
  bool live;                  /* holds the running live medium: excluded */
  bool file;                  /* an image file (--disk): no partition nodes */
  bool boots;                 /* an active MBR partition or an ESP */
  char table[16];             /* "msdos", "gpt", "none" */
  agent_part_vector parts;
  uint64_t used_bytes;        /* what a capture would read */
};
DEFINE_VECTOR_TYPE (agent_disk_vector, struct agent_disk);

struct agent_nic {
  char name[32], mac[32], driver[64];
  bool carrier, up;
};
DEFINE_VECTOR_TYPE (agent_nic_vector, struct agent_nic);

struct agent_env {
  const char *sysfs;          /* "/sys" unless testing */
  const char *dev;            /* "/dev" */
  const char *proc;           /* "/proc" */
  const char *live_dev;       /* the live medium's device, if known */
};

/* Disks under env->sysfs/block (no loop, ram, zram, sr, dm), with their
 * partitions and filesystems (libparted through usedmap, read-only). */
int agent_discover_disks (const struct agent_env *env,
                          agent_disk_vector *out);
/* Add an image file standing in for a disk (--disk FILE). */
int agent_disk_add_file (const char *path, agent_disk_vector *out);
/* Partition table, filesystems, boot flags and used bytes of one disk. */
int agent_disk_probe (struct agent_disk *d);
int agent_discover_nics (const struct agent_env *env, agent_nic_vector *out);
void agent_disks_free (agent_disk_vector *v);
/* The disk of a partition name ("sda1" -> "sda", "nvme0n1p2" ->
 * "nvme0n1") through sysfs; -1 if unknown. */
int agent_parent_disk (const struct agent_env *env, const char *part,
                       char *disk, size_t len);
/* Pick the disks named by ferry.disks (names, paths, or "all"): fills
 * sel[i] for each disk; errors name a missing disk or the live medium. */
int agent_select_disks (const agent_disk_vector *v, const char *spec,
                        bool *sel);

/* The device node of partition `number` of a disk found in sysfs
 * ("/dev/sdb" 1 -> "/dev/sdb1", "/dev/nvme0n1" 2 -> "/dev/nvme0n1p2");
 * -1 + error for an image file, which has no partition nodes. */
int agent_part_device (const struct agent_disk *d, int number, char *buf,
                       size_t len);

/* Local target candidates: "disk:DEVICE" for every partition holding a
 * mountable filesystem (not swap, not an ESP) on a disk that is neither
 * selected for capture (sel, may be NULL) nor the live medium, each with a
 * one-line description ("ext4  465.8 GiB  WD Elements (sdb)").  Returns
 * how many were written (at most max). */
struct agent_target_choice {
  char target[96];
  char desc[96];
};
size_t agent_target_choices (const agent_disk_vector *v, const bool *sel,
                             struct agent_target_choice *out, size_t max);

/* ---- targets (agent-target.c) ---- */

enum agent_target_kind { TK_FILE, TK_DISK, TK_NFS, TK_CIFS, TK_SSH, TK_HTTP };

struct agent_target {
  enum agent_target_kind kind;
  char spec[4096];            /* as given */
  char device[4096];          /* TK_DISK: /dev/sdb1; TK_NFS: host:/export;
                               * TK_CIFS: //host/share; TK_SSH: host */
  char path[4096];            /* TK_FILE: the directory; others: sub dir */
  char user[128];             /* TK_CIFS, TK_SSH */
  unsigned port;              /* TK_NFS, TK_CIFS, TK_SSH; 0 = default */
  char mountpoint[4096];      /* where it is mounted (or == path) */
  bool mounted;
  bool readonly;              /* a deploy source: mounted ro, read only */
};

/* file:/DIR or /DIR; disk:/dev/sdXN; nfs:HOST[:PORT]:/EXPORT[/SUB];
 * cifs://[USER@]HOST[:PORT]/SHARE[/SUB]; ssh://USER@HOST[:PORT]/PATH. */
int agent_target_parse (const char *spec, struct agent_target *t);
/* Mount the target on `mountdir` (created; /run/ferry/target by default),
 * or check a directory.  password/sshkey may be NULL.  0 or -1 + error. */
int agent_target_mount (struct agent_target *t, const char *mountdir,
                        const char *password, const char *sshkey);
void agent_target_umount (struct agent_target *t);
/* Refuse a target that lives on a disk being captured.  sources are the
 * selected disks' paths (block devices or files). */
int agent_target_check_sources (const struct agent_env *env,
                                const struct agent_target *t,
                                const char *const *sources, size_t n);
/* Refuse a target with less free space than `need` bytes. */
int agent_target_check_space (const struct agent_target *t, uint64_t need);

/* ---- deploy sources (agent-source.c) ---- */

/* ferry.source: an image or package file on a share, or the share's
 * directory holding them (the TUI lists it; unattended it is refused with
 * the list):
 *   file:/DIR/IMAGE, /DIR/IMAGE, nfs:HOST[:PORT]:/EXPORT/IMAGE,
 *   cifs://[USER@]HOST[:PORT]/SHARE/IMAGE, ssh://USER@HOST[:PORT]/IMAGE
 *   (the directory above IMAGE is mounted read-only), or
 *   http(s)://HOST[:PORT]/IMAGE (a raw image: nbdkit's curl plugin serves
 *   it as NBD on a Unix socket, and the source is that nbd+unix:// URI). */
struct agent_source {
  struct agent_target share;  /* the directory mounted (not for http) */
  char name[256];             /* IMAGE; "" = the spec names a directory */
  char url[4096];             /* http(s): the URL */
  char path[4096];            /* once opened: the file (or nbd URI) read */
  char dir[4096];             /* once opened: the directory listed */
  char sock[4096], pidfile[4096];    /* http: nbdkit's */
  bool is_dir;                /* once opened: path names a directory */
};

int agent_source_parse (const char *spec, struct agent_source *src);
/* Mount the share read-only on `mountdir` (or start nbdkit there), then
 * check that the source exists and is readable: a file is opened as an
 * image and its first sector read; a directory sets is_dir.  Nothing is
 * written anywhere.  0 or -1 + error naming the source. */
int agent_source_open (struct agent_source *src, const char *mountdir,
                       const char *password, const char *sshkey);
void agent_source_close (struct agent_source *src);
/* The images and packages in the opened directory (by extension: img,
 * raw, qcow2, vmdk, vhd, vhdx, ova, xva), sorted; each with a one-line
 * description ("qcow2  4.0 GiB").  Returns how many (at most max). */
struct agent_source_entry {
  char name[256];
  char desc[64];
};
size_t agent_source_list (const struct agent_source *src,
                          struct agent_source_entry *out, size_t max);

/* Run argv[0] (searched in PATH) with `input` on its standard input (or
 * /dev/null) and `env` (NULL-terminated "K=V" list, may be NULL) added to
 * the environment; its output is collected and the first line of it goes
 * into the error when it fails.  0 or -1 + error. */
int agent_spawn (const char *const *argv, const char *input,
                 const char *const *env);
/* mkdir -p (0755). */
int agent_mkdir_p (const char *dir);

/* ---- the run (agent-run.c) ---- */

struct agent_disk_progress {
  const char *name;
  uint64_t done, total;
  uint64_t bad;               /* unreadable bytes so far (live) */
  double start;
};

/* Called with progress; the console or the TUI draws it. */
struct agent_ui {
  void (*line) (void *opaque, const char *msg);
  void (*progress) (void *opaque, const struct agent_disk_progress *p,
                    size_t idx, size_t n);
  void *opaque;
};

/* One line of a run: timestamped (UTC) into `log` and shown through
 * ui->line (capture's and deploy's say). */
struct strbuf;
void agent_say_va (struct strbuf *log, const struct agent_ui *ui,
                   const char *fmt, va_list ap)
  __attribute__ ((format (printf, 3, 0)));

struct agent_result {
  char dir[4096];             /* where the images are (deploy: "") */
  char report[4096];          /* the JSON capture (or deploy) report */
  char images[16][4096];
  size_t n_images;
  bool ok;
};

/* A deploy job, as the agent hands it to the deploy hook. */
struct agent_deploy_req {
  const char *source;         /* the image or package file, or nbd URI */
  const char *const *targets; /* device paths (or files), in order */
  size_t n_targets;
  const char *root;           /* ferry.root, or NULL */
  bool native;                /* ferry.native=1: --convert native */
  bool grow;                  /* ferry.grow=1; 0 is --no-grow */
  /* Step lines and the copy's progress, drawn by the agent's UI. */
  void (*line) (void *opaque, const char *msg);
  void (*progress) (void *opaque, uint64_t done, uint64_t bad,
                    uint64_t total);
  void *opaque;
  struct json *report;        /* the hook adds its report's members */
};

struct agent_run_opts {
  const struct agent_env *env;
  const char *status_file;    /* written in any case (where possible) */
  const char *mount_dir;      /* NULL: /run/ferry/target (capture) or
                                 /run/ferry/source (deploy) */
  bool no_network;            /* tests: never touch the host's network */
  /* ferry.mode=deploy: do the deploy (every target check, then the
   * writes; no confirmation: the agent asked).  NULL: deploy is refused.
   * 0 or -1 + error. */
  int (*deploy) (void *opaque, const struct agent_deploy_req *req);
  void *deploy_opaque;
};

struct json;
/* ferry.format=ova|xva: stream the `n` sources into one package at
 * `path` (agent-package.c), appending their report entries to j. */
int agent_package (const char *path, const struct agent_settings *s,
                   const char *const *sources, size_t n, bool uefi,
                   struct json *j);

/* Validate everything, configure the network, mount the target, capture
 * the selected disks into TARGET/NAME/, convert if asked, write
 * ferry-agent.log, NAME.json and the status file.  0 or -1 + error.
 * With ferry.mode=deploy: agent_deploy below. */
int agent_run (const struct agent_settings *s, const agent_disk_vector *disks,
               const struct agent_run_opts *o, const struct agent_ui *ui,
               struct agent_result *res);
/* Everything agent_run checks before it writes anything. */
int agent_validate (const struct agent_settings *s,
                    const agent_disk_vector *disks,
                    const struct agent_env *env, bool *sel);
/* ferry.mode=deploy: validate (target disks named, not the live medium),
 * configure the network, mount the source read-only and check it, then
 * call o->deploy; the report (ferry-deploy.json) and the log
 * (ferry-deploy.log) go beside the status file, the source share being
 * read-only.  res->images hold the targets.  0 or -1 + error. */
int agent_deploy (const struct agent_settings *s,
                  const agent_disk_vector *disks,
                  const struct agent_run_opts *o, const struct agent_ui *ui,
                  struct agent_result *res);
/* The deploy checks made before anything is mounted: the ordered target
 * disks (indexes into disks) from ferry.disks, which must name them. */
int agent_deploy_targets (const struct agent_settings *s,
                          const agent_disk_vector *disks, size_t *idx,
                          size_t max, size_t *n);
/* Write `text` to `path` atomically (outfile.h), replacing it. */
int agent_write_file (const char *path, const char *text);
/* Write "STATUS message\n" to file atomically; best effort. */
int agent_write_status (const char *file, int status, const char *msg);
/* Configure the network for ferry.ip / ferry.nic (runs ip/dhclient). */
int agent_network_up (const struct agent_settings *s,
                      const agent_nic_vector *nics);

/* ---- the TUI (agent-tui.c) ---- */

/* Run the screens, starting with `msg` (may be NULL; e.g. a bad kernel
 * command line) on the message line.  Returns 0 after a finished capture
 * or a quit, -1 + error when the terminal cannot be used. */
int agent_tui (struct agent_settings *s, const agent_disk_vector *disks,
               const agent_nic_vector *nics, const struct agent_run_opts *o,
               const char *msg);

#endif

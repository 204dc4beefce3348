/* ferry.c: the ferry binary — one table of commands, git-style dispatch. */
#include "lib/common/compat.h"

#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/common/error.h"

struct command {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
  { "agent", cmd_agent,
    "the capture agent of the boot ISO: TUI or unattended (ferry.* keys)" },
  { "capture", cmd_capture,
    "image physical disks (or files standing in for them), used blocks only" },
  { "check", cmd_check, "validate an image's structure (exit 1 if corrupt)" },
  { "clone", cmd_clone,
    "make N machines from a golden image, copy-on-write, each its own" },
  { "convert", cmd_convert, "convert a guest for kvm, xen or native hardware" },
  { "copy", cmd_copy, "copy an image into another format" },
  { "deploy", cmd_deploy,
    "lay an image or a backup onto physical disks, fitted and bootable" },
  { "export", cmd_export,
    "package images and a VM as an OVA, XVA or libvirt directory" },
  { "import", cmd_import,
    "verify an OVA/XVA and restore its VM for any hypervisor" },
  { "info", cmd_info,
    "show an image's format, sizes and allocation, or a package's VM" },
};

#define NR_COMMANDS (sizeof commands / sizeof commands[0])

static void
usage (FILE *fp)
{
  size_t i;

  fprintf (fp,
           "usage: ferry <command> [options]\n"
           "       ferry <command> --help\n"
           "       ferry --version\n\n"
           "Move whole machines between physical and virtual worlds.\n\n"
           "commands:\n");
  for (i = 0; i < NR_COMMANDS; i++)
    fprintf (fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (fp, "\nSee ferry-<command>(1) for details.\n");
}

int
main (int argc, char **argv)
{
  size_t i;

  if (argc < 2) {
    usage (stderr);
    return EXIT_USAGE;
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
      strcmp (argv[1], "help") == 0) {
    usage (stdout);
    return EXIT_OK;
  }
  if (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "version") == 0) {
    printf ("ferry %s\n", FERRY_VERSION);
    return EXIT_OK;
  }
  if (strcmp (argv[1], "--list-commands") == 0) {   /* for completion */
    for (i = 0; i < NR_COMMANDS; i++)
      printf ("%s\t%s\n", commands[i].name, commands[i].summary);
    return EXIT_OK;
  }
  for (i = 0; i < NR_COMMANDS; i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "ferry: '%s' is not a ferry command; see 'ferry --help'\n",
           argv[1]);
  return EXIT_USAGE;
}

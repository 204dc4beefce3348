/* windows-reg.h: registry hives of a mounted Windows guest, edited through
 * libguestfs's hivex API inside the appliance (never on the host).
 *
 *   if (win_reg_open (g, "/Windows/System32/config/SYSTEM", true) == -1) ...
 *   node = win_reg_key (g, "ControlSet001\\Services\\viostor", true);
 *   win_reg_set_dword (g, node, "Start", 0);
 *   win_reg_commit_close (g);       // or win_reg_close (g) to discard
 *
 * One hive is open at a time per handle.  Key paths are relative to the
 * hive's root and '\'-separated; names compare as hivex does (no case).
 */
#ifndef FERRY_GUEST_WINDOWS_REG_H
#define FERRY_GUEST_WINDOWS_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <guestfs.h>

/* Registry value types (winnt.h). */
enum {
  WIN_REG_SZ = 1, WIN_REG_EXPAND_SZ = 2, WIN_REG_BINARY = 3,
  WIN_REG_DWORD = 4, WIN_REG_MULTI_SZ = 7,
};

int win_reg_open (guestfs_h *g, const char *hive, bool write);
int win_reg_commit_close (guestfs_h *g);
void win_reg_close (guestfs_h *g);

/* The node of `path` (0 = the root, "" path), created with its parents
 * when `create`; 0 with no error when absent and not created, -1 on
 * error. */
int64_t win_reg_key (guestfs_h *g, const char *path, bool create);

int win_reg_set_string (guestfs_h *g, int64_t node, const char *name,
                        int type, const char *s);
int win_reg_set_multi (guestfs_h *g, int64_t node, const char *name,
                       const char *const *v, size_t n);
int win_reg_set_dword (guestfs_h *g, int64_t node, const char *name,
                       uint32_t v);
int win_reg_set_binary (guestfs_h *g, int64_t node, const char *name,
                        const void *data, size_t len);

/* A value's bytes (caller frees; NULL with *len 0 and no error when the
 * value is absent; NULL with an error on failure: check error_get). */
char *win_reg_get (guestfs_h *g, int64_t node, const char *name,
                   size_t *len, bool *found);

/* A string value (SZ/EXPAND_SZ) as UTF-8, NULL if absent or not a
 * string (*found says whether it was there). */
char *win_reg_get_string (guestfs_h *g, int64_t node, const char *name,
                          bool *found);

#endif

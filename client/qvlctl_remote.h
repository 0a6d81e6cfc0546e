/*
 * qvlctl_remote.h - `qvlctl push`, `qvlctl pull` and `qvlctl ls-remote`:
 * snapshots of a tree in the remote tier (remote/qvl_remote.h,
 * remote/qvl_manifest.h), and what the three share.
 *
 * push (qvlctl_push.c) does the work on the client: it walks a tree,
 * encodes each chunk, sends the frames the remote lacks, then the
 * manifest.  pull only asks the daemon (setxattr user.qvl.pull on a
 * directory of a mount started with -o remote=URL), which creates the tree
 * and fetches bytes on first read.  ls-remote lists the snapshot index.
 *
 * Everything here prints its own errors (one line, "qvlctl: CMD: ...").
 */
#ifndef QVLCTL_REMOTE_H
#define QVLCTL_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "qvl_remote.h"

/* argv[0] is the command's name; return the exit status (0, 1, 2). */
int qvlctl_push_main(int argc, char **argv);
int qvlctl_pull_main(int argc, char **argv);
int qvlctl_ls_remote_main(int argc, char **argv);

/* Longest snapshot name: it is part of a Redis key and a hash field. */
#define QVLCTL_SNAP_NAME_MAX 200

/* qvlctl_snap_name_ok() - 1..200 of [A-Za-z0-9._-/]. */
bool qvlctl_snap_name_ok(const char *name);

/*
 * The qvlmemfs mount a path is in, from ROOT/.qvl/stats.json: its chunk
 * size, and its remote (url, auth_file) when the daemon reports one.
 */
struct qvlctl_mount {
	char *root;          /* realpath of the mount's root */
	uint64_t chunk_size; /* 0 when stats.json does not say */
	char *url;           /* NULL: the mount has no remote */
	char *auth_file;     /* NULL: none */
};

/*
 * qvlctl_mount_find() - walk up from @path (which must exist) to the first
 * directory holding .qvl/stats.json.  Returns 0 and fills @mt (free with
 * qvlctl_mount_free()), -ENOENT when @path is in no mount, or -errno.
 */
int qvlctl_mount_find(const char *path, struct qvlctl_mount *mt);
void qvlctl_mount_free(struct qvlctl_mount *mt);

/*
 * qvlctl_remote_connect() - the remote to use and a handle on it, pinged.
 * URL: @url (-r), else $QVL_REMOTE, else @mt's (NULL: no mount).  Auth:
 * @auth (-a), else $QVL_REMOTE_AUTH, else @mt's auth_file when the URL is
 * @mt's own (a mount's password is not offered to another server).
 * Returns 0; 2 (usage) when there is no URL at all; 1 when the handle
 * cannot be made or the server not reached, after printing why.
 */
int qvlctl_remote_connect(const char *cmd, const char *url, const char *auth,
			  const struct qvlctl_mount *mt, struct qvl_remote **out);

/* qvlctl_remote_perror() - "qvlctl: CMD: WHAT: <engine's text>", or
 * "qvlctl: CMD: WHAT (URL): <strerror(-rc)>" when the engine has none. */
void qvlctl_remote_perror(const char *cmd, struct qvl_remote *r,
			  const char *what, int rc);


#endif /* QVLCTL_REMOTE_H */

/*
 * ops_i.h - what the FUSE handlers share.  Only fs/ sees fuse_req_t.
 *
 * Every handler replies exactly once, never while holding fs->lock.
 */
#ifndef QVL_OPS_I_H
#define QVL_OPS_I_H

#include <fuse_lowlevel.h>

#include "fs_i.h"

static inline struct qvl_fs *qvl_req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Is @ino in the read-only .qvl/ tree (a tiers/ entry included)? */
static inline int qvl_is_ctl(fuse_ino_t ino)
{
	return (ino >= QVL_INO_CTL_DIR && ino < QVL_INO_FIRST) ||
	       (ino & QVL_INO_CTL_LINK);
}

/* Fill @e for @in and take a lookup reference on it (under fs->lock). */
void qvl_entry_fill(struct qvl_fs *fs, struct qvl_inode *in,
		    struct fuse_entry_param *e);

/*
 * qvl_node_make() - create @name in @parent: a file, directory, device, fifo
 * or symlink (@link).  Shared by mknod, mkdir, symlink and create.  Call
 * under fs->lock; returns 0 with @e filled (holding a lookup reference) and
 * *@out set, or a positive errno to reply with.
 */
int qvl_node_make(struct qvl_fs *fs, fuse_req_t req, fuse_ino_t parent,
		  const char *name, mode_t mode, dev_t rdev, const char *link,
		  struct fuse_entry_param *e, struct qvl_inode **out);

/* ops_xattr.c: set xattr @name of @in as setxattr would (flags 0),
 * under fs->lock; 0 or a positive errno. */
int qvl_xattr_apply(struct qvl_fs *fs, struct qvl_inode *in, const char *name,
		    const void *value, size_t size);

/* remote_pull.c: user.qvl.pull=@value on directory @ino (qvlctl pull);
 * under no lock; 0 or a positive errno to reply with. */
int qvl_remote_pull(struct qvl_fs *fs, fuse_req_t req, fuse_ino_t ino,
		    const char *value, size_t size);

/*
 * qvl_fetch_unlocked() - bring chunks of [@off, @off+@len) of @ino that
 * are only in the store or the remote tier into RAM without fs->lock, as
 * a READ's own chunks come, so a change or a load of a pulled file while
 * Redis is slow does not hold up every other request:
 *   QVL_FETCH_EDGES   those a change of the range covers only in part (a
 *                     write's ends, a truncate's or a punch's edge)
 *   QVL_FETCH_ALL     all of them, a window at a time, as far as RAM has
 *                     room (tier=ram, willneed, a GPU placement)
 *   QVL_FETCH_REMOTE  those only in Redis (a checksum)
 * Called and returns with fs->lock held; *@in is @ino looked up again
 * (NULL if gone).  Left over, or evicted again meanwhile: the caller's
 * own path fetches it under the lock.  0, or EIO/ENOMEM when a fetch
 * failed (the next try would wait as long again, under the lock: the
 * caller fails instead).
 */
enum qvl_fetch { QVL_FETCH_EDGES, QVL_FETCH_ALL, QVL_FETCH_REMOTE };
int qvl_fetch_unlocked(struct qvl_fs *fs, fuse_ino_t ino, uint64_t off,
		       uint64_t len, enum qvl_fetch mode,
		       struct qvl_inode **in);

/* fs.c: the whole table */
void qvl_fs_ops(struct fuse_lowlevel_ops *ops);

/* ops tables, one per file */
void qvl_ops_node(struct fuse_lowlevel_ops *ops);
void qvl_ops_file(struct fuse_lowlevel_ops *ops);
void qvl_ops_dir(struct fuse_lowlevel_ops *ops);
void qvl_ops_xattr(struct fuse_lowlevel_ops *ops);

/* ctl.c: the read-only .qvl/ tree.  Lookup and stat fill in the attr
 * and entry timeouts that node may be cached for (0 for what moves). */
int qvl_ctl_lookup(struct qvl_fs *fs, fuse_ino_t parent, const char *name,
		   struct fuse_entry_param *e);
int qvl_ctl_stat(struct qvl_fs *fs, fuse_ino_t ino, struct stat *st,
		 double *timeout);
void qvl_ctl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void qvl_ctl_lseek(fuse_req_t req, off_t off, int whence,
		   struct fuse_file_info *fi);
void qvl_ctl_read(fuse_req_t req, size_t size, off_t off,
		  struct fuse_file_info *fi);
void qvl_ctl_release(fuse_req_t req, struct fuse_file_info *fi);
/* Directory @ino's entries, "." and ".." first, each passed to @add
 * (which returns 0 or -errno, stopping the listing).  0 or -errno. */
typedef int (*qvl_ctl_add_fn)(void *arg, const char *name, fuse_ino_t ino,
			      mode_t mode);
int qvl_ctl_readdir(struct qvl_fs *fs, fuse_ino_t ino, qvl_ctl_add_fn add,
		    void *arg);
/* The target of a .qvl/tiers entry: malloc'd in *@out; 0 or a positive
 * errno. */
int qvl_ctl_readlink(struct qvl_fs *fs, fuse_ino_t ino, char **out);

/* ctl_tiers.c: .qvl/tiers/<tier>/, computed at each call under fs->lock
 * (taken by each function); @tier is an enum qvl_tier_id. */
int qvl_ctl_tiers_list(struct qvl_fs *fs, int tier, qvl_ctl_add_fn add,
		       void *arg);
int qvl_ctl_tiers_lookup(struct qvl_fs *fs, int tier, const char *name,
			 struct stat *st);
int qvl_ctl_tiers_stat(struct qvl_fs *fs, fuse_ino_t ino, struct stat *st);
int qvl_ctl_tiers_readlink(struct qvl_fs *fs, fuse_ino_t ino, char **out);

/* stats.c: the text and JSON renderings of the filesystem's state.
 * Return a malloc'd NUL-terminated buffer (caller frees) or NULL. */
char *qvl_stats_text(struct qvl_fs *fs, size_t *len);
char *qvl_stats_json(struct qvl_fs *fs, size_t *len);

#endif /* QVL_OPS_I_H */

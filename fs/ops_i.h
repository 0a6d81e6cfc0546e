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

static inline int qvl_is_ctl(fuse_ino_t ino)
{
	return ino >= QVL_INO_CTL_DIR && ino < QVL_INO_FIRST;
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

/* fs.c: the whole table */
void qvl_fs_ops(struct fuse_lowlevel_ops *ops);

/* ops tables, one per file */
void qvl_ops_node(struct fuse_lowlevel_ops *ops);
void qvl_ops_file(struct fuse_lowlevel_ops *ops);
void qvl_ops_dir(struct fuse_lowlevel_ops *ops);
void qvl_ops_xattr(struct fuse_lowlevel_ops *ops);

/* ctl.c: the read-only .qvl/ tree */
int qvl_ctl_lookup(struct qvl_fs *fs, fuse_ino_t parent, const char *name,
		   struct fuse_entry_param *e);
int qvl_ctl_stat(struct qvl_fs *fs, fuse_ino_t ino, struct stat *st);
void qvl_ctl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void qvl_ctl_read(fuse_req_t req, size_t size, off_t off,
		  struct fuse_file_info *fi);
void qvl_ctl_release(fuse_req_t req, struct fuse_file_info *fi);
/* Names in .qvl/ for readdir: returns the count, fills names/inos/modes. */
size_t qvl_ctl_list(const char **names, fuse_ino_t *inos, mode_t *modes,
		    size_t max);

/* stats.c: the text and JSON renderings of the filesystem's state.
 * Return a malloc'd NUL-terminated buffer (caller frees) or NULL. */
char *qvl_stats_text(struct qvl_fs *fs, size_t *len);
char *qvl_stats_json(struct qvl_fs *fs, size_t *len);

#endif /* QVL_OPS_I_H */

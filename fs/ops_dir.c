/*
 * ops_dir.c - reading directories.
 *
 * A directory handle takes a snapshot of the entries when reading starts
 * (offset 0, so rewinddir refreshes it) and serves every later readdir from
 * it: entries that come and go meanwhile cannot make a reader skip or
 * repeat a name, and offsets are plain indices into the snapshot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ops_i.h"

struct snap_ent {
	fuse_ino_t ino;
	mode_t mode;
	char *name;
};

struct dir_snap {
	size_t n, cap;
	struct snap_ent *ents;
};

static void snap_clear(struct dir_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->ents[i].name);
	s->n = 0;
}

static int snap_add(struct dir_snap *s, const char *name, fuse_ino_t ino,
		    mode_t mode)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct snap_ent *e = realloc(s->ents, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		s->ents = e;
		s->cap = cap;
	}
	char *n = strdup(name);
	if (!n)
		return -ENOMEM;
	s->ents[s->n++] = (struct snap_ent){ ino, mode, n };
	// cppcheck-suppress memleak ; owned by s->ents, freed by snap_clear()
	return 0;
}

static int snap_add_ctl(void *arg, const char *name, fuse_ino_t ino,
			mode_t mode)
{
	return snap_add(arg, name, ino, mode);
}

static int snap_fill(struct qvl_fs *fs, fuse_ino_t ino, struct dir_snap *s)
{
	snap_clear(s);
	if (qvl_is_ctl(ino))
		return qvl_ctl_readdir(fs, ino, snap_add_ctl, s);
	int rc = 0;
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *d = qvl_inode_get(fs, ino);
	if (!d || !d->dir) {
		rc = d ? -ENOTDIR : -ENOENT;
		goto out_unlock;
	}
	rc = snap_add(s, ".", ino, S_IFDIR);
	if (!rc && d->dir->parent)
		rc = snap_add(s, "..", d->dir->parent, S_IFDIR);
	if (!rc && ino == FUSE_ROOT_ID)
		rc = snap_add(s, QVL_CTL_DIR, QVL_INO_CTL_DIR, S_IFDIR);
	for (struct qvl_dirent *e = d->dir->head; e && !rc; e = e->next)
		rc = snap_add(s, e->name, e->inode->ino, e->inode->mode);
out_unlock:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

static void qvl_opendir(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err = 0;

	qvl_count(fs, QVL_OP_OPENDIR);
	if (!qvl_is_ctl(ino)) {
		pthread_mutex_lock(&fs->lock);
		struct qvl_inode *d = qvl_inode_get(fs, ino);
		if (!d)
			err = ENOENT;
		else if (!d->dir)
			err = ENOTDIR;
		pthread_mutex_unlock(&fs->lock);
	}
	struct dir_snap *s = err ? NULL : calloc(1, sizeof(*s));
	if (!err && !s)
		err = ENOMEM;
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)s;
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted */
		snap_clear(s);
		free(s);
	}
}

static void qvl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct dir_snap *s = (struct dir_snap *)(uintptr_t)fi->fh;

	qvl_count(fs, QVL_OP_READDIR);
	if (off == 0) {
		int rc = snap_fill(fs, ino, s);
		if (rc) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	for (size_t i = off < 0 ? 0 : (size_t)off; i < s->n; i++) {
		struct stat st = { .st_ino = s->ents[i].ino,
				   .st_mode = s->ents[i].mode };
		size_t need = fuse_add_direntry(req, buf + used, size - used,
						s->ents[i].name, &st,
						(off_t)(i + 1));
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void qvl_releasedir(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct dir_snap *s = (struct dir_snap *)(uintptr_t)fi->fh;
	(void)ino;
	qvl_count(qvl_req_fs(req), QVL_OP_RELEASEDIR);
	snap_clear(s);
	free(s->ents);
	free(s);
	fuse_reply_err(req, 0);
}

/* A directory's entries are catalog rows: commit them durably. */
static void qvl_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			 struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	(void)ino;
	(void)datasync;
	(void)fi;
	pthread_mutex_lock(&fs->lock);
	int err = -qvl_persist_fsync_dir(fs);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, err);
}

void qvl_ops_dir(struct fuse_lowlevel_ops *ops)
{
	ops->opendir = qvl_opendir;
	ops->readdir = qvl_readdir;
	ops->releasedir = qvl_releasedir;
	ops->fsyncdir = qvl_fsyncdir;
}

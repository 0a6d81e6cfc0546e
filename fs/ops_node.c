/*
 * ops_node.c - namespace operations: lookup, forget, attributes, creating,
 * linking, renaming and removing names, statfs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "gpu_tier.h"
#include "ops_i.h"
#include "ttl.h"

void qvl_entry_fill(struct qvl_fs *fs, struct qvl_inode *in,
		    struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = in->ino;
	e->generation = 1;
	e->attr_timeout = fs->attr_timeout;
	e->entry_timeout = fs->entry_timeout;
	qvl_inode_stat(fs, in, &e->attr);
	in->nlookup++;
}

/* The directory inode @ino, or NULL with *err set. */
static struct qvl_inode *get_dir(struct qvl_fs *fs, fuse_ino_t ino, int *err)
{
	struct qvl_inode *d = qvl_inode_get(fs, ino);
	if (!d)
		*err = ENOENT;
	else if (!S_ISDIR(d->mode))
		*err = ENOTDIR;
	else if (!d->dir->parent)
		*err = ENOENT; /* removed while open */
	else
		return d;
	return NULL;
}

static int is_ctl_name(fuse_ino_t parent, const char *name)
{
	return parent == FUSE_ROOT_ID && strcmp(name, QVL_CTL_DIR) == 0;
}

static void touch_dir(struct qvl_fs *fs, struct qvl_inode *d)
{
	qvl_now(&d->mtime);
	d->ctime = d->mtime;
	qvl_persist_mark(fs, d);
}

static void qvl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct fuse_entry_param e;
	int err = 0;

	qvl_count(fs, QVL_OP_LOOKUP);
	if (is_ctl_name(parent, name) || qvl_is_ctl(parent)) {
		err = qvl_ctl_lookup(fs, parent, name, &e);
		if (err)
			fuse_reply_err(req, err);
		else
			fuse_reply_entry(req, &e);
		return;
	}
	if (strlen(name) > NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *d = get_dir(fs, parent, &err);
	struct qvl_dirent *de = d ? qvl_dir_find(d->dir, name) : NULL;
	if (de) {
		qvl_entry_fill(fs, de->inode, &e);
	} else if (d) {
		/* A negative entry lets the kernel cache "no such name". */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->entry_timeout;
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void qvl_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	qvl_count(fs, QVL_OP_FORGET);
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (in)
		qvl_inode_forget(fs, in, nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void qvl_forget_multi(fuse_req_t req, size_t count,
			     struct fuse_forget_data *forgets)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	qvl_count(fs, QVL_OP_FORGET);
	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < count; i++) {
		struct qvl_inode *in = qvl_inode_get(fs, forgets[i].ino);
		if (in)
			qvl_inode_forget(fs, in, forgets[i].nlookup);
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void qvl_getattr(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct stat st;
	double timeout = fs->attr_timeout;
	int err = 0;
	(void)fi;

	qvl_count(fs, QVL_OP_GETATTR);
	if (qvl_is_ctl(ino)) {
		err = qvl_ctl_stat(fs, ino, &st, &timeout);
	} else {
		pthread_mutex_lock(&fs->lock);
		struct qvl_inode *in = qvl_inode_get(fs, ino);
		if (in)
			qvl_inode_stat(fs, in, &st);
		else
			err = ENOENT;
		pthread_mutex_unlock(&fs->lock);
	}
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, timeout);
}

static int do_setattr(struct qvl_fs *fs, struct qvl_inode *in,
		      const struct stat *attr, int to_set)
{
	struct timespec now;
	qvl_now(&now);
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (S_ISDIR(in->mode))
			return EISDIR;
		if (!S_ISREG(in->mode))
			return EINVAL;
		if (attr->st_size < 0)
			return EINVAL;
		if ((uint64_t)attr->st_size > QVL_BLOB_MAX_SIZE)
			return EFBIG;
		if (qvl_fs_gpu_may_resize(in, (uint64_t)attr->st_size))
			return EBUSY; /* a consumer holds its GPU block */
		if ((uint64_t)attr->st_size < in->size) {
			int rc = qvl_blob_prepare_cut(in->blob,
						      (uint64_t)attr->st_size,
						      UINT64_MAX);
			if (rc)
				return -rc;
		}
		qvl_inode_resize(fs, in, (uint64_t)attr->st_size);
		/* The kernel leaves the times of a truncate to us. */
		in->mtime = now;
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		in->mode = (in->mode & S_IFMT) | (attr->st_mode & 07777);
	if (to_set & FUSE_SET_ATTR_UID)
		in->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		in->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		in->atime = now;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		in->atime = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		in->mtime = now;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		in->mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_CTIME)
		in->ctime = attr->st_ctim;
	else
		in->ctime = now;
	return 0;
}

static void qvl_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			int to_set, struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct stat st;
	int err = ENOENT;
	(void)fi;

	qvl_count(fs, QVL_OP_SETATTR);
	if (qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (qvl_is_ctl(ino)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	int ferr = 0;
	/* A cut inside a chunk only in Redis: that chunk comes first,
	 * without the lock. */
	if (in && (to_set & FUSE_SET_ATTR_SIZE) && attr->st_size >= 0 &&
	    (uint64_t)attr->st_size < in->size &&
	    (attr->st_size & ((1ll << fs->chunk_shift) - 1)))
		ferr = qvl_fetch_unlocked(fs, ino, (uint64_t)attr->st_size, 1,
					  QVL_FETCH_EDGES, &in);
	if (in && ferr) {
		err = ferr;
	} else if (in) {
		err = do_setattr(fs, in, attr, to_set);
		qvl_persist_mark(fs, in);
		qvl_inode_stat(fs, in, &st);
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, fs->attr_timeout);
}

/* Under fs->lock: @ino's target, strdup'd into *@out. */
static int readlink_locked(struct qvl_fs *fs, fuse_ino_t ino, char **out)
{
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (!in || !S_ISLNK(in->mode))
		return in ? EINVAL : ENOENT;
	return (*out = strdup(in->link)) ? 0 : ENOMEM;
}

static void qvl_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	char *link = NULL;
	int err;

	qvl_count(fs, QVL_OP_READLINK);
	if (qvl_is_ctl(ino)) {
		err = qvl_ctl_readlink(fs, ino, &link);
	} else {
		pthread_mutex_lock(&fs->lock);
		err = readlink_locked(fs, ino, &link);
		pthread_mutex_unlock(&fs->lock);
	}
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_readlink(req, link);
	free(link);
}

int qvl_node_make(struct qvl_fs *fs, fuse_req_t req, fuse_ino_t parent,
		  const char *name, mode_t mode, dev_t rdev, const char *link,
		  struct fuse_entry_param *e, struct qvl_inode **out)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct qvl_inode *in;
	int err = 0, rc;

	if (qvl_is_ctl(parent) || qvl_fs_rdonly(fs))
		return EROFS;
	if (is_ctl_name(parent, name))
		return EEXIST;
	if (strlen(name) > NAME_MAX)
		return ENAMETOOLONG;
	struct qvl_inode *d = get_dir(fs, parent, &err);
	if (!d)
		return err;
	if (qvl_dir_find(d->dir, name))
		return EEXIST;
	gid_t gid = (d->mode & S_ISGID) ? d->gid : ctx->gid;
	if (S_ISDIR(mode) && (d->mode & S_ISGID))
		mode |= S_ISGID;
	rc = qvl_inode_new(fs, mode, ctx->uid, gid, &in);
	if (rc)
		return -rc;
	in->rdev = rdev;
	if (S_ISDIR(mode))
		rc = qvl_dir_init(in, d->ino);
	else if (S_ISLNK(mode) && !(in->link = strdup(link)))
		rc = -ENOMEM;
	if (!rc)
		rc = qvl_dir_add(d->dir, name, in);
	if (rc) {
		in->nlink = 0;
		qvl_inode_maybe_free(fs, in);
		return -rc;
	}
	qvl_hints_inherit(&in->hints, &d->hints);
	qvl_inode_apply_policy(in);
	qvl_persist_dirent(fs, d->ino, name, in);
	if (S_ISDIR(mode))
		d->nlink++;
	touch_dir(fs, d);
	qvl_entry_fill(fs, in, e);
	*out = in;
	return 0;
}

static void make_and_reply(fuse_req_t req, fuse_ino_t parent, const char *name,
			   mode_t mode, dev_t rdev, const char *link)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct fuse_entry_param e;
	struct qvl_inode *in;

	pthread_mutex_lock(&fs->lock);
	int err = qvl_node_make(fs, req, parent, name, mode, rdev, link, &e, &in);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void qvl_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev)
{
	qvl_count(qvl_req_fs(req), QVL_OP_MKNOD);
	make_and_reply(req, parent, name, mode, rdev, NULL);
}

static void qvl_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode)
{
	qvl_count(qvl_req_fs(req), QVL_OP_MKDIR);
	make_and_reply(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL);
}

static void qvl_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			const char *name)
{
	qvl_count(qvl_req_fs(req), QVL_OP_SYMLINK);
	make_and_reply(req, parent, name, S_IFLNK | 0777, 0, link);
}

static void qvl_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		     const char *newname)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct fuse_entry_param e;
	int err = 0;

	qvl_count(fs, QVL_OP_LINK);
	if (qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (qvl_is_ctl(ino) || qvl_is_ctl(newparent)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (is_ctl_name(newparent, newname)) {
		fuse_reply_err(req, EEXIST);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	struct qvl_inode *d = get_dir(fs, newparent, &err);
	if (!in)
		err = ENOENT;
	else if (S_ISDIR(in->mode))
		err = EPERM;
	else if (d && strlen(newname) > NAME_MAX)
		err = ENAMETOOLONG;
	else if (d && qvl_dir_find(d->dir, newname))
		err = EEXIST;
	else if (d)
		err = -qvl_dir_add(d->dir, newname, in);
	if (!err) {
		in->nlink++;
		qvl_now(&in->ctime);
		qvl_persist_mark(fs, in);
		qvl_persist_dirent(fs, d->ino, newname, in);
		touch_dir(fs, d);
		qvl_entry_fill(fs, in, &e);
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

/* Drop a name's link to @in; frees it once nothing refers to it. */
static void drop_link(struct qvl_fs *fs, struct qvl_inode *d,
		      struct qvl_inode *in)
{
	if (S_ISDIR(in->mode)) {
		in->nlink = 0;
		in->dir->parent = 0;
		d->nlink--;
	} else {
		in->nlink--;
	}
	qvl_now(&in->ctime);
	qvl_persist_mark(fs, in);
	qvl_ttl_unlinked(fs, in); /* its RAM-only bytes stay off the store */
	qvl_inode_maybe_free(fs, in);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name,
			int want_dir)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err = 0;

	if (qvl_is_ctl(parent) || is_ctl_name(parent, name) ||
	    qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, is_ctl_name(parent, name) ? EBUSY : EROFS);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *d = get_dir(fs, parent, &err);
	struct qvl_dirent *de = d ? qvl_dir_find(d->dir, name) : NULL;
	if (d && !de)
		err = ENOENT;
	if (de) {
		struct qvl_inode *in = de->inode;
		if (want_dir && !S_ISDIR(in->mode))
			err = ENOTDIR;
		else if (!want_dir && S_ISDIR(in->mode))
			err = EISDIR;
		else if (want_dir && in->dir->count)
			err = ENOTEMPTY;
		if (!err) {
			qvl_persist_dirent(fs, d->ino, name, NULL);
			qvl_dir_remove(d->dir, de);
			touch_dir(fs, d);
			drop_link(fs, d, in);
		}
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, err);
}

static void qvl_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	qvl_count(qvl_req_fs(req), QVL_OP_UNLINK);
	remove_name(req, parent, name, 0);
}

static void qvl_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	qvl_count(qvl_req_fs(req), QVL_OP_RMDIR);
	remove_name(req, parent, name, 1);
}

/* Is directory @anc the directory @ino or one of its ancestors? */
static int is_ancestor(struct qvl_fs *fs, struct qvl_inode *anc, uint64_t ino)
{
	while (ino) {
		if (ino == anc->ino)
			return 1;
		if (ino == FUSE_ROOT_ID)
			return 0;
		struct qvl_inode *d = qvl_inode_get(fs, ino);
		if (!d || !d->dir)
			return 0;
		ino = d->dir->parent;
	}
	return 0;
}

/* Move directory @in from @from to @to: fix ".." and the link counts. */
static void reparent(struct qvl_inode *in, struct qvl_inode *from,
		     struct qvl_inode *to)
{
	if (!S_ISDIR(in->mode) || from == to)
		return;
	in->dir->parent = to->ino;
	from->nlink--;
	to->nlink++;
}

static int do_exchange(struct qvl_fs *fs, struct qvl_inode *sd,
		       struct qvl_dirent *se, struct qvl_inode *dd,
		       struct qvl_dirent *de)
{
	struct qvl_inode *a = se->inode, *b = de->inode;
	if ((S_ISDIR(a->mode) && is_ancestor(fs, a, dd->ino)) ||
	    (S_ISDIR(b->mode) && is_ancestor(fs, b, sd->ino)))
		return EINVAL;
	se->inode = b;
	de->inode = a;
	reparent(a, sd, dd);
	reparent(b, dd, sd);
	qvl_now(&a->ctime);
	b->ctime = a->ctime;
	qvl_persist_dirent(fs, sd->ino, se->name, b);
	qvl_persist_dirent(fs, dd->ino, de->name, a);
	qvl_persist_mark(fs, a);
	qvl_persist_mark(fs, b);
	return 0;
}

static int do_rename(struct qvl_fs *fs, struct qvl_inode *sd,
		     struct qvl_dirent *se, struct qvl_inode *dd,
		     struct qvl_dirent *de, const char *newname)
{
	struct qvl_inode *in = se->inode;
	if (S_ISDIR(in->mode) && is_ancestor(fs, in, dd->ino))
		return EINVAL;
	if (de) {
		struct qvl_inode *old = de->inode;
		if (S_ISDIR(in->mode) && !S_ISDIR(old->mode))
			return ENOTDIR;
		if (!S_ISDIR(in->mode) && S_ISDIR(old->mode))
			return EISDIR;
		if (S_ISDIR(old->mode) && old->dir->count)
			return ENOTEMPTY;
		de->inode = in; /* no allocation: cannot fail from here */
		reparent(in, sd, dd);
		qvl_persist_dirent(fs, dd->ino, newname, in);
		qvl_persist_dirent(fs, sd->ino, se->name, NULL);
		qvl_dir_remove(sd->dir, se);
		drop_link(fs, dd, old);
	} else {
		int rc = qvl_dir_add(dd->dir, newname, in);
		if (rc)
			return -rc;
		reparent(in, sd, dd);
		qvl_persist_dirent(fs, dd->ino, newname, in);
		qvl_persist_dirent(fs, sd->ino, se->name, NULL);
		qvl_dir_remove(sd->dir, se);
	}
	qvl_now(&in->ctime);
	qvl_persist_mark(fs, in);
	return 0;
}

static void qvl_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		       fuse_ino_t newparent, const char *newname,
		       unsigned int flags)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err = 0;

	qvl_count(fs, QVL_OP_RENAME);
	if (qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) ||
	    (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (qvl_is_ctl(parent) || qvl_is_ctl(newparent) ||
	    is_ctl_name(parent, name) || is_ctl_name(newparent, newname)) {
		fuse_reply_err(req, EBUSY);
		return;
	}
	if (strlen(newname) > NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *sd = get_dir(fs, parent, &err);
	struct qvl_inode *dd = sd ? get_dir(fs, newparent, &err) : NULL;
	struct qvl_dirent *se = dd ? qvl_dir_find(sd->dir, name) : NULL;
	struct qvl_dirent *de = se ? qvl_dir_find(dd->dir, newname) : NULL;
	if (dd && !se)
		err = ENOENT;
	else if (!se)
		; /* err set by get_dir */
	else if (flags & RENAME_EXCHANGE)
		err = de ? do_exchange(fs, sd, se, dd, de) : ENOENT;
	else if (de && (flags & RENAME_NOREPLACE))
		err = EEXIST;
	else if (de && de->inode == se->inode)
		err = 0; /* same file: POSIX says do nothing */
	else
		err = do_rename(fs, sd, se, dd, de, newname);
	if (!err && se) {
		touch_dir(fs, sd);
		touch_dir(fs, dd);
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, err);
}

/*
 * df for a mount: Used is the bytes this mount stores, what the daemon
 * holds in RAM for data (raw chunks and compressed frames; not the page
 * cache, which is the kernel's) plus the compressed bytes of its files on
 * the store.  Avail is what it can still take: the RAM budget left plus
 * the store filesystem's free space (less what data leaves to the
 * catalog).  Size is Used + Avail, so Use% is the share of what this mount
 * could hold that it holds, and a fresh mount shows about 0%: reporting
 * the store filesystem's size and use, as 0.3 did, showed whatever else
 * lived there (71% on a near-empty mount).  Both sides count bytes as
 * stored, compressed on the store, so a mount holds more file bytes than
 * Size says.  A chunk both in RAM and on the store counts twice: it costs
 * both.  Counting the store walks the inode table, as .qvl/stats does.
 */
static void qvl_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct qvl_pool_stats ps;
	struct qvl_tm_stats ts = { 0 };
	struct statvfs sv, store;
	uint64_t ram_used, disk_used = 0, avail, inodes;
	(void)ino;

	qvl_count(fs, QVL_OP_STATFS);
	qvl_pool_get_stats(fs->pool, &ps);
	pthread_mutex_lock(&fs->lock);
	if (fs->tm)
		qvl_tm_get_stats(fs->tm, &ts);
	for (size_t i = 0; i < fs->itab_size; i++)
		for (struct qvl_inode *in = fs->itab[i]; in; in = in->hnext)
			if (in->blob)
				disk_used += qvl_blob_disk_bytes(in->blob);
	inodes = fs->ninodes;
	pthread_mutex_unlock(&fs->lock);

	ram_used = ps.used > ts.pc_bytes ? ps.used - ts.pc_bytes : 0;
	avail = ps.budget > ps.used ? ps.budget - ps.used : 0;
	if (fs->store && fs->nvme && statvfs(fs->store, &store) == 0) {
		uint64_t free_b = (uint64_t)store.f_bavail * store.f_frsize;
		uint64_t reserve = qvl_tm_store_reserve();
		avail += free_b > reserve ? free_b - reserve : 0;
	}
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_bfree = avail / 4096;
	sv.f_bavail = sv.f_bfree;
	/* Rounded up, so one stored byte shows as used. */
	sv.f_blocks = sv.f_bfree + (ram_used + disk_used + 4095) / 4096;
	sv.f_files = inodes + (1u << 30);
	sv.f_ffree = 1u << 30;
	sv.f_favail = sv.f_ffree;
	sv.f_namemax = NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

void qvl_ops_node(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = qvl_lookup;
	ops->forget = qvl_forget;
	ops->forget_multi = qvl_forget_multi;
	ops->getattr = qvl_getattr;
	ops->setattr = qvl_setattr;
	ops->readlink = qvl_readlink;
	ops->mknod = qvl_mknod;
	ops->mkdir = qvl_mkdir;
	ops->symlink = qvl_symlink;
	ops->link = qvl_link;
	ops->unlink = qvl_unlink;
	ops->rmdir = qvl_rmdir;
	ops->rename = qvl_rename;
	ops->statfs = qvl_statfs;
}

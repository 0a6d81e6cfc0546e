/*
 * remote_pull.c - `setfattr -n user.qvl.pull -v NAME DIR` (what `qvlctl
 * pull NAME DIR` does): the tree of snapshot NAME appears under DIR at
 * once, every file's chunks marked remote; the bytes arrive on first read
 * through the tiers like the store's (tiers/frames.c), and stay in RAM as
 * any fetched chunk does.
 *
 * The manifest is fetched and checked whole (remote/manifest.c) before
 * the lock is taken: a snapshot that is absent, damaged or made with
 * another chunk size changes nothing.  DIR must be an empty directory, so
 * a pull never mixes with files already there.  The entries are made as
 * mkdir/create/symlink would make them, owned by the caller; their
 * xattrs go through the same checks as setxattr (a value the checks
 * refuse is left out, with a log line).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_i.h"
#include "qvl_manifest.h"

#define SNAP_NAME_MAX 200

/* Snapshot names as qvlctl accepts them: [A-Za-z0-9._/-], 1..200. */
static int name_ok(const char *v, size_t len)
{
	if (!len || len > SNAP_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '/'))
			return 0;
	}
	return 1;
}

/* The manifest of snapshot @name, fetched and checked; a positive errno
 * (logged) otherwise. */
static int fetch_manifest(struct qvl_fs *fs, const char *name,
			  struct qvl_manifest **out)
{
	char key[SNAP_NAME_MAX + 8], why[256];
	void *buf = NULL;
	size_t len = 0;
	snprintf(key, sizeof(key), "qvl:m:%s", name);
	int rc = qvl_remote_get_value(fs->remote, key, &buf, &len);
	if (rc == -ENOENT)
		return ENOENT;
	if (rc) {
		qvl_remote_error(fs->remote, why, sizeof(why));
		fprintf(stderr, "qvlmemfs: pull %s: remote tier %s: %s\n",
			name, qvl_remote_url(fs->remote), *why ? why :
			strerror(-rc));
		return EIO;
	}
	rc = qvl_manifest_decode(buf, len, out);
	free(buf);
	if (rc) {
		fprintf(stderr, "qvlmemfs: pull %s: the snapshot's manifest "
				"is damaged (%s)\n", name, strerror(-rc));
		return EIO;
	}
	if ((*out)->chunk_shift != fs->chunk_shift) {
		fprintf(stderr, "qvlmemfs: pull %s: the snapshot has chunks of "
				"%llu bytes, this mount %llu: push it from a "
				"mount with chunk=%llu\n", name,
			1ULL << (*out)->chunk_shift, 1ULL << fs->chunk_shift,
			1ULL << fs->chunk_shift);
		qvl_manifest_free(*out);
		*out = NULL;
		return EINVAL;
	}
	return 0;
}

/* The directory @path names under @top (its parent part, up to the last
 * '/'), or NULL.  Entries come parents first, so it exists. */
static struct qvl_inode *parent_of(struct qvl_inode *top, const char *path,
				   const char **base)
{
	struct qvl_inode *d = top;
	const char *p = path, *slash;
	while ((slash = strchr(p, '/'))) {
		char comp[QVL_MAN_NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		memcpy(comp, p, n);
		comp[n] = '\0';
		struct qvl_dirent *de = qvl_dir_find(d->dir, comp);
		if (!de || !S_ISDIR(de->inode->mode))
			return NULL;
		d = de->inode;
		p = slash + 1;
	}
	*base = p;
	return d;
}

static void set_mtime(struct qvl_fs *fs, struct qvl_inode *in, int64_t ns)
{
	in->mtime.tv_sec = ns / 1000000000;
	in->mtime.tv_nsec = ns % 1000000000;
	if (in->mtime.tv_nsec < 0) {
		in->mtime.tv_sec--;
		in->mtime.tv_nsec += 1000000000;
	}
	qvl_persist_mark(fs, in);
}

/* Entry @e's attributes as the snapshot has them (size and chunks first:
 * a shape is checked against the size). */
static int fill_entry(struct qvl_fs *fs, struct qvl_inode *in,
		      const struct qvl_man_entry *e, const char *snap)
{
	if (e->type == QVL_MAN_FILE) {
		qvl_inode_resize(fs, in, e->size);
		for (uint64_t k = 0; k < e->nchunks; k++) {
			const struct qvl_man_chunk *c = &e->chunks[k];
			int rc = qvl_blob_attach_remote(in->blob, c->idx,
							c->len, &c->key);
			if (rc)
				return -rc;
		}
	}
	for (uint32_t x = 0; x < e->nxattr; x++) {
		const struct qvl_man_xattr *xa = &e->xattr[x];
		/* Values, not commands: a snapshot does not move data
		 * (tier, advice) or pull more snapshots. */
		int rc = !strcmp(xa->name, QVL_XATTR_TIER) ||
				 !strcmp(xa->name, QVL_XATTR_ADVICE) ||
				 !strcmp(xa->name, QVL_XATTR_PULL)
			 ? EPERM
			 : qvl_xattr_apply(fs, in, xa->name, xa->value,
					   xa->len);
		if (rc)
			fprintf(stderr, "qvlmemfs: pull %s: %s: %s left out "
					"(%s)\n", snap, e->path, xa->name,
				strerror(rc));
	}
	set_mtime(fs, in, e->mtime_ns);
	return 0;
}

/* The snapshot's permission bits, without set-user/group-ID: a snapshot
 * is data from elsewhere, and a setuid file owned by whoever pulled it
 * (root, say) is not something it may hand out. */
static mode_t mode_of(const struct qvl_man_entry *e)
{
	switch (e->type) {
	case QVL_MAN_DIR:
		return S_IFDIR | (e->mode & 01777);
	case QVL_MAN_LINK:
		return S_IFLNK | 0777;
	default:
		return S_IFREG | (e->mode & 0777);
	}
}

/* Make every entry of @m under @top; a positive errno stops it (what was
 * made stays: ENOSPC or ENOMEM, with a log line). */
static int make_tree(struct qvl_fs *fs, fuse_req_t req, struct qvl_inode *top,
		     const struct qvl_manifest *m, const char *snap)
{
	for (uint64_t i = 0; i < m->n; i++) {
		const struct qvl_man_entry *e = &m->e[i];
		const char *base;
		struct qvl_inode *d = parent_of(top, e->path, &base), *in;
		struct fuse_entry_param fe;
		struct timespec keep = d ? d->mtime : (struct timespec){ 0 };
		int err = d ? qvl_node_make(fs, req, d->ino, base, mode_of(e),
					    0, e->link, &fe, &in)
			    : ENOENT;
		/* A pulled directory keeps the snapshot's mtime (set when it
		 * was made) as its entries come; DIR itself shows the pull. */
		if (!err && d != top)
			d->mtime = keep;
		if (!err) {
			/* Nobody looked it up: drop the reference the
			 * entry reply would have handed the kernel. */
			qvl_inode_forget(fs, in, 1);
			err = fill_entry(fs, in, e, snap);
		}
		if (err) {
			fprintf(stderr, "qvlmemfs: pull %s: %s: %s\n", snap,
				e->path, strerror(err));
			return err;
		}
	}
	return 0;
}

int qvl_remote_pull(struct qvl_fs *fs, fuse_req_t req, fuse_ino_t ino,
		    const char *value, size_t size)
{
	char name[SNAP_NAME_MAX + 1];
	struct qvl_manifest *m = NULL;
	if (!fs->remote) {
		fprintf(stderr, "qvlmemfs: pull: this mount has no remote tier "
				"(mount with -o remote=URL)\n");
		return EOPNOTSUPP;
	}
	if (!qvl_catalog_has_remote(fs->cat)) {
		fprintf(stderr, "qvlmemfs: pull: the catalog has no table for "
				"remote chunks (opened read-only, or it could "
				"not be made)\n");
		return EOPNOTSUPP;
	}
	if (!name_ok(value, size))
		return EINVAL;
	memcpy(name, value, size);
	name[size] = '\0';
	int err = fetch_manifest(fs, name, &m);
	if (err)
		return err;
	/* Sizes a file of the mount may have: setattr's rule. */
	for (uint64_t i = 0; i < m->n; i++)
		if (m->e[i].size > QVL_BLOB_MAX_SIZE) {
			fprintf(stderr, "qvlmemfs: pull %s: %s: %llu bytes, "
					"more than a file here may hold\n",
				name, m->e[i].path,
				(unsigned long long)m->e[i].size);
			qvl_manifest_free(m);
			return EFBIG;
		}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *top = qvl_inode_get(fs, ino);
	if (!top)
		err = ENOENT;
	else if (!S_ISDIR(top->mode))
		err = ENOTDIR;
	else if (top->dir->count)
		err = ENOTEMPTY;
	else
		err = make_tree(fs, req, top, m, name);
	/* The kernel may hold "no such name" for what is there now (a
	 * lookup before the pull): those go, and DIR's cached size and
	 * times with them.  Queued: the kernel holds DIR's lock until this
	 * setxattr is answered. */
	for (uint64_t i = 0; top && i < m->n; i++)
		if (!strchr(m->e[i].path, '/'))
			qvl_bg_inval_entry(fs, ino, m->e[i].path);
	if (top)
		qvl_bg_inval(fs, ino, (uint64_t)-1, 0);
	pthread_mutex_unlock(&fs->lock);
	if (!err)
		fprintf(stderr, "qvlmemfs: pulled %s: %llu entries\n", name,
			(unsigned long long)m->n);
	qvl_manifest_free(m);
	return err;
}

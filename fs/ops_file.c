/*
 * ops_file.c - regular file data: create, open, read, write, fallocate,
 * fsync, lseek (data and holes), release.
 *
 * Reads copy out of the blob under fs->lock into a buffer of the request's
 * own and reply after unlocking: a reply may fault in pages of a mapping on
 * this very mount, and that must never wait on our lock.
 */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "gpu_tier.h"
#include "ops_i.h"
#include "ttl.h"

static void open_common(struct qvl_fs *fs, struct fuse_file_info *fi)
{
	/* Every change reaches the page cache through this kernel: what it
	 * caches stays valid across opens. */
	fi->keep_cache = 1;
	/* Its own number: a GPU mapper is known by the file it asked on,
	 * and its release (a crash's too) ends its maps. */
	fi->fh = atomic_fetch_add(&fs->next_fh, 1) + 1;
}

static void qvl_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct fuse_entry_param e;
	struct qvl_inode *in;

	qvl_count(fs, QVL_OP_CREATE);
	if (qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	int err = qvl_node_make(fs, req, parent, name, S_IFREG | (mode & 07777),
				0, NULL, &e, &in);
	if (!err)
		in->nopen++;
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	open_common(fs, fi);
	fuse_reply_create(req, &e, fi);
}

static void qvl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err = 0;

	qvl_count(fs, QVL_OP_OPEN);
	if (qvl_is_ctl(ino)) {
		qvl_ctl_open(req, ino, fi);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (!in)
		err = ENOENT;
	else if (S_ISDIR(in->mode))
		err = EISDIR;
	else
		in->nopen++;
	if (!err)
		qvl_ttl_note(fs, in); /* cat of a cached file reads nothing */
	/* libfuse asks for atomic O_TRUNC: the kernel leaves it to us. */
	if (!err && (fi->flags & O_TRUNC) && in->blob &&
	    (fi->flags & O_ACCMODE) != O_RDONLY) {
		qvl_inode_resize(fs, in, 0);
		qvl_now(&in->mtime);
		in->ctime = in->mtime;
		qvl_persist_mark(fs, in);
	}
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	open_common(fs, fi);
	fuse_reply_open(req, fi);
}

/* relatime: note an access only when it would change what atime says. */
static void note_access(struct qvl_fs *fs, struct qvl_inode *in)
{
	struct timespec now;
	qvl_ttl_note(fs, in); /* a ttl counts from the last use, to the second */
	qvl_now(&now);
	if (in->atime.tv_sec <= in->mtime.tv_sec ||
	    in->atime.tv_sec <= now.tv_sec - 24 * 3600) { /* no overflow */
		in->atime = now;
		qvl_persist_mark(fs, in);
	}
}

/* An O_DIRECT file's reads and writes bypass the page cache (the kernel
 * says so in the request's open flags): what they move is not charged to
 * the budget as page cache. */
static unsigned io_flags(const struct fuse_file_info *fi)
{
	return fi && (fi->flags & O_DIRECT) ? QVL_IO_UNCACHED : 0;
}

/* What a worker thread replies to READs with: the iovec of a reply from
 * chunk memory (tiers/reply.c) and a buffer for what has to be made or
 * copied (READs are at most max_read, so it is allocated once). */
struct read_space {
	size_t cap;
	struct qvl_reply rep;
	_Alignas(64) char buf[];
};

/* This thread's, with room for @n bytes; NULL without memory. */
static struct read_space *read_space(struct qvl_fs *fs, size_t n)
{
	struct read_space *sp = pthread_getspecific(fs->read_space);
	if (sp && sp->cap >= n)
		return sp;
	free(sp);
	size_t cap = n < (1u << 20) ? 1u << 20 : n;
	sp = malloc(sizeof(*sp) + cap);
	if (sp)
		sp->cap = cap;
	pthread_setspecific(fs->read_space, sp);
	return sp;
}

/* The READ's bytes at @off into @sp (or pinned in sp->rep), with the
 * lock held: how many in @*n, 0 or an errno, or -QVL_READ_PLANNED (its
 * own chunks are planned into @ah: run, land, call again). */
static int read_locked(struct qvl_fs *fs, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi,
		       struct read_space **sp, struct qvl_ahead *ah,
		       size_t *n)
{
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	*n = 0;
	if (!in || !in->blob)
		return in ? EISDIR : ENOENT;
	if (off < 0 || (uint64_t)off >= in->size)
		return 0;
	*n = in->size - (uint64_t)off < size ? in->size - (uint64_t)off : size;
	if (!ah->own)
		note_access(fs, in);
	*sp = read_space(fs, *n);
	if (!*sp)
		return ENOMEM;
	int rc = qvl_blob_read_ahead(in->blob, (*sp)->buf, *n, (uint64_t)off,
				     io_flags(fi), ah, fs->tm ? &(*sp)->rep : NULL);
	return rc == QVL_READ_PLANNED ? -QVL_READ_PLANNED : -rc;
}

static void qvl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct read_space *sp = NULL;
	size_t n = 0;
	int err;
	struct timespec t0;
	struct qvl_tm_stats ts0, ts1;
	enum qvl_read_src src = QVL_READ_RAW_RAM;
	struct qvl_ahead ah = { .blob = NULL, .own_ok = 1 };

	qvl_count(fs, QVL_OP_READ);
	if (qvl_is_ctl(ino)) {
		qvl_ctl_read(req, size, off, fi);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&fs->lock);
	if (fs->tm) /* metrics: did the data come from the store? */
		qvl_tm_get_counters(fs->tm, &ts0);
	/* A READ that must wait for the store waits without the lock: a
	 * READ of data in RAM meanwhile does not wait for it. */
	for (unsigned round = 1;
	     (err = read_locked(fs, ino, size, off, fi, &sp, &ah, &n)) ==
	     -QVL_READ_PLANNED;
	     round++) {
		pthread_mutex_unlock(&fs->lock);
		qvl_tm_ahead_run(fs->tm, &ah);
		pthread_mutex_lock(&fs->lock);
		qvl_tm_ahead_land(fs->tm, &ah);
		/* a chunk that keeps leaving or failing: under the lock */
		ah.own_ok = round < QVL_READ_OWN_ROUNDS;
	}
	if (fs->tm) {
		qvl_tm_get_counters(fs->tm, &ts1);
		src = qvl_metrics_source(&ts0, &ts1);
	}
	pthread_mutex_unlock(&fs->lock);
	qvl_metrics_read_done(&fs->read_hist, src, &t0);
	struct qvl_reply *rep = sp && fs->tm ? &sp->rep : NULL;
	if (err)
		fuse_reply_err(req, err);
	else if (rep && rep->n) /* the kernel copies from the chunks */
		fuse_reply_iov(req, rep->iov, (int)rep->n);
	else
		fuse_reply_buf(req, sp ? sp->buf : NULL, n);
	int pinned = !err && rep && rep->npin;
	if (!pinned && !ah.blob)
		return;
	/* The reader has its bytes: what comes after them is read and
	 * decoded now, without the lock (tiers/ahead.c). */
	if (ah.blob)
		qvl_tm_ahead_run(fs->tm, &ah);
	pthread_mutex_lock(&fs->lock);
	if (pinned)
		qvl_tm_reply_done(fs->tm, rep);
	if (ah.blob)
		qvl_tm_ahead_land(fs->tm, &ah);
	pthread_mutex_unlock(&fs->lock);
}

/*
 * Write @*size bytes at @off.  With a store, a chunk at a time: each one
 * can push the ones before it out to the store, so a write larger than
 * the RAM budget still goes through.  A failure after some chunks were
 * written is a short write (@*size says how much), as on a full disk;
 * only when nothing was written is it an error.  Without a store the
 * write is all or nothing.
 */
static int write_spilling(struct qvl_fs *fs, struct qvl_inode *in,
			  const char *buf, size_t *size, uint64_t off,
			  unsigned flags)
{
	if (!fs->tm)
		return -qvl_blob_write_flags(in->blob, buf, *size, off, flags);
	size_t chunk = (size_t)1 << fs->chunk_shift, done = 0;
	while (done < *size) {
		uint64_t at = off + done;
		size_t n = chunk - (size_t)(at & (chunk - 1));
		if (n > *size - done)
			n = *size - done;
		int rc = qvl_blob_write_flags(in->blob, buf + done, n, at,
					      flags);
		/* A store full of copies of remote frames makes room. */
		if (rc == -ENOSPC && qvl_persist_relieve(fs))
			continue;
		if (rc) {
			if (!done)
				return -rc;
			break;
		}
		done += n;
	}
	*size = done;
	return 0;
}

/* One batch of @mode's chunks of [@off, @off+@len) planned into @ah. */
static int plan(struct qvl_inode *in, uint64_t off, uint64_t len,
		enum qvl_fetch mode, struct qvl_ahead *ah)
{
	return mode == QVL_FETCH_EDGES
		       ? qvl_blob_plan_write(in->blob, off, (size_t)len, ah)
		       : qvl_blob_plan_fetch(in->blob, off, len,
					     mode == QVL_FETCH_REMOTE, ah);
}

int qvl_fetch_unlocked(struct qvl_fs *fs, fuse_ino_t ino, uint64_t off,
		       uint64_t len, enum qvl_fetch mode,
		       struct qvl_inode **inp)
{
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	uint64_t step = mode == QVL_FETCH_EDGES
				? len
				: (uint64_t)QVL_AHEAD_MAX << fs->chunk_shift;
	int err = 0;
	/* A load larger than RAM would only push its own start out. */
	uint64_t most = mode == QVL_FETCH_EDGES ? len
						: qvl_pool_budget(fs->pool);
	for (uint64_t at = off; !err && fs->tm && len && at - off < len &&
				at - off < most;
	     at += step) {
		uint64_t n = len - (at - off) < step ? len - (at - off) : step;
		for (unsigned round = 1; !err && in && in->blob &&
					 round < QVL_READ_OWN_ROUNDS;
		     round++) {
			struct qvl_ahead ah;
			int rc = plan(in, at, n, mode, &ah);
			if (rc == -EAGAIN)
				continue;
			if (rc != 2)
				break;
			pthread_mutex_unlock(&fs->lock);
			qvl_tm_ahead_run(fs->tm, &ah);
			for (unsigned k = 0; k < ah.n; k++)
				if (ah.rc[k])
					err = ah.rc[k] == -ENOMEM ? ENOMEM
								  : EIO;
			pthread_mutex_lock(&fs->lock);
			qvl_tm_ahead_land(fs->tm, &ah);
			in = qvl_inode_get(fs, ino);
		}
	}
	*inp = in;
	return err;
}

static void qvl_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		      size_t size, off_t off, struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err = 0;

	qvl_count(fs, QVL_OP_WRITE);
	if (qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (qvl_is_ctl(ino)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in;
	err = qvl_fetch_unlocked(fs, ino, (uint64_t)off, size,
				 QVL_FETCH_EDGES, &in);
	if (err) {
		/* nothing written */
	} else if (!in || !in->blob) {
		err = in ? EISDIR : ENOENT;
	} else if ((uint64_t)off + size > in->size &&
		   (err = qvl_fs_gpu_may_resize(in, (uint64_t)off + size))) {
		/* a consumer holds its GPU block */
	} else {
		err = write_spilling(fs, in, buf, &size, (uint64_t)off,
				     io_flags(fi));
		if (!err && (uint64_t)off + size > in->size)
			qvl_inode_resize(fs, in, (uint64_t)off + size);
		if (!err)
			qvl_fs_gpu_written(fs, in, (uint64_t)off, buf, size);
		if (!err && size) {
			qvl_now(&in->mtime);
			in->ctime = in->mtime;
			qvl_persist_mark(fs, in);
		}
	}
	pthread_mutex_unlock(&fs->lock);
	if (err == ENOSPC)
		atomic_fetch_add(&fs->enospc, 1);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_write(req, size);
}

static int do_fallocate(struct qvl_fs *fs, struct qvl_inode *in, int mode,
			uint64_t off, uint64_t len)
{
	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
		uint64_t n = off < in->size ? in->size - off : 0;
		n = len < n ? len : n;
		int rc = n ? qvl_blob_prepare_cut(in->blob, off, n) : 0;
		if (rc)
			return -rc;
		if (n) {
			qvl_blob_punch(in->blob, off, n);
			qvl_fs_gpu_written(fs, in, off, NULL, n);
		}
	} else if (mode == 0 || mode == FALLOC_FL_KEEP_SIZE) {
		if (len > QVL_BLOB_MAX_SIZE || off > QVL_BLOB_MAX_SIZE - len)
			return EFBIG;
		/* In RAM when it fits easily.  A stored file's room is the
		 * store's too: what is not written reads as zeros and takes
		 * no RAM, so a large range needs only the store's space (and
		 * trying RAM first would push everything else out). */
		int stored = fs->tm && in->hints.lifetime == QVL_LIFE_PERSISTENT;
		int rc = stored && len > qvl_pool_budget(fs->pool) / 4
				 ? -ENOSPC
				 : qvl_blob_reserve(in->blob, off, len);
		if (rc == -ENOSPC && stored &&
		    qvl_nvme_free_bytes(fs->nvme) >= len)
			rc = 0;
		if (rc)
			return -rc;
		if (mode == 0 && off + len > in->size) {
			if ((rc = qvl_fs_gpu_may_resize(in, off + len)))
				return rc;
			qvl_inode_resize(fs, in, off + len);
		}
	} else {
		return EOPNOTSUPP;
	}
	qvl_now(&in->ctime);
	if (mode != FALLOC_FL_KEEP_SIZE)
		in->mtime = in->ctime;
	qvl_persist_mark(fs, in);
	return 0;
}

static void qvl_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			  off_t off, off_t len, struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err;
	(void)fi;

	qvl_count(fs, QVL_OP_FALLOCATE);
	if (qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (qvl_is_ctl(ino)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	err = 0;
	/* A hole's edges inside chunks only in Redis come first, without
	 * the lock. */
	if (mode & FALLOC_FL_PUNCH_HOLE)
		err = qvl_fetch_unlocked(fs, ino, (uint64_t)off,
					 (uint64_t)len, QVL_FETCH_EDGES, &in);
	if (!err && (!in || !in->blob))
		err = in ? ENODEV : ENOENT;
	else if (!err)
		err = do_fallocate(fs, in, mode, (uint64_t)off, (uint64_t)len);
	pthread_mutex_unlock(&fs->lock);
	if (err == ENOSPC)
		atomic_fetch_add(&fs->enospc, 1);
	fuse_reply_err(req, err);
}


/* Data and metadata of the file durable: its dirty chunks written, its row
 * and everything else pending committed, the WAL synced. */
static void qvl_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err = 0;
	(void)datasync;
	(void)fi;

	qvl_count(fs, QVL_OP_FSYNC);
	if (qvl_is_ctl(ino)) {
		fuse_reply_err(req, 0);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (!in)
		err = ENOENT;
	else
		err = -qvl_persist_fsync_file(fs, in);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, err);
}

/* SEEK_DATA and SEEK_HOLE (the kernel answers the other whences itself):
 * cp, tar and rsync copy a sparse file's data only. */
static void qvl_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		      struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	uint64_t at = 0;
	int err;

	qvl_count(fs, QVL_OP_LSEEK);
	if (qvl_is_ctl(ino)) {
		qvl_ctl_lseek(req, off, whence, fi);
		return;
	}
	if (off < 0 || (whence != SEEK_DATA && whence != SEEK_HOLE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (!in || !in->blob)
		err = in ? EISDIR : ENOENT;
	else
		err = -qvl_blob_seek(in->blob, in->size, (uint64_t)off,
				     whence == SEEK_DATA, &at);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_lseek(req, (off_t)at);
}

static void qvl_release(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);

	qvl_count(fs, QVL_OP_RELEASE);
	if (qvl_is_ctl(ino)) {
		qvl_ctl_release(req, fi);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (in && in->nopen) {
		qvl_fs_gpu_release(fs, in, fi->fh);
		in->nopen--;
		qvl_inode_maybe_free(fs, in);
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, 0);
}

/* QVL_IOC_CUDA_MAP / _UNMAP (qvl_abi.h): a consumer of a file's GPU
 * replica says it holds a pointer, on the descriptor it keeps open. */
static void qvl_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		      void *arg, struct fuse_file_info *fi, unsigned flags,
		      const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct qvl_cuda_ipc_info info;
	int err;
	(void)arg;
	(void)in_buf;
	(void)in_bufsz;
	if ((cmd != QVL_IOC_CUDA_MAP && cmd != QVL_IOC_CUDA_UNMAP) ||
	    (flags & FUSE_IOCTL_COMPAT) || qvl_is_ctl(ino)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	if (cmd == QVL_IOC_CUDA_MAP && out_bufsz < sizeof(info)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!qvl_fs_gpu_may_hand(req)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (!in || !in->blob)
		err = in ? EISDIR : ENOENT;
	else if (cmd == QVL_IOC_CUDA_MAP)
		err = qvl_fs_gpu_map(fs, in, fi->fh, &info);
	else
		err = qvl_fs_gpu_unmap(fs, in, fi->fh);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else if (cmd == QVL_IOC_CUDA_MAP)
		fuse_reply_ioctl(req, 0, &info, sizeof(info));
	else
		fuse_reply_ioctl(req, 0, NULL, 0);
}

void qvl_ops_file(struct fuse_lowlevel_ops *ops)
{
	ops->ioctl = qvl_ioctl;
	ops->create = qvl_create;
	ops->open = qvl_open;
	ops->read = qvl_read;
	ops->write = qvl_write;
	ops->fallocate = qvl_fallocate;
	/* No flush: close has nothing to report here, and libfuse answers
	 * ENOSYS, after which the kernel stops sending it (one round trip
	 * less per close). */
	ops->fsync = qvl_fsync;
	ops->release = qvl_release;
	ops->lseek = qvl_lseek;
}

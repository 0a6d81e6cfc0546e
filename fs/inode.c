/*
 * inode.c - the inode table and inode life cycle.
 *
 * An inode lives while the kernel holds a lookup reference to it or a
 * directory entry names it.  Unlinking an open file leaves nlookup > 0 (the
 * kernel holds it while open), so its data survives until the last close is
 * followed by forget.  All functions run under fs->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"
#include "gpu_tier.h"

void qvl_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static size_t ino_slot(const struct qvl_fs *fs, uint64_t ino)
{
	/* Fibonacci hashing takes the top bits of the product: those are the
	 * well-mixed ones (bits 32 and up masked filled 12% of the buckets
	 * for 100k sequential numbers; the top bits, 72%). */
	unsigned bits = (unsigned)__builtin_ctzll(fs->itab_size);
	return (size_t)((ino * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

struct qvl_inode *qvl_inode_get(struct qvl_fs *fs, uint64_t ino)
{
	for (struct qvl_inode *in = fs->itab[ino_slot(fs, ino)]; in; in = in->hnext)
		if (in->ino == ino)
			return in;
	return NULL;
}

static int itab_grow(struct qvl_fs *fs)
{
	size_t nsize = fs->itab_size * 2;
	struct qvl_inode **n = calloc(nsize, sizeof(*n));
	if (!n)
		return -ENOMEM;
	struct qvl_inode **old = fs->itab;
	size_t osize = fs->itab_size;
	fs->itab = n;
	fs->itab_size = nsize;
	for (size_t i = 0; i < osize; i++) {
		struct qvl_inode *in = old[i];
		while (in) {
			struct qvl_inode *next = in->hnext;
			size_t s = ino_slot(fs, in->ino);
			in->hnext = n[s];
			n[s] = in;
			in = next;
		}
	}
	free(old);
	return 0;
}

int qvl_inode_insert(struct qvl_fs *fs, uint64_t ino, mode_t mode, uid_t uid,
		     gid_t gid, struct qvl_inode **out)
{
	*out = NULL;
	if (qvl_inode_get(fs, ino))
		return -EEXIST;
	if (fs->ninodes + 1 > fs->itab_size && itab_grow(fs))
		return -ENOMEM;
	struct qvl_inode *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	if (S_ISREG(mode)) {
		int rc = fs->tm ? qvl_blob_create_tm(fs->tm, ino, &in->blob)
				: qvl_blob_create(fs->pool, fs->chunk_shift,
						  &in->blob);
		if (rc) {
			free(in);
			return rc;
		}
		fs->nfiles++;
	} else if (S_ISDIR(mode)) {
		fs->ndirs++;
	} else if (S_ISLNK(mode)) {
		fs->nlinks_sym++;
	}
	in->ino = ino;
	in->mode = mode;
	in->uid = uid;
	in->gid = gid;
	in->nlink = S_ISDIR(mode) ? 2 : 1;
	qvl_now(&in->mtime);
	in->atime = in->ctime = in->mtime;
	qvl_hints_init(&in->hints);
	size_t s = ino_slot(fs, in->ino);
	in->hnext = fs->itab[s];
	fs->itab[s] = in;
	fs->ninodes++;
	*out = in;
	return 0;
}

int qvl_inode_new(struct qvl_fs *fs, mode_t mode, uid_t uid, gid_t gid,
		  struct qvl_inode **out)
{
	int rc = qvl_inode_insert(fs, fs->next_ino, mode, uid, gid, out);
	if (!rc) {
		fs->next_ino++;
		qvl_persist_mark(fs, *out);
	}
	return rc;
}

static void inode_unhash(struct qvl_fs *fs, struct qvl_inode *in)
{
	struct qvl_inode **pp = &fs->itab[ino_slot(fs, in->ino)];
	while (*pp && *pp != in)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = in->hnext;
	fs->ninodes--;
}

static void inode_free(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (S_ISREG(in->mode)) {
		fs->nfiles--;
		fs->bytes -= in->size;
	} else if (S_ISDIR(in->mode)) {
		fs->ndirs--;
	} else if (S_ISLNK(in->mode)) {
		fs->nlinks_sym--;
	}
	qvl_fs_gpu_forget(fs, in);
	qvl_blob_destroy(in->blob);
	free(in->link);
	if (in->dir)
		qvl_dir_free(in->dir);
	qvl_xattr_free_all(in);
	free(in);
}

void qvl_inode_maybe_free(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (in->nlookup || in->nlink || in->nopen || in == fs->root)
		return;
	qvl_persist_gone(fs, in);
	inode_unhash(fs, in);
	inode_free(fs, in);
}

void qvl_inode_forget(struct qvl_fs *fs, struct qvl_inode *in, uint64_t n)
{
	in->nlookup = n > in->nlookup ? 0 : in->nlookup - n;
	qvl_inode_maybe_free(fs, in);
}

void qvl_inode_resize(struct qvl_fs *fs, struct qvl_inode *in, uint64_t size)
{
	uint64_t old = in->size;
	if (size < in->size)
		qvl_blob_truncate(in->blob, size);
	/* The shape stays: copy tools and O_TRUNC rewrites change the size
	 * on the way to the same one, and a shape lost on the way is lost
	 * for good.  A size it does not match is what qvlctl info reports
	 * and the clients refuse. */
	fs->bytes = fs->bytes - in->size + size;
	in->size = size;
	qvl_fs_gpu_resized(fs, in, old); /* a replica follows */
}

void qvl_inode_stat(const struct qvl_fs *fs, const struct qvl_inode *in,
		    struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = in->ino;
	st->st_mode = in->mode;
	st->st_nlink = in->nlink;
	st->st_uid = in->uid;
	st->st_gid = in->gid;
	st->st_rdev = in->rdev;
	st->st_size = (off_t)in->size;
	st->st_blksize = (blksize_t)1 << fs->chunk_shift;
	if (in->blob)
		st->st_blocks = (blkcnt_t)(qvl_blob_resident(in->blob) / 512);
	else if (in->link)
		st->st_size = (off_t)strlen(in->link);
	st->st_atim = in->atime;
	st->st_mtim = in->mtime;
	st->st_ctim = in->ctime;
}

void qvl_inode_table_free(struct qvl_fs *fs)
{
	for (size_t i = 0; i < fs->itab_size; i++) {
		struct qvl_inode *in = fs->itab[i];
		while (in) {
			struct qvl_inode *next = in->hnext;
			inode_free(fs, in);
			in = next;
		}
		fs->itab[i] = NULL;
	}
	fs->ninodes = 0;
}

/*
 * recode.c - re-encoding after a late dtype or codec.
 *
 * A model copied in before its dtype is set is stored coded as bytes
 * (about 0.78 of its size for bf16, against 0.66 with the byte-plane
 * codec).  Setting user.qvl.dtype (or user.qvl.codec) afterwards queues the
 * file; the flusher thread writes its frames again with the right codec,
 * TM_BATCH chunks per turn of fs->lock, so readers and writers get in
 * between.  Files are queued by inode number and looked up at each turn: a
 * file deleted meanwhile just leaves the queue.
 */
#include <stdlib.h>

#include "fs_i.h"

/* Chunks re-encoded per turn of the lock. */
#define RECODE_TURN 16

void qvl_recode_add(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (!in->blob || !qvl_blob_disk_bytes(in->blob))
		return;
	qvl_blob_recode_start(in->blob);
	for (size_t i = 0; i < fs->nrecode; i++)
		if (fs->recode[i] == in->ino)
			goto kick;
	if (fs->nrecode == fs->caprecode) {
		size_t cap = fs->caprecode ? 2 * fs->caprecode : 16;
		uint64_t *q = realloc(fs->recode, cap * sizeof(*q));
		if (!q)
			return; /* stays coded as it was: smaller later, never wrong */
		fs->recode = q;
		fs->caprecode = cap;
	}
	fs->recode[fs->nrecode++] = in->ino;
kick:
	pthread_mutex_lock(&fs->bg_lock);
	fs->recode_kick = 1;
	pthread_cond_broadcast(&fs->bg_cond);
	pthread_mutex_unlock(&fs->bg_lock);
}

/* Unmounting: what is left stays coded as it is (the queue is not kept
 * across mounts; the data is whole either way). */
static int stopping(struct qvl_fs *fs)
{
	pthread_mutex_lock(&fs->bg_lock);
	int stop = fs->bg_stop;
	pthread_mutex_unlock(&fs->bg_lock);
	return stop;
}

void qvl_recode_run(struct qvl_fs *fs)
{
	for (;;) {
		if (stopping(fs))
			return;
		pthread_mutex_lock(&fs->lock);
		if (!fs->nrecode) {
			pthread_mutex_unlock(&fs->lock);
			return;
		}
		struct qvl_inode *in = qvl_inode_get(fs, fs->recode[0]);
		int more = in && in->blob
				   ? qvl_blob_recode_step(in->blob, RECODE_TURN)
				   : 0;
		if (more < 0) {
			/* A full store: try again at the next turn. */
			pthread_mutex_unlock(&fs->lock);
			return;
		}
		if (!more) {
			fs->nrecode--;
			for (size_t i = 0; i < fs->nrecode; i++)
				fs->recode[i] = fs->recode[i + 1];
		}
		pthread_mutex_unlock(&fs->lock);
	}
}

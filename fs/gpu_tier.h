/*
 * gpu_tier.h - the GPU tier in the daemon (gpu_tier.c): whole files
 * replicated into the mount's device arena (cuda/qvl_gpu.h).
 *
 * A file on the GPU is a replica: RAM and the store keep the authoritative
 * bytes, the device holds a copy in one block of the arena.  Everything
 * here runs under fs->lock (the arena and its staging ring included), so
 * a change of the file and of its replica are one step for every other
 * request.
 */
#ifndef QVL_GPU_TIER_H
#define QVL_GPU_TIER_H

#include <fuse_lowlevel.h>

#include "fs_i.h"
#include "qvl_abi.h"
#include "qvl_gpu.h"

struct qvl_gpu_map {
	uint64_t fh; /* the open file the consumer asked on */
	uint32_t n;  /* its maps not yet unmapped */
};

struct qvl_gpu_rep {
	struct qvl_inode *in;
	uint64_t off, block; /* its block of the arena */
	uint64_t len;        /* bytes that are the file's: its size */
	struct qvl_gpu_rep *prev, *next; /* fs->gpu_lru, most recent first */
	struct qvl_gpu_map *maps;
	uint32_t nmaps, capmaps, mappers;
	/* Could not be kept fresh (a failed copy) while mapped: no longer
	 * the file's, but its block stays taken until the last mapper is
	 * gone, so no other file's bytes appear under a mapper's pointer. */
	uint8_t stale;
};

/* What the GPU tier counts (.qvl/stats). */
struct qvl_gpu_counts {
	uint64_t files, bytes, mapped, pinned;
	uint64_t placed, evicted, dropped, refreshed;
};

/* At mount, before serving: claim the arena; a failure is logged and
 * leaves the mount without a GPU tier (every GPU request ENODEV). */
void qvl_fs_gpu_open(struct qvl_fs *fs, const struct qvl_gpu_config *cfg);
void qvl_fs_gpu_close(struct qvl_fs *fs);

/* After the loop starts (qvl_bg_start): a thread places the files pinned
 * to the GPU (pin=gpu outlives a remount; the arena does not), one at a
 * time under fs->lock, as tier=gpu would.  Stopped by qvl_bg_stop. */
int qvl_fs_gpu_pins_start(struct qvl_fs *fs);
void qvl_fs_gpu_pins_stop(struct qvl_fs *fs);

/* tier=gpu or pin=gpu: upload @in now, evicting replicas that are neither
 * pinned nor mapped when it does not fit.  0, ENODEV, ENOSPC, EIO... */
int qvl_fs_gpu_place(struct qvl_fs *fs, struct qvl_inode *in);
/* tier=ram or nvme: the replica goes (EBUSY while pinned or mapped). */
int qvl_fs_gpu_unplace(struct qvl_fs *fs, struct qvl_inode *in);
/* The inode is freed. */
void qvl_fs_gpu_forget(struct qvl_fs *fs, struct qvl_inode *in);

/* Before a change of @in's size to @size: EBUSY when a mapped replica
 * would have to move (its block too small), else 0. */
int qvl_fs_gpu_may_resize(const struct qvl_inode *in, uint64_t size);
/* After the file changed: its size went from @old to in->size; bytes
 * [@off, @off + @len) are now @buf (NULL: zeros).  A replica that is
 * pinned or mapped is refreshed before the change's request returns; any
 * other is dropped (placed again when asked). */
void qvl_fs_gpu_resized(struct qvl_fs *fs, struct qvl_inode *in,
			uint64_t old);
void qvl_fs_gpu_written(struct qvl_fs *fs, struct qvl_inode *in,
			uint64_t off, const void *buf, uint64_t len);

/* user.qvl.cuda_ipc's value into @buf: its length, or -ENODATA (not on
 * the GPU, or no GPU tier). */
int qvl_fs_gpu_ipc_text(struct qvl_fs *fs, struct qvl_inode *in, char *buf,
			size_t cap);
/* QVL_IOC_CUDA_MAP / _UNMAP on open file @fh; release of @fh. */
int qvl_fs_gpu_map(struct qvl_fs *fs, struct qvl_inode *in, uint64_t fh,
		   struct qvl_cuda_ipc_info *out);
int qvl_fs_gpu_unmap(struct qvl_fs *fs, struct qvl_inode *in, uint64_t fh);
void qvl_fs_gpu_release(struct qvl_fs *fs, struct qvl_inode *in,
			uint64_t fh);

/*
 * May the caller of @req have the arena's handle?  It opens the whole
 * arena, every file on the GPU whoever may read it: only the mount's owner
 * (the daemon's user) and root, so on a mount with allow_other one user's
 * tensors never reach another's process that way.
 */
int qvl_fs_gpu_may_hand(fuse_req_t req);

/* Is @in on the GPU (a replica that is the file's)?  Its bytes there
 * (its size), else 0. */
int qvl_fs_gpu_on(const struct qvl_inode *in);
uint64_t qvl_fs_gpu_bytes(const struct qvl_inode *in);

void qvl_fs_gpu_counts(struct qvl_fs *fs, struct qvl_gpu_counts *c);

#endif /* QVL_GPU_TIER_H */

/*
 * qvl_gpu.h - the GPU tier backend, a plain-C API over CUDA.
 *
 * One device allocation (the arena) per mount, carved by a buddy allocator
 * (qvl_buddy.h) so a tensor is one contiguous block and a consumer gets one
 * pointer.  Bytes go up through a ring of pinned staging buffers on two
 * streams: the caller fills one buffer (decodes into it) while the copies
 * of the ones before run.  Offsets, never device pointers, cross this API.
 *
 * Behind it is a device (gpu_dev.h): CUDA's runtime when the build found
 * nvcc, or a test device in host memory (QVL_GPU_FAKE, for the suite: the
 * same arena, ring and scheduling, with copies made by threads).  A build
 * without CUDA and no test device has none: qvl_gpu_open() is -ENODEV.
 *
 * Not thread-safe: one caller at a time (the daemon's GPU lock).
 */
#ifndef QVL_GPU_H
#define QVL_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "qvl_buddy.h"

struct qvl_gpu;

/* What the arena is asked for: @budget bytes, or (@budget 0) @percent of
 * the device's free memory. */
struct qvl_gpu_config {
	int dev;
	uint64_t budget;
	unsigned percent;
	size_t stage_bytes; /* per staging buffer; 0: 4 MiB */
	unsigned stage_count; /* staging buffers; 0: 4 */
};

struct qvl_gpu_stats {
	char device[96];   /* its name, or what the test device is */
	int dev;
	int fake;          /* the test device */
	struct qvl_buddy_stats arena;
	uint64_t uploads, upload_bytes, upload_ns;
	uint64_t stage_waits; /* a buffer wanted while its copy still ran */
};

/*
 * qvl_gpu_open() - claim the arena on device @cfg->dev.  Returns 0 and sets
 * *@out; -ENODEV when no usable GPU (none, or no CUDA in this build: @why
 * says which, in up to @whycap bytes), -ENOMEM when the arena or the pinned
 * buffers cannot be had, -EINVAL for a bad size.
 */
int qvl_gpu_open(const struct qvl_gpu_config *cfg, struct qvl_gpu **out,
		 char *why, size_t whycap);

/* qvl_gpu_close() - waits for copies in flight, releases all; NULL is ok. */
void qvl_gpu_close(struct qvl_gpu *gpu);

/* qvl_gpu_available() - 1 when this build can drive a GPU (CUDA built in,
 * or the test device asked for), else 0. */
int qvl_gpu_available(void);

/* A block of the arena: 0, -ENOSPC (nothing that large is free), -EINVAL. */
int qvl_gpu_alloc(struct qvl_gpu *gpu, uint64_t len, uint64_t *off);
void qvl_gpu_free(struct qvl_gpu *gpu, uint64_t off);
/* What a block for @len takes of the arena; 0 if it never can. */
uint64_t qvl_gpu_block_size(const struct qvl_gpu *gpu, uint64_t len);

/*
 * An upload of bytes to [dst, dst + len) of the arena, in pieces:
 *
 *	qvl_gpu_up_begin(gpu, &up, dst, len);
 *	while (more) {
 *		void *p = qvl_gpu_up_buf(&up, &cap);  // pinned, cap bytes
 *		... fill n <= cap bytes (decode into it) ...
 *		qvl_gpu_up_send(&up, n);               // copied asynchronously
 *	}
 *	rc = qvl_gpu_up_end(&up);                   // all copies done
 *
 * qvl_gpu_up_buf() waits only for the copy that last used that buffer, so
 * filling one overlaps the copies of the ones before.  Pieces land back to
 * back from @dst on.  Sending more than @len is -EINVAL at the end.
 *
 * Every call is under the caller's one lock, except qvl_gpu_up_wait():
 * it waits for this upload's copies and touches nothing shared, so a
 * caller may let its lock go for the wait (another upload may use the
 * ring meanwhile), then take it again for qvl_gpu_up_end().
 */
struct qvl_gpu_up {
	struct qvl_gpu *gpu;
	uint64_t dst, len, sent;
	uint64_t t0;
	unsigned cur;  /* the staging buffer up_buf handed out */
	unsigned used; /* bit k: this upload sent through buffer k */
	int waited;
	int rc;
};

void qvl_gpu_up_begin(struct qvl_gpu *gpu, struct qvl_gpu_up *up,
		      uint64_t dst, uint64_t len);
void *qvl_gpu_up_buf(struct qvl_gpu_up *up, size_t *cap);
void qvl_gpu_up_send(struct qvl_gpu_up *up, size_t n);
int qvl_gpu_up_wait(struct qvl_gpu_up *up);
int qvl_gpu_up_end(struct qvl_gpu_up *up);

/*
 * qvl_gpu_upload() - @len bytes of @src (host memory; NULL: zeros) to
 * [@dst, @dst + @len) of the arena through the ring, pieces of at most
 * @piece bytes (0: a whole staging buffer), waiting for the last copy.
 */
int qvl_gpu_upload(struct qvl_gpu *gpu, uint64_t dst, const void *src,
		   uint64_t len, size_t piece);

/* qvl_gpu_download() - @len bytes at @off of the arena into @dst (host),
 * synchronously (checks and tests; not a data path). */
int qvl_gpu_download(struct qvl_gpu *gpu, uint64_t off, void *dst,
		     uint64_t len);

/*
 * qvl_gpu_ipc_handle() - what another process opens the arena with: the
 * device's handle as 2 * QVL_GPU_HANDLE_BYTES hex digits into @hex (which
 * holds that plus a NUL).  -ENOTSUP where the device has none.
 */
#define QVL_GPU_HANDLE_BYTES 64
int qvl_gpu_ipc_handle(struct qvl_gpu *gpu, char *hex);

void qvl_gpu_stats(const struct qvl_gpu *gpu, struct qvl_gpu_stats *st);

#endif /* QVL_GPU_H */

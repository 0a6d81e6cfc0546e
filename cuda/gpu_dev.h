/*
 * gpu_dev.h - a device under the GPU tier (gpu_arena.c): the few things
 * the arena asks of CUDA, as a table, so the arena, its staging ring and
 * their scheduling run the same over CUDA (gpu_cuda.c) and over the test
 * device (gpu_fake.c), which the suite drives without a GPU.
 *
 * Streams and events are small integers: stream s < QVL_GPU_STREAMS, event
 * e < the staging count.  An event recorded on a stream completes when the
 * copies queued on it before have; waiting for an event never recorded
 * returns at once.
 */
#ifndef QVL_GPU_DEV_H
#define QVL_GPU_DEV_H

#include <stddef.h>
#include <stdint.h>

#define QVL_GPU_STREAMS 2
#define QVL_GPU_STAGE_MAX 16

struct qvl_gpu_dev {
	const char *kind;
	/* Opens device @dev: its free memory and name; @events events. */
	int (*open)(int dev, unsigned events, void **ctx, uint64_t *free_bytes,
		    char *name, size_t namecap, char *why, size_t whycap);
	void (*close)(void *ctx);
	int (*dalloc)(void *ctx, uint64_t len, void **base);
	void (*dfree)(void *ctx, void *base);
	int (*halloc)(void *ctx, size_t len, void **p); /* pinned host */
	void (*hfree)(void *ctx, void *p);
	int (*h2d_async)(void *ctx, void *dst, const void *src, size_t len,
			 unsigned stream);
	int (*d2h)(void *ctx, void *dst, const void *src, size_t len);
	int (*record)(void *ctx, unsigned event, unsigned stream);
	int (*wait)(void *ctx, unsigned event);
	int (*sync)(void *ctx);
	/* The arena's IPC handle: QVL_GPU_HANDLE_BYTES bytes; NULL if none */
	int (*ipc)(void *ctx, void *base, unsigned char *out);
};

/* CUDA's runtime, or NULL in a build without it. */
extern const struct qvl_gpu_dev *const qvl_gpu_dev_cuda;
/* The test device: host memory, copies by a thread per stream (a delay
 * per copy with QVL_GPU_FAKE_DELAY_US, so a buffer reused too early shows
 * as wrong bytes); its arena is a file with QVL_GPU_FAKE=/path, so a test
 * reads what was uploaded where cuda_ipc says it is. */
extern const struct qvl_gpu_dev qvl_gpu_dev_fake;

#endif /* QVL_GPU_DEV_H */

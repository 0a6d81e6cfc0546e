/*
 * gpu_cuda.c - the GPU tier's device over CUDA's runtime (built when make
 * finds nvcc; gpu_nocuda.c otherwise).  Plain C against cuda_runtime_api.h,
 * linked with the static runtime, so the daemon needs only the driver at
 * run time, and runs (without a GPU tier) where there is none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "gpu_dev.h"
#include "qvl_gpu.h"

struct cu {
	int dev;
	cudaStream_t stream[QVL_GPU_STREAMS];
	cudaEvent_t event[QVL_GPU_STAGE_MAX];
	unsigned nevents;
};

static int err_of(cudaError_t e)
{
	switch (e) {
	case cudaSuccess:
		return 0;
	case cudaErrorMemoryAllocation:
		return -ENOMEM;
	case cudaErrorInvalidValue:
		return -EINVAL;
	case cudaErrorNoDevice:
	case cudaErrorInsufficientDriver:
	case cudaErrorInvalidDevice:
		return -ENODEV;
	default:
		return -EIO;
	}
}

static void cu_close(void *ctx)
{
	struct cu *c = ctx;
	cudaSetDevice(c->dev);
	for (unsigned i = 0; i < c->nevents; i++)
		if (c->event[i])
			cudaEventDestroy(c->event[i]);
	for (unsigned s = 0; s < QVL_GPU_STREAMS; s++)
		if (c->stream[s])
			cudaStreamDestroy(c->stream[s]);
	free(c);
}

static int cu_open(int dev, unsigned events, void **ctx, uint64_t *free_bytes,
		   char *name, size_t namecap, char *why, size_t whycap)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n == 0) {
		snprintf(why, whycap, "no CUDA device (%s)",
			 e != cudaSuccess ? cudaGetErrorString(e) : "none found");
		return -ENODEV;
	}
	if (dev < 0 || dev >= n) {
		snprintf(why, whycap, "no CUDA device %d (there are %d)", dev,
			 n);
		return -ENODEV;
	}
	struct cu *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->dev = dev;
	struct cudaDeviceProp p;
	size_t fr = 0, total = 0;
	e = cudaSetDevice(dev);
	if (e == cudaSuccess)
		e = cudaGetDeviceProperties(&p, dev);
	if (e == cudaSuccess)
		e = cudaMemGetInfo(&fr, &total);
	for (unsigned s = 0; e == cudaSuccess && s < QVL_GPU_STREAMS; s++)
		e = cudaStreamCreateWithFlags(&c->stream[s],
					      cudaStreamNonBlocking);
	for (; e == cudaSuccess && c->nevents < events; c->nevents++)
		e = cudaEventCreateWithFlags(&c->event[c->nevents],
					     cudaEventDisableTiming);
	if (e != cudaSuccess) {
		snprintf(why, whycap, "CUDA device %d: %s", dev,
			 cudaGetErrorString(e));
		cu_close(c);
		return err_of(e) == -ENOMEM ? -ENOMEM : -ENODEV;
	}
	snprintf(name, namecap, "%s (sm_%d%d)", p.name, p.major, p.minor);
	*free_bytes = fr;
	*ctx = c;
	return 0;
}

static int cu_dalloc(void *ctx, uint64_t len, void **base)
{
	struct cu *c = ctx;
	cudaSetDevice(c->dev);
	return err_of(cudaMalloc(base, len));
}

static void cu_dfree(void *ctx, void *base)
{
	struct cu *c = ctx;
	cudaSetDevice(c->dev);
	cudaFree(base);
}

static int cu_halloc(void *ctx, size_t len, void **p)
{
	struct cu *c = ctx;
	cudaSetDevice(c->dev);
	return err_of(cudaHostAlloc(p, len, cudaHostAllocPortable));
}

static void cu_hfree(void *ctx, void *p)
{
	(void)ctx;
	cudaFreeHost(p);
}

/* Every call sets the device first: the daemon's requests come on many
 * threads, and the current device is each thread's own (cheap when it is
 * already set). */
static int cu_h2d_async(void *ctx, void *dst, const void *src, size_t len,
			unsigned stream)
{
	struct cu *c = ctx;
	cudaSetDevice(c->dev);
	return err_of(cudaMemcpyAsync(dst, src, len, cudaMemcpyHostToDevice,
				      c->stream[stream]));
}

static int cu_d2h(void *ctx, void *dst, const void *src, size_t len)
{
	struct cu *c = ctx;
	cudaSetDevice(c->dev);
	for (unsigned s = 0; s < QVL_GPU_STREAMS; s++)
		cudaStreamSynchronize(c->stream[s]);
	return err_of(cudaMemcpy(dst, src, len, cudaMemcpyDeviceToHost));
}

static int cu_record(void *ctx, unsigned event, unsigned stream)
{
	struct cu *c = ctx;
	if (event >= c->nevents || stream >= QVL_GPU_STREAMS)
		return -EINVAL;
	cudaSetDevice(c->dev);
	return err_of(cudaEventRecord(c->event[event], c->stream[stream]));
}

static int cu_wait(void *ctx, unsigned event)
{
	struct cu *c = ctx;
	if (event >= c->nevents)
		return -EINVAL;
	cudaSetDevice(c->dev);
	return err_of(cudaEventSynchronize(c->event[event]));
}

static int cu_sync(void *ctx)
{
	struct cu *c = ctx;
	int rc = 0;
	cudaSetDevice(c->dev);
	for (unsigned s = 0; s < QVL_GPU_STREAMS; s++) {
		int r = err_of(cudaStreamSynchronize(c->stream[s]));
		rc = rc ? rc : r;
	}
	return rc;
}

static int cu_ipc(void *ctx, void *base, unsigned char *out)
{
	struct cu *c = ctx;
	cudaIpcMemHandle_t h;
	_Static_assert(sizeof(h) == QVL_GPU_HANDLE_BYTES, "IPC handle size");
	cudaSetDevice(c->dev);
	int rc = err_of(cudaIpcGetMemHandle(&h, base));
	if (!rc)
		memcpy(out, &h, sizeof(h));
	return rc;
}

static const struct qvl_gpu_dev cuda_dev = {
	.kind = "cuda",
	.open = cu_open,
	.close = cu_close,
	.dalloc = cu_dalloc,
	.dfree = cu_dfree,
	.halloc = cu_halloc,
	.hfree = cu_hfree,
	.h2d_async = cu_h2d_async,
	.d2h = cu_d2h,
	.record = cu_record,
	.wait = cu_wait,
	.sync = cu_sync,
	.ipc = cu_ipc,
};

const struct qvl_gpu_dev *const qvl_gpu_dev_cuda = &cuda_dev;

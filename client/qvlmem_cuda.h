/*
 * qvlmem_cuda.h - device pointers to the files a qvlmemfs mount holds on
 * its GPU tier, through CUDA IPC: no host copy, one device copy shared by
 * every process.  libqvlmem_cuda; the base libqvlmem has no CUDA in it.
 *
 * No CUDA at build time either: the CUDA runtime (libcudart) is opened
 * with dlopen() on first use, so a program links this library on any
 * machine and gets -ENODEV where there is no CUDA.
 *
 *	void *d; size_t n;
 *	setxattr(path, "user.qvl.tier", "gpu", 3, 0);   // or pin=gpu
 *	if (qvlmem_cuda_map(path, &d, &n) == 0) {
 *		my_kernel<<<...>>>((const __nv_bfloat16 *)d, n / 2);
 *		qvlmem_cuda_unmap(d);
 *	}
 *
 * While mapped, the file's replica stays on the GPU (the daemon counts
 * the mapping until unmap, or the process's exit, a crash included), a
 * write to the file refreshes the device bytes before it returns, and a
 * change of its size past its block is EBUSY.  The arena's handle is
 * opened once per process and kept.  Thread-safe.
 */
#ifndef QVLMEM_CUDA_H
#define QVLMEM_CUDA_H

#include <stddef.h>

#include "qvl_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QVLMEM_CUDA_API __attribute__((visibility("default")))

/*
 * qvlmem_cuda_info() - where @path's bytes are on the GPU (the facts of
 * user.qvl.cuda_ipc), without mapping or CUDA.  0, or -ENODATA (not on the
 * GPU), -ENODEV (the mount has no GPU tier), -errno.
 */
QVLMEM_CUDA_API int qvlmem_cuda_info(const char *path,
				     struct qvl_cuda_ipc_info *info);

/*
 * qvlmem_cuda_map() - a device pointer to @path's bytes in *@dptr, their
 * count in *@size.  0, or -ENODATA (not on the GPU: set user.qvl.tier=gpu
 * first), -ENODEV (no CUDA runtime here, or no GPU tier), -EIO (CUDA
 * refused the handle: *@dptr NULL), -errno.  On the mount's test device
 * (QVL_GPU_FAKE) the pointer is a host pointer into its arena file.
 */
QVLMEM_CUDA_API int qvlmem_cuda_map(const char *path, void **dptr,
				    size_t *size);

/* qvlmem_cuda_unmap() - what qvlmem_cuda_map() gave; -EINVAL otherwise. */
QVLMEM_CUDA_API int qvlmem_cuda_unmap(void *dptr);

#ifdef __cplusplus
}
#endif

#endif /* QVLMEM_CUDA_H */

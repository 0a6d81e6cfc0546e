/*
 * qvl_gpu.h - the GPU tier backend, a plain-C API over CUDA.
 *
 * This build carries only the stub: every call returns -ENODEV, so the rest
 * of qvlmemfs runs unchanged on machines and builds without a GPU.  The real
 * backend (device arena, pinned staging, IPC handles) arrives with the GPU
 * tier and keeps these signatures.
 */
#ifndef QVL_GPU_H
#define QVL_GPU_H

#include <stddef.h>
#include <stdint.h>

struct qvl_gpu;

/*
 * qvl_gpu_open() - claim a device arena of @budget bytes on device @dev.
 * Returns 0 and sets *@out, or -ENODEV when no usable GPU (or no CUDA in
 * this build), -ENOMEM when the arena cannot be had.
 */
int qvl_gpu_open(int dev, uint64_t budget, struct qvl_gpu **out);

/* qvl_gpu_close() - release the arena; accepts NULL. */
void qvl_gpu_close(struct qvl_gpu *gpu);

/* qvl_gpu_available() - 1 when this build can drive a GPU, else 0. */
int qvl_gpu_available(void);

#endif /* QVL_GPU_H */

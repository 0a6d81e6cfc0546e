/*
 * kernels.cu - the GPU's decoders (qvl_gpu_kernels.h).
 *
 * One thread per value, blocks of 256 threads (eight warps): a warp reads
 * 32 consecutive payload bytes and writes 32 consecutive values, so loads
 * and stores coalesce on every architecture from sm_61 on; the 4-byte
 * scale of a block of 32 values is one load shared by the warp.  The
 * bytes past the last whole value are copied as they are.  What a thread
 * does is gpu_decode.h, which the suite checks on the CPU.
 */
#include <errno.h>
#include <cuda_runtime.h>

#include "gpu_decode.h"

#define THREADS 256

__global__ void k_lossy(const uint8_t *payload, uint32_t n, int fp8, int out,
			uint8_t *dst)
{
	uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		qvl_gpu_lossy_one(payload, n, i, fp8, out, dst);
}

__global__ void k_merge2(const uint8_t *p0, const uint8_t *p1, uint32_t n,
			 int rot, uint16_t *dst)
{
	uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		qvl_gpu_merge2_one(p0, p1, i, rot, dst);
}

static unsigned grid(size_t n)
{
	return (unsigned)((n + THREADS - 1) / THREADS);
}

extern "C" int qvl_gpu_lossy_decode(const void *payload, size_t plen,
				    enum qvl_gpu_lossy codec,
				    enum qvl_gpu_out out, void *dst,
				    size_t len, void *stream)
{
	size_t w = out == QVL_GPU_OUT_F32 ? 4 : 2, n = len / w;
	size_t blocks = (n + QVL_LOSSY_BLOCK - 1) / QVL_LOSSY_BLOCK;
	cudaStream_t s = (cudaStream_t)stream;
	if ((codec != QVL_GPU_Q8_0 && codec != QVL_GPU_F8E4M3) ||
	    (out != QVL_GPU_OUT_BF16 && out != QVL_GPU_OUT_F16 &&
	     out != QVL_GPU_OUT_F32) ||
	    plen != qvl_lossy_plen(len, w) || n > UINT32_MAX ||
	    ((uintptr_t)payload & 3) || ((uintptr_t)dst & (w - 1)))
		return -EINVAL;
	if (n)
		k_lossy<<<grid(n), THREADS, 0, s>>>(
			(const uint8_t *)payload, (uint32_t)n,
			codec == QVL_GPU_F8E4M3, out, (uint8_t *)dst);
	if (len > n * w &&
	    cudaMemcpyAsync((uint8_t *)dst + n * w,
			    (const uint8_t *)payload + blocks * 4 + n,
			    len - n * w, cudaMemcpyDeviceToDevice,
			    s) != cudaSuccess)
		return -EIO;
	return cudaGetLastError() == cudaSuccess ? 0 : -EIO;
}

extern "C" int qvl_gpu_merge2(const uint8_t *p0, const uint8_t *p1, size_t n,
			      int rotate, uint16_t *dst, void *stream)
{
	if (n > UINT32_MAX || ((uintptr_t)dst & 1))
		return -EINVAL;
	if (n)
		k_merge2<<<grid(n), THREADS, 0, (cudaStream_t)stream>>>(
			p0, p1, (uint32_t)n, rotate, dst);
	return cudaGetLastError() == cudaSuccess ? 0 : -EIO;
}

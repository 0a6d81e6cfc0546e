/*
 * qvl_gpu_kernels.h - device kernels that rebuild a chunk's values on the
 * GPU from what crossed PCIe (cuda/kernels.cu; built only with nvcc).
 *
 * Every pointer is device memory; @stream is a cudaStream_t (NULL: the
 * default stream).  A call queues the work on @stream and returns 0, or
 * -EINVAL for arguments the kernels cannot take, or -EIO when CUDA refused
 * the launch.  What they write is byte for byte what the CPU decoder
 * writes for the same frame (the arithmetic is codecs/qvl_float_math.h).
 */
#ifndef QVL_GPU_KERNELS_H
#define QVL_GPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Values a lossy payload holds, and what they decode to. */
enum qvl_gpu_lossy { QVL_GPU_Q8_0 = 1, QVL_GPU_F8E4M3 = 2 };
enum qvl_gpu_out { QVL_GPU_OUT_BF16 = 1, QVL_GPU_OUT_F16 = 2,
		   QVL_GPU_OUT_F32 = 3 };

/*
 * qvl_gpu_lossy_decode() - a q8_0 or f8e4m3 payload (@payload, @plen
 * bytes, 4-byte aligned) of a chunk of @len bytes of @out values into
 * @dst (@len bytes, aligned to the value's size).  -EINVAL when @plen is
 * not the payload length of @len.
 */
int qvl_gpu_lossy_decode(const void *payload, size_t plen,
			 enum qvl_gpu_lossy codec, enum qvl_gpu_out out,
			 void *dst, size_t len, void *stream);

/*
 * qvl_gpu_merge2() - byte planes @p0 (low bytes) and @p1 (high bytes) of
 * @n 16-bit values into @dst (2-byte aligned), rotating each right by one
 * bit when @rotate (the PLANES layout of bf16 and f16: codec_split.c).
 */
int qvl_gpu_merge2(const uint8_t *p0, const uint8_t *p1, size_t n,
		   int rotate, uint16_t *dst, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* QVL_GPU_KERNELS_H */

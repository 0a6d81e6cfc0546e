/*
 * gpu_decode.h - what one GPU thread does for one value (cuda/kernels.cu),
 * written for the host too, so the suite checks it on the CPU against the
 * codecs' own decoders (tests/unit/test_gpu_decode.c) on machines that
 * have no GPU.  The kernels only add the thread's index.
 */
#ifndef QVL_GPU_DECODE_H
#define QVL_GPU_DECODE_H

#include <string.h>

#include "qvl_float_math.h"
#include "qvl_gpu_kernels.h"

/* Value @i of the @n whole values of a lossy payload (4-byte aligned),
 * stored into @dst as @out. */
QVL_HD void qvl_gpu_lossy_one(const uint8_t *payload, uint32_t n, uint32_t i,
			      int fp8, int out, uint8_t *dst)
{
	uint32_t blocks = (n + QVL_LOSSY_BLOCK - 1) / QVL_LOSSY_BLOCK;
	const uint8_t *q = payload + (size_t)blocks * 4;
	uint32_t su;
#ifdef __CUDA_ARCH__
	su = ((const uint32_t *)payload)[i / QVL_LOSSY_BLOCK];
#else
	memcpy(&su, payload + (size_t)(i / QVL_LOSSY_BLOCK) * 4, 4);
#endif
	float scale = qvl_fm_float(su);
	float v = fp8 ? qvl_fm_e4m3_to_float(q[i]) : (float)(int8_t)q[i];
	/* one rounding, as the CPU's lut[c] * scale (no fused multiply-add
	 * can form: nothing is added) */
	v = v * scale;
	if (out == QVL_GPU_OUT_F32)
		((float *)dst)[i] = v;
	else if (out == QVL_GPU_OUT_BF16)
		((uint16_t *)dst)[i] = qvl_fm_float_to_bf16(v);
	else
		((uint16_t *)dst)[i] = qvl_fm_float_to_f16(v);
}

/* Value @i of two byte planes, rotated back when @rot. */
QVL_HD void qvl_gpu_merge2_one(const uint8_t *p0, const uint8_t *p1,
			       uint32_t i, int rot, uint16_t *dst)
{
	uint16_t v = (uint16_t)(p0[i] | p1[i] << 8);
	if (rot)
		v = (uint16_t)(v >> 1 | v << 15);
	dst[i] = v;
}

#endif /* QVL_GPU_DECODE_H */

/*
 * qvl_float_math.h - the scalar conversions the lossy codecs decode with,
 * written once for the CPU (codecs/) and the GPU's kernels (cuda/), so a
 * frame dequantized on the device is byte for byte what the CPU makes.
 *
 * bf16, f16 and f32 to and from float with round to nearest even, and
 * OCP fp8 e4m3 to float; no _Float16, no libm beyond ldexpf and rintf
 * (both exact here, on the host and in CUDA).
 */
#ifndef QVL_FLOAT_MATH_H
#define QVL_FLOAT_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* The lossy payload (codec_lossy.c): one f32 scale per block of this many
 * values, then one byte per value, then the bytes past the last value. */
#define QVL_LOSSY_BLOCK 32

#ifdef __CUDACC__
#define QVL_HD static inline __host__ __device__
#else
#define QVL_HD static inline
#endif

/* The payload length of a lossy chunk of @len bytes of @w-byte values. */
QVL_HD size_t qvl_lossy_plen(size_t len, size_t w)
{
	size_t n = len / w;
	return (n + QVL_LOSSY_BLOCK - 1) / QVL_LOSSY_BLOCK * 4 + n +
	       (len - n * w);
}

QVL_HD uint32_t qvl_fm_bits(float f)
{
	union { float f; uint32_t u; } x;
	x.f = f;
	return x.u;
}

QVL_HD float qvl_fm_float(uint32_t u)
{
	union { float f; uint32_t u; } x;
	x.u = u;
	return x.f;
}

QVL_HD float qvl_fm_bf16_to_float(uint16_t h)
{
	return qvl_fm_float((uint32_t)h << 16);
}

QVL_HD uint16_t qvl_fm_float_to_bf16(float f)
{
	uint32_t u = qvl_fm_bits(f);
	if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet */
		return (uint16_t)(u >> 16 | 0x40);
	return (uint16_t)((u + 0x7fffu + (u >> 16 & 1)) >> 16);
}

QVL_HD float qvl_fm_f16_to_float(uint16_t h)
{
	unsigned e = h >> 10 & 0x1f, m = h & 0x3ff;
	float f;
	if (e == 0)
		f = ldexpf((float)m, -24);
	else if (e == 31)
		f = m ? qvl_fm_float(0x7fc00000u) : qvl_fm_float(0x7f800000u);
	else
		f = ldexpf((float)(m | 0x400), (int)e - 25);
	return (h & 0x8000) ? -f : f;
}

QVL_HD uint16_t qvl_fm_float_to_f16(float f)
{
	uint32_t u = qvl_fm_bits(f), sign = u >> 16 & 0x8000;
	uint32_t a = u & 0x7fffffffu;
	if (a > 0x7f800000u)
		return (uint16_t)(sign | 0x7e00);
	if (a >= 0x477ff000u) /* rounds to >= 65536: infinity */
		return (uint16_t)(sign | 0x7c00);
	if (a < 0x38800000u) /* below 2^-14: subnormal, step 2^-24 */
		return (uint16_t)(sign |
				  (uint32_t)rintf(qvl_fm_float(a) * 16777216.0f));
	/* Rebias 127 -> 15 and round 23 mantissa bits to 10, ties to even. */
	a -= 0x38000000u;
	a += 0xfffu + (a >> 13 & 1);
	return (uint16_t)(sign | a >> 13);
}

/* OCP fp8 e4m3: bias 7, no infinities, S.1111.111 is NaN. */
QVL_HD float qvl_fm_e4m3_to_float(uint8_t c)
{
	unsigned e = c >> 3 & 15, m = c & 7;
	float f;
	if ((c & 0x7f) == 0x7f)
		f = qvl_fm_float(0x7fc00000u);
	else if (e == 0)
		f = ldexpf((float)m, -9);
	else
		f = ldexpf((float)(8 + m), (int)e - 10);
	return (c & 0x80) ? -f : f;
}

#endif /* QVL_FLOAT_MATH_H */

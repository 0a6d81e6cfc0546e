/*
 * codec_float.c - bf16, f16 and f32 to and from float, round to nearest
 * even, without relying on compiler _Float16 support.
 */
#include <math.h>

#include "codec_float_i.h"

float qvl_bf16_to_float(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

uint16_t qvl_float_to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet */
		return (uint16_t)(u >> 16 | 0x40);
	return (uint16_t)((u + 0x7fffu + (u >> 16 & 1)) >> 16);
}

float qvl_f16_to_float(uint16_t h)
{
	unsigned e = h >> 10 & 0x1f, m = h & 0x3ff;
	float f;

	if (e == 0)
		f = ldexpf((float)m, -24);
	else if (e == 31)
		f = m ? NAN : INFINITY;
	else
		f = ldexpf((float)(m | 0x400), (int)e - 25);
	return (h & 0x8000) ? -f : f;
}

uint16_t qvl_float_to_f16(float f)
{
	uint32_t u, sign, a;

	memcpy(&u, &f, 4);
	sign = u >> 16 & 0x8000;
	a = u & 0x7fffffffu;
	if (a > 0x7f800000u)
		return (uint16_t)(sign | 0x7e00);
	if (a >= 0x477ff000u) /* rounds to >= 65536: infinity */
		return (uint16_t)(sign | 0x7c00);
	if (a < 0x38800000u) { /* below 2^-14: subnormal, step 2^-24 */
		float v;
		memcpy(&v, &a, 4);
		return (uint16_t)(sign | (uint32_t)rintf(v * 16777216.0f));
	}
	/* Rebias 127 -> 15 and round 23 mantissa bits to 10, ties to even. */
	a -= 0x38000000u;
	a += 0xfffu + (a >> 13 & 1);
	return (uint16_t)(sign | a >> 13);
}

float qvl_load_float(const uint8_t *p, enum qvl_dtype dtype)
{
	uint16_t h;
	float f;

	if (dtype == QVL_DTYPE_F32) {
		memcpy(&f, p, 4);
		return f;
	}
	memcpy(&h, p, 2);
	return dtype == QVL_DTYPE_BF16 ? qvl_bf16_to_float(h) :
					 qvl_f16_to_float(h);
}

void qvl_store_float(uint8_t *p, enum qvl_dtype dtype, float f)
{
	uint16_t h;

	if (dtype == QVL_DTYPE_F32) {
		memcpy(p, &f, 4);
		return;
	}
	h = dtype == QVL_DTYPE_BF16 ? qvl_float_to_bf16(f) :
				      qvl_float_to_f16(f);
	memcpy(p, &h, 2);
}

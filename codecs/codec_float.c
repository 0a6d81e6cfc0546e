/*
 * codec_float.c - bf16, f16 and f32 to and from float, round to nearest
 * even, without relying on compiler _Float16 support.  The arithmetic is
 * in qvl_float_math.h, shared with the GPU's kernels.
 */
#include <math.h>

#include "codec_float_i.h"
#include "qvl_float_math.h"

float qvl_bf16_to_float(uint16_t h)
{
	return qvl_fm_bf16_to_float(h);
}

uint16_t qvl_float_to_bf16(float f)
{
	return qvl_fm_float_to_bf16(f);
}

float qvl_f16_to_float(uint16_t h)
{
	return qvl_fm_f16_to_float(h);
}

uint16_t qvl_float_to_f16(float f)
{
	return qvl_fm_float_to_f16(f);
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

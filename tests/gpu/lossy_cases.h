/*
 * lossy_cases.h - chunks for the GPU decoders' tests (tests/gpu and
 * tests/unit/test_gpu_decode.c): weights of a dtype, Gaussian-ish with
 * std about 0.035, one in a hundred tiny or huge, and random bytes past
 * the last whole value.
 */
#ifndef QVL_LOSSY_CASES_H
#define QVL_LOSSY_CASES_H

#include <stdint.h>
#include <string.h>

#include "codec_float_i.h"

static uint64_t lossy_case_state = 0x9e3779b97f4a7c15ull;

static double lossy_case_unit(void)
{
	uint64_t *s = &lossy_case_state;
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (double)(*s >> 11) / 9007199254740992.0;
}

static void lossy_case_fill(uint8_t *p, size_t len, enum qvl_dtype dt)
{
	size_t w = dt == QVL_DTYPE_F32 ? 4 : 2;
	for (size_t i = 0; i + w <= len; i += w) {
		double g = (lossy_case_unit() + lossy_case_unit() +
			    lossy_case_unit() + lossy_case_unit() - 2.0) *
			   0.035;
		if (lossy_case_unit() < 0.01)
			g *= lossy_case_unit() < 0.5 ? 1e-6 : 300;
		float f = (float)g;
		if (dt == QVL_DTYPE_F32) {
			memcpy(p + i, &f, 4);
		} else {
			uint16_t h = dt == QVL_DTYPE_BF16 ? qvl_float_to_bf16(f)
							  : qvl_float_to_f16(f);
			memcpy(p + i, &h, 2);
		}
	}
	for (size_t i = len / w * w; i < len; i++)
		p[i] = (uint8_t)(lossy_case_unit() * 256);
}

#endif /* QVL_LOSSY_CASES_H */

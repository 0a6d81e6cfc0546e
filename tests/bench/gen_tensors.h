/*
 * gen_tensors.h - synthetic tensors shaped like Qwen3-VL-2B, for the codec
 * tests, the benchmark and the demo (header only, no codecs/ dependency).
 *
 *   QVL_GEN_WEIGHTS  rows of 2048 (the hidden size), Gaussian values with a
 *                    log-normal per-row scale around 0.02
 *   QVL_GEN_KV       KV cache: head_dim 128, per-channel scales, 4 of 128
 *                    channels are outliers with 20x the scale
 *   QVL_GEN_ACT      ReLU activations: max(0, N(0,1) - 0.5), ~69% zeros
 *   QVL_GEN_ZERO     zeros
 * Values are deterministic for a (kind, dtype, nelem, seed); dtype is bf16,
 * f16 or f32 (anything else gets random bytes).
 */
#ifndef QVL_GEN_TENSORS_H
#define QVL_GEN_TENSORS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "qvl_abi.h"

enum qvl_gen_kind {
	QVL_GEN_WEIGHTS,
	QVL_GEN_KV,
	QVL_GEN_ACT,
	QVL_GEN_ZERO,
	QVL_GEN_KIND_COUNT
};

static const char *const qvl_gen_kind_names[QVL_GEN_KIND_COUNT] = {
	"weights", "kv", "act", "zero"
};

static inline uint64_t qvl_gen_next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline double qvl_gen_unit(uint64_t *s) /* (0, 1) */
{
	return ((double)(qvl_gen_next(s) >> 11) + 0.5) * 0x1p-53;
}

static inline double qvl_gen_gauss(uint64_t *s)
{
	double u = qvl_gen_unit(s), v = qvl_gen_unit(s);
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static inline uint16_t qvl_gen_bf16(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return (uint16_t)((u + 0x7fffu + (u >> 16 & 1)) >> 16);
}

static inline uint16_t qvl_gen_f16(float f) /* finite inputs, |f| < 65504 */
{
	uint32_t u, sign, a;
	memcpy(&u, &f, 4);
	sign = u >> 16 & 0x8000;
	a = u & 0x7fffffffu;
	if (a >= 0x477ff000u)
		return (uint16_t)(sign | 0x7bff);
	if (a < 0x38800000u) {
		float v;
		memcpy(&v, &a, 4);
		return (uint16_t)(sign | (uint32_t)rintf(v * 16777216.0f));
	}
	a -= 0x38000000u;
	a += 0xfffu + (a >> 13 & 1);
	return (uint16_t)(sign | a >> 13);
}

static inline void qvl_gen_store(void *dst, size_t i, enum qvl_dtype dt,
				 float f)
{
	uint8_t *p = dst;
	uint16_t h;

	if (dt == QVL_DTYPE_F32) {
		memcpy(p + 4 * i, &f, 4);
		return;
	}
	h = dt == QVL_DTYPE_BF16 ? qvl_gen_bf16(f) : qvl_gen_f16(f);
	memcpy(p + 2 * i, &h, 2);
}

/* Fill @dst with @nelem values of @dt (bf16, f16, f32). */
/* Element @i of a bf16, f16 or f32 buffer as a float: the reverse of
 * qvl_gen_store, for checking what a codec gave back. */
static inline float qvl_gen_load(const void *src, size_t i, enum qvl_dtype dt)
{
	const uint8_t *p = src;
	float f;
	uint16_t h;
	uint32_t u;

	if (dt == QVL_DTYPE_F32) {
		memcpy(&f, p + 4 * i, 4);
		return f;
	}
	memcpy(&h, p + 2 * i, 2);
	if (dt == QVL_DTYPE_BF16) {
		u = (uint32_t)h << 16;
		memcpy(&f, &u, 4);
		return f;
	}
	unsigned e = h >> 10 & 31, m = h & 1023;
	f = e == 31 ? INFINITY :
	    e	    ? ldexpf((float)(m | 1024), (int)e - 25) :
		      ldexpf((float)m, -24);
	return (h & 0x8000) ? -f : f;
}

static inline void qvl_gen_tensor(enum qvl_gen_kind kind, enum qvl_dtype dt,
				  void *dst, size_t nelem, uint64_t seed)
{
	uint64_t s = seed * 0x2545f4914f6cdd1dull + (uint64_t)kind;
	float chan[128];
	float scale = 0.02f;

	if (dt != QVL_DTYPE_BF16 && dt != QVL_DTYPE_F16 && dt != QVL_DTYPE_F32) {
		for (size_t i = 0; i < nelem; i++)
			((uint8_t *)dst)[i] = (uint8_t)qvl_gen_next(&s);
		return;
	}
	for (int c = 0; c < 128; c++)
		chan[c] = (float)(exp(0.5 * qvl_gen_gauss(&s)) *
				  (c % 32 == 7 ? 20.0 : 1.0));
	for (size_t i = 0; i < nelem; i++) {
		float f = 0;
		switch (kind) {
		case QVL_GEN_WEIGHTS:
			if (i % 2048 == 0)
				scale = (float)(0.02 *
						exp(0.3 * qvl_gen_gauss(&s)));
			f = (float)qvl_gen_gauss(&s) * scale;
			break;
		case QVL_GEN_KV:
			f = (float)qvl_gen_gauss(&s) * chan[i % 128];
			break;
		case QVL_GEN_ACT:
			f = (float)(qvl_gen_gauss(&s) - 0.5);
			f = f > 0 ? f : 0;
			break;
		default:
			break;
		}
		qvl_gen_store(dst, i, dt, f);
	}
}

/*
 * The order-0 entropy floor of a chunk, in bytes: each byte plane (values
 * of @width bytes, sign-rotated when @rotate) costs its order-0 entropy,
 * at most 8 bits a byte; a tail past the last whole value costs itself.
 */
static inline double qvl_gen_entropy_floor(const void *buf, size_t len,
					   unsigned width, int rotate)
{
	const uint8_t *p = buf;
	size_t n = len / width;
	double total = (double)(len - n * width);

	for (unsigned k = 0; k < width; k++) {
		size_t h[256] = { 0 };
		double bits = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t v = 0;
			memcpy(&v, p + i * width, width);
			if (rotate && width < 8)
				v = (v << 1 | v >> (8 * width - 1)) &
				    ((1ull << (8 * width)) - 1);
			else if (rotate)
				v = v << 1 | v >> 63;
			h[(v >> (8 * k)) & 0xff]++;
		}
		for (int c = 0; c < 256; c++)
			if (h[c])
				bits -= (double)h[c] *
					log2((double)h[c] / (double)n);
		total += bits / 8;
	}
	return total;
}

#endif /* QVL_GEN_TENSORS_H */

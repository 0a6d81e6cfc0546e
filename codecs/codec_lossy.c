/*
 * codec_lossy.c - the opt-in lossy codecs, blocks of 32 values with one
 * f32 scale each.
 *
 * Payload: the scales (f32, one per block, the last block may be short),
 * then one byte per value, then the bytes past the last whole value.
 *   Q8_0:   scale = max|x| / 127, byte = round(x / scale) as int8.
 *           |x - decoded| <= scale / 2, plus the rounding of the result
 *           to the file's dtype (half an ulp of it).
 *   F8E4M3: scale = max|x| / 448, byte = x / scale as OCP fp8 e4m3 (round
 *           to nearest even).  |x - decoded| <= |x| * 2^-4 for normals,
 *           scale * 2^-10 below them, plus the dtype rounding.
 * Decoding returns dequantized values in the file's dtype.  Chunks holding
 * NaN or infinity are refused (-ERANGE) and the caller stores them
 * losslessly.
 */
#include <errno.h>
#include <math.h>

#include "codec_float_i.h"
#include "codec_i.h"
#include "qvl_float_math.h"

int qvl_lossy_supported(enum qvl_dtype dtype)
{
	return dtype == QVL_DTYPE_BF16 || dtype == QVL_DTYPE_F16 ||
	       dtype == QVL_DTYPE_F32;
}

static size_t width(enum qvl_dtype dtype)
{
	return dtype == QVL_DTYPE_F32 ? 4 : 2;
}

size_t qvl_lossy_payload_len(size_t len, enum qvl_dtype dtype)
{
	return qvl_lossy_plen(len, width(dtype));
}

static uint8_t to_e4m3(float y)
{
	uint8_t sign = signbit(y) ? 0x80 : 0;
	float a = fabsf(y);
	int e;
	float m;
	unsigned q;

	if (a < 0x1p-6f) /* subnormal: steps of 2^-9; 8 steps make 2^-6 */
		return (uint8_t)(sign | (unsigned)rintf(a * 512.0f));
	m = frexpf(a, &e); /* a = m * 2^e, m in [0.5, 1) */
	q = (unsigned)rintf((m * 2.0f - 1.0f) * 8.0f);
	if (q == 8) {
		q = 0;
		e++;
	}
	e += 6; /* exponent of 1.m form is e - 1, bias 7 */
	if (e > 15 || (e == 15 && q > 6))
		return (uint8_t)(sign | 0x7e); /* 448, the largest finite */
	return (uint8_t)(sign | (unsigned)e << 3 | q);
}

int qvl_lossy_encode(enum qvl_codec_id codec, const uint8_t *src, size_t len,
		     enum qvl_dtype dtype, uint8_t *dst, size_t cap)
{
	size_t w = width(dtype), n = len / w;
	size_t blocks = (n + QVL_LOSSY_BLOCK - 1) / QVL_LOSSY_BLOCK;
	uint8_t *q = dst + blocks * 4;
	float qmax = codec == QVL_CODEC_Q8_0 ? 127.0f : 448.0f;

	if (cap < qvl_lossy_payload_len(len, dtype))
		return -ENOSPC;
	for (size_t b = 0; b < blocks; b++) {
		size_t i0 = b * QVL_LOSSY_BLOCK, i1 = i0 + QVL_LOSSY_BLOCK;
		float x[QVL_LOSSY_BLOCK], amax = 0, scale, inv;
		uint32_t su;

		if (i1 > n)
			i1 = n;
		for (size_t i = i0; i < i1; i++) {
			x[i - i0] = qvl_load_float(src + i * w, dtype);
			if (!isfinite(x[i - i0]))
				return -ERANGE;
			amax = fmaxf(amax, fabsf(x[i - i0]));
		}
		scale = amax / qmax;
		/* A scale that underflows to 0 would make 1/scale infinite. */
		inv = scale > 0 && isfinite(1.0f / scale) ? 1.0f / scale : 0;
		if (inv == 0)
			scale = 0;
		memcpy(&su, &scale, 4);
		qvl_put32(dst + b * 4, su);
		for (size_t i = i0; i < i1; i++) {
			float y = x[i - i0] * inv;
			if (codec == QVL_CODEC_Q8_0) {
				float r = rintf(y);
				r = fminf(fmaxf(r, -127.0f), 127.0f);
				q[i] = (uint8_t)(int8_t)r;
			} else {
				q[i] = to_e4m3(y);
			}
		}
	}
	memcpy(q + n, src + n * w, len - n * w);
	return 0;
}

int qvl_lossy_decode(enum qvl_codec_id codec, const uint8_t *payload,
		     size_t plen, enum qvl_dtype dtype, uint8_t *dst,
		     size_t len)
{
	size_t w, n, blocks;
	const uint8_t *q;
	float lut[256];

	if (!qvl_lossy_supported(dtype) ||
	    plen != qvl_lossy_payload_len(len, dtype) ||
	    (codec != QVL_CODEC_Q8_0 && codec != QVL_CODEC_F8E4M3))
		return -EIO;
	w = width(dtype);
	n = len / w;
	blocks = (n + QVL_LOSSY_BLOCK - 1) / QVL_LOSSY_BLOCK;
	q = payload + blocks * 4;
	for (int c = 0; c < 256; c++)
		lut[c] = codec == QVL_CODEC_Q8_0 ? (float)(int8_t)c :
						   qvl_fm_e4m3_to_float((uint8_t)c);
	for (size_t b = 0; b < blocks; b++) {
		size_t i0 = b * QVL_LOSSY_BLOCK, i1 = i0 + QVL_LOSSY_BLOCK;
		uint32_t su = qvl_get32(payload + b * 4);
		float scale;

		memcpy(&scale, &su, 4);
		if (i1 > n)
			i1 = n;
		for (size_t i = i0; i < i1; i++)
			qvl_store_float(dst + i * w, dtype, lut[q[i]] * scale);
	}
	memcpy(dst + n * w, q + n, len - n * w);
	return 0;
}

/*
 * codec_split.c - byte planes.
 *
 * HOW IT WORKS.  A float's sign bit sits on top of its exponent, so the
 * byte holding the exponent mixes two unrelated things.  Rotating every
 * value left by one bit moves the sign to the bottom of the lowest byte,
 * among mantissa bits that are noise anyway; the top byte of a bf16 or f32
 * value is then the exponent alone (about 2.6 bits of entropy in trained
 * weights) and compresses on its own.  Plane k holds byte k (little-endian)
 * of every rotated value.  Integers are split without rotation.
 */
#include "codec_i.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define QVL_SPLIT_SSE2 1
#endif

unsigned qvl_codec_plane_width(enum qvl_dtype dtype, int *rotate)
{
	unsigned bits;

	*rotate = dtype == QVL_DTYPE_BF16 || dtype == QVL_DTYPE_F16 ||
		  dtype == QVL_DTYPE_F32 || dtype == QVL_DTYPE_F64;
	if ((unsigned)dtype >= QVL_DTYPE_COUNT)
		return 1;
	bits = qvl_dtype_table[dtype].elem_bits;
	if (bits != 16 && bits != 32 && bits != 64)
		return 1;
	return bits / 8;
}

static void split2(const uint8_t *src, size_t n, int rot, uint8_t *p)
{
	uint8_t *p0 = p, *p1 = p + n;
	size_t i = 0;

#ifdef QVL_SPLIT_SSE2
	/* 16 values a step: rotate, then pack low and high bytes apart. */
	const __m128i lo = _mm_set1_epi16(0xff);
	for (; i + 16 <= n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(src + 2 * i));
		__m128i b = _mm_loadu_si128((const __m128i *)(src + 2 * i + 16));
		if (rot) {
			a = _mm_or_si128(_mm_slli_epi16(a, 1),
					 _mm_srli_epi16(a, 15));
			b = _mm_or_si128(_mm_slli_epi16(b, 1),
					 _mm_srli_epi16(b, 15));
		}
		_mm_storeu_si128((__m128i *)(p0 + i),
				 _mm_packus_epi16(_mm_and_si128(a, lo),
						  _mm_and_si128(b, lo)));
		_mm_storeu_si128((__m128i *)(p1 + i),
				 _mm_packus_epi16(_mm_srli_epi16(a, 8),
						  _mm_srli_epi16(b, 8)));
	}
#endif
	for (; i < n; i++) {
		uint16_t v;
		memcpy(&v, src + 2 * i, 2);
		if (rot)
			v = (uint16_t)(v << 1 | v >> 15);
		p0[i] = (uint8_t)v;
		p1[i] = (uint8_t)(v >> 8);
	}
}

static void merge2(const uint8_t *const *p, size_t n, int rot, uint8_t *dst)
{
	const uint8_t *p0 = p[0], *p1 = p[1];
	size_t i = 0;

#ifdef QVL_SPLIT_SSE2
	for (; i + 16 <= n; i += 16) {
		__m128i l = _mm_loadu_si128((const __m128i *)(p0 + i));
		__m128i h = _mm_loadu_si128((const __m128i *)(p1 + i));
		__m128i a = _mm_unpacklo_epi8(l, h), b = _mm_unpackhi_epi8(l, h);
		if (rot) {
			a = _mm_or_si128(_mm_srli_epi16(a, 1),
					 _mm_slli_epi16(a, 15));
			b = _mm_or_si128(_mm_srli_epi16(b, 1),
					 _mm_slli_epi16(b, 15));
		}
		_mm_storeu_si128((__m128i *)(dst + 2 * i), a);
		_mm_storeu_si128((__m128i *)(dst + 2 * i + 16), b);
	}
#endif
	for (; i < n; i++) {
		uint16_t v = (uint16_t)(p0[i] | p1[i] << 8);
		if (rot)
			v = (uint16_t)(v >> 1 | v << 15);
		memcpy(dst + 2 * i, &v, 2);
	}
}

static void split4(const uint8_t *src, size_t n, int rot, uint8_t *p)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t v;
		memcpy(&v, src + 4 * i, 4);
		if (rot)
			v = v << 1 | v >> 31;
		p[i] = (uint8_t)v;
		p[n + i] = (uint8_t)(v >> 8);
		p[2 * n + i] = (uint8_t)(v >> 16);
		p[3 * n + i] = (uint8_t)(v >> 24);
	}
}

static void merge4(const uint8_t *const *p, size_t n, int rot, uint8_t *dst)
{
	const uint8_t *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3];

	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)p0[i] | (uint32_t)p1[i] << 8 |
			     (uint32_t)p2[i] << 16 | (uint32_t)p3[i] << 24;
		if (rot)
			v = v >> 1 | v << 31;
		memcpy(dst + 4 * i, &v, 4);
	}
}

static void split8(const uint8_t *src, size_t n, int rot, uint8_t *p)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		memcpy(&v, src + 8 * i, 8);
		if (rot)
			v = v << 1 | v >> 63;
		for (int k = 0; k < 8; k++)
			p[k * n + i] = (uint8_t)(v >> (8 * k));
	}
}

static void merge8(const uint8_t *const *p, size_t n, int rot, uint8_t *dst)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		for (int k = 0; k < 8; k++)
			v |= (uint64_t)p[k][i] << (8 * k);
		if (rot)
			v = v >> 1 | v << 63;
		memcpy(dst + 8 * i, &v, 8);
	}
}

/* @planes receives @width planes of @nelem bytes each, back to back. */
void qvl_codec_split(const uint8_t *src, size_t nelem, unsigned width,
		     int rotate, uint8_t *planes)
{
	switch (width) {
	case 2:
		split2(src, nelem, rotate, planes);
		break;
	case 4:
		split4(src, nelem, rotate, planes);
		break;
	case 8:
		split8(src, nelem, rotate, planes);
		break;
	default:
		memcpy(planes, src, nelem * width);
	}
}

/* @planes[k] points at plane k, @nelem bytes each; they may be anywhere. */
void qvl_codec_merge(const uint8_t *const *planes, size_t nelem,
		     unsigned width, int rotate, uint8_t *dst)
{
	switch (width) {
	case 2:
		merge2(planes, nelem, rotate, dst);
		break;
	case 4:
		merge4(planes, nelem, rotate, dst);
		break;
	case 8:
		merge8(planes, nelem, rotate, dst);
		break;
	default:
		memcpy(dst, planes[0], nelem * width);
	}
}

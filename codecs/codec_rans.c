/*
 * codec_rans.c - the entropy coder: htscodecs' rANS 4x16, order 0.
 *
 * Why this one (docs/CODECS.md has the numbers): on exponent planes it
 * lands within 0.01 bit/byte of the order-0 entropy, where Huffman loses
 * 0.03-0.06, and its 32-way AVX2/AVX-512 decoder runs at 1.3-1.4 GB/s of
 * plane (2.6+ GB/s of bf16 chunk).  htscodecs is fuzzed in OSS-Fuzz and
 * shipped by Debian.  RANS_ORDER_SIMD_AUTO picks 4-way for small planes.
 *
 * htscodecs picks its 32-way kernels by CPU at run time.  Its AVX-512
 * encoder is slower than its AVX2 one (660-710 vs 820-900 MB/s of plane
 * on this EPYC; the output is the same), so the AVX-512 encoder is masked
 * out once; the AVX-512 decoder (1.45-1.8 vs 1.3-1.5 GB/s) stays.  On a
 * CPU without AVX-512 (the reference i5-10210U) this changes nothing.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <htscodecs/rANS_static4x16.h>

#include "codec_i.h"

#define QVL_RANS_ORDER RANS_ORDER_SIMD_AUTO

static pthread_once_t rans_cpu_once = PTHREAD_ONCE_INIT;

static void rans_cpu_init(void)
{
	/* A mask over what htscodecs detects, not a demand. */
	rans_set_cpu(RANS_CPU_ENC_SSE4 | RANS_CPU_ENC_AVX2 | RANS_CPU_ENC_NEON |
		     RANS_CPU_DEC_SSE4 | RANS_CPU_DEC_AVX2 |
		     RANS_CPU_DEC_AVX512 | RANS_CPU_DEC_NEON);
}

/* Called once per context; htscodecs' choice is process-wide. */
void qvl_rans_init(void)
{
	pthread_once(&rans_cpu_once, rans_cpu_init);
}

size_t qvl_rans_bound(size_t n)
{
	if (n > UINT_MAX / 2)
		return SIZE_MAX / 2;
	return rans_compress_bound_4x16((unsigned)n, QVL_RANS_ORDER);
}

int qvl_rans_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
		    size_t *out_len)
{
	unsigned int osz;

	if (n > QVL_CODEC_MAX_CHUNK || cap < qvl_rans_bound(n))
		return -ENOSPC;
	osz = cap > UINT_MAX ? UINT_MAX : (unsigned int)cap;
	/* htscodecs takes a non-const input but does not write to it. */
	if (!rans_compress_to_4x16((unsigned char *)src, (unsigned int)n, dst,
				   &osz, QVL_RANS_ORDER))
		return -EIO;
	*out_len = osz;
	return 0;
}

int qvl_rans_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t want)
{
	unsigned int osz = (unsigned int)want;

	if (n > QVL_CODEC_MAX_CHUNK || want > QVL_CODEC_MAX_CHUNK)
		return -EIO;
	if (!rans_uncompress_to_4x16((unsigned char *)src, (unsigned int)n,
				     dst, &osz) ||
	    osz != want)
		return -EIO;
	return 0;
}

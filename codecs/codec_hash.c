/*
 * codec_hash.c - the frame checksum (xxh3-64) with an AVX2 kernel.
 *
 * Debian's libxxhash is built for baseline x86-64, i.e. SSE2: 15 us for a
 * 256 KiB chunk, 7-12% of a bf16 decode.  xxhash.h compiled inline here
 * under an AVX2 target gives the same hash (XXH3 is defined independently
 * of the vector width) at about twice the speed; it runs only where
 * __builtin_cpu_supports("avx2") says so, the library elsewhere.
 */
#include <stddef.h>
#include <stdint.h>

#include "codec_i.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("avx2")
#define XXH_INLINE_ALL
#define XXH_VECTOR 2 /* XXH_AVX2 */
#include <xxhash.h>
static uint64_t hash_avx2(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}
#pragma GCC pop_options
#define QVL_HASH_AVX2 1
#endif

uint64_t qvl_codec_hash(const void *p, size_t n)
{
#ifdef QVL_HASH_AVX2
	/* A load and a test: libgcc fills the CPU model at startup. */
	if (__builtin_cpu_supports("avx2"))
		return hash_avx2(p, n);
#endif
	return qvl_hash_lib(p, n);
}

/*
 * codec_sum.c - the content checksum of a file (user.qvl.checksum,
 * qvlctl checksum).
 *
 * A plain xxh3-64 of the content takes time for every byte, holes too: a
 * 1 TiB sparse file with one written block hashes a terabyte of zeros.  So
 * the sum is a list hash instead: xxh3-64 over, for each 64 KiB block of
 * the content that is not all zero, the block's index and its own xxh3-64
 * (two little-endian u64), and then the content's size (one more u64).
 * Zero blocks, stored or not, add nothing; so two files with the same
 * bytes have the same sum however they are stored (chunk size, holes,
 * codec), and a sparse file costs only its data.  The last block may be
 * short; it is hashed as it is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "codec_i.h"

struct qvl_sum {
	XXH3_state_t *st;
};

int qvl_sum_new(struct qvl_sum **out)
{
	struct qvl_sum *s = malloc(sizeof(*s));
	if (!s || !(s->st = XXH3_createState())) {
		free(s);
		return -ENOMEM;
	}
	XXH3_64bits_reset(s->st);
	*out = s;
	return 0;
}

static void put_u64(struct qvl_sum *s, uint64_t v)
{
	uint8_t le[8];
	qvl_put64(le, v);
	XXH3_64bits_update(s->st, le, sizeof(le));
}

void qvl_sum_data(struct qvl_sum *s, uint64_t off, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		size_t k = n < QVL_SUM_BLOCK ? n : QVL_SUM_BLOCK;
		if (!qvl_codec_is_zero(b, k)) {
			put_u64(s, off / QVL_SUM_BLOCK);
			put_u64(s, qvl_codec_hash(b, k));
		}
		off += k;
		b += k;
		n -= k;
	}
}

uint64_t qvl_sum_end(struct qvl_sum *s, uint64_t size)
{
	put_u64(s, size);
	uint64_t h = XXH3_64bits_digest(s->st);
	XXH3_freeState(s->st);
	free(s);
	return h;
}

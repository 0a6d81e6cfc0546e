/*
 * test_blob.c - unit tests for chunked blobs (tiers/blob.c) against the
 * contract in tiers/qvl_tier.h, checked against a flat shadow buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "../harness.h"
#include "qvl_tier.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define SHIFT 16
#define CH (1ULL << SHIFT)

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_rand(unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(rng() | 1); /* never zero */
}

static int all_zero(const void *ptr, size_t n)
{
	const unsigned char *c = ptr;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

static uint64_t pool_used(struct qvl_pool *p)
{
	struct qvl_pool_stats st;
	qvl_pool_get_stats(p, &st);
	return st.used;
}

/* Whole-blob read of [0, n) equals @ref. */
static int same_as(struct qvl_blob *b, const unsigned char *ref,
		   size_t n)
{
	unsigned char *buf = malloc(n);
	memset(buf, 0xcc, n);
	int ok = qvl_blob_read(b, buf, n, 0) == 0 && !memcmp(buf, ref, n);
	free(buf);
	return ok;
}

/* The content sum as qvl_codec.h defines it, written out plainly here:
 * (index, xxh3-64) of each nonzero 64 KiB block, then the size. */
static uint64_t ref_sum(const unsigned char *ref, uint64_t size)
{
	XXH3_state_t *st = XXH3_createState();
	XXH3_64bits_reset(st);
	for (uint64_t off = 0; off < size; off += 65536) {
		size_t n = size - off < 65536 ? (size_t)(size - off) : 65536;
		if (all_zero(ref + off, n))
			continue;
		uint64_t rec[2] = { off / 65536, XXH3_64bits(ref + off, n) };
		XXH3_64bits_update(st, rec, sizeof(rec)); /* little-endian */
	}
	XXH3_64bits_update(st, &size, sizeof(size));
	uint64_t h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}

static uint64_t blob_sum(struct qvl_blob *b, uint64_t size)
{
	uint64_t h = 0;
	QVL_CHECK_EQ(qvl_blob_checksum(b, size, &h), 0);
	return h;
}

static void test_create(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b = (struct qvl_blob *)&b;

	QVL_CHECK_EQ(qvl_pool_create(64 * MiB, 26, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, QVL_CHUNK_SHIFT_MIN - 1, &b), -EINVAL);
	QVL_CHECK(b == NULL);
	b = (struct qvl_blob *)&b;
	QVL_CHECK_EQ(qvl_blob_create(p, QVL_CHUNK_SHIFT_MAX + 1, &b), -EINVAL);
	QVL_CHECK(b == NULL);
	QVL_CHECK_EQ(qvl_blob_create(p, 0, &b), -EINVAL);
	QVL_CHECK_EQ(qvl_blob_create(p, 12, &b), -EINVAL);
	QVL_CHECK_EQ(qvl_blob_create(p, 64, &b), -EINVAL);
	QVL_CHECK_EQ(qvl_blob_create(p, ~0u, &b), -EINVAL);
	for (unsigned s = QVL_CHUNK_SHIFT_MIN; s <= QVL_CHUNK_SHIFT_MAX; s++) {
		QVL_CHECK_EQ(qvl_blob_create(p, s, &b), 0);
		QVL_CHECK(b != NULL);
		QVL_CHECK_EQ(qvl_blob_resident(b), 0);
		unsigned char x = 7;
		QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, (1ULL << s) - 1), 0);
		QVL_CHECK_EQ(qvl_blob_resident(b), 1ULL << s);
		QVL_CHECK_EQ(pool_used(p), 1ULL << s);
		qvl_blob_destroy(b);
		QVL_CHECK_EQ(pool_used(p), 0);
	}
	QVL_CHECK_EQ(qvl_blob_create(p, QVL_CHUNK_SHIFT_DEFAULT, &b), 0);
	qvl_blob_destroy(b);
	qvl_blob_destroy(NULL);
	qvl_pool_destroy(p);
}

static void test_holes(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	enum { N = 8 * CH };
	unsigned char *buf = malloc(N);

	QVL_CHECK_EQ(qvl_pool_create(64 * MiB, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	memset(buf, 0xcc, N);
	qvl_blob_read(b, buf, N, 0);
	QVL_CHECK(all_zero(buf, N));
	memset(buf, 0xcc, N);
	qvl_blob_read(b, buf, 3 * CH + 5, 12345678901ULL);
	QVL_CHECK(all_zero(buf, 3 * CH + 5));
	QVL_CHECK(buf[3 * CH + 5] == 0xcc); /* no overrun */
	qvl_blob_read(b, buf, 0, 0);

	/* one byte in chunk 5: chunks 0-4 are still holes */
	unsigned char x = 0x42;
	QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, 5 * CH + 7), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), CH);
	memset(buf, 0xcc, N);
	qvl_blob_read(b, buf, N, 0);
	QVL_CHECK(all_zero(buf, 5 * CH + 7));
	QVL_CHECK_EQ(buf[5 * CH + 7], 0x42);
	QVL_CHECK(all_zero(buf + 5 * CH + 8, N - 5 * CH - 8));
	/* reads past the map */
	memset(buf, 0xcc, N);
	qvl_blob_read(b, buf, N, 1ULL << 39);
	QVL_CHECK(all_zero(buf, N));
	qvl_blob_destroy(b);
	qvl_pool_destroy(p);
	free(buf);
}

static void test_write_read_basic(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	enum { N = 6 * CH };
	unsigned char *ref = calloc(1, N), *buf = malloc(N);

	rng_state = 42;
	QVL_CHECK_EQ(qvl_pool_create(64 * MiB, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	/* a write spanning four chunks, unaligned at both ends */
	uint64_t off = CH - 3, len = 3 * CH + 10;
	fill_rand(ref + off, len);
	QVL_CHECK_EQ(qvl_blob_write(b, ref + off, len, off), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 5 * CH);
	QVL_CHECK(same_as(b, ref, N));
	/* sub-range reads at odd offsets */
	for (int i = 0; i < 200; i++) {
		size_t o = rng() % N, l = rng() % (N - o + 1);
		memset(buf, 0xcc, l);
		qvl_blob_read(b, buf, l, o);
		if (memcmp(buf, ref + o, l)) {
			QVL_CHECK(!"sub-range read differs");
			break;
		}
	}
	/* overwrite inside one chunk, and exactly one whole chunk */
	fill_rand(ref + 2 * CH + 100, 50);
	QVL_CHECK_EQ(qvl_blob_write(b, ref + 2 * CH + 100, 50, 2 * CH + 100), 0);
	fill_rand(ref + 3 * CH, CH);
	QVL_CHECK_EQ(qvl_blob_write(b, ref + 3 * CH, CH, 3 * CH), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 5 * CH);
	QVL_CHECK(same_as(b, ref, N));
	QVL_CHECK_EQ(qvl_blob_write(b, NULL, 0, 5 * CH), 0); /* len 0 */
	QVL_CHECK_EQ(qvl_blob_resident(b), 5 * CH);
	QVL_CHECK_EQ(blob_sum(b, N), ref_sum(ref, N));
	QVL_CHECK_EQ(pool_used(p), 5 * CH);
	qvl_blob_destroy(b);
	QVL_CHECK_EQ(pool_used(p), 0);
	qvl_pool_destroy(p);
	free(ref);
	free(buf);
}

static void test_enospc(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	enum { N = 8 * CH };
	unsigned char *ref = calloc(1, N), *src = malloc(N);

	rng_state = 7;
	QVL_CHECK_EQ(qvl_pool_create(4 * CH, SHIFT, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	fill_rand(ref, 3 * CH);
	QVL_CHECK_EQ(qvl_blob_write(b, ref, 3 * CH, 0), 0);
	uint64_t res = qvl_blob_resident(b), sum = blob_sum(b, N);

	/* chunks 2..5: 3 new ones, only 1 fits -> nothing may change */
	fill_rand(src, N);
	QVL_CHECK_EQ(qvl_blob_write(b, src, 3 * CH, 2 * CH + 9), -ENOSPC);
	QVL_CHECK_EQ(qvl_blob_resident(b), res);
	QVL_CHECK_EQ(pool_used(p), res);
	QVL_CHECK(same_as(b, ref, N));
	QVL_CHECK_EQ(blob_sum(b, N), sum);
	/* a hole far away plus existing data */
	QVL_CHECK_EQ(qvl_blob_write(b, src, 5 * CH, 0), -ENOSPC);
	QVL_CHECK(same_as(b, ref, N));
	QVL_CHECK_EQ(qvl_blob_reserve(b, 0, 6 * CH), -ENOSPC);
	QVL_CHECK_EQ(qvl_blob_resident(b), res);
	QVL_CHECK(same_as(b, ref, N));

	/* exactly the last chunk of budget: fits */
	memcpy(ref + 3 * CH - 5, src, CH + 5);
	QVL_CHECK_EQ(qvl_blob_write(b, src, CH + 5, 3 * CH - 5), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 4 * CH);
	QVL_CHECK(same_as(b, ref, N));
	/* full: overwrites of resident chunks still work, new ones fail */
	memcpy(ref + 10, src + 10, 4 * CH - 20);
	QVL_CHECK_EQ(qvl_blob_write(b, src + 10, 4 * CH - 20, 10), 0);
	unsigned char x = 1;
	QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, 4 * CH), -ENOSPC);
	QVL_CHECK_EQ(qvl_blob_reserve(b, 4 * CH, 1), -ENOSPC);
	QVL_CHECK_EQ(qvl_blob_reserve(b, 0, 4 * CH), 0); /* all resident */
	QVL_CHECK(same_as(b, ref, N));
	QVL_CHECK_EQ(qvl_blob_resident(b), 4 * CH);
	qvl_blob_destroy(b);
	qvl_pool_destroy(p);
	free(ref);
	free(src);
}

static void test_efbig(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	const uint64_t M = QVL_BLOB_MAX_SIZE;
	unsigned char data[16] = "0123456789abcdef", buf[16];

	QVL_CHECK_EQ(qvl_pool_create(1ULL << 30, 26, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, 26, &b), 0);
	QVL_CHECK_EQ(qvl_blob_write(b, data, 1, M), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_write(b, data, 2, M - 1), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_write(b, data, 16, M - 8), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_write(b, data, 1, UINT64_MAX), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_write(b, data, 16, UINT64_MAX - 4), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_write(b, data, 16, 1ULL << 63), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_reserve(b, M, 1), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_reserve(b, 0, M + 1), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_reserve(b, UINT64_MAX - 4, 16), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_reserve(b, 1, UINT64_MAX), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_resident(b), 0);
	QVL_CHECK_EQ(pool_used(p), 0);

	/* the very last bytes below the limit are fine */
	QVL_CHECK_EQ(qvl_blob_write(b, data, 16, M - 16), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 1ULL << 26);
	memset(buf, 0, sizeof(buf));
	qvl_blob_read(b, buf, 16, M - 16);
	QVL_CHECK(!memcmp(buf, data, 16));
	QVL_CHECK_EQ(qvl_blob_reserve(b, M - 1, 1), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 1ULL << 26);
	qvl_blob_punch(b, M, UINT64_MAX); /* beyond: a no-op */
	qvl_blob_punch(b, UINT64_MAX, 1);
	QVL_CHECK_EQ(qvl_blob_resident(b), 1ULL << 26);
	qvl_blob_read(b, buf, 16, M - 16);
	QVL_CHECK(!memcmp(buf, data, 16));
	qvl_blob_punch(b, M - 8, UINT64_MAX); /* clamped, partial */
	qvl_blob_read(b, buf, 16, M - 16);
	QVL_CHECK(!memcmp(buf, data, 8) && all_zero(buf + 8, 8));
	QVL_CHECK_EQ(qvl_blob_resident(b), 1ULL << 26);
	qvl_blob_destroy(b);
	qvl_pool_destroy(p);
}

static void test_truncate(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	enum { N = 6 * CH };
	unsigned char *ref = calloc(1, N), *src = malloc(N);

	rng_state = 99;
	QVL_CHECK_EQ(qvl_pool_create(64 * MiB, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	fill_rand(ref, 4 * CH);
	QVL_CHECK_EQ(qvl_blob_write(b, ref, 4 * CH, 0), 0);

	/* sizes past the limit keep everything */
	qvl_blob_truncate(b, UINT64_MAX);
	qvl_blob_truncate(b, UINT64_MAX - CH + 2);
	qvl_blob_truncate(b, QVL_BLOB_MAX_SIZE + 1);
	QVL_CHECK_EQ(qvl_blob_resident(b), 4 * CH);
	QVL_CHECK(same_as(b, ref, N));

	qvl_blob_truncate(b, 1 * CH + 100);
	memset(ref + CH + 100, 0, N - CH - 100);
	QVL_CHECK_EQ(qvl_blob_resident(b), 2 * CH);
	QVL_CHECK_EQ(pool_used(p), 2 * CH);
	QVL_CHECK(same_as(b, ref, N)); /* bytes past the size read zero */
	/* extend by a write further out: the gap reads zeros */
	fill_rand(src, 10);
	memcpy(ref + 3 * CH + 1, src, 10);
	QVL_CHECK_EQ(qvl_blob_write(b, src, 10, 3 * CH + 1), 0);
	QVL_CHECK(same_as(b, ref, N));
	/* extend inside the partial chunk by a small write */
	memcpy(ref + 2 * CH - 4, src, 8);
	QVL_CHECK_EQ(qvl_blob_write(b, src, 8, 2 * CH - 4), 0);
	QVL_CHECK(same_as(b, ref, N));
	QVL_CHECK_EQ(blob_sum(b, N), ref_sum(ref, N));

	/* to a chunk boundary */
	qvl_blob_truncate(b, 2 * CH);
	memset(ref + 2 * CH, 0, N - 2 * CH);
	QVL_CHECK_EQ(qvl_blob_resident(b), 2 * CH);
	QVL_CHECK(same_as(b, ref, N));
	qvl_blob_truncate(b, 1);
	memset(ref + 1, 0, N - 1);
	QVL_CHECK_EQ(qvl_blob_resident(b), CH);
	QVL_CHECK(same_as(b, ref, N));
	qvl_blob_truncate(b, 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 0);
	QVL_CHECK_EQ(pool_used(p), 0);
	QVL_CHECK(same_as(b, ref + 1, N - 1)); /* all zeros */
	qvl_blob_destroy(b);
	qvl_pool_destroy(p);
	free(ref);
	free(src);
}

static void test_punch(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	enum { N = 6 * CH };
	unsigned char *ref = calloc(1, N);

	QVL_CHECK_EQ(qvl_pool_create(64 * MiB, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	memset(ref, 0xaa, 4 * CH);
	QVL_CHECK_EQ(qvl_blob_write(b, ref, 4 * CH, 0), 0);
	/* chunks 1 and 2 whole, halves of 0 and 3 */
	qvl_blob_punch(b, CH / 2, 3 * CH);
	memset(ref + CH / 2, 0, 3 * CH);
	QVL_CHECK_EQ(qvl_blob_resident(b), 2 * CH);
	QVL_CHECK_EQ(pool_used(p), 2 * CH);
	QVL_CHECK(same_as(b, ref, N));
	/* inside one chunk */
	qvl_blob_punch(b, 5, 7);
	memset(ref + 5, 0, 7);
	QVL_CHECK_EQ(qvl_blob_resident(b), 2 * CH);
	QVL_CHECK(same_as(b, ref, N));
	/* over holes only, and past the map */
	qvl_blob_punch(b, CH, 2 * CH);
	qvl_blob_punch(b, 10 * CH, 100 * CH);
	qvl_blob_punch(b, 0, 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 2 * CH);
	QVL_CHECK(same_as(b, ref, N));
	/* a whole chunk exactly */
	qvl_blob_punch(b, 3 * CH, CH);
	memset(ref + 3 * CH, 0, CH);
	QVL_CHECK_EQ(qvl_blob_resident(b), CH);
	QVL_CHECK(same_as(b, ref, N));
	/* the partly punched chunk can be written again */
	memset(ref + CH - 1, 0xbb, 2);
	QVL_CHECK_EQ(qvl_blob_write(b, ref + CH - 1, 2, CH - 1), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 2 * CH);
	QVL_CHECK(same_as(b, ref, N));
	/* everything */
	qvl_blob_punch(b, 0, UINT64_MAX);
	QVL_CHECK_EQ(qvl_blob_resident(b), 0);
	QVL_CHECK_EQ(pool_used(p), 0);
	memset(ref, 0, N);
	QVL_CHECK(same_as(b, ref, N));
	qvl_blob_destroy(b);
	qvl_pool_destroy(p);
	free(ref);
}

static void test_reserve(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	enum { N = 8 * CH };
	unsigned char *ref = calloc(1, N);

	rng_state = 5;
	QVL_CHECK_EQ(qvl_pool_create(64 * MiB, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	fill_rand(ref + 2 * CH + 10, 100);
	QVL_CHECK_EQ(qvl_blob_write(b, ref + 2 * CH + 10, 100, 2 * CH + 10), 0);
	uint64_t sum = blob_sum(b, N);
	QVL_CHECK_EQ(qvl_blob_reserve(b, 0, 0), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), CH);
	/* [CH-1, 4CH+1): chunks 0..4, one of them already resident */
	QVL_CHECK_EQ(qvl_blob_reserve(b, CH - 1, 3 * CH + 2), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 5 * CH);
	QVL_CHECK_EQ(pool_used(p), 5 * CH);
	QVL_CHECK(same_as(b, ref, N));
	QVL_CHECK_EQ(blob_sum(b, N), sum);
	QVL_CHECK_EQ(qvl_blob_reserve(b, 0, 5 * CH), 0); /* idempotent */
	QVL_CHECK_EQ(qvl_blob_resident(b), 5 * CH);
	/* the reserved chunk holds writes like any other */
	fill_rand(ref + 4 * CH, 30);
	QVL_CHECK_EQ(qvl_blob_write(b, ref + 4 * CH, 30, 4 * CH), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 5 * CH);
	QVL_CHECK(same_as(b, ref, N));
	qvl_blob_destroy(b);
	QVL_CHECK_EQ(pool_used(p), 0);
	qvl_pool_destroy(p);
	free(ref);
}

static void test_version(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	unsigned char x = 1;

	QVL_CHECK_EQ(qvl_pool_create(CH, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	uint64_t v = qvl_blob_version(b);
	QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, 3), 0);
	QVL_CHECK(qvl_blob_version(b) > v);
	v = qvl_blob_version(b);
	QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, 3), 0); /* same bytes: still a write */
	QVL_CHECK(qvl_blob_version(b) > v);
	v = qvl_blob_version(b);
	qvl_blob_punch(b, 0, 2);
	QVL_CHECK(qvl_blob_version(b) > v);
	v = qvl_blob_version(b);
	qvl_blob_truncate(b, 1);
	QVL_CHECK(qvl_blob_version(b) > v);
	v = qvl_blob_version(b);
	qvl_blob_truncate(b, 0);
	QVL_CHECK(qvl_blob_version(b) > v);
	v = qvl_blob_version(b);
	/* failures change nothing */
	QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, QVL_BLOB_MAX_SIZE), -EFBIG);
	QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, 0), 0);
	v = qvl_blob_version(b);
	QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, CH), -ENOSPC);
	QVL_CHECK_EQ(qvl_blob_version(b), v);
	qvl_blob_destroy(b);
	qvl_pool_destroy(p);
}

static void test_checksum(void)
{
	struct qvl_pool *p;
	struct qvl_blob *b;
	enum { N = 5 * CH + 777 };
	unsigned char *ref = calloc(1, N);
	static const uint64_t sizes[] = { 0, 1, CH - 1, CH, CH + 1, 3 * CH + 5,
					  N };

	rng_state = 11;
	QVL_CHECK_EQ(qvl_pool_create(64 * MiB, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	QVL_CHECK_EQ(blob_sum(b, 0), ref_sum(ref, 0));
	QVL_CHECK_EQ(blob_sum(b, N), ref_sum(ref, N)); /* all holes */
	fill_rand(ref + 10, 20);
	fill_rand(ref + 3 * CH - 7, 14);
	QVL_CHECK_EQ(qvl_blob_write(b, ref + 10, 20, 10), 0);
	QVL_CHECK_EQ(qvl_blob_write(b, ref + 3 * CH - 7, 14, 3 * CH - 7), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		QVL_CHECK_EQ(blob_sum(b, sizes[i]), ref_sum(ref, sizes[i]));
	/* a digest differs when one byte does */
	uint64_t h = blob_sum(b, N);
	unsigned char x = ref[N - 1] ^ 0x80;
	QVL_CHECK_EQ(qvl_blob_write(b, &x, 1, N - 1), 0);
	QVL_CHECK(blob_sum(b, N) != h);
	ref[N - 1] = x;
	QVL_CHECK_EQ(blob_sum(b, N), ref_sum(ref, N));
	/* zeros written are zeros: the same sum as a hole */
	h = blob_sum(b, N);
	static const unsigned char zeros[100];
	QVL_CHECK_EQ(qvl_blob_write(b, zeros, sizeof(zeros), 4 * CH + 9), 0);
	QVL_CHECK_EQ(blob_sum(b, N), h);
	/* the size is part of the sum: trailing zeros count */
	QVL_CHECK(blob_sum(b, N + 1) != h);
	qvl_blob_destroy(b);
	qvl_pool_destroy(p);
	free(ref);
}

/*
 * Random writes, punches, truncates and reserves against a shadow buffer and
 * a model of which chunks are resident; the pool budget is below the span so
 * ENOSPC happens, and must change nothing.
 */
static void test_random_shadow(void)
{
	enum { NCH = 24, N = NCH * CH, BUDGET_CH = 17, OPS = 6000 };
	struct qvl_pool *p;
	struct qvl_blob *b;
	unsigned char *ref = calloc(1, N), *src = malloc(N), *buf = malloc(N);
	unsigned char res[NCH] = { 0 };
	uint64_t nres = 0, size = 0; /* file size as the fs would track it */
	int bad_rc = 0, bad_read = 0, bad_res = 0, bad_ver = 0, bad_sum = 0;
	int nospc = 0, nw = 0, np = 0, nt = 0, nr = 0;

	rng_state = 0xb10b;
	QVL_CHECK_EQ(qvl_pool_create(BUDGET_CH * CH, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	for (int op = 0; op < OPS; op++) {
		uint64_t v0 = qvl_blob_version(b);
		unsigned kind = (unsigned)(rng() % 100);
		uint64_t off = rng() % N, len;
		/* lengths: mostly small, sometimes a few chunks */
		switch (rng() % 4) {
		case 0: len = rng() % 64; break;
		case 1: len = rng() % CH; break;
		case 2: len = rng() % (3 * CH); break;
		default: len = (rng() % 4) * CH; break;
		}
		if (rng() % 4 == 0)
			off &= ~(CH - 1); /* aligned */
		if (len > N - off)
			len = N - off;
		uint64_t first = off >> SHIFT, last = (off + len - 1) >> SHIFT;

		if (kind < 45) { /* write */
			uint64_t need = 0;
			for (uint64_t c = first; len && c <= last; c++)
				need += !res[c];
			fill_rand(src, len);
			int rc = qvl_blob_write(b, src, len, off);
			if (len && nres + need > BUDGET_CH) {
				bad_rc += rc != -ENOSPC;
				bad_ver += qvl_blob_version(b) != v0;
				nospc++;
			} else {
				bad_rc += rc != 0;
				memcpy(ref + off, src, len);
				for (uint64_t c = first; len && c <= last; c++)
					if (!res[c]) {
						res[c] = 1;
						nres++;
					}
				if (off + len > size)
					size = off + len;
				bad_ver += len && qvl_blob_version(b) <= v0;
			}
			nw++;
		} else if (kind < 65) { /* punch */
			qvl_blob_punch(b, off, len);
			memset(ref + off, 0, len);
			for (uint64_t c = 0; c < NCH; c++)
				if (c * CH >= off && (c + 1) * CH <= off + len &&
				    res[c]) {
					res[c] = 0;
					nres--;
				}
			bad_ver += qvl_blob_version(b) <= v0;
			np++;
		} else if (kind < 80) { /* truncate, biased to large sizes */
			uint64_t s = rng() % 3 ? N - rng() % (N / 4) : off;
			qvl_blob_truncate(b, s);
			if (s < N)
				memset(ref + s, 0, N - s);
			for (uint64_t c = (s + CH - 1) >> SHIFT; c < NCH; c++)
				if (res[c]) {
					res[c] = 0;
					nres--;
				}
			size = s;
			bad_ver += qvl_blob_version(b) <= v0;
			nt++;
		} else if (kind < 90) { /* reserve */
			uint64_t need = 0;
			for (uint64_t c = first; len && c <= last; c++)
				need += !res[c];
			int rc = qvl_blob_reserve(b, off, len);
			if (len && nres + need > BUDGET_CH) {
				bad_rc += rc != -ENOSPC;
				nospc++;
			} else {
				bad_rc += rc != 0;
				for (uint64_t c = first; len && c <= last; c++)
					if (!res[c]) {
						res[c] = 1;
						nres++;
					}
			}
			nr++;
		} else { /* random read */
			memset(buf, 0xcc, len);
			qvl_blob_read(b, buf, len, off);
			bad_read += memcmp(buf, ref + off, len) != 0;
		}
		if (qvl_blob_resident(b) != nres * CH ||
		    pool_used(p) != nres * CH) {
			if (!bad_res++)
				fprintf(stderr, "resident diverges at op %d: %llu != %llu\n",
					op, (unsigned long long)qvl_blob_resident(b),
					(unsigned long long)(nres * CH));
		}
		if (op % 64 == 63 || op == OPS - 1) {
			if (!same_as(b, ref, N) && !bad_read++)
				fprintf(stderr, "content diverges at op %d\n", op);
			uint64_t s = size < N ? size : N;
			if (rng() % 2)
				s = rng() % (N + 1);
			uint64_t h = 0;
			bad_sum += qvl_blob_checksum(b, s, &h) != 0 ||
				   h != ref_sum(ref, s);
		}
	}
	QVL_CHECK_EQ(bad_rc, 0);
	QVL_CHECK_EQ(bad_read, 0);
	QVL_CHECK_EQ(bad_res, 0);
	QVL_CHECK_EQ(bad_ver, 0);
	QVL_CHECK_EQ(bad_sum, 0);
	/* the mix really exercised every path */
	QVL_CHECK(nospc > 50);
	QVL_CHECK(nw > 1000 && np > 500 && nt > 500 && nr > 300);
	qvl_blob_destroy(b);
	QVL_CHECK_EQ(pool_used(p), 0);
	qvl_pool_destroy(p);
	free(ref);
	free(src);
	free(buf);
}

/* Two blobs on one pool share its budget. */
static void test_shared_pool(void)
{
	struct qvl_pool *p;
	struct qvl_blob *a, *b;
	unsigned char *src = malloc(2 * CH);

	memset(src, 0x33, 2 * CH);
	QVL_CHECK_EQ(qvl_pool_create(3 * CH, 20, &p), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &a), 0);
	QVL_CHECK_EQ(qvl_blob_create(p, SHIFT, &b), 0);
	QVL_CHECK_EQ(qvl_blob_write(a, src, 2 * CH, 0), 0);
	QVL_CHECK_EQ(qvl_blob_write(b, src, 2 * CH, 0), -ENOSPC);
	QVL_CHECK_EQ(qvl_blob_resident(b), 0);
	QVL_CHECK_EQ(qvl_blob_write(b, src, CH, 0), 0);
	qvl_blob_destroy(a);
	QVL_CHECK_EQ(qvl_blob_write(b, src, 2 * CH, CH), 0);
	QVL_CHECK_EQ(qvl_blob_resident(b), 3 * CH);
	qvl_blob_destroy(b);
	QVL_CHECK_EQ(pool_used(p), 0);
	qvl_pool_destroy(p);
	free(src);
}

int main(void)
{
	QVL_RUN(test_create);
	QVL_RUN(test_holes);
	QVL_RUN(test_write_read_basic);
	QVL_RUN(test_enospc);
	QVL_RUN(test_efbig);
	QVL_RUN(test_truncate);
	QVL_RUN(test_punch);
	QVL_RUN(test_reserve);
	QVL_RUN(test_version);
	QVL_RUN(test_checksum);
	QVL_RUN(test_random_shadow);
	QVL_RUN(test_shared_pool);
	return QVL_TEST_EXIT();
}

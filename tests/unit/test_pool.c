/*
 * test_pool.c - unit tests for the size-class pools (tiers/pool.c) against
 * the contract in tiers/qvl_tier.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "qvl_tier.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define ARENA_BYTES (64 * MiB)

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct qvl_pool_stats stats(struct qvl_pool *p)
{
	struct qvl_pool_stats st;
	qvl_pool_get_stats(p, &st);
	return st;
}

static int all_zero(const void *ptr, size_t n)
{
	const unsigned char *c = ptr;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

static size_t class_size(size_t size)
{
	size_t c = 4 * KiB;
	while (c < size)
		c <<= 1;
	return c;
}

static void test_create(void)
{
	struct qvl_pool *p = (struct qvl_pool *)&p;

	QVL_CHECK_EQ(qvl_pool_create(1 << 20, 11, &p), -EINVAL);
	QVL_CHECK(p == NULL);
	p = (struct qvl_pool *)&p;
	QVL_CHECK_EQ(qvl_pool_create(1 << 20, 0, &p), -EINVAL);
	QVL_CHECK(p == NULL);
	QVL_CHECK_EQ(qvl_pool_create(1 << 20, 28, &p), -EINVAL); /* 17 classes */
	QVL_CHECK_EQ(qvl_pool_create(1 << 20, 64, &p), -EINVAL);
	QVL_CHECK_EQ(qvl_pool_create(1 << 20, ~0u, &p), -EINVAL);

	QVL_CHECK_EQ(qvl_pool_create(1 << 20, 12, &p), 0);
	QVL_CHECK(p != NULL);
	struct qvl_pool_stats st = stats(p);
	QVL_CHECK_EQ(st.nclasses, 1);
	QVL_CHECK_EQ(st.cls[0].slot_size, 4096);
	QVL_CHECK_EQ(st.budget, 1 << 20);
	QVL_CHECK_EQ(st.used, 0);
	QVL_CHECK_EQ(st.requested, 0);
	QVL_CHECK_EQ(st.mapped, 0);
	QVL_CHECK_EQ(st.alloc_failures, 0);
	qvl_pool_destroy(p);

	QVL_CHECK_EQ(qvl_pool_create(1 << 20, 27, &p), 0);
	st = stats(p);
	QVL_CHECK_EQ(st.nclasses, QVL_POOL_MAX_CLASSES);
	for (unsigned i = 0; i < st.nclasses; i++) {
		QVL_CHECK_EQ(st.cls[i].slot_size, 4096ULL << i);
		QVL_CHECK_EQ(st.cls[i].slots_used, 0);
		QVL_CHECK_EQ(st.cls[i].slots_total, 0);
		QVL_CHECK_EQ(st.cls[i].arenas, 0);
	}
	qvl_pool_destroy(p);
	qvl_pool_destroy(NULL);
}

static void test_classes_and_rounding(void)
{
	static const size_t sizes[] = { 1, 100, 4095, 4096, 4097, 8192, 8193,
					65535, 65536, 65537, 300000, MiB - 1,
					MiB };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	struct qvl_pool *p;
	void *ptr[N];
	uint64_t used = 0, req = 0;
	uint64_t per_cls[QVL_POOL_MAX_CLASSES] = { 0 };

	QVL_CHECK_EQ(qvl_pool_create(1ULL << 30, 20, &p), 0);
	QVL_CHECK_EQ(stats(p).nclasses, 9);
	for (int i = 0; i < N; i++) {
		size_t cs = class_size(sizes[i]);
		unsigned ci = (unsigned)__builtin_ctzll(cs) - 12;
		QVL_CHECK_EQ(qvl_pool_alloc(p, sizes[i], &ptr[i]), 0);
		QVL_CHECK(ptr[i] != NULL);
		QVL_CHECK_EQ((uintptr_t)ptr[i] & 4095, 0);
		QVL_CHECK(all_zero(ptr[i], sizes[i]));
		memset(ptr[i], 0x5a, sizes[i]);
		used += cs;
		req += sizes[i];
		per_cls[ci]++;
		struct qvl_pool_stats st = stats(p);
		QVL_CHECK_EQ(st.used, used);
		QVL_CHECK_EQ(st.requested, req);
		QVL_CHECK_EQ(st.cls[ci].slots_used, per_cls[ci]);
		QVL_CHECK(st.requested <= st.used);
	}
	struct qvl_pool_stats st = stats(p);
	uint64_t mapped = 0;
	for (unsigned c = 0; c < st.nclasses; c++) {
		QVL_CHECK_EQ(st.cls[c].arenas, per_cls[c] ? 1 : 0);
		QVL_CHECK_EQ(st.cls[c].slots_total,
			     per_cls[c] ? ARENA_BYTES / st.cls[c].slot_size : 0);
		QVL_CHECK_EQ(st.cls[c].slots_used, per_cls[c]);
		mapped += st.cls[c].arenas * ARENA_BYTES;
	}
	QVL_CHECK_EQ(st.mapped, mapped);

	/* bad sizes: nothing changes */
	void *q = (void *)&q;
	QVL_CHECK_EQ(qvl_pool_alloc(p, 0, &q), -EINVAL);
	QVL_CHECK(q == NULL);
	q = (void *)&q;
	QVL_CHECK_EQ(qvl_pool_alloc(p, MiB + 1, &q), -EINVAL);
	QVL_CHECK(q == NULL);
	QVL_CHECK_EQ(qvl_pool_alloc(p, SIZE_MAX, &q), -EINVAL);
	void *qs[3] = { 0 };
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, 0, 3, qs), -EINVAL);
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, 2 * MiB, 3, qs), -EINVAL);
	QVL_CHECK(!qs[0] && !qs[1] && !qs[2]);
	struct qvl_pool_stats st2 = stats(p);
	QVL_CHECK_EQ(st2.used, used);
	QVL_CHECK_EQ(st2.requested, req);

	for (int i = 0; i < N; i++) {
		for (size_t k = 0; k < sizes[i]; k++)
			if (((unsigned char *)ptr[i])[k] != 0x5a) {
				QVL_CHECK(!"slot content overwritten");
				break;
			}
		qvl_pool_free(p, ptr[i], sizes[i]);
	}
	st = stats(p);
	QVL_CHECK_EQ(st.used, 0);
	QVL_CHECK_EQ(st.requested, 0);
	QVL_CHECK_EQ(st.mapped, 0);
	for (unsigned c = 0; c < st.nclasses; c++) {
		QVL_CHECK_EQ(st.cls[c].slots_used, 0);
		QVL_CHECK_EQ(st.cls[c].slots_total, 0);
		QVL_CHECK_EQ(st.cls[c].arenas, 0);
	}
	qvl_pool_destroy(p);
}

/* Dirty slots, free them while the arena stays live, reallocate: zeros. */
static void zero_after_reuse(struct qvl_pool *p, size_t size, int use_n)
{
	enum { K = 16 };
	void *keep, *s[K], *s2[K];
	size_t cs = class_size(size);

	QVL_CHECK_EQ(qvl_pool_alloc(p, size, &keep), 0);
	for (int i = 0; i < K; i++) {
		QVL_CHECK_EQ(qvl_pool_alloc(p, cs, &s[i]), 0);
		QVL_CHECK(all_zero(s[i], cs));
		memset(s[i], 0xff, cs);
	}
	for (int i = 0; i < K; i++)
		qvl_pool_free(p, s[i], cs);
	if (use_n) {
		QVL_CHECK_EQ(qvl_pool_alloc_n(p, size, K, s2), 0);
	} else {
		for (int i = 0; i < K; i++)
			QVL_CHECK_EQ(qvl_pool_alloc(p, size, &s2[i]), 0);
	}
	int reused = 0;
	for (int i = 0; i < K; i++) {
		for (int j = 0; j < K; j++)
			reused += s2[i] == s[j];
		QVL_CHECK(all_zero(s2[i], size));
		/* the whole slot, not just the request, is clean */
		QVL_CHECK(all_zero(s2[i], cs));
	}
	QVL_CHECK_EQ(reused, K); /* the dirtied slots really came back */
	for (int i = 0; i < K; i++)
		qvl_pool_free(p, s2[i], size);
	qvl_pool_free(p, keep, size);
	QVL_CHECK_EQ(stats(p).used, 0);
}

static void test_zero_filled(void)
{
	static const size_t sizes[] = { 1, 4096, 5000, 16384, 32768, 65535,
					65536, 65537, 256 * 1024, 2 * MiB };
	struct qvl_pool *p;

	QVL_CHECK_EQ(qvl_pool_create(1ULL << 30, 21, &p), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		zero_after_reuse(p, sizes[i], 0);
		zero_after_reuse(p, sizes[i], 1);
	}
	qvl_pool_destroy(p);

	/* a class bigger than an arena: one slot per mapping */
	QVL_CHECK_EQ(qvl_pool_create(1ULL << 30, 27, &p), 0);
	void *big, *big2;
	QVL_CHECK_EQ(qvl_pool_alloc(p, 100 * MiB, &big), 0);
	struct qvl_pool_stats st = stats(p);
	QVL_CHECK_EQ(st.mapped, 128 * MiB);
	QVL_CHECK_EQ(st.cls[15].slots_total, 1);
	QVL_CHECK_EQ(st.cls[15].arenas, 1);
	QVL_CHECK_EQ(((char *)big)[0], 0);
	QVL_CHECK_EQ(((char *)big)[128 * MiB - 1], 0);
	((char *)big)[0] = 1;
	((char *)big)[128 * MiB - 1] = 1;
	QVL_CHECK_EQ(qvl_pool_alloc(p, 128 * MiB, &big2), 0);
	QVL_CHECK_EQ(stats(p).cls[15].arenas, 2);
	qvl_pool_free(p, big, 100 * MiB);
	QVL_CHECK_EQ(stats(p).cls[15].arenas, 1);
	QVL_CHECK_EQ(stats(p).mapped, 128 * MiB);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 128 * MiB, &big), 0);
	QVL_CHECK_EQ(((char *)big)[0], 0);
	QVL_CHECK_EQ(((char *)big)[128 * MiB - 1], 0);
	qvl_pool_free(p, big, 128 * MiB);
	qvl_pool_free(p, big2, 128 * MiB);
	QVL_CHECK_EQ(stats(p).mapped, 0);
	QVL_CHECK_EQ(stats(p).used, 0);
	qvl_pool_destroy(p);
}

static void test_budget_exact(void)
{
	struct qvl_pool *p;
	void *s[16], *x;

	QVL_CHECK_EQ(qvl_pool_create(10 * 64 * KiB, 16, &p), 0);
	for (int i = 0; i < 10; i++)
		QVL_CHECK_EQ(qvl_pool_alloc(p, 64 * KiB, &s[i]), 0);
	QVL_CHECK_EQ(stats(p).used, 10 * 64 * KiB);
	QVL_CHECK_EQ(stats(p).alloc_failures, 0);
	x = (void *)&x;
	QVL_CHECK_EQ(qvl_pool_alloc(p, 64 * KiB, &x), -ENOSPC);
	QVL_CHECK(x == NULL);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 1, &x), -ENOSPC);
	QVL_CHECK_EQ(stats(p).alloc_failures, 2);
	QVL_CHECK_EQ(stats(p).used, 10 * 64 * KiB);
	QVL_CHECK_EQ(stats(p).requested, 10 * 64 * KiB);

	/* 64 KiB free again: sixteen 4 KiB slots fit, not seventeen */
	qvl_pool_free(p, s[3], 64 * KiB);
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, 4096, 17, s), -ENOSPC);
	QVL_CHECK_EQ(stats(p).used, 9 * 64 * KiB);
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, 4096, 16, s), 0);
	QVL_CHECK_EQ(stats(p).used, 10 * 64 * KiB);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 4096, &x), -ENOSPC);
	QVL_CHECK_EQ(stats(p).alloc_failures, 4);
	qvl_pool_destroy(p);

	/* budget not a multiple of the class */
	QVL_CHECK_EQ(qvl_pool_create(3 * 64 * KiB + 4095, 16, &p), 0);
	for (int i = 0; i < 3; i++)
		QVL_CHECK_EQ(qvl_pool_alloc(p, 64 * KiB, &s[i]), 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 1, &x), -ENOSPC);
	qvl_pool_free(p, s[0], 64 * KiB);
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, 4096, 16, s), 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 4096, &x), -ENOSPC);
	qvl_pool_destroy(p);

	/* budget zero and budget smaller than the class */
	QVL_CHECK_EQ(qvl_pool_create(0, 16, &p), 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 1, &x), -ENOSPC);
	qvl_pool_set_budget(p, 64 * KiB - 1);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 64 * KiB, &x), -ENOSPC);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 60 * KiB, &x), -ENOSPC);
	QVL_CHECK_EQ(stats(p).mapped, 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 32 * KiB, &x), 0);
	qvl_pool_free(p, x, 32 * KiB);
	qvl_pool_destroy(p);
}

static void test_alloc_n(void)
{
	enum { N = 40 };
	struct qvl_pool *p;
	void *out[N + 1], *pre;
	const size_t sz = 60 * KiB; /* class 64 KiB */

	QVL_CHECK_EQ(qvl_pool_create(4096 + (N - 1) * 64 * KiB, 16, &p), 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 4096, &pre), 0);
	struct qvl_pool_stats before = stats(p);
	for (int i = 0; i <= N; i++)
		out[i] = (void *)&out[i];
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, sz, N, out), -ENOSPC);
	struct qvl_pool_stats after = stats(p);
	QVL_CHECK_EQ(after.used, before.used);
	QVL_CHECK_EQ(after.requested, before.requested);
	QVL_CHECK_EQ(after.cls[4].slots_used, 0);
	QVL_CHECK_EQ(after.alloc_failures, before.alloc_failures + 1);
	QVL_CHECK_EQ(after.mapped, before.mapped);

	QVL_CHECK_EQ(qvl_pool_alloc_n(p, sz, 0, out), 0);
	QVL_CHECK_EQ(stats(p).used, before.used);

	QVL_CHECK_EQ(qvl_pool_alloc_n(p, sz, N - 1, out), 0);
	after = stats(p);
	QVL_CHECK_EQ(after.used, after.budget);
	QVL_CHECK_EQ(after.requested, 4096 + (N - 1) * sz);
	QVL_CHECK_EQ(after.cls[4].slots_used, N - 1);
	QVL_CHECK(out[N - 1] == (void *)&out[N - 1]); /* nothing past n */
	for (int i = 0; i < N - 1; i++) {
		QVL_CHECK(out[i] != NULL);
		QVL_CHECK_EQ((uintptr_t)out[i] & 4095, 0);
		QVL_CHECK(all_zero(out[i], 64 * KiB));
		for (int j = 0; j < i; j++) {
			uintptr_t a = (uintptr_t)out[i], b = (uintptr_t)out[j];
			QVL_CHECK(a + 64 * KiB <= b || b + 64 * KiB <= a);
		}
		memset(out[i], i + 1, sz);
	}
	for (int i = 0; i < N - 1; i++) {
		const unsigned char *c = out[i];
		QVL_CHECK(c[0] == i + 1 && c[sz - 1] == i + 1);
	}
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, 1, 1, out + N), -ENOSPC);
	for (int i = 0; i < N - 1; i++)
		qvl_pool_free(p, out[i], sz);
	qvl_pool_free(p, pre, 4096);
	after = stats(p);
	QVL_CHECK_EQ(after.used, 0);
	QVL_CHECK_EQ(after.requested, 0);
	QVL_CHECK_EQ(after.mapped, 0);
	qvl_pool_destroy(p);
}

static void test_free_null(void)
{
	struct qvl_pool *p;
	void *x;

	QVL_CHECK_EQ(qvl_pool_create(MiB, 16, &p), 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 100, &x), 0);
	struct qvl_pool_stats a = stats(p);
	qvl_pool_free(p, NULL, 100);
	qvl_pool_free(p, NULL, 64 * KiB);
	struct qvl_pool_stats b = stats(p);
	QVL_CHECK_EQ(b.used, a.used);
	QVL_CHECK_EQ(b.requested, a.requested);
	QVL_CHECK_EQ(b.mapped, a.mapped);
	QVL_CHECK_EQ(b.cls[0].slots_used, 1);
	qvl_pool_free(p, x, 100);
	QVL_CHECK_EQ(stats(p).used, 0);
	qvl_pool_destroy(p);
}

static void test_arenas(void)
{
	enum { PER = 64, TOT = 3 * PER + 1 }; /* 1 MiB class: 64 per arena */
	struct qvl_pool *p;
	void *s[TOT];

	QVL_CHECK_EQ(qvl_pool_create(1ULL << 40, 20, &p), 0);
	for (int i = 0; i < TOT; i++) {
		QVL_CHECK_EQ(qvl_pool_alloc(p, MiB, &s[i]), 0);
		*(int *)s[i] = i;
	}
	struct qvl_pool_stats st = stats(p);
	QVL_CHECK_EQ(st.cls[8].arenas, 4);
	QVL_CHECK_EQ(st.cls[8].slots_total, 4 * PER);
	QVL_CHECK_EQ(st.cls[8].slots_used, TOT);
	QVL_CHECK_EQ(st.mapped, 4 * ARENA_BYTES);
	QVL_CHECK_EQ(st.used, TOT * MiB);

	/* the lone slot of the last arena: that arena goes */
	qvl_pool_free(p, s[TOT - 1], MiB);
	st = stats(p);
	QVL_CHECK_EQ(st.cls[8].arenas, 3);
	QVL_CHECK_EQ(st.mapped, 3 * ARENA_BYTES);
	QVL_CHECK_EQ(st.cls[8].slots_total, 3 * PER);

	/* one slot freed in each of two full arenas is reused, whichever
	 * arena the class looks at first: no new mapping */
	qvl_pool_free(p, s[PER + 5], MiB);
	qvl_pool_free(p, s[2 * PER + 7], MiB);
	QVL_CHECK_EQ(qvl_pool_alloc(p, MiB, &s[PER + 5]), 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, MiB, &s[2 * PER + 7]), 0);
	*(int *)s[PER + 5] = PER + 5;
	*(int *)s[2 * PER + 7] = 2 * PER + 7;
	st = stats(p);
	QVL_CHECK_EQ(st.cls[8].arenas, 3);
	QVL_CHECK_EQ(st.mapped, 3 * ARENA_BYTES);
	QVL_CHECK_EQ(st.cls[8].slots_used, 3 * PER);

	/* free half of every arena, then refill: no new arena */
	for (int i = 0; i < 3 * PER; i += 2)
		qvl_pool_free(p, s[i], MiB);
	QVL_CHECK_EQ(stats(p).cls[8].arenas, 3);
	for (int i = 0; i < 3 * PER; i += 2) {
		QVL_CHECK_EQ(qvl_pool_alloc(p, MiB, &s[i]), 0);
		QVL_CHECK_EQ(*(int *)s[i], 0);
		*(int *)s[i] = i;
	}
	st = stats(p);
	QVL_CHECK_EQ(st.cls[8].arenas, 3);
	QVL_CHECK_EQ(st.mapped, 3 * ARENA_BYTES);
	for (int i = 0; i < 3 * PER; i++)
		QVL_CHECK_EQ(*(int *)s[i], i);

	/* free in a scattered order; arenas drop as they empty */
	for (int k = 0; k < 3 * PER; k++) {
		int i = (k * 37) % (3 * PER); /* 37 is coprime to 192 */
		qvl_pool_free(p, s[i], MiB);
	}
	st = stats(p);
	QVL_CHECK_EQ(st.cls[8].arenas, 0);
	QVL_CHECK_EQ(st.cls[8].slots_total, 0);
	QVL_CHECK_EQ(st.mapped, 0);
	QVL_CHECK_EQ(st.used, 0);
	qvl_pool_destroy(p);

	/* destroy with slots still out must not leak (ASan checks) */
	QVL_CHECK_EQ(qvl_pool_create(1ULL << 40, 20, &p), 0);
	for (int i = 0; i < 10; i++)
		QVL_CHECK_EQ(qvl_pool_alloc(p, 4096ULL << (i % 9), &s[i]), 0);
	qvl_pool_destroy(p);
}

static void test_set_budget(void)
{
	struct qvl_pool *p;
	void *s[8], *x;
	const size_t C = 64 * KiB;

	QVL_CHECK_EQ(qvl_pool_create(8 * C, 16, &p), 0);
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, C, 8, s), 0);
	for (int i = 0; i < 8; i++)
		memset(s[i], 0x11 * (i + 1), C);
	qvl_pool_set_budget(p, 4 * C);
	struct qvl_pool_stats st = stats(p);
	QVL_CHECK_EQ(st.budget, 4 * C);
	QVL_CHECK_EQ(st.used, 8 * C); /* slots already out stay */
	for (int i = 0; i < 8; i++)
		QVL_CHECK_EQ(((unsigned char *)s[i])[C - 1], 0x11 * (i + 1));
	QVL_CHECK_EQ(qvl_pool_alloc(p, 1, &x), -ENOSPC);
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, 1, 1, &x), -ENOSPC);
	for (int i = 0; i < 4; i++) {
		qvl_pool_free(p, s[7 - i], C);
		QVL_CHECK_EQ(qvl_pool_alloc(p, 1, &x), -ENOSPC);
	}
	QVL_CHECK_EQ(stats(p).used, 4 * C);
	qvl_pool_free(p, s[3], C);
	QVL_CHECK_EQ(qvl_pool_alloc(p, C, &s[3]), 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 1, &x), -ENOSPC);
	qvl_pool_set_budget(p, 0);
	QVL_CHECK_EQ(qvl_pool_alloc(p, 1, &x), -ENOSPC);
	qvl_pool_set_budget(p, 6 * C);
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, C, 3, &s[4]), -ENOSPC);
	QVL_CHECK_EQ(qvl_pool_alloc_n(p, C, 2, &s[4]), 0);
	QVL_CHECK_EQ(stats(p).used, 6 * C);
	for (int i = 0; i < 6; i++)
		qvl_pool_free(p, s[i], C);
	QVL_CHECK_EQ(stats(p).used, 0);
	QVL_CHECK_EQ(stats(p).mapped, 0);
	qvl_pool_destroy(p);
}

struct live {
	unsigned char *ptr;
	size_t size;
	uint64_t tag;
};

static void stamp(struct live *l)
{
	memcpy(l->ptr, &l->tag, l->size < 8 ? l->size : 8);
	if (l->size >= 16)
		memcpy(l->ptr + l->size - 8, &l->tag, 8);
}

static int stamp_ok(const struct live *l)
{
	if (memcmp(l->ptr, &l->tag, l->size < 8 ? l->size : 8))
		return 0;
	return l->size < 16 || !memcmp(l->ptr + l->size - 8, &l->tag, 8);
}

/* Random alloc/free against a shadow of every counter. */
static void test_random_shadow(void)
{
	enum { MAXLIVE = 600, OPS = 30000, MAXSHIFT = 20, NCLS = MAXSHIFT - 11 };
	static struct live live[MAXLIVE];
	struct qvl_pool *p;
	const uint64_t budget = 48 * MiB + 12 * KiB;
	uint64_t used = 0, req = 0, fails = 0, slots[NCLS] = { 0 };
	int nlive = 0, bad_stats = 0, bad_stamp = 0, bad_zero = 0;

	rng_state = 0x5eed0001;
	QVL_CHECK_EQ(qvl_pool_create(budget, MAXSHIFT, &p), 0);
	for (int op = 0; op < OPS; op++) {
		int do_alloc = nlive == 0 ||
			       (nlive < MAXLIVE && rng() % 100 < 55);
		if (do_alloc && rng() % 8 == 0) {
			/* a batch */
			unsigned c = (unsigned)(rng() % NCLS);
			size_t cs = (size_t)4096 << c;
			size_t size = cs / 2 + 1 + rng() % (cs / 2);
			size_t n = 1 + rng() % 6;
			void *out[6];
			if (n > (size_t)(MAXLIVE - nlive))
				n = (size_t)(MAXLIVE - nlive);
			int rc = qvl_pool_alloc_n(p, size, n, out);
			if (used + n * cs > budget) {
				QVL_CHECK_EQ(rc, -ENOSPC);
				fails++;
			} else {
				QVL_CHECK_EQ(rc, 0);
				if (rc)
					continue;
				for (size_t k = 0; k < n; k++) {
					struct live *l = &live[nlive++];
					l->ptr = out[k];
					l->size = size;
					l->tag = rng();
					bad_zero += !all_zero(l->ptr, 8) ||
						    !all_zero(l->ptr + size - 8, 8);
					stamp(l);
				}
				used += n * cs;
				req += n * size;
				slots[c] += n;
			}
		} else if (do_alloc) {
			unsigned c = (unsigned)(rng() % NCLS);
			size_t cs = (size_t)4096 << c;
			size_t size = rng() % 4 ? cs / 2 + 1 + rng() % (cs / 2) : cs;
			if (c == 0 && rng() % 2)
				size = 1 + rng() % 64;
			void *out;
			int rc = qvl_pool_alloc(p, size, &out);
			if (used + cs > budget) {
				QVL_CHECK_EQ(rc, -ENOSPC);
				fails++;
			} else {
				QVL_CHECK_EQ(rc, 0);
				if (rc)
					continue;
				struct live *l = &live[nlive++];
				l->ptr = out;
				l->size = size;
				l->tag = rng();
				bad_zero += !all_zero(out, size < 64 ? size : 64);
				bad_zero += !all_zero((char *)out + size -
							      (size < 64 ? size : 64),
						      size < 64 ? size : 64);
				stamp(l);
				used += cs;
				req += size;
				slots[c]++;
			}
		} else {
			int i = (int)(rng() % (uint64_t)nlive);
			struct live *l = &live[i];
			size_t cs = class_size(l->size);
			bad_stamp += !stamp_ok(l);
			qvl_pool_free(p, l->ptr, l->size);
			used -= cs;
			req -= l->size;
			slots[__builtin_ctzll(cs) - 12]--;
			live[i] = live[--nlive];
		}
		struct qvl_pool_stats st = stats(p);
		uint64_t mapped = 0;
		int ok = st.used == used && st.requested == req &&
			 st.alloc_failures == fails && st.budget == budget;
		for (unsigned c = 0; c < NCLS; c++) {
			ok &= st.cls[c].slots_used == slots[c];
			ok &= st.cls[c].slots_used <= st.cls[c].slots_total;
			ok &= st.cls[c].slots_total ==
			      st.cls[c].arenas * (ARENA_BYTES >> (12 + c));
			ok &= (slots[c] == 0) == (st.cls[c].arenas == 0);
			mapped += st.cls[c].arenas * ARENA_BYTES;
		}
		ok &= st.mapped == mapped;
		if (!ok && !bad_stats++)
			fprintf(stderr, "stats diverge at op %d\n", op);
	}
	QVL_CHECK_EQ(bad_stats, 0);
	QVL_CHECK_EQ(bad_zero, 0);
	QVL_CHECK(fails > 0); /* the budget was really hit */
	for (int i = 0; i < nlive; i++) {
		bad_stamp += !stamp_ok(&live[i]);
		qvl_pool_free(p, live[i].ptr, live[i].size);
	}
	QVL_CHECK_EQ(bad_stamp, 0);
	struct qvl_pool_stats st = stats(p);
	QVL_CHECK_EQ(st.used, 0);
	QVL_CHECK_EQ(st.requested, 0);
	QVL_CHECK_EQ(st.mapped, 0);
	qvl_pool_destroy(p);
}

struct thr_arg {
	struct qvl_pool *p;
	uint64_t seed;
	int bad;
};

static void *thr_main(void *arg)
{
	struct thr_arg *t = arg;
	void *held[32];
	size_t sz[32];
	int n = 0;
	uint64_t s = t->seed;

	for (int i = 0; i < 4000; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		if (n < 32 && ((s >> 33) % 2 || !n)) {
			size_t size = 1 + (size_t)((s >> 20) % (256 * KiB));
			if (qvl_pool_alloc(t->p, size, &held[n]))
				continue;
			unsigned char *c = held[n];
			if (c[0] || c[size - 1])
				t->bad++;
			c[0] = c[size - 1] = (unsigned char)(n + 1);
			sz[n++] = size;
		} else {
			int k = (int)((s >> 40) % (uint64_t)n);
			unsigned char *c = held[k];
			if (c[0] != k + 1 || c[sz[k] - 1] != k + 1)
				t->bad++;
			qvl_pool_free(t->p, held[k], sz[k]);
			n--;
			if (k != n) {
				held[k] = held[n];
				sz[k] = sz[n];
				c = held[k];
				c[0] = c[sz[k] - 1] = (unsigned char)(k + 1);
			}
		}
	}
	while (n--)
		qvl_pool_free(t->p, held[n], sz[n]);
	return NULL;
}

static void test_threads(void)
{
	enum { T = 4 };
	struct qvl_pool *p;
	pthread_t th[T];
	struct thr_arg a[T];

	QVL_CHECK_EQ(qvl_pool_create(64 * MiB, 18, &p), 0);
	for (int i = 0; i < T; i++) {
		a[i] = (struct thr_arg){ p, 1234 + (uint64_t)i, 0 };
		QVL_CHECK_EQ(pthread_create(&th[i], NULL, thr_main, &a[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		QVL_CHECK_EQ(a[i].bad, 0);
	}
	struct qvl_pool_stats st = stats(p);
	QVL_CHECK_EQ(st.used, 0);
	QVL_CHECK_EQ(st.requested, 0);
	QVL_CHECK_EQ(st.mapped, 0);
	qvl_pool_destroy(p);
}

int main(void)
{
	QVL_RUN(test_create);
	QVL_RUN(test_classes_and_rounding);
	QVL_RUN(test_zero_filled);
	QVL_RUN(test_budget_exact);
	QVL_RUN(test_alloc_n);
	QVL_RUN(test_free_null);
	QVL_RUN(test_arenas);
	QVL_RUN(test_set_budget);
	QVL_RUN(test_random_shadow);
	QVL_RUN(test_threads);
	return QVL_TEST_EXIT();
}

/*
 * test_policy.c - the compressed tier's replacement policy (LIRS) against
 * LRU and Belady's optimum (OPT) on traces: a loop twice the cache, Zipf
 * reuse, and a hot set with a scan running through it.  Prints the hit
 * rates; asserts LIRS is within 10 points of OPT on the loop and no worse
 * than LRU on the others.  Also checks the policy's own bookkeeping.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "lirs_i.h"

#define CACHE 512

struct trace {
	uint32_t *ref;
	size_t n;
	uint32_t nblocks;
};

static uint64_t rng_state = 42;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double unit(void)
{
	return (double)(rng() >> 11) / (double)(1ull << 53);
}

/* ---- the three policies on a trace ------------------------------------ */

static double run_lirs(const struct trace *t)
{
	struct qvl_lirs l;
	struct qvl_lirs_node *node = calloc(t->nblocks, sizeof(*node));
	uint64_t hits = 0, nres = 0;
	qvl_lirs_init(&l);
	qvl_lirs_set_capacity(&l, CACHE);
	for (size_t i = 0; i < t->n; i++) {
		struct qvl_lirs_node *n = &node[t->ref[i]];
		if (qvl_lirs_resident(n)) {
			hits++;
		} else if (nres == CACHE) {
			struct qvl_lirs_node *v = qvl_lirs_next_victim(&l, NULL);
			QVL_CHECK(v && qvl_lirs_resident(v));
			if (v)
				qvl_lirs_evict(&l, v);
		} else {
			nres++;
		}
		qvl_lirs_access(&l, n);
		if (l.nlir + l.nhir != nres) {
			QVL_CHECK_EQ(l.nlir + l.nhir, nres);
			break;
		}
	}
	QVL_CHECK(l.nlir <= l.lir_max);
	QVL_CHECK(l.nghost <= l.ghost_max);
	for (uint32_t b = 0; b < t->nblocks; b++)
		qvl_lirs_remove(&l, &node[b]);
	QVL_CHECK_EQ(l.nlir + l.nhir + l.nghost, 0);
	QVL_CHECK(l.s.snext == &l.s && l.q.qnext == &l.q && l.g.qnext == &l.g);
	free(node);
	return 100.0 * (double)hits / (double)t->n;
}

static double run_lru(const struct trace *t)
{
	/* Last-use stamps; the victim is the oldest resident (O(C) scan is
	 * fine for a test). */
	uint64_t *stamp = calloc(t->nblocks, sizeof(*stamp));
	uint32_t res[CACHE];
	uint64_t hits = 0, nres = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t b = t->ref[i];
		if (stamp[b]) {
			hits++;
		} else if (nres < CACHE) {
			res[nres++] = b;
		} else {
			size_t v = 0;
			for (size_t j = 1; j < CACHE; j++)
				if (stamp[res[j]] < stamp[res[v]])
					v = j;
			stamp[res[v]] = 0;
			res[v] = b;
		}
		stamp[b] = i + 1;
	}
	free(stamp);
	return 100.0 * (double)hits / (double)t->n;
}

static double run_opt(const struct trace *t)
{
	/* next[i]: where ref[i]'s block is referenced again (n: never). */
	size_t *next = malloc(t->n * sizeof(*next));
	size_t *seen = malloc(t->nblocks * sizeof(*seen));
	uint8_t *in = calloc(t->nblocks, 1);
	size_t *nextuse = malloc(t->nblocks * sizeof(*nextuse));
	uint32_t res[CACHE];
	uint64_t hits = 0, nres = 0;
	for (uint32_t b = 0; b < t->nblocks; b++)
		seen[b] = t->n;
	for (size_t i = t->n; i-- > 0;) {
		next[i] = seen[t->ref[i]];
		seen[t->ref[i]] = i;
	}
	for (size_t i = 0; i < t->n; i++) {
		uint32_t b = t->ref[i];
		if (in[b]) {
			hits++;
		} else if (nres < CACHE) {
			res[nres++] = b;
			in[b] = 1;
		} else {
			size_t v = 0;
			for (size_t j = 1; j < CACHE; j++)
				if (nextuse[res[j]] > nextuse[res[v]])
					v = j;
			in[res[v]] = 0;
			res[v] = b;
			in[b] = 1;
		}
		nextuse[b] = next[i];
	}
	free(next);
	free(seen);
	free(in);
	free(nextuse);
	return 100.0 * (double)hits / (double)t->n;
}

/* ---- workloads --------------------------------------------------------- */

static void trace_alloc(struct trace *t, size_t n, uint32_t nblocks)
{
	t->ref = malloc(n * sizeof(*t->ref));
	t->n = n;
	t->nblocks = nblocks;
}

static void report(const char *name, const struct trace *t, double *lirs,
		   double *lru, double *opt)
{
	*lirs = run_lirs(t);
	*lru = run_lru(t);
	*opt = run_opt(t);
	fprintf(stderr, "    %-28s LIRS %5.1f%%  LRU %5.1f%%  OPT %5.1f%%\n",
		name, *lirs, *lru, *opt);
}

static void t_loop(void)
{
	struct trace t;
	uint32_t len = 2 * CACHE;
	trace_alloc(&t, (size_t)len * 12, len);
	for (size_t i = 0; i < t.n; i++)
		t.ref[i] = (uint32_t)(i % len);
	double lirs, lru, opt;
	report("loop 2x cache", &t, &lirs, &lru, &opt);
	QVL_CHECK(lirs >= opt - 10.0);
	QVL_CHECK(lirs > lru + 30.0);
	free(t.ref);
}

static void t_zipf(void)
{
	struct trace t;
	uint32_t nb = 10 * CACHE;
	double *cdf = malloc(nb * sizeof(*cdf)), sum = 0;
	for (uint32_t k = 0; k < nb; k++)
		sum += 1.0 / pow(k + 1, 0.9);
	double acc = 0;
	for (uint32_t k = 0; k < nb; k++) {
		acc += 1.0 / pow(k + 1, 0.9) / sum;
		cdf[k] = acc;
	}
	trace_alloc(&t, 200000, nb);
	for (size_t i = 0; i < t.n; i++) {
		double u = unit();
		uint32_t lo = 0, hi = nb - 1;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* Popularity is not ordered by block number. */
		t.ref[i] = (uint32_t)((lo * 2654435761u) % nb);
	}
	double lirs, lru, opt;
	report("zipf(0.9), 10x cache", &t, &lirs, &lru, &opt);
	QVL_CHECK(lirs >= lru);
	free(cdf);
	free(t.ref);
}

static void t_hot_scan(void)
{
	struct trace t;
	uint32_t hot = CACHE / 2, scan = 200000;
	trace_alloc(&t, 200000, hot + scan);
	uint32_t next_scan = hot;
	for (size_t i = 0; i < t.n; i++) {
		/* A third hot set, two thirds one long scan. */
		if (rng() % 3 == 0)
			t.ref[i] = (uint32_t)(rng() % hot);
		else
			t.ref[i] = next_scan++;
	}
	t.nblocks = next_scan;
	double lirs, lru, opt;
	report("hot set 0.5x + scan", &t, &lirs, &lru, &opt);
	QVL_CHECK(lirs >= lru);
	free(t.ref);
}

/* Victims come from the queue first, then LIR from the stack bottom; a
 * ghost reused joins the stable set. */
static void t_bookkeeping(void)
{
	struct qvl_lirs l;
	struct qvl_lirs_node n[8] = { 0 };
	qvl_lirs_init(&l);
	for (int i = 0; i < 4; i++)
		qvl_lirs_access(&l, &n[i]);
	QVL_CHECK_EQ(l.nlir, 4);
	qvl_lirs_set_capacity(&l, 4); /* 3 LIR + 1 HIR */
	QVL_CHECK_EQ(l.nlir, 3);
	QVL_CHECK_EQ(l.nhir, 1);
	QVL_CHECK(qvl_lirs_next_victim(&l, NULL) == &n[0]);
	qvl_lirs_evict(&l, &n[0]);
	QVL_CHECK_EQ(n[0].state, QVL_LIRS_NONE); /* pruned from S already */
	qvl_lirs_access(&l, &n[4]); /* new: HIR */
	QVL_CHECK_EQ(n[4].state, QVL_LIRS_HIR);
	qvl_lirs_evict(&l, &n[4]);
	QVL_CHECK_EQ(n[4].state, QVL_LIRS_GHOST);
	qvl_lirs_access(&l, &n[4]); /* reused from within S: LIR */
	QVL_CHECK_EQ(n[4].state, QVL_LIRS_LIR);
	QVL_CHECK_EQ(l.nlir, 3);
	QVL_CHECK_EQ(n[1].state, QVL_LIRS_HIR); /* the bottom, demoted */
	/* Walk every victim: HIR first, then LIR. */
	int seen = 0, lir_seen = 0;
	for (struct qvl_lirs_node *v = qvl_lirs_next_victim(&l, NULL); v;
	     v = qvl_lirs_next_victim(&l, v)) {
		QVL_CHECK(!lir_seen || v->state == QVL_LIRS_LIR);
		lir_seen |= v->state == QVL_LIRS_LIR;
		seen++;
	}
	QVL_CHECK_EQ(seen, l.nlir + l.nhir);
	for (int i = 0; i < 8; i++)
		qvl_lirs_remove(&l, &n[i]);
	QVL_CHECK_EQ(l.nlir + l.nhir + l.nghost, 0);
}

/* Every list agrees with the counters. */
static int consistent(const struct qvl_lirs *l)
{
	uint64_t nq = 0, ng = 0, nl = 0;
	for (const struct qvl_lirs_node *n = l->q.qnext; n != &l->q; n = n->qnext) {
		if (n->state != QVL_LIRS_HIR || n->qnext->qprev != n)
			return 0;
		nq++;
	}
	for (const struct qvl_lirs_node *n = l->g.qnext; n != &l->g; n = n->qnext) {
		if (n->state != QVL_LIRS_GHOST || !n->in_s)
			return 0;
		ng++;
	}
	for (const struct qvl_lirs_node *n = l->s.snext; n != &l->s; n = n->snext) {
		if (!n->in_s || n->snext->sprev != n)
			return 0;
		nl += n->state == QVL_LIRS_LIR;
	}
	if (l->s.sprev != &l->s && l->s.sprev->state != QVL_LIRS_LIR)
		return 0; /* the bottom of the stack is LIR */
	return nq == l->nhir && ng == l->nghost && nl == l->nlir;
}

/* Random operations in the order the tier manager makes them. */
static void t_random_ops(void)
{
	struct qvl_lirs l;
	struct qvl_lirs_node n[64] = { 0 };
	qvl_lirs_init(&l);
	for (int step = 0; step < 200000; step++) {
		struct qvl_lirs_node *x = &n[rng() % 64];
		unsigned op = (unsigned)(rng() % 8);
		int st0 = x->state, ins0 = x->in_s;
		uint64_t cnt0[4] = { l.nlir, l.nhir, l.nghost, l.lir_max };
		switch (op) {
		case 0: case 1: case 2: case 3:
			qvl_lirs_access(&l, x);
			break;
		case 4: case 5: {
			struct qvl_lirs_node *v = qvl_lirs_next_victim(&l, NULL);
			for (unsigned k = rng() % 3; v && k; k--)
				v = qvl_lirs_next_victim(&l, v);
			if (v)
				qvl_lirs_evict(&l, v);
			break;
		}
		case 6:
			if (rng() % 4)
				qvl_lirs_evict(&l, x);
			else
				qvl_lirs_remove(&l, x);
			break;
		default:
			qvl_lirs_set_capacity(&l, 1 + rng() % 40);
			break;
		}
		if (!consistent(&l)) {
			fprintf(stderr, "inconsistent after step %d: op %u on "
				"state %d in_s %d, lir %llu hir %llu ghost %llu "
				"max %llu\n", step, op, st0, ins0,
				(unsigned long long)cnt0[0],
				(unsigned long long)cnt0[1],
				(unsigned long long)cnt0[2],
				(unsigned long long)cnt0[3]);
			QVL_CHECK(0);
			return;
		}
	}
}

int main(void)
{
	QVL_RUN(t_random_ops);
	QVL_RUN(t_bookkeeping);
	QVL_RUN(t_loop);
	QVL_RUN(t_zipf);
	QVL_RUN(t_hot_scan);
	return QVL_TEST_EXIT();
}

/*
 * test_buddy.c - the GPU arena's buddy allocator against a reference
 * model: a map of which smallest blocks are in use.  After every step of
 * random allocations and frees: each block returned is aligned to its own
 * size, inside the arena and overlaps nothing in use; an allocation fails
 * only when the map has no aligned free run that large; the byte counts
 * and the free-block histogram agree with the map; freeing everything
 * merges the arena back to how it started.  Bad frees are -EINVAL and
 * change nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "qvl_buddy.h"

#define MAXLIVE 512

struct live {
	uint64_t off, len, bsize;
};

struct model {
	struct qvl_buddy b;
	uint8_t *inuse; /* per smallest block */
	struct live l[MAXLIVE];
	unsigned n;
	uint64_t used, requested;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* An aligned run of free smallest blocks of @bsize bytes anywhere? */
static int aligned_run_free(const struct model *m, uint64_t bsize)
{
	uint64_t step = bsize >> m->b.min_shift;
	for (uint64_t i = 0; i + step <= m->b.nblocks; i += step) {
		uint64_t j = 0;
		while (j < step && !m->inuse[i + j])
			j++;
		if (j == step)
			return 1;
	}
	return 0;
}

static void check_counts(struct model *m)
{
	struct qvl_buddy_stats st;
	qvl_buddy_stats(&m->b, &st);
	QVL_CHECK_EQ(st.used, m->used);
	QVL_CHECK_EQ(st.requested, m->requested);
	QVL_CHECK_EQ(st.free, m->b.size - m->used);
	uint64_t free_bytes = 0;
	for (unsigned k = 0; k < QVL_BUDDY_ORDERS; k++)
		free_bytes += st.free_blocks[k] << (m->b.min_shift + k);
	QVL_CHECK_EQ(free_bytes, st.free);
	QVL_CHECK(st.frag_external >= 0 && st.frag_external < 1);
	QVL_CHECK(st.frag_internal >= 0 && st.frag_internal < 1);
}

static void try_alloc(struct model *m, uint64_t len)
{
	uint64_t off = UINT64_MAX, bsize = qvl_buddy_block_size(&m->b, len);
	int rc = qvl_buddy_alloc(&m->b, len, &off);
	if (!bsize) {
		QVL_CHECK_EQ(rc, -EINVAL);
		return;
	}
	QVL_CHECK(bsize >= len && !(bsize & (bsize - 1)));
	if (rc == -ENOSPC) {
		QVL_CHECK(!aligned_run_free(m, bsize));
		return;
	}
	QVL_CHECK_EQ(rc, 0);
	if (rc)
		return;
	QVL_CHECK_EQ(off % bsize, 0);
	QVL_CHECK(off + bsize <= m->b.size);
	uint64_t first = off >> m->b.min_shift, nb = bsize >> m->b.min_shift;
	unsigned overlap = 0;
	for (uint64_t i = first; i < first + nb; i++) {
		overlap += m->inuse[i];
		m->inuse[i] = 1;
	}
	QVL_CHECK_EQ(overlap, 0);
	m->l[m->n++] = (struct live){ off, len, bsize };
	m->used += bsize;
	m->requested += len;
}

static void free_one(struct model *m, unsigned k)
{
	struct live x = m->l[k];
	QVL_CHECK_EQ(qvl_buddy_free(&m->b, x.off), 0);
	uint64_t first = x.off >> m->b.min_shift, nb = x.bsize >> m->b.min_shift;
	memset(m->inuse + first, 0, nb);
	m->l[k] = m->l[--m->n];
	m->used -= x.bsize;
	m->requested -= x.len;
	/* freed twice, or in its middle: refused */
	QVL_CHECK_EQ(qvl_buddy_free(&m->b, x.off), -EINVAL);
	if (nb > 1)
		QVL_CHECK_EQ(qvl_buddy_free(&m->b, x.off + (x.bsize >> 1)),
			     -EINVAL);
}

static void run(uint64_t size, unsigned min_shift, uint64_t seed,
		unsigned steps)
{
	struct model *m = calloc(1, sizeof(*m));
	QVL_CHECK(m != NULL);
	QVL_CHECK_EQ(qvl_buddy_init(&m->b, size, min_shift), 0);
	m->inuse = calloc(m->b.nblocks, 1);
	struct qvl_buddy_stats st0;
	qvl_buddy_stats(&m->b, &st0);
	QVL_CHECK_EQ(st0.free, m->b.size);
	uint64_t s = seed;
	for (unsigned step = 0; step < steps; step++) {
		uint64_t r = rnd(&s);
		if (m->n && (m->n == MAXLIVE || r % 100 < 45)) {
			free_one(m, (unsigned)(rnd(&s) % m->n));
		} else {
			/* sizes from one byte to past the arena, most small */
			unsigned bits = (unsigned)(rnd(&s) % 64);
			uint64_t cap = bits >= 63 ? m->b.size * 2
						  : (m->b.size >> (bits % 8 + 1));
			try_alloc(m, 1 + rnd(&s) % (cap ? cap : 1));
		}
		check_counts(m);
	}
	while (m->n)
		free_one(m, m->n - 1);
	struct qvl_buddy_stats st;
	qvl_buddy_stats(&m->b, &st);
	QVL_CHECK_EQ(memcmp(st.free_blocks, st0.free_blocks,
			    sizeof(st.free_blocks)), 0);
	QVL_CHECK_EQ(st.largest_free, st0.largest_free);
	QVL_CHECK_EQ(st.used, 0);
	free(m->inuse);
	qvl_buddy_fini(&m->b);
	free(m);
}

static void t_power_of_two(void) { run(64ull << 20, 16, 1, 20000); }
static void t_odd_size(void) { run((3ull << 30) + (5ull << 16), 16, 7, 20000); }
static void t_tiny(void) { run(13 << 12, 12, 3, 5000); }

static void t_bad_input(void)
{
	struct qvl_buddy b;
	uint64_t off;
	QVL_CHECK_EQ(qvl_buddy_init(&b, 100, 12), -EINVAL); /* below a block */
	QVL_CHECK_EQ(qvl_buddy_init(&b, 1ull << 20, 2), -EINVAL);
	QVL_CHECK_EQ(qvl_buddy_init(&b, 1ull << 50, 6), -EINVAL); /* 2^44 */
	QVL_CHECK_EQ(qvl_buddy_init(&b, (1ull << 20) + 100, 12), 0);
	QVL_CHECK_EQ(b.size, 1ull << 20); /* rounded down to blocks */
	QVL_CHECK_EQ(qvl_buddy_alloc(&b, 0, &off), -EINVAL);
	QVL_CHECK_EQ(qvl_buddy_alloc(&b, (1ull << 20) + 1, &off), -EINVAL);
	QVL_CHECK_EQ(qvl_buddy_free(&b, 0), -EINVAL);	    /* nothing used */
	QVL_CHECK_EQ(qvl_buddy_free(&b, 1ull << 21), -EINVAL); /* outside */
	QVL_CHECK_EQ(qvl_buddy_alloc(&b, 1ull << 20, &off), 0);
	QVL_CHECK_EQ(off, 0);
	QVL_CHECK_EQ(qvl_buddy_alloc(&b, 1, &off), -ENOSPC);
	QVL_CHECK_EQ(qvl_buddy_free(&b, 100), -EINVAL); /* not a block start */
	QVL_CHECK_EQ(qvl_buddy_free(&b, 0), 0);
	qvl_buddy_fini(&b);
	qvl_buddy_fini(&b); /* twice: harmless */
}

int main(void)
{
	QVL_RUN(t_bad_input);
	QVL_RUN(t_tiny);
	QVL_RUN(t_power_of_two);
	QVL_RUN(t_odd_size);
	return QVL_TEST_EXIT();
}

/*
 * buddy.c - the buddy allocator of qvl_buddy.h.
 *
 * HOW IT WORKS.  The arena is counted in smallest blocks.  A block of order
 * k spans 2^k of them and starts at an index that is a multiple of 2^k;
 * its buddy is the block at index ^ 2^k.  Per smallest block there is a
 * state (none, or the head of a free or a used block) and the head's
 * order; free heads sit on one doubly linked list per order.  An
 * allocation takes the smallest free block large enough and splits it,
 * the upper halves going back to the lists; a free merges the block with
 * its buddy while the buddy is a free head of the same order, so a block
 * of order k exists whenever an aligned run of 2^k free smallest blocks
 * does (the property test checks that against a map).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qvl_buddy.h"

enum { BUDDY_NONE, BUDDY_FREE, BUDDY_USED };
#define NIL UINT32_MAX

static void push(struct qvl_buddy *b, uint32_t i, unsigned k)
{
	b->state[i] = BUDDY_FREE;
	b->order[i] = (uint8_t)k;
	b->prev[i] = NIL;
	b->next[i] = b->head[k];
	if (b->head[k] != NIL)
		b->prev[b->head[k]] = i;
	b->head[k] = i;
	b->nfree[k]++;
}

static void unlink_free(struct qvl_buddy *b, uint32_t i)
{
	unsigned k = b->order[i];
	if (b->prev[i] != NIL)
		b->next[b->prev[i]] = b->next[i];
	else
		b->head[k] = b->next[i];
	if (b->next[i] != NIL)
		b->prev[b->next[i]] = b->prev[i];
	b->state[i] = BUDDY_NONE;
	b->nfree[k]--;
}

int qvl_buddy_init(struct qvl_buddy *b, uint64_t size, unsigned min_shift)
{
	memset(b, 0, sizeof(*b));
	if (min_shift < 6 || min_shift > 40 || (size >> min_shift) == 0 ||
	    (size >> min_shift) >= NIL)
		return -EINVAL;
	uint32_t n = (uint32_t)(size >> min_shift);
	b->min_shift = min_shift;
	b->nblocks = n;
	b->size = (uint64_t)n << min_shift;
	while (b->max_order + 1 < QVL_BUDDY_ORDERS &&
	       ((uint64_t)1 << (b->max_order + 1)) <= n)
		b->max_order++;
	b->order = calloc(n, 1);
	b->state = calloc(n, 1);
	b->next = malloc(n * sizeof(*b->next));
	b->prev = malloc(n * sizeof(*b->prev));
	b->asked = calloc(n, sizeof(*b->asked));
	if (!b->order || !b->state || !b->next || !b->prev || !b->asked) {
		qvl_buddy_fini(b);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < QVL_BUDDY_ORDERS; k++)
		b->head[k] = NIL;
	/* Largest aligned blocks first: each starts at a multiple of its
	 * size, and the ones past a power of two never merge. */
	for (uint32_t i = 0; i < n;) {
		unsigned k = b->max_order;
		while (((uint64_t)i + ((uint64_t)1 << k) > n) ||
		       (i & (((uint32_t)1 << k) - 1)))
			k--;
		push(b, i, k);
		i += (uint32_t)1 << k;
	}
	return 0;
}

void qvl_buddy_fini(struct qvl_buddy *b)
{
	free(b->order);
	free(b->state);
	free(b->next);
	free(b->prev);
	free(b->asked);
	memset(b, 0, sizeof(*b));
}

/* The order a request of @len needs, or -1. */
static int order_for(const struct qvl_buddy *b, uint64_t len)
{
	if (!len || !b->nblocks)
		return -1;
	uint64_t blocks = ((len - 1) >> b->min_shift) + 1;
	unsigned k = 0;
	while (k <= b->max_order && ((uint64_t)1 << k) < blocks)
		k++;
	return k > b->max_order ? -1 : (int)k;
}

uint64_t qvl_buddy_block_size(const struct qvl_buddy *b, uint64_t len)
{
	int k = order_for(b, len);
	return k < 0 ? 0 : (uint64_t)1 << (b->min_shift + (unsigned)k);
}

int qvl_buddy_alloc(struct qvl_buddy *b, uint64_t len, uint64_t *off)
{
	int want = order_for(b, len);
	if (want < 0)
		return -EINVAL;
	unsigned j = (unsigned)want;
	while (j <= b->max_order && b->head[j] == NIL)
		j++;
	if (j > b->max_order)
		return -ENOSPC;
	uint32_t i = b->head[j];
	unlink_free(b, i);
	while (j > (unsigned)want) {
		j--;
		push(b, i + ((uint32_t)1 << j), j);
	}
	b->state[i] = BUDDY_USED;
	b->order[i] = (uint8_t)j;
	b->asked[i] = len;
	b->used += (uint64_t)1 << (b->min_shift + j);
	b->requested += len;
	*off = (uint64_t)i << b->min_shift;
	return 0;
}

int qvl_buddy_free(struct qvl_buddy *b, uint64_t off)
{
	if (!b->nblocks || off & (((uint64_t)1 << b->min_shift) - 1) ||
	    (off >> b->min_shift) >= b->nblocks)
		return -EINVAL;
	uint32_t i = (uint32_t)(off >> b->min_shift);
	if (b->state[i] != BUDDY_USED)
		return -EINVAL;
	unsigned k = b->order[i];
	b->used -= (uint64_t)1 << (b->min_shift + k);
	b->requested -= b->asked[i];
	b->asked[i] = 0;
	b->state[i] = BUDDY_NONE;
	while (k < b->max_order) {
		uint32_t buddy = i ^ ((uint32_t)1 << k);
		if ((uint64_t)buddy + ((uint64_t)1 << k) > b->nblocks ||
		    b->state[buddy] != BUDDY_FREE || b->order[buddy] != k)
			break;
		unlink_free(b, buddy);
		i = i < buddy ? i : buddy;
		k++;
	}
	push(b, i, k);
	return 0;
}

void qvl_buddy_stats(const struct qvl_buddy *b, struct qvl_buddy_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = b->size;
	st->used = b->used;
	st->requested = b->requested;
	st->free = b->size - b->used;
	st->min_shift = b->min_shift;
	st->max_order = b->max_order;
	for (unsigned k = 0; k < QVL_BUDDY_ORDERS; k++) {
		st->free_blocks[k] = b->nfree[k];
		if (b->nfree[k])
			st->largest_free = (uint64_t)1 << (b->min_shift + k);
	}
	st->frag_internal = b->used ? 1.0 - (double)b->requested / b->used : 0;
	st->frag_external =
		st->free ? 1.0 - (double)st->largest_free / st->free : 0;
}

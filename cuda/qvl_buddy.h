/*
 * qvl_buddy.h - a buddy allocator over an arena of offsets: the GPU tier
 * carves its one device allocation with it, so a tensor is one contiguous
 * block and a consumer gets one pointer.
 *
 * It keeps only bookkeeping (host memory): offsets in, offsets out, never
 * a pointer into the arena, so it builds and is tested without CUDA.  An
 * arena that is not a power of two is carved into the largest aligned
 * power-of-two blocks that fit, which are never merged with each other.
 * Not thread-safe: the caller's lock covers it.
 */
#ifndef QVL_BUDDY_H
#define QVL_BUDDY_H

#include <stdint.h>

#define QVL_BUDDY_ORDERS 40 /* block sizes: min << 0 .. min << 39 */

struct qvl_buddy {
	uint64_t size;	    /* bytes managed: a multiple of the smallest block */
	unsigned min_shift; /* the smallest block is 1 << min_shift bytes */
	unsigned max_order; /* the largest block is min << max_order */
	uint32_t nblocks;   /* smallest blocks in the arena */
	uint8_t *order;	    /* per smallest block: the order of a block head */
	uint8_t *state;	    /* per smallest block: BUDDY_NONE, _FREE, _USED */
	uint32_t *next, *prev; /* free lists, by head index */
	uint64_t *asked;    /* per used head: the bytes asked for */
	uint32_t head[QVL_BUDDY_ORDERS];
	uint64_t nfree[QVL_BUDDY_ORDERS];
	uint64_t used, requested; /* bytes in used blocks; bytes asked for */
};

struct qvl_buddy_stats {
	uint64_t size, used, requested, free, largest_free;
	uint64_t free_blocks[QVL_BUDDY_ORDERS]; /* by order */
	unsigned min_shift, max_order;
	double frag_internal; /* 1 - requested / used: rounding up to 2^k */
	double frag_external; /* 1 - largest_free / free: free but in pieces */
};

/*
 * qvl_buddy_init() - manage [0, @size) in blocks of at least 1 << @min_shift
 * bytes (@size is rounded down to that).  Returns 0, -EINVAL (a size below
 * one block, more blocks than 32 bits count, @min_shift outside 6..40), or
 * -ENOMEM.
 */
int qvl_buddy_init(struct qvl_buddy *b, uint64_t size, unsigned min_shift);

/* qvl_buddy_fini() - frees the bookkeeping; the struct may be inited again. */
void qvl_buddy_fini(struct qvl_buddy *b);

/*
 * qvl_buddy_alloc() - a block of at least @len bytes, aligned to its own
 * size (a power of two, at least the smallest block); *@off gets its
 * offset.  Returns 0, -EINVAL (@len 0 or larger than the largest block) or
 * -ENOSPC (no free block that large: some may be freed or evicted first).
 */
int qvl_buddy_alloc(struct qvl_buddy *b, uint64_t len, uint64_t *off);

/* qvl_buddy_free() - the block at @off, which qvl_buddy_alloc() returned;
 * merged with its free buddies.  -EINVAL when no used block starts there. */
int qvl_buddy_free(struct qvl_buddy *b, uint64_t off);

/* qvl_buddy_block_size() - what a request of @len takes: 0 if it cannot. */
uint64_t qvl_buddy_block_size(const struct qvl_buddy *b, uint64_t len);

void qvl_buddy_stats(const struct qvl_buddy *b, struct qvl_buddy_stats *st);

#endif /* QVL_BUDDY_H */

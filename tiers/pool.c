/*
 * pool.c - size-class memory pools for chunk data.
 *
 * HOW IT WORKS
 *
 * Each class hands out slots of one power-of-two size from arenas: large
 * anonymous mappings (MAP_NORESERVE, so address space costs nothing until
 * touched) cut into equal slots.  An arena keeps a stack of its free slot
 * indices; a class keeps its arenas on a list, those with free slots first.
 * An arena whose every slot is free is unmapped.
 *
 * Freed chunk-sized slots keep their pages up to a slack (1/32 of the
 * budget plus 8 MiB).  Small slots (the pieces frames in RAM are made of)
 * keep theirs while the budget's bytes in use (the page cache charged to
 * it included) plus every kept page stay within budget + slack: RAM that
 * moves between frames and chunks in a full budget is reused, not
 * faulted in again (measured: 28k madvise calls and 219k page faults in
 * five passes with a fixed cap on small slots, against 118 and 9k), and
 * frames given up to a growing page cache give their pages back.  The tier
 * manager frees and takes chunks all the time, and faulting a fresh chunk's
 * 256 pages back in costs more than clearing it (measured: with every freed
 * slot returned, page faults took a third of a streaming read's time, and
 * with an eighth of the budget kept, still a quarter).  Slots held stay
 * within the budget and slots kept within the slack; past the slack a freed
 * slot's pages go back to the kernel (MADV_DONTNEED).  A slot handed out is
 * always zero-filled: cleared if it kept its pages, zero already if not.
 *
 * To find a slot's arena on free, every live arena sits in one array sorted
 * by base address, searched by bisection.
 *
 * The budget counts slot bytes handed out (class size, not request size);
 * the gap between the two is reported as internal fragmentation, free slots
 * inside live arenas as external fragmentation.
 *
 * Locking: one mutex per pool protects everything below it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "qvl_tier.h"

#define POOL_MIN_SHIFT 12         /* 4 KiB */
#define POOL_ARENA_BYTES (64u << 20) /* 64 MiB of address space */
#define POOL_SMALL (64u << 10) /* below: a piece of a frame, not a chunk */

struct pool_arena {
	char *base;
	uint8_t *dirty; /* per slot: free but still holding old bytes */
	size_t bytes;
	unsigned cls;
	uint32_t nslots;
	uint32_t nfree;
	uint32_t *free_stack; /* indices of free slots, nfree of them */
	struct pool_arena *next, *prev; /* in the class list */
};

struct pool_class {
	size_t slot_size;
	struct pool_arena *arenas; /* those with free slots come first */
	uint64_t slots_used;
	uint64_t slots_total;
	uint64_t narenas;
};

struct qvl_pool {
	pthread_mutex_t lock;
	/* everything below: protected by lock */
	uint64_t budget;
	uint64_t used;
	uint64_t requested;
	uint64_t mapped;
	uint64_t alloc_failures;
	/* Bytes of free slots that kept their pages, small slots [1] and
	 * others [0], and how many of each we keep. */
	uint64_t dirty_free[2];
	uint64_t slack;
	unsigned nclasses;
	struct pool_class cls[QVL_POOL_MAX_CLASSES];
	struct pool_arena **sorted; /* live arenas by base address */
	size_t nsorted, capsorted;
};

/* Freed pages kept for reuse: RSS may pass the budget by this much. */
static uint64_t pool_slack(uint64_t budget)
{
	return budget / 32 + (8u << 20);
}

int qvl_pool_create(uint64_t budget, unsigned max_shift, struct qvl_pool **out)
{
	*out = NULL;
	if (max_shift < POOL_MIN_SHIFT ||
	    max_shift - POOL_MIN_SHIFT + 1 > QVL_POOL_MAX_CLASSES)
		return -EINVAL;
	struct qvl_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->budget = budget;
	p->slack = pool_slack(budget);
	p->nclasses = max_shift - POOL_MIN_SHIFT + 1;
	for (unsigned i = 0; i < p->nclasses; i++)
		p->cls[i].slot_size = (size_t)1 << (POOL_MIN_SHIFT + i);
	*out = p;
	return 0;
}

static void arena_unmap(struct pool_arena *a)
{
	munmap(a->base, a->bytes);
	free(a->free_stack);
	free(a->dirty);
	free(a);
}

void qvl_pool_destroy(struct qvl_pool *pool)
{
	if (!pool)
		return;
	for (size_t i = 0; i < pool->nsorted; i++)
		arena_unmap(pool->sorted[i]);
	free(pool->sorted);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

static int class_of(const struct qvl_pool *p, size_t size)
{
	for (unsigned i = 0; i < p->nclasses; i++)
		if (size <= p->cls[i].slot_size)
			return (int)i;
	return -1;
}

/* Index of the first arena whose base is above @addr. */
static size_t sorted_upper(const struct qvl_pool *p, const void *addr)
{
	size_t lo = 0, hi = p->nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((const char *)addr < p->sorted[mid]->base)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int sorted_insert(struct qvl_pool *p, struct pool_arena *a)
{
	if (p->nsorted == p->capsorted) {
		size_t cap = p->capsorted ? p->capsorted * 2 : 16;
		struct pool_arena **n = realloc(p->sorted, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		p->sorted = n;
		p->capsorted = cap;
	}
	size_t i = sorted_upper(p, a->base);
	memmove(&p->sorted[i + 1], &p->sorted[i],
		(p->nsorted - i) * sizeof(*p->sorted));
	p->sorted[i] = a;
	p->nsorted++;
	return 0;
}

static void sorted_remove(struct qvl_pool *p, struct pool_arena *a)
{
	size_t i = sorted_upper(p, a->base) - 1;
	memmove(&p->sorted[i], &p->sorted[i + 1],
		(p->nsorted - i - 1) * sizeof(*p->sorted));
	p->nsorted--;
}

static void list_unlink(struct pool_class *c, struct pool_arena *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		c->arenas = a->next;
	if (a->next)
		a->next->prev = a->prev;
	a->next = a->prev = NULL;
}

static void list_push_front(struct pool_class *c, struct pool_arena *a)
{
	a->prev = NULL;
	a->next = c->arenas;
	if (c->arenas)
		c->arenas->prev = a;
	c->arenas = a;
}

static void list_push_back(struct pool_class *c, struct pool_arena *a)
{
	struct pool_arena *t = c->arenas;
	if (!t) {
		list_push_front(c, a);
		return;
	}
	while (t->next)
		t = t->next;
	t->next = a;
	a->prev = t;
	a->next = NULL;
}

/*
 * An arena aligned to 2 MiB and, for chunk-sized slots, marked for
 * transparent huge pages: a chunk then costs one page fault instead of 256
 * the first time it is touched (measured: the first pass over a 256 MiB
 * budget took 65k faults).  Small slots are kept off huge pages: a huge
 * page whose pieces were freed one by one stays whole (the kernel splits
 * it lazily), so their pages would never leave RSS.
 */
static char *arena_map(size_t bytes, int huge_pages)
{
	const size_t huge = 2u << 20;
	char *p = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	char *base = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	if (base > p)
		munmap(p, (size_t)(base - p));
	size_t tail = (size_t)(p + bytes + huge - (base + bytes));
	if (tail)
		munmap(base + bytes, tail);
	/* Hints: fine if refused. */
	madvise(base, bytes, huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return base;
}

static struct pool_arena *arena_new(struct qvl_pool *p, unsigned cls)
{
	struct pool_class *c = &p->cls[cls];
	size_t bytes = c->slot_size > POOL_ARENA_BYTES ? c->slot_size
						       : POOL_ARENA_BYTES;
	struct pool_arena *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->bytes = bytes;
	a->cls = cls;
	a->nslots = (uint32_t)(bytes / c->slot_size);
	a->free_stack = malloc(a->nslots * sizeof(*a->free_stack));
	a->dirty = calloc(a->nslots, 1);
	a->base = arena_map(bytes, c->slot_size >= POOL_SMALL);
	if (!a->free_stack || !a->dirty || a->base == MAP_FAILED) {
		if (a->base != MAP_FAILED && a->base)
			munmap(a->base, bytes);
		free(a->free_stack);
		free(a->dirty);
		free(a);
		return NULL;
	}
	/* Hand out low addresses first: pop from the end of the stack. */
	for (uint32_t i = 0; i < a->nslots; i++)
		a->free_stack[i] = a->nslots - 1 - i;
	a->nfree = a->nslots;
	if (sorted_insert(p, a)) {
		arena_unmap(a);
		return NULL;
	}
	list_push_front(c, a);
	c->slots_total += a->nslots;
	c->narenas++;
	p->mapped += bytes;
	return a;
}

/* Take one slot of class @c, zero-filled when @zero; caller holds the lock
 * and checked the budget. */
static void *slot_take(struct qvl_pool *p, unsigned cls, int zero)
{
	struct pool_class *c = &p->cls[cls];
	struct pool_arena *a = c->arenas;
	if (!a || !a->nfree) {
		a = arena_new(p, cls);
		if (!a)
			return NULL;
	}
	uint32_t slot = a->free_stack[--a->nfree];
	if (!a->nfree) { /* full arenas go to the back */
		list_unlink(c, a);
		list_push_back(c, a);
	}
	c->slots_used++;
	p->used += c->slot_size;
	char *ptr = a->base + (size_t)slot * c->slot_size;
	if (a->dirty[slot]) {
		a->dirty[slot] = 0;
		p->dirty_free[c->slot_size < POOL_SMALL] -= c->slot_size;
		if (zero)
			memset(ptr, 0, c->slot_size);
	}
	return ptr;
}

static void slot_put(struct qvl_pool *p, void *ptr);

static int alloc_n(struct qvl_pool *pool, size_t size, size_t n, void **out,
		   int zero)
{
	int cls = size ? class_of(pool, size) : -1;
	if (cls < 0)
		return -EINVAL;
	size_t slot_size = pool->cls[cls].slot_size;
	size_t i;

	pthread_mutex_lock(&pool->lock);
	if (n > (pool->budget - pool->used) / slot_size ||
	    pool->used > pool->budget) {
		pool->alloc_failures++;
		pthread_mutex_unlock(&pool->lock);
		return -ENOSPC;
	}
	for (i = 0; i < n; i++) {
		out[i] = slot_take(pool, (unsigned)cls, zero);
		if (!out[i])
			goto out_undo;
	}
	pool->requested += n * size;
	pthread_mutex_unlock(&pool->lock);
	return 0;

out_undo:
	while (i--) {
		slot_put(pool, out[i]);
		out[i] = NULL;
	}
	pool->alloc_failures++;
	pthread_mutex_unlock(&pool->lock);
	return -ENOMEM;
}

int qvl_pool_alloc_n(struct qvl_pool *pool, size_t size, size_t n, void **out)
{
	return alloc_n(pool, size, n, out, 1);
}

int qvl_pool_alloc_n_raw(struct qvl_pool *pool, size_t size, size_t n,
			 void **out)
{
	return alloc_n(pool, size, n, out, 0);
}

int qvl_pool_alloc(struct qvl_pool *pool, size_t size, void **out)
{
	*out = NULL;
	return qvl_pool_alloc_n(pool, size, 1, out);
}

/* Return a slot; caller holds the lock. */
static void slot_put(struct qvl_pool *p, void *ptr)
{
	size_t i = sorted_upper(p, ptr);
	struct pool_arena *a = i ? p->sorted[i - 1] : NULL;
	if (!a || (char *)ptr >= a->base + a->bytes)
		return; /* not ours: a caller bug; leaking beats corrupting */
	struct pool_class *c = &p->cls[a->cls];
	uint32_t slot = (uint32_t)(((char *)ptr - a->base) / c->slot_size);
	/* Keep a freed slot's pages within the slack (see the top).  A slot
	 * that gives its pages back goes to the bottom of the free stack, so
	 * the slots that kept theirs are taken first: on top, they were taken
	 * again at once and the slack stayed stuck on old slots (measured:
	 * 557k minor faults in three passes over 768 MiB, against 4.5k in
	 * 0.2). */
	int small = c->slot_size < POOL_SMALL;
	uint64_t kept = p->dirty_free[0] + p->dirty_free[1] + c->slot_size;
	if (small ? p->used - c->slot_size + kept <= p->budget + p->slack
		  : p->dirty_free[0] + c->slot_size <= p->slack) {
		a->dirty[slot] = 1;
		p->dirty_free[small] += c->slot_size;
	} else {
		madvise(ptr, c->slot_size, MADV_DONTNEED);
		memmove(a->free_stack + 1, a->free_stack,
			a->nfree * sizeof(*a->free_stack));
		a->free_stack[0] = slot;
		a->nfree++;
		goto out_pushed;
	}
	a->free_stack[a->nfree++] = slot;
out_pushed:
	c->slots_used--;
	p->used -= c->slot_size;
	if (a->nfree == a->nslots) {
		for (uint32_t k = 0; k < a->nslots; k++)
			if (a->dirty[k])
				p->dirty_free[c->slot_size < POOL_SMALL] -=
					c->slot_size;
		list_unlink(c, a);
		sorted_remove(p, a);
		c->slots_total -= a->nslots;
		c->narenas--;
		p->mapped -= a->bytes;
		arena_unmap(a);
	} else if (a->nfree == 1) { /* was full: back to the front */
		list_unlink(c, a);
		list_push_front(c, a);
	}
}

void qvl_pool_free(struct qvl_pool *pool, void *ptr, size_t size)
{
	if (!ptr)
		return;
	pthread_mutex_lock(&pool->lock);
	slot_put(pool, ptr);
	pool->requested -= size;
	pthread_mutex_unlock(&pool->lock);
}

size_t qvl_pool_room(struct qvl_pool *pool, size_t size)
{
	int cls = size ? class_of(pool, size) : -1;
	if (cls < 0)
		return 0;
	pthread_mutex_lock(&pool->lock);
	uint64_t left = pool->budget > pool->used ? pool->budget - pool->used : 0;
	pthread_mutex_unlock(&pool->lock);
	return (size_t)(left / pool->cls[cls].slot_size);
}

uint64_t qvl_pool_budget(struct qvl_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	uint64_t b = pool->budget;
	pthread_mutex_unlock(&pool->lock);
	return b;
}

int64_t qvl_pool_avail(struct qvl_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	int64_t a = (int64_t)pool->budget - (int64_t)pool->used;
	pthread_mutex_unlock(&pool->lock);
	return a;
}

void qvl_pool_charge(struct qvl_pool *pool, int64_t delta)
{
	pthread_mutex_lock(&pool->lock);
	pool->used = (uint64_t)((int64_t)pool->used + delta);
	pthread_mutex_unlock(&pool->lock);
}

void qvl_pool_set_budget(struct qvl_pool *pool, uint64_t budget)
{
	pthread_mutex_lock(&pool->lock);
	pool->budget = budget;
	pool->slack = pool_slack(budget);
	pthread_mutex_unlock(&pool->lock);
}

void qvl_pool_get_stats(struct qvl_pool *pool, struct qvl_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&pool->lock);
	st->budget = pool->budget;
	st->used = pool->used;
	st->requested = pool->requested;
	st->mapped = pool->mapped;
	st->alloc_failures = pool->alloc_failures;
	st->nclasses = pool->nclasses;
	for (unsigned i = 0; i < pool->nclasses; i++) {
		st->cls[i].slot_size = pool->cls[i].slot_size;
		st->cls[i].slots_used = pool->cls[i].slots_used;
		st->cls[i].slots_total = pool->cls[i].slots_total;
		st->cls[i].arenas = pool->cls[i].narenas;
	}
	pthread_mutex_unlock(&pool->lock);
}

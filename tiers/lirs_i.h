/*
 * lirs_i.h - LIRS, the replacement policy of the compressed RAM tier.
 *
 * Why LIRS: the main workload is a loop over a model larger than RAM.
 * Any recency policy (LRU, CLOCK, ARC without loop detection) evicts each
 * block just before its reuse and hits nothing on such a loop; LIRS ranks
 * blocks by reuse distance instead of recency, keeps a stable set (the
 * LIR blocks) resident and lets the rest of the loop stream past in a small
 * queue, so a loop of L blocks in a cache of C hits about C/L of the time,
 * close to Belady's optimum.  It is also scan resistant (a one-time scan
 * only ever touches the small HIR queue) and does at least as well as LRU
 * on skewed (Zipf) reuse.  Jiang and Zhang, SIGMETRICS 2002.
 *
 * The policy is a pure data structure: nodes are embedded in the caller's
 * objects, it allocates nothing and takes no lock (the caller's lock covers
 * it), counts blocks rather than bytes, and never decides on its own that
 * something must go: the caller asks for victims when it needs room and may
 * skip any (held, pinned) before calling qvl_lirs_evict() on the one it
 * frees.
 */
#ifndef QVL_LIRS_I_H
#define QVL_LIRS_I_H

#include <stdint.h>

enum qvl_lirs_state {
	QVL_LIRS_NONE,  /* unknown to the policy */
	QVL_LIRS_LIR,   /* resident, in the stable set; always in the stack */
	QVL_LIRS_HIR,   /* resident, on the victim queue; maybe in the stack */
	QVL_LIRS_GHOST, /* not resident, remembered in the stack */
};

struct qvl_lirs_node {
	struct qvl_lirs_node *sprev, *snext; /* stack S, when in_s */
	struct qvl_lirs_node *qprev, *qnext; /* queue Q (HIR) or ghost list */
	uint8_t state; /* enum qvl_lirs_state */
	uint8_t in_s;
};

struct qvl_lirs {
	/* Sentinels: s.snext is the top of the stack (most recent), s.sprev
	 * its bottom; q.qnext is the oldest resident HIR block (the next
	 * victim); g.qnext the oldest ghost. */
	struct qvl_lirs_node s, q, g;
	uint64_t nlir, nhir, nghost;
	uint64_t lir_max;   /* the stable set's size; UINT64_MAX: not known */
	uint64_t ghost_max; /* ghosts remembered */
};

/* qvl_lirs_init() - an empty policy whose capacity is not yet known (every
 * block is LIR until qvl_lirs_set_capacity() is first called). */
void qvl_lirs_init(struct qvl_lirs *l);

/*
 * qvl_lirs_set_capacity() - the cache holds @nres blocks when full.  The
 * stable set takes all but a small share (1/32, at least one block), the
 * rest cycle through the queue; LIR blocks past the new size move to the
 * queue.  Call it when the cache is found full (the caller's budget is in
 * bytes, so its capacity in blocks moves with their sizes).
 */
void qvl_lirs_set_capacity(struct qvl_lirs *l, uint64_t nres);

/* qvl_lirs_access() - @n was referenced and is resident from now on (a hit
 * when it was LIR or HIR, a miss brought in otherwise). */
void qvl_lirs_access(struct qvl_lirs *l, struct qvl_lirs_node *n);

/*
 * qvl_lirs_next_victim() - victims in the order the policy prefers them:
 * @prev NULL gives the first, else the one after @prev.  Resident HIR
 * blocks come first (oldest first), then LIR blocks from the bottom of
 * the stack.  NULL at the end.  Nothing changes until qvl_lirs_evict().
 */
struct qvl_lirs_node *qvl_lirs_next_victim(struct qvl_lirs *l,
					   struct qvl_lirs_node *prev);

/* qvl_lirs_evict() - resident @n leaves the cache; it is remembered as a
 * ghost while its reuse could still make it LIR. */
void qvl_lirs_evict(struct qvl_lirs *l, struct qvl_lirs_node *n);

/* qvl_lirs_remove() - forget @n entirely (its object is being freed). */
void qvl_lirs_remove(struct qvl_lirs *l, struct qvl_lirs_node *n);

static inline int qvl_lirs_resident(const struct qvl_lirs_node *n)
{
	return n->state == QVL_LIRS_LIR || n->state == QVL_LIRS_HIR;
}

#endif /* QVL_LIRS_I_H */

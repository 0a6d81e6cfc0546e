/*
 * lirs.c - the LIRS replacement policy (see lirs_i.h for why).
 *
 * HOW IT WORKS
 *
 * The stack S holds blocks in order of their last reference, most recent
 * on top; its bottom is always a LIR block (pruning removes anything else
 * that sinks there).  A block's position in S therefore says whether its
 * last reuse distance was shorter than that of the least recently used LIR
 * block:
 *   - a reference to a HIR block that is still in S (resident or ghost)
 *     means its reuse distance beats the bottom LIR block's: it becomes
 *     LIR and that bottom block is demoted to the queue Q;
 *   - a reference to a HIR block no longer in S leaves it HIR (moved to
 *     the tail of Q, on top of S).
 * Victims come from the head of Q.  On a loop longer than the cache the
 * LIR blocks never leave and the rest streams through Q.  Ghosts (evicted
 * HIR blocks still in S) are bounded by ghost_max, oldest forgotten first,
 * so S stays proportional to the cache.
 */
#include <stddef.h>

#include "lirs_i.h"

static void s_unlink(struct qvl_lirs_node *n)
{
	n->sprev->snext = n->snext;
	n->snext->sprev = n->sprev;
	n->sprev = n->snext = NULL;
	n->in_s = 0;
}

static void s_push_top(struct qvl_lirs *l, struct qvl_lirs_node *n)
{
	if (n->in_s)
		s_unlink(n);
	n->sprev = &l->s;
	n->snext = l->s.snext;
	l->s.snext->sprev = n;
	l->s.snext = n;
	n->in_s = 1;
}

static void q_unlink(struct qvl_lirs_node *n)
{
	n->qprev->qnext = n->qnext;
	n->qnext->qprev = n->qprev;
	n->qprev = n->qnext = NULL;
}

static void q_push_tail(struct qvl_lirs_node *head, struct qvl_lirs_node *n)
{
	n->qnext = head;
	n->qprev = head->qprev;
	head->qprev->qnext = n;
	head->qprev = n;
}

void qvl_lirs_init(struct qvl_lirs *l)
{
	*l = (struct qvl_lirs){ .lir_max = UINT64_MAX, .ghost_max = UINT64_MAX };
	l->s.sprev = l->s.snext = &l->s;
	l->q.qprev = l->q.qnext = &l->q;
	l->g.qprev = l->g.qnext = &l->g;
}

static void forget_ghost(struct qvl_lirs *l, struct qvl_lirs_node *n)
{
	q_unlink(n);
	if (n->in_s)
		s_unlink(n);
	n->state = QVL_LIRS_NONE;
	l->nghost--;
}

/* Keep a LIR block at the bottom of S. */
static void prune(struct qvl_lirs *l)
{
	for (;;) {
		struct qvl_lirs_node *b = l->s.sprev;
		if (b == &l->s || b->state == QVL_LIRS_LIR)
			return;
		if (b->state == QVL_LIRS_GHOST)
			forget_ghost(l, b);
		else
			s_unlink(b); /* a resident HIR block stays on Q */
	}
}

/* The bottom LIR block becomes a resident HIR block at the tail of Q. */
static void demote_bottom(struct qvl_lirs *l)
{
	struct qvl_lirs_node *b = l->s.sprev;
	if (b == &l->s)
		return;
	s_unlink(b);
	b->state = QVL_LIRS_HIR;
	q_push_tail(&l->q, b);
	l->nlir--;
	l->nhir++;
	prune(l);
}

static void trim_ghosts(struct qvl_lirs *l)
{
	while (l->nghost > l->ghost_max)
		forget_ghost(l, l->g.qnext);
}

void qvl_lirs_set_capacity(struct qvl_lirs *l, uint64_t nres)
{
	uint64_t hir = nres / 32 ? nres / 32 : 1;
	l->lir_max = nres > hir ? nres - hir : 1;
	l->ghost_max = 2 * nres + 16;
	while (l->nlir > l->lir_max)
		demote_bottom(l);
	trim_ghosts(l);
}

void qvl_lirs_access(struct qvl_lirs *l, struct qvl_lirs_node *n)
{
	switch (n->state) {
	case QVL_LIRS_LIR: {
		int was_bottom = l->s.sprev == n;
		s_push_top(l, n);
		if (was_bottom)
			prune(l);
		return;
	}
	case QVL_LIRS_HIR:
		/* Reused from farther than any LIR block, and the stable set
		 * is full (below its size, any reuse joins it: that also
		 * keeps a LIR block at the bottom of S). */
		if (!n->in_s && l->nlir >= l->lir_max) {
			s_push_top(l, n);
			q_unlink(n);
			q_push_tail(&l->q, n);
			return;
		}
		q_unlink(n);
		l->nhir--;
		break;
	case QVL_LIRS_GHOST: /* reused from within S */
		q_unlink(n);
		l->nghost--;
		break;
	default: /* first reference, or forgotten */
		if (l->nlir < l->lir_max) {
			n->state = QVL_LIRS_LIR;
			l->nlir++;
		} else {
			n->state = QVL_LIRS_HIR;
			l->nhir++;
			q_push_tail(&l->q, n);
		}
		s_push_top(l, n);
		return;
	}
	/* A HIR block reused from within S: it joins the stable set. */
	n->state = QVL_LIRS_LIR;
	l->nlir++;
	s_push_top(l, n);
	while (l->nlir > l->lir_max)
		demote_bottom(l);
	prune(l);
}

struct qvl_lirs_node *qvl_lirs_next_victim(struct qvl_lirs *l,
					   struct qvl_lirs_node *prev)
{
	struct qvl_lirs_node *n;
	if (!prev || prev->state == QVL_LIRS_HIR) {
		n = prev ? prev->qnext : l->q.qnext;
		if (n != &l->q)
			return n;
		n = l->s.sprev; /* then LIR blocks, from the bottom up */
	} else {
		n = prev->sprev;
	}
	while (n != &l->s && n->state != QVL_LIRS_LIR)
		n = n->sprev;
	return n == &l->s ? NULL : n;
}

void qvl_lirs_evict(struct qvl_lirs *l, struct qvl_lirs_node *n)
{
	switch (n->state) {
	case QVL_LIRS_HIR:
		q_unlink(n);
		l->nhir--;
		if (n->in_s) {
			n->state = QVL_LIRS_GHOST;
			q_push_tail(&l->g, n);
			l->nghost++;
			trim_ghosts(l);
		} else {
			n->state = QVL_LIRS_NONE;
		}
		return;
	case QVL_LIRS_LIR: /* forced: nothing on Q could go */
		s_unlink(n);
		n->state = QVL_LIRS_NONE;
		l->nlir--;
		prune(l);
		return;
	default:
		return;
	}
}

void qvl_lirs_remove(struct qvl_lirs *l, struct qvl_lirs_node *n)
{
	switch (n->state) {
	case QVL_LIRS_HIR:
		q_unlink(n);
		l->nhir--;
		if (n->in_s)
			s_unlink(n);
		break;
	case QVL_LIRS_GHOST:
		forget_ghost(l, n);
		break;
	case QVL_LIRS_LIR:
		s_unlink(n);
		l->nlir--;
		prune(l);
		break;
	default:
		break;
	}
	n->state = QVL_LIRS_NONE;
}


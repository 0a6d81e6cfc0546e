/*
 * predict.c - predicted next use: which files will be read when, from the
 * successor table (succ.c) and what each file's last visit read.
 *
 * When a read starts a visit of a file (at its head, coming from another
 * file), the chain of most likely successors is walked from it: the file
 * itself is needed now, its successor after the bytes a visit of this one
 * reads, the next after those of both, and so on, until the chain ends,
 * repeats or is PRED_MAX files long.  A file whose next use lies further
 * than the RAM budget is "far": under the optimal policy (Belady's, evict
 * what is needed furthest in the future) its chunks leave first, for they
 * would be gone before their use anyway.  A file on the chain within the
 * budget is "near": its chunks leave last.  A file off the chain has no
 * prediction, and the policies (CLOCK, LIRS, the page cache's order)
 * choose among those as before.  On a loop of files larger than RAM this
 * is what the optimal policy does: the file read last is needed furthest
 * away and leaves first, so the files read before it stay for the next
 * pass, where CLOCK (like LRU) keeps exactly the wrong ones.
 *
 * What a visit reads is a file's own history: bytes read between two
 * starts of a visit (a reader that sums a third of each file makes each
 * file a third as long in the chain).  A file not visited twice yet counts
 * as its size.
 *
 * The chain is walked once and then followed: each file in it keeps its
 * place, and a later visit of one only moves "now" to it (distances are
 * taken from there, around the chain when it closes on itself, as a loop
 * does).  It is walked again from a file outside it, or when the reader
 * comes back to its start (once per pass of a loop: what was learned
 * meanwhile joins).  Walking it at every file cost a pass over 3,000
 * small files 40% more (1,024 hops each).  The chain is kept as inode
 * numbers and the blobs are asked for again when used (cfg.blob_of): a
 * file may go in between.  The tiers take far files from the far end
 * through cursors of their own (PRED_RAW, PRED_Z, PRED_PC), set back to
 * the far end each time room is made (a file passed over at one priority
 * may leave at the next), so making room costs each tier at most one pass
 * over the chain.
 */
#include <stdlib.h>

#include "tm_i.h"

#define PRED_MAX 1024 /* files in a chain */

struct tm_pred {
	uint64_t ino;
	uint64_t at; /* bytes read from the chain's start to its use */
};

static uint64_t visit_of(const struct qvl_blob *b)
{
	uint64_t v = b->visit_last ? b->visit_last : b->nmap * b->chunk;
	return v ? v : b->chunk;
}

static struct qvl_blob *blob_of(struct qvl_tm *tm, uint64_t ino)
{
	struct qvl_blob *b = tm->cfg.blob_of ? tm->cfg.blob_of(tm->cfg.arg, ino)
					     : NULL;
	return b && b->tm == tm ? b : NULL;
}

static int grow(struct qvl_tm *tm)
{
	unsigned cap = tm->pred_cap ? 2 * tm->pred_cap : 64;
	struct tm_pred *p = realloc(tm->pred, cap * sizeof(*p));
	if (!p)
		return 0;
	tm->pred = p;
	tm->pred_cap = cap;
	return 1;
}

/* @b is chain entry @i: still the same file. */
static int in_chain(const struct qvl_tm *tm, const struct qvl_blob *b)
{
	return tm->npred && b->pred_gen == tm->pred_gen &&
	       b->pred_idx < tm->npred && tm->pred[b->pred_idx].ino == b->ino;
}

static void walk(struct qvl_tm *tm, struct qvl_blob *b)
{
	struct qvl_blob *first = b;
	uint64_t at = 0;
	tm->pred_gen++;
	tm->npred = 0;
	tm->pred_loop = 0;
	while (b && b->pred_gen != tm->pred_gen && tm->npred < PRED_MAX) {
		if (tm->npred == tm->pred_cap && !grow(tm))
			break;
		b->pred_gen = tm->pred_gen;
		b->pred_idx = tm->npred;
		tm->pred[tm->npred++] = (struct tm_pred){ b->ino, at };
		at += visit_of(b);
		uint64_t next = qvl_tm_succ_best(tm, b->ino);
		b = next ? blob_of(tm, next) : NULL;
	}
	/* Closed on its start: a loop, whose far end is just behind "now". */
	if (b == first && tm->npred > 1) {
		tm->pred_loop = 1;
		tm->pred_len = at;
	}
	if (tm->npred < 2)
		tm->npred = 0; /* no file but this one: no say */
	tm->pred_now = 0;
}

void qvl_tm_pred_read(struct qvl_tm *tm, struct qvl_blob *b, uint64_t off,
		      size_t len)
{
	if (off < b->chunk && tm->last_ino != b->ino) {
		if (b->visit_acc)
			b->visit_last = b->visit_acc;
		b->visit_acc = 0;
		if (in_chain(tm, b) && b->pred_idx)
			tm->pred_now = b->pred_idx;
		else
			walk(tm, b);
		qvl_tm_pred_rewind(tm);
	}
	b->visit_acc += len;
}

/* Bytes read before chain entry @i is used again, from "now"; UINT64_MAX
 * when the chain does not say (before "now" on a chain that is no loop). */
static uint64_t dist(const struct qvl_tm *tm, unsigned i)
{
	uint64_t at = tm->pred[i].at, now = tm->pred[tm->pred_now].at;
	if (at >= now)
		return at - now;
	return tm->pred_loop ? tm->pred_len - now + at : UINT64_MAX;
}

int qvl_tm_pred_near(const struct qvl_tm *tm, const struct qvl_blob *b)
{
	return in_chain(tm, b) && dist(tm, b->pred_idx) < tm->pred_horizon;
}

/* The chain entry @k-th from the far end, if it is far; -1 if not. */
static long far_entry(const struct qvl_tm *tm, unsigned k)
{
	unsigned n = tm->npred, i;
	if (tm->pred_loop) {
		if (k + 1 >= n)
			return -1;
		i = (tm->pred_now + n - 1 - k) % n;
	} else {
		if (k >= n)
			return -1;
		i = n - 1 - k;
		if (i <= tm->pred_now)
			return -1;
	}
	return dist(tm, i) >= tm->pred_horizon ? (long)i : -1;
}

void qvl_tm_pred_rewind(struct qvl_tm *tm)
{
	tm->pred_horizon = qvl_pool_budget(tm->cfg.pool);
	for (unsigned i = 0; i < PRED_TIERS; i++) {
		tm->pred_cursor[i] = 0;
		tm->pred_idx[i] = 0;
	}
}

/* Whether @b has anything tier @t could take. */
static int holds(const struct qvl_blob *b, enum tm_pred_tier t)
{
	switch (t) {
	case PRED_RAW:
		return b->resident != 0;
	case PRED_Z:
		return b->zbytes != 0;
	default:
		return b->npc != 0;
	}
}

struct qvl_chunk *qvl_tm_pred_next(struct qvl_tm *tm, enum tm_pred_tier t,
				   int (*ok)(const struct qvl_tm *tm,
					     const struct qvl_chunk *c))
{
	long i;
	for (; tm->npred && (i = far_entry(tm, tm->pred_cursor[t])) >= 0;
	     tm->pred_cursor[t]++, tm->pred_idx[t] = 0) {
		struct qvl_blob *b = blob_of(tm, tm->pred[i].ino);
		if (!b || !in_chain(tm, b) || !holds(b, t))
			continue;
		while (tm->pred_idx[t] < b->nmap) {
			struct qvl_chunk *c = b->map[tm->pred_idx[t]++];
			if (c && ok(tm, c))
				return c;
		}
	}
	return NULL;
}

void qvl_tm_pred_free(struct qvl_tm *tm)
{
	free(tm->pred);
	tm->pred = NULL;
	tm->npred = tm->pred_cap = 0;
}

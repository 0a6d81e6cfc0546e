/*
 * succ.c - which file is read after which: the successor table behind the
 * cross-file prefetch (blob.c).
 *
 * A model is read layer by layer, in the same order every pass: the file
 * whose first chunk is read right after another one was being read is
 * that one's successor.  Each file keeps its SUCC_WAYS most frequent
 * successors with counts; a new one replaces the least counted.  The
 * table lives in memory under the caller's lock, is loaded from the
 * catalog at mount and written back (the entries that changed) with the
 * rows, so the first pass after a remount already prefetches.
 */
#include <errno.h>
#include <stdlib.h>

#include "tm_i.h"

#define SUCC_WAYS 4
#define SUCC_BUCKETS_MIN 256u

struct succ_entry {
	struct succ_entry *next;
	uint64_t ino;
	uint64_t succ[SUCC_WAYS];
	uint32_t count[SUCC_WAYS];
	uint8_t dirty; /* a count the catalog does not have yet */
};

struct qvl_succ {
	struct succ_entry **buckets;
	size_t nbuckets, n;
	size_t ndirty; /* entries with dirty set: a commit with none walks nothing */
};

static size_t bucket_of(const struct qvl_succ *s, uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 32) & (s->nbuckets - 1);
}

static struct succ_entry *find(const struct qvl_succ *s, uint64_t ino)
{
	if (!s || !s->nbuckets)
		return NULL;
	for (struct succ_entry *e = s->buckets[bucket_of(s, ino)]; e; e = e->next)
		if (e->ino == ino)
			return e;
	return NULL;
}

static int grow(struct qvl_succ *s)
{
	size_t nb = s->nbuckets ? s->nbuckets * 2 : SUCC_BUCKETS_MIN;
	struct succ_entry **nbk = calloc(nb, sizeof(*nbk));
	if (!nbk)
		return -ENOMEM;
	struct qvl_succ t = { nbk, nb, s->n, s->ndirty };
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (struct succ_entry *e = s->buckets[i], *nx; e; e = nx) {
			nx = e->next;
			size_t b = bucket_of(&t, e->ino);
			e->next = nbk[b];
			nbk[b] = e;
		}
	}
	free(s->buckets);
	*s = t;
	return 0;
}

static struct succ_entry *get(struct qvl_tm *tm, uint64_t ino)
{
	if (!tm->succ && !(tm->succ = calloc(1, sizeof(*tm->succ))))
		return NULL;
	struct qvl_succ *s = tm->succ;
	struct succ_entry *e = find(s, ino);
	if (e)
		return e;
	if (s->n >= s->nbuckets && grow(s))
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->ino = ino;
	size_t b = bucket_of(s, ino);
	e->next = s->buckets[b];
	s->buckets[b] = e;
	s->n++;
	return e;
}

static void set_dirty(struct qvl_succ *s, struct succ_entry *e, int dirty)
{
	if (e->dirty != dirty)
		s->ndirty += dirty ? 1 : (size_t)-1;
	e->dirty = (uint8_t)dirty;
}

/* Count @succ after @e's file: its way, or the least counted one. */
static void bump(struct qvl_succ *s, struct succ_entry *e, uint64_t succ,
		 uint32_t by)
{
	unsigned w = 0;
	for (unsigned i = 0; i < SUCC_WAYS; i++) {
		if (e->succ[i] == succ) {
			w = i;
			goto found;
		}
		if (e->count[i] < e->count[w])
			w = i;
	}
	e->succ[w] = succ;
	e->count[w] = 0;
found:
	e->count[w] = e->count[w] > UINT32_MAX - by ? UINT32_MAX
						    : e->count[w] + by;
	set_dirty(s, e, 1);
}

void qvl_tm_succ_note(struct qvl_tm *tm, uint64_t prev, uint64_t next)
{
	struct succ_entry *e = prev && prev != next ? get(tm, prev) : NULL;
	if (e)
		bump(tm->succ, e, next, 1);
}

void qvl_tm_succ_load(struct qvl_tm *tm, uint64_t ino, uint64_t succ,
		      uint32_t count)
{
	struct succ_entry *e = ino && succ && ino != succ ? get(tm, ino) : NULL;
	if (e) {
		bump(tm->succ, e, succ, count);
		set_dirty(tm->succ, e, 0); /* the catalog has it */
	}
}

uint64_t qvl_tm_succ_best(const struct qvl_tm *tm, uint64_t ino)
{
	const struct succ_entry *e = find(tm->succ, ino);
	uint64_t total = 0, best = 0;
	uint32_t bc = 0;
	if (!e)
		return 0;
	for (unsigned i = 0; i < SUCC_WAYS; i++) {
		total += e->count[i];
		if (e->succ[i] && e->count[i] > bc) {
			bc = e->count[i];
			best = e->succ[i];
		}
	}
	/* A successor seen at least half the time is worth the fetch. */
	return bc && 2 * (uint64_t)bc >= total ? best : 0;
}

int qvl_tm_succ_save(struct qvl_tm *tm,
		     int (*put)(void *arg, uint64_t ino, uint64_t succ,
				uint32_t count),
		     void *arg)
{
	struct qvl_succ *s = tm->succ;
	/* Every commit calls this (an fsync too): nothing to walk when
	 * nothing was learned since the last one. */
	for (size_t i = 0; s && s->ndirty && i < s->nbuckets; i++) {
		for (struct succ_entry *e = s->buckets[i]; e; e = e->next) {
			if (!e->dirty)
				continue;
			for (unsigned w = 0; w < SUCC_WAYS; w++) {
				if (!e->succ[w])
					continue;
				int rc = put(arg, e->ino, e->succ[w],
					     e->count[w]);
				if (rc)
					return rc;
			}
			set_dirty(s, e, 0);
		}
	}
	return 0;
}

uint64_t qvl_tm_succ_entries(const struct qvl_tm *tm)
{
	return tm->succ ? tm->succ->n : 0;
}

void qvl_tm_succ_free(struct qvl_tm *tm)
{
	struct qvl_succ *s = tm->succ;
	for (size_t i = 0; s && i < s->nbuckets; i++) {
		for (struct succ_entry *e = s->buckets[i], *nx; e; e = nx) {
			nx = e->next;
			free(e);
		}
	}
	if (s)
		free(s->buckets);
	free(s);
	tm->succ = NULL;
}

struct qvl_blob *qvl_tm_succ_blob(struct qvl_tm *tm, const struct qvl_blob *b)
{
	uint64_t ino = qvl_tm_succ_best(tm, b->ino);
	struct qvl_blob *n = ino && tm->cfg.blob_of ?
				     tm->cfg.blob_of(tm->cfg.arg, ino) : NULL;
	if (!n || n == b || n->tm != tm || !n->nmap ||
	    (n->flags & QVL_BLOB_RANDOM))
		return NULL;
	return n;
}

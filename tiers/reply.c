/*
 * reply.c - READ replies straight from chunk memory.
 *
 * HOW IT WORKS
 *
 * A READ used to copy its bytes out of the chunks into a buffer, under the
 * filesystem's lock, and reply from the buffer: one more pass over every
 * byte read (9% of the daemon's CPU on a streaming loop) and that time
 * under the lock.  Now the reply's iovec points into the chunks, and the
 * kernel copies from there (fuse_reply_iov: one writev, done when it
 * returns).
 *
 * For that while, a chunk is pinned (c->pins): eviction passes it by.
 * What cannot pass it by -- a truncate, a punch, the file's last unlink,
 * a volatile drop -- frees the chunk as always, but its memory goes to
 * the grave instead of back to the pool, with the chunk's pin count; the
 * last unpin frees it there.  A slot is never handed to another chunk
 * (another file's bytes) while a reply still reads it.  An unpin tells
 * the two cases apart by the memory's address: while it is pinned it is
 * either still its chunk's (the chunk is alive: freeing a chunk frees its
 * memory first) or in the grave.
 *
 * Everything here runs under the caller's lock.
 */
#include <stdlib.h>
#include <string.h>

#include "tm_i.h"

struct tm_grave {
	struct tm_grave *next;
	void *ram;
	uint32_t pins;
};

/* Add [@p, @p + @n) to @r's iovec, joining the last piece when it ends
 * where this one starts.  Returns 0, or -1 when a new piece is needed and
 * only the spare one is left (@spare 0: take the spare too). */
static int iov_add(struct qvl_reply *r, void *p, size_t n, int spare)
{
	struct iovec *last = r->n ? &r->iov[r->n - 1] : NULL;
	if (last && (char *)last->iov_base + last->iov_len == (char *)p) {
		last->iov_len += n;
		return 0;
	}
	if (r->n + (unsigned)spare >= QVL_REPLY_MAX)
		return -1;
	r->iov[r->n++] = (struct iovec){ .iov_base = p, .iov_len = n };
	return 0;
}

void qvl_reply_buf(struct qvl_reply *r, char *dst, size_t n)
{
	/* Cannot fail: chunk pieces leave the last entry spare, and once
	 * it is taken everything after is copied next to it in the buffer. */
	if (r)
		(void)iov_add(r, dst, n, 0);
}

/* Chunks all replies may pin at once: an eighth of the budget.  A pinned
 * chunk cannot leave RAM nor its page cache be dropped, so with no bound
 * four readers of 1 MiB held a 4 MiB budget whole and writes met ENOSPC
 * (measured: fsx.sh at ram=4M, 64 KiB chunks); past it, replies copy. */
static int may_pin(const struct qvl_tm *tm, size_t chunk)
{
	return (tm->pinned + 1) * chunk <= qvl_pool_budget(tm->cfg.pool) / 8;
}

void qvl_reply_take(struct qvl_reply *r, char *dst, struct qvl_chunk *c,
		    size_t in, size_t n)
{
	char *src = (char *)c->ram + in;
	struct qvl_tm *tm = c->blob->tm;
	if (r && r->npin < QVL_REPLY_MAX && c->pins < UINT16_MAX &&
	    may_pin(tm, c->blob->chunk) && !iov_add(r, src, n, 1)) {
		c->pins++;
		tm->pinned++;
		tm->st.reply_pinned_bytes += n;
		r->pin[r->npin] = c;
		r->ram[r->npin++] = c->ram;
		return;
	}
	memcpy(dst, src, n);
	qvl_reply_buf(r, dst, n);
}

void qvl_tm_grave_add(struct qvl_tm *tm, void *ram, uint32_t pins)
{
	struct tm_grave *g = malloc(sizeof(*g));
	if (!g)
		return; /* the slot stays taken for good: leaked, never reused */
	*g = (struct tm_grave){ .next = tm->grave, .ram = ram, .pins = pins };
	tm->grave = g;
	tm->st.reply_graves++;
}

/* Unpin memory @ram: in the grave (freed with its last pin), else still
 * @c's.  Returns 1 when it was in the grave. */
static int grave_unpin(struct qvl_tm *tm, void *ram)
{
	for (struct tm_grave **p = &tm->grave; *p; p = &(*p)->next) {
		struct tm_grave *g = *p;
		if (g->ram != ram)
			continue;
		if (!--g->pins) {
			*p = g->next;
			qvl_pool_free(tm->cfg.pool, ram,
				      (size_t)1 << tm->cfg.chunk_shift);
			free(g);
		}
		return 1;
	}
	return 0;
}

void qvl_tm_unpin(struct qvl_tm *tm, struct qvl_chunk *c, void *ram)
{
	if (!tm->grave || !grave_unpin(tm, ram))
		c->pins--;
}

void qvl_tm_reply_done(struct qvl_tm *tm, struct qvl_reply *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->npin; i++)
		qvl_tm_unpin(tm, r->pin[i], r->ram[i]);
	tm->pinned -= r->npin;
	r->npin = 0;
	r->n = 0;
}

void qvl_tm_grave_free(struct qvl_tm *tm)
{
	while (tm->grave) { /* only after a reply that never finished */
		struct tm_grave *g = tm->grave;
		tm->grave = g->next;
		qvl_pool_free(tm->cfg.pool, g->ram,
			      (size_t)1 << tm->cfg.chunk_shift);
		free(g);
	}
}

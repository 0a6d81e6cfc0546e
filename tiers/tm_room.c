/*
 * tm_room.c - how the RAM budget is split, and who leaves RAM.
 *
 * HOW IT WORKS
 *
 * One budget (the pool's) pays for three forms of a chunk in RAM:
 *
 *   raw      a decoded chunk in a pool slot: what reads copy from and
 *            writes go to.  On the clock ring.
 *   page     the bytes the kernel's page cache holds because we replied
 *   cache    with them (or they were written through it).  We cannot see
 *            the kernel's hits, only what we handed it; that is charged to
 *            the pool (qvl_pool_charge) and kept on a list in the order
 *            handed (its order of leaving is below), and dropping
 *            it (fuse_lowlevel_notify_inval_inode, through the evicted
 *            callback) gives the charge back.  Without this the same bytes
 *            are paid twice: once in the daemon, once in the page cache.
 *   z        a copy of the chunk's current disk frame (compressed, 0.66
 *            of a bf16 chunk) in pool pieces, under LIRS.  A read of a
 *            chunk that is only here decodes from RAM: no disk.
 *
 * The raw side (daemon raw + page cache) and z compete for the budget.
 * Daemon raw keeps a small share (raw_keep: enough for reads in flight,
 * readahead and writes being gathered); past it, raw chunks leave first,
 * their data being in the page cache or z anyway -- except a chunk a
 * reader is part way through (handed to the page cache short of its end):
 * the part not read yet is in neither, so the page cache leaves first.
 * The page cache may use up to raw_target; z gets the rest.  raw_target
 * adapts as ARC's p does, from ghost hits: a read that misses the raw side
 * for a chunk that left it less than raw_target bytes of departures ago would
 * have hit with a larger raw side (raw_target grows by a chunk); a disk fetch
 * of a chunk that left z less than zbytes of departures ago would have hit
 * with a larger z (raw_target shrinks by a chunk); in loop mode a long reuse
 * (below) grows it by PC_GROW chunks.  It starts at its ceiling: on a loop
 * larger than RAM the page cache in loop order keeps part of the loop for the
 * kernel to hit (free for us), where frames would cost a decode per hit; on a
 * hot set that fits, the page cache keeps it raw and serves it without us;
 * frames fill what the page cache does not use.
 *
 * Which page cache leaves first.  We see only what the kernel misses: its
 * hits never reach us.  A chunk handed out a second time tells us how far
 * apart (in bytes handed) its two uses were.  Nearer than raw_target, a
 * recency order would have kept it ("short"); farther, no recency order of
 * this size can (a loop larger than RAM: "long").  While long reuses
 * dominate, the page cache runs in loop mode: the newest chunk past a
 * guard (what the reader is still consuming) leaves first, so what stayed
 * from an earlier pass stays and is hit by the kernel on every pass, at
 * no cost to us -- the optimal policy on a loop keeps a fixed part of it.
 * Every PC_ROTATE-th drop takes the oldest instead, so a set that is no
 * longer read does not stay forever (we cannot see that it is not).  In
 * loop mode a long reuse also grows raw_target (the page cache is then
 * worth more per byte than z: its hits cost no decode).  Otherwise the
 * oldest leaves first.
 *
 * A raw chunk that leaves RAM dirty is written to the store (encoded,
 * checksummed, copy-on-write) and its fresh frame is kept in z when it
 * compresses (below 0.9 of a chunk: an incompressible frame in RAM would
 * cost as much as the raw chunk and save nothing); a chunk fetched from
 * disk keeps the frame it was read from the same way.
 */
#include <errno.h>
#include <stddef.h>

#include "tm_i.h"

/* Loop mode (see HOW IT WORKS): on at this score, off at 0 or below; a
 * long reuse adds 1, a short one takes 2 (recency is the safe default). */
#define PC_LOOP_ON 4
#define PC_SCORE_MAX 32
#define PC_SCORE_MIN (-16)
#define PC_ROTATE 64 /* every 64th loop-mode drop takes the oldest */
#define PC_GROW 4    /* chunks raw_target grows by on a long reuse (loop) */
#define PC_GUARD 32   /* at most: chunks handed this recently are being read */

static size_t chunk_size(const struct qvl_tm *tm)
{
	return (size_t)1 << tm->cfg.chunk_shift;
}

/* Limits of the split, from the budget as it is now.  The raw side starts
 * at its floor: its hits are the kernel's and cost us nothing to lose to
 * a smaller page cache when the frames behind it are in RAM (a decode),
 * while every byte it holds keeps 1.5 bytes of frames out of RAM.  Ghost
 * hits grow it when a working set wants it raw. */
static void room_limits(struct qvl_tm *tm)
{
	uint64_t budget = qvl_pool_budget(tm->cfg.pool);
	uint64_t chunk = chunk_size(tm);
	uint64_t keep = TM_BATCH * chunk;
	if (keep < budget / 32)
		keep = budget / 32;
	if (keep > budget / 4)
		keep = budget / 4;
	tm->raw_keep = keep;
	tm->raw_min = keep + TM_BATCH * chunk;
	if (tm->raw_min > budget / 2)
		tm->raw_min = budget / 2;
	tm->raw_max = budget - budget / 16;
	if (!tm->raw_target || tm->raw_target < tm->raw_min)
		tm->raw_target = tm->raw_min;
	if (tm->raw_target > tm->raw_max)
		tm->raw_target = tm->raw_max;
}

void qvl_tm_room_init(struct qvl_tm *tm)
{
	qvl_lirs_init(&tm->lirs);
	tm->zpiece = qvl_zram_piece(chunk_size(tm));
	tm->ra_win = 2; /* grows as readahead is used: no burst at start */
	tm->prio_cap = 9;
	/* Until reuse says otherwise, the page cache keeps the first of what
	 * it is given, and takes the room: the mount's main job is a loop
	 * over weights larger than RAM, where a kept chunk is a kernel hit on
	 * every pass at no cost to us (measured, 2 GiB loop in 864 MiB: 0.86
	 * GB/s from the third pass on against 0.70 with the room given to
	 * frames, which cost a decode per hit), and a second pass that still
	 * had to grow into it ran no faster than before. */
	tm->pc_score = PC_LOOP_ON;
	tm->pc_loop = 1;
	tm->raw_target = UINT64_MAX;
	room_limits(tm);
}

static void ra_grow(struct qvl_tm *tm)
{
	if (tm->ra_win < TM_BATCH - 1)
		tm->ra_win++;
}

void qvl_tm_ra_used(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (!c->ra)
		return;
	if (c->ra == RA_NEXT)
		tm->st.pf_used++;
	else
		ra_grow(tm);
	c->ra = 0;
}

void qvl_tm_ra_calm(struct qvl_tm *tm, unsigned fetched)
{
	tm->ra_calm += fetched;
	if (tm->ra_calm >= 4 * TM_BATCH) {
		tm->ra_calm = 0;
		ra_grow(tm);
	}
}

static int may_leave_ram(const struct qvl_tm *tm, const struct qvl_chunk *c)
{
	uint32_t f = c->blob->flags;
	if (c->hold || c->pins || (f & QVL_BLOB_PINNED) ||
	    c->blob->priority > tm->prio_cap)
		return 0; /* pins: a reply reads its memory right now */
	if (f & QVL_BLOB_DROPPABLE)
		return 1;
	if (f & QVL_BLOB_NO_STORE)
		return 0; /* session data lives and dies in RAM */
	return tm->cfg.nvme != NULL;
}

/* A chunk a reader is part way through: handed to the page cache up to
 * some point short of its end (not the file's last chunk, which may end
 * there).  A sequential reader's next READ wants the rest of it (the
 * kernel's readahead windows do not keep to chunk bounds), and 64 streams
 * in 64 chunks of RAM fetched each such chunk twice when it left between
 * two READs. */
static int partly_read(const struct qvl_chunk *c)
{
	return c->pc_bytes && c->pc_bytes < c->blob->chunk &&
	       c->idx + 1 < c->blob->nmap;
}

static int raw_may_go(const struct qvl_tm *tm, const struct qvl_chunk *c)
{
	return c->ram && may_leave_ram(tm, c) &&
	       !(tm->spent_only && partly_read(c)) &&
	       !(tm->clean_only && c->dirty &&
		 !(c->blob->flags & QVL_BLOB_DROPPABLE));
}

/* Up to @max raw victims; returns how many.  First those of files
 * predicted to be read only after more than RAM holds, furthest first
 * (predict.c); then by CLOCK, passing over chunks of files predicted to
 * be read soon while others can go (for a while: a ring of nothing else
 * is not swept twice for each batch).  @clean_only: the store is full, so
 * only chunks that need no write may go. */
static unsigned pick_victims(struct qvl_tm *tm, struct qvl_chunk **v,
			     unsigned max, int clean_only)
{
	struct qvl_chunk *spare[TM_BATCH], *c;
	unsigned n = 0, nspare = 0, patience = 64 + 4 * max;
	tm->clean_only = (uint8_t)clean_only;
	while (n < max && (c = qvl_tm_pred_next(tm, PRED_RAW, raw_may_go))) {
		c->hold = 1;
		v[n++] = c;
		tm->st.pred_evicted++;
	}
	/* Two sweeps: the first may only clear reference bits. */
	for (uint64_t steps = 2 * tm->nring + 1; n < max && steps && tm->hand;
	     steps--) {
		c = tm->hand;
		tm->hand = c->next;
		if (!raw_may_go(tm, c))
			continue;
		if (c->ref) {
			c->ref = 0;
			continue;
		}
		c->hold = 1;
		if (patience && qvl_tm_pred_near(tm, c->blob) && nspare < max) {
			patience--;
			spare[nspare++] = c;
			continue;
		}
		v[n++] = c;
	}
	for (unsigned i = 0; i < nspare; i++) {
		if (n < max)
			v[n++] = spare[i];
		else
			spare[i]->hold = 0;
	}
	return n;
}

void qvl_tm_leave_ram(struct qvl_tm *tm, struct qvl_chunk *c)
{
	struct qvl_blob *b = c->blob;
	if ((b->flags & QVL_BLOB_DROPPABLE) && (c->dirty || !c->disk_len)) {
		c->lost = 1; /* volatile: never written to the store */
		tm->st.dropped++;
		qvl_tm_pc_drop(tm, c); /* the kernel must not serve it either */
	}
	if (c->ra == RA_NEXT) { /* a prediction that did not come true */
		c->ra = 0;
		tm->st.pf_wasted++;
	} else if (c->ra) { /* fetched ahead for nothing: read less ahead */
		c->ra = 0;
		tm->st.ra_wasted++;
		tm->ra_win /= 2;
		tm->ra_calm = 0;
	}
	c->hold = 0;
	qvl_blob_ram_free(b, c);
	if (!c->pc_bytes)
		c->raw_gone = tm->raw_gone += b->chunk;
	tm->st.evicted++;
}

/* One batch of raw victims out of RAM, dirty ones written first (their
 * frames kept in z); @spent: none that a reader is part way through.
 * Returns chunks freed, or a negative errno. */
static int evict_raw(struct qvl_tm *tm, uint64_t need, int *store_full,
		     int spent)
{
	struct qvl_chunk *v[TM_BATCH], *w[TM_BATCH];
	uint64_t want = (need + chunk_size(tm) - 1) / chunk_size(tm);
	tm->spent_only = (uint8_t)spent;
	unsigned n = pick_victims(tm, v, want && want < TM_BATCH ? (unsigned)want
							  : TM_BATCH,
				  *store_full);
	tm->spent_only = 0;
	if (!n)
		return 0;
	unsigned nw = 0, freed = 0;
	for (unsigned i = 0; i < n; i++)
		if (qvl_tm_to_write(v[i]))
			w[nw++] = v[i];
	/* The bounce buffers hold the frames until they are kept below.
	 * Clean victims need neither: no wait for a batch in flight. */
	if (nw)
		pthread_mutex_lock(&tm->work);
	int rc = nw ? qvl_tm_write_frames(tm, w, nw) : 0;
	for (unsigned i = 0; i < n; i++) {
		if (!v[i]->dirty || (v[i]->blob->flags & QVL_BLOB_DROPPABLE)) {
			qvl_tm_leave_ram(tm, v[i]);
			freed++;
		} else {
			v[i]->hold = 0; /* its write failed: stays */
		}
	}
	/* The frames just written are still in the bounce buffers. */
	for (unsigned i = 0; i < nw; i++)
		if (!w[i]->dirty && w[i]->disk_len)
			qvl_tm_z_keep(tm, w[i],
				      (char *)tm->bounce + (size_t)i * tm->slot_size,
				      w[i]->disk_len);
	if (nw) { /* a writer coded in its own request: the mover is behind */
		pthread_mutex_unlock(&tm->work);
		qvl_tm_mover_kick(tm);
	}
	/* A full store: clean chunks elsewhere on the clock may still
	 * leave RAM. */
	if (rc == -ENOSPC)
		*store_full = 1;
	else if (rc && !freed)
		return rc;
	return (int)freed + (rc == -ENOSPC && !freed);
}

static struct qvl_chunk *pol_chunk(struct qvl_lirs_node *n)
{
	return (struct qvl_chunk *)((char *)n - offsetof(struct qvl_chunk, pol));
}

static uint64_t z_cost(const struct qvl_tm *tm, uint32_t len)
{
	return (uint64_t)((len + tm->zpiece - 1) / tm->zpiece) * tm->zpiece;
}

static void z_free(struct qvl_tm *tm, struct qvl_chunk *c)
{
	uint64_t cost = (uint64_t)c->z->npieces * tm->zpiece;
	qvl_zram_free(tm->cfg.pool, tm->zpiece, c->z);
	c->z = NULL;
	tm->nz--;
	tm->zbytes -= cost;
	c->blob->zbytes -= cost;
	c->z_gone = tm->z_gone += cost;
}

/* The compressed tier's victim, by LIRS: from the victim queue only, or
 * (@lir_too) from the stable set when the queue is empty.  Returns 1 if
 * one left. */
static int z_may_go(const struct qvl_tm *tm, const struct qvl_chunk *c)
{
	return c->z && !c->hold && c->blob->priority <= tm->prio_cap;
}

static int evict_z(struct qvl_tm *tm, int lir_too)
{
	if (!tm->nz)
		return 0;
	/* A frame of a file read only after more than RAM holds first. */
	struct qvl_chunk *far = qvl_tm_pred_next(tm, PRED_Z, z_may_go);
	if (far) {
		qvl_tm_z_drop(tm, far);
		tm->st.z_evicted++;
		tm->st.pred_evicted++;
		return 1;
	}
	/* The tier is full now: its size in frames is its capacity. */
	qvl_lirs_set_capacity(&tm->lirs, tm->nz);
	for (struct qvl_lirs_node *n = qvl_lirs_next_victim(&tm->lirs, NULL); n;
	     n = qvl_lirs_next_victim(&tm->lirs, n)) {
		struct qvl_chunk *c = pol_chunk(n);
		if (c->pol.state == QVL_LIRS_LIR && !lir_too)
			return 0;
		if (!z_may_go(tm, c))
			continue;
		qvl_tm_z_drop(tm, c);
		tm->st.z_evicted++;
		return 1;
	}
	return 0;
}

static void pc_unlink(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (c->pcprev)
		c->pcprev->pcnext = c->pcnext;
	else
		tm->pc_first = c->pcnext;
	if (c->pcnext)
		c->pcnext->pcprev = c->pcprev;
	else
		tm->pc_last = c->pcprev;
	c->pcprev = c->pcnext = NULL;
	c->blob->npc--;
	qvl_pool_charge(tm->cfg.pool, -(int64_t)c->pc_bytes);
	tm->pc_bytes -= c->pc_bytes;
	c->pc_bytes = 0;
}

/* @c is handed to the page cache again: what kind of reuse was it? */
static void pc_reuse(struct qvl_tm *tm, struct qvl_chunk *c)
{
	uint64_t chunk = chunk_size(tm);
	if (!c->pc_at)
		return;
	if (tm->pc_clock - c->pc_at < tm->raw_target) {
		tm->st.pc_short_reuse++;
		tm->pc_score -= 2;
		if (tm->pc_score < PC_SCORE_MIN)
			tm->pc_score = PC_SCORE_MIN;
		if (tm->pc_score <= 0)
			tm->pc_loop = 0;
		return;
	}
	tm->st.pc_long_reuse++;
	if (tm->pc_score < PC_SCORE_MAX)
		tm->pc_score++;
	if (tm->pc_score >= PC_LOOP_ON)
		tm->pc_loop = 1;
	/* Grown fast: every chunk the page cache keeps is hit by the
	 * kernel on each pass, and a pass spent growing is a pass of misses
	 * (measured: the pass after the first ran at 0.66-0.72 of the next
	 * ones growing by a chunk at a time). */
	if (tm->pc_loop)
		tm->raw_target = tm->raw_target + PC_GROW * chunk <= tm->raw_max
					 ? tm->raw_target + PC_GROW * chunk
					 : tm->raw_max;
}

void qvl_tm_pc_note(struct qvl_tm *tm, struct qvl_chunk *c, size_t end)
{
	end = (end + 4095) & ~(size_t)4095;
	if (end > c->blob->chunk)
		end = c->blob->chunk;
	if (end <= c->pc_bytes)
		return;
	if (!c->pc_bytes) {
		pc_reuse(tm, c);
		/* In loop mode what the page cache holds it keeps for a pass:
		 * a frame of it in RAM would be a second copy, and the room it
		 * takes is better left to frames of chunks not read yet
		 * (measured: growing the page cache evicted those instead, and
		 * the pass after the first hit 18 frames of 2064, not 977). */
		if (tm->pc_loop)
			qvl_tm_z_drop(tm, c);
		c->pc_at = tm->pc_clock += c->blob->chunk;
		c->pcprev = tm->pc_last;
		c->pcnext = NULL;
		if (tm->pc_last)
			tm->pc_last->pcnext = c;
		else
			tm->pc_first = c;
		tm->pc_last = c;
		c->blob->npc++;
	}
	qvl_pool_charge(tm->cfg.pool, (int64_t)(end - c->pc_bytes));
	tm->pc_bytes += end - c->pc_bytes;
	c->pc_bytes = (uint32_t)end;
}

void qvl_tm_pc_drop(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (!c->pc_bytes)
		return;
	uint64_t len = c->pc_bytes;
	pc_unlink(tm, c);
	c->raw_gone = tm->raw_gone += len;
	tm->st.pc_dropped++;
	if (tm->cfg.evicted)
		tm->cfg.evicted(tm->cfg.arg, c->blob->ino,
				c->idx << c->blob->shift, len);
}

/* A page-cache range that may be dropped now. */
static int pc_may_drop(const struct qvl_tm *tm, const struct qvl_chunk *c)
{
	/* held or pinned: a reply of it may be on its way, and the kernel
	 * would cache what we just stopped counting */
	return !c->hold && !c->pins && c->blob->priority <= tm->prio_cap;
}

static int pc_drop_oldest(struct qvl_tm *tm)
{
	for (struct qvl_chunk *c = tm->pc_first; c; c = c->pcnext) {
		if (!pc_may_drop(tm, c))
			continue;
		qvl_tm_pc_drop(tm, c);
		return 1;
	}
	return 0;
}

/* Loop mode: the newest range handed out more than a guard ago (what the
 * reader may still be working through: an eighth of the raw side, 4 to
 * PC_GUARD chunks), of a file other than the one read last unless that
 * file is large. */
static int pc_drop_newest(struct qvl_tm *tm)
{
	uint64_t chunk = chunk_size(tm), guard = tm->raw_target / 8;
	if (guard < 4 * chunk)
		guard = 4 * chunk;
	if (guard > PC_GUARD * chunk)
		guard = PC_GUARD * chunk;
	for (struct qvl_chunk *c = tm->pc_last; c; c = c->pcprev) {
		/* The file being read may be read again before the reader
		 * moves on (a second look at a tensor just summed), unless it
		 * is much of the loop itself (one file holding the model). */
		if (tm->pc_clock - c->pc_at < guard || !pc_may_drop(tm, c) ||
		    (c->blob->ino == tm->last_ino &&
		     c->blob->nmap * c->blob->chunk <= tm->raw_target / 2))
			continue;
		qvl_tm_pc_drop(tm, c);
		return 1;
	}
	return 0;
}

static int pc_may_go(const struct qvl_tm *tm, const struct qvl_chunk *c)
{
	return c->pc_bytes && pc_may_drop(tm, c);
}

/* In loop mode the newest leaves first, which on a loop is already the
 * range needed furthest away (and the files the kernel serves to the
 * reader never reach us, so the chain cannot place them); otherwise
 * ranges of files predicted to be read only after more than RAM holds
 * leave before the oldest. */
static int pc_drop_one(struct qvl_tm *tm)
{
	if (tm->pc_loop && ++tm->pc_rotate % PC_ROTATE && pc_drop_newest(tm))
		return 1;
	struct qvl_chunk *far = tm->pc_loop ? NULL
				: qvl_tm_pred_next(tm, PRED_PC, pc_may_go);
	if (far) {
		qvl_tm_pc_drop(tm, far);
		tm->st.pred_evicted++;
		return 1;
	}
	return pc_drop_oldest(tm);
}

static int make_room_upto(struct qvl_tm *tm, uint64_t bytes);

void qvl_tm_room_from_pc(struct qvl_tm *tm, uint64_t bytes)
{
	struct qvl_pool *pool = tm->cfg.pool;
	int store_full = 0;
	room_limits(tm);
	/* Raw chunks past their share first (read already: the page cache
	 * has them), then the newest page cache past the guard only: the
	 * part of the loop kept for the next pass is not traded for a
	 * readahead of this one. */
	while (tm->pc_loop && qvl_pool_avail(pool) < (int64_t)bytes) {
		if (tm->nring * chunk_size(tm) > tm->raw_keep &&
		    evict_raw(tm, bytes, &store_full, 1) > 0)
			continue;
		if (!pc_drop_newest(tm))
			break;
	}
}

int qvl_tm_make_room(struct qvl_tm *tm, uint64_t bytes)
{
	/* Priority first: while anything of a lower priority can leave, a
	 * file keeps its RAM; within a priority the policies above choose.
	 * Only priorities some file has are tried (each try that finds
	 * nothing is a sweep of the clock). */
	int rc = -ENOSPC;
	for (unsigned p = 0; p <= 9 && rc == -ENOSPC; p++) {
		if (p < 9 && !tm->prio_blobs[p])
			continue;
		tm->prio_cap = (uint8_t)p;
		qvl_tm_pred_rewind(tm);
		rc = make_room_upto(tm, bytes);
	}
	tm->prio_cap = 9;
	return rc;
}

int qvl_tm_make_room_spent(struct qvl_tm *tm, uint64_t bytes)
{
	tm->keep_partly_read = 1;
	int rc = qvl_tm_make_room(tm, bytes);
	tm->keep_partly_read = 0;
	return rc;
}

static int make_room_upto(struct qvl_tm *tm, uint64_t bytes)
{
	struct qvl_pool *pool = tm->cfg.pool;
	size_t chunk = chunk_size(tm);
	int store_full = 0, rc;
	room_limits(tm);
	while (qvl_pool_avail(pool) < (int64_t)bytes) {
		uint64_t need = (uint64_t)((int64_t)bytes - qvl_pool_avail(pool));
		uint64_t raw = tm->nring * chunk;
		if (raw > tm->raw_keep) {
			rc = evict_raw(tm, need, &store_full, 1);
			if (rc < 0)
				return rc;
			if (rc)
				continue;
		}
		if (raw + tm->pc_bytes > tm->raw_target && pc_drop_one(tm))
			continue;
		if (evict_z(tm, 0))
			continue;
		/* In loop mode the page cache's room is kept to: frames of
		 * the stable set give way while the raw side is within its
		 * target (else frames kept while the page cache was small
		 * hold the budget, and it never holds a part of the loop). */
		if (tm->pc_loop && raw + tm->pc_bytes <= tm->raw_target &&
		    evict_z(tm, 1))
			continue;
		/* The stable set goes last: a burst of evictions that empties
		 * the victim queue takes raw chunks and page cache first;
		 * chunks a reader is part way through after the page cache
		 * (what it holds was read already). */
		rc = evict_raw(tm, need, &store_full, 1);
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		if (pc_drop_one(tm))
			continue;
		rc = tm->keep_partly_read ? 0
					  : evict_raw(tm, need, &store_full, 0);
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		if (evict_z(tm, 1))
			continue;
		return -ENOSPC;
	}
	return 0;
}

/* A frame worth keeping in RAM: it compresses (below 0.9 of a chunk). */
static int z_worth(const struct qvl_chunk *c, uint32_t len)
{
	return len && len <= c->blob->chunk / 10 * 9;
}

void qvl_tm_settle(struct qvl_tm *tm)
{
	if (qvl_pool_avail(tm->cfg.pool) < 0)
		qvl_tm_make_room(tm, 0);
}

uint64_t qvl_tm_z_cost(const struct qvl_tm *tm, const struct qvl_chunk *c)
{
	if (c->z || !z_worth(c, c->disk_len))
		return 0;
	return z_cost(tm, c->disk_len);
}

struct qvl_zframe *qvl_tm_z_reserve(struct qvl_tm *tm,
				    const struct qvl_chunk *c, uint32_t len)
{
	struct qvl_zframe *z = NULL;
	if (c->z || !z_worth(c, len) || (c->blob->flags & QVL_BLOB_NO_STORE))
		return NULL;
	/* In loop mode with the page cache holding most of the budget: a
	 * frame kept now would leave again long before the loop comes back
	 * to it, a copy for nothing on every fetch.  Frames still fill the
	 * room the page cache does not use (reads that bypass it: O_DIRECT). */
	uint64_t budget = qvl_pool_budget(tm->cfg.pool);
	if (tm->pc_loop && budget - tm->raw_target < budget / 8 &&
	    tm->pc_bytes >= budget / 2)
		return NULL;
	if (qvl_pool_avail(tm->cfg.pool) < (int64_t)z_cost(tm, len))
		return NULL;
	qvl_zram_alloc(tm->cfg.pool, tm->zpiece, len, &z);
	return z;
}

void qvl_tm_z_keep(struct qvl_tm *tm, struct qvl_chunk *c, const void *frame,
		   uint32_t len)
{
	struct qvl_zframe *z = qvl_tm_z_reserve(tm, c, len);
	if (!z)
		return;
	qvl_zram_fill(z, tm->zpiece, frame);
	qvl_tm_z_attach(tm, c, z);
}

void qvl_tm_z_attach(struct qvl_tm *tm, struct qvl_chunk *c,
		     struct qvl_zframe *z)
{
	if (c->z) {
		qvl_zram_free(tm->cfg.pool, tm->zpiece, z);
		return;
	}
	c->z = z;
	tm->nz++;
	tm->zbytes += (uint64_t)c->z->npieces * tm->zpiece;
	c->blob->zbytes += (uint64_t)c->z->npieces * tm->zpiece;
	tm->st.z_stored++;
	qvl_lirs_access(&tm->lirs, &c->pol);
}

void qvl_tm_z_drop(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (!c->z)
		return;
	z_free(tm, c);
	qvl_lirs_evict(&tm->lirs, &c->pol);
}

void qvl_tm_raw_miss(struct qvl_tm *tm, struct qvl_chunk *c)
{
	uint64_t chunk = chunk_size(tm);
	if (c->raw_gone && tm->raw_gone - c->raw_gone < tm->raw_target) {
		tm->st.raw_ghost_hits++;
		if (tm->raw_target + chunk <= tm->raw_max)
			tm->raw_target += chunk;
	}
	if (!c->z && c->z_gone && tm->z_gone - c->z_gone < tm->zbytes + chunk) {
		tm->st.z_ghost_hits++;
		if (tm->raw_target >= tm->raw_min + chunk)
			tm->raw_target -= chunk;
	}
}

void qvl_tm_chunk_forget(struct qvl_tm *tm, struct qvl_chunk *c)
{
	qvl_tm_mover_forget(tm, c);
	qvl_tm_remote_forget(tm, c);
	if (c->z) {
		z_free(tm, c);
		c->z_gone = 0;
	}
	qvl_lirs_remove(&tm->lirs, &c->pol);
	if (c->pc_bytes)
		pc_unlink(tm, c);
}

int qvl_tm_set_budget(struct qvl_tm *tm, uint64_t budget)
{
	qvl_pool_set_budget(tm->cfg.pool, budget);
	return qvl_tm_make_room(tm, 0);
}

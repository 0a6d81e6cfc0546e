/*
 * mover.c - write-back ahead of need, without the caller's lock.
 *
 * HOW IT WORKS
 *
 * A writer that fills RAM used to make room in its own request: pick
 * victims, code the dirty ones on the crew, write them, sync, record their
 * rows, all under the filesystem's lock while the copy it came to do
 * waited; and while it copied, the crew and the disk were idle.  `cp` of
 * a model into the mount ran 0.44 of the same copy onto the store's own
 * filesystem, a third of two cores idle.
 *
 * The mover is a thread that does the same ahead of need.  Chunks that become
 * dirty join a list in the order they did (mover_note).  Once RAM is past
 * half its budget and a whole batch is waiting, the mover takes one from the
 * oldest end (not the newest two: a writer is likely still filling them),
 * pins their memory and marks them wb, then takes the tier manager's work
 * lock and lets go of the caller's: the batch is coded on the crew and
 * written and synced with no lock of the filesystem held, while writers go
 * on.  Under the caller's lock again it lands: each frame whose chunk is
 * unchanged (gen) is recorded as the eviction path records it; the chunk
 * is clean now, and the next writer that needs room evicts it for free.
 *
 * Why that is safe:
 *  - A write, punch or truncate that would change a chunk being coded
 *    waits for the landing first (blob.c wb_settle; the coder's passes must
 *    agree on its bytes).  A chunk that changed anyway (flush or fsync wrote
 *    it, or tried and failed, leaving garbage in the slot; or it was freed)
 *    has another gen, or no RAM: its frame is thrown away at the landing.
 *    Nothing reads such a frame: its slot is one no row refers to, because
 *    the mover never takes a chunk whose next frame would go over its current
 *    one (an uncommitted rewrite: the eviction path, which records at once,
 *    does those), and the committed slot is never a target.
 *  - Frames are written only under the work lock, which the mover holds
 *    from before it lets go of the caller's lock until its writes are
 *    synced: its frame is the first written in that time, so a later
 *    writer of the same chunk overwrites it (and bumps gen) rather than
 *    the other way round.  A commit's punches and removals take the work
 *    lock too, so no backing file comes back after its removal.
 *  - The memory is pinned: eviction passes it by, and a truncate, punch
 *    or unlink puts it in the grave (reply.c) until the landing unpins.
 *    A chunk or blob freed meanwhile is an orphan / dead, freed by the
 *    landing (as for readahead, ahead.c).
 *  - Frames are synced before their rows, and a row is committed only by
 *    a later commit, as before.  qvl_tm_flush() and fsync do not wait for
 *    the mover: they write a wb chunk themselves (then the mover's frame
 *    is thrown away), so nothing they promise depends on it.
 *
 * The flusher drains through the mover first (qvl_tm_mover_drain): the
 * mover then takes every dirty chunk, below the half-budget mark and the
 * newest too, for as many batches as the list held, so the periodic
 * write-back codes and writes without the filesystem's lock as well; the
 * flusher's own turns under the lock then find only what the mover may
 * not take (uncommitted rewrites) or what came in meanwhile.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include "tm_i.h"

struct mover_batch {
	struct qvl_tm *tm;
	unsigned n;
	size_t chunk;
	struct qvl_chunk *c[TM_BATCH];
	void *ram[TM_BATCH];
	uint32_t gen[TM_BATCH];
	enum qvl_dtype dtype[TM_BATCH];
	enum qvl_codec_policy codec[TM_BATCH];
	uint8_t precoded[TM_BATCH]; /* r[k] holds the frame already */
	struct qvl_nvme_req r[TM_BATCH];
};

/* Past half the budget (the page cache handed out counts): a chunk
 * written now is one a writer will not have to write when it needs the
 * room.  Below it, data that fits is not written early (a file rewritten
 * or deleted soon never costs the disk).  Measured with cp of 2.16 GB into
 * ram=512M: from 3/4 on, 188 and 225 MB/s; from 1/2, 269 and 342 (the
 * writer's own evictions take the pool below 3/4, and the mover stops). */
static int past_mark(struct qvl_tm *tm)
{
	return qvl_pool_avail(tm->cfg.pool) <
	       (int64_t)(qvl_pool_budget(tm->cfg.pool) / 2);
}

static void dlist_del(struct qvl_tm *tm, struct qvl_chunk *c)
{
	tm_list_del(&tm->dirty, c, offsetof(struct qvl_chunk, dl));
	c->dlisted = 0;
}

static void dlist_add(struct qvl_tm *tm, struct qvl_chunk *c)
{
	tm_list_add(&tm->dirty, c, offsetof(struct qvl_chunk, dl));
	c->dlisted = 1;
}

/* Dirty chunks the list holds before a batch is taken: the newest two
 * (being filled) and a whole batch.  Measured, cp of 2.16 GB into
 * ram=512M: taking each chunk as it came made batches of one, coded on one
 * core (1834 batches for 2058 frames, 272 MB/s); half batches 331 MB/s;
 * whole ones 364 and 373 (coding 2.3 s, writing and syncing 1.1 s). */
#define MOVER_MIN (2 + TM_BATCH)

void qvl_tm_mover_note(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (c->dlisted || !tm->mover_on || (c->blob->flags & QVL_BLOB_NO_STORE))
		return;
	dlist_add(tm, c);
	if (tm->mover_idle && tm->dirty.n >= MOVER_MIN && past_mark(tm))
		pthread_cond_signal(&tm->mover_cv);
}

void qvl_tm_mover_forget(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (c->dlisted)
		dlist_del(tm, c);
}

void qvl_tm_mover_kick(struct qvl_tm *tm)
{
	if (tm->mover_on && tm->mover_idle && tm->dirty.n >= MOVER_MIN)
		pthread_cond_signal(&tm->mover_cv);
}

/* @c may be written back by the mover now. */
static int movable(struct qvl_tm *tm, const struct qvl_chunk *c)
{
	if (!c->ram || c->hold || c->wb || c->busy || c->pins == UINT16_MAX ||
	    (c->blob->flags & QVL_BLOB_DROPPABLE))
		return 0;
	int cs;
	uint32_t slot = qvl_tm_target_slot(tm, c, &cs);
	/* Over its own uncommitted frame: thrown away, it would leave the
	 * slot holding other bytes than its row says. */
	return !(c->disk_len && slot == c->disk_slot);
}

/* A batch from the oldest dirty chunks, pinned and marked; how many. */
static unsigned plan(struct qvl_tm *tm, struct mover_batch *mb)
{
	mb->n = 0;
	/* Draining (the flusher asked): every dirty chunk, the newest too. */
	uint64_t keep = tm->mover_drain ? 0 : 2;
	if (!tm->mover_drain && (tm->dirty.n < MOVER_MIN || !past_mark(tm)))
		return 0;
	if (qvl_nvme_free_bytes(tm->cfg.nvme) <
	    TM_STORE_RESERVE + (uint64_t)TM_BATCH * tm->slot_size)
		return 0; /* a nearly full store: frame by frame, by writers */
	uint64_t look = tm->dirty.n; /* each once: the passed-over go last */
	while (look-- > keep && tm->dirty.n > keep && mb->n < TM_BATCH) {
		struct qvl_chunk *c = tm->dirty.first;
		dlist_del(tm, c);
		if (!qvl_tm_mover_wants(c))
			continue; /* written or dropped since: off the list */
		if (!qvl_tm_to_write(c) && !(tm->mover_drain && tm->copy_ok)) {
			dlist_add(tm, c); /* a copy: when reads are quiet */
			continue;
		}
		/* A copy must hold the remote frame's bytes: without that
		 * frame in RAM it is coded again, never lossily. */
		if (!qvl_tm_to_write(c) && !c->z &&
		    (c->blob->codec == QVL_CODEC_POLICY_Q8_0 ||
		     c->blob->codec == QVL_CODEC_POLICY_F8E4M3)) {
			c->rcache = 0;
			continue;
		}
		if (!movable(tm, c)) {
			dlist_add(tm, c);
			continue;
		}
		unsigned k = mb->n++;
		int cs;
		c->wb = 1;
		c->pins++;
		c->blob->inflight++;
		mb->c[k] = c;
		mb->ram[k] = c->ram;
		mb->gen[k] = c->gen;
		mb->dtype[k] = c->blob->dtype;
		mb->codec[k] = c->blob->codec;
		mb->r[k] = (struct qvl_nvme_req){
			.ino = c->blob->ino, .idx = c->idx,
			.slot = qvl_tm_target_slot(tm, c, &cs),
			.buf = (char *)tm->bounce + (size_t)k * tm->slot_size,
		}; /* where qvl_tm_encode() puts frame k */
		/* A copy of a remote frame still in RAM: those very bytes,
		 * no coding (remote_cache.c). */
		mb->precoded[k] = !c->dirty && c->z;
		if (mb->precoded[k]) {
			qvl_zram_gather(c->z, tm->zpiece, mb->r[k].buf);
			mb->r[k].len = c->z->len;
		}
	}
	return mb->n;
}

/* Code chunk @i of the batch on worker @w (its bytes hold still: writers
 * wait for the landing, blob.c wb_settle). */
static void code_job(void *arg, unsigned i, unsigned w)
{
	struct mover_batch *mb = arg;
	size_t len;
	if (mb->precoded[i]) {
		mb->r[i].result = 0;
		return;
	}
	mb->r[i].result = qvl_tm_encode(mb->tm, w, mb->ram[i], mb->chunk,
					mb->dtype[i], mb->codec[i], i, &len);
	mb->r[i].len = (uint32_t)len;
}

/* Under the work lock only: code the batch, write and sync what coded. */
static void run(struct qvl_tm *tm, struct mover_batch *mb)
{
	struct qvl_nvme_req w[TM_BATCH];
	unsigned at[TM_BATCH], m = 0;
	qvl_crew_run(tm->crew, code_job, mb, mb->n);
	for (unsigned k = 0; k < mb->n; k++)
		if (!mb->r[k].result) {
			at[m] = k;
			w[m++] = mb->r[k];
		}
	if (m)
		qvl_tm_write_synced(tm, w, m);
	for (unsigned i = 0; i < m; i++)
		mb->r[at[i]].result = w[i].result;
}

/* Under the caller's lock: record what is still current, free orphans.
 * Returns how many frames failed to write or to be recorded. */
static unsigned land(struct qvl_tm *tm, struct mover_batch *mb)
{
	unsigned failed = 0;
	for (unsigned k = 0; k < mb->n; k++) {
		struct qvl_chunk *c = mb->c[k];
		struct qvl_blob *b = c->blob;
		int cs = -1;
		c->wb = 0;
		qvl_tm_unpin(tm, c, mb->ram[k]);
		int keep = !c->orphan && !mb->r[k].result &&
			   c->gen == mb->gen[k] && c->ram == mb->ram[k] &&
			   qvl_tm_mover_wants(c) &&
			   qvl_tm_target_slot(tm, c, &cs) == mb->r[k].slot;
		int e = keep ? qvl_tm_record_frame(tm, c, &mb->r[k], cs) : 0;
		if (keep && !e) {
			tm->st.mover_frames++;
		} else {
			tm->st.mover_discarded++;
			failed += e || mb->r[k].result;
			if (mb->r[k].result)
				tm->st.write_errors++;
			if (!c->orphan && !c->dlisted && qvl_tm_mover_wants(c))
				dlist_add(tm, c); /* still dirty: later */
		}
		if (c->orphan && !c->busy) /* a readahead's landing frees it */
			free(c);
		if (!--b->inflight && b->dead)
			free(b);
	}
	tm->st.mover_batches++;
	mb->n = 0;
	pthread_cond_broadcast(&tm->landed); /* writers in wb_settle() */
	return failed;
}

/* Wait @ms (0: until a kick), the caller's lock let go meanwhile. */
static void wait_for(struct qvl_tm *tm, unsigned ms)
{
	tm->mover_idle = 1;
	if (!ms) {
		pthread_cond_wait(&tm->mover_cv, tm->cfg.lock);
		tm->mover_idle = 0;
		return;
	}
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&tm->mover_cv, tm->cfg.lock, &t);
	tm->mover_idle = 0;
}

/* After a batch that failed (a disk or catalog error), wait before the
 * next: from 100 ms, doubling to 10 s, while it goes on failing. */
static void back_off(struct qvl_tm *tm, unsigned *ms)
{
	wait_for(tm, *ms);
	*ms = *ms < 5000 ? *ms * 2 : 10000;
}

/* Nothing more to drain now: the flusher waiting in qvl_tm_mover_drain()
 * goes on. */
static void drain_done(struct qvl_tm *tm)
{
	if (!tm->mover_drain)
		return;
	tm->mover_drain = 0;
	pthread_cond_broadcast(&tm->landed);
}

void qvl_tm_mover_drain(struct qvl_tm *tm)
{
	if (!tm->mover_on || tm->mover_stop || !tm->dirty.n)
		return;
	/* A steady writer keeps the list full: as many batches as it held
	 * when asked, then the flusher takes what is left. */
	uint64_t until = tm->st.mover_batches + tm->dirty.n / TM_BATCH + 1;
	qvl_tm_copy_gate(tm);
	tm->mover_drain = 1;
	pthread_cond_signal(&tm->mover_cv);
	while (tm->mover_drain && tm->mover_on && !tm->mover_stop &&
	       tm->st.mover_batches < until)
		pthread_cond_wait(&tm->landed, tm->cfg.lock);
	tm->mover_drain = 0;
}

static void *mover_main(void *arg)
{
	struct qvl_tm *tm = arg;
	struct mover_batch mb = {
		.tm = tm, .chunk = (size_t)1 << tm->cfg.chunk_shift,
	};
	unsigned wait_ms = 100;
	pthread_mutex_lock(tm->cfg.lock);
	while (!tm->mover_stop) {
		/* Work before letting go of the caller's lock (the lock
		 * order), so the batch's frames are the first written; but
		 * not waiting for it with the caller's lock held, while a
		 * readahead runs (ahead.c): every request would wait too. */
		if (pthread_mutex_trylock(&tm->work)) {
			wait_for(tm, 2);
			continue;
		}
		if (!plan(tm, &mb)) {
			pthread_mutex_unlock(&tm->work);
			drain_done(tm);
			wait_for(tm, 0);
			continue;
		}
		pthread_mutex_unlock(tm->cfg.lock);
		run(tm, &mb);
		pthread_mutex_unlock(&tm->work);
		pthread_mutex_lock(tm->cfg.lock);
		if (!land(tm, &mb)) {
			wait_ms = 100;
		} else if (!tm->mover_stop) {
			drain_done(tm); /* the flusher writes what is left */
			back_off(tm, &wait_ms);
		}
	}
	drain_done(tm);
	pthread_mutex_unlock(tm->cfg.lock);
	return NULL;
}

int qvl_tm_mover_start(struct qvl_tm *tm)
{
	if (!tm->cfg.nvme || !tm->cfg.lock || !tm->crew || tm->mover_on)
		return 0;
	pthread_cond_init(&tm->mover_cv, NULL);
	tm->mover_stop = 0;
	tm->mover_on = 1;
	int rc = pthread_create(&tm->mover, NULL, mover_main, tm);
	if (rc) {
		tm->mover_on = 0;
		pthread_cond_destroy(&tm->mover_cv);
		return -rc;
	}
	return 0;
}

void qvl_tm_mover_stop(struct qvl_tm *tm)
{
	if (!tm || !tm->mover_on)
		return;
	pthread_mutex_lock(tm->cfg.lock);
	tm->mover_stop = 1;
	pthread_cond_signal(&tm->mover_cv);
	pthread_cond_broadcast(&tm->landed); /* a drain waiting ends */
	pthread_mutex_unlock(tm->cfg.lock);
	pthread_join(tm->mover, NULL);
	pthread_mutex_lock(tm->cfg.lock);
	tm->mover_on = 0;
	while (tm->dirty.first)
		dlist_del(tm, tm->dirty.first);
	pthread_mutex_unlock(tm->cfg.lock);
	pthread_cond_destroy(&tm->mover_cv);
}

/*
 * ahead.c - readahead that runs without the caller's lock.
 *
 * HOW IT WORKS
 *
 * A streaming reader and the daemon should work at the same time: while
 * the reader sums chunk k, the chunks after it are read from the store and
 * decoded.  With all of it inside the READ that missed (under the one
 * filesystem lock) they took turns instead: the reader waited for a batch,
 * then the daemon waited for the reader (measured: 65% of two cores busy).
 *
 * So a READ through qvl_blob_read_ahead() fetches only its own chunks, and
 * after its copy plans the next ones (qvl_tm_ahead_plan, under the lock):
 * chunks only on disk, not in the page cache, not in RAM as a frame, up to
 * the readahead window, a batch at most.  They get pool slots now (the
 * budget pays for them from the start) and are marked busy; the blob
 * counts the batch (inflight), so a blob destroyed meanwhile stays
 * allocated for the landing.  The caller replies, then runs the batch
 * (qvl_tm_ahead_run: io_uring reads into the batch's own bounce buffers,
 * decoded on the crew as they arrive, under the tier manager's work lock
 * only) and lands it under its lock again (qvl_tm_ahead_land).
 *
 * A READ's own chunks that must come from the store go the same way
 * (qvl_tm_ahead_plan_own, with @ah->own_ok): planned under the lock after
 * room is made for them, read and decoded without it, landed, and the
 * READ looks again.  So a READ of data in RAM never waits for another
 * READ's disk I/O and decode; readers of the same missing chunk share its
 * fetch (the second waits for the first's landing); and the frame is kept
 * in RAM (the compressed tier) as a fetch under the lock keeps it: pieces
 * are reserved at planning and filled by the decode job, whose bounce
 * buffer is the next batch's once the work lock goes.
 *
 * Nothing else waits for a busy chunk except a READ that needs it, which
 * sleeps on tm->landed (the caller's lock released) and looks again.  For
 * everything else a busy chunk is simply not in RAM: a write or another
 * read may bring it in meanwhile, a punch or truncate may drop it (then it
 * is an orphan, freed by the landing), its frame may be rewritten.  Each
 * of those bumps the chunk's gen; a landing whose gen no longer matches,
 * or that finds the chunk in RAM already, gives its slot back and the
 * decoded bytes are never seen.  A frame that fails its checks is an I/O
 * error only when the chunk is still what was planned.
 */
#include <errno.h>
#include <stdlib.h>

#include "tm_i.h"

/* A chunk the batch may take: ahead-worthy, and no frame in RAM (those
 * decode at once when read; no disk to overlap). */
static int plannable(const struct qvl_chunk *c)
{
	return qvl_chunk_worth_ahead(c) && !c->z;
}

/* Chunk @c as the batch's @k-th, with a slot in ah->ram[k] already: in
 * flight from now on; @ra says what a wait for it is; @keep_frame: the
 * frame is to stay in RAM too, as a fetch under the lock keeps it. */
static void take(struct qvl_ahead *ah, unsigned k, struct qvl_chunk *c,
		 uint8_t ra, int keep_frame)
{
	struct qvl_tm *tm = c->blob->tm;
	qvl_tm_raw_miss(tm, c);
	c->busy = 1;
	c->ra = ra;
	ah->c[k] = c;
	ah->gen[k] = c->gen;
	ah->idx[k] = c->idx;
	ah->slot[k] = c->disk_slot;
	ah->len[k] = c->disk_len;
	ah->rk[k] = c->rk;
	ah->rc[k] = 0;
	ah->z[k] = keep_frame ? qvl_tm_z_reserve(tm, c, c->disk_len) : NULL;
}

static void start(struct qvl_ahead *ah, struct qvl_blob *b, unsigned n,
		  int next_file, int own)
{
	ah->blob = b;
	ah->next_file = next_file;
	ah->own = own;
	ah->ino = b->ino;
	ah->chunk = b->chunk;
	ah->n = n;
	b->inflight++;
	b->tm->st.ahead_batches++;
}

/* A batch of chunks of @b from @i on, no further than @stop, into @ah:
 * RAM for them (what is free, and in loop mode what qvl_tm_room_from_pc
 * frees) and marked busy.  Returns how many. */
static unsigned plan_run(struct qvl_blob *b, uint64_t i, uint64_t stop,
			 int next_file, struct qvl_ahead *ah)
{
	struct qvl_tm *tm = b->tm;
	uint64_t n = 0;
	while (n < TM_BATCH && n < QVL_AHEAD_MAX && i + n <= stop &&
	       i + n < b->nmap && plannable(b->map[i + n]))
		n++;
	if (!n)
		return 0;
	/* Room: what is free, and in loop mode what the page cache drops
	 * next anyway (chunks of the loop read just now; not raw chunks,
	 * which may be the batch before this one, still unread). */
	if (tm->pc_loop)
		qvl_tm_room_from_pc(tm, (n + 1) * b->chunk);
	uint64_t room = qvl_blob_room_chunks(b);
	n = n < room ? n : room;
	if (!n)
		return 0;
	if (qvl_pool_alloc_n_raw(b->pool, b->chunk, n, ah->ram))
		return 0;
	for (unsigned k = 0; k < n; k++)
		take(ah, k, b->map[i + k], next_file ? RA_NEXT : RA_FILE, 0);
	start(ah, b, (unsigned)n, next_file, 0);
	return (unsigned)n;
}

unsigned qvl_tm_ahead_plan_own(struct qvl_blob *b, struct qvl_chunk **cs,
			       unsigned n, struct qvl_ahead *ah)
{
	if (n > QVL_AHEAD_MAX)
		n = QVL_AHEAD_MAX;
	if (qvl_pool_alloc_n_raw(b->pool, b->chunk, n, ah->ram))
		return 0;
	for (unsigned k = 0; k < n; k++)
		take(ah, k, cs[k], 0, 1);
	start(ah, b, n, 0, 1);
	b->tm->st.ahead_own++;
	b->tm->own_inflight++;
	return n;
}

void qvl_tm_ahead_plan(struct qvl_blob *b, uint64_t last, struct qvl_ahead *ah)
{
	struct qvl_tm *tm = b->tm;
	ah->blob = NULL;
	ah->n = 0;
	ah->next_file = 0;
	uint64_t win = qvl_blob_ra_window(b);
	/* What is read ahead waits in raw chunks, whose share is raw_keep:
	 * a window past half of it pushes its own chunks out unread. */
	uint64_t half = tm->raw_keep / b->chunk / 2;
	if (win > half)
		win = half;
	if (!win || !tm->cfg.nvme)
		return;
	/* The first chunk past the read that is not here, in flight, or in
	 * the page cache.  While half the window or more ahead of the read
	 * is covered, nothing: the kernel's readahead marker, in effect. */
	uint64_t stop = last + win, i = last + 1;
	while (i <= stop && i < b->nmap && !plannable(b->map[i]))
		i++;
	if (i <= stop && i < b->nmap) {
		if (i - last - 1 <= win / 2)
			plan_run(b, i, stop, 0, ah);
		return;
	}
	/* The file's end is within half the window: the head of the file
	 * read after this one most often (succ.c), as far as the window
	 * reaches past the end.  (From the first read near the end, the
	 * whole of the next file came in, and the one after it pushed it
	 * out unread.) */
	if (last + 1 + win / 2 < b->nmap && b->map[last + 1 + win / 2])
		return; /* not near the end (a quick look before the walk) */
	uint64_t size = qvl_blob_extent(b) >> b->shift;
	uint64_t left = size > last + 1 ? size - last - 1 : 0;
	if (left > win / 2)
		return;
	struct qvl_blob *n = qvl_tm_succ_blob(tm, b);
	if (!n)
		return;
	uint64_t nstop = win - left;
	for (i = 0; i <= nstop && i < n->nmap && !plannable(n->map[i]); i++)
		;
	if (i <= nstop && i < n->nmap && plan_run(n, i, nstop, 1, ah))
		tm->st.pf_chunks += ah->n;
}

struct ahead_run {
	struct qvl_tm *tm;
	struct qvl_ahead *ah;
	struct qvl_nvme_req r[QVL_AHEAD_MAX];
};

static void ahead_job(void *arg, unsigned i, unsigned w)
{
	struct ahead_run *ar = arg;
	struct qvl_ahead *ah = ar->ah;
	size_t out;
	ah->rc[i] = qvl_tm_decode_checked(ar->tm->codec[w], &ar->r[i],
					  &ah->rk[i], ah->chunk, ah->ram[i],
					  &out);
	/* The frame checked out: a copy of it stays (the bounce buffer is
	 * the next batch's once the work lock goes). */
	if (!ah->rc[i] && ah->z[i])
		qvl_zram_fill(ah->z[i], ar->tm->zpiece, ar->r[i].buf);
}

static void ahead_arrived(void *arg, unsigned i)
{
	struct ahead_run *ar = arg;
	qvl_crew_post(ar->tm->crew, ahead_job, ar, i);
}

void qvl_tm_ahead_run(struct qvl_tm *tm, struct qvl_ahead *ah)
{
	if (!ah->n)
		return;
	struct ahead_run ar = { .tm = tm, .ah = ah };
	for (unsigned k = 0; k < ah->n; k++)
		ar.r[k] = (struct qvl_nvme_req){
			.ino = ah->ino, .idx = ah->idx[k], .slot = ah->slot[k],
			.len = ah->len[k],
			.buf = (char *)tm->abounce + (size_t)k * tm->slot_size,
		};
	pthread_mutex_lock(&tm->work);
	qvl_tm_frames_read(tm, ar.r, ah->rk, ah->n, ahead_arrived, &ar);
	qvl_crew_wait(tm->crew);
	pthread_mutex_unlock(&tm->work);
}

void qvl_tm_ahead_land(struct qvl_tm *tm, struct qvl_ahead *ah)
{
	struct qvl_blob *b = ah->blob;
	if (!b)
		return;
	for (unsigned k = 0; k < ah->n; k++) {
		struct qvl_chunk *c = ah->c[k];
		c->busy = 0;
		if (c->orphan || c->ram || c->gen != ah->gen[k] || ah->rc[k]) {
			if (ah->z[k])
				qvl_zram_free(tm->cfg.pool, tm->zpiece, ah->z[k]);
			if (!c->ram)
				c->ra = 0; /* it did not come in ahead */
			if (!c->orphan && !c->ram && c->gen == ah->gen[k])
				qvl_tm_io_error(tm, c, ah->rc[k] == -ENOMEM ?
							       -ENOMEM : -EIO);
			qvl_pool_free(tm->cfg.pool, ah->ram[k], ah->chunk);
			if (c->orphan && !c->wb) /* else the mover's landing */
				free(c);
			tm->st.ahead_dropped++;
			continue;
		}
		qvl_blob_ram_install(b, c, ah->ram[k]);
		c->dirty = 0;
		c->ra = ah->own ? 0 : ah->next_file ? RA_NEXT : RA_FILE;
		if (ah->z[k])
			qvl_tm_z_attach(tm, c, ah->z[k]);
		qvl_tm_remote_landed(tm, c);
		tm->st.fetched++;
		tm->st.frame_bytes_read += ah->len[k];
		tm->st.raw_bytes_read += ah->chunk;
		tm->st.ra_chunks += !ah->next_file && !ah->own;
		tm->st.ahead_landed++;
	}
	if (ah->own)
		tm->own_inflight--;
	else
		qvl_tm_ra_calm(tm, ah->n);
	if (!--b->inflight && b->dead)
		free(b);
	ah->blob = NULL;
	ah->n = 0;
	pthread_cond_broadcast(&tm->landed);
}

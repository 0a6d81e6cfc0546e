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
 * (qvl_tm_ahead_run) in one of AHEAD_LANES lanes: io_uring reads into the
 * lane's bounce buffers, each frame decoded on the crew as it arrives
 * (the lane's own crew batch), and each chunk landed under the caller's
 * lock as soon as it is decoded, so a READ waiting for it goes on then,
 * not after the batch's last frame.  Two lanes let the next batch's reads
 * reach the disk while this one's last frames decode.  The caller ends
 * the batch under its lock (qvl_tm_ahead_land: the blob's count, the
 * window's calm).
 *
 * A READ's own chunks that must come from the store go the same way
 * (qvl_tm_ahead_plan_own, with @ah->own_ok): planned under the lock after
 * room is made for them, read and decoded without it, landed, and the
 * READ looks again.  So a READ of data in RAM never waits for another
 * READ's disk I/O and decode; readers of the same missing chunk share its
 * fetch (the second waits for the chunk's landing); and the frame is kept
 * in RAM (the compressed tier) as a fetch under the lock keeps it: pieces
 * are reserved at planning and filled by the decode job, whose bounce
 * buffer is the lane's next batch's once the lane is given back.
 *
 * Lock order: cfg.lock before the store's ring lock and the remote tier's
 * connection locks.  A decode job lands its chunk under cfg.lock, so a job
 * the lane's caller runs itself while inside the reads (no crew threads,
 * or a full queue) leaves its landing to the caller after the reads.
 *
 * Nothing else waits for a busy chunk except a READ that needs it, which
 * sleeps on the chunk's wait queue (qvl_tm_chunk_cv; the caller's lock
 * released) and looks again.  For
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

/* Chunk @k of the batch, decoded (or failed): installed, or given up if
 * anything changed it meanwhile.  Under cfg.lock. */
static void land_one(struct qvl_tm *tm, struct qvl_ahead *ah, unsigned k)
{
	struct qvl_blob *b = ah->blob;
	struct qvl_chunk *c = ah->c[k];
	c->busy = 0;
	pthread_cond_broadcast(qvl_tm_chunk_cv(tm, c)); /* before a free */
	if (c->orphan || c->ram || c->gen != ah->gen[k] || ah->rc[k]) {
		if (ah->z[k])
			qvl_zram_free(tm->cfg.pool, tm->zpiece, ah->z[k]);
		if (!c->ram)
			c->ra = 0; /* it did not come in ahead */
		if (!c->orphan && !c->ram && c->gen == ah->gen[k])
			qvl_tm_io_error(tm, c, ah->rc[k] == -ENOMEM ? -ENOMEM
								   : -EIO);
		qvl_pool_free(tm->cfg.pool, ah->ram[k], ah->chunk);
		if (c->orphan && !c->wb) /* else the mover's landing */
			free(c);
		tm->st.ahead_dropped++;
		return;
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

struct ahead_run {
	struct qvl_tm *tm;
	struct qvl_ahead *ah;
	struct qvl_crew_batch jobs;
	/* The caller is inside qvl_tm_frames_read(), under the store's or
	 * the remote tier's lock: a job it runs itself there (a crew without
	 * threads, or a full queue) leaves the landing to it (late[]), as
	 * cfg.lock comes before those locks. */
	int in_io;
	uint8_t late[QVL_AHEAD_MAX];
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
	 * the next batch's once the lane is given back). */
	if (!ah->rc[i] && ah->z[i])
		qvl_zram_fill(ah->z[i], ar->tm->zpiece, ar->r[i].buf);
	/* A READ waiting for this chunk goes on now, not after the batch's
	 * last frame (measured: READs that waited for the store took 4.9 ms
	 * each, a whole batch's reads and decodes). */
	if (w == ar->jobs.worker && ar->in_io) {
		ar->late[i] = 1;
		return;
	}
	pthread_mutex_lock(ar->tm->cfg.lock);
	land_one(ar->tm, ah, i);
	pthread_mutex_unlock(ar->tm->cfg.lock);
}

static void ahead_arrived(void *arg, unsigned i)
{
	struct ahead_run *ar = arg;
	qvl_crew_batch_post(&ar->jobs, ahead_job, ar, i);
}

static unsigned lane_take(struct qvl_tm *tm)
{
	pthread_mutex_lock(&tm->lane_mu);
	for (;;) {
		for (unsigned l = 0; l < AHEAD_LANES; l++) {
			if (!tm->lane_busy[l]) {
				tm->lane_busy[l] = 1;
				pthread_mutex_unlock(&tm->lane_mu);
				return l;
			}
		}
		pthread_cond_wait(&tm->lane_free, &tm->lane_mu);
	}
}

static void lane_give(struct qvl_tm *tm, unsigned l)
{
	pthread_mutex_lock(&tm->lane_mu);
	tm->lane_busy[l] = 0;
	pthread_cond_signal(&tm->lane_free);
	pthread_mutex_unlock(&tm->lane_mu);
}

/* In a lane of its own: the store's queue (io_uring, under its own lock)
 * takes this batch's reads as soon as the batch before has its frames,
 * while that one's last frames are still being decoded (one batch at a
 * time left the disk idle through every batch's decode tail: measured,
 * disk busy 46% and both cores 30% idle in the steady passes of
 * stream_bench's setup B). */
void qvl_tm_ahead_run(struct qvl_tm *tm, struct qvl_ahead *ah)
{
	if (!ah->n)
		return;
	unsigned l = lane_take(tm);
	char *bufs = (char *)tm->abounce +
		     (size_t)l * QVL_AHEAD_MAX * tm->slot_size;
	struct ahead_run ar = { .tm = tm, .ah = ah };
	qvl_crew_batch_init(&ar.jobs, tm->crew, qvl_crew_size(tm->crew) + l);
	/* Frames back to back: a lane's pages are touched (resident) only
	 * as far as its batches' frames reach, not a slot per chunk. */
	size_t at = 0;
	for (unsigned k = 0; k < ah->n; k++) {
		ar.r[k] = (struct qvl_nvme_req){
			.ino = ah->ino, .idx = ah->idx[k], .slot = ah->slot[k],
			.len = ah->len[k], .buf = bufs + at,
		};
		at += qvl_nvme_padded(ah->len[k]);
	}
	ar.in_io = 1;
	qvl_tm_frames_read(tm, ar.r, ah->rk, ah->n, ahead_arrived, &ar);
	ar.in_io = 0;
	unsigned late = 0;
	for (unsigned k = 0; k < ah->n; k++)
		late += ar.late[k];
	if (late) {
		pthread_mutex_lock(tm->cfg.lock);
		for (unsigned k = 0; k < ah->n; k++)
			if (ar.late[k])
				land_one(tm, ah, k);
		pthread_mutex_unlock(tm->cfg.lock);
	}
	qvl_crew_batch_wait(&ar.jobs);
	lane_give(tm, l);
}

void qvl_tm_ahead_land(struct qvl_tm *tm, struct qvl_ahead *ah)
{
	struct qvl_blob *b = ah->blob;
	if (!b)
		return;
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

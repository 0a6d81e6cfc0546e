/*
 * tm.c - the tier manager: RAM above NVMe.
 *
 * HOW IT WORKS
 *
 * Resident chunks of every blob sit on one circular list, the clock.  When
 * an allocation would exceed the pool's budget, the hand sweeps: a chunk
 * touched since the last sweep (ref) gets a second chance, one held by the
 * operation in progress, pinned to RAM, or of a session file is skipped,
 * anything else is a victim.  Victims are handled in batches of TM_BATCH:
 * the dirty ones are encoded and written to the store in one io_uring batch
 * (then fdatasync per file, then their catalog rows), and then all of them
 * leave RAM.  A volatile file's dirty chunk is dropped instead (and reads
 * of it give ESTALE afterwards).
 *
 * Copy-on-write.  Every chunk has two slots on disk.  The committed catalog
 * refers to at most one of them; a new frame goes to the other (or, when
 * the chunk was already rewritten since the last commit, over that
 * uncommitted frame).  Space the committed catalog still refers to is
 * never overwritten or punched before the commit that lets go of it: such
 * work waits on the deferred list, run by qvl_tm_commit().  Epochs tell
 * committed from uncommitted: a frame written in epoch E is committed once
 * the epoch is past E.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "tm_i.h"

/* The crew and what each of its workers needs: codec scratch and a buffer
 * to gather a frame kept in RAM; the disk batch's bounce buffers. */
static int workers_create(struct qvl_tm *tm, unsigned threads)
{
	int rc = qvl_crew_create(threads, &tm->crew);
	if (rc)
		return rc;
	/* the readahead lanes' contexts after the crew's */
	unsigned n = qvl_crew_size(tm->crew) + AHEAD_LANES;
	tm->slot_size = qvl_nvme_slot_size(tm->cfg.nvme);
	tm->codec = calloc(n, sizeof(*tm->codec));
	tm->bounce = aligned_alloc(QVL_NVME_ALIGN, TM_BATCH * tm->slot_size);
	if (!tm->codec || !tm->bounce)
		return -ENOMEM;
	if (tm->cfg.lock) {
		tm->abounce = aligned_alloc(QVL_NVME_ALIGN,
					    (size_t)AHEAD_LANES * QVL_AHEAD_MAX *
						    tm->slot_size);
		if (!tm->abounce)
			return -ENOMEM;
	}
	/* Readahead's frames pass through the lanes' buffers: registered
	 * with the store's ring, not pinned again for each read (best
	 * effort).  Registering makes all of them resident (2 x 8 slots,
	 * about 16 MiB) where use touches only what frames fill: only on a
	 * budget 16 times that, where it is noise (on ram=32M it put the
	 * daemon 4 MiB past its 64 MiB bound, writers64.sh). */
	size_t alen = (size_t)AHEAD_LANES * QVL_AHEAD_MAX * tm->slot_size;
	if (tm->abounce &&
	    qvl_pool_budget(tm->cfg.pool) >= 16 * (uint64_t)alen) {
		struct iovec fix = { tm->abounce, alen };
		qvl_nvme_fix_buffers(tm->cfg.nvme, &fix, 1);
	}
	for (unsigned w = 0; w < n; w++) {
		tm->codec[w] = qvl_codec_ctx_create();
		if (!tm->codec[w])
			return -ENOMEM;
	}
	return 0;
}

int qvl_tm_create(const struct qvl_tm_config *cfg, struct qvl_tm **out)
{
	struct qvl_tm *tm = calloc(1, sizeof(*tm));
	*out = NULL;
	if (!tm)
		return -ENOMEM;
	tm->cfg = *cfg;
	tm->epoch = 1;
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&tm->work, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_cond_init(&tm->landed, NULL);
	for (unsigned q = 0; q < TM_LAND_QUEUES; q++)
		pthread_cond_init(&tm->chunk_landed[q], NULL);
	pthread_mutex_init(&tm->lane_mu, NULL);
	pthread_cond_init(&tm->lane_free, NULL);
	qvl_tm_room_init(tm);
	if (cfg->nvme) {
		int rc = workers_create(tm, cfg->workers);
		if (rc) {
			qvl_tm_destroy(tm);
			return rc;
		}
	}
	*out = tm;
	return 0;
}

unsigned qvl_tm_default_workers(void)
{
	return qvl_crew_default_threads();
}

void qvl_tm_destroy(struct qvl_tm *tm)
{
	if (!tm)
		return;
	qvl_tm_mover_stop(tm);
	if (tm->crew) {
		unsigned n = qvl_crew_size(tm->crew) + AHEAD_LANES;
		for (unsigned w = 0; w < n && tm->codec; w++)
			qvl_codec_ctx_free(tm->codec[w]);
		qvl_crew_destroy(tm->crew);
	}
	free(tm->codec);
	free(tm->bounce);
	if (tm->abounce) /* the ring must not keep its pages */
		qvl_nvme_fix_buffers(tm->cfg.nvme, NULL, 0);
	free(tm->abounce);
	pthread_cond_destroy(&tm->landed);
	for (unsigned q = 0; q < TM_LAND_QUEUES; q++)
		pthread_cond_destroy(&tm->chunk_landed[q]);
	pthread_cond_destroy(&tm->lane_free);
	pthread_mutex_destroy(&tm->lane_mu);
	pthread_mutex_destroy(&tm->work);
	free(tm->deferred);
	qvl_tm_grave_free(tm);
	qvl_tm_succ_free(tm);
	qvl_tm_pred_free(tm);
	free(tm);
}

uint64_t qvl_tm_store_reserve(void)
{
	return TM_STORE_RESERVE;
}

void qvl_tm_get_counters(const struct qvl_tm *tm, struct qvl_tm_stats *st)
{
	*st = tm->st;
}

void qvl_tm_get_stats(const struct qvl_tm *tm, struct qvl_tm_stats *st)
{
	*st = tm->st;
	st->resident = tm->nring;
	st->dirty = 0;
	const struct qvl_chunk *c = tm->hand;
	for (uint64_t i = 0; c && i < tm->nring; i++, c = c->next)
		st->dirty += c->dirty;
	st->z_frames = tm->nz;
	st->z_bytes = tm->zbytes;
	st->succ_files = qvl_tm_succ_entries(tm);
	st->pred_files = tm->npred;
	st->z_lir = tm->lirs.nlir;
	st->z_hir = tm->lirs.nhir;
	st->pc_bytes = tm->pc_bytes;
	st->pc_loop = tm->pc_loop;
	st->ra_win = tm->ra_win;
	st->raw_target = tm->raw_target;
	st->raw_keep = tm->raw_keep;
}

void qvl_tm_ring_add(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (!tm->hand) {
		c->prev = c->next = c;
		tm->hand = c;
	} else { /* just behind the hand: the last to be looked at */
		c->next = tm->hand;
		c->prev = tm->hand->prev;
		c->prev->next = c;
		tm->hand->prev = c;
	}
	tm->nring++;
}

void qvl_tm_ring_del(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (c->next == c) {
		tm->hand = NULL;
	} else {
		if (tm->hand == c)
			tm->hand = c->next;
		c->prev->next = c->next;
		c->next->prev = c->prev;
	}
	c->prev = c->next = NULL;
	tm->nring--;
}

int qvl_tm_defer(struct qvl_tm *tm, uint64_t ino, uint64_t idx, uint32_t slot,
		 int remove)
{
	if (tm->ndeferred == tm->capdeferred) {
		size_t cap = tm->capdeferred ? tm->capdeferred * 2 : 64;
		struct tm_deferred *d = realloc(tm->deferred, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		tm->deferred = d;
		tm->capdeferred = cap;
	}
	tm->deferred[tm->ndeferred++] =
		(struct tm_deferred){ ino, idx, slot, remove };
	return 0;
}

/* The slot of @c the committed catalog refers to, or -1. */
static int committed_slot(const struct qvl_tm *tm, const struct qvl_chunk *c)
{
	if (c->wepoch == tm->epoch)
		return c->cslot_before;
	return c->disk_len ? c->disk_slot : -1;
}

/* A slot of (ino, idx) that a deleted chunk's committed frame still holds
 * until the next commit, or -1. */
static int deferred_slot(const struct qvl_tm *tm, uint64_t ino, uint64_t idx)
{
	for (size_t i = tm->ndeferred; i-- > 0;) {
		const struct tm_deferred *d = &tm->deferred[i];
		if (d->ino == ino && (d->remove || d->idx == idx))
			return d->remove ? -2 : (int)d->slot;
	}
	return -1;
}

void qvl_tm_forget_frame(struct qvl_tm *tm, struct qvl_chunk *c)
{
	int cs = committed_slot(tm, c);
	uint64_t ino = c->blob->ino;
	if (cs >= 0)
		qvl_tm_defer(tm, ino, c->idx, (uint32_t)cs, 0);
	if (c->disk_len && c->disk_slot != cs)
		qvl_nvme_punch(tm->cfg.nvme, ino, c->idx, c->disk_slot);
	c->disk_len = 0;
	qvl_chunk_changed(c);
}

void qvl_tm_io_error(struct qvl_tm *tm, struct qvl_chunk *c, int err)
{
	tm->st.io_errors++;
	if (tm->cfg.io_error)
		tm->cfg.io_error(tm->cfg.arg, c->blob->ino, c->idx, err);
}

struct fetch_batch {
	struct qvl_tm *tm;
	struct qvl_nvme_req *r;
	struct qvl_chunk **cs;
	int rc[TM_BATCH];
	size_t out[TM_BATCH];
};

/* Decode the frame @r read for chunk @c into @dst (a whole chunk): 0, or
 * the read's error, or -EIO for a frame that is not a good one.  A frame
 * may hold less than the chunk: the zeros that ended it were left out
 * (trimmed_len()), and come back here. */
int qvl_tm_decode_frame(struct qvl_codec_ctx *ctx,
			const struct qvl_nvme_req *r, size_t chunk, void *dst,
			size_t *out)
{
	*out = 0;
	int rc = r->result;
	if (!rc)
		rc = qvl_codec_decode_ctx(ctx, r->buf, r->len, dst, chunk, out);
	if (!rc && (*out > chunk || !*out))
		rc = -EIO;
	if (rc)
		return rc;
	memset((char *)dst + *out, 0, chunk - *out);
	*out = chunk;
	return 0;
}

/* Frames leave out the zeros a chunk ends with, in whole 256-byte steps
 * (a whole lossy block of every dtype).  The last chunk of a file past
 * its end, a tensor that fills half a chunk: coded with its padding,
 * the byte planes mix the data with a run of zeros and code both worse
 * (a half-full bf16 chunk stored 0.91 of its data instead of 0.66). */
static size_t trimmed_len(const uint8_t *p, size_t len)
{
	static const uint8_t zeros[4096];
	size_t n = len;
	/* memcmp() is the vectorised loop: a 1 MiB chunk holding one small
	 * file (a database fsync'ed into the catalog) scans in 16 us, not
	 * the 55 us of a loop of 8-byte loads. */
	while (n >= sizeof(zeros) && !memcmp(p + n - sizeof(zeros), zeros,
					     sizeof(zeros)))
		n -= sizeof(zeros);
	while (n >= 256 && !memcmp(p + n - 256, zeros, 256))
		n -= 256;
	while (n && !p[n - 1])
		n--;
	n = (n + 255) & ~(size_t)255;
	/* An all-zero chunk is one tiny ZERO frame as it is. */
	return n && n < len ? n : len;
}

/* Decode chunk @i of the batch into its RAM on worker @w: from the frame
 * the disk read, or from its frame in RAM, gathered first into bounce
 * buffer @i (a batch of frames from RAM reads no disk). */
static void decode_job(void *arg, unsigned i, unsigned w)
{
	struct fetch_batch *fb = arg;
	struct qvl_tm *tm = fb->tm;
	struct qvl_chunk *c = fb->cs[i];
	struct qvl_nvme_req zr, *r = fb->r ? &fb->r[i] : &zr;
	if (!fb->r) {
		zr = (struct qvl_nvme_req){
			.len = c->z->len,
			.buf = (char *)tm->bounce + (size_t)i * tm->slot_size,
		};
		qvl_zram_gather(c->z, tm->zpiece, zr.buf);
	}
	fb->rc[i] = qvl_tm_decode_checked(tm->codec[w], r, &c->rk,
					  c->blob->chunk, c->ram, &fb->out[i]);
}

/* One frame arrived: a worker decodes it while the disk reads the rest. */
static void decode_arrived(void *arg, unsigned i)
{
	struct fetch_batch *fb = arg;
	qvl_crew_post(fb->tm->crew, decode_job, fb, i);
}

/* Decode the chunks of @cs[0..n) that have a frame in RAM, a batch at a
 * time on the crew.  The others, and those whose frame fails (RAM went
 * bad under us: the frame is dropped), are moved to the front of @cs for
 * the disk; returns how many. */
static unsigned fetch_from_z(struct qvl_tm *tm, struct qvl_chunk **cs,
			     unsigned n)
{
	unsigned nd = 0;
	for (unsigned base = 0; base < n; base += TM_BATCH) {
		unsigned k = n - base < TM_BATCH ? n - base : TM_BATCH;
		struct qvl_chunk *zc[TM_BATCH];
		struct fetch_batch fb = { .tm = tm, .cs = zc };
		unsigned nz = 0;
		for (unsigned i = 0; i < k; i++) {
			struct qvl_chunk *c = cs[base + i];
			qvl_tm_raw_miss(tm, c);
			if (!c->z) {
				cs[nd++] = c;
				continue;
			}
			zc[nz] = c;
			qvl_crew_post(tm->crew, decode_job, &fb, nz++);
		}
		qvl_crew_wait(tm->crew);
		for (unsigned j = 0; j < nz; j++) {
			struct qvl_chunk *c = zc[j];
			if (fb.rc[j]) {
				qvl_tm_z_drop(tm, c);
				cs[nd++] = c;
				continue;
			}
			c->dirty = 0;
			qvl_lirs_access(&tm->lirs, &c->pol);
			qvl_tm_remote_landed(tm, c); /* from a remote frame too */
			tm->st.z_hits++;
			tm->st.raw_bytes_read += fb.out[j];
		}
	}
	return nd;
}

static int fetch_locked(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n);

int qvl_tm_fetch(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n)
{
	pthread_mutex_lock(&tm->work);
	int rc = fetch_locked(tm, cs, n);
	pthread_mutex_unlock(&tm->work);
	return rc;
}

static int fetch_locked(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n)
{
	int first_err = 0;
	/* Frames in RAM first; what remains goes to disk, compacted. */
	n = fetch_from_z(tm, cs, n);
	for (unsigned base = 0; base < n; base += TM_BATCH) {
		struct qvl_nvme_req r[TM_BATCH];
		struct qvl_rkey keys[TM_BATCH];
		unsigned k = n - base < TM_BATCH ? n - base : TM_BATCH;
		for (unsigned i = 0; i < k; i++) {
			struct qvl_chunk *c = cs[base + i];
			r[i] = (struct qvl_nvme_req){
				.ino = c->blob->ino, .idx = c->idx,
				.slot = c->disk_slot, .len = c->disk_len,
				.buf = (char *)tm->bounce + (size_t)i * tm->slot_size,
			};
			keys[i] = c->rk;
		}
		struct fetch_batch fb = { .tm = tm, .r = r, .cs = cs + base };
		qvl_tm_frames_read(tm, r, keys, k, decode_arrived, &fb);
		qvl_crew_wait(tm->crew);
		for (unsigned i = 0; i < k; i++) {
			struct qvl_chunk *c = cs[base + i];
			int rc = fb.rc[i];
			if (rc) {
				/* Never hand out bytes we could not verify. */
				rc = rc == -ENOMEM ? rc : -EIO;
				qvl_tm_io_error(tm, c, rc);
				c->hold = 0;
				qvl_blob_ram_free(c->blob, c);
				first_err = first_err ? first_err : rc;
				continue;
			}
			c->dirty = 0;
			tm->st.fetched++;
			tm->st.frame_bytes_read += r[i].len;
			tm->st.raw_bytes_read += fb.out[i];
			qvl_tm_z_keep(tm, c, r[i].buf, r[i].len);
			qvl_tm_remote_landed(tm, c);
		}
	}
	return first_err;
}

static void nothing_more(void *arg, unsigned i)
{
	(void)arg;
	(void)i;
}

int qvl_tm_read_through(struct qvl_tm *tm, struct qvl_chunk *c, void *dst)
{
	struct qvl_nvme_req r = {
		.ino = c->blob->ino, .idx = c->idx, .slot = c->disk_slot,
		.len = c->disk_len, .buf = tm->bounce,
	};
	size_t out;
	pthread_mutex_lock(&tm->work);
	qvl_tm_frames_read(tm, &r, &c->rk, 1, nothing_more, NULL);
	int rc = qvl_tm_decode_checked(tm->codec[0], &r, &c->rk,
				       c->blob->chunk, dst, &out);
	pthread_mutex_unlock(&tm->work);
	if (rc) {
		rc = rc == -ENOMEM ? rc : -EIO;
		qvl_tm_io_error(tm, c, rc);
		return rc;
	}
	tm->st.frame_bytes_read += r.len;
	tm->st.raw_bytes_read += out;
	return 0;
}

/* Which slot a new frame of @c goes to (see HOW IT WORKS). */
uint32_t qvl_tm_target_slot(struct qvl_tm *tm, const struct qvl_chunk *c,
			    int *cs)
{
	*cs = committed_slot(tm, c);
	if (c->disk_len && c->wepoch == tm->epoch && c->disk_slot != *cs &&
	    !qvl_chunk_remote(c))
		return c->disk_slot; /* rewrite the uncommitted frame */
	/* A committed remote frame takes no slot of the store. */
	if (*cs == 0 || *cs == 1)
		return 1u - (uint32_t)*cs;
	int d = deferred_slot(tm, c->blob->ino, c->idx);
	return d == 0 || d == 1 ? 1u - (uint32_t)d : 0;
}

struct encode_batch {
	struct qvl_tm *tm;
	struct qvl_chunk **cs;
	int rc[TM_BATCH];
	size_t len[TM_BATCH];
	unsigned char raw[TM_BATCH]; /* encode_inline_job() chose NONE */
};

/* The first @n bytes of @ram coded into bounce buffer @i on worker @w. */
static int encode_into(struct qvl_tm *tm, unsigned w, const void *ram,
		       size_t n, enum qvl_dtype dtype,
		       enum qvl_codec_policy codec, unsigned i, size_t *len)
{
	*len = 0;
	return qvl_codec_encode_ctx(tm->codec[w], ram, n, dtype, codec,
				    (char *)tm->bounce +
					    (size_t)i * tm->slot_size,
				    tm->slot_size, len);
}

int qvl_tm_encode(struct qvl_tm *tm, unsigned w, const void *ram,
		  size_t chunk, enum qvl_dtype dtype,
		  enum qvl_codec_policy codec, unsigned i, size_t *len)
{
	return encode_into(tm, w, ram, trimmed_len(ram, chunk), dtype, codec,
			   i, len);
}

/* Encode chunk @i of the batch into bounce buffer @i, on worker @w. */
static void encode_job(void *arg, unsigned i, unsigned w)
{
	struct encode_batch *eb = arg;
	struct qvl_chunk *c = eb->cs[i];
	struct qvl_blob *b = c->blob;
	eb->rc[i] = qvl_tm_encode(eb->tm, w, c->ram, b->chunk, b->dtype,
				  b->codec, i, &eb->len[i]);
}

static int write_frames_locked(struct qvl_tm *tm, struct qvl_chunk **cs,
			       unsigned n);

int qvl_tm_write_frames(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n)
{
	pthread_mutex_lock(&tm->work);
	int rc = write_frames_locked(tm, cs, n);
	pthread_mutex_unlock(&tm->work);
	return rc;
}

/* Frames the store takes now.  Data never takes the catalog's last room:
 * a catalog that cannot commit loses metadata, a refused frame only stays
 * in RAM.  What fits is written (the rest stays dirty), so a nearly full
 * store still takes a frame at a time. */
static uint64_t store_fit(struct qvl_tm *tm)
{
	uint64_t fr = qvl_nvme_free_bytes(tm->cfg.nvme);
	return fr > TM_STORE_RESERVE ? (fr - TM_STORE_RESERVE) / tm->slot_size
				     : 0;
}

/* The frames @eb holds for @cs[0..@n) to the store, synced, then their
 * rows (the caller checked store_fit()). */
static int store_encoded(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n,
			 const struct encode_batch *eb)
{
	struct qvl_nvme_req r[TM_BATCH];
	int committed[TM_BATCH];
	int rc = 0;
	for (unsigned i = 0; i < n; i++) {
		struct qvl_chunk *c = cs[i];
		if (eb->rc[i])
			return eb->rc[i];
		r[i] = (struct qvl_nvme_req){
			.ino = c->blob->ino, .idx = c->idx,
			.slot = qvl_tm_target_slot(tm, c, &committed[i]),
			.len = (uint32_t)eb->len[i],
			.buf = (char *)tm->bounce + (size_t)i * tm->slot_size,
		};
	}
	rc = qvl_tm_write_synced(tm, r, n);
	for (unsigned i = 0; i < n; i++) {
		if (r[i].result) { /* stays dirty: a later flush rewrites it */
			tm->st.write_errors++;
			/* A failed write leaves garbage in its slot: a frame
			 * the mover wrote there and has not landed yet is
			 * gone (fault_sweep's dying disk found it recorded). */
			qvl_chunk_changed(cs[i]);
			continue;
		}
		int e = qvl_tm_record_frame(tm, cs[i], &r[i], committed[i]);
		rc = rc ? rc : e;
	}
	return rc;
}

int qvl_tm_write_synced(struct qvl_tm *tm, struct qvl_nvme_req *r, unsigned n)
{
	int rc = qvl_nvme_write(tm->cfg.nvme, r, n);
	/* Durable before the catalog may refer to them. */
	for (unsigned i = 0; i < n; i++) {
		int dup = 0; /* synced already, by an earlier good request */
		for (unsigned j = 0; j < i; j++)
			dup |= r[j].ino == r[i].ino && !r[j].result;
		if (!dup && !r[i].result) {
			int s = qvl_nvme_sync(tm->cfg.nvme, r[i].ino);
			if (s) {
				for (unsigned j = i; j < n; j++)
					if (r[j].ino == r[i].ino)
						r[j].result = s;
				rc = rc ? rc : s;
			}
		}
	}
	return rc;
}

int qvl_tm_record_frame(struct qvl_tm *tm, struct qvl_chunk *c,
			const struct qvl_nvme_req *r, int committed)
{
	struct qvl_blob *b = c->blob;
	if (tm->cfg.cat) {
		/* A copy of the remote frame's bytes keeps the key: the
		 * store may drop the copy again (remote_cache.c). */
		struct qvl_cat_chunk row = { b->ino, c->idx, r->slot, r->len,
					     c->rbacked ? &c->rk : NULL,
					     c->rlen };
		int e = qvl_catalog_put_chunk(tm->cfg.cat, &row);
		if (e) /* the frame is there but unrecorded: stay dirty */
			return e;
	}
	if (c->wepoch != tm->epoch) {
		c->cslot_before = (int8_t)committed;
		c->wepoch = tm->epoch;
		if (committed >= 0)
			qvl_tm_defer(tm, b->ino, c->idx, (uint32_t)committed, 0);
	}
	qvl_blob_disk_set(b, c, r->slot, r->len);
	qvl_chunk_changed(c);
	c->dirty = 0;
	c->inlined = 0; /* put_chunk dropped its inline row */
	qvl_tm_remote_cached(tm, c);
	tm->st.frames_written++;
	tm->st.frame_bytes_written += r->len;
	return 0;
}

static int write_frames_locked(struct qvl_tm *tm, struct qvl_chunk **cs,
			       unsigned n)
{
	if (n > TM_BATCH)
		return -EINVAL;
	uint64_t fit = store_fit(tm);
	if (!fit)
		return -ENOSPC; /* before any encoding */
	unsigned m = n > fit ? (unsigned)fit : n;
	struct encode_batch eb = { .tm = tm, .cs = cs };
	qvl_crew_run(tm->crew, encode_job, &eb, m);
	int rc = store_encoded(tm, cs, m, &eb);
	return rc ? rc : m < n ? -ENOSPC : 0;
}

static int put_inline(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n,
		      const struct encode_batch *eb);

/*
 * Encode chunk @i of the batch for an inline row: raw when its bytes fit
 * a row as they are.  A row lives only until the flusher writes the chunk
 * to the store, coded by its policy, and the fsync that writes it waits
 * for the encoding: rANS over a small database's 40 KiB was 100 us of the
 * 370 us such an fsync spent in the daemon.  The lossy policies keep
 * their codec, so a replayed row reads as the store's frame would.
 */
static void encode_inline_job(void *arg, unsigned i, unsigned w)
{
	struct encode_batch *eb = arg;
	struct qvl_chunk *c = eb->cs[i];
	struct qvl_blob *b = c->blob;
	enum qvl_codec_policy policy = b->codec;
	size_t n = trimmed_len(c->ram, b->chunk);
	if (policy != QVL_CODEC_POLICY_Q8_0 &&
	    policy != QVL_CODEC_POLICY_F8E4M3 &&
	    n + QVL_CODEC_HEADER_SIZE <= QVL_INLINE_MAX)
		policy = QVL_CODEC_POLICY_NONE;
	eb->raw[i] = policy == QVL_CODEC_POLICY_NONE;
	eb->rc[i] = encode_into(eb->tm, w, c->ram, n, b->dtype, policy, i,
				&eb->len[i]);
}

int qvl_tm_write_inline(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n)
{
	if (!tm->cfg.cat || !qvl_catalog_has_inline(tm->cfg.cat))
		return -EOPNOTSUPP;
	if (n > TM_BATCH)
		return -EINVAL;
	struct encode_batch eb = { .tm = tm, .cs = cs };
	int rc = 0;
	pthread_mutex_lock(&tm->work);
	qvl_crew_run(tm->crew, encode_inline_job, &eb, n);
	for (unsigned i = 0; i < n && !rc; i++)
		rc = eb.rc[i] ? eb.rc[i] : eb.len[i] > QVL_INLINE_MAX ? -E2BIG
								    : 0;
	if (rc == -E2BIG) { /* not small: to the store, coded by policy */
		uint64_t fit = store_fit(tm);
		unsigned m = n > fit ? (unsigned)fit : n;
		rc = 0;
		for (unsigned i = 0; i < m && !rc; i++) { /* worker 0: us */
			if (eb.raw[i])
				encode_job(&eb, i, 0);
			rc = eb.rc[i];
		}
		if (!rc && m)
			rc = store_encoded(tm, cs, m, &eb);
		if (!rc && m < n)
			rc = -ENOSPC;
	} else if (!rc)
		rc = put_inline(tm, cs, n, &eb);
	pthread_mutex_unlock(&tm->work);
	return rc;
}

/* The frames @eb holds for @cs[0..@n) into the catalog as inline rows. */
static int put_inline(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n,
		      const struct encode_batch *eb)
{
	int rc = 0;
	for (unsigned i = 0; i < n && !rc; i++) {
		struct qvl_chunk *c = cs[i];
		rc = qvl_catalog_put_inline(tm->cfg.cat, c->blob->ino, c->idx,
					    (char *)tm->bounce +
						    (size_t)i * tm->slot_size,
					    (uint32_t)eb->len[i]);
		if (rc)
			break;
		c->inlined = 1;
		tm->st.inline_frames++;
		tm->st.inline_bytes += eb->len[i];
	}
	return rc;
}

int qvl_tm_decode_inline(struct qvl_tm *tm, const void *frame, uint32_t len,
			 void *dst)
{
	struct qvl_nvme_req r = { .buf = (void *)frame, .len = len };
	size_t out;
	if (!tm->crew)
		return -EIO; /* no store: no frames */
	pthread_mutex_lock(&tm->work);
	int rc = qvl_tm_decode_frame(tm->codec[0], &r,
				     (size_t)1 << tm->cfg.chunk_shift, dst,
				     &out);
	pthread_mutex_unlock(&tm->work);
	return rc ? -EIO : 0;
}

int qvl_tm_flush(struct qvl_tm *tm, uint64_t max, uint64_t *left)
{
	int rc = 0;
	uint64_t done = 0;
	if (tm->cfg.nvme) {
		while (!max || done < max) {
			struct qvl_chunk *v[TM_BATCH];
			unsigned n = 0;
			struct qvl_chunk *c = tm->hand;
			for (uint64_t i = 0; c && i < tm->nring && n < TM_BATCH;
			     i++, c = c->next)
				if (qvl_tm_to_write(c) && !c->hold)
					v[n++] = c;
			if (!n)
				break;
			rc = qvl_tm_write_frames(tm, v, n);
			if (rc)
				break;
			done += n;
		}
	}
	if (left) {
		uint64_t d = 0;
		struct qvl_chunk *c = tm->hand;
		for (uint64_t i = 0; c && i < tm->nring; i++, c = c->next)
			d += qvl_tm_to_write(c);
		*left = d;
	}
	return rc;
}

int qvl_tm_commit(struct qvl_tm *tm, int durable)
{
	qvl_tm_remote_relieve(tm); /* a nearly full store: copies leave */
	if (tm->cfg.cat) {
		int rc = qvl_catalog_commit(tm->cfg.cat, durable);
		if (rc)
			return rc;
	}
	/* The committed state no longer refers to any of these.  Under the
	 * work lock: not while the mover writes (mover.c). */
	pthread_mutex_lock(&tm->work);
	for (size_t i = 0; i < tm->ndeferred; i++) {
		const struct tm_deferred *d = &tm->deferred[i];
		if (d->remove)
			qvl_nvme_remove(tm->cfg.nvme, d->ino);
		else
			qvl_nvme_punch(tm->cfg.nvme, d->ino, d->idx, d->slot);
	}
	pthread_mutex_unlock(&tm->work);
	tm->ndeferred = 0;
	tm->epoch++;
	tm->st.commits++;
	return 0;
}

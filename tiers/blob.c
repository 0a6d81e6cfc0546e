/*
 * blob.c - one file's bytes as a flat map of fixed-size chunks.
 *
 * map[i] is chunk i, or NULL for a hole.  A chunk's bytes are in RAM, in a
 * frame on disk, or both (see tm_i.h).  The map covers only chunks that were
 * ever written, so a sparse file costs a pointer per chunk up to its last
 * written one, and nothing for its holes' data.
 *
 * Writes are all-or-nothing: every chunk a write needs is made resident
 * (allocated, or fetched when the write covers it only in part) before any
 * byte is copied, so a failure leaves the file as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tm_i.h"


static int blob_new(struct qvl_pool *pool, struct qvl_tm *tm, unsigned shift,
		    struct qvl_blob **out)
{
	*out = NULL;
	if (shift < QVL_CHUNK_SHIFT_MIN || shift > QVL_CHUNK_SHIFT_MAX)
		return -EINVAL;
	struct qvl_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->pool = pool;
	b->tm = tm;
	b->shift = shift;
	b->chunk = (size_t)1 << shift;
	b->codec = QVL_CODEC_POLICY_AUTO;
	b->recode_next = UINT64_MAX;
	b->priority = QVL_PRIO_KEEP;
	*out = b;
	return 0;
}

int qvl_blob_create(struct qvl_pool *pool, unsigned chunk_shift,
		    struct qvl_blob **out)
{
	return blob_new(pool, NULL, chunk_shift, out);
}

int qvl_blob_create_tm(struct qvl_tm *tm, uint64_t ino, struct qvl_blob **out)
{
	int rc = blob_new(tm->cfg.pool, tm, tm->cfg.chunk_shift, out);
	if (!rc) {
		(*out)->ino = ino;
		tm->prio_blobs[QVL_PRIO_KEEP]++;
	}
	return rc;
}

void qvl_blob_set_policy(struct qvl_blob *b, uint32_t flags,
			 enum qvl_dtype dtype, enum qvl_codec_policy codec)
{
	b->flags = flags;
	b->dtype = dtype;
	b->codec = codec;
}

void qvl_blob_ram_free(struct qvl_blob *b, struct qvl_chunk *c)
{
	if (!c->ram)
		return;
	if (b->tm)
		qvl_tm_ring_del(b->tm, c);
	if (c->pins) /* replies still read it: the last one frees it */
		qvl_tm_grave_add(b->tm, c->ram, c->pins);
	else
		qvl_pool_free(b->pool, c->ram, b->chunk);
	c->pins = 0;
	c->ram = NULL;
	c->dirty = 0;
	c->inlined = 0;
	b->resident--;
}

/*
 * Forget chunk @idx entirely (truncate, punch, file deleted).  Its disk
 * frames become free space once the catalog stops referring to them.
 */
static void chunk_drop(struct qvl_blob *b, uint64_t idx)
{
	struct qvl_chunk *c = idx < b->nmap ? b->map[idx] : NULL;
	if (!c)
		return;
	qvl_blob_ram_free(b, c);
	if (b->tm)
		qvl_tm_chunk_forget(b->tm, c);
	if (c->disk_len) {
		uint32_t len = c->disk_len;
		qvl_blob_disk_set(b, c, c->disk_slot, 0);
		c->disk_len = len; /* forget_frame punches it */
		if (b->tm && b->tm->cfg.nvme)
			qvl_tm_forget_frame(b->tm, c);
	}
	if (c->busy || c->wb)
		c->orphan = 1; /* its readahead or write-back lands on
				* nothing, and frees it */
	else
		free(c);
	b->map[idx] = NULL;
}

void qvl_blob_destroy(struct qvl_blob *blob)
{
	if (!blob)
		return;
	if (blob->tm)
		blob->tm->prio_blobs[blob->priority]--;
	for (uint64_t i = 0; i < blob->nmap; i++) {
		struct qvl_chunk *c = blob->map[i];
		if (c) {
			qvl_blob_ram_free(blob, c);
			if (blob->tm)
				qvl_tm_chunk_forget(blob->tm, c);
			if (c->busy || c->wb)
				c->orphan = 1;
			else
				free(c);
		}
	}
	free(blob->map);
	blob->map = NULL;
	blob->nmap = 0;
	/* A readahead in flight still names the blob: its landing frees it. */
	if (blob->inflight)
		blob->dead = 1;
	else
		free(blob);
}

void qvl_blob_forget_store(struct qvl_blob *b)
{
	if (!b->tm || !b->tm->cfg.nvme)
		return;
	/* Even without frames the backing file may exist (truncated to 0):
	 * removing a file that is not there costs nothing. */
	qvl_tm_defer(b->tm, b->ino, 0, 0, 1);
	if (b->tm->cfg.cat)
		qvl_catalog_del_chunks(b->tm->cfg.cat, b->ino, 0);
	for (uint64_t i = 0; i < b->nmap; i++)
		if (b->map[i]) {
			qvl_tm_z_drop(b->tm, b->map[i]);
			b->map[i]->disk_len = 0;
			qvl_chunk_changed(b->map[i]);
		}
	b->on_disk = 0;
	b->disk_bytes = 0;
	b->on_remote = 0;
	b->remote_bytes = 0;
}

static int grow_map(struct qvl_blob *b, uint64_t need)
{
	if (need <= b->nmap)
		return 0;
	uint64_t cap = b->nmap ? b->nmap : 4;
	while (cap < need)
		cap *= 2;
	struct qvl_chunk **m = realloc(b->map, cap * sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m + b->nmap, 0, (cap - b->nmap) * sizeof(*m));
	b->map = m;
	b->nmap = cap;
	return 0;
}

static struct qvl_chunk *chunk_get(struct qvl_blob *b, uint64_t idx)
{
	if (b->map[idx])
		return b->map[idx];
	struct qvl_chunk *c = calloc(1, sizeof(*c));
	if (c) {
		c->blob = b;
		c->idx = idx;
		b->map[idx] = c;
	}
	return c;
}

/* Give chunk @c the fresh slot @ram and put it on the clock ring. */
void qvl_blob_ram_install(struct qvl_blob *b, struct qvl_chunk *c, void *ram)
{
	qvl_chunk_changed(c);
	c->ram = ram;
	c->ref = 1;
	b->resident++;
	if (b->tm)
		qvl_tm_ring_add(b->tm, c);
}

static void holds_release(struct qvl_blob *b, uint64_t first, uint64_t last)
{
	for (uint64_t i = first; i <= last && i < b->nmap; i++)
		if (b->map[i])
			b->map[i]->hold = 0;
}

/*
 * Make chunks [first, last] resident, all or nothing.  Chunks that are only
 * on disk are fetched unless the caller overwrites them entirely: those
 * are [@whole_first, @whole_end), an empty range when whole_first >=
 * whole_end.  On success every chunk in the range is resident
 * and held (hold = 1); the caller releases the holds.
 */
static int make_resident(struct qvl_blob *b, uint64_t first, uint64_t last,
			 uint64_t whole_first, uint64_t whole_end)
{
	int rc = grow_map(b, last + 1);
	if (rc)
		return rc;
	size_t need = 0;
	uint64_t zcost = 0;
	for (uint64_t i = first; i <= last; i++) {
		struct qvl_chunk *c = b->map[i];
		int whole = i >= whole_first && i < whole_end;
		if (c) /* nothing in the range leaves RAM to make room */
			c->hold = 1;
		if (!c || !c->ram)
			need++;
		if (c && !c->ram && !whole && b->tm)
			zcost += qvl_tm_z_cost(b->tm, c);
		if (c && c->lost && !(i >= whole_first && i < whole_end)) {
			rc = -ESTALE;
			goto out_release;
		}
	}
	if (!need)
		return 0;
	if (b->tm) {
		rc = qvl_tm_make_room(b->tm, need * b->chunk + zcost);
		if (rc)
			goto out_release;
	}
	void *small[4];
	void **fresh = need <= 4 ? small : malloc(need * sizeof(*fresh));
	/* fetch[0..need): chunks to read from disk; inst[0..need): chunks
	 * given RAM by this call, undone on failure. */
	struct qvl_chunk *csmall[8];
	struct qvl_chunk **fetch = need <= 4 ? csmall
					     : malloc(2 * need * sizeof(*fetch));
	struct qvl_chunk **inst = fetch ? fetch + need : NULL;
	size_t k = 0;
	unsigned nfetch = 0;
	if (!fresh || !fetch) {
		rc = -ENOMEM;
		goto out_free;
	}
	/* Raw slots: each is fetched, overwritten whole, or cleared below. */
	rc = qvl_pool_alloc_n_raw(b->pool, b->chunk, need, fresh);
	if (rc)
		goto out_free;
	for (uint64_t i = first; i <= last; i++) {
		struct qvl_chunk *c = b->map[i];
		if (c && c->ram)
			continue;
		c = chunk_get(b, i);
		if (!c) {
			/* give back what was not installed */
			for (size_t j = k; j < need; j++)
				qvl_pool_free(b->pool, fresh[j], b->chunk);
			rc = -ENOMEM;
			goto out_undo;
		}
		inst[k] = c;
		qvl_blob_ram_install(b, c, fresh[k++]);
		c->hold = 1;
		int whole = i >= whole_first && i < whole_end;
		if (c->disk_len && !whole)
			fetch[nfetch++] = c;
		else if (!whole)
			memset(c->ram, 0, b->chunk); /* a hole written in part */
	}
	if (nfetch)
		rc = qvl_tm_fetch(b->tm, fetch, nfetch);
	if (rc)
		goto out_undo;
	for (size_t j = 0; j < k; j++)
		inst[j]->lost = 0; /* overwritten whole: valid again */
	goto out_free;

out_undo:
	/* Nothing this call brought into RAM may stay: the slots of chunks
	 * the caller meant to overwrite whole hold no bytes of this file. */
	for (size_t j = 0; j < k; j++)
		qvl_blob_ram_free(b, inst[j]);
out_free:
	if (fresh != small)
		free(fresh);
	if (fetch != csmall)
		free(fetch);
	if (!rc)
		return 0;
out_release:
	holds_release(b, first, last);
	return rc;
}

static int check_range(uint64_t off, uint64_t len)
{
	if (off > QVL_BLOB_MAX_SIZE || len > QVL_BLOB_MAX_SIZE - off)
		return -EFBIG;
	return 0;
}

/* Chunks of readahead past a read's end: what the file's advice says, or
 * the window the tier manager has learned. */
unsigned qvl_blob_ra_window(const struct qvl_blob *b)
{
	if (b->flags & QVL_BLOB_RANDOM)
		return 0;
	if (b->flags & QVL_BLOB_SEQUENTIAL)
		return TM_BATCH - 1;
	return b->tm->ra_win;
}

/* A chunk only on disk. */
static int fetchable(const struct qvl_chunk *c)
{
	return c && !c->ram && c->disk_len;
}

/* The read's own chunks in [@first, @last] that must come from the
 * store (not as frames in RAM: those decode at once), planned into @ah to
 * be read and decoded without the lock, after room is made for them and
 * their frames (nothing of the range leaves for it, nor a chunk another
 * reader is part way through).  2 when planned; 0 when none, or no such
 * room (the caller fetches under the lock, or reads around); -EAGAIN
 * after waiting for a landing, with two such batches in flight.  Chunks
 * in [@whole_first, @whole_end) are left out (a write covers them whole). */
static int plan_own(struct qvl_blob *b, uint64_t first, uint64_t last,
		    uint64_t whole_first, uint64_t whole_end, int remote_only,
		    struct qvl_ahead *ah)
{
	struct qvl_chunk *cs[QVL_AHEAD_MAX];
	unsigned n = 0;
	uint64_t zcost = 0;
	for (uint64_t i = first; i <= last && i < b->nmap && n < QVL_AHEAD_MAX;
	     i++) {
		struct qvl_chunk *c = b->map[i];
		if ((i >= whole_first && i < whole_end) ||
		    (remote_only && (!c || !qvl_chunk_remote(c))))
			continue;
		if (fetchable(c) && !c->z && !c->busy && !c->lost) {
			cs[n++] = c;
			zcost += qvl_tm_z_cost(b->tm, c);
		}
	}
	if (!n)
		return 0;
	/* One batch decoding and one on the disk is all the disk and the
	 * crew can use (AHEAD_LANES).  More would only hold
	 * RAM in flight, and with 64 streams that RAM came out of what the
	 * streams were still reading (the store served 2x what they read).
	 * Wait for a landing instead (only a READ that needs the store). */
	if (b->tm->own_inflight >= 2) {
		b->tm->st.ahead_waits++;
		pthread_cond_wait(&b->tm->landed, b->tm->cfg.lock);
		return -EAGAIN;
	}
	for (uint64_t i = first; i <= last && i < b->nmap; i++)
		if (b->map[i])
			b->map[i]->hold = 1;
	int rc = qvl_tm_make_room_spent(b->tm, n * b->chunk + zcost);
	holds_release(b, first, last);
	return !rc && qvl_tm_ahead_plan_own(b, cs, n, ah) ? 2 : 0;
}

/* Fetch the chunks of [off, off+len) that are only on disk, with up to
 * TM_BATCH chunks after them as readahead -- unless @ah, where the
 * readahead is planned after the copy and run without the lock, a chunk
 * of the read in flight is waited for (-EAGAIN: look again), and with
 * @ah->own_ok the read's own chunks are planned into @ah (2: run it, then
 * look again).  Returns 1 when the read's own bytes were fetched, 0, 2,
 * or an error. */
static int fetch_for_read(struct qvl_blob *b, uint64_t off, size_t len,
			  struct qvl_ahead *ah)
{
	uint64_t first = off >> b->shift, last = (off + len - 1) >> b->shift;
	uint64_t fetched = b->tm->st.fetched;
	for (uint64_t i = first; ah && i <= last && i < b->nmap; i++) {
		if (b->map[i] && b->map[i]->busy) {
			b->tm->st.ahead_waits++;
			b->tm->st.pf_late += b->map[i]->ra == RA_NEXT;
			pthread_cond_wait(qvl_tm_chunk_cv(b->tm, b->map[i]),
					  b->tm->cfg.lock);
			return -EAGAIN;
		}
	}
	if (ah && ah->own_ok && b->tm->cfg.nvme) {
		int rc = plan_own(b, first, last, 0, 0, 0, ah);
		if (rc)
			return rc;
	}
	for (uint64_t i = first; i <= last && i < b->nmap; i++) {
		struct qvl_chunk *c = b->map[i];
		if (c && c->lost)
			return -ESTALE;
		if (!c || c->ram || !c->disk_len)
			continue;
		/* A run of disk-only chunks from i, up to the readahead
		 * window past the read's end: fetch it in one batch. */
		uint64_t end = i, stop = last;
		if (!ah)
			stop += qvl_blob_ra_window(b);
		while (end + 1 < b->nmap && end + 1 - i < TM_BATCH &&
		       end + 1 <= stop &&
		       (end + 1 <= last
				? fetchable(b->map[end + 1])
				: qvl_chunk_worth_ahead(b->map[end + 1])))
			end++;
		int rc = make_resident(b, i, end, 1, 0);
		/* Readahead that did not fit, or a bad frame in it, is no
		 * reason to fail the read: retry without it. */
		if (rc && end > last) {
			end = last;
			rc = make_resident(b, i, end, 1, 0);
		}
		if (rc == -ENOSPC)
			return 0; /* no room: the copy reads around RAM */
		if (rc)
			return rc;
		holds_release(b, i, end);
		for (uint64_t j = last + 1; j <= end; j++)
			b->map[j]->ra = RA_FILE;
		b->tm->st.ra_chunks += end > last ? end - last : 0;
		qvl_tm_ra_calm(b->tm, (unsigned)(end - i + 1));
		i = end;
	}
	/* The read's own bytes came from the store: it waited for it. */
	if (b->tm->st.fetched != fetched)
		return 1;
	/* The read copies right after, so none of these can be evicted. */
	return 0;
}

/*
 * Chunks that fit in the budget's free room, one chunk's worth kept free.
 * What is fetched before any read asks for it only takes room nobody
 * uses.  In a loop larger than RAM (always full) it would evict what the
 * loop needs soon and cost more fetches than it saves (measured: 20-30%
 * more chunks fetched per pass, and the page cache grew at the compressed
 * tier's expense past stream_loop.sh's memory bound); on a cold pass, or
 * a loop that fits, it hides the waits.
 */
uint64_t qvl_blob_room_chunks(const struct qvl_blob *b)
{
	int64_t avail = qvl_pool_avail(b->pool);
	return avail > (int64_t)b->chunk ? ((uint64_t)avail - b->chunk) >> b->shift
					 : 0;
}

/*
 * A read of @b's last chunks: bring in the head of the file that has
 * followed @b most often (succ.c), as far as the readahead window, while
 * the reader still works through @b's tail.  The next file's first read
 * then finds its bytes in RAM instead of waiting for the store.  A hint:
 * no room or a bad frame just means no prefetch.
 */
static void prefetch_next(struct qvl_blob *b)
{
	struct qvl_tm *tm = b->tm;
	struct qvl_blob *n = qvl_tm_succ_blob(tm, b);
	if (!n)
		return;
	/* The head, as much as a first read's readahead would fetch, into
	 * free room only (room_chunks): the first reads find their bytes
	 * here, and their use of them reads further ahead (read_ahead_of). */
	uint64_t want = qvl_blob_ra_window(n) + 1, end = 0;
	uint64_t room = qvl_blob_room_chunks(b);
	if (want > room)
		want = room;
	if (!want)
		return;
	if (!qvl_chunk_worth_ahead(n->map[0]))
		return; /* a hole, or already here */
	while (end + 1 < n->nmap && end + 1 < want &&
	       qvl_chunk_worth_ahead(n->map[end + 1]))
		end++;
	if (make_resident(n, 0, end, 1, 0))
		return;
	holds_release(n, 0, end);
	for (uint64_t j = 0; j <= end; j++)
		n->map[j]->ra = RA_NEXT;
	tm->st.pf_chunks += end + 1;
}

/*
 * A read used a chunk that came in ahead of it (readahead, or a prefetched
 * head): while half the window or more is still ahead of the read, do
 * nothing; else fetch the window full again now, in one batch, so the
 * read after it finds its bytes instead of missing and waiting (as a
 * readahead started only by a miss would make every window's first read
 * wait).  Like the kernel's readahead marker.
 */
static void read_ahead_of(struct qvl_blob *b, uint64_t last)
{
	uint64_t win = qvl_blob_ra_window(b), i = last + 1, stop = last + win;
	uint64_t room = qvl_blob_room_chunks(b);
	while (i <= stop && i < b->nmap && !qvl_chunk_worth_ahead(b->map[i]))
		i++;
	if (i > stop || i >= b->nmap || i - last - 1 > win / 2)
		return;
	if (!room)
		return;
	uint64_t end = i;
	while (end + 1 <= stop && end + 1 < b->nmap && end + 1 - i < TM_BATCH &&
	       end + 1 - i < room && qvl_chunk_worth_ahead(b->map[end + 1]))
		end++;
	if (make_resident(b, i, end, 1, 0))
		return; /* a hint: no room is no error */
	holds_release(b, i, end);
	for (uint64_t j = i; j <= end; j++)
		b->map[j]->ra = RA_FILE;
	b->tm->st.ra_chunks += end - i + 1;
	qvl_tm_ra_calm(b->tm, (unsigned)(end - i + 1));
}

/* A read of [off, off+len) of @b: learn the order files are read in, read
 * further ahead when it used what was read ahead (@ahead_used), and
 * prefetch the next file's head near this one's end. */
static void note_read(struct qvl_blob *b, uint64_t off, size_t len,
		      int ahead_used, struct qvl_ahead *ah)
{
	struct qvl_tm *tm = b->tm;
	tm->st.reads++;
	if (off < b->chunk && tm->last_ino != b->ino)
		qvl_tm_succ_note(tm, tm->last_ino, b->ino);
	tm->last_ino = b->ino;
	uint64_t last = (off + len - 1) >> b->shift;
	if (ah) {
		qvl_tm_ahead_plan(b, last, ah);
		return;
	}
	if (ahead_used && qvl_blob_ra_window(b))
		read_ahead_of(b, last);
	if (b->nmap && !(b->flags & QVL_BLOB_RANDOM) &&
	    last + qvl_blob_ra_window(b) + 1 >= b->nmap)
		prefetch_next(b);
}

static int read_through(struct qvl_blob *b, struct qvl_chunk *c, char *dst,
			size_t in, size_t n)
{
	char *tmp = malloc(b->chunk);
	if (!tmp)
		return -ENOMEM;
	int rc = qvl_tm_read_through(b->tm, c, tmp);
	if (!rc)
		memcpy(dst, tmp + in, n);
	free(tmp);
	return rc;
}

int qvl_blob_read(struct qvl_blob *b, void *buf, size_t len, uint64_t off)
{
	return qvl_blob_read_flags(b, buf, len, off, 0);
}

int qvl_blob_read_flags(struct qvl_blob *b, void *buf, size_t len,
			uint64_t off, unsigned flags)
{
	return qvl_blob_read_ahead(b, buf, len, off, flags, NULL, NULL);
}

/* The read's bytes, from where fetch_for_read() left them, into @buf or
 * (@r) pinned where they are. */
static int read_copy(struct qvl_blob *b, char *dst, size_t len, uint64_t off,
		     unsigned flags, struct qvl_reply *r, int *ahead_used)
{
	while (len) {
		uint64_t idx = off >> b->shift;
		size_t in = (size_t)(off & (b->chunk - 1));
		size_t n = b->chunk - in < len ? b->chunk - in : len;
		struct qvl_chunk *c = idx < b->nmap ? b->map[idx] : NULL;
		if (c && !c->ram && (c->disk_len || c->lost)) {
			/* Not brought in above (no room, or evicted again by
			 * the readahead of a later run). */
			int rc = make_resident(b, idx, idx, 1, 0);
			if (rc == -ENOSPC && c->disk_len) {
				/* RAM is full of what cannot leave it (dirty
				 * data a full store refuses): read around. */
				rc = read_through(b, c, dst, in, n);
				if (rc)
					return rc;
				qvl_reply_buf(r, dst, n);
				goto next;
			}
			if (rc)
				return rc;
			c->hold = 0;
		}
		if (c && c->ram) {
			qvl_reply_take(r, dst, c, in, n);
			c->ref = 1;
			if (b->tm) {
				*ahead_used |= c->ra != 0;
				qvl_tm_ra_used(b->tm, c);
				if (!(flags & QVL_IO_UNCACHED))
					qvl_tm_pc_note(b->tm, c, in + n);
			}
		} else {
			memset(dst, 0, n);
			qvl_reply_buf(r, dst, n);
		}
next:
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

int qvl_blob_read_ahead(struct qvl_blob *b, void *buf, size_t len,
			uint64_t off, unsigned flags, struct qvl_ahead *ah,
			struct qvl_reply *r)
{
	if (r) {
		r->n = r->npin = 0;
		if (!b->tm)
			r = NULL; /* nothing to pin with: copy */
	}
	if (ah) {
		ah->blob = NULL;
		ah->n = 0;
		if (!b->tm || !b->tm->cfg.lock || !b->tm->abounce)
			ah = NULL; /* all of it in here, then */
	}
	if (!len)
		return 0;
	const uint64_t off0 = off;
	const size_t len0 = len;
	int ahead_used = 0;
	/* A second call for the read, after its own chunks landed. */
	int again = ah && ah->own;
	if (ah)
		ah->own = 0;
	if (b->tm && !again) /* what making room evicts follows the prediction */
		qvl_tm_pred_read(b->tm, b, off, len);
	if (b->tm && (b->on_disk || b->flags & QVL_BLOB_DROPPABLE)) {
		int rc, waited = 0;
		while ((rc = fetch_for_read(b, off, len, ah)) == -EAGAIN)
			waited = 1; /* for a readahead of its bytes in flight */
		if (rc < 0)
			return rc;
		if (rc == 2) { /* its own chunks: fetched without the lock */
			b->tm->st.reads_waited++;
			return QVL_READ_PLANNED;
		}
		/* Its own bytes came from the store, now or in flight. */
		b->tm->st.reads_waited += rc || waited;
	}
	int rc = read_copy(b, buf, len, off, flags, r, &ahead_used);
	if (rc) {
		if (r)
			qvl_tm_reply_done(b->tm, r);
		return rc;
	}
	if (b->tm) {
		/* After the copy: the prefetch may evict what it came from. */
		note_read(b, off0, len0, ahead_used, ah);
		qvl_tm_settle(b->tm);
	}
	return 0;
}

/* Wait until no chunk in [@first, @last] is being coded by the mover
 * (tiers/mover.c): the coder must see bytes that hold still (a torn input
 * is not only a torn frame: the coder's passes disagree on sizes).  The
 * caller's lock is let go while waiting: call before changing anything. */
static void wb_settle(struct qvl_blob *b, uint64_t first, uint64_t last)
{
	struct qvl_tm *tm = b->tm;
	if (!tm || !tm->mover_on)
		return;
again:
	for (uint64_t i = first; i <= last && i < b->nmap; i++) {
		if (b->map[i] && b->map[i]->wb) {
			tm->st.mover_waits++;
			pthread_cond_wait(&tm->landed, tm->cfg.lock);
			goto again;
		}
	}
}

/* May chunks of [@off, @off+@len) be planned as a caller's own batch?
 * (An empty @ah either way.) */
static int may_plan(struct qvl_blob *b, uint64_t off, uint64_t len,
		    struct qvl_ahead *ah)
{
	ah->blob = NULL;
	ah->n = 0;
	return len && !check_range(off, len) && b->tm && b->tm->cfg.lock &&
	       b->tm->abounce && b->tm->cfg.nvme &&
	       (b->on_disk || b->flags & QVL_BLOB_DROPPABLE);
}

int qvl_blob_plan_write(struct qvl_blob *b, uint64_t off, size_t len,
			struct qvl_ahead *ah)
{
	if (!may_plan(b, off, len, ah))
		return 0;
	uint64_t first = off >> b->shift, last = (off + len - 1) >> b->shift;
	return plan_own(b, first, last, (off + b->chunk - 1) >> b->shift,
			(off + len) >> b->shift, 0, ah);
}

int qvl_blob_plan_fetch(struct qvl_blob *b, uint64_t off, uint64_t len,
			int remote_only, struct qvl_ahead *ah)
{
	if (!may_plan(b, off, len, ah))
		return 0;
	return plan_own(b, off >> b->shift, (off + len - 1) >> b->shift, 0, 0,
			remote_only, ah);
}

int qvl_blob_write(struct qvl_blob *b, const void *buf, size_t len,
		   uint64_t off)
{
	return qvl_blob_write_flags(b, buf, len, off, 0);
}

int qvl_blob_write_flags(struct qvl_blob *b, const void *buf, size_t len,
			 uint64_t off, unsigned flags)
{
	if (!len)
		return 0;
	int rc = check_range(off, len);
	if (rc)
		return rc;
	uint64_t first = off >> b->shift, last = (off + len - 1) >> b->shift;
	wb_settle(b, first, last);
	/* Chunks the write covers whole need no fetch. */
	uint64_t ff = (off + b->chunk - 1) >> b->shift;
	uint64_t fl = ((off + len) >> b->shift);
	rc = make_resident(b, first, last, ff, fl);
	if (rc)
		return rc;
	const char *src = buf;
	while (len) {
		uint64_t idx = off >> b->shift;
		size_t in = (size_t)(off & (b->chunk - 1));
		size_t n = b->chunk - in < len ? b->chunk - in : len;
		struct qvl_chunk *c = b->map[idx];
		memcpy((char *)c->ram + in, src, n);
		qvl_chunk_dirtied(c);
		c->ref = 1;
		if (b->tm) {
			qvl_tm_z_drop(b->tm, c); /* its frame is old now */
			if (!(flags & QVL_IO_UNCACHED))
				qvl_tm_pc_note(b->tm, c, in + n);
		}
		src += n;
		off += n;
		len -= n;
	}
	holds_release(b, first, last);
	b->version++;
	if (b->tm)
		qvl_tm_settle(b->tm);
	return 0;
}

int qvl_blob_reserve(struct qvl_blob *b, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	int rc = check_range(off, len);
	if (rc)
		return rc;
	uint64_t first = off >> b->shift, last = (off + len - 1) >> b->shift;
	rc = make_resident(b, first, last, 1, 0);
	if (!rc)
		holds_release(b, first, last);
	return rc;
}

/* Zero [off, off+len) inside one chunk, fetching it if it is on disk. */
static void zero_part(struct qvl_blob *b, uint64_t off, uint64_t len)
{
	uint64_t idx = off >> b->shift;
	struct qvl_chunk *c = idx < b->nmap ? b->map[idx] : NULL;
	if (!c)
		return;
	if (!c->ram) {
		/* On disk only: bring it in to zero a part of it.  If that
		 * fails the chunk keeps its bytes; punch and truncate are
		 * documented as best effort for partial chunks on disk. */
		if (make_resident(b, idx, idx, 1, 0))
			return;
		c->hold = 0;
	}
	memset((char *)c->ram + (off & (b->chunk - 1)), 0, len);
	qvl_chunk_dirtied(c);
	if (b->tm)
		qvl_tm_z_drop(b->tm, c);
}

int qvl_blob_prepare_cut(struct qvl_blob *b, uint64_t off, uint64_t len)
{
	uint64_t ends[2] = { off, len > QVL_BLOB_MAX_SIZE - off ? off : off + len };
	for (int k = 0; k < 2; k++) {
		uint64_t idx = ends[k] >> b->shift;
		struct qvl_chunk *c = idx < b->nmap ? b->map[idx] : NULL;
		if (!(ends[k] & (b->chunk - 1)) || !c || c->ram ||
		    !qvl_chunk_remote(c))
			continue;
		int rc = make_resident(b, idx, idx, 1, 0);
		if (rc)
			return rc;
		c->hold = 0;
	}
	return 0;
}

void qvl_blob_punch(struct qvl_blob *b, uint64_t off, uint64_t len)
{
	if (off >= QVL_BLOB_MAX_SIZE)
		return; /* nothing can be stored there */
	if (len > QVL_BLOB_MAX_SIZE - off)
		len = QVL_BLOB_MAX_SIZE - off;
	uint64_t end = off + len;
	/* The chunks at the ends are zeroed in part (the rest is dropped,
	 * which needs no wait; one range, so both ends are settled at once). */
	wb_settle(b, off >> b->shift, (end - 1) >> b->shift);
	while (off < end) {
		uint64_t cstart = off & ~(uint64_t)(b->chunk - 1);
		uint64_t cend = cstart + b->chunk;
		uint64_t stop = cend < end ? cend : end;
		if (off == cstart && stop == cend) {
			chunk_drop(b, off >> b->shift);
			if (b->tm && b->tm->cfg.cat)
				qvl_catalog_del_chunk(b->tm->cfg.cat, b->ino,
						      off >> b->shift);
		} else {
			zero_part(b, off, stop - off);
		}
		off = stop;
	}
	b->version++;
}

void qvl_blob_truncate(struct qvl_blob *b, uint64_t size)
{
	if (size > QVL_BLOB_MAX_SIZE)
		size = QVL_BLOB_MAX_SIZE;
	if (size & (b->chunk - 1)) /* zeroed in part below */
		wb_settle(b, size >> b->shift, size >> b->shift);
	uint64_t first_whole = (size + b->chunk - 1) >> b->shift;
	for (uint64_t i = first_whole; i < b->nmap; i++)
		chunk_drop(b, i);
	if (b->tm && b->tm->cfg.cat)
		qvl_catalog_del_chunks(b->tm->cfg.cat, b->ino, first_whole);
	if (size & (b->chunk - 1))
		zero_part(b, size, b->chunk - (size & (b->chunk - 1)));
	b->version++;
}

void qvl_blob_disk_set(struct qvl_blob *b, struct qvl_chunk *c,
		       uint32_t slot, uint32_t len)
{
	if (c->disk_len) {
		b->on_disk--;
		if (qvl_chunk_remote(c)) {
			b->on_remote--;
			b->remote_bytes -= c->disk_len;
		} else {
			b->disk_bytes -= c->disk_len;
		}
	}
	c->disk_slot = (uint8_t)slot;
	c->disk_len = len;
	if (!len)
		return;
	b->on_disk++;
	if (qvl_chunk_remote(c)) {
		b->on_remote++;
		b->remote_bytes += len;
	} else {
		b->disk_bytes += len;
	}
}

int qvl_blob_attach_frame(struct qvl_blob *b, uint64_t idx, uint32_t slot,
			  uint32_t len)
{
	if ((slot > 1 && slot != QVL_CAT_SLOT_REMOTE) || !len ||
	    len > qvl_codec_bound(b->chunk))
		return -EINVAL;
	if (idx >= (QVL_BLOB_MAX_SIZE >> b->shift))
		return -EFBIG;
	int rc = grow_map(b, idx + 1);
	if (rc)
		return rc;
	struct qvl_chunk *c = chunk_get(b, idx);
	if (!c)
		return -ENOMEM;
	qvl_blob_disk_set(b, c, slot, len);
	/* A remote frame's key comes next (qvl_blob_attach_key); until then
	 * it names no frame, and a read of it fails as for a bad one. */
	memset(&c->rk, 0, sizeof(c->rk));
	c->rlen = len;
	c->rbacked = slot == QVL_CAT_SLOT_REMOTE;
	qvl_chunk_changed(c);
	c->wepoch = 0; /* committed before this mount (epochs start at 1) */
	c->cslot_before = -1;
	return 0;
}

int qvl_blob_attach_key(struct qvl_blob *b, uint64_t idx,
			const struct qvl_rkey *key, uint32_t rlen)
{
	struct qvl_chunk *c = idx < b->nmap ? b->map[idx] : NULL;
	if (!c || !c->disk_len)
		return -ENOENT;
	c->rk = *key;
	c->rlen = qvl_chunk_remote(c) ? c->disk_len : rlen;
	c->rbacked = 1;
	if (b->tm) /* a copy in the store: one the store may drop */
		qvl_tm_remote_cached(b->tm, c);
	qvl_chunk_changed(c);
	return 0;
}

int qvl_blob_attach_remote(struct qvl_blob *b, uint64_t idx, uint32_t len,
			   const struct qvl_rkey *key)
{
	int rc = qvl_blob_attach_frame(b, idx, QVL_CAT_SLOT_REMOTE, len);
	if (rc)
		return rc;
	if (b->tm && b->tm->cfg.cat) {
		struct qvl_cat_chunk row = { b->ino, idx, QVL_CAT_SLOT_REMOTE,
					     len, key, len };
		rc = qvl_catalog_put_chunk(b->tm->cfg.cat, &row);
		if (rc) {
			/* Its chunk row may be in already (the key's put
			 * failed): neither stays. */
			qvl_catalog_del_chunk(b->tm->cfg.cat, b->ino, idx);
			chunk_drop(b, idx);
			return rc;
		}
	}
	return qvl_blob_attach_key(b, idx, key, len);
}

/* Dirty resident chunks of this blob, written in batches. */
int qvl_blob_flush(struct qvl_blob *b)
{
	if (!b->tm || !b->tm->cfg.nvme || (b->flags & QVL_BLOB_NO_STORE))
		return 0;
	struct qvl_chunk *batch[TM_BATCH];
	unsigned n = 0;
	for (uint64_t i = 0; i < b->nmap; i++) {
		struct qvl_chunk *c = b->map[i];
		if (!c || !c->ram || !c->dirty)
			continue;
		batch[n++] = c;
		if (n == TM_BATCH) {
			int rc = qvl_tm_write_frames(b->tm, batch, n);
			if (rc)
				return rc;
			n = 0;
		}
	}
	return n ? qvl_tm_write_frames(b->tm, batch, n) : 0;
}

int qvl_blob_fsync(struct qvl_blob *b)
{
	if (!b->tm || !b->tm->cfg.nvme || (b->flags & QVL_BLOB_NO_STORE))
		return 0;
	struct qvl_chunk *batch[QVL_INLINE_CHUNKS];
	unsigned n = 0;
	for (uint64_t i = 0; i < b->nmap; i++) {
		struct qvl_chunk *c = b->map[i];
		if (!c || !c->ram || !c->dirty || c->inlined)
			continue;
		if (n == QVL_INLINE_CHUNKS)
			return qvl_blob_flush(b); /* not a small change */
		batch[n++] = c;
	}
	if (!n)
		return 0;
	int rc = qvl_tm_write_inline(b->tm, batch, n);
	return rc == -EOPNOTSUPP ? qvl_blob_flush(b) : rc;
}

int qvl_blob_replay_inline(struct qvl_blob *b, uint64_t idx,
			   const void *frame, uint32_t len)
{
	if (!b->tm || idx >= QVL_BLOB_MAX_SIZE >> b->shift)
		return -EFBIG;
	char *tmp = malloc(b->chunk);
	if (!tmp)
		return -ENOMEM;
	int rc = qvl_tm_decode_inline(b->tm, frame, len, tmp);
	if (!rc)
		rc = qvl_blob_write_flags(b, tmp, b->chunk, idx << b->shift,
					  QVL_IO_UNCACHED);
	free(tmp);
	if (rc)
		return rc;
	b->map[idx]->inlined = 1; /* RAM is what the row holds */
	b->tm->st.inline_replayed++;
	return 0;
}

int qvl_blob_evict(struct qvl_blob *b)
{
	if (!b->tm || (b->flags & (QVL_BLOB_PINNED | QVL_BLOB_NO_STORE)) ||
	    !b->tm->cfg.nvme)
		return 0;
	int rc = qvl_blob_flush(b);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < b->nmap; i++) {
		struct qvl_chunk *c = b->map[i];
		if (!c || c->hold || !c->disk_len || (c->ram && c->dirty))
			continue;
		qvl_tm_pc_drop(b->tm, c);
		qvl_tm_z_drop(b->tm, c);
		if (c->ram)
			qvl_tm_leave_ram(b->tm, c);
	}
	return 0;
}

int qvl_blob_load(struct qvl_blob *b, uint64_t size)
{
	if (!size || !b->on_disk)
		return 0;
	int rc = fetch_for_read(b, 0, size, NULL);
	if (rc < 0)
		return rc;
	/* fetch_for_read() leaves what does not fit on disk. */
	uint64_t ram, disk;
	qvl_blob_residency(b, &ram, &disk);
	return disk ? -ENOSPC : 0;
}

uint64_t qvl_blob_resident(const struct qvl_blob *b)
{
	return (b->resident << b->shift) + b->zbytes;
}

void qvl_blob_set_priority(struct qvl_blob *b, unsigned priority)
{
	uint8_t p = (uint8_t)(priority > 9 ? 9 : priority);
	if (b->tm) {
		b->tm->prio_blobs[b->priority]--;
		b->tm->prio_blobs[p]++;
	}
	b->priority = p;
}

void qvl_blob_recode_start(struct qvl_blob *b)
{
	if (b->tm && b->tm->cfg.nvme && b->on_disk &&
	    !(b->flags & QVL_BLOB_NO_STORE))
		b->recode_next = 0;
}

int qvl_blob_recode_step(struct qvl_blob *b, unsigned max)
{
	struct qvl_chunk *fetched[TM_BATCH];
	unsigned nf = 0, done = 0;
	int rc = 0;
	if (max > TM_BATCH)
		max = TM_BATCH;
	uint64_t i = b->recode_next;
	for (; i < b->nmap && done < max; i++) {
		struct qvl_chunk *c = b->map[i];
		if (!c || !c->disk_len || c->dirty)
			continue; /* a hole, or a write will encode it anyway */
		if (c->rbacked)
			continue; /* the remote frame's coding, kept (a copy) */
		if (!c->ram) {
			rc = make_resident(b, i, i, 1, 0);
			if (rc == -ENOSPC && done) {
				rc = 0; /* RAM is full of this step: write it */
				break;
			}
			if (rc == -EIO) { /* a bad frame stays as it is */
				rc = 0;
				continue;
			}
			if (rc)
				break;
			fetched[nf++] = c;
		}
		qvl_chunk_dirtied(c); /* same bytes, again with the codec */
		qvl_tm_z_drop(b->tm, c);
		done++;
	}
	if (!rc)
		rc = qvl_blob_flush(b);
	/* What was fetched for this leaves again once written (holds off). */
	for (unsigned k = 0; k < nf; k++) {
		fetched[k]->hold = 0;
		if (!fetched[k]->dirty)
			qvl_tm_leave_ram(b->tm, fetched[k]);
	}
	if (rc)
		return rc; /* recode_next unchanged past the failure: retried */
	b->recode_next = i < b->nmap ? i : UINT64_MAX;
	return b->recode_next != UINT64_MAX;
}

uint64_t qvl_blob_unbacked_from(const struct qvl_blob *b)
{
	if (!b->tm || (b->flags & QVL_BLOB_NO_STORE))
		return UINT64_MAX;
	for (uint64_t i = 0; i < b->nmap; i++)
		if (b->map[i] && qvl_tm_to_write(b->map[i]) &&
		    !b->map[i]->inlined)
			return i << b->shift;
	return UINT64_MAX;
}

uint64_t qvl_blob_extent(const struct qvl_blob *b)
{
	for (uint64_t i = b->nmap; i > 0; i--)
		if (b->map[i - 1])
			return i << b->shift;
	return 0;
}

uint64_t qvl_blob_disk_bytes(const struct qvl_blob *b)
{
	return b->disk_bytes;
}

uint64_t qvl_blob_remote_only(const struct qvl_blob *b)
{
	uint64_t n = 0;
	if (b->on_remote)
		for (uint64_t i = 0; i < b->nmap; i++) {
			const struct qvl_chunk *c = b->map[i];
			n += c && !c->ram && !c->z && qvl_chunk_remote(c);
		}
	return n;
}

int qvl_blob_chunk_remote(const struct qvl_blob *b, uint64_t idx)
{
	return idx < b->nmap && b->map[idx] && qvl_chunk_remote(b->map[idx]);
}

uint64_t qvl_blob_remote_bytes(const struct qvl_blob *b, uint64_t *chunks)
{
	if (chunks)
		*chunks = b->on_remote;
	return b->remote_bytes;
}

void qvl_blob_residency(const struct qvl_blob *b, uint64_t *in_ram,
			uint64_t *disk_only)
{
	uint64_t d = 0, z = 0;
	if (b->on_disk)
		for (uint64_t i = 0; i < b->nmap; i++) {
			const struct qvl_chunk *c = b->map[i];
			if (c && !c->ram && c->z)
				z++; /* compressed, but in RAM */
			else if (c && !c->ram && c->disk_len)
				d++;
		}
	*in_ram = b->resident + z;
	*disk_only = d;
}

int qvl_blob_lost(const struct qvl_blob *b)
{
	for (uint64_t i = 0; i < b->nmap; i++)
		if (b->map[i] && b->map[i]->lost)
			return 1;
	return 0;
}

uint64_t qvl_blob_version(const struct qvl_blob *b)
{
	return b->version;
}

int qvl_blob_seek(const struct qvl_blob *b, uint64_t size, uint64_t off,
		  int data, uint64_t *out)
{
	if (off >= size)
		return -ENXIO;
	uint64_t i = off >> b->shift;
	while (i < b->nmap && (i << b->shift) < size &&
	       (b->map[i] != NULL) != (data != 0))
		i++; /* a hole looking for data, or data looking for a hole */
	uint64_t at = i << b->shift;
	if (at >= size || (data && i >= b->nmap))
		return data ? -ENXIO : (*out = size, 0);
	*out = at > off ? at : off;
	return 0;
}

int qvl_blob_checksum(struct qvl_blob *b, uint64_t size, uint64_t *out)
{
	struct qvl_sum *sum;
	void *buf = malloc(b->chunk);
	int rc = buf ? qvl_sum_new(&sum) : -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	/* Holes (no chunk) add nothing to the sum: skipped, not read. */
	for (uint64_t i = 0; i < b->nmap && (i << b->shift) < size; i++) {
		struct qvl_chunk *c = b->map[i];
		uint64_t off = i << b->shift;
		size_t n = size - off < b->chunk ? (size_t)(size - off) : b->chunk;
		if (!c)
			continue;
		if (c->ram) {
			qvl_sum_data(sum, off, c->ram, n);
			continue;
		}
		/* On disk only: decode beside RAM, so hashing a spilled file
		 * does not evict everything else to bring it back. */
		if (c->disk_len && b->tm)
			rc = qvl_tm_read_through(b->tm, c, buf);
		else
			rc = qvl_blob_read(b, buf, n, off);
		if (rc)
			break;
		qvl_sum_data(sum, off, buf, n);
	}
	uint64_t h = qvl_sum_end(sum, size);
	if (!rc)
		*out = h;
	free(buf);
	return rc;
}

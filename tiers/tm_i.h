/*
 * tm_i.h - what blob.c and the tier manager (tm*.c) share.
 *
 * A chunk that is neither in RAM nor on disk is a hole and has no struct.
 * A chunk's bytes may be, at once: raw in a pool slot (ram, on the clock
 * ring), a copy of its disk frame in RAM (z, under the LIRS policy), in the
 * kernel's page cache (pc_bytes, on the page-cache list), on disk.  All
 * three RAM forms are paid from the one pool budget.  Everything here runs
 * under the caller's lock (the filesystem's), so nothing has its own.
 */
#ifndef QVL_TM_I_H
#define QVL_TM_I_H

#include "crew.h"
#include "lirs_i.h"
#include "qvl_catalog.h"
#include "qvl_codec.h"
#include "qvl_nvme.h"
#include "qvl_tier.h"

/* A list of chunks in the order they joined it, through one pair of
 * links of each chunk (struct tm_link at @link in struct qvl_chunk): a
 * chunk may be on several such lists at once. */
struct qvl_chunk;
struct tm_link {
	struct qvl_chunk *prev, *next;
};
struct tm_list {
	struct qvl_chunk *first, *last;
	uint64_t n;
};

/* A disk frame kept in RAM, in pool pieces of qvl_zram_piece() bytes. */
struct qvl_zframe {
	uint32_t len;
	uint32_t npieces;
	void *piece[];
};

struct qvl_chunk {
	struct qvl_chunk *prev, *next; /* clock ring, while ram != NULL */
	struct qvl_chunk *pcprev, *pcnext; /* page-cache list, while pc_bytes */
	struct qvl_lirs_node pol; /* compressed tier; resident iff z */
	struct qvl_blob *blob;
	uint64_t idx;
	void *ram;          /* raw bytes, or NULL */
	struct qvl_zframe *z; /* the current disk frame, in RAM, or NULL */
	/* tm->raw_gone / tm->z_gone when the chunk last left the raw side
	 * (daemon raw or page cache) / the compressed tier: a miss soon
	 * after is a ghost hit that moves the split between them. */
	uint64_t raw_gone, z_gone;
	uint32_t pc_bytes;  /* bytes of it handed to the page cache */
	/* tm->pc_clock when it was last handed to the page cache (0: never):
	 * how far apart two handings are says what kind of reuse it sees. */
	uint64_t pc_at;
	uint64_t wepoch;    /* tm epoch in which the last frame was written */
	uint32_t disk_len;  /* latest frame's length on disk, 0 = none */
	uint8_t disk_slot;  /* the slot holding that frame, or
			     * QVL_CAT_SLOT_REMOTE: it is in the remote tier */
	/* The remote tier (remote_cache.c).  rk: the key of the frame with
	 * these bytes in Redis, valid while rbacked (slot 2, or a copy of it
	 * in the store; cleared by a change of the bytes); rlen: its length
	 * there.  rcache: fetched from Redis, a copy for the store waits for
	 * the mover.  On the list of copies the store may drop (rblisted). */
	struct qvl_rkey rk;
	uint32_t rlen;
	uint8_t rbacked, rcache, rblisted;
	struct tm_link rbl;
	int8_t cslot_before; /* committed slot when wepoch began, -1 none */
	uint8_t dirty;      /* ram is newer than the disk frame */
	/* ram is what the chunk's inline row in the catalog holds (an fsync
	 * put it there): dirty, but backed (catalog_inline.c). */
	uint8_t inlined;
	uint8_t ref;        /* clock: touched since the hand passed */
	uint8_t hold;       /* used by the operation in progress */
	uint8_t lost;       /* a volatile chunk dropped under pressure */
	uint8_t ra;         /* brought in ahead, not read since: RA_* */
	/* Readahead without the lock (ahead.c): in flight (it will land in
	 * RAM unless gen changed meanwhile); freed by the landing, not by
	 * whoever dropped it (orphan). */
	uint8_t busy, orphan;
	/* Being written back by the mover (mover.c), without the lock: its
	 * RAM is pinned, and like a busy chunk it is freed by the landing
	 * when dropped meanwhile (orphan). */
	uint8_t wb;
	/* On the mover's list of chunks in the order they became dirty. */
	uint8_t dlisted;
	struct tm_link dl;
	uint16_t pins; /* READ replies reading its RAM now (reply.c) */
	uint32_t gen; /* bumped when its RAM or disk frame changes */
};

static inline struct tm_link *tm_link_of(struct qvl_chunk *c, size_t link)
{
	return (struct tm_link *)((char *)c + link);
}

static inline void tm_list_add(struct tm_list *l, struct qvl_chunk *c,
			       size_t link)
{
	struct tm_link *k = tm_link_of(c, link);
	k->prev = l->last;
	k->next = NULL;
	if (l->last)
		tm_link_of(l->last, link)->next = c;
	else
		l->first = c;
	l->last = c;
	l->n++;
}

static inline void tm_list_del(struct tm_list *l, struct qvl_chunk *c,
			       size_t link)
{
	struct tm_link *k = tm_link_of(c, link);
	if (k->prev)
		tm_link_of(k->prev, link)->next = k->next;
	else
		l->first = k->next;
	if (k->next)
		tm_link_of(k->next, link)->prev = k->prev;
	else
		l->last = k->prev;
	k->prev = k->next = NULL;
	l->n--;
}

/* @c's bytes were given RAM, or its disk frame changed: a readahead of it
 * in flight is out of date. */
static inline void qvl_chunk_changed(struct qvl_chunk *c)
{
	c->gen++;
}

struct qvl_blob {
	struct qvl_pool *pool;
	struct qvl_tm *tm; /* NULL: a RAM-only blob */
	uint64_t ino;
	unsigned shift;
	size_t chunk; /* 1 << shift */
	struct qvl_chunk **map;
	uint64_t nmap;     /* entries in map */
	uint64_t resident; /* chunks in RAM */
	uint64_t on_disk;  /* chunks with a frame on disk or remote */
	uint64_t disk_bytes; /* frame bytes in the store */
	uint64_t on_remote, remote_bytes; /* of on_disk: frames remote */
	uint64_t zbytes;   /* pool bytes of its frames kept in RAM */
	uint64_t version;
	uint64_t recode_next; /* next chunk to re-encode; UINT64_MAX: none */
	uint8_t priority;     /* 0-9 (user.qvl.priority), 5 by default */
	uint32_t flags; /* QVL_BLOB_* */
	enum qvl_dtype dtype;
	enum qvl_codec_policy codec;
	/* Readahead batches of this blob in flight; dead: destroyed while
	 * some were, freed by the last landing. */
	uint32_t inflight;
	uint8_t dead;
	/* Predicted next use (predict.c): bytes read in this visit of the
	 * file and in the last whole one; the chain walk that placed it
	 * (tm->pred_gen) and its place in that chain. */
	uint64_t visit_acc, visit_last;
	uint32_t pred_gen;
	uint32_t pred_idx;
	uint64_t npc; /* its chunks on the page-cache list */
};

/* @c's frame is in the remote tier (not in the store). */
static inline int qvl_chunk_remote(const struct qvl_chunk *c)
{
	return c->disk_len && c->disk_slot == QVL_CAT_SLOT_REMOTE;
}

/* blob.c: @c's frame is now (@slot, @len) (@len 0: none); keeps the
 * blob's counts of frames on disk and remote. */
void qvl_blob_disk_set(struct qvl_blob *b, struct qvl_chunk *c,
		       uint32_t slot, uint32_t len);

/* frames.c: read the frames @r[0..n) from the store, or those with slot
 * QVL_CAT_SLOT_REMOTE from the remote tier (under @keys[i]); @done(@arg,
 * i) as each arrives (as qvl_nvme_read_each).  Each result is set. */
void qvl_tm_frames_read(struct qvl_tm *tm, struct qvl_nvme_req *r,
			const struct qvl_rkey *keys, unsigned n,
			qvl_nvme_done_fn done, void *arg);
/* qvl_tm_decode_frame(), and for a remote frame the check of the decoded
 * chunk against @key's hash (-EIO). */
int qvl_tm_decode_checked(struct qvl_codec_ctx *ctx,
			  const struct qvl_nvme_req *r,
			  const struct qvl_rkey *key, size_t chunk, void *dst,
			  size_t *out);

struct qvl_tm;
/* remote_cache.c: @c's bytes are no longer the remote frame's (a write):
 * its key goes, and with it any claim the store's copy had. */
void qvl_tm_remote_changed(struct qvl_chunk *c);

/* mover.c: @c became dirty (the mover's list, oldest first); @c is being
 * freed (off the list). */
void qvl_tm_mover_note(struct qvl_tm *tm, struct qvl_chunk *c);
void qvl_tm_mover_forget(struct qvl_tm *tm, struct qvl_chunk *c);

/* @c's RAM bytes changed: newer than any frame of them (and than a frame
 * the mover is coding from them now: gen tells it). */
static inline void qvl_chunk_dirtied(struct qvl_chunk *c)
{
	c->dirty = 1;
	c->inlined = 0;
	c->gen++;
	c->rcache = 0;
	if (c->rbacked)
		qvl_tm_remote_changed(c);
	if (!c->dlisted && c->blob->tm)
		qvl_tm_mover_note(c->blob->tm, c);
}

/* Post-commit work: space that the committed catalog no longer needs. */
struct tm_deferred {
	uint64_t ino, idx;
	uint32_t slot;
	int remove; /* the whole backing file */
};

/* The tiers that take far files first (predict.c), each at its own pace. */
enum tm_pred_tier { PRED_RAW, PRED_Z, PRED_PC, PRED_TIERS };

/* Readahead batches that may run at once (ahead.c): while one decodes,
 * the next one's reads are on the disk. */
#define AHEAD_LANES 2
#define TM_LAND_QUEUES 16 /* wait queues for busy chunks, by address */

struct qvl_tm {
	struct qvl_tm_config cfg;
	size_t slot_size;
	uint64_t epoch; /* bumped by every commit */
	struct qvl_chunk *hand; /* clock hand on the ring of resident chunks */
	uint64_t nring;
	struct qvl_crew *crew; /* decodes and encodes a batch on all cores */
	struct qvl_codec_ctx **codec; /* per crew worker (0 is the caller) */
	void *bounce;   /* TM_BATCH aligned frame buffers */
	/* The crew's default batch, codec contexts 0..crew size - 1 and
	 * bounce are taken under work (recursive; after the caller's lock
	 * when both are held).  Readahead without the caller's lock (ahead.c)
	 * runs in lanes instead: AHEAD_LANES batches at once, each with its
	 * own QVL_AHEAD_MAX frame buffers in abounce, its own codec context
	 * (crew size + lane) and crew batch, taken under lane_mu; landed is
	 * signalled, under cfg.lock, when a batch lands.  A READ waiting
	 * for one busy chunk sleeps on chunk_landed[] of that chunk
	 * (qvl_tm_chunk_cv) instead, signalled when the chunk lands: with
	 * every waiting READ on landed, each chunk's landing woke all of
	 * them (up to the FUSE threads' count) to find theirs still busy. */
	pthread_mutex_t work;
	pthread_cond_t landed;
	pthread_cond_t chunk_landed[TM_LAND_QUEUES];
	void *abounce;
	pthread_mutex_t lane_mu;
	pthread_cond_t lane_free;
	uint8_t lane_busy[AHEAD_LANES];
	unsigned own_inflight; /* batches of READs' own chunks planned */
	size_t zpiece;  /* bytes per piece of a frame in RAM */

	/* The split of the budget (see tm_room.c). */
	struct qvl_lirs lirs;  /* chunks with z */
	uint64_t nz, zbytes;   /* frames in RAM: count, pool bytes */
	/* The page cache we handed out, in the order handed (oldest first). */
	struct qvl_chunk *pc_first, *pc_last;
	uint64_t pc_bytes;     /* charged to the pool */
	/* Which end of the page-cache list leaves first (tm_room.c): the
	 * bytes ever handed, the evidence for a loop, the mode it gives, and
	 * a count of drops in loop mode (every PC_ROTATE-th: the oldest). */
	uint64_t pc_clock;
	int pc_score;
	uint8_t pc_loop;
	unsigned pc_rotate;
	uint64_t raw_keep;     /* daemon raw chunks' soft share, bytes */
	uint64_t raw_target;   /* raw side (daemon raw + page cache), bytes */
	uint64_t raw_min, raw_max;
	uint64_t raw_gone, z_gone; /* bytes that ever left each side */
	/* Readahead: chunks fetched past a read's end.  Grows by one when a
	 * read uses a readahead chunk, halves when one leaves RAM unread
	 * (many streams in too little RAM would thrash otherwise). */
	unsigned ra_win;
	/* While making room: chunks of blobs above this priority stay
	 * (tm_room.c tries each priority that has blobs, lowest first). */
	uint8_t prio_cap;
	/* While picking raw victims: the store is full (clean ones only);
	 * none a reader is part way through (tm_room.c). */
	uint8_t clean_only, spent_only;
	uint8_t keep_partly_read; /* making room: not from such chunks */
	uint64_t prio_blobs[10]; /* blobs at each priority */
	unsigned ra_calm; /* chunks fetched since readahead was last wasted */
	/* Cross-file prefetch (succ.c, blob.c): the successor table, and the
	 * file the last read was of. */
	struct qvl_succ *succ;
	uint64_t last_ino;
	/* Predicted next use (predict.c): the chain of files in their order
	 * of use, the entry being read now, whether the chain closes on
	 * itself (a loop, pred_len bytes long), the budget it is measured
	 * against, and each tier's cursor on the far part (counted from the
	 * far end) and place in the cursor's file. */
	struct tm_pred *pred;
	unsigned npred, pred_cap, pred_now;
	uint8_t pred_loop;
	uint64_t pred_len, pred_horizon;
	unsigned pred_cursor[PRED_TIERS];
	uint64_t pred_idx[PRED_TIERS];
	uint32_t pred_gen;
	struct tm_deferred *deferred;
	size_t ndeferred, capdeferred;
	/* Chunk memory freed while READ replies still read it, and the pins
	 * replies hold now (reply.c). */
	struct tm_grave *grave;
	uint64_t pinned;
	/* The mover (mover.c): its thread, woken on cfg.lock by mover_cv;
	 * on: running; idle: waiting for work; stop: asked to end. */
	pthread_t mover;
	pthread_cond_t mover_cv;
	uint8_t mover_on, mover_idle, mover_stop;
	uint8_t mover_drain; /* the flusher asked for everything dirty */
	/* Copies of remote frames are written only while draining after a
	 * flush period without reads (remote_cache.c): reads counted at the
	 * last drain, and whether none came since. */
	uint64_t copy_reads;
	uint8_t copy_ok;
	struct tm_list dirty; /* dirty (and copies to make), oldest first */
	/* Copies of remote frames in the store, oldest first: what leaves
	 * first when the store fills (remote_cache.c). */
	struct tm_list copies;
	struct qvl_tm_stats st;
};

#define TM_BATCH 16 /* frames per disk batch (evict, flush, prefetch) */
/* Why a chunk came into RAM before any read asked for it. */
#define RA_FILE 1 /* readahead within its file */
#define RA_NEXT 2 /* prefetched as the head of the likely next file */

/* succ.c */
void qvl_tm_succ_note(struct qvl_tm *tm, uint64_t prev, uint64_t next);
uint64_t qvl_tm_succ_best(const struct qvl_tm *tm, uint64_t ino);
/* The blob of the file most often read after @b's, when one is known and
 * may be read ahead (not @b, not advice random, not empty); else NULL. */
struct qvl_blob *qvl_tm_succ_blob(struct qvl_tm *tm, const struct qvl_blob *b);
void qvl_tm_succ_free(struct qvl_tm *tm);
/* predict.c: a read of [@off, +@len) of @b (before it is served): a
 * visit starting at its head walks the chain of likely successors.
 * qvl_tm_pred_near(): @b is predicted to be read again within the budget.
 * qvl_tm_pred_next(): the next chunk @ok accepts of the files predicted
 * to be read after more than the budget, furthest first, from where tier
 * @t's cursor is (NULL: none left); qvl_tm_pred_rewind() sets the cursors
 * back to the far end. */
void qvl_tm_pred_read(struct qvl_tm *tm, struct qvl_blob *b, uint64_t off,
		      size_t len);
int qvl_tm_pred_near(const struct qvl_tm *tm, const struct qvl_blob *b);
struct qvl_chunk *qvl_tm_pred_next(struct qvl_tm *tm, enum tm_pred_tier t,
				   int (*ok)(const struct qvl_tm *tm,
					     const struct qvl_chunk *c));
void qvl_tm_pred_rewind(struct qvl_tm *tm);
void qvl_tm_pred_free(struct qvl_tm *tm);
/* Store space data frames leave to the catalog. */
#define TM_STORE_RESERVE (4ull << 20)

/* blob.c */
void qvl_blob_ram_free(struct qvl_blob *b, struct qvl_chunk *c);
void qvl_blob_ram_install(struct qvl_blob *b, struct qvl_chunk *c, void *ram);
unsigned qvl_blob_ra_window(const struct qvl_blob *b);
uint64_t qvl_blob_room_chunks(const struct qvl_blob *b);
/* A chunk to read before any read asks: only on disk, none of it in the
 * kernel's page cache (the page cache keeps part of a loop larger than
 * RAM: a read of it never reaches us), not in flight already. */
static inline int qvl_chunk_worth_ahead(const struct qvl_chunk *c)
{
	return c && !c->ram && c->disk_len && !c->pc_bytes && !c->busy &&
	       !c->wb;
}

/* reply.c: @n bytes of a READ at @dst (the caller's buffer), from @c's
 * RAM at @in: pinned into @r's iovec, or copied to @dst (@r NULL or full);
 * bytes made at @dst itself. */
void qvl_reply_take(struct qvl_reply *r, char *dst, struct qvl_chunk *c,
		    size_t in, size_t n);
void qvl_reply_buf(struct qvl_reply *r, char *dst, size_t n);
/* @c's memory @ram is freed while @pins replies read it: the last unpin
 * frees it.  qvl_tm_grave_free(): what is left at the end. */
void qvl_tm_grave_add(struct qvl_tm *tm, void *ram, uint32_t pins);
void qvl_tm_grave_free(struct qvl_tm *tm);

/* ahead.c: plan chunks after @last of @b into @ah (under the lock).
 * qvl_tm_ahead_plan_own(): the read's own @cs[0..n) (only on disk, room
 * made for them), as many as fit in one batch; how many. */
void qvl_tm_ahead_plan(struct qvl_blob *b, uint64_t last, struct qvl_ahead *ah);
unsigned qvl_tm_ahead_plan_own(struct qvl_blob *b, struct qvl_chunk **cs,
			       unsigned n, struct qvl_ahead *ah);

/* zram.c: frames in RAM (pool pieces). */
size_t qvl_zram_piece(size_t chunk);
int qvl_zram_store(struct qvl_pool *pool, size_t piece, const void *frame,
		   uint32_t len, struct qvl_zframe **out);
/* The same in two steps: pieces for @len bytes now (under the lock), the
 * frame's bytes copied in later (by whoever holds the zframe). */
int qvl_zram_alloc(struct qvl_pool *pool, size_t piece, uint32_t len,
		   struct qvl_zframe **out);
void qvl_zram_fill(struct qvl_zframe *z, size_t piece, const void *frame);
void qvl_zram_free(struct qvl_pool *pool, size_t piece, struct qvl_zframe *z);
void qvl_zram_gather(const struct qvl_zframe *z, size_t piece, void *dst);

/* tm_room.c: the budget's split and who leaves RAM. */
void qvl_tm_room_init(struct qvl_tm *tm);
/* Make @bytes of the pool budget free: -ENOSPC when nothing can leave. */
int qvl_tm_make_room(struct qvl_tm *tm, uint64_t bytes);
/* The same without evicting a raw chunk a reader is part way through:
 * -ENOSPC rather than that (a READ then fetches under the lock, which
 * keeps many streams in little RAM from all holding chunks in flight). */
int qvl_tm_make_room_spent(struct qvl_tm *tm, uint64_t bytes);
/* qvl_tm_settle() - after page cache was charged (a read reply, a write):
 * bring the pool back within its budget, as far as anything may leave. */
void qvl_tm_settle(struct qvl_tm *tm);
/* In loop mode, free room for @bytes from raw chunks past their share and
 * the page cache of the loop read last (never what it keeps for the next
 * pass), as far as they go. */
void qvl_tm_room_from_pc(struct qvl_tm *tm, uint64_t bytes);
/* Keep @frame (just read or written, the current frame of @c) in RAM when
 * it compresses and the budget has room: no eviction for it. */
void qvl_tm_z_keep(struct qvl_tm *tm, struct qvl_chunk *c, const void *frame,
		   uint32_t len);
/* The same in steps, for a frame read without the lock (ahead.c): pieces
 * for a frame of @len bytes of @c if qvl_tm_z_keep() would keep it (else
 * NULL); filled meanwhile, then given to @c (or freed, if it has one). */
struct qvl_zframe *qvl_tm_z_reserve(struct qvl_tm *tm,
				    const struct qvl_chunk *c, uint32_t len);
void qvl_tm_z_attach(struct qvl_tm *tm, struct qvl_chunk *c,
		     struct qvl_zframe *z);
void qvl_tm_z_drop(struct qvl_tm *tm, struct qvl_chunk *c);
/* Pool bytes qvl_tm_z_keep() would take for @c's frame after a fetch. */
uint64_t qvl_tm_z_cost(const struct qvl_tm *tm, const struct qvl_chunk *c);
/* [0, @end) of @c went to the page cache (a read reply, a write). */
void qvl_tm_pc_note(struct qvl_tm *tm, struct qvl_chunk *c, size_t end);
void qvl_tm_pc_drop(struct qvl_tm *tm, struct qvl_chunk *c);
/* A read needs @c and RAM has no raw copy: adapt the split on ghosts. */
void qvl_tm_raw_miss(struct qvl_tm *tm, struct qvl_chunk *c);
/* Chunk @c is being freed: off every list. */
void qvl_tm_chunk_forget(struct qvl_tm *tm, struct qvl_chunk *c);
void qvl_tm_leave_ram(struct qvl_tm *tm, struct qvl_chunk *c);
/* A read used @c: a readahead chunk brought in for it paid off. */
void qvl_tm_ra_used(struct qvl_tm *tm, struct qvl_chunk *c);
/* @fetched chunks came in: with no readahead wasted for a while (a window
 * of 0 never sees a hit), the window may grow again. */
void qvl_tm_ra_calm(struct qvl_tm *tm, unsigned fetched);

/* remote_cache.c.  qvl_tm_remote_landed(): @c's bytes just came from
 * the remote tier: a copy for the store is due (the mover's list).
 * qvl_tm_mover_wants(): the mover may take @c (dirty, or such a copy).
 * qvl_tm_remote_cached(): @c's frame in the store is a copy of its
 * remote one (after qvl_tm_record_frame()).  qvl_tm_remote_forget(): @c
 * is being freed.  qvl_tm_remote_relieve(): before a commit, when the
 * store is nearly full, copies of remote frames leave it (their rows go
 * back to the remote slot; the space is free after the commit). */
void qvl_tm_remote_landed(struct qvl_tm *tm, struct qvl_chunk *c);

/* The wait queue of busy chunk @c: a READ that needs @c sleeps on it (under
 * cfg.lock), and @c's landing (ahead.c) wakes it. */
static inline pthread_cond_t *qvl_tm_chunk_cv(struct qvl_tm *tm,
					      const struct qvl_chunk *c)
{
	uintptr_t h = (uintptr_t)c / sizeof(*c);
	return &tm->chunk_landed[(h ^ h >> 7) % TM_LAND_QUEUES];
}
int qvl_tm_mover_wants(const struct qvl_chunk *c);
void qvl_tm_remote_cached(struct qvl_tm *tm, struct qvl_chunk *c);
void qvl_tm_remote_forget(struct qvl_tm *tm, struct qvl_chunk *c);
void qvl_tm_remote_relieve(struct qvl_tm *tm);
/* qvl_tm_copy_gate() - at a drain: copies may be written in it when no
 * read came since the drain before (tm->copy_ok). */
void qvl_tm_copy_gate(struct qvl_tm *tm);

/* reply.c: drop a pin on @c's memory @ram (in the grave, or still @c's). */
void qvl_tm_unpin(struct qvl_tm *tm, struct qvl_chunk *c, void *ram);

/* mover.c: writes went on or dirty chunks were evicted: wake the mover
 * when RAM is past its mark. */
void qvl_tm_mover_kick(struct qvl_tm *tm);

/* tm.c */
void qvl_tm_forget_frame(struct qvl_tm *tm, struct qvl_chunk *c);
/* The slot @c's next frame goes to; *@cs the committed one (-1 none). */
uint32_t qvl_tm_target_slot(struct qvl_tm *tm, const struct qvl_chunk *c,
			    int *cs);
/* Encode the chunk @ram (@chunk bytes) on crew worker @w into bounce
 * buffer @i: 0 and *@len, or the codec's error.  Under the work lock. */
int qvl_tm_encode(struct qvl_tm *tm, unsigned w, const void *ram,
		  size_t chunk, enum qvl_dtype dtype,
		  enum qvl_codec_policy codec, unsigned i, size_t *len);
/* @r[0..@n) to the store, each file synced once: 0 or the first error
 * (r[i].result says which). */
int qvl_tm_write_synced(struct qvl_tm *tm, struct qvl_nvme_req *r, unsigned n);
/* The frame @r (written, synced) is now @c's: its catalog row, its place
 * (@committed: the slot committed before it, qvl_tm_target_slot()'s *cs),
 * @c clean.  0, or the catalog's error (@c stays dirty). */
int qvl_tm_record_frame(struct qvl_tm *tm, struct qvl_chunk *c,
			const struct qvl_nvme_req *r, int committed);
/* Decode the frame @r holds into @dst, a whole chunk of @chunk bytes. */
int qvl_tm_decode_frame(struct qvl_codec_ctx *ctx,
			const struct qvl_nvme_req *r, size_t chunk, void *dst,
			size_t *out);
void qvl_tm_io_error(struct qvl_tm *tm, struct qvl_chunk *c, int err);
void qvl_tm_ring_add(struct qvl_tm *tm, struct qvl_chunk *c);
void qvl_tm_ring_del(struct qvl_tm *tm, struct qvl_chunk *c);
int qvl_tm_fetch(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n);
/* Decode @c's frame into @dst (a chunk) without bringing it into RAM. */
int qvl_tm_read_through(struct qvl_tm *tm, struct qvl_chunk *c, void *dst);
int qvl_tm_write_frames(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n);
/* Frames of @cs[0..n) into the catalog as inline rows (qvl_blob_fsync);
 * when one codes larger than QVL_INLINE_MAX, all of them to the store
 * instead, as qvl_tm_write_frames() would (coded once).  -EOPNOTSUPP
 * (nothing done) without the catalog's table. */
int qvl_tm_write_inline(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n);
/* Decode an inline row's @frame into @dst (a chunk): 0 or -EIO. */
int qvl_tm_decode_inline(struct qvl_tm *tm, const void *frame, uint32_t len,
			 void *dst);
int qvl_tm_defer(struct qvl_tm *tm, uint64_t ino, uint64_t idx, uint32_t slot,
		 int remove);

/* Dirty, and of a file whose data goes to the store. */
static inline int qvl_tm_to_write(const struct qvl_chunk *c)
{
	return c->dirty && !(c->blob->flags & QVL_BLOB_NO_STORE);
}

#endif /* QVL_TM_I_H */

/*
 * qvl_tier.h - the tier module: memory pools, the RAM tier and blobs.
 *
 * A blob is one file's bytes, cut into fixed-size chunks (a power of two).
 * A chunk that was never written, or was punched, is a hole: it costs no
 * memory and reads as zeros.  Chunk memory comes from size-class pools
 * (struct qvl_pool) that carve large aligned arenas; the pool enforces the
 * RAM budget, so every allocation that would exceed it fails with -ENOSPC
 * before anything changes.
 *
 * Thread context: a pool is thread-safe (its own lock).  A blob is not: the
 * caller serializes all calls on one blob (the filesystem holds its lock).
 * Every function returns 0 or a negative errno unless it says otherwise;
 * nothing here prints.
 */
#ifndef QVL_TIER_H
#define QVL_TIER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "qvl_abi.h"
#include "qvl_codec.h"
#include "qvl_remote.h"

struct qvl_nvme;
struct qvl_catalog;

#define QVL_CHUNK_SHIFT_MIN 16 /* 64 KiB */
#define QVL_CHUNK_SHIFT_MAX 26 /* 64 MiB */
#define QVL_CHUNK_SHIFT_DEFAULT 20
#define QVL_POOL_MAX_CLASSES 16
/* Largest file a blob holds: 1 TiB keeps the flat chunk map within 8 MiB
 * even at the smallest chunk size. */
#define QVL_BLOB_MAX_SIZE (1ULL << 40)

/* ---- pools ------------------------------------------------------------- */

struct qvl_pool;

struct qvl_pool_class_stats {
	size_t slot_size;     /* bytes per slot */
	uint64_t slots_used;  /* slots handed out */
	uint64_t slots_total; /* slots in live arenas */
	uint64_t arenas;      /* live arenas */
};

struct qvl_pool_stats {
	uint64_t budget;    /* bytes the pool may hand out */
	uint64_t used;      /* bytes in slots handed out */
	uint64_t requested; /* bytes asked for (<= used: class rounding) */
	uint64_t mapped;    /* bytes of live arenas (address space) */
	uint64_t alloc_failures;
	unsigned nclasses;
	struct qvl_pool_class_stats cls[QVL_POOL_MAX_CLASSES];
};

/*
 * qvl_pool_create() - pools for slots from 4 KiB up to 1 << @max_shift bytes
 * (powers of two), handing out at most @budget bytes in total.
 * Returns 0 and sets *@out, -EINVAL for a bad @max_shift, -ENOMEM.
 */
int qvl_pool_create(uint64_t budget, unsigned max_shift, struct qvl_pool **out);

/* qvl_pool_destroy() - unmaps every arena; accepts NULL.  Slots still handed
 * out become invalid. */
void qvl_pool_destroy(struct qvl_pool *pool);

/*
 * qvl_pool_alloc() - a zero-filled slot of at least @size bytes, aligned to
 * 4 KiB.  Returns 0 and sets *@out; -ENOSPC when the budget would be
 * exceeded; -EINVAL when @size is 0 or larger than the largest class;
 * -ENOMEM when the system refuses memory.
 */
int qvl_pool_alloc(struct qvl_pool *pool, size_t size, void **out);

/*
 * qvl_pool_alloc_n() - @n zero-filled slots of at least @size bytes into
 * @out[0..n), all or nothing: on -ENOSPC (the budget cannot take all @n),
 * -EINVAL or -ENOMEM no slot is taken.
 */
int qvl_pool_alloc_n(struct qvl_pool *pool, size_t size, size_t n, void **out);

/* qvl_pool_alloc_n_raw() - the same, but the slots' contents are undefined:
 * for callers that overwrite them whole (saves clearing a chunk). */
int qvl_pool_alloc_n_raw(struct qvl_pool *pool, size_t size, size_t n,
			 void **out);

/* qvl_pool_free() - give back a slot from qvl_pool_alloc() with the same
 * @size; accepts NULL.  Its pages go back to the system once the pool
 * holds more free pages than its slack (see pool.c). */
void qvl_pool_free(struct qvl_pool *pool, void *ptr, size_t size);

/* qvl_pool_room() - how many more slots for @size bytes the budget takes. */
size_t qvl_pool_room(struct qvl_pool *pool, size_t size);

/* qvl_pool_budget() - the budget; qvl_pool_avail() - what is left of it
 * (negative when charges took more than there was). */
uint64_t qvl_pool_budget(struct qvl_pool *pool);
int64_t qvl_pool_avail(struct qvl_pool *pool);

/*
 * qvl_pool_charge() - count @delta bytes of memory the pool does not hand
 * out (the page cache of the files it backs) against the budget, or give
 * them back (negative).  Never fails: the memory exists already; callers
 * make room afterwards.  Freed slots keep their pages only while handed
 * out, kept and charged bytes together stay within the budget.
 */
void qvl_pool_charge(struct qvl_pool *pool, int64_t delta);

/* qvl_pool_set_budget() - change the budget; slots already out stay. */
void qvl_pool_set_budget(struct qvl_pool *pool, uint64_t budget);

void qvl_pool_get_stats(struct qvl_pool *pool, struct qvl_pool_stats *st);

/* ---- blobs ------------------------------------------------------------- */

struct qvl_blob;

/*
 * qvl_blob_create() - an empty blob whose chunks are 1 << @chunk_shift bytes
 * from @pool.  Returns 0 and sets *@out, -EINVAL, -ENOMEM.
 */
int qvl_blob_create(struct qvl_pool *pool, unsigned chunk_shift,
		    struct qvl_blob **out);

/* qvl_blob_destroy() - free every chunk; accepts NULL. */
void qvl_blob_destroy(struct qvl_blob *blob);

/*
 * qvl_blob_read() - copy @len bytes at @off into @buf; holes read as zeros.
 * The caller clamps @off/@len to the file size.  Chunks that are only on
 * disk are fetched (and the ones after them, as readahead).  Returns 0;
 * -EIO when a frame on disk is missing or fails its checks; -ESTALE for a
 * volatile chunk dropped under pressure; -ENOSPC/-ENOMEM when no RAM can be
 * had for the fetch.  A RAM-only blob cannot fail.
 */
int qvl_blob_read(struct qvl_blob *blob, void *buf, size_t len, uint64_t off);

/*
 * Readahead run without the caller's lock (tiers/ahead.c).  A read through
 * qvl_blob_read_ahead() fetches only what it needs itself, and plans the
 * chunks after it into @ah: given RAM now and marked in flight.  The
 * caller then drops its lock, replies, and calls qvl_tm_ahead_run() (the
 * disk reads and the decoding, on the crew; each chunk becomes resident
 * under the lock as soon as it is decoded, or is given up if anything
 * changed it meanwhile), then qvl_tm_ahead_land() with the lock held
 * again (the batch's end).  A read that needs a chunk in
 * flight waits for it, releasing the lock meanwhile.  Needs cfg.lock.
 */
#define QVL_AHEAD_MAX 8
struct qvl_chunk;
struct qvl_tm;
struct qvl_zframe;
struct qvl_ahead {
	struct qvl_blob *blob; /* NULL: nothing planned */
	unsigned n;
	int next_file; /* the head of the file predicted next (succ.c) */
	/* In: the read's own chunks may be planned too (qvl_blob_read_ahead
	 * then returns QVL_READ_PLANNED).  Out: what is planned is them. */
	int own_ok, own;
	uint64_t ino;
	size_t chunk;
	struct qvl_chunk *c[QVL_AHEAD_MAX];
	void *ram[QVL_AHEAD_MAX];
	uint32_t gen[QVL_AHEAD_MAX]; /* the chunk's, when planned */
	uint64_t idx[QVL_AHEAD_MAX];
	uint32_t slot[QVL_AHEAD_MAX], len[QVL_AHEAD_MAX];
	struct qvl_rkey rk[QVL_AHEAD_MAX]; /* remote frames' keys */
	int rc[QVL_AHEAD_MAX];
	/* Pieces the frame is copied into, to stay in RAM (the compressed
	 * tier) as a fetch under the lock keeps it; NULL: not kept. */
	struct qvl_zframe *z[QVL_AHEAD_MAX];
};

/*
 * A READ's reply straight from chunk memory (tiers/reply.c).  With a
 * struct qvl_reply, qvl_blob_read_ahead() copies nothing it finds in RAM:
 * @iov[0..n) points into the chunks themselves, each pinned, and into the
 * caller's buffer only for what had to be made there (holes, bytes read
 * around a full RAM, more pieces than fit).  The caller drops its lock,
 * hands @iov to the kernel, and calls qvl_tm_reply_done() with the lock
 * held again.  Meanwhile a pinned chunk does not leave RAM, and one freed
 * anyway (truncate, punch, unlink) keeps its memory until the last pin
 * goes: the slot cannot hold another file's bytes while the kernel copies
 * it.  A write may change the bytes meanwhile, as it may change the page
 * cache's under a reader.  Only blobs with a tier manager pin; RAM-only
 * ones leave n at 0 (reply from the buffer).
 */
#define QVL_REPLY_MAX 32
struct qvl_reply {
	unsigned n, npin;
	struct iovec iov[QVL_REPLY_MAX];
	struct qvl_chunk *pin[QVL_REPLY_MAX];
	void *ram[QVL_REPLY_MAX]; /* pin[i]'s memory, when pinned */
};
/* With the caller's lock: the reply went out; unpin its chunks. */
void qvl_tm_reply_done(struct qvl_tm *tm, struct qvl_reply *r);

/* The bytes of this read or write will not be in the kernel's page cache
 * (an O_DIRECT file): they are not charged to the budget as page cache. */
#define QVL_IO_UNCACHED 1u

/* qvl_blob_read() and qvl_blob_write() with QVL_IO_* @flags. */
int qvl_blob_read_flags(struct qvl_blob *blob, void *buf, size_t len,
			uint64_t off, unsigned flags);
int qvl_blob_write_flags(struct qvl_blob *blob, const void *buf, size_t len,
			 uint64_t off, unsigned flags);
/* qvl_blob_read_flags(), with readahead planned into @ah and the reply
 * described by @r (either may be NULL; see above).  With @ah->own_ok, a
 * read whose own chunks must come from the store plans them into @ah and
 * returns QVL_READ_PLANNED having read nothing: the caller drops its
 * lock, runs and lands @ah as for readahead, and calls again (with
 * own_ok clear after a few rounds, so that a chunk that keeps leaving or
 * failing is fetched, or its error returned, under the lock). */
#define QVL_READ_PLANNED 1
#define QVL_READ_OWN_ROUNDS 3 /* rounds without the lock, then under it */
int qvl_blob_read_ahead(struct qvl_blob *blob, void *buf, size_t len,
			uint64_t off, unsigned flags, struct qvl_ahead *ah,
			struct qvl_reply *r);
/* The chunks a write of [@off, @off+@len) covers only in part and must
 * read first, where they are only in the store or the remote tier:
 * planned into @ah as a read's own (2: run and land it, then write), 0
 * when there are none (or no room: the write fetches them itself), or
 * -EAGAIN after waiting for a landing.  So a write into a pulled file
 * does not hold the caller's lock while Redis answers. */
int qvl_blob_plan_write(struct qvl_blob *blob, uint64_t off, size_t len,
			struct qvl_ahead *ah);
/* The chunks of [@off, @off+@len) only in the store or the remote tier
 * (@remote_only: only in the remote tier), planned into @ah the same way,
 * at most QVL_AHEAD_MAX: for a whole-file load (tier=ram, willneed, a GPU
 * placement) or a checksum, a window at a time without the lock. */
int qvl_blob_plan_fetch(struct qvl_blob *blob, uint64_t off, uint64_t len,
			int remote_only, struct qvl_ahead *ah);
/* Without the caller's lock: read and decode what @ah planned. */
void qvl_tm_ahead_run(struct qvl_tm *tm, struct qvl_ahead *ah);
/* With it again: what was read becomes resident; @ah is empty after. */
void qvl_tm_ahead_land(struct qvl_tm *tm, struct qvl_ahead *ah);

/*
 * qvl_blob_write() - copy @len bytes from @buf to @off.  All or nothing:
 * every chunk the write needs is allocated first, so on -ENOSPC (budget),
 * -EFBIG (past QVL_BLOB_MAX_SIZE) or -ENOMEM no byte of the blob changed.
 */
int qvl_blob_write(struct qvl_blob *blob, const void *buf, size_t len,
		   uint64_t off);

/*
 * qvl_blob_reserve() - make the chunks covering [@off, @off + @len) resident
 * (fallocate mode 0), all or nothing.  -ENOSPC, -EFBIG, -ENOMEM.
 */
int qvl_blob_reserve(struct qvl_blob *blob, uint64_t off, uint64_t len);

/*
 * qvl_blob_punch() - make [@off, @off + @len) read as zeros; whole chunks
 * inside the range are freed.  Cannot fail.
 */
void qvl_blob_punch(struct qvl_blob *blob, uint64_t off, uint64_t len);

/* qvl_blob_truncate() - drop everything at and past @size (so a later
 * extension reads zeros).  Cannot fail. */
void qvl_blob_truncate(struct qvl_blob *blob, uint64_t size);

/* qvl_blob_resident() - bytes of pool memory the blob holds in RAM: raw
 * chunks and compressed frames (not the page cache). */
uint64_t qvl_blob_resident(const struct qvl_blob *blob);

/* qvl_blob_version() - bumped by every change; lets callers cache digests. */
uint64_t qvl_blob_version(const struct qvl_blob *blob);

/*
 * qvl_blob_checksum() - the content sum of the first @size bytes
 * (qvl_sum_new in codecs/qvl_codec.h: holes are skipped, not read).
 * Returns 0 and sets *@out, -ENOMEM, or the read's error (-EIO).
 */
int qvl_blob_checksum(struct qvl_blob *blob, uint64_t size,
		      uint64_t *out);

/* ---- the tier manager: RAM above NVMe ----------------------------------
 *
 * With a tier manager, a blob's chunks have a home in RAM, on disk (a
 * compressed frame in the store), or both.  RAM holds a chunk raw, or its
 * compressed frame (decoded on a read without disk I/O), and the manager
 * also charges the page cache it hands the kernel to the same budget.
 * When the budget is full, raw chunks leave by CLOCK (dirty ones written
 * to the store, encoded, checksummed, copy-on-write), the page cache is
 * dropped oldest first, and frames leave by LIRS, which keeps a stable
 * part of a loop larger than RAM resident (tm_room.c says how the budget
 * is split).  A read of a chunk only on disk fetches it back, with the
 * chunks after it as readahead.  The catalog records every frame; a frame
 * replaced or freed keeps its space until the catalog commit that stops
 * referring to it (qvl_tm_commit), so a crash never leaves the catalog
 * pointing at overwritten bytes.
 *
 * Thread context: none of this is thread-safe; the caller holds one lock
 * around every call on the manager and on its blobs.  Inside a call, the
 * chunks of one batch (a readahead run, an eviction batch) are decoded or
 * encoded on the manager's worker threads while the caller waits.
 */

struct qvl_tm;

struct qvl_tm_config {
	struct qvl_pool *pool;
	struct qvl_nvme *nvme;   /* NULL: RAM only, nothing spills */
	struct qvl_catalog *cat; /* NULL: frames are not recorded */
	/* NULL: no remote tier; else where frames of chunks pulled from a
	 * snapshot (slot QVL_CAT_SLOT_REMOTE) are fetched. */
	struct qvl_remote *remote;
	unsigned chunk_shift;
	/* Threads that decode and encode a batch of chunks beside the caller
	 * (0: the caller does it all); qvl_tm_default_workers() suggests. */
	unsigned workers;
	/* A chunk of @ino left RAM: the caller may drop its page cache. */
	void (*evicted)(void *arg, uint64_t ino, uint64_t off, uint64_t len);
	/* A frame of @ino failed to read or verify (@err < 0). */
	void (*io_error)(void *arg, uint64_t ino, uint64_t idx, int err);
	/* The blob of file @ino, or NULL (cross-file prefetch). */
	struct qvl_blob *(*blob_of)(void *arg, uint64_t ino);
	void *arg;
	/* The caller's lock every call into the manager holds.  With it,
	 * readahead can run without it (qvl_blob_read_ahead()); NULL: all
	 * work is done inside the calls. */
	pthread_mutex_t *lock;
};

struct qvl_tm_stats {
	uint64_t evicted;      /* chunks that left RAM */
	uint64_t dropped;      /* volatile chunks dropped */
	uint64_t fetched;      /* chunks read back from disk */
	uint64_t frames_written;
	uint64_t frame_bytes_written; /* compressed bytes to disk */
	/* fsyncs' small frames put in the catalog instead (catalog_inline.c):
	 * frames, their bytes; and those brought back at mount. */
	uint64_t inline_frames, inline_bytes, inline_replayed;
	uint64_t frame_bytes_read;    /* compressed bytes from disk */
	uint64_t raw_bytes_read;      /* the same, decoded */
	uint64_t io_errors;
	uint64_t write_errors; /* frame writes or syncs that failed (retried) */
	uint64_t commits;
	uint64_t dirty;    /* chunks in RAM newer than disk, now */
	uint64_t resident; /* raw chunks in RAM, now */
	/* The compressed tier (frames kept in RAM, under LIRS). */
	uint64_t z_hits;     /* reads decoded from a frame in RAM */
	uint64_t z_stored;   /* frames kept in RAM */
	uint64_t z_evicted;  /* frames that left RAM */
	uint64_t z_frames, z_bytes; /* now: frames, pool bytes they take */
	uint64_t z_lir, z_hir;      /* now: stable set, victim queue */
	/* The page cache we handed out, charged to the budget. */
	uint64_t pc_bytes;   /* now */
	uint64_t pc_dropped; /* chunk ranges we had the kernel drop */
	/* Chunks handed to the page cache again: soon enough that a
	 * recency order would have kept them (short), or not (long: a loop
	 * larger than RAM); and the order in use now (1: loop, the newest
	 * past a guard leaves first). */
	uint64_t pc_short_reuse, pc_long_reuse, pc_loop;
	/* The split: raw side (daemon raw + page cache) vs compressed. */
	uint64_t raw_target, raw_keep;
	uint64_t raw_ghost_hits, z_ghost_hits;
	/* Readahead: chunks fetched ahead of reads, those that left RAM
	 * before any read used them, and the window now (chunks). */
	uint64_t ra_chunks, ra_wasted, ra_win;
	/* Readahead run without the lock: batches, chunks that landed,
	 * chunks given up (changed or failed meanwhile), reads that waited
	 * for a chunk in flight. */
	uint64_t ahead_batches, ahead_landed, ahead_dropped, ahead_waits;
	uint64_t ahead_own; /* of those batches: READs' own chunks */
	/* Cross-file prefetch: chunks fetched as the head of the file
	 * predicted next, those a read then used, those that left RAM unread,
	 * reads that found one still in flight (late: timeliness); reads, and
	 * those that waited for the store for their own bytes; files in the
	 * successor table. */
	uint64_t pf_chunks, pf_used, pf_wasted, pf_late;
	/* Chunks (raw, frames, page-cache ranges) that left RAM first
	 * because their file is predicted to be read only after more than
	 * RAM holds (predict.c), and the files in the last prediction. */
	uint64_t pred_evicted, pred_files;
	uint64_t reads, reads_waited;
	uint64_t succ_files;
	/* READ replies (reply.c): bytes sent straight from chunk memory, and
	 * chunks freed while a reply still read them (their memory waited). */
	uint64_t reply_pinned_bytes, reply_graves;
	/* The mover (mover.c): batches written back ahead of need, frames
	 * recorded, frames thrown away (the chunk changed meanwhile). */
	uint64_t mover_batches, mover_frames, mover_discarded;
	uint64_t mover_waits; /* writes that waited for a batch to land */
	/* The remote tier: frames fetched, their bytes; frames that failed
	 * (absent, unreachable, or not what their key says). */
	uint64_t remote_fetched, remote_bytes, remote_failed;
	/* Copies of remote frames the store dropped when it filled. */
	uint64_t remote_dropped;
};

/*
 * The successor table (which file is read after which; tiers/succ.c).
 * qvl_tm_succ_load() - at mount, one catalog row.
 * qvl_tm_succ_save() - pass each changed (ino, succ, count) to @put; stops
 * at and returns its first error.
 */
void qvl_tm_succ_load(struct qvl_tm *tm, uint64_t ino, uint64_t succ,
		      uint32_t count);
int qvl_tm_succ_save(struct qvl_tm *tm,
		     int (*put)(void *arg, uint64_t ino, uint64_t succ,
				uint32_t count),
		     void *arg);
uint64_t qvl_tm_succ_entries(const struct qvl_tm *tm);

int qvl_tm_create(const struct qvl_tm_config *cfg, struct qvl_tm **out);
/* qvl_tm_default_workers() - one per online core beyond the caller's. */
unsigned qvl_tm_default_workers(void);
/* qvl_tm_destroy() - the manager only; blobs must be destroyed first. */
void qvl_tm_destroy(struct qvl_tm *tm);

/*
 * qvl_tm_mover_start() - the background mover: while RAM is past half its
 * budget, dirty chunks of stored files are coded and written back ahead of
 * need, without the caller's lock, so a writer finds clean chunks to evict
 * instead of coding in its own request.  Needs a store and cfg.lock (else
 * does nothing).  0 or -errno.
 * qvl_tm_mover_stop() - ends it after its batch in flight has landed.
 * Call without cfg.lock held, before the last flush and before blobs are
 * destroyed.  Safe when it never started.
 */
int qvl_tm_mover_start(struct qvl_tm *tm);
void qvl_tm_mover_stop(struct qvl_tm *tm);
/* qvl_tm_mover_drain() - with the caller's lock: have the mover write
 * back every dirty chunk it may (batches without the lock, let go while
 * waiting), as many batches as are dirty now; returns when it is done,
 * finds nothing more, fails, or stops.  Nothing without a mover. */
void qvl_tm_mover_drain(struct qvl_tm *tm);

/*
 * qvl_tm_flush() - write up to @max dirty chunks of stored blobs to disk
 * (0: all), recording them in the catalog's open transaction.  Sets *@left
 * (if not NULL) to the dirty chunks that remain.  -ENOSPC when the store is
 * full (the chunks stay dirty in RAM), -EIO.
 */
int qvl_tm_flush(struct qvl_tm *tm, uint64_t max, uint64_t *left);

/* qvl_tm_commit() - commit the catalog (@durable: against power loss),
 * then free the disk space the committed state no longer refers to. */
int qvl_tm_commit(struct qvl_tm *tm, int durable);

void qvl_tm_get_stats(const struct qvl_tm *tm, struct qvl_tm_stats *st);
/* qvl_tm_get_counters() - the counters only (evicted, fetched, z_hits...),
 * without the walk over resident chunks that the "now" figures take: for
 * the read path's metrics.  The "now" fields are not to be used. */
void qvl_tm_get_counters(const struct qvl_tm *tm, struct qvl_tm_stats *st);

/*
 * qvl_tm_set_budget() - a new RAM budget (the machine's memory pressure),
 * enforced now: what is over it leaves RAM as eviction would take it
 * (coldest first; dirty chunks written to the store).  -ENOSPC when what
 * may not leave (pinned, session, dirty with a full store) is over it:
 * the budget stays set and allocations fail until room comes.
 */
int qvl_tm_set_budget(struct qvl_tm *tm, uint64_t budget);

/* qvl_tm_store_reserve() - store space data frames never take (it is left
 * to the catalog, so a full store refuses data, never a commit). */
uint64_t qvl_tm_store_reserve(void);

/* How a blob may use the tiers. */
#define QVL_BLOB_NO_STORE 1u  /* never written to the store (session, volatile) */
#define QVL_BLOB_DROPPABLE 2u /* may be dropped under pressure (volatile) */
#define QVL_BLOB_PINNED 4u    /* never leaves RAM (pin=ram) */
#define QVL_BLOB_SEQUENTIAL 8u /* advice sequential: the widest readahead */
#define QVL_BLOB_RANDOM 16u    /* advice random: no readahead, no prefetch */

/* qvl_blob_create_tm() - an empty blob of file @ino under @tm. */
int qvl_blob_create_tm(struct qvl_tm *tm, uint64_t ino, struct qvl_blob **out);

/* qvl_blob_set_policy() - flags (QVL_BLOB_*), and what the codec is told. */
void qvl_blob_set_policy(struct qvl_blob *blob, uint32_t flags,
			 enum qvl_dtype dtype, enum qvl_codec_policy codec);

/* qvl_blob_set_priority() - 0-9; above QVL_PRIO_KEEP (the default) a
 * blob's RAM (raw chunks, frames, page cache) leaves only when nothing at
 * or below it can. */
#define QVL_PRIO_KEEP 5
void qvl_blob_set_priority(struct qvl_blob *blob, unsigned priority);

/* qvl_blob_attach_frame() - at mount: chunk @idx has a committed frame of
 * @len bytes in @slot.  -EINVAL for a bad slot/len, -EFBIG, -ENOMEM. */
int qvl_blob_attach_frame(struct qvl_blob *blob, uint64_t idx, uint32_t slot,
			  uint32_t len);

/*
 * The remote tier.  qvl_blob_attach_key() - at mount: the key of chunk
 * @idx (attached with slot QVL_CAT_SLOT_REMOTE, or a copy of that frame
 * in the store) and the frame's length in the remote tier (-ENOENT if the
 * chunk has no frame).
 * qvl_blob_attach_remote() - a pull: chunk @idx's bytes are the frame of
 * @len bytes under @key, recorded in the catalog (open transaction).  The
 * chunk reads by fetching that frame (checked against the key's hash); a
 * write makes it local (copy-on-write), the remote frame is never changed.
 * -EINVAL, -EFBIG, -ENOMEM, or the catalog's error.
 */
int qvl_blob_attach_key(struct qvl_blob *blob, uint64_t idx,
			const struct qvl_rkey *key, uint32_t rlen);
int qvl_blob_attach_remote(struct qvl_blob *blob, uint64_t idx, uint32_t len,
			   const struct qvl_rkey *key);
/* qvl_blob_remote_bytes() - frame bytes of this blob in the remote tier
 * only (not in the store, not counted by qvl_blob_disk_bytes); with
 * @chunks, how many chunks those are. */
uint64_t qvl_blob_remote_bytes(const struct qvl_blob *blob, uint64_t *chunks);
/* qvl_blob_prepare_cut() - before a truncate to @off (@len UINT64_MAX) or
 * a punch of [@off, +@len): the chunks it cuts in part that are only in
 * the remote tier are fetched, so the cut cannot silently keep their old
 * bytes when the network fails (a local frame keeps the best-effort rule
 * of punch and truncate).  0, or the fetch's error (-EIO, -ENOSPC). */
int qvl_blob_prepare_cut(struct qvl_blob *blob, uint64_t off, uint64_t len);
/* qvl_tm_remote_copies() - chunks whose frame in the store is a copy of
 * their remote one (the first to go when the store fills). */
uint64_t qvl_tm_remote_copies(const struct qvl_tm *tm);
/* qvl_blob_remote_only() - chunks whose bytes are only in the remote tier
 * now (no RAM copy, raw or compressed). */
uint64_t qvl_blob_remote_only(const struct qvl_blob *blob);
/* qvl_blob_chunk_remote() - chunk @idx's frame is in the remote tier. */
int qvl_blob_chunk_remote(const struct qvl_blob *blob, uint64_t idx);

/* qvl_blob_flush() - write every dirty chunk of this blob to disk (in the
 * catalog's open transaction).  A no-op for NO_STORE blobs. */
int qvl_blob_flush(struct qvl_blob *blob);

/*
 * qvl_blob_fsync() - what fsync needs of this blob: its dirty chunks
 * durable with the next (durable) commit.  Up to QVL_INLINE_CHUNKS of
 * them whose frames are at most QVL_INLINE_MAX bytes go into the catalog
 * (qvl_catalog_put_inline), so the commit's one sync covers them; they
 * stay dirty in RAM, backed, and reach the store later like any dirty
 * chunk.  Else they go to the store now (coded once), as with
 * qvl_blob_flush(), which more chunks or a catalog without the table get.
 */
#define QVL_INLINE_CHUNKS 4
#define QVL_INLINE_MAX (64u << 10)
int qvl_blob_fsync(struct qvl_blob *blob);

/* qvl_blob_replay_inline() - at mount, after the load: chunk @idx's bytes
 * are @frame, kept in the catalog by an fsync: they come into RAM, dirty
 * and backed by that row.  -EIO for a frame that fails its checks (the
 * chunk keeps what the store has), -ENOSPC, -ENOMEM, -EFBIG. */
int qvl_blob_replay_inline(struct qvl_blob *blob, uint64_t idx,
			   const void *frame, uint32_t len);

/* qvl_blob_evict() - write and drop from RAM every chunk that may leave it
 * (advice=dontneed, tier=nvme).  -ENOSPC when the store is full. */
int qvl_blob_evict(struct qvl_blob *blob);

/* qvl_blob_load() - fetch every chunk into RAM (advice=willneed,
 * tier=ram), as far as the budget allows: -ENOSPC if not all fit. */
int qvl_blob_load(struct qvl_blob *blob, uint64_t size);

/* qvl_blob_forget_store() - the file is gone: after the next commit its
 * frames and backing file are deleted.  Call before qvl_blob_destroy(). */
void qvl_blob_forget_store(struct qvl_blob *blob);

/* qvl_blob_unbacked_from() - the offset of the first chunk whose bytes are
 * in RAM only (written since its frame, or never stored), UINT64_MAX when
 * every chunk is on disk or a hole, or the blob never goes to the store. */
uint64_t qvl_blob_unbacked_from(const struct qvl_blob *blob);

/* qvl_blob_extent() - the end of the last chunk that exists (in RAM or on
 * disk), 0 for none. */
uint64_t qvl_blob_extent(const struct qvl_blob *blob);

/* qvl_blob_seek() - lseek's SEEK_DATA (@data) or SEEK_HOLE within the
 * first @size bytes, from @off: the first offset at or after it that is in
 * a chunk that exists (data) or in none (a hole; @size counts as one).
 * Chunks are the unit: a written chunk of zeros is data.  Returns 0 and
 * sets *@out, or -ENXIO when @off is at or past @size, or there is no data
 * after it. */
int qvl_blob_seek(const struct qvl_blob *blob, uint64_t size, uint64_t off,
		  int data, uint64_t *out);

/*
 * qvl_blob_recode_start() - the blob's dtype or codec changed: its frames on
 * disk were coded for the old one (as bytes, when the dtype came late) and
 * are to be written again, a step at a time, by qvl_blob_recode_step().
 */
void qvl_blob_recode_start(struct qvl_blob *blob);

/*
 * qvl_blob_recode_step() - write up to @max of those chunks again with the
 * blob's current codec: fetched if needed, encoded, written, and dropped
 * from RAM again if they were not there before.  Returns 1 while chunks
 * remain, 0 when done (or nothing was asked), or a negative errno (-ENOSPC:
 * a full store; the rest stays as it was and a later step retries).
 */
int qvl_blob_recode_step(struct qvl_blob *blob, unsigned max);

/* qvl_blob_disk_bytes() - compressed bytes of the blob's frames on disk. */
uint64_t qvl_blob_disk_bytes(const struct qvl_blob *blob);

/* qvl_blob_residency() - chunks in RAM, and chunks only on disk. */
void qvl_blob_residency(const struct qvl_blob *blob, uint64_t *in_ram,
			uint64_t *disk_only);

/* qvl_blob_lost() - 1 when volatile data of the blob was dropped. */
int qvl_blob_lost(const struct qvl_blob *blob);

#endif /* QVL_TIER_H */

/*
 * tm_i.h - what blob.c and the tier manager (tm*.c) share.
 *
 * A chunk that is neither in RAM nor on disk is a hole and has no struct.
 * A resident chunk sits on the tier manager's clock ring.  Everything here
 * runs under the caller's lock (the filesystem's), so nothing has its own.
 */
#ifndef QVL_TM_I_H
#define QVL_TM_I_H

#include "qvl_catalog.h"
#include "qvl_codec.h"
#include "qvl_nvme.h"
#include "qvl_tier.h"

struct qvl_chunk {
	struct qvl_chunk *prev, *next; /* clock ring, while ram != NULL */
	struct qvl_blob *blob;
	uint64_t idx;
	void *ram;          /* raw bytes, or NULL */
	uint64_t wepoch;    /* tm epoch in which the last frame was written */
	uint32_t disk_len;  /* latest frame's length on disk, 0 = none */
	uint8_t disk_slot;  /* the slot holding that frame */
	int8_t cslot_before; /* committed slot when wepoch began, -1 none */
	uint8_t dirty;      /* ram is newer than the disk frame */
	uint8_t ref;        /* clock: touched since the hand passed */
	uint8_t hold;       /* used by the operation in progress */
	uint8_t lost;       /* a volatile chunk dropped under pressure */
};

struct qvl_blob {
	struct qvl_pool *pool;
	struct qvl_tm *tm; /* NULL: a RAM-only blob */
	uint64_t ino;
	unsigned shift;
	size_t chunk; /* 1 << shift */
	struct qvl_chunk **map;
	uint64_t nmap;     /* entries in map */
	uint64_t resident; /* chunks in RAM */
	uint64_t on_disk;  /* chunks with a frame on disk */
	uint64_t disk_bytes;
	uint64_t version;
	uint32_t flags; /* QVL_BLOB_* */
	enum qvl_dtype dtype;
	enum qvl_codec_policy codec;
};

/* Post-commit work: space that the committed catalog no longer needs. */
struct tm_deferred {
	uint64_t ino, idx;
	uint32_t slot;
	int remove; /* the whole backing file */
};

struct qvl_tm {
	struct qvl_tm_config cfg;
	size_t slot_size;
	uint64_t epoch; /* bumped by every commit */
	struct qvl_chunk *hand; /* clock hand on the ring of resident chunks */
	uint64_t nring;
	struct qvl_codec_ctx *codec;
	void *bounce;   /* TM_BATCH aligned frame buffers */
	struct tm_deferred *deferred;
	size_t ndeferred, capdeferred;
	struct qvl_tm_stats st;
};

#define TM_BATCH 16 /* frames per disk batch (evict, flush, prefetch) */
/* Store space data frames leave to the catalog. */
#define TM_STORE_RESERVE (4ull << 20)

/* blob.c */
void qvl_blob_ram_free(struct qvl_blob *b, struct qvl_chunk *c);

/* tm.c */
void qvl_tm_forget_frame(struct qvl_tm *tm, struct qvl_chunk *c);
void qvl_tm_ring_add(struct qvl_tm *tm, struct qvl_chunk *c);
void qvl_tm_ring_del(struct qvl_tm *tm, struct qvl_chunk *c);
int qvl_tm_make_room(struct qvl_tm *tm, size_t nchunks);
int qvl_tm_fetch(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n);
/* Decode @c's frame into @dst (a chunk) without bringing it into RAM. */
int qvl_tm_read_through(struct qvl_tm *tm, struct qvl_chunk *c, void *dst);
int qvl_tm_write_frames(struct qvl_tm *tm, struct qvl_chunk **cs, unsigned n);
int qvl_tm_defer(struct qvl_tm *tm, uint64_t ino, uint64_t idx, uint32_t slot,
		 int remove);

#endif /* QVL_TM_I_H */

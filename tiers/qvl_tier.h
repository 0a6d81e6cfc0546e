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

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* qvl_pool_free() - give back a slot from qvl_pool_alloc() with the same
 * @size.  Its pages go back to the system at once; accepts NULL. */
void qvl_pool_free(struct qvl_pool *pool, void *ptr, size_t size);

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
 * The caller clamps @off/@len to the file size.  Cannot fail.
 */
void qvl_blob_read(const struct qvl_blob *blob, void *buf, size_t len,
		   uint64_t off);

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

/* qvl_blob_resident() - bytes of chunk memory the blob holds now. */
uint64_t qvl_blob_resident(const struct qvl_blob *blob);

/* qvl_blob_version() - bumped by every change; lets callers cache digests. */
uint64_t qvl_blob_version(const struct qvl_blob *blob);

/*
 * qvl_blob_checksum() - xxh3-64 of the first @size bytes (holes as zeros).
 * Returns 0 and sets *@out, or -ENOMEM.
 */
int qvl_blob_checksum(const struct qvl_blob *blob, uint64_t size,
		      uint64_t *out);

#endif /* QVL_TIER_H */

/*
 * qvl_nvme.h - the NVMe tier's backing files: compressed chunk frames in
 * per-inode sparse files under STORE/data/, read and written with io_uring.
 *
 * LAYOUT
 *
 * Inode N's frames live in STORE/data/<N % 256 as 2 hex digits>/<N in hex>.
 * Chunk i has two slots, at offsets (2i + s) * slot_size for s = 0, 1, where
 * slot_size = qvl_codec_bound(chunk size) rounded up to 4 KiB.  A new
 * version of a chunk is written to the slot the catalog does not point at,
 * made durable, then committed; only then is the old slot punched.  So the
 * catalog never points at a half-written frame, and a file's disk use is
 * its compressed bytes (holes cost nothing).
 *
 * I/O goes through one io_uring (a batch of requests is submitted at once
 * and waited for together); files are opened O_DIRECT where the filesystem
 * allows it (then buffers must be 4 KiB aligned and lengths are padded to
 * 4 KiB), and buffered otherwise.
 *
 * Thread context: thread-safe (an internal lock serializes the ring and the
 * descriptor cache); a batch call holds it while its requests are in
 * flight.  Functions return 0 or a negative errno.
 */
#ifndef QVL_NVME_H
#define QVL_NVME_H

#include <stddef.h>
#include <stdint.h>

#define QVL_NVME_ALIGN 4096u

struct qvl_nvme;

struct qvl_nvme_req {
	uint64_t ino;
	uint64_t idx;
	uint32_t slot; /* 0 or 1 */
	uint32_t len;  /* frame bytes to write, or to read (the catalog's) */
	void *buf;     /* QVL_NVME_ALIGN-aligned, capacity >= qvl_nvme_padded(len) */
	int result;    /* out: 0, or -errno (-EIO short read, -ENOSPC, ...) */
};

/* Bytes a frame of @len occupies on disk (and a buffer must hold). */
static inline size_t qvl_nvme_padded(size_t len)
{
	return (len + QVL_NVME_ALIGN - 1) & ~(size_t)(QVL_NVME_ALIGN - 1);
}

/*
 * qvl_nvme_open() - the backing store under @store_dir/data (created 0700),
 * for chunks of 1 << @chunk_shift bytes, with an io_uring of @queue_depth
 * entries (at least 1; 32 is a good default).  Descriptors of backing files
 * are cached, at most a few hundred open at once.
 */
int qvl_nvme_open(const char *store_dir, unsigned chunk_shift,
		  unsigned queue_depth, struct qvl_nvme **out);

/* qvl_nvme_close() - close every descriptor and the ring; NULL ok. */
void qvl_nvme_close(struct qvl_nvme *n);

/*
 * qvl_nvme_fix_buffers() - @count (at most QVL_NVME_FIXED_MAX) buffers the
 * caller reads and writes frames through for the store's lifetime: they
 * are registered with the ring, so the kernel stops pinning their pages
 * on every request (measured: 3% of the streaming benchmark's CPU).  Best
 * effort: -errno (a memlock limit, say) leaves every request as it was.
 */
#define QVL_NVME_FIXED_MAX 4
struct iovec;
int qvl_nvme_fix_buffers(struct qvl_nvme *n, const struct iovec *iov,
			 unsigned count);

/* qvl_nvme_slot_size() - bytes between consecutive slots. */
size_t qvl_nvme_slot_size(const struct qvl_nvme *n);

/*
 * qvl_nvme_read() / qvl_nvme_write() - run @count requests as one batch
 * (as many in flight as the ring holds), creating backing files on write.
 * Each request's result is set; the call returns 0 when every request
 * succeeded, else the first failure's errno.  A missing backing file reads
 * as -ENOENT; a short read as -EIO.  Writes pad the frame with zeros to
 * qvl_nvme_padded(len) (the buffer must hold that much).
 */
int qvl_nvme_read(struct qvl_nvme *n, struct qvl_nvme_req *reqs, unsigned count);
int qvl_nvme_write(struct qvl_nvme *n, struct qvl_nvme_req *reqs,
		   unsigned count);

/*
 * qvl_nvme_read_each() - qvl_nvme_read(), calling @done(@arg, i) as soon as
 * request i has its result (in completion order, once each, also for
 * requests that fail), while later reads are still in flight: the caller
 * decodes one frame while the disk reads the next.  @done runs with the
 * store's internal lock held and must not call back into it.
 */
typedef void (*qvl_nvme_done_fn)(void *arg, unsigned i);
int qvl_nvme_read_each(struct qvl_nvme *n, struct qvl_nvme_req *reqs,
		       unsigned count, qvl_nvme_done_fn done, void *arg);

/* qvl_nvme_sync() - fdatasync the backing file of @ino (0 if it has none). */
int qvl_nvme_sync(struct qvl_nvme *n, uint64_t ino);

/* qvl_nvme_punch() - free one slot's space (a no-op without the file). */
int qvl_nvme_punch(struct qvl_nvme *n, uint64_t ino, uint64_t idx,
		   uint32_t slot);

/* qvl_nvme_truncate() - free every slot of chunks >= @first_idx. */
int qvl_nvme_truncate(struct qvl_nvme *n, uint64_t ino, uint64_t first_idx);

/* qvl_nvme_remove() - delete @ino's backing file (0 if it has none). */
int qvl_nvme_remove(struct qvl_nvme *n, uint64_t ino);

/* qvl_nvme_list() - call @fn for every backing file's inode number (for
 * finding orphans at mount); a non-zero return stops and is returned. */
int qvl_nvme_list(struct qvl_nvme *n, int (*fn)(void *arg, uint64_t ino),
		  void *arg);

/* qvl_nvme_disk_bytes() - bytes the backing file of @ino occupies on disk
 * (st_blocks * 512), 0 without one. */
uint64_t qvl_nvme_disk_bytes(struct qvl_nvme *n, uint64_t ino);

/* qvl_nvme_free_bytes() - space left on the store's filesystem for us. */
uint64_t qvl_nvme_free_bytes(struct qvl_nvme *n);

#endif /* QVL_NVME_H */

/*
 * nvme_i.h - private to tiers/nvme*.c: the backing store object, its
 * descriptor cache and the batch I/O engine.
 *
 * LOCKING
 *
 * One mutex, n->lock, protects the ring and the descriptor cache (every
 * field marked below).  A batch holds it while its requests are in flight
 * (the contract in qvl_nvme.h says so); qvl_nvme_sync() drops it around
 * fdatasync() by working on a dup()ed descriptor, and qvl_nvme_list() never
 * takes it (it only reads directories through the immutable data_fd).
 */
#ifndef QVL_NVME_I_H
#define QVL_NVME_I_H

#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "qvl_nvme.h"

/* Descriptors kept open at most (more only while pinned by one batch). */
#define QVL_NVME_FD_CAP 256u
#define QVL_NVME_FD_BUCKETS 512u /* power of two, > cap */

/* One open backing file. */
struct qvl_nvme_fd {
	uint64_t ino;
	int fd;
	bool direct;	/* opened O_DIRECT */
	unsigned pins;	/* requests of the running batch that use fd */
	struct qvl_nvme_fd *hnext;	/* hash chain */
	struct qvl_nvme_fd *prev, *next; /* LRU, most recent at head */
};

struct qvl_nvme {
	int data_fd;	/* STORE/data, O_DIRECTORY; immutable */
	size_t slot_size;	/* immutable */
	unsigned queue_depth;	/* immutable */

	pthread_mutex_t lock;
	struct io_uring ring;	/* protected by lock */
	bool ring_ok;	/* protected by lock; false after a failed rebuild */
	struct qvl_nvme_fd *buckets[QVL_NVME_FD_BUCKETS]; /* protected by lock */
	struct qvl_nvme_fd lru;	/* list head; protected by lock */
	unsigned nr_fds;	/* protected by lock */
	/* Buffers registered with the ring (qvl_nvme_fix_buffers): requests
	 * into them are READ_FIXED/WRITE_FIXED, so the kernel does not pin
	 * their pages for each one.  fixed_ok: registered with this ring
	 * (again after a rebuild).  Protected by lock. */
	struct iovec fixed[QVL_NVME_FIXED_MAX];
	unsigned nfixed;
	bool fixed_ok;
};

/* The path of @ino's backing file relative to data_fd ("XX/hex"). */
void qvl_nvme_path(uint64_t ino, char *buf, size_t cap);

/*
 * qvl_nvme_fd_get() - @ino's cached descriptor, opening (and with @create,
 * creating) the file when it is not cached; the entry is made most recent.
 * Returns 0 and sets *@out, -ENOENT without the file, or -errno.  Called
 * with n->lock held; the entry stays valid until the lock is dropped or,
 * when pinned, until unpinned.
 */
int qvl_nvme_fd_get(struct qvl_nvme *n, uint64_t ino, bool create,
		    struct qvl_nvme_fd **out);

/* qvl_nvme_fd_trim() - close unpinned descriptors beyond the cap. */
void qvl_nvme_fd_trim(struct qvl_nvme *n);

/* qvl_nvme_ring_init() - (re)create n->ring; lock held or not yet shared. */
int qvl_nvme_ring_init(struct qvl_nvme *n);

/* The byte offset of a slot, or -EFBIG when it does not fit an off_t. */
int qvl_nvme_slot_off(const struct qvl_nvme *n, uint64_t idx, uint32_t slot,
		      uint64_t *off);

#endif /* QVL_NVME_I_H */

/*
 * nvme.c - the NVMe tier's backing store: layout, the descriptor cache and
 * the per-file operations.  The batched io_uring reads and writes are in
 * nvme_io.c.
 *
 * Descriptors are cached by inode in a hash table with an LRU list; past
 * QVL_NVME_FD_CAP the least recently used unpinned one is closed.  A batch
 * pins the entries its in-flight requests use, so an eviction never closes
 * a descriptor the kernel is still reading; the cap may be exceeded while a
 * batch touches more inodes than that and is restored when it ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvme_i.h"
#include "qvl_fault.h"
#include "qvl_record.h"
#include "qvl_codec.h"

#define QVL_NVME_PATH_MAX 32 /* "ff/" + 16 hex digits + NUL */

void qvl_nvme_path(uint64_t ino, char *buf, size_t cap)
{
	snprintf(buf, cap, "%02x/%" PRIx64, (unsigned)(ino & 0xff), ino);
}

int qvl_nvme_slot_off(const struct qvl_nvme *n, uint64_t idx, uint32_t slot,
		      uint64_t *off)
{
	uint64_t nslots = (uint64_t)INT64_MAX / n->slot_size;

	if (slot > 1)
		return -EINVAL;
	/* The slot's end, not just its start, must fit an off_t. */
	if (idx >= nslots / 2 || 2 * idx + slot + 1 > nslots)
		return -EFBIG;
	*off = (2 * idx + slot) * n->slot_size;
	return 0;
}

size_t qvl_nvme_slot_size(const struct qvl_nvme *n)
{
	return n->slot_size;
}

/* ---- descriptor cache (n->lock held) ---- */

static unsigned fd_bucket(uint64_t ino)
{
	return (unsigned)((ino * 0x9e3779b97f4a7c15ULL) >> 55) &
	       (QVL_NVME_FD_BUCKETS - 1);
}

static void lru_unlink(struct qvl_nvme_fd *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void lru_push(struct qvl_nvme *n, struct qvl_nvme_fd *e)
{
	e->prev = &n->lru;
	e->next = n->lru.next;
	n->lru.next->prev = e;
	n->lru.next = e;
}

static struct qvl_nvme_fd *fd_lookup(struct qvl_nvme *n, uint64_t ino)
{
	struct qvl_nvme_fd *e = n->buckets[fd_bucket(ino)];

	while (e && e->ino != ino)
		e = e->hnext;
	return e;
}

/* Unhash, unlink and close @e. */
static void fd_drop(struct qvl_nvme *n, struct qvl_nvme_fd *e)
{
	struct qvl_nvme_fd **pp = &n->buckets[fd_bucket(e->ino)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(e);
	close(e->fd);
	free(e);
	n->nr_fds--;
}

/* Close the least recently used unpinned descriptor; false if none. */
static bool fd_evict_one(struct qvl_nvme *n)
{
	struct qvl_nvme_fd *e;

	for (e = n->lru.prev; e != &n->lru; e = e->prev) {
		if (!e->pins) {
			fd_drop(n, e);
			return true;
		}
	}
	return false;
}

void qvl_nvme_fd_trim(struct qvl_nvme *n)
{
	while (n->nr_fds > QVL_NVME_FD_CAP && fd_evict_one(n))
		;
}

static int open_backing(struct qvl_nvme *n, const char *path, bool create,
			bool *direct)
{
	/* A backing file is a regular file of ours: a symbolic link, FIFO or
	 * device put in its place (damage, or a hostile store) is an I/O
	 * error for its chunks, never followed, never waited on. */
	int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
		    (create ? O_CREAT : 0);
	bool retried_dir = false, retried_fds = false;

	*direct = true;
	for (;;) {
		int fd = openat(n->data_fd, path, flags | (*direct ? O_DIRECT : 0),
			    0600);
		if (fd >= 0) {
			struct stat sb;
			if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
				close(fd);
				return -EIO;
			}
			/* Non-blocking was for the open only: io_uring would
			 * answer EAGAIN on a regular file that has it. */
			int fl = fcntl(fd, F_GETFL);
			if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
				close(fd);
				return -EIO;
			}
			if (create)
				qvl_record_at(fd, NULL, 'C', 0, 0, NULL);
			return fd;
		}
		if (errno == ELOOP)
			return -EIO;
		if (errno == EINVAL && *direct) {
			/* tmpfs before 6.6, ramfs, some FUSE mounts. */
			*direct = false;
		} else if (errno == ENOENT && create && !retried_dir) {
			char dir[3] = { path[0], path[1], 0 };

			if (mkdirat(n->data_fd, dir, 0700) && errno != EEXIST)
				return -errno;
			qvl_record_at(n->data_fd, dir, 'D', 0, 0, NULL);
			retried_dir = true;
		} else if ((errno == EMFILE || errno == ENFILE) &&
			   !retried_fds && fd_evict_one(n)) {
			retried_fds = true;
		} else {
			return -errno;
		}
	}
}

int qvl_nvme_fd_get(struct qvl_nvme *n, uint64_t ino, bool create,
		    struct qvl_nvme_fd **out)
{
	char path[QVL_NVME_PATH_MAX];
	struct qvl_nvme_fd *e = fd_lookup(n, ino);
	bool direct;
	int fd;

	if (e) {
		lru_unlink(e);
		lru_push(n, e);
		*out = e;
		return 0;
	}
	qvl_nvme_path(ino, path, sizeof(path));
	fd = open_backing(n, path, create, &direct);
	if (fd < 0)
		return fd;
	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		return -ENOMEM;
	}
	e->ino = ino;
	e->fd = fd;
	e->direct = direct;
	e->hnext = n->buckets[fd_bucket(ino)];
	n->buckets[fd_bucket(ino)] = e;
	lru_push(n, e);
	n->nr_fds++;
	if (n->nr_fds > QVL_NVME_FD_CAP) {
		e->pins++; /* not ourselves */
		fd_evict_one(n);
		e->pins--;
	}
	*out = e;
	return 0;
}

/* ---- open / close ---- */

int qvl_nvme_open(const char *store_dir, unsigned chunk_shift,
		  unsigned queue_depth, struct qvl_nvme **out)
{
	struct qvl_nvme *n;
	int sfd, rc;

	*out = NULL;
	if (!store_dir || !queue_depth || chunk_shift >= 31 ||
	    ((size_t)1 << chunk_shift) > QVL_CODEC_MAX_CHUNK)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->slot_size = qvl_nvme_padded(qvl_codec_bound((size_t)1 << chunk_shift));
	n->queue_depth = queue_depth;
	n->lru.prev = n->lru.next = &n->lru;

	sfd = open(store_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		rc = -errno;
		goto out_free;
	}
	if (mkdirat(sfd, "data", 0700) && errno != EEXIST) {
		rc = -errno;
		close(sfd);
		goto out_free;
	}
	n->data_fd = openat(sfd, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = n->data_fd < 0 ? -errno : 0;
	close(sfd);
	if (rc)
		goto out_free;
	rc = -pthread_mutex_init(&n->lock, NULL);
	if (rc)
		goto out_close_data;
	rc = qvl_nvme_ring_init(n);
	if (rc)
		goto out_destroy_lock;
	*out = n;
	return 0;

out_destroy_lock:
	pthread_mutex_destroy(&n->lock);
out_close_data:
	close(n->data_fd);
out_free:
	free(n);
	return rc;
}

void qvl_nvme_close(struct qvl_nvme *n)
{
	if (!n)
		return;
	while (n->lru.next != &n->lru)
		fd_drop(n, n->lru.next);
	if (n->ring_ok)
		io_uring_queue_exit(&n->ring);
	pthread_mutex_destroy(&n->lock);
	close(n->data_fd);
	free(n);
}

/* ---- per-file operations ---- */

int qvl_nvme_sync(struct qvl_nvme *n, uint64_t ino)
{
	struct qvl_nvme_fd *e;
	int fd, rc;

	pthread_mutex_lock(&n->lock);
	rc = qvl_nvme_fd_get(n, ino, false, &e);
	if (!rc) {
		/* A private descriptor: fdatasync() runs unlocked. */
		fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			rc = -errno;
	}
	pthread_mutex_unlock(&n->lock);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = fdatasync(fd) ? -errno : 0;
	if (!rc)
		qvl_record_at(fd, NULL, 'S', 0, 0, NULL);
	rc = qvl_fault_io(QVL_FAULT_FSYNC, rc);
	close(fd);
	return rc;
}

int qvl_nvme_punch(struct qvl_nvme *n, uint64_t ino, uint64_t idx,
		   uint32_t slot)
{
	struct qvl_nvme_fd *e;
	uint64_t off;
	int rc;

	rc = qvl_nvme_slot_off(n, idx, slot, &off);
	if (rc)
		return rc;
	pthread_mutex_lock(&n->lock);
	rc = qvl_nvme_fd_get(n, ino, false, &e);
	if (!rc && fallocate(e->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     (off_t)off, (off_t)n->slot_size))
		rc = -errno;
	else if (!rc)
		qvl_record_at(e->fd, NULL, 'P', off, n->slot_size, NULL);
	pthread_mutex_unlock(&n->lock);
	return rc == -ENOENT ? 0 : rc;
}

int qvl_nvme_truncate(struct qvl_nvme *n, uint64_t ino, uint64_t first_idx)
{
	struct qvl_nvme_fd *e;
	struct stat st;
	uint64_t off;
	int rc;

	rc = qvl_nvme_slot_off(n, first_idx, 0, &off);
	if (rc == -EFBIG)
		return 0; /* no slot can lie that far */
	pthread_mutex_lock(&n->lock);
	rc = qvl_nvme_fd_get(n, ino, false, &e);
	if (!rc) {
		if (fstat(e->fd, &st))
			rc = -errno;
		else if ((uint64_t)st.st_size > off &&
			 ftruncate(e->fd, (off_t)off))
			rc = -errno;
		else if ((uint64_t)st.st_size > off)
			qvl_record_at(e->fd, NULL, 'T', off, 0, NULL);
	}
	pthread_mutex_unlock(&n->lock);
	return rc == -ENOENT ? 0 : rc;
}

int qvl_nvme_remove(struct qvl_nvme *n, uint64_t ino)
{
	char path[QVL_NVME_PATH_MAX];
	struct qvl_nvme_fd *e;
	int rc = 0;

	qvl_nvme_path(ino, path, sizeof(path));
	pthread_mutex_lock(&n->lock);
	e = fd_lookup(n, ino);
	if (e)
		fd_drop(n, e); /* never pinned: batches hold the lock */
	if (unlinkat(n->data_fd, path, 0) && errno != ENOENT)
		rc = -errno;
	else
		qvl_record_at(n->data_fd, path, 'U', 0, 0, NULL);
	pthread_mutex_unlock(&n->lock);
	return rc;
}

uint64_t qvl_nvme_disk_bytes(struct qvl_nvme *n, uint64_t ino)
{
	char path[QVL_NVME_PATH_MAX];
	struct stat st;

	qvl_nvme_path(ino, path, sizeof(path));
	if (fstatat(n->data_fd, path, &st, 0))
		return 0;
	return (uint64_t)st.st_blocks * 512;
}

/* Parse a backing file's name; false for anything we did not write. */
static bool parse_name(const char *name, unsigned dir, uint64_t *ino)
{
	uint64_t v = 0;
	const char *p;

	if (!*name || strlen(name) > 16 || (name[0] == '0' && name[1]))
		return false;
	for (p = name; *p; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	if ((v & 0xff) != dir)
		return false;
	*ino = v;
	return true;
}

int qvl_nvme_list(struct qvl_nvme *n, int (*fn)(void *arg, uint64_t ino),
		  void *arg)
{
	unsigned dir;
	int rc = 0;

	for (dir = 0; dir < 256 && !rc; dir++) {
		char name[4];
		struct dirent *de;
		uint64_t ino;
		DIR *d;
		int fd;

		snprintf(name, sizeof(name), "%02x", dir & 0xff);
		fd = openat(n->data_fd, name,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		d = fdopendir(fd);
		if (!d) {
			rc = -errno;
			close(fd);
			return rc;
		}
		errno = 0;
		while (!rc && (de = readdir(d))) {
			if (parse_name(de->d_name, dir, &ino))
				rc = fn(arg, ino);
			errno = 0;
		}
		if (!rc && errno)
			rc = -errno;
		closedir(d);
	}
	return rc;
}

uint64_t qvl_nvme_free_bytes(struct qvl_nvme *n)
{
	struct statvfs sv;
	if (fstatvfs(n->data_fd, &sv))
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

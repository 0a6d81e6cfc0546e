/*
 * fs_i.h - the daemon's private state: the filesystem, inodes, directories.
 *
 * LOCKING
 *
 * One mutex, fs->lock, protects the whole namespace: the inode table, every
 * inode's fields, directory entries, xattrs and the blobs' contents.  It is
 * never held across a fuse_reply_*() call: handlers copy what they reply
 * with while holding it, unlock, then reply.  The pool below the blobs has
 * its own lock, always taken after fs->lock.  Counters in fs->ops are
 * atomics and need no lock.
 */
#ifndef QVL_FS_I_H
#define QVL_FS_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "hints.h"
#include "metrics.h"
#include "qvl_catalog.h"
#include "qvl_nvme.h"
#include "qvl_tier.h"

/* Inode numbers below this are the control tree's; the root is 1. */
#define QVL_INO_ROOT 1
#define QVL_INO_CTL_DIR 2
#define QVL_INO_CTL_STATS 3
#define QVL_INO_CTL_JSON 4
#define QVL_INO_CTL_METRICS 5
#define QVL_INO_CTL_TIERS 6
#define QVL_INO_CTL_TIER0 7 /* + enum qvl_tier_id: tiers/gpu, ram, nvme */
#define QVL_INO_FIRST 16
/* An entry of .qvl/tiers/<tier>/ (ctl_tiers.c) stands for a file: its
 * number is this bit, the tier above bit 56, and the file's number. */
#define QVL_INO_CTL_LINK (1ull << 62)
#define QVL_INO_CTL_LINK_TIER_SHIFT 56

/* Total bytes of names and values of one inode's stored xattrs. */
#define QVL_XATTR_SPACE_MAX (256u << 10)

enum qvl_op {
	QVL_OP_LOOKUP, QVL_OP_FORGET, QVL_OP_GETATTR, QVL_OP_SETATTR,
	QVL_OP_READLINK, QVL_OP_MKNOD, QVL_OP_MKDIR, QVL_OP_UNLINK,
	QVL_OP_RMDIR, QVL_OP_SYMLINK, QVL_OP_RENAME, QVL_OP_LINK, QVL_OP_OPEN,
	QVL_OP_READ, QVL_OP_WRITE, QVL_OP_RELEASE, QVL_OP_FSYNC,
	QVL_OP_OPENDIR, QVL_OP_READDIR, QVL_OP_RELEASEDIR, QVL_OP_STATFS,
	QVL_OP_SETXATTR, QVL_OP_GETXATTR, QVL_OP_LISTXATTR,
	QVL_OP_REMOVEXATTR, QVL_OP_CREATE, QVL_OP_FALLOCATE, QVL_OP_LSEEK,
	QVL_OP_COUNT
};
extern const char *const qvl_op_names[QVL_OP_COUNT];

struct qvl_xattr {
	struct qvl_xattr *next;
	char *name;
	void *value;
	size_t size;
};

struct qvl_dirent {
	struct qvl_dirent *hnext;      /* hash chain */
	struct qvl_dirent *prev, *next; /* insertion order */
	struct qvl_inode *inode;
	size_t namelen;
	char name[];
};

struct qvl_dir {
	struct qvl_dirent **buckets;
	size_t nbuckets;
	size_t count;
	struct qvl_dirent *head, *tail;
	uint64_t parent; /* ino of "..", 0 once removed */
};

struct qvl_inode {
	struct qvl_inode *hnext; /* inode table chain */
	uint64_t ino;
	uint64_t nlookup; /* kernel references (lookup counts) */
	uint32_t nopen;   /* open file handles */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	nlink_t nlink;
	dev_t rdev;
	uint64_t size;
	uint64_t row_size; /* the size its catalog row says (put_row) */
	struct timespec atime, mtime, ctime;
	struct qvl_blob *blob; /* S_IFREG */
	char *link;            /* S_IFLNK */
	struct qvl_dir *dir;   /* S_IFDIR */
	struct qvl_hints hints;
	struct qvl_xattr *xattrs; /* other xattrs, stored verbatim */
	size_t xattr_space;
	uint64_t sum_version; /* blob version the cached checksum is of */
	uint64_t sum;
	int sum_valid;
	/* the catalog row is stale: on fs->dirty_head's list */
	uint8_t meta_dirty;
	struct qvl_inode *dprev, *dnext;
	struct qvl_gpu_rep *gpu; /* its replica on the GPU (gpu_tier.h) */
	uint32_t load_refs; /* entries naming it, counted at mount only */
	uint8_t size_bad;   /* at mount: its row's size was impossible */
};

/* What qvl_fs_create() needs to know. */
struct qvl_fs_config {
	uint64_t ram_budget;
	unsigned chunk_shift;
	const char *store;  /* NULL: RAM only, nothing persists (unit tests) */
	unsigned flush_ms;  /* flusher period */
	int repair;         /* delete orphans and dangling rows at mount */
	/* The remote tier (qvl_remote.h), or NULL; the fs owns it from
	 * qvl_fs_create() on (closed by qvl_fs_destroy, also on failure). */
	struct qvl_remote *remote;
	const char *remote_auth; /* the auth file's path, for stats */
};

struct qvl_fs {
	pthread_mutex_t lock;
	/* The catalog failed to record a change (persist.c): memory is ahead
	 * of it, so nothing may change any more (EROFS), nothing more is
	 * committed, and the daemon exits non-zero. */
	atomic_int readonly;
	int unmount_rc;	/* the unmount's write-back and commit: 0 or -errno */
	/* protected by lock: */
	uint64_t *recode;       /* files whose frames await re-encoding */
	size_t nrecode, caprecode;
	struct qvl_inode **itab;
	size_t itab_size, ninodes;
	uint64_t next_ino;
	uint64_t next_ino_saved; /* what the catalog says */
	uint64_t nfiles, ndirs, nlinks_sym;
	uint64_t bytes; /* sum of regular files' sizes */
	struct qvl_inode *root;

	struct qvl_inode *dirty_head; /* inodes with stale catalog rows */
	uint64_t cat_errors, io_errors, orphans, dangling;
	uint64_t remote_errors; /* of io_errors: remote frames */

	/* set at start, read-only afterwards */
	struct qvl_pool *pool;
	struct qvl_catalog *cat; /* NULL without a store */
	struct qvl_nvme *nvme;
	struct qvl_tm *tm;
	struct qvl_remote *remote; /* NULL: no remote tier */
	char *remote_auth;
	int repair;
	unsigned flush_ms;
	struct fuse_session *se; /* for page-cache invalidation */
	/* Each worker thread's buffer and iovec for READ replies
	 * (ops_file.c): a fresh malloc per READ faulted its pages in every
	 * time. */
	pthread_key_t read_space;

	/* background threads (bg.c); the queue is protected by bg_lock */
	pthread_mutex_t bg_lock;
	pthread_cond_t bg_cond;
	int bg_stop, bg_running;
	pthread_t flusher, invalidator;
	int recode_kick;        /* bg_lock: files to re-encode were added */
	struct qvl_inval *inval; /* ring of pending page-cache drops */
	size_t ninval, capinval;
	uint64_t inval_dropped;
	unsigned chunk_shift;
	uint64_t ram_budget;
	char *store;
	char *mountpoint;
	int read_ahead_kb; /* what the mount's bdi says, -1 unknown */
	double entry_timeout, attr_timeout;
	struct timespec started;

	_Atomic uint64_t ops[QVL_OP_COUNT];
	_Atomic uint64_t enospc;

	/* lifetime collection (ttl.c); the thread stops with bg_stop */
	pthread_t ttl_thread;
	int ttl_running;
	int ttl_any; /* some file had a ttl once (ttl.h); under lock */
	_Atomic uint64_t col_expired, col_bytes, col_demoted;
	_Atomic uint64_t col_avoided_bytes, col_avoided_files;

	/* memory pressure (pressure.c); ram_min is set before the threads */
	pthread_t pressure_thread;
	int pressure_running;
	uint64_t ram_min;
	_Atomic uint64_t ram_target, pressure_shrinks, pressure_grows;
	_Atomic uint64_t pressure_ms;
	atomic_int psi_trigger;

	struct qvl_read_hist read_hist; /* metrics.c; atomics, no lock */

	/* the GPU tier (gpu_tier.c): NULL without one; all under lock */
	struct qvl_gpu *gpu;
	char gpu_handle[129]; /* the arena's IPC handle, hex ("" if none) */
	char gpu_why[256];    /* why there is none, when gpu= was asked */
	int gpu_asked;
	struct qvl_gpu_rep *gpu_lru, *gpu_lru_tail;
	uint64_t gpu_placed, gpu_evicted, gpu_dropped, gpu_refreshed;
	pthread_t gpu_pinner; /* places pinned files after a mount */
	int gpu_pinner_on;
	atomic_int gpu_pinner_stop;
	/* open files' numbers (fi->fh): a GPU mapper is known by its own */
	_Atomic uint64_t next_fh;
};

static inline void qvl_count(struct qvl_fs *fs, enum qvl_op op)
{
	atomic_fetch_add_explicit(&fs->ops[op], 1, memory_order_relaxed);
}

/* EROFS for a change while the mount is read-only (the catalog failed). */
static inline int qvl_fs_rdonly(struct qvl_fs *fs)
{
	return atomic_load(&fs->readonly);
}

/* recode.c: frames written before a file's dtype or codec was set are
 * encoded again in the background (the flusher thread). */
void qvl_recode_add(struct qvl_fs *fs, struct qvl_inode *in);
void qvl_recode_run(struct qvl_fs *fs);

/* store_private.c: make the store and its catalog 0700/0600 (saying so on
 * stderr for each it tightens); a negative errno and @err when one cannot
 * be made private. */
int qvl_store_make_private(const char *store, char *err, size_t errlen);

/* fs.c: life cycle.  qvl_fs_create() opens the store (catalog, backing
 * files) and loads it; on failure @err says why in one line. */
int qvl_fs_create(const struct qvl_fs_config *cfg, struct qvl_fs **out,
		  char *err, size_t errlen);
void qvl_fs_destroy(struct qvl_fs *fs);
/* qvl_fs_unmount() - what an unmount does to the store (write back, drop
 * session files, commit; fs->unmount_rc says how it went) and the inode
 * table freed: the daemon's destroy, and tools that mount in-process. */
void qvl_fs_unmount(struct qvl_fs *fs);

/* bg.c: the flusher and the page-cache invalidator threads.  init/fini
 * set up and tear down their state; start/stop run them (after mounting,
 * before the final flush).  qvl_bg_inval() queues a page-cache drop
 * (callable under fs->lock). */
void qvl_bg_init(struct qvl_fs *fs);
void qvl_bg_fini(struct qvl_fs *fs);
int qvl_bg_start(struct qvl_fs *fs);
void qvl_bg_stop(struct qvl_fs *fs);
void qvl_bg_inval(struct qvl_fs *fs, uint64_t ino, uint64_t off, uint64_t len);
/* qvl_bg_inval_entry() - queue the drop of the kernel's entry @name in
 * directory @parent (a name made behind its back, which it may have
 * cached as absent); callable under fs->lock. */
void qvl_bg_inval_entry(struct qvl_fs *fs, uint64_t parent, const char *name);

/* persist.c: the catalog side of every change; under fs->lock unless said */
void qvl_persist_mark(struct qvl_fs *fs, struct qvl_inode *in);
int qvl_persist_rows(struct qvl_fs *fs);
void qvl_persist_dirent(struct qvl_fs *fs, uint64_t parent, const char *name,
			const struct qvl_inode *in);
void qvl_persist_xattr(struct qvl_fs *fs, struct qvl_inode *in,
		       const char *name, const void *value, size_t len, int del);
void qvl_persist_gone(struct qvl_fs *fs, struct qvl_inode *in);
void qvl_inode_apply_policy(struct qvl_inode *in);
/* Write all dirty data and stale rows and commit (fsync of any file or
 * directory: a commit covers them all). */
int qvl_persist_fsync(struct qvl_fs *fs, int durable);
/* qvl_persist_fsync_file() - fsync(2) of one file: its dirty chunks to
 * the store (small ones into the catalog: qvl_blob_fsync), the catalog
 * rows, one durable commit. */
int qvl_persist_fsync_file(struct qvl_fs *fs, struct qvl_inode *in);
/* qvl_persist_relieve() - a write found the store full: when it holds
 * copies of remote frames, commit now (rows first, durably), which lets
 * the oldest copies go and frees their space (tiers/remote_cache.c).
 * 1 when some went (try again), else 0.  Under fs->lock. */
int qvl_persist_relieve(struct qvl_fs *fs);

/* qvl_persist_fsync_dir() - fsync(2) of a directory: the rows (entries
 * among them), one durable commit; no file's data. */
int qvl_persist_fsync_dir(struct qvl_fs *fs);
int qvl_persist_load(struct qvl_fs *fs);
int qvl_persist_unmount(struct qvl_fs *fs);
/* Flush dirty data and rows and commit; takes fs->lock itself. */
int qvl_persist_flush(struct qvl_fs *fs, int durable);

/* inode.c: the inode table; all under fs->lock */
struct qvl_inode *qvl_inode_get(struct qvl_fs *fs, uint64_t ino);
int qvl_inode_new(struct qvl_fs *fs, mode_t mode, uid_t uid, gid_t gid,
		  struct qvl_inode **out);
/* The same with a given number (loading): -EEXIST if taken. */
int qvl_inode_insert(struct qvl_fs *fs, uint64_t ino, mode_t mode, uid_t uid,
		     gid_t gid, struct qvl_inode **out);
void qvl_inode_forget(struct qvl_fs *fs, struct qvl_inode *in, uint64_t n);
void qvl_inode_maybe_free(struct qvl_fs *fs, struct qvl_inode *in);
void qvl_inode_stat(const struct qvl_fs *fs, const struct qvl_inode *in,
		    struct stat *st);
/* New size of a regular file: frees what lies past it, clears a shape
 * that no longer matches. */
void qvl_inode_resize(struct qvl_fs *fs, struct qvl_inode *in, uint64_t size);
void qvl_now(struct timespec *ts);
/* Frees every inode still in the table: at unmount. */
void qvl_inode_table_free(struct qvl_fs *fs);

/* dir.c: directory entries; all under fs->lock */
int qvl_dir_init(struct qvl_inode *dir, uint64_t parent);
void qvl_dir_free(struct qvl_dir *d);
struct qvl_dirent *qvl_dir_find(const struct qvl_dir *d, const char *name);
int qvl_dir_add(struct qvl_dir *d, const char *name, struct qvl_inode *in);
void qvl_dir_remove(struct qvl_dir *d, struct qvl_dirent *e);

/* xattr_store.c: verbatim xattrs; all under fs->lock */
struct qvl_xattr *qvl_xattr_find(struct qvl_inode *in, const char *name);
int qvl_xattr_set(struct qvl_inode *in, const char *name, const void *value,
		  size_t size, int flags);
int qvl_xattr_remove(struct qvl_inode *in, const char *name);
void qvl_xattr_free_all(struct qvl_inode *in);

#endif /* QVL_FS_I_H */

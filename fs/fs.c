/*
 * fs.c - the filesystem object: creation, the FUSE ops table, init and
 * destroy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu_tier.h"
#include "ops_i.h"

#define ITAB_INITIAL 1024
#define QVL_CACHE_TIMEOUT 3600.0 /* seconds */
#define QVL_IO_MAX (1u << 20) /* max_read / max_write */

/* Open the catalog, the backing files and the tier manager on @store. */
static int open_store(struct qvl_fs *fs, const char *store, char *err,
		      size_t errlen)
{
	int rc = qvl_catalog_open(store, fs->chunk_shift, &fs->cat, err, errlen);
	if (rc)
		return rc;
	rc = qvl_nvme_open(store, fs->chunk_shift, 32, &fs->nvme);
	if (rc) {
		snprintf(err, errlen, "backing files under %s/data: %s", store,
			 strerror(-rc));
		return rc;
	}
	return 0;
}

/* The tier manager tells us a chunk left RAM: queue a page-cache drop. */
static void on_evicted(void *arg, uint64_t ino, uint64_t off, uint64_t len)
{
	qvl_bg_inval(arg, ino, off, len);
}

/* The tier manager's cross-file prefetch asks for a file's blob. */
static struct qvl_blob *on_blob_of(void *arg, uint64_t ino)
{
	struct qvl_inode *in = qvl_inode_get(arg, ino);
	return in && in->nlink ? in->blob : NULL;
}

static void on_io_error(void *arg, uint64_t ino, uint64_t idx, int err)
{
	struct qvl_fs *fs = arg;
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	char why[256] = "";
	fs->io_errors++;
	if (!in || !in->blob || !qvl_blob_chunk_remote(in->blob, idx)) {
		fprintf(stderr, "qvlmemfs: inode %llu chunk %llu: %s on the "
				"store (bad, missing or truncated frame)\n",
			(unsigned long long)ino, (unsigned long long)idx,
			strerror(-err));
		return;
	}
	fs->remote_errors++;
	if (fs->remote)
		qvl_remote_error(fs->remote, why, sizeof(why));
	fprintf(stderr, "qvlmemfs: inode %llu chunk %llu: %s from the remote "
			"tier %s: %s (a frame missing from Redis was evicted "
			"or deleted: run Redis with maxmemory-policy "
			"noeviction and persistence)\n",
		(unsigned long long)ino, (unsigned long long)idx,
		strerror(-err), fs->remote ? qvl_remote_url(fs->remote) :
					     "(none: mount with -o remote=URL)",
		*why ? why : "the frame is not what its key names");
}

int qvl_fs_create(const struct qvl_fs_config *cfg, struct qvl_fs **out,
		  char *err, size_t errlen)
{
	struct qvl_fs *fs = calloc(1, sizeof(*fs));
	int rc = -ENOMEM;

	*out = NULL;
	if (!fs) {
		qvl_remote_close(cfg->remote);
		return -ENOMEM;
	}
	pthread_mutex_init(&fs->lock, NULL);
	pthread_key_create(&fs->read_space, free);
	fs->chunk_shift = cfg->chunk_shift;
	fs->ram_budget = cfg->ram_budget;
	fs->repair = cfg->repair;
	fs->flush_ms = cfg->flush_ms;
	fs->remote = cfg->remote;
	if (cfg->remote_auth && !(fs->remote_auth = strdup(cfg->remote_auth)))
		goto out_free;
	fs->read_ahead_kb = -1;
	/* Every change to names and attributes passes through this kernel,
	 * which updates its cache as it goes: long timeouts are safe, and
	 * they make stat a cache hit instead of a round trip. */
	fs->entry_timeout = QVL_CACHE_TIMEOUT;
	fs->attr_timeout = QVL_CACHE_TIMEOUT;
	fs->next_ino = QVL_INO_FIRST;
	qvl_now(&fs->started);
	qvl_bg_init(fs);
	fs->itab_size = ITAB_INITIAL;
	fs->itab = calloc(fs->itab_size, sizeof(*fs->itab));
	if (!fs->itab)
		goto out_free;
	rc = qvl_pool_create(cfg->ram_budget, cfg->chunk_shift, &fs->pool);
	if (rc)
		goto out_free;
	if (cfg->store) {
		rc = open_store(fs, cfg->store, err, errlen);
		if (rc)
			goto out_free;
		struct qvl_tm_config tc = {
			.pool = fs->pool, .nvme = fs->nvme, .cat = fs->cat,
			.remote = fs->remote, .chunk_shift = cfg->chunk_shift,
			.workers = qvl_tm_default_workers(),
			.evicted = on_evicted,
			.io_error = on_io_error, .blob_of = on_blob_of,
			.arg = fs, .lock = &fs->lock,
		};
		rc = qvl_tm_create(&tc, &fs->tm);
		if (rc)
			goto out_free;
		rc = qvl_persist_load(fs);
		if (rc) {
			snprintf(err, errlen, "loading the catalog: %s",
				 strerror(-rc));
			goto out_free;
		}
		/* Damaged rows are isolated (EIO for what they name) but not
		 * ours to rewrite unasked: read-only until -o repair, like a
		 * filesystem with errors that wants its fsck. */
		if (fs->dangling && !cfg->repair)
			atomic_store(&fs->readonly, 1);
	}
	if (!fs->root) { /* a new store */
		rc = qvl_inode_insert(fs, QVL_INO_ROOT, S_IFDIR | 0755, getuid(),
				      getgid(), &fs->root);
		if (!rc)
			rc = qvl_dir_init(fs->root, QVL_INO_ROOT);
		if (rc)
			goto out_free;
		qvl_persist_mark(fs, fs->root);
	}
	if (fs->tm && !qvl_fs_rdonly(fs)) {
		rc = qvl_persist_rows(fs);
		if (!rc)
			rc = qvl_tm_commit(fs->tm, 1);
		if (rc) {
			snprintf(err, errlen, "writing the catalog: %s",
				 strerror(-rc));
			goto out_free;
		}
	}
	*out = fs;
	return 0;

out_free:
	qvl_fs_destroy(fs);
	return rc;
}

void qvl_fs_destroy(struct qvl_fs *fs)
{
	if (!fs)
		return;
	/* The threads first (already stopped when INIT came and destroy ran,
	 * not when the loop ended before it). */
	qvl_bg_stop(fs);
	qvl_fs_gpu_close(fs);
	if (fs->itab)
		qvl_inode_table_free(fs);
	free(fs->itab);
	qvl_tm_destroy(fs->tm);
	fs->tm = NULL; /* qvl_bg_fini() stops the threads once more */
	qvl_nvme_close(fs->nvme);
	qvl_remote_close(fs->remote);
	free(fs->remote_auth);
	qvl_catalog_close(fs->cat);
	qvl_pool_destroy(fs->pool);
	qvl_bg_fini(fs);
	pthread_mutex_destroy(&fs->lock);
	free(pthread_getspecific(fs->read_space));
	pthread_key_delete(fs->read_space);
	free(fs->recode);
	free(fs->store);
	free(fs->mountpoint);
	free(fs);
}

#define QVL_MAX_BACKGROUND 64

static void qvl_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = QVL_IO_MAX;
	conn->max_read = QVL_IO_MAX;
	/* The kernel sets the bdi's read-ahead to the smaller of what it is
	 * and this: main() raised the bdi before INIT, and the default (the
	 * 128 KiB the kernel offered) would put it back. */
	conn->max_readahead = QVL_IO_MAX;
	conn->time_gran = 1;
	/* Every change passes through this kernel's page cache, so an mtime
	 * change seen on a getattr is never a reason to drop it. */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	/* Readahead READs are background requests: past the congestion
	 * threshold (9 of 12 by default) the kernel skips async readahead,
	 * and a reader then faults in small synchronous READs.  Many
	 * streams at once (the 64-reader case) need more in flight. */
	conn->max_background = QVL_MAX_BACKGROUND;
	conn->congestion_threshold = QVL_MAX_BACKGROUND * 3 / 4;
}

void qvl_fs_unmount(struct qvl_fs *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->unmount_rc = qvl_persist_unmount(fs);
	qvl_inode_table_free(fs);
	fs->root = NULL;
	pthread_mutex_unlock(&fs->lock);
}

/* Unmount: write everything back, forget session files, commit. */
static void qvl_destroy(void *userdata)
{
	struct qvl_fs *fs = userdata;
	qvl_bg_stop(fs);
	qvl_fs_unmount(fs);
}

void qvl_fs_ops(struct fuse_lowlevel_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->init = qvl_init;
	ops->destroy = qvl_destroy;
	qvl_ops_node(ops);
	qvl_ops_file(ops);
	qvl_ops_dir(ops);
	qvl_ops_xattr(ops);
}

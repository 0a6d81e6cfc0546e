/*
 * fs.c - the filesystem object: creation, the FUSE ops table, init and
 * destroy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops_i.h"

#define ITAB_INITIAL 1024
#define QVL_IO_MAX (1u << 20) /* max_read / max_write */

int qvl_fs_create(uint64_t ram_budget, unsigned chunk_shift,
		  struct qvl_fs **out)
{
	struct qvl_fs *fs = calloc(1, sizeof(*fs));
	int rc = -ENOMEM;

	*out = NULL;
	if (!fs)
		return -ENOMEM;
	pthread_mutex_init(&fs->lock, NULL);
	fs->chunk_shift = chunk_shift;
	fs->ram_budget = ram_budget;
	fs->read_ahead_kb = -1;
	fs->entry_timeout = 1.0;
	fs->attr_timeout = 1.0;
	qvl_now(&fs->started);
	fs->itab_size = ITAB_INITIAL;
	fs->itab = calloc(fs->itab_size, sizeof(*fs->itab));
	if (!fs->itab)
		goto out_free;
	rc = qvl_pool_create(ram_budget, chunk_shift, &fs->pool);
	if (rc)
		goto out_free;
	fs->next_ino = FUSE_ROOT_ID; /* the root takes 1; the rest start above
					the control tree's numbers */
	rc = qvl_inode_new(fs, S_IFDIR | 0755, getuid(), getgid(), &fs->root);
	if (!rc)
		rc = qvl_dir_init(fs->root, FUSE_ROOT_ID);
	if (rc)
		goto out_free;
	fs->next_ino = QVL_INO_FIRST;
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
	if (fs->itab)
		qvl_inode_table_free(fs);
	free(fs->itab);
	qvl_pool_destroy(fs->pool);
	pthread_mutex_destroy(&fs->lock);
	free(fs->store);
	free(fs->mountpoint);
	free(fs);
}

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
}

/* Unmount: everything held in RAM goes (session files with it). */
static void qvl_destroy(void *userdata)
{
	struct qvl_fs *fs = userdata;
	pthread_mutex_lock(&fs->lock);
	qvl_inode_table_free(fs);
	fs->root = NULL;
	pthread_mutex_unlock(&fs->lock);
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

/*
 * persist.c - the namespace mirrored into the catalog, read back at mount,
 * and the flushes that bound what a crash can lose.
 *
 * Directory entries and xattrs go into the catalog's open transaction as
 * they change; inode rows (sizes, times, modes, hints) change too often for
 * that and are written when the inode is marked dirty and the next flush or
 * fsync comes.  Every commit is taken under fs->lock, so it captures one
 * consistent state.  Data reaches the catalog through the tier manager
 * (chunk rows), which writes a chunk's frame durably before its row.
 *
 * Lifetimes: every inode's row is kept, but only persistent files' data.
 * Session and volatile files are removed at unmount, and after a crash at
 * the next mount, with the entries naming them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"
#include "ttl.h"

/* The catalog could not record a change: from here on memory would drift
 * from it (SQLite may have rolled the open transaction back), so the
 * mount turns read-only, like ext4's errors=remount-ro: the last commit
 * stays the store's state, and its frames stay where it needs them. */
static void cat_error(struct qvl_fs *fs, int rc, const char *what)
{
	fs->cat_errors++;
	fprintf(stderr, "qvlmemfs: catalog %s: %s\n", what, strerror(-rc));
	if (!atomic_exchange(&fs->readonly, 1))
		fprintf(stderr, "qvlmemfs: the catalog cannot record changes: "
				"the mount is read-only from now on; the store "
				"keeps its last committed state\n");
}

void qvl_persist_mark(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (!fs->cat || in->meta_dirty)
		return;
	in->meta_dirty = 1;
	in->dprev = NULL;
	in->dnext = fs->dirty_head;
	if (fs->dirty_head)
		fs->dirty_head->dprev = in;
	fs->dirty_head = in;
}

static void unmark(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (!in->meta_dirty)
		return;
	if (in->dprev)
		in->dprev->dnext = in->dnext;
	else
		fs->dirty_head = in->dnext;
	if (in->dnext)
		in->dnext->dprev = in->dprev;
	in->dprev = in->dnext = NULL;
	in->meta_dirty = 0;
}

/* Nanoseconds since the epoch, saturated: a time set by utimensat() (or
 * read from a damaged row) can be centuries past what 64 bits of ns hold. */
static int64_t ns(struct timespec t)
{
	int64_t v;
	if (__builtin_mul_overflow((int64_t)t.tv_sec, 1000000000, &v) ||
	    __builtin_add_overflow(v, (int64_t)t.tv_nsec, &v))
		return t.tv_sec < 0 ? INT64_MIN : INT64_MAX;
	return v;
}

static struct timespec ts(int64_t v)
{
	struct timespec t = { v / 1000000000, v % 1000000000 };
	if (t.tv_nsec < 0) {
		t.tv_sec--;
		t.tv_nsec += 1000000000;
	}
	return t;
}

/*
 * The size a file's row may say: never more than its data on the store
 * backs.  Chunks still only in RAM (the store was full, or the row goes
 * out before they do) would read as zeros after a crash, so the size
 * stops at the first of them, but not below what the row said before
 * (that data is on the store: overwritten chunks fall back to it).
 */
static uint64_t backed_size(const struct qvl_inode *in)
{
	if (!in->blob)
		return in->size;
	uint64_t u = qvl_blob_unbacked_from(in->blob);
	if (u >= in->size)
		return in->size;
	uint64_t keep = u > in->row_size ? u : in->row_size;
	return keep < in->size ? keep : in->size;
}

static int put_row(struct qvl_fs *fs, struct qvl_inode *in)
{
	uint8_t hints[QVL_HINTS_PACKED];
	uint64_t size = backed_size(in);
	struct qvl_cat_inode row = {
		.ino = in->ino, .mode = in->mode, .uid = in->uid,
		.gid = in->gid, .nlink = (uint32_t)in->nlink, .rdev = in->rdev,
		.size = size, .atime_ns = ns(in->atime),
		.mtime_ns = ns(in->mtime), .ctime_ns = ns(in->ctime),
		.parent = in->dir ? in->dir->parent : 0, .link = in->link,
		.hints = hints, .hints_len = qvl_hints_pack(&in->hints, hints),
	};
	int rc = qvl_catalog_put_inode(fs->cat, &row);
	if (rc) {
		cat_error(fs, rc, "inode");
		return rc;
	}
	in->row_size = size;
	if (size == in->size) /* else it stays marked: the rest of the size
			       * goes out once its data is on the store */
		unmark(fs, in);
	return 0;
}

int qvl_persist_rows(struct qvl_fs *fs)
{
	int rc = 0;
	if (!fs->cat)
		return 0;
	for (struct qvl_inode *in = fs->dirty_head, *next; in && !rc;
	     in = next) {
		next = in->dnext;
		rc = put_row(fs, in);
	}
	if (!rc && fs->next_ino != fs->next_ino_saved) {
		rc = qvl_catalog_set_meta(fs->cat, "next_ino", fs->next_ino);
		if (!rc)
			fs->next_ino_saved = fs->next_ino;
	}
	return rc;
}

void qvl_persist_dirent(struct qvl_fs *fs, uint64_t parent, const char *name,
			const struct qvl_inode *in)
{
	if (!fs->cat)
		return;
	int rc = in ? qvl_catalog_put_dirent(fs->cat, parent, name, in->ino)
		    : qvl_catalog_del_dirent(fs->cat, parent, name);
	if (rc)
		cat_error(fs, rc, "entry");
}

void qvl_persist_xattr(struct qvl_fs *fs, struct qvl_inode *in,
		       const char *name, const void *value, size_t len, int del)
{
	if (!fs->cat)
		return;
	int rc = del ? qvl_catalog_del_xattr(fs->cat, in->ino, name)
		     : qvl_catalog_put_xattr(fs->cat, in->ino, name, value, len);
	if (rc)
		cat_error(fs, rc, "xattr");
}

void qvl_persist_gone(struct qvl_fs *fs, struct qvl_inode *in)
{
	unmark(fs, in);
	if (!fs->cat)
		return;
	if (in->blob)
		qvl_blob_forget_store(in->blob);
	int rc = qvl_catalog_del_inode(fs->cat, in->ino);
	if (rc)
		cat_error(fs, rc, "delete");
}

static const enum qvl_codec_policy codec_map[] = {
	[QVL_CPOL_AUTO] = QVL_CODEC_POLICY_AUTO,
	[QVL_CPOL_NONE] = QVL_CODEC_POLICY_NONE,
	[QVL_CPOL_ZSTD] = QVL_CODEC_POLICY_ZSTD,
	[QVL_CPOL_SHUFFLE_ZSTD] = QVL_CODEC_POLICY_SHUFFLE_ZSTD,
	[QVL_CPOL_Q8_0] = QVL_CODEC_POLICY_Q8_0,
	[QVL_CPOL_F8E4M3] = QVL_CODEC_POLICY_F8E4M3,
};

void qvl_inode_apply_policy(struct qvl_inode *in)
{
	if (!in->blob)
		return;
	uint32_t f = 0;
	const struct qvl_hints *h = &in->hints;
	if (h->lifetime == QVL_LIFE_SESSION)
		f |= QVL_BLOB_NO_STORE;
	else if (h->lifetime == QVL_LIFE_VOLATILE)
		f |= QVL_BLOB_NO_STORE | QVL_BLOB_DROPPABLE;
	if (h->pin != QVL_PIN_NONE)
		f |= QVL_BLOB_PINNED;
	if (h->access == QVL_ADV_SEQUENTIAL)
		f |= QVL_BLOB_SEQUENTIAL;
	else if (h->access == QVL_ADV_RANDOM)
		f |= QVL_BLOB_RANDOM;
	qvl_blob_set_policy(in->blob, f, h->dtype, codec_map[h->codec]);
	qvl_blob_set_priority(in->blob, h->priority);
}

/*
 * Commit a state in which every size the catalog records is backed by data
 * on disk: all dirty chunks of stored files are written first (a commit
 * that recorded a file's new size but not its new bytes would let a crash
 * show zeros that were never written).  So an fsync costs the dirty data of
 * every file, bounded by the flusher's period.
 */
/* The stale rows and one commit; a failure of either is the catalog's
 * (cat_error: the mount turns read-only). */
static int put_succ(void *arg, uint64_t ino, uint64_t succ, uint32_t count)
{
	return qvl_catalog_put_succ(arg, ino, succ, count);
}

static int rows_and_commit(struct qvl_fs *fs, int durable)
{
	int rc = qvl_persist_rows(fs); /* reports its own failure */
	/* The read order learned since the last commit rides along. */
	if (!rc && (rc = qvl_tm_succ_save(fs->tm, put_succ, fs->cat)))
		cat_error(fs, rc, "successor rows");
	if (!rc) {
		rc = qvl_tm_commit(fs->tm, durable);
		if (rc)
			cat_error(fs, rc, "commit");
	}
	return rc;
}

/* Write back @in's dirty chunks (NULL: every file's), then the rows and
 * one commit. */
static int fsync_with(struct qvl_fs *fs, struct qvl_inode *in, int durable)
{
	if (!fs->tm)
		return 0;
	if (qvl_fs_rdonly(fs))
		return -EROFS;
	int rc = !in ? qvl_tm_flush(fs->tm, 0, NULL)
		     : in->blob ? qvl_blob_fsync(in->blob) : 0;
	/* A full store commits all the same: the space of deleted, cut or
	 * rewritten frames comes back only with a commit, so without one
	 * nothing could be written again before the unmount (which commits
	 * the same way).  The caller still hears -ENOSPC.  Other files' rows
	 * never say a size their data on the store does not back (put_row),
	 * so one file's fsync need not write them back. */
	if (rc && rc != -ENOSPC)
		return rc;
	int rc2 = rows_and_commit(fs, durable);
	return rc ? rc : rc2;
}

int qvl_persist_fsync(struct qvl_fs *fs, int durable)
{
	return fsync_with(fs, NULL, durable);
}

int qvl_persist_fsync_file(struct qvl_fs *fs, struct qvl_inode *in)
{
	return fsync_with(fs, in, 1);
}

int qvl_persist_fsync_dir(struct qvl_fs *fs)
{
	if (!fs->tm)
		return 0;
	if (qvl_fs_rdonly(fs))
		return -EROFS;
	/* The directory's entries and every file's row, sizes held back to
	 * what the store backs (put_row): no file's data is written for it,
	 * as fsync of a directory makes its entries durable, not the files'
	 * bytes.  (A database's journal fsync'ed into the catalog, then its
	 * directory: writing the journal to the store here cost a sync.) */
	return rows_and_commit(fs, 1);
}

int qvl_persist_relieve(struct qvl_fs *fs)
{
	uint64_t before = fs->tm ? qvl_tm_remote_copies(fs->tm) : 0;
	if (!before || qvl_fs_rdonly(fs))
		return 0;
	/* Durable: the copies' slots are punched after it, and a commit a
	 * power cut could undo would leave rows naming them.  Twice at
	 * most: copies written since the last commit go only once one has
	 * recorded them. */
	for (int i = 0; i < 2; i++) {
		if (rows_and_commit(fs, 1))
			return 0;
		if (qvl_tm_remote_copies(fs->tm) < before)
			return 1;
	}
	return 0;
}

/* Chunks the flusher writes per turn of the lock: a read waiting behind it
 * waits for about one batch's encoding and I/O. */
#define FLUSH_TURN 16

int qvl_persist_flush(struct qvl_fs *fs, int durable)
{
	uint64_t left = 0, rounds;
	int rc;
	if (!fs->tm || qvl_fs_rdonly(fs))
		return 0;
	/* Through the mover first: it codes and writes without the lock,
	 * so READs and writes go on meanwhile (tiers/mover.c).  Then in
	 * small batches under the lock, letting other requests in between;
	 * bounded, so steady writers cannot keep the flusher from
	 * committing. */
	pthread_mutex_lock(&fs->lock);
	qvl_tm_mover_drain(fs->tm);
	rc = qvl_tm_flush(fs->tm, FLUSH_TURN, &left);
	pthread_mutex_unlock(&fs->lock);
	for (rounds = left / FLUSH_TURN + 1; !rc && left && rounds--;) {
		pthread_mutex_lock(&fs->lock);
		rc = qvl_tm_flush(fs->tm, FLUSH_TURN, &left);
		pthread_mutex_unlock(&fs->lock);
	}
	/* What came in meanwhile is small: finish under the lock, so the
	 * commit is one consistent state (see qvl_persist_fsync). */
	pthread_mutex_lock(&fs->lock);
	int rc2 = qvl_persist_fsync(fs, durable); /* reports the catalog's */
	pthread_mutex_unlock(&fs->lock);
	return rc ? rc : rc2;
}

/* Does this file's existence end with the mount? */
static int ends_with_mount(const struct qvl_inode *in)
{
	return in->blob && in->hints.lifetime != QVL_LIFE_PERSISTENT;
}

/*
 * Remove every entry naming a session or volatile file, and those files
 * once no entry names them.  Directories are walked through the table.
 */
static void drop_mount_lifetime_files(struct qvl_fs *fs)
{
	for (size_t s = 0; s < fs->itab_size; s++) {
		for (struct qvl_inode *d = fs->itab[s]; d; d = d->hnext) {
			if (!d->dir)
				continue;
			struct qvl_dirent *e = d->dir->head;
			while (e) {
				struct qvl_dirent *next = e->next;
				struct qvl_inode *in = e->inode;
				if (ends_with_mount(in)) {
					qvl_persist_dirent(fs, d->ino, e->name, NULL);
					qvl_dir_remove(d->dir, e);
					if (in->nlink)
						in->nlink--;
					/* freed by sweep_unlinked() */
				}
				e = next;
			}
		}
	}
}

/*
 * Free what drop_mount_lifetime_files() unlinked.  At unmount (@unmounting)
 * the kernel's references no longer matter: it does not forget everything
 * before destroy, and an unlinked inode left in the catalog would come
 * back as an orphan.
 */
static void sweep_unlinked(struct qvl_fs *fs, int unmounting)
{
	for (size_t s = 0; s < fs->itab_size; s++) {
		struct qvl_inode *in = fs->itab[s];
		while (in) {
			struct qvl_inode *next = in->hnext;
			if (unmounting && !in->nlink) {
				in->nlookup = 0;
				in->nopen = 0;
			}
			qvl_inode_maybe_free(fs, in);
			in = next;
		}
	}
}

/* Extra write-back rounds at unmount after an I/O error. */
#define UNMOUNT_RETRIES 3

int qvl_persist_unmount(struct qvl_fs *fs)
{
	if (!fs->tm)
		return 0;
	if (qvl_fs_rdonly(fs)) {
		fprintf(stderr, "qvlmemfs: unmount: the mount was read-only; "
				"the store keeps its last committed state\n");
		return -EROFS;
	}
	drop_mount_lifetime_files(fs);
	sweep_unlinked(fs, 1);
	int rc = qvl_tm_flush(fs->tm, 0, NULL);
	if (rc == -ENOSPC) {
		/* Space that waits for a commit may make room for the rest. */
		if (!qvl_persist_rows(fs) && !qvl_tm_commit(fs->tm, 0))
			rc = qvl_tm_flush(fs->tm, 0, NULL);
	}
	/* This is the data's last chance: a failed frame stays dirty, and a
	 * write that failed once (a transient EIO) is worth a few more. */
	for (int tries = 0; rc == -EIO && tries < UNMOUNT_RETRIES; tries++)
		rc = qvl_tm_flush(fs->tm, 0, NULL);
	if (rc)
		fprintf(stderr, "qvlmemfs: unmount: writing data back: %s\n",
			strerror(-rc));
	int rc2 = rows_and_commit(fs, 1);
	return rc ? rc : rc2;
}

/* ---- loading at mount -------------------------------------------------- */

struct loader {
	struct qvl_fs *fs;
	uint64_t max_ino;
	uint64_t bad_rows;
};

static int load_inode(void *arg, const struct qvl_cat_inode *r)
{
	struct loader *l = arg;
	struct qvl_fs *fs = l->fs;
	struct qvl_inode *in;
	if (r->ino < QVL_INO_FIRST && r->ino != QVL_INO_ROOT) {
		l->bad_rows++;
		return 0;
	}
	int rc = qvl_inode_insert(fs, r->ino, r->mode, r->uid, r->gid, &in);
	if (rc == -EEXIST) {
		l->bad_rows++;
		return 0;
	}
	if (rc)
		return rc;
	in->nlink = r->nlink;
	in->rdev = (dev_t)r->rdev;
	in->size = r->size;
	if (in->blob && r->size > QVL_BLOB_MAX_SIZE) {
		/* Damaged: the frames say how long it is (drop_beyond_size). */
		l->bad_rows++;
		in->size = 0;
		in->size_bad = 1;
	}
	in->row_size = in->size;
	if (in->blob)
		fs->bytes += r->size;
	in->atime = ts(r->atime_ns);
	in->mtime = ts(r->mtime_ns);
	in->ctime = ts(r->ctime_ns);
	if (!r->hints_len ||
	    qvl_hints_unpack(r->hints, r->hints_len, &in->hints)) {
		qvl_hints_init(&in->hints);
		if (r->hints_len)
			l->bad_rows++;
	}
	if (S_ISDIR(in->mode))
		rc = qvl_dir_init(in, r->parent ? r->parent : QVL_INO_ROOT);
	else if (S_ISLNK(in->mode) && !(in->link = strdup(r->link ? r->link : "")))
		rc = -ENOMEM;
	qvl_inode_apply_policy(in);
	qvl_ttl_seen(fs, in);
	if (r->ino == QVL_INO_ROOT)
		fs->root = in;
	if (r->ino > l->max_ino)
		l->max_ino = r->ino;
	return rc;
}

static int load_dirent(void *arg, uint64_t parent, const char *name,
		       uint64_t ino)
{
	struct loader *l = arg;
	struct qvl_fs *fs = l->fs;
	struct qvl_inode *d = qvl_inode_get(fs, parent);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (!d || !d->dir || !in || in == fs->root || qvl_dir_find(d->dir, name)) {
		fs->dangling++;
		if (fs->repair)
			qvl_persist_dirent(fs, parent, name, NULL);
		return 0;
	}
	in->load_refs++;
	return qvl_dir_add(d->dir, name, in);
}

static int load_xattr(void *arg, uint64_t ino, const char *name,
		      const void *value, size_t len)
{
	struct loader *l = arg;
	struct qvl_inode *in = qvl_inode_get(l->fs, ino);
	if (!in) {
		l->fs->dangling++;
		if (l->fs->repair)
			qvl_catalog_del_xattr(l->fs->cat, ino, name);
		return 0;
	}
	return qvl_xattr_set(in, name, value, len, 0);
}

static int load_chunk(void *arg, const struct qvl_cat_chunk *c)
{
	struct loader *l = arg;
	struct qvl_inode *in = qvl_inode_get(l->fs, c->ino);
	if (!in || !in->blob ||
	    qvl_blob_attach_frame(in->blob, c->idx, c->slot, c->len)) {
		l->fs->dangling++;
		if (l->fs->repair)
			qvl_catalog_del_chunk(l->fs->cat, c->ino, c->idx);
	}
	return 0;
}

/* The key of a chunk pulled from a snapshot (its row has the remote
 * slot, or a cached copy's).  A key without such a chunk is left: the row
 * it belongs to was dropped above, and the next change of the chunk
 * drops it too. */
static int load_key(void *arg, uint64_t ino, uint64_t idx,
		    const struct qvl_rkey *key, uint32_t rlen)
{
	struct qvl_fs *fs = arg;
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (in && in->blob)
		qvl_blob_attach_key(in->blob, idx, key, rlen);
	return 0;
}

/* Backing files whose inode is gone.  A live file's backing file is its
 * own even when it holds no frame (moved to the store, then truncated
 * and extended: all holes): neither reported nor removed. */
static int check_backing(void *arg, uint64_t ino)
{
	struct qvl_fs *fs = arg;
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (in && in->blob)
		return 0;
	fs->orphans++;
	if (fs->repair)
		qvl_nvme_remove(fs->nvme, ino);
	return 0;
}

/* Frames past a file's recorded size were written after the last row
 * that said it (a crash while the row held back, see backed_size()): they
 * are not the file's, and an extension must read zeros there. */
static void drop_beyond_size(struct qvl_fs *fs)
{
	for (size_t s = 0; s < fs->itab_size; s++)
		for (struct qvl_inode *in = fs->itab[s]; in; in = in->hnext) {
			if (in->size_bad) { /* as long as its frames */
				in->size = qvl_blob_extent(in->blob);
				fs->bytes += in->size;
				in->size_bad = 0;
				qvl_persist_mark(fs, in);
			}
			uint64_t chunk = (uint64_t)1 << fs->chunk_shift;
			if (in->blob && qvl_blob_extent(in->blob) >
						(in->size + chunk - 1) / chunk * chunk)
				qvl_blob_truncate(in->blob, in->size);
		}
}

/* Inline rows (tiers/catalog_inline.c), read first and brought back after
 * the load: bringing them into RAM may evict, which writes rows. */
struct inline_row {
	struct inline_row *next;
	uint64_t ino, idx;
	uint32_t len;
	unsigned char frame[];
};

static int collect_inline(void *arg, uint64_t ino, uint64_t idx,
			  const void *frame, uint32_t len)
{
	struct inline_row **head = arg;
	if (len > QVL_INLINE_MAX)
		len = 0; /* damaged: no fsync puts one this long */
	struct inline_row *r = malloc(sizeof(*r) + len);
	if (!r)
		return -ENOMEM;
	*r = (struct inline_row){ .next = *head, .ino = ino, .idx = idx,
				  .len = len };
	if (len)
		memcpy(r->frame, frame, len);
	*head = r;
	return 0;
}

/* Each inline row's bytes into its chunk, in RAM: what an fsync made
 * durable there and the store does not have yet.  A row of no file, past
 * its file's size, or with a frame that fails its checks is damage (the
 * chunk keeps what the store has); anything else that fails fails the
 * mount (no RAM for it). */
static int replay_inline(struct qvl_fs *fs)
{
	struct inline_row *head = NULL;
	int rc = qvl_catalog_load_inline(fs->cat, collect_inline, &head);
	while (head) {
		struct inline_row *r = head;
		head = r->next;
		struct qvl_inode *in = qvl_inode_get(fs, r->ino);
		uint64_t chunk = (uint64_t)1 << fs->chunk_shift;
		uint64_t nchunks = in ? (in->size + chunk - 1) / chunk : 0;
		int e = !rc && in && in->blob && r->len && r->idx < nchunks
			? qvl_blob_replay_inline(in->blob, r->idx, r->frame,
						 r->len)
			: -EIO;
		if (e == -EIO && !rc) {
			fs->dangling++;
			if (fs->repair)
				qvl_catalog_del_inline(fs->cat, r->ino, r->idx);
		} else if (e && !rc) {
			rc = e;
		}
		free(r);
	}
	return rc;
}

static void load_succ(void *arg, uint64_t ino, uint64_t succ, uint32_t count)
{
	qvl_tm_succ_load(arg, ino, succ, count);
}

int qvl_persist_load(struct qvl_fs *fs)
{
	struct loader l = { .fs = fs };
	static const struct qvl_cat_visitor v = {
		load_inode, load_dirent, load_xattr, load_chunk,
	};
	int rc = qvl_catalog_load(fs->cat, &v, &l);
	if (!rc)
		rc = qvl_catalog_load_remote(fs->cat, load_key, fs);
	if (rc)
		return rc;
	fs->dangling += l.bad_rows;
	uint64_t next = 0;
	qvl_catalog_get_meta(fs->cat, "next_ino", &next);
	if (next < QVL_INO_FIRST)
		next = QVL_INO_FIRST;
	fs->next_ino = next > l.max_ino ? next : l.max_ino + 1;
	fs->next_ino_saved = next;

	/* Inodes no entry names: unlinked while open when the daemon died
	 * (nlink 0: normal recovery), or lost their entries (damage). */
	for (size_t s = 0; s < fs->itab_size; s++) {
		struct qvl_inode *in = fs->itab[s];
		while (in) {
			struct qvl_inode *next_in = in->hnext;
			if (in != fs->root && !in->load_refs) {
				if (in->nlink)
					fs->orphans++;
				if (!in->nlink || fs->repair) {
					in->nlink = 0;
					qvl_inode_maybe_free(fs, in);
				}
			} else {
				/* A link count below the entries naming it would
				 * free the inode while a directory still holds it. */
				uint32_t least = S_ISDIR(in->mode) ? 2 : in->load_refs;
				if (in->nlink < least) {
					fs->dangling++;
					in->nlink = least;
					qvl_persist_mark(fs, in);
				}
				in->load_refs = 0;
			}
			in = next_in;
		}
	}
	drop_mount_lifetime_files(fs);
	sweep_unlinked(fs, 0);
	drop_beyond_size(fs);
	rc = replay_inline(fs);
	if (rc)
		return rc;
	qvl_catalog_load_succ(fs->cat, load_succ, fs->tm);
	rc = qvl_nvme_list(fs->nvme, check_backing, fs);
	if (rc)
		return rc;
	return 0;
}

/*
 * qvl_catalog.h - the persistent metadata of a store: namespace, attributes,
 * xattrs and chunk maps, in SQLite (WAL mode) at STORE/catalog.db.
 *
 * The catalog is a mirror the daemon writes as it changes its in-memory
 * state, and reads back whole at mount.  Changes go into one open
 * transaction (begun on the first change); qvl_catalog_commit() ends it.
 * Every commit is atomic: after a crash the catalog holds the state of the
 * last commit, never a part of one.  A commit is durable against power loss
 * only when asked (@durable); against a killed process every commit is.
 *
 * A store records its format version and chunk size.  Opening one that is
 * newer (-EPROTONOSUPPORT), not a qvlmemfs catalog (-EMEDIUMTYPE), damaged
 * (-EUCLEAN: the integrity check failed or tables are missing) or made with
 * another chunk size (-EINVAL) fails with a message in @err and changes
 * nothing.
 *
 * Thread context: not thread-safe; the caller serializes (fs->lock).
 * Every function returns 0 or a negative errno (-EIO for SQLite failures,
 * -ENOSPC when the disk is full, -ENOMEM).
 */
#ifndef QVL_CATALOG_H
#define QVL_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "qvl_remote.h"

/* 2: frames kept in the catalog (inline_frames, catalog_inline.c); 3:
 * chunks whose frame is in the remote tier (slot QVL_CAT_SLOT_REMOTE,
 * remote_chunks, catalog_remote.c).  An older catalog opened writable
 * gains both tables and becomes format 3. */
#define QVL_CATALOG_FORMAT 3

/* The slot of a chunk whose frame is in the remote tier, not the store. */
#define QVL_CAT_SLOT_REMOTE 2

struct qvl_catalog;

struct qvl_cat_inode {
	uint64_t ino;
	uint32_t mode, uid, gid, nlink;
	uint64_t rdev;
	uint64_t size;
	int64_t atime_ns, mtime_ns, ctime_ns;
	uint64_t parent;     /* directories: ino of "..", else 0 */
	const char *link;    /* symlinks: the target, else NULL */
	const void *hints;   /* opaque bytes the daemon serializes, may be NULL */
	size_t hints_len;
};

struct qvl_cat_chunk {
	uint64_t ino;
	uint64_t idx;   /* chunk number in the file */
	uint32_t slot;  /* which of the chunk's two slots holds the frame,
			 * or QVL_CAT_SLOT_REMOTE */
	uint32_t len;   /* frame length in bytes */
	/* The frame of the same bytes in the remote tier, or NULL: with
	 * slot QVL_CAT_SLOT_REMOTE the only one; with slot 0/1 the store
	 * holds a copy (a cache the store may drop again).  @rlen: its
	 * length in the remote tier. */
	const struct qvl_rkey *rkey;
	uint32_t rlen;
};

/* Called by qvl_catalog_load() for every row, in this order: all inodes,
 * then dirents, xattrs, chunks.  A non-zero return stops the load and is
 * returned.  Pointers are valid only during the call. */
struct qvl_cat_visitor {
	int (*inode)(void *arg, const struct qvl_cat_inode *in);
	int (*dirent)(void *arg, uint64_t parent, const char *name, uint64_t ino);
	int (*xattr)(void *arg, uint64_t ino, const char *name,
		     const void *value, size_t len);
	int (*chunk)(void *arg, const struct qvl_cat_chunk *c);
};

/*
 * qvl_catalog_open() - open STORE/catalog.db, creating it (format version,
 * chunk shift, next_ino = 16) when absent.  @store_dir must exist.
 * On failure *@out is NULL and @err (if not NULL) says why in one line.
 */
int qvl_catalog_open(const char *store_dir, unsigned chunk_shift,
		     struct qvl_catalog **out, char *err, size_t errlen);

/* qvl_catalog_close() - commit what is open (durably) and close; NULL ok. */
void qvl_catalog_close(struct qvl_catalog *cat);

/* qvl_catalog_commit() - end the open transaction, if any.  @durable:
 * fsync the WAL so the commit survives power loss. */
int qvl_catalog_commit(struct qvl_catalog *cat, int durable);

/* Key/value numbers of the store (e.g. "next_ino"). -ENOENT if absent. */
int qvl_catalog_get_meta(struct qvl_catalog *cat, const char *key,
			 uint64_t *value);
int qvl_catalog_set_meta(struct qvl_catalog *cat, const char *key,
			 uint64_t value);

/* Insert or replace an inode row. */
int qvl_catalog_put_inode(struct qvl_catalog *cat,
			  const struct qvl_cat_inode *in);
/* Delete an inode with its xattrs and chunk rows (not dirents naming it). */
int qvl_catalog_del_inode(struct qvl_catalog *cat, uint64_t ino);

int qvl_catalog_put_dirent(struct qvl_catalog *cat, uint64_t parent,
			   const char *name, uint64_t ino);
int qvl_catalog_del_dirent(struct qvl_catalog *cat, uint64_t parent,
			   const char *name);

int qvl_catalog_put_xattr(struct qvl_catalog *cat, uint64_t ino,
			  const char *name, const void *value, size_t len);
int qvl_catalog_del_xattr(struct qvl_catalog *cat, uint64_t ino,
			  const char *name);

int qvl_catalog_put_chunk(struct qvl_catalog *cat,
			  const struct qvl_cat_chunk *c);
/* Delete the chunk row (@ino, @idx), if any. */
int qvl_catalog_del_chunk(struct qvl_catalog *cat, uint64_t ino, uint64_t idx);
/* Delete the chunk rows of @ino with idx >= @first_idx. */
int qvl_catalog_del_chunks(struct qvl_catalog *cat, uint64_t ino,
			   uint64_t first_idx);

/* Read everything back, in the visitor's order. */
int qvl_catalog_load(struct qvl_catalog *cat, const struct qvl_cat_visitor *v,
		     void *arg);

/*
 * The successor table (tiers/succ.c): qvl_catalog_put_succ() records that
 * @succ followed @ino @count times (in the open transaction);
 * qvl_catalog_load_succ() calls @fn for every good row.  Both do nothing
 * on a catalog without the table.
 */
int qvl_catalog_put_succ(struct qvl_catalog *cat, uint64_t ino, uint64_t succ,
			 uint32_t count);
int qvl_catalog_load_succ(struct qvl_catalog *cat,
			  void (*fn)(void *arg, uint64_t ino, uint64_t succ,
				     uint32_t count),
			  void *arg);

/*
 * Frames kept in the catalog (catalog_inline.c): qvl_catalog_put_inline()
 * records @frame as chunk (@ino, @idx)'s newest, outranking its chunk row,
 * until qvl_catalog_put_chunk() or a delete of the chunk drops it (in the
 * open transaction; -EOPNOTSUPP on a catalog without the table).
 * qvl_catalog_load_inline() calls @fn for every row (@len 0: no frame;
 * negative numbers come as UINT64_MAX); a non-zero return stops it and is
 * returned.  @fn must not change the catalog.
 */
int qvl_catalog_has_inline(const struct qvl_catalog *cat);
int qvl_catalog_put_inline(struct qvl_catalog *cat, uint64_t ino,
			   uint64_t idx, const void *frame, uint32_t len);
/* Drop the inline row of (@ino, @idx), if any (a damaged one, -o repair). */
int qvl_catalog_del_inline(struct qvl_catalog *cat, uint64_t ino,
			   uint64_t idx);
int qvl_catalog_load_inline(struct qvl_catalog *cat,
			    int (*fn)(void *arg, uint64_t ino, uint64_t idx,
				      const void *frame, uint32_t len),
			    void *arg);

/*
 * The remote tier's keys (catalog_remote.c): qvl_catalog_load_remote()
 * calls @fn for the key and remote frame length of every chunk whose row
 * was put with @rkey (slot QVL_CAT_SLOT_REMOTE, or a cached copy); a
 * non-zero return stops it and is returned.
 */
int qvl_catalog_has_remote(const struct qvl_catalog *cat);
int qvl_catalog_load_remote(struct qvl_catalog *cat,
			    int (*fn)(void *arg, uint64_t ino, uint64_t idx,
				      const struct qvl_rkey *key,
				      uint32_t rlen),
			    void *arg);

/* qvl_catalog_record() - open catalogs from now on through a VFS that logs
 * their changes (qvl_record.h; for simulated power cuts).  0 or -errno. */
int qvl_catalog_record(void);

#endif /* QVL_CATALOG_H */

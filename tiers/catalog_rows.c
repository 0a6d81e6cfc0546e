/*
 * catalog_rows.c - the catalog's rows: put/del of inodes, dirents, xattrs
 * and chunk maps, and the load at mount.
 *
 * Every put/del runs a statement prepared at open inside the transaction
 * the first change opened (qvl_cat_begin).  Unsigned 64-bit numbers are
 * stored as SQLite's signed integers, bit for bit; ordering by ino and idx
 * holds for values below 2^63.
 */
#include <errno.h>

#include "catalog_i.h"

/* sqlite3_column_blob() answers NULL for an empty blob; visitors get a
 * valid pointer whenever the length is 0. */
static const char qvl_cat_empty[1];

static int bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	return sqlite3_bind_int64(st, i, (int64_t)v);
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len,
		     int null_ok)
{
	if (!p && null_ok)
		return sqlite3_bind_null(st, i);
	if (!len)
		return sqlite3_bind_zeroblob(st, i, 0);
	return sqlite3_bind_blob64(st, i, p, len, SQLITE_STATIC);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int qvl_catalog_put_inode(struct qvl_catalog *cat,
			  const struct qvl_cat_inode *in)
{
	sqlite3_stmt *st = cat->st[QVL_ST_PUT_INODE];
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	rc = bind_u64(st, 1, in->ino);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, in->mode);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, in->uid);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, in->gid);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, in->nlink);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 6, in->rdev);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 7, in->size);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, in->atime_ns);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, in->mtime_ns);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 10, in->ctime_ns);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 11, in->parent);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 12, in->link);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 13, in->hints, in->hints_len, 1);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	return qvl_cat_exec(cat, QVL_ST_PUT_INODE);
}

int qvl_catalog_del_inode(struct qvl_catalog *cat, uint64_t ino)
{
	static const enum qvl_cat_stmt dels[] = {
		QVL_ST_DEL_INODE_CHUNKS,
		QVL_ST_DEL_INODE_XATTRS,
		QVL_ST_DEL_INODE,
	};
	int rc = qvl_cat_begin(cat);
	for (size_t i = 0; !rc && i < sizeof(dels) / sizeof(dels[0]); i++) {
		rc = qvl_cat_errno(bind_u64(cat->st[dels[i]], 1, ino));
		if (!rc)
			rc = qvl_cat_exec(cat, dels[i]);
	}
	if (!rc)
		rc = qvl_cat_inline_del(cat, ino, 0, UINT64_MAX);
	if (!rc)
		rc = qvl_cat_remote_del(cat, ino, 0, UINT64_MAX);
	return rc ? rc : qvl_cat_succ_del(cat, ino);
}

int qvl_catalog_put_dirent(struct qvl_catalog *cat, uint64_t parent,
			   const char *name, uint64_t ino)
{
	sqlite3_stmt *st = cat->st[QVL_ST_PUT_DIRENT];
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	rc = bind_u64(st, 1, parent);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 3, ino);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	return qvl_cat_exec(cat, QVL_ST_PUT_DIRENT);
}

int qvl_catalog_del_dirent(struct qvl_catalog *cat, uint64_t parent,
			   const char *name)
{
	sqlite3_stmt *st = cat->st[QVL_ST_DEL_DIRENT];
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	rc = bind_u64(st, 1, parent);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	return qvl_cat_exec(cat, QVL_ST_DEL_DIRENT);
}

int qvl_catalog_put_xattr(struct qvl_catalog *cat, uint64_t ino,
			  const char *name, const void *value, size_t len)
{
	sqlite3_stmt *st = cat->st[QVL_ST_PUT_XATTR];
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	rc = bind_u64(st, 1, ino);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 3, value, len, 0);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	return qvl_cat_exec(cat, QVL_ST_PUT_XATTR);
}

int qvl_catalog_del_xattr(struct qvl_catalog *cat, uint64_t ino,
			  const char *name)
{
	sqlite3_stmt *st = cat->st[QVL_ST_DEL_XATTR];
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	rc = bind_u64(st, 1, ino);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	return qvl_cat_exec(cat, QVL_ST_DEL_XATTR);
}

int qvl_catalog_put_chunk(struct qvl_catalog *cat,
			  const struct qvl_cat_chunk *c)
{
	sqlite3_stmt *st = cat->st[QVL_ST_PUT_CHUNK];
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	rc = bind_u64(st, 1, c->ino);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 2, c->idx);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, c->slot);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, c->len);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	rc = qvl_cat_exec(cat, QVL_ST_PUT_CHUNK);
	/* The frame on the store is the chunk's newest now. */
	if (!rc)
		rc = qvl_cat_inline_del(cat, c->ino, c->idx, c->idx);
	/* Its key goes with a remote frame or a cached copy of one; a local
	 * frame of other bytes replaces it. */
	if (!rc && c->rkey)
		rc = qvl_cat_remote_put(cat, c->ino, c->idx, c->rkey,
					c->slot == QVL_CAT_SLOT_REMOTE ? c->len
								       : c->rlen);
	else if (!rc && c->slot == QVL_CAT_SLOT_REMOTE)
		rc = -EINVAL; /* a remote frame without a key */
	else if (!rc)
		rc = qvl_cat_remote_del(cat, c->ino, c->idx, c->idx);
	return rc;
}

/* One statement serves both: (ino, idx) = or >= the index. */
static int del_chunk_rows(struct qvl_catalog *cat, enum qvl_cat_stmt which,
			  uint64_t ino, uint64_t idx)
{
	sqlite3_stmt *st = cat->st[which];
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	rc = bind_u64(st, 1, ino);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 2, idx);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	return qvl_cat_exec(cat, which);
}

int qvl_catalog_del_chunk(struct qvl_catalog *cat, uint64_t ino, uint64_t idx)
{
	int rc = del_chunk_rows(cat, QVL_ST_DEL_CHUNK, ino, idx);
	rc = rc ? rc : qvl_cat_inline_del(cat, ino, idx, idx);
	return rc ? rc : qvl_cat_remote_del(cat, ino, idx, idx);
}

int qvl_catalog_del_chunks(struct qvl_catalog *cat, uint64_t ino,
			   uint64_t first_idx)
{
	int rc = del_chunk_rows(cat, QVL_ST_DEL_CHUNKS, ino, first_idx);
	rc = rc ? rc : qvl_cat_inline_del(cat, ino, first_idx, UINT64_MAX);
	return rc ? rc : qvl_cat_remote_del(cat, ino, first_idx, UINT64_MAX);
}

static const void *col_blob(sqlite3_stmt *st, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(st, i);
	*len = (size_t)sqlite3_column_bytes(st, i);
	return p || sqlite3_column_type(st, i) == SQLITE_NULL ? p
							      : qvl_cat_empty;
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
	return (uint64_t)sqlite3_column_int64(st, i);
}

/* Hand one row of @which to the visitor; returns what it returns. */
static int visit_row(enum qvl_cat_stmt which, sqlite3_stmt *st,
		     const struct qvl_cat_visitor *v, void *arg)
{
	switch (which) {
	case QVL_ST_LOAD_INODES: {
		struct qvl_cat_inode in = {
			.ino = col_u64(st, 0),
			.mode = (uint32_t)sqlite3_column_int64(st, 1),
			.uid = (uint32_t)sqlite3_column_int64(st, 2),
			.gid = (uint32_t)sqlite3_column_int64(st, 3),
			.nlink = (uint32_t)sqlite3_column_int64(st, 4),
			.rdev = col_u64(st, 5),
			.size = col_u64(st, 6),
			.atime_ns = sqlite3_column_int64(st, 7),
			.mtime_ns = sqlite3_column_int64(st, 8),
			.ctime_ns = sqlite3_column_int64(st, 9),
			.parent = col_u64(st, 10),
			.link = (const char *)sqlite3_column_text(st, 11),
		};
		in.hints = col_blob(st, 12, &in.hints_len);
		return v->inode(arg, &in);
	}
	case QVL_ST_LOAD_DIRENTS:
		return v->dirent(arg, col_u64(st, 0),
				 (const char *)sqlite3_column_text(st, 1),
				 col_u64(st, 2));
	case QVL_ST_LOAD_XATTRS: {
		size_t len;
		const void *val = col_blob(st, 2, &len);
		return v->xattr(arg, col_u64(st, 0),
				(const char *)sqlite3_column_text(st, 1), val,
				len);
	}
	case QVL_ST_LOAD_CHUNKS: {
		struct qvl_cat_chunk c = {
			.ino = col_u64(st, 0),
			.idx = col_u64(st, 1),
			.slot = (uint32_t)sqlite3_column_int64(st, 2),
			.len = (uint32_t)sqlite3_column_int64(st, 3),
		};
		return v->chunk(arg, &c);
	}
	default:
		return -EINVAL;
	}
}

static int load_table(struct qvl_catalog *cat, enum qvl_cat_stmt which,
		      const struct qvl_cat_visitor *v, void *arg)
{
	sqlite3_stmt *st = cat->st[which];
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = visit_row(which, st, v, arg);
		if (ret)
			break;
	}
	sqlite3_reset(st);
	if (ret)
		return ret;
	return rc == SQLITE_DONE ? 0 : qvl_cat_errno(rc);
}

int qvl_catalog_load(struct qvl_catalog *cat, const struct qvl_cat_visitor *v,
		     void *arg)
{
	/* One read transaction, so the four tables are one snapshot; inside
	 * an open write transaction its changes are part of what is read. */
	int own = sqlite3_get_autocommit(cat->db);
	int rc = own ? qvl_cat_exec(cat, QVL_ST_BEGIN_READ) : 0;
	if (rc)
		return rc;
	if (v->inode)
		rc = load_table(cat, QVL_ST_LOAD_INODES, v, arg);
	if (!rc && v->dirent)
		rc = load_table(cat, QVL_ST_LOAD_DIRENTS, v, arg);
	if (!rc && v->xattr)
		rc = load_table(cat, QVL_ST_LOAD_XATTRS, v, arg);
	if (!rc && v->chunk)
		rc = load_table(cat, QVL_ST_LOAD_CHUNKS, v, arg);
	if (own && !sqlite3_get_autocommit(cat->db)) {
		int rc2 = qvl_cat_exec(cat, QVL_ST_COMMIT);
		if (!rc)
			rc = rc2;
	}
	return rc;
}

/*
 * catalog_i.h - private to tiers/catalog*.c: the catalog handle and its
 * cache of prepared statements.
 */
#ifndef QVL_CATALOG_I_H
#define QVL_CATALOG_I_H

#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "qvl_catalog.h"

/* Every statement the catalog runs after open, prepared once (persistent)
 * at open: a create is put_inode + put_dirent on the daemon's hot path. */
enum qvl_cat_stmt {
	QVL_ST_BEGIN_WRITE,
	QVL_ST_BEGIN_READ,
	QVL_ST_COMMIT,
	QVL_ST_GET_META,
	QVL_ST_SET_META,
	QVL_ST_PUT_INODE,
	QVL_ST_DEL_INODE,
	QVL_ST_DEL_INODE_XATTRS,
	QVL_ST_DEL_INODE_CHUNKS,
	QVL_ST_PUT_DIRENT,
	QVL_ST_DEL_DIRENT,
	QVL_ST_PUT_XATTR,
	QVL_ST_DEL_XATTR,
	QVL_ST_PUT_CHUNK,
	QVL_ST_DEL_CHUNK,
	QVL_ST_DEL_CHUNKS,
	QVL_ST_LOAD_INODES,
	QVL_ST_LOAD_DIRENTS,
	QVL_ST_LOAD_XATTRS,
	QVL_ST_LOAD_CHUNKS,
	QVL_ST_COUNT
};

/* Not thread-safe: the caller serializes every call (fs->lock). */
struct qvl_catalog {
	sqlite3 *db;
	sqlite3_stmt *st[QVL_ST_COUNT];
	/* A commit since the last WAL fsync: a durable commit must sync even
	 * when no transaction is open. */
	int unsynced;
	/* Commits are numbered (meta 'seq', in each commit's transaction);
	 * STORE/catalog.seq records the last number made durable, so a
	 * catalog that lost durable commits (a deleted WAL, an older copy)
	 * is told from a sound one at open.  -1 without the file. */
	uint64_t seq;
	int seq_fd;
	sqlite3_stmt *succ_put; /* NULL without a successors table */
	sqlite3_stmt *succ_del;
	sqlite3_stmt *inline_put; /* NULL without an inline_frames table */
	sqlite3_stmt *inline_del;
	sqlite3_stmt *remote_put; /* NULL without a remote_chunks table */
	sqlite3_stmt *remote_del;
};

/* catalog_succ.c: make the successors table if it is missing; a file's
 * rows, as file or as successor, go with its inode (in the open
 * transaction). */
void qvl_cat_succ_open(struct qvl_catalog *cat);
int qvl_cat_succ_del(struct qvl_catalog *cat, uint64_t ino);

/* catalog_inline.c: make the inline_frames table if it is missing (the
 * catalog is format 2 from then on); drop the rows of @ino's chunks
 * @first..@last (in the open transaction). */
void qvl_cat_inline_open(struct qvl_catalog *cat);
int qvl_cat_inline_del(struct qvl_catalog *cat, uint64_t ino, uint64_t first,
		       uint64_t last);

/* catalog.c: a table beside the main ones (inline frames, remote keys):
 * create it if missing, mark the catalog QVL_CATALOG_FORMAT, prepare its
 * put and range-delete statements (both NULL on failure: the catalog
 * works without the table).  qvl_cat_range_del() runs such a delete
 * (?1 ino, ?2..?3 chunk indices) in the open transaction; 0 without one. */
int qvl_cat_side_open(struct qvl_catalog *cat, const char *schema,
		      const char *put_sql, const char *del_sql,
		      sqlite3_stmt **put, sqlite3_stmt **del);
int qvl_cat_range_del(sqlite3_stmt *st, uint64_t ino, uint64_t first,
		      uint64_t last);
/* Run put statement @st (?1 ino, ?2 idx, ?3 the blob @blob, @len bytes;
 * bound without a copy, unbound before returning). */
int qvl_cat_side_put(sqlite3_stmt *st, uint64_t ino, uint64_t idx,
		     const void *blob, uint32_t len);
/* Each row of @sql ("SELECT ino, idx, blob FROM ...") to @fn as it is
 * stored (the callers judge damage: negative numbers, odd lengths); the
 * first nonzero return of @fn ends the walk and is returned. */
typedef int qvl_cat_side_fn(void *arg, int64_t ino, int64_t idx,
			    const void *blob, int len);
int qvl_cat_side_load(struct qvl_catalog *cat, const char *sql,
		      qvl_cat_side_fn *fn, void *arg);

/* catalog_remote.c: make the remote_chunks table if it is missing (format
 * 3 from then on); record chunk (@ino, @idx)'s key; drop the rows of
 * chunks @first..@last (all in the open transaction). */
#define QVL_CAT_RKEY_LEN 21 /* hash 16, codec 1, remote length 4 (LE) */
void qvl_cat_remote_open(struct qvl_catalog *cat);
int qvl_cat_remote_put(struct qvl_catalog *cat, uint64_t ino, uint64_t idx,
		       const struct qvl_rkey *key, uint32_t rlen);
int qvl_cat_remote_del(struct qvl_catalog *cat, uint64_t ino, uint64_t first,
		       uint64_t last);

/* The durable-commit record in the store: "QVLSEQ01", then the number as
 * 8 bytes little-endian. */
#define QVL_CAT_SEQ_FILE "catalog.seq"
#define QVL_CAT_SEQ_LEN 16

static inline void qvl_cat_seq_encode(unsigned char *rec, uint64_t seq)
{
	memcpy(rec, "QVLSEQ01", 8);
	for (int i = 0; i < 8; i++)
		rec[8 + i] = (unsigned char)(seq >> (8 * i));
}

/* 0 and *@seq for a good record, -1 for anything else. */
static inline int qvl_cat_seq_decode(const unsigned char *rec, uint64_t *seq)
{
	if (memcmp(rec, "QVLSEQ01", 8))
		return -1;
	*seq = 0;
	for (int i = 0; i < 8; i++)
		*seq |= (uint64_t)rec[8 + i] << (8 * i);
	return 0;
}

extern const char *const qvl_cat_sql[QVL_ST_COUNT];

/* Finalize the statements, close the database, free; rolls back what is
 * not committed. */
void qvl_cat_free(struct qvl_catalog *cat);

/* SQLite result code -> negative errno (the contract's three). */
int qvl_cat_errno(int rc);

/* Open the write transaction unless one is open. */
int qvl_cat_begin(struct qvl_catalog *cat);

/* Step a cached write statement to completion and reset it. */
int qvl_cat_exec(struct qvl_catalog *cat, enum qvl_cat_stmt which);

#endif /* QVL_CATALOG_I_H */

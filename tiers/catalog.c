/*
 * catalog.c - the store's metadata in SQLite: transactions, durability,
 * meta numbers, close.  Opening is in catalog_open.c, rows in
 * catalog_rows.c.
 *
 * HOW IT WORKS
 *
 * The database runs in WAL mode with synchronous=NORMAL: a COMMIT appends
 * its frames to catalog.db-wal with write(2) and returns without fsync.
 * That is atomic and survives a killed process (the frames are in the page
 * cache; the next open replays the WAL up to the last commit frame whose
 * checksum holds), but not a power loss.  A durable commit adds one fsync
 * of the WAL after the COMMIT, which is exactly what synchronous=FULL would
 * have done (FULL differs from NORMAL in WAL mode only by that sync; the
 * WAL header is synced on restart under both).  The two alternatives are
 * worse:
 *  - switching to synchronous=FULL for the commit: SQLite refuses to change
 *    the safety level inside a transaction, and we learn that a commit must
 *    be durable only when it ends;
 *  - COMMIT then PRAGMA wal_checkpoint(PASSIVE): the checkpoint syncs the
 *    WAL only when it has frames to copy, so a reader pinning an older
 *    snapshot (the sqlite3 shell) can make it copy nothing and sync
 *    nothing: not durable.  It also writes and syncs the db file each time.
 * The sync goes through the WAL's own sqlite3_file (the documented
 * SQLITE_FCNTL_JOURNAL_POINTER), so SQLite's VFS also syncs the directory
 * the first time after it created the WAL file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "catalog_i.h"
#include "qvl_record.h"

const char *const qvl_cat_sql[QVL_ST_COUNT] = {
	[QVL_ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[QVL_ST_BEGIN_READ] = "BEGIN",
	[QVL_ST_COMMIT] = "COMMIT",
	[QVL_ST_GET_META] = "SELECT value FROM meta WHERE key = ?1",
	[QVL_ST_SET_META] = "INSERT OR REPLACE INTO meta(key, value)"
			    " VALUES(?1, ?2)",
	[QVL_ST_PUT_INODE] = "INSERT OR REPLACE INTO inodes(ino, mode, uid,"
			     " gid, nlink, rdev, size, atime_ns, mtime_ns,"
			     " ctime_ns, parent, link, hints) VALUES(?1, ?2,"
			     " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[QVL_ST_DEL_INODE] = "DELETE FROM inodes WHERE ino = ?1",
	[QVL_ST_DEL_INODE_XATTRS] = "DELETE FROM xattrs WHERE ino = ?1",
	[QVL_ST_DEL_INODE_CHUNKS] = "DELETE FROM chunks WHERE ino = ?1",
	[QVL_ST_PUT_DIRENT] = "INSERT OR REPLACE INTO dirents(parent, name,"
			      " ino) VALUES(?1, ?2, ?3)",
	[QVL_ST_DEL_DIRENT] = "DELETE FROM dirents WHERE parent = ?1"
			      " AND name = ?2",
	[QVL_ST_PUT_XATTR] = "INSERT OR REPLACE INTO xattrs(ino, name, value)"
			     " VALUES(?1, ?2, ?3)",
	[QVL_ST_DEL_XATTR] = "DELETE FROM xattrs WHERE ino = ?1 AND name = ?2",
	[QVL_ST_PUT_CHUNK] = "INSERT OR REPLACE INTO chunks(ino, idx, slot,"
			     " len) VALUES(?1, ?2, ?3, ?4)",
	[QVL_ST_DEL_CHUNK] = "DELETE FROM chunks WHERE ino = ?1 AND idx = ?2",
	[QVL_ST_DEL_CHUNKS] = "DELETE FROM chunks WHERE ino = ?1"
			      " AND idx >= ?2",
	[QVL_ST_LOAD_INODES] = "SELECT ino, mode, uid, gid, nlink, rdev, size,"
			       " atime_ns, mtime_ns, ctime_ns, parent, link,"
			       " hints FROM inodes ORDER BY ino",
	[QVL_ST_LOAD_DIRENTS] = "SELECT parent, name, ino FROM dirents"
				" ORDER BY parent, name",
	[QVL_ST_LOAD_XATTRS] = "SELECT ino, name, value FROM xattrs"
			       " ORDER BY ino, name",
	[QVL_ST_LOAD_CHUNKS] = "SELECT ino, idx, slot, len FROM chunks"
			       " ORDER BY ino, idx",
};

int qvl_cat_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

void qvl_cat_free(struct qvl_catalog *cat)
{
	if (cat->seq_fd >= 0)
		close(cat->seq_fd);
	for (int i = 0; i < QVL_ST_COUNT; i++)
		sqlite3_finalize(cat->st[i]);
	sqlite3_finalize(cat->succ_put);
	sqlite3_finalize(cat->succ_del);
	sqlite3_finalize(cat->inline_put);
	sqlite3_finalize(cat->inline_del);
	sqlite3_finalize(cat->remote_put);
	sqlite3_finalize(cat->remote_del);
	sqlite3_close_v2(cat->db);
	free(cat);
}

void qvl_catalog_close(struct qvl_catalog *cat)
{
	if (!cat)
		return;
	/* On failure the open transaction is rolled back by the close: the
	 * store keeps its last commit. */
	qvl_catalog_commit(cat, 1);
	qvl_cat_free(cat);
}

int qvl_cat_exec(struct qvl_catalog *cat, enum qvl_cat_stmt which)
{
	sqlite3_stmt *st = cat->st[which];
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : qvl_cat_errno(rc);
}

int qvl_cat_begin(struct qvl_catalog *cat)
{
	/* Autocommit also comes back when SQLite rolled a transaction back
	 * by itself (disk full, I/O error): the next change starts anew. */
	if (!sqlite3_get_autocommit(cat->db))
		return 0;
	return qvl_cat_exec(cat, QVL_ST_BEGIN_WRITE);
}

/* Make every commit so far survive power loss: see HOW IT WORKS. */
static int sync_wal(struct qvl_catalog *cat)
{
	sqlite3_file *wal = NULL;
	int rc = sqlite3_file_control(cat->db, "main",
				      SQLITE_FCNTL_JOURNAL_POINTER, &wal);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	/* No WAL open means no commit went through one yet. */
	if (!wal || !wal->pMethods)
		return 0;
	return qvl_cat_errno(wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL));
}

/* Number the open transaction's commit (meta 'seq'). */
static int number_commit(struct qvl_catalog *cat)
{
	sqlite3_stmt *st = cat->st[QVL_ST_SET_META];
	int rc = sqlite3_bind_text(st, 1, "seq", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, (int64_t)(cat->seq + 1));
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	return qvl_cat_exec(cat, QVL_ST_SET_META);
}

/*
 * Record that commit @cat->seq is durable.  Written after the WAL's fsync
 * and not synced itself: after a power cut the record may lag the catalog,
 * never lead it, so it can only miss a loss, never invent one.
 */
static void record_durable(struct qvl_catalog *cat)
{
	unsigned char rec[QVL_CAT_SEQ_LEN];
	if (cat->seq_fd < 0)
		return;
	qvl_cat_seq_encode(rec, cat->seq);
	/* A failed record only weakens the check at the next open. */
	ssize_t w = pwrite(cat->seq_fd, rec, sizeof(rec), 0);
	if (w == (ssize_t)sizeof(rec))
		qvl_record_at(cat->seq_fd, NULL, 'W', 0, sizeof(rec), rec);
}

int qvl_catalog_commit(struct qvl_catalog *cat, int durable)
{
	if (!sqlite3_get_autocommit(cat->db)) {
		int rc = number_commit(cat);
		if (!rc)
			rc = qvl_cat_exec(cat, QVL_ST_COMMIT);
		if (rc)
			return rc;
		cat->seq++;
		cat->unsynced = 1;
	}
	if (durable && cat->unsynced) {
		int rc = sync_wal(cat);
		if (rc)
			return rc;
		cat->unsynced = 0;
		record_durable(cat);
	}
	return 0;
}

int qvl_catalog_get_meta(struct qvl_catalog *cat, const char *key,
			 uint64_t *value)
{
	sqlite3_stmt *st = cat->st[QVL_ST_GET_META];
	int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*value = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return qvl_cat_errno(rc);
}

int qvl_catalog_set_meta(struct qvl_catalog *cat, const char *key,
			 uint64_t value)
{
	sqlite3_stmt *st = cat->st[QVL_ST_SET_META];
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, (int64_t)value);
	if (rc != SQLITE_OK)
		return qvl_cat_errno(rc);
	return qvl_cat_exec(cat, QVL_ST_SET_META);
}

int qvl_cat_side_open(struct qvl_catalog *cat, const char *schema,
		      const char *put_sql, const char *del_sql,
		      sqlite3_stmt **put, sqlite3_stmt **del)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
		 QVL_CATALOG_FORMAT);
	*put = *del = NULL;
	if (sqlite3_exec(cat->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(cat->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_prepare_v3(cat->db, put_sql, -1, SQLITE_PREPARE_PERSISTENT,
			       put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(cat->db, del_sql, -1, SQLITE_PREPARE_PERSISTENT,
			       del, NULL) != SQLITE_OK) {
		sqlite3_finalize(*put);
		sqlite3_finalize(*del);
		*put = *del = NULL;
		return -EIO;
	}
	return 0;
}

int qvl_cat_range_del(sqlite3_stmt *st, uint64_t ino, uint64_t first,
		      uint64_t last)
{
	if (!st || first > INT64_MAX)
		return 0;
	if (last > INT64_MAX)
		last = INT64_MAX;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (int64_t)first) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)last) != SQLITE_OK)
		return -EIO;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : qvl_cat_errno(rc);
}

int qvl_cat_side_put(sqlite3_stmt *st, uint64_t ino, uint64_t idx,
		     const void *blob, uint32_t len)
{
	if (ino > INT64_MAX || idx > INT64_MAX || len > INT32_MAX)
		return -EINVAL;
	int rc = SQLITE_ERROR;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 2, (int64_t)idx) == SQLITE_OK &&
	    sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC) ==
		    SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_clear_bindings(st); /* the blob is the caller's */
	sqlite3_reset(st);
	return qvl_cat_errno(rc);
}

int qvl_cat_side_load(struct qvl_catalog *cat, const char *sql,
		      qvl_cat_side_fn *fn, void *arg)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	int rc, ret = 0;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = fn(arg, sqlite3_column_int64(st, 0),
			 sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
			 sqlite3_column_bytes(st, 2));
	sqlite3_finalize(st);
	if (ret)
		return ret;
	return rc == SQLITE_DONE ? 0 : qvl_cat_errno(rc);
}

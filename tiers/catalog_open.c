/*
 * catalog_open.c - opening a store's catalog: create it, or check an
 * existing one before writing a byte to it.
 *
 * A store is created whole or not at all: the schema is built in
 * catalog.db.new, synced, renamed to catalog.db and the directory synced.
 * So an existing catalog.db that is empty, not SQLite, or lacks a format
 * version is damage, never a half-made store.  Opening an existing one
 * only reads until every check has passed, so a refused store is left as
 * it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_i.h"
#include "qvl_tier.h"

/* PRAGMA application_id of every qvlmemfs catalog: "QVLM". */
#define QVL_CATALOG_APP_ID 0x51564c4d

#define QVL_CATALOG_TABLES 5

static const char qvl_cat_schema[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE inodes(ino INTEGER PRIMARY KEY, mode INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, gid INTEGER NOT NULL, nlink INTEGER NOT NULL,"
	" rdev INTEGER NOT NULL, size INTEGER NOT NULL,"
	" atime_ns INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
	" ctime_ns INTEGER NOT NULL, parent INTEGER NOT NULL, link TEXT,"
	" hints BLOB);"
	"CREATE TABLE dirents(parent INTEGER NOT NULL, name TEXT NOT NULL,"
	" ino INTEGER NOT NULL, PRIMARY KEY(parent, name)) WITHOUT ROWID;"
	"CREATE TABLE xattrs(ino INTEGER NOT NULL, name TEXT NOT NULL,"
	" value BLOB NOT NULL, PRIMARY KEY(ino, name)) WITHOUT ROWID;"
	"CREATE TABLE chunks(ino INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" slot INTEGER NOT NULL, len INTEGER NOT NULL,"
	" PRIMARY KEY(ino, idx)) WITHOUT ROWID;";

__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* First column of the first row of @sql as an integer. */
static int query_int(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_NOTFOUND;
	}
	sqlite3_finalize(st);
	return rc;
}

/* PRAGMA journal_mode=WAL answers the mode it ended in. */
static int set_wal(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st,
				    NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		rc = mode && !strcmp(mode, "wal") ? SQLITE_OK : SQLITE_CANTOPEN;
	}
	sqlite3_finalize(st);
	return rc;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

static void unlink_db_files(const char *path)
{
	char side[PATH_MAX];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
}

/* Build a complete store in @tmp, then move it to @path in one rename. */
static int create_store(const char *store_dir, const char *path,
			const char *tmp, unsigned chunk_shift, char *err,
			size_t errlen)
{
	sqlite3 *db = NULL;
	int rc;

	unlink_db_files(tmp);
	rc = sqlite3_open_v2(tmp, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc == SQLITE_OK)
		rc = set_wal(db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL,
				  NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, qvl_cat_schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "PRAGMA application_id=%d; PRAGMA user_version=%d;"
			 "INSERT INTO meta VALUES('chunk_shift', %u),"
			 " ('next_ino', 16); COMMIT",
			 QVL_CATALOG_APP_ID, QVL_CATALOG_FORMAT, chunk_shift);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		int e = qvl_cat_errno(rc);
		fail(err, errlen, e, "catalog: creating %s: %s", tmp,
		     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close_v2(db);
		unlink_db_files(tmp);
		return e;
	}
	/* The last close checkpoints the WAL into the file and removes it. */
	rc = sqlite3_close_v2(db);
	if (rc != SQLITE_OK) {
		unlink_db_files(tmp);
		return fail(err, errlen, qvl_cat_errno(rc),
			    "catalog: closing new %s: %s", tmp,
			    sqlite3_errstr(rc));
	}
	/* No stale WAL of an earlier catalog.db may be replayed onto ours. */
	unlink_db_files(path);
	int e = fsync_path(tmp, O_RDONLY);
	if (!e && rename(tmp, path))
		e = -errno;
	if (!e)
		e = fsync_path(store_dir, O_RDONLY | O_DIRECTORY);
	if (e) {
		unlink_db_files(tmp);
		return fail(err, errlen, e, "catalog: creating %s: %s", path,
			    strerror(-e));
	}
	return 0;
}

/* Read-only checks of an existing store, in the order that names the
 * problem best: not SQLite, not ours, too new, damaged, other chunk size. */
static int check_store(sqlite3 *db, const char *path, unsigned chunk_shift,
		       char *err, size_t errlen)
{
	int64_t app_id = 0, version = 0, n = 0, shift = 0;
	int rc = query_int(db, "PRAGMA application_id", &app_id);
	if ((rc & 0xff) == SQLITE_NOTADB)
		return fail(err, errlen, -EMEDIUMTYPE,
			    "catalog: %s is not a SQLite database", path);
	if ((rc & 0xff) == SQLITE_CORRUPT)
		goto out_damaged;
	if (rc != SQLITE_OK)
		goto out_sqlite;
	if (app_id != QVL_CATALOG_APP_ID)
		return fail(err, errlen, -EMEDIUMTYPE,
			    "catalog: %s is not a qvlmemfs catalog"
			    " (application_id 0x%08llx)",
			    path, (unsigned long long)(uint32_t)app_id);

	rc = query_int(db, "PRAGMA user_version", &version);
	if (rc != SQLITE_OK)
		goto out_sqlite;
	if (version > QVL_CATALOG_FORMAT)
		return fail(err, errlen, -EPROTONOSUPPORT,
			    "catalog: %s has format %lld, newer than this"
			    " qvlmemfs reads (%d)",
			    path, (long long)version, QVL_CATALOG_FORMAT);
	if (version < 1)
		return fail(err, errlen, -EUCLEAN,
			    "catalog: %s has no format version (damaged)",
			    path);

	sqlite3_stmt *st;
	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out_sqlite;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(st, 0);
		if (!res || strcmp(res, "ok")) {
			fail(err, errlen, -EUCLEAN,
			     "catalog: %s is damaged: %s", path,
			     res ? res : "(no answer)");
			sqlite3_finalize(st);
			return -EUCLEAN;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		goto out_damaged;
	if (rc != SQLITE_OK)
		goto out_sqlite;

	rc = query_int(db,
		       "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
		       " AND name IN ('meta', 'inodes', 'dirents', 'xattrs',"
		       " 'chunks')",
		       &n);
	if (rc != SQLITE_OK)
		goto out_sqlite;
	if (n != QVL_CATALOG_TABLES)
		return fail(err, errlen, -EUCLEAN,
			    "catalog: %s is damaged: tables are missing",
			    path);

	rc = query_int(db, "SELECT value FROM meta WHERE key = 'chunk_shift'",
		       &shift);
	if (rc == SQLITE_NOTFOUND)
		return fail(err, errlen, -EUCLEAN,
			    "catalog: %s is damaged: no chunk_shift", path);
	if (rc != SQLITE_OK)
		goto out_sqlite;
	if (shift != (int64_t)chunk_shift)
		return fail(err, errlen, -EINVAL,
			    "catalog: %s was made with chunk shift %lld,"
			    " not %u",
			    path, (long long)shift, chunk_shift);
	return 0;

out_damaged:
	return fail(err, errlen, -EUCLEAN, "catalog: %s is damaged: %s", path,
		    sqlite3_errmsg(db));
out_sqlite:
	return fail(err, errlen, qvl_cat_errno(rc), "catalog: reading %s: %s",
		    path, sqlite3_errmsg(db));
}

/* The smallest SQLite database is one 512-byte page, so a shorter file is
 * a truncated catalog when it starts like one, something else when not.
 * SQLite itself would read the missing bytes as zeros and see no
 * application_id: the wrong diagnosis. */
static int check_short(const char *path, size_t size, char *err,
		       size_t errlen)
{
	static const char magic[16] = "SQLite format 3";
	char head[sizeof(magic)];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
	}
	if (fd < 0 || n < 0)
		return fail(err, errlen, -errno, "catalog: reading %s: %s",
			    path, strerror(errno));
	if ((size_t)n != size && (size_t)n < sizeof(head))
		return fail(err, errlen, -EIO, "catalog: short read of %s",
			    path);
	if (!memcmp(head, magic, (size_t)n))
		return fail(err, errlen, -EUCLEAN,
			    "catalog: %s is truncated (%zu bytes)", path, size);
	return fail(err, errlen, -EMEDIUMTYPE,
		    "catalog: %s is not a SQLite database", path);
}

/* Does @store_dir/data hold anything (backing files, their folders)? */
static int data_present(const char *store_dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/data", store_dir);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *e;
	int found = 0;
	while (!found && (e = readdir(d)))
		found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return found;
}

/*
 * The catalog's last commit number against the store's record of the last
 * one made durable (catalog.c).  A catalog behind the record lost durable
 * commits: its WAL was deleted, or an older catalog.db was copied in.
 * Mounting it would silently undo fsync'ed changes, and a repair would
 * then delete the data of every file created since: refused, saying how
 * to restore or, knowingly, to go back.
 */
static int check_seq(struct qvl_catalog *cat, const char *store_dir,
		     const char *path, char *err, size_t errlen)
{
	char rpath[PATH_MAX];
	unsigned char rec[QVL_CAT_SEQ_LEN];
	int64_t seq = 0;
	uint64_t durable;

	int rc = query_int(cat->db, "SELECT value FROM meta WHERE key = 'seq'",
			   &seq);
	if (rc == SQLITE_NOTFOUND)
		seq = 0; /* a store from before commits were numbered */
	else if (rc != SQLITE_OK)
		return fail(err, errlen, qvl_cat_errno(rc),
			    "catalog: reading %s: %s", path,
			    sqlite3_errmsg(cat->db));
	cat->seq = (uint64_t)seq;
	snprintf(rpath, sizeof(rpath), "%s/" QVL_CAT_SEQ_FILE, store_dir);
	cat->seq_fd = open(rpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			   0600);
	if (cat->seq_fd < 0)
		return fail(err, errlen, -errno, "catalog: %s: %s", rpath,
			    strerror(errno));
	ssize_t n = pread(cat->seq_fd, rec, sizeof(rec), 0);
	if (n == (ssize_t)sizeof(rec) && !qvl_cat_seq_decode(rec, &durable) &&
	    durable > cat->seq)
		return fail(err, errlen, -ESTALE,
			    "catalog: %s ends at commit %llu, but commit %llu "
			    "was made durable in this store: the catalog lost "
			    "committed changes (was catalog.db-wal deleted, or "
			    "an older catalog.db copied in?). Restore them; to "
			    "mount this older catalog anyway, losing what came "
			    "after, delete %s",
			    path, (unsigned long long)cat->seq,
			    (unsigned long long)durable, rpath);
	return 0;
}

int qvl_catalog_open(const char *store_dir, unsigned chunk_shift,
		     struct qvl_catalog **out, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct stat sb;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (chunk_shift < QVL_CHUNK_SHIFT_MIN ||
	    chunk_shift > QVL_CHUNK_SHIFT_MAX)
		return fail(err, errlen, -EINVAL,
			    "catalog: chunk shift %u out of range",
			    chunk_shift);
	if ((size_t)snprintf(path, sizeof(path), "%s/catalog.db", store_dir) >=
		    sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/catalog.db.new",
			     store_dir) >= sizeof(tmp))
		return fail(err, errlen, -ENAMETOOLONG,
			    "catalog: store path too long");

	if (stat(path, &sb)) {
		if (errno != ENOENT)
			return fail(err, errlen, -errno, "catalog: %s: %s",
				    path, strerror(errno));
		/* Data without its catalog: a new, empty filesystem over it
		 * would hide it, and a repair would delete it. */
		if (data_present(store_dir))
			return fail(err, errlen, -ENOENT,
				    "catalog: %s is missing but %s/data holds "
				    "backing files; restore the catalog, or move "
				    "data/ away to start an empty store",
				    path, store_dir);
		rc = create_store(store_dir, path, tmp, chunk_shift, err,
				  errlen);
		if (rc)
			return rc;
	} else if (!S_ISREG(sb.st_mode)) {
		return fail(err, errlen, -EMEDIUMTYPE,
			    "catalog: %s is not a regular file", path);
	} else if (sb.st_size < 512) {
		rc = check_short(path, (size_t)sb.st_size, err, errlen);
		if (rc)
			return rc;
	}

	struct qvl_catalog *cat = calloc(1, sizeof(*cat));
	if (!cat)
		return fail(err, errlen, -ENOMEM, "catalog: out of memory");
	cat->seq_fd = -1;
	rc = sqlite3_open_v2(path, &cat->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = fail(err, errlen, qvl_cat_errno(rc),
			  "catalog: opening %s: %s", path,
			  cat->db ? sqlite3_errmsg(cat->db)
				  : sqlite3_errstr(rc));
		goto out_free;
	}
	/* Readers (the sqlite3 shell) never block us in WAL mode; this only
	 * covers a checkpoint or recovery that another connection runs. */
	sqlite3_busy_timeout(cat->db, 1000);

	rc = check_store(cat->db, path, chunk_shift, err, errlen);
	if (rc)
		goto out_free;

	rc = check_seq(cat, store_dir, path, err, errlen);
	if (rc)
		goto out_free;

	/* The store is ours and sound: from here on we may write. */
	rc = set_wal(cat->db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(cat->db,
				  "PRAGMA synchronous=NORMAL;"
				  /* A burst of changes leaves no huge WAL
				   * behind: 16 MiB after a checkpoint. */
				  "PRAGMA journal_size_limit=16777216",
				  NULL, NULL, NULL);
	for (int i = 0; rc == SQLITE_OK && i < QVL_ST_COUNT; i++)
		rc = sqlite3_prepare_v3(cat->db, qvl_cat_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &cat->st[i],
					NULL);
	if (rc != SQLITE_OK) {
		rc = fail(err, errlen, qvl_cat_errno(rc),
			  "catalog: setting up %s: %s", path,
			  sqlite3_errmsg(cat->db));
		goto out_free;
	}
	qvl_cat_succ_open(cat);
	qvl_cat_inline_open(cat);
	qvl_cat_remote_open(cat);
	*out = cat;
	return 0;

out_free:
	qvl_cat_free(cat);
	return rc;
}

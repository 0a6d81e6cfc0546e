/*
 * catalog_succ.c - the successor table's rows (tiers/succ.c): which file
 * followed which, how often.  A table of its own, made when a catalog
 * opens writable and lacks it, so stores from before it keep working (a
 * catalog that cannot take it, e.g. an immutable one, just has no
 * history).
 */
#include <errno.h>

#include "catalog_i.h"

static const char succ_schema[] =
	"CREATE TABLE IF NOT EXISTS successors(ino INTEGER NOT NULL,"
	" succ INTEGER NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(ino, succ)) WITHOUT ROWID;"
	/* A deleted file leaves as a successor too: no scan for it. */
	"CREATE INDEX IF NOT EXISTS successors_succ ON successors(succ)";

void qvl_cat_succ_open(struct qvl_catalog *cat)
{
	if (sqlite3_exec(cat->db, succ_schema, NULL, NULL, NULL) != SQLITE_OK)
		return;
	if (sqlite3_prepare_v3(cat->db, "INSERT OR REPLACE INTO successors"
				" VALUES(?1, ?2, ?3)", -1,
			       SQLITE_PREPARE_PERSISTENT, &cat->succ_put,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(cat->db, "DELETE FROM successors WHERE ino = ?1"
				" OR succ = ?1", -1, SQLITE_PREPARE_PERSISTENT,
			       &cat->succ_del, NULL) != SQLITE_OK) {
		sqlite3_finalize(cat->succ_put);
		cat->succ_put = NULL;
	}
}

int qvl_cat_succ_del(struct qvl_catalog *cat, uint64_t ino)
{
	sqlite3_stmt *st = cat->succ_del;
	if (!cat->succ_put || !st)
		return 0;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) != SQLITE_OK)
		return -EIO;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : qvl_cat_errno(rc);
}

int qvl_catalog_put_succ(struct qvl_catalog *cat, uint64_t ino, uint64_t succ,
			 uint32_t count)
{
	sqlite3_stmt *st = cat->succ_put;
	if (!st)
		return 0; /* no table: no history, nothing wrong */
	int rc = qvl_cat_begin(cat);
	if (rc)
		return rc;
	if (sqlite3_bind_int64(st, 1, (int64_t)ino) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (int64_t)succ) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, count) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : qvl_cat_errno(rc);
}

int qvl_catalog_load_succ(struct qvl_catalog *cat,
			  void (*fn)(void *arg, uint64_t ino, uint64_t succ,
				     uint32_t count),
			  void *arg)
{
	sqlite3_stmt *st;
	if (!cat->succ_put)
		return 0;
	if (sqlite3_prepare_v2(cat->db, "SELECT ino, succ, count FROM "
				"successors", -1, &st, NULL) != SQLITE_OK)
		return 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ino = sqlite3_column_int64(st, 0);
		int64_t succ = sqlite3_column_int64(st, 1);
		int64_t count = sqlite3_column_int64(st, 2);
		/* Damaged rows are only a worse guess: skip them. */
		if (ino > 0 && succ > 0 && count > 0 && count <= UINT32_MAX)
			fn(arg, (uint64_t)ino, (uint64_t)succ, (uint32_t)count);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : qvl_cat_errno(rc);
}

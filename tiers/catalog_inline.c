/*
 * catalog_inline.c - frames kept in the catalog itself.
 *
 * An fsync of a file whose dirty chunks code to small frames puts those
 * frames here, in the same commit as the file's row, and syncs once (the
 * WAL) instead of twice (the backing file, then the WAL): a database's
 * journal and its few changed pages.  A row (ino, idx, frame) holds chunk
 * idx's bytes as they were at that fsync; it outranks the chunk's row in
 * `chunks`, whose frame on the store is older.  The frame goes to the
 * store later like any dirty chunk, and the commit that records it there
 * drops the row here (qvl_catalog_put_chunk); a chunk deleted, cut off or
 * punched drops its row with its chunk row.
 *
 * A daemon that did not know this table would read such a store without
 * the rows and lose what was fsync'ed into them, so the table comes with
 * format 2: a format-1 catalog opened writable gains it and is format 2
 * from then on.  A catalog that cannot take it (an immutable one) works
 * without: fsync then writes every frame to the store.
 */
#include <errno.h>

#include "catalog_i.h"

static const char inline_schema[] =
	"CREATE TABLE IF NOT EXISTS inline_frames(ino INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, frame BLOB NOT NULL,"
	" PRIMARY KEY(ino, idx)) WITHOUT ROWID";

void qvl_cat_inline_open(struct qvl_catalog *cat)
{
	qvl_cat_side_open(cat, inline_schema,
			  "INSERT OR REPLACE INTO inline_frames"
			  " VALUES(?1, ?2, ?3)",
			  "DELETE FROM inline_frames WHERE"
			  " ino = ?1 AND idx >= ?2 AND idx <= ?3",
			  &cat->inline_put, &cat->inline_del);
}

int qvl_cat_inline_del(struct qvl_catalog *cat, uint64_t ino, uint64_t first,
		       uint64_t last)
{
	return qvl_cat_range_del(cat->inline_del, ino, first, last);
}

int qvl_catalog_del_inline(struct qvl_catalog *cat, uint64_t ino,
			   uint64_t idx)
{
	int rc = qvl_cat_begin(cat);
	return rc ? rc : qvl_cat_inline_del(cat, ino, idx, idx);
}

int qvl_catalog_has_inline(const struct qvl_catalog *cat)
{
	return cat->inline_put != NULL;
}

int qvl_catalog_put_inline(struct qvl_catalog *cat, uint64_t ino,
			   uint64_t idx, const void *frame, uint32_t len)
{
	if (!cat->inline_put)
		return -EOPNOTSUPP;
	if (ino > INT64_MAX || idx > INT64_MAX || !len)
		return -EINVAL;
	int rc = qvl_cat_begin(cat);
	return rc ? rc : qvl_cat_side_put(cat->inline_put, ino, idx, frame, len);
}

struct inline_load {
	int (*fn)(void *arg, uint64_t ino, uint64_t idx, const void *frame,
		  uint32_t len);
	void *arg;
};

/* A damaged row is the caller's to judge: it cannot tell a negative
 * number from a huge one, so both come as huge. */
static int inline_row(void *arg, int64_t ino, int64_t idx, const void *frame,
		      int len)
{
	const struct inline_load *l = arg;
	return l->fn(l->arg, ino < 0 ? UINT64_MAX : (uint64_t)ino,
		     idx < 0 ? UINT64_MAX : (uint64_t)idx, frame,
		     frame && len > 0 ? (uint32_t)len : 0);
}

int qvl_catalog_load_inline(struct qvl_catalog *cat,
			    int (*fn)(void *arg, uint64_t ino, uint64_t idx,
				      const void *frame, uint32_t len),
			    void *arg)
{
	struct inline_load l = { fn, arg };
	if (!cat->inline_put)
		return 0;
	return qvl_cat_side_load(cat, "SELECT ino, idx, frame FROM"
				      " inline_frames", inline_row, &l);
}

/*
 * catalog_remote.c - which chunks live in the remote tier, and under what
 * key.
 *
 * A chunk pulled from a snapshot has its row in `chunks` with slot
 * QVL_CAT_SLOT_REMOTE (its frame is in Redis, not in the store) and a row
 * here with the frame's key (struct qvl_rkey: 16 bytes of hash, 1 of
 * codec) and its length in Redis.  Once read, a copy of the frame may go
 * to the store (slot 0/1) and the row here stays: the store may drop
 * that copy again.  The two change in the same transaction: a chunk
 * written locally gets a slot 0/1 row and loses its row here
 * (copy-on-write: the snapshot's frame is never changed), a chunk deleted
 * or cut off loses both.
 *
 * A daemon that did not know slot 2 would look for the frame in the store
 * and fail, so the table comes with format 3: an older catalog opened
 * writable gains it (and the version), an older daemon refuses the store.
 */
#include <errno.h>

#include "catalog_i.h"

static const char remote_schema[] =
	"CREATE TABLE IF NOT EXISTS remote_chunks(ino INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, key BLOB NOT NULL,"
	" PRIMARY KEY(ino, idx)) WITHOUT ROWID";

void qvl_cat_remote_open(struct qvl_catalog *cat)
{
	qvl_cat_side_open(cat, remote_schema,
			  "INSERT OR REPLACE INTO remote_chunks"
			  " VALUES(?1, ?2, ?3)",
			  "DELETE FROM remote_chunks WHERE"
			  " ino = ?1 AND idx >= ?2 AND idx <= ?3",
			  &cat->remote_put, &cat->remote_del);
}

int qvl_cat_remote_del(struct qvl_catalog *cat, uint64_t ino, uint64_t first,
		       uint64_t last)
{
	return qvl_cat_range_del(cat->remote_del, ino, first, last);
}

int qvl_cat_remote_put(struct qvl_catalog *cat, uint64_t ino, uint64_t idx,
		       const struct qvl_rkey *key, uint32_t rlen)
{
	uint8_t k[QVL_CAT_RKEY_LEN];
	if (!cat->remote_put)
		return -EOPNOTSUPP;
	if (!key)
		return -EINVAL;
	memcpy(k, key->hash, 16);
	k[16] = key->codec;
	for (int i = 0; i < 4; i++)
		k[17 + i] = (uint8_t)(rlen >> (8 * i));
	return qvl_cat_side_put(cat->remote_put, ino, idx, k, sizeof(k));
}

int qvl_catalog_has_remote(const struct qvl_catalog *cat)
{
	return cat->remote_put != NULL;
}

struct remote_load {
	int (*fn)(void *arg, uint64_t ino, uint64_t idx,
		  const struct qvl_rkey *key, uint32_t rlen);
	void *arg;
};

/* A damaged row (bad key length) is skipped: its chunk then has no key
 * and reads fail with -EIO, as for a bad frame. */
static int remote_row(void *arg, int64_t ino, int64_t idx, const void *blob,
		      int len)
{
	const struct remote_load *l = arg;
	const uint8_t *k = blob;
	struct qvl_rkey key;
	uint32_t rlen = 0;
	if (!k || len != QVL_CAT_RKEY_LEN || ino < 0 || idx < 0)
		return 0;
	memcpy(key.hash, k, 16);
	key.codec = k[16];
	for (int i = 0; i < 4; i++)
		rlen |= (uint32_t)k[17 + i] << (8 * i);
	return l->fn(l->arg, (uint64_t)ino, (uint64_t)idx, &key, rlen);
}

int qvl_catalog_load_remote(struct qvl_catalog *cat,
			    int (*fn)(void *arg, uint64_t ino, uint64_t idx,
				      const struct qvl_rkey *key,
				      uint32_t rlen),
			    void *arg)
{
	struct remote_load l = { fn, arg };
	if (!cat->remote_put)
		return 0;
	return qvl_cat_side_load(cat, "SELECT ino, idx, key FROM"
				      " remote_chunks", remote_row, &l);
}

/*
 * remote_cache.c - the store as a cache of the remote tier.
 *
 * A chunk pulled from a snapshot is read from Redis the first time.  Its
 * bytes then stay in RAM like any fetched chunk, and a copy of its frame
 * goes to the store, so that after it leaves RAM (or after a remount) it
 * comes from the local disk, not the network.  The copy is written by the
 * mover, off the filesystem's lock, like write-back of dirty data, once
 * reads are quiet (qvl_tm_copy_gate): the
 * chunk joins the mover's list when it lands (rcache), and the mover puts
 * the frame that came from Redis (still in RAM as the chunk's compressed
 * copy) or, when that is gone, a new coding of the bytes, in a slot of the
 * store.  The row then names the slot and keeps the key (rbacked): the
 * store holds a copy the remote tier can give again.
 *
 * When the store fills, those copies are the first to go, and nothing
 * else goes: before each commit, while the store has less free than
 * RELIEVE_LOW, the oldest copies turn back into remote-only chunks (their
 * rows get the remote slot again, their slots are freed after the commit)
 * until RELIEVE_HIGH is free or none is left.  Local data is never
 * dropped: a chunk written locally loses its key (copy-on-write) and with
 * it any place on this list.
 */
#include <stddef.h>

#include "tm_i.h"

/* Free store space below which copies leave, and up to which they do. */
#define RELIEVE_LOW(tm) (TM_STORE_RESERVE + 32 * (uint64_t)(tm)->slot_size)
#define RELIEVE_HIGH(tm) (TM_STORE_RESERVE + 64 * (uint64_t)(tm)->slot_size)

static void rb_del(struct qvl_tm *tm, struct qvl_chunk *c)
{
	tm_list_del(&tm->copies, c, offsetof(struct qvl_chunk, rbl));
	c->rblisted = 0;
}

static void rb_add(struct qvl_tm *tm, struct qvl_chunk *c)
{
	tm_list_add(&tm->copies, c, offsetof(struct qvl_chunk, rbl));
	c->rblisted = 1;
}

void qvl_tm_remote_landed(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (!qvl_chunk_remote(c) || !c->rbacked || !tm->cfg.nvme ||
	    (c->blob->flags & QVL_BLOB_NO_STORE))
		return;
	c->rcache = 1;
	if (!c->dlisted)
		qvl_tm_mover_note(tm, c);
}

int qvl_tm_mover_wants(const struct qvl_chunk *c)
{
	if (qvl_tm_to_write(c))
		return 1;
	return c->rcache && c->ram && qvl_chunk_remote(c) &&
	       !(c->blob->flags & QVL_BLOB_NO_STORE);
}

/*
 * Copies wait for a quiet mount.  Written while a model streams in, they
 * took the disk and the work lock from the reads (a cold read of a pulled
 * model ran 312 MB/s with them, 641 without); the frames are in RAM
 * meanwhile, and whatever leaves RAM before a quiet period is fetched
 * again next time.  So a drain (the flusher's, every flush= seconds)
 * writes copies only when no read came since the drain before it.
 */
void qvl_tm_copy_gate(struct qvl_tm *tm)
{
	tm->copy_ok = tm->st.reads == tm->copy_reads;
	tm->copy_reads = tm->st.reads;
}

void qvl_tm_remote_cached(struct qvl_tm *tm, struct qvl_chunk *c)
{
	c->rcache = 0;
	if (c->rbacked && !qvl_chunk_remote(c) && !c->rblisted)
		rb_add(tm, c);
}

uint64_t qvl_tm_remote_copies(const struct qvl_tm *tm)
{
	return tm->copies.n;
}

void qvl_tm_remote_forget(struct qvl_tm *tm, struct qvl_chunk *c)
{
	if (c->rblisted)
		rb_del(tm, c);
}

void qvl_tm_remote_changed(struct qvl_chunk *c)
{
	c->rbacked = 0;
	c->rcache = 0;
	if (c->rblisted && c->blob->tm)
		rb_del(c->blob->tm, c);
}

/* @c's copy leaves the store: the remote frame is its frame again. */
static int drop_copy(struct qvl_tm *tm, struct qvl_chunk *c)
{
	struct qvl_blob *b = c->blob;
	int cs = c->disk_slot;
	if (tm->cfg.cat) {
		struct qvl_cat_chunk row = { b->ino, c->idx,
					     QVL_CAT_SLOT_REMOTE, c->rlen,
					     &c->rk, c->rlen };
		int rc = qvl_catalog_put_chunk(tm->cfg.cat, &row);
		if (rc)
			return rc;
	}
	/* The committed row names the copy's slot until the commit; its
	 * space is free after it (the eviction path's rule for a replaced
	 * frame), and a new frame meanwhile goes to the other slot. */
	qvl_tm_defer(tm, b->ino, c->idx, (uint32_t)cs, 0);
	c->cslot_before = (int8_t)cs;
	c->wepoch = tm->epoch;
	qvl_blob_disk_set(b, c, QVL_CAT_SLOT_REMOTE, c->rlen);
	qvl_chunk_changed(c);
	rb_del(tm, c);
	tm->st.remote_dropped++;
	return 0;
}

void qvl_tm_remote_relieve(struct qvl_tm *tm)
{
	if (!tm->copies.n || !tm->cfg.nvme ||
	    qvl_nvme_free_bytes(tm->cfg.nvme) >= RELIEVE_LOW(tm))
		return;
	uint64_t want = RELIEVE_HIGH(tm) - qvl_nvme_free_bytes(tm->cfg.nvme);
	uint64_t freed = 0, look = tm->copies.n;
	while (freed < want && look-- && tm->copies.first) {
		struct qvl_chunk *c = tm->copies.first;
		/* Only a committed copy, not one in use by a write-back or a
		 * readahead: the others wait for a later commit. */
		if (c->wepoch == tm->epoch || c->wb || c->busy || c->hold ||
		    qvl_chunk_remote(c) || !c->disk_len) {
			rb_del(tm, c);
			if (c->rbacked && c->disk_len && !qvl_chunk_remote(c))
				rb_add(tm, c);
			continue;
		}
		uint32_t len = c->disk_len;
		if (drop_copy(tm, c))
			return;
		freed += qvl_nvme_padded(len);
	}
}

/*
 * frames.c - reading a batch of frames from where they are: the store
 * (slots 0 and 1, io_uring) or the remote tier (QVL_CAT_SLOT_REMOTE,
 * pipelined GETs).  The callers (a fetch under the lock, a readahead or a
 * READ's own chunks without it) plan one batch and decode each frame as it
 * arrives; which tier a frame comes from is decided here, so they do not
 * have to care.
 *
 * A remote frame is checked twice: its own checksum when decoded (as for
 * the store), and the decoded chunk against the xxh3-128 its key names, so
 * a wrong value under a key is an -EIO, never wrong bytes.
 */
#include <errno.h>

#include "tm_i.h"

/* The store's part of a mixed batch: its completions name the caller's
 * request numbers. */
#define MAXB (TM_BATCH > QVL_AHEAD_MAX ? TM_BATCH : QVL_AHEAD_MAX)

struct local_part {
	unsigned map[MAXB];
	struct qvl_nvme_req req[MAXB];
	struct qvl_nvme_req *orig;
	qvl_nvme_done_fn done;
	void *arg;
};

/* The caller's request gets its result before its completion: the decode
 * job posted by @done reads it. */
static void local_arrived(void *arg, unsigned i)
{
	struct local_part *lp = arg;
	lp->orig[lp->map[i]].result = lp->req[i].result;
	lp->done(lp->arg, lp->map[i]);
}

/* The remote part of a batch: request k of the pipeline is the
 * caller's which[k]. */
struct remote_part {
	struct qvl_tm *tm;
	struct qvl_nvme_req *r;
	const unsigned *which;
	struct qvl_remote_get g[MAXB];
	qvl_nvme_done_fn done;
	void *arg;
	unsigned fetched, failed;
	uint64_t bytes;
};

/* Frame k arrived (or failed): its decode starts while the rest come. */
static void remote_arrived(void *arg, unsigned k)
{
	struct remote_part *rp = arg;
	struct qvl_nvme_req *q = &rp->r[rp->which[k]];
	q->result = rp->g[k].result;
	if (q->result) {
		rp->failed++;
	} else {
		rp->fetched++;
		rp->bytes += q->len;
	}
	rp->done(rp->arg, rp->which[k]);
}

/* The remote frames of @r[0..n) (@keys), one pipeline; @done for each. */
static void read_remote(struct qvl_tm *tm, struct qvl_nvme_req *r,
			const struct qvl_rkey *keys, const unsigned *which,
			unsigned n, qvl_nvme_done_fn done, void *arg)
{
	struct remote_part rp = { .tm = tm, .r = r, .which = which,
				  .done = done, .arg = arg };
	for (unsigned k = 0; k < n; k++) {
		struct qvl_nvme_req *q = &r[which[k]];
		rp.g[k] = (struct qvl_remote_get){ .key = &keys[which[k]],
						   .buf = q->buf,
						   .cap = qvl_nvme_padded(q->len),
						   .len = q->len,
						   .result = -ENOTCONN };
	}
	/* No remote tier on this mount: the frames cannot be had. */
	if (tm->cfg.remote)
		qvl_remote_get_frames_each(tm->cfg.remote, rp.g, n,
					   remote_arrived, &rp);
	else
		for (unsigned k = 0; k < n; k++)
			remote_arrived(&rp, k);
	/* readahead lanes run at once: no lock is common to all callers */
	__atomic_fetch_add(&tm->st.remote_fetched, rp.fetched, __ATOMIC_RELAXED);
	__atomic_fetch_add(&tm->st.remote_failed, rp.failed, __ATOMIC_RELAXED);
	__atomic_fetch_add(&tm->st.remote_bytes, rp.bytes, __ATOMIC_RELAXED);
}

void qvl_tm_frames_read(struct qvl_tm *tm, struct qvl_nvme_req *r,
			const struct qvl_rkey *keys, unsigned n,
			qvl_nvme_done_fn done, void *arg)
{
	unsigned remote[MAXB];
	struct local_part lp = { .orig = r, .done = done, .arg = arg };
	unsigned nr = 0, nl = 0;
	if (n > MAXB)
		n = MAXB; /* callers' batches are never larger */
	for (unsigned i = 0; i < n; i++)
		if (r[i].slot == QVL_CAT_SLOT_REMOTE)
			remote[nr++] = i;
	if (!nr) { /* a mount without a remote tier: the store's batch */
		qvl_nvme_read_each(tm->cfg.nvme, r, n, done, arg);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (r[i].slot != QVL_CAT_SLOT_REMOTE) {
			lp.map[nl] = i;
			lp.req[nl++] = r[i];
		}
	}
	/* The network first: its frames decode on the crew while the disk
	 * reads the store's. */
	read_remote(tm, r, keys, remote, nr, done, arg);
	if (!nl)
		return;
	qvl_nvme_read_each(tm->cfg.nvme, lp.req, nl, local_arrived, &lp);
}

int qvl_tm_decode_checked(struct qvl_codec_ctx *ctx,
			  const struct qvl_nvme_req *r,
			  const struct qvl_rkey *key, size_t chunk, void *dst,
			  size_t *out)
{
	int rc = qvl_tm_decode_frame(ctx, r, chunk, dst, out);
	if (!rc && r->slot == QVL_CAT_SLOT_REMOTE && key)
		rc = qvl_rkey_check(key, dst, chunk);
	return rc;
}

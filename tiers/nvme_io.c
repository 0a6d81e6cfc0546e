/*
 * nvme_io.c - batched frame reads and writes through the store's io_uring.
 *
 * HOW A BATCH RUNS
 *
 * Each request becomes one read or write of qvl_nvme_padded(len) bytes at
 * its slot's offset.  Up to queue_depth of them are in flight at once: the
 * loop fills the submission queue from a FIFO of "ready" requests (first
 * the new ones in order, then resubmissions), submits, waits for at least
 * one completion and reaps all there are.  A completion that moved fewer
 * bytes than asked re-queues the remainder; -EAGAIN and -EINTR re-queue it
 * unchanged; a read that meets end of file before @len bytes is -EIO.  A
 * request's descriptor is pinned from its first submission to its end, so
 * the descriptor cache never closes it under the kernel.
 *
 * Should io_uring_submit() itself fail for good, the requests that never
 * reached the kernel fail with that error, the ones that did are waited
 * for, and the ring is rebuilt so no stale submission survives the call.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvme_i.h"
#include "qvl_fault.h"
#include "qvl_record.h"

struct nvme_op {
	struct qvl_nvme_fd *fde; /* pinned while the request runs */
	uint64_t off;	/* of the slot */
	uint32_t want;	/* padded length */
	uint32_t done;	/* bytes moved so far */
	bool finished;
	bool in_kernel;	/* submitted, completion not yet reaped */
};

struct nvme_batch {
	struct qvl_nvme *n;
	struct qvl_nvme_req *reqs;
	struct nvme_op *ops;
	unsigned count;
	bool write;
	unsigned *fifo;	/* ring of request indexes ready to (re)submit */
	unsigned head, len;
	unsigned next_new;	/* requests below this were started */
	unsigned queued;	/* SQEs prepared, not yet submitted */
	unsigned in_kernel;	/* submitted, not yet reaped */
	qvl_nvme_done_fn done;	/* called as each request finishes */
	void *done_arg;
};

int qvl_nvme_ring_init(struct qvl_nvme *n)
{
	int rc = io_uring_queue_init(n->queue_depth, &n->ring, 0);

	n->ring_ok = !rc;
	n->fixed_ok = !rc && n->nfixed &&
		      !io_uring_register_buffers(&n->ring, n->fixed, n->nfixed);
	return rc;
}

int qvl_nvme_fix_buffers(struct qvl_nvme *n, const struct iovec *iov,
			 unsigned count)
{
	if (count > QVL_NVME_FIXED_MAX)
		return -EINVAL;
	pthread_mutex_lock(&n->lock);
	if (n->fixed_ok)
		io_uring_unregister_buffers(&n->ring);
	if (count)
		memcpy(n->fixed, iov, count * sizeof(*iov));
	n->nfixed = count;
	int rc = n->ring_ok && count
			 ? io_uring_register_buffers(&n->ring, n->fixed, count)
			 : 0;
	n->fixed_ok = n->ring_ok && count && !rc;
	pthread_mutex_unlock(&n->lock);
	return rc;
}

/* The registered buffer [@buf, @buf + @len) lies in, or -1. */
static int fixed_index(const struct qvl_nvme *n, const char *buf, size_t len)
{
	for (unsigned k = 0; n->fixed_ok && k < n->nfixed; k++) {
		const char *base = n->fixed[k].iov_base;
		if (buf >= base && len <= n->fixed[k].iov_len &&
		    (size_t)(buf - base) <= n->fixed[k].iov_len - len)
			return (int)k;
	}
	return -1;
}

static void finish(struct nvme_batch *b, unsigned i, int result)
{
	struct nvme_op *op = &b->ops[i];

	op->finished = true;
	b->reqs[i].result = result;
	if (op->fde) {
		op->fde->pins--;
		op->fde = NULL;
	}
	if (b->done)
		b->done(b->done_arg, i);
}

/* Validate and open request @i; false if it finished already. */
static bool start(struct nvme_batch *b, unsigned i)
{
	struct qvl_nvme_req *r = &b->reqs[i];
	struct nvme_op *op = &b->ops[i];
	int rc;

	if (r->len > b->n->slot_size || (r->len && !r->buf) ||
	    ((uintptr_t)r->buf & (QVL_NVME_ALIGN - 1))) {
		finish(b, i, -EINVAL);
		return false;
	}
	rc = qvl_nvme_slot_off(b->n, r->idx, r->slot, &op->off);
	if (!rc)
		rc = qvl_nvme_fd_get(b->n, r->ino, b->write, &op->fde);
	if (rc) {
		finish(b, i, rc);
		return false;
	}
	op->fde->pins++;
	op->want = (uint32_t)qvl_nvme_padded(r->len);
	if (!op->want) {
		finish(b, i, 0); /* nothing to move; a write made the file */
		return false;
	}
	if (b->write && op->want > r->len)
		memset((char *)r->buf + r->len, 0, op->want - r->len);
	return true;
}

static void fifo_push(struct nvme_batch *b, unsigned i)
{
	b->fifo[(b->head + b->len++) % b->count] = i;
}

/* Prepare SQEs for ready requests until the queue depth is reached. */
static void fill(struct nvme_batch *b)
{
	struct io_uring *ring = &b->n->ring;

	while (b->queued + b->in_kernel < b->n->queue_depth) {
		struct io_uring_sqe *sqe;
		struct nvme_op *op;
		unsigned i;
		char *buf;

		if (!b->len) {
			if (b->next_new == b->count)
				return;
			i = b->next_new++;
			if (!start(b, i))
				continue;
			fifo_push(b, i);
		}
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			return;
		i = b->fifo[b->head];
		b->head = (b->head + 1) % b->count;
		b->len--;
		op = &b->ops[i];
		buf = (char *)b->reqs[i].buf + op->done;
		unsigned len = op->want - op->done;
		int k = fixed_index(b->n, buf, len);
		if (b->write && k >= 0)
			io_uring_prep_write_fixed(sqe, op->fde->fd, buf, len,
						  op->off + op->done, k);
		else if (b->write)
			io_uring_prep_write(sqe, op->fde->fd, buf, len,
					    op->off + op->done);
		else if (k >= 0)
			io_uring_prep_read_fixed(sqe, op->fde->fd, buf, len,
						 op->off + op->done, k);
		else
			io_uring_prep_read(sqe, op->fde->fd, buf, len,
					   op->off + op->done);
		io_uring_sqe_set_data64(sqe, i);
		op->in_kernel = true;
		b->queued++;
	}
}

/*
 * An injected fault (tiers/qvl_fault.h) on request @i, whose transfer the
 * kernel answered with @res.  A failed write leaves garbage where it went,
 * and a failed read garbage in the buffer, as a failing disk may: a caller
 * that used either despite the error would then be caught by the checks.
 */
static int fault(struct nvme_batch *b, unsigned i, int res)
{
	struct nvme_op *op = &b->ops[i];
	int said = qvl_fault_io(b->write ? QVL_FAULT_WRITE : QVL_FAULT_READ, res);
	if (said >= 0 || res <= 0)
		return said;
	if (b->write) {
		/* Aligned for an O_DIRECT descriptor; under n->lock. */
		static _Alignas(QVL_NVME_ALIGN) char junk[QVL_NVME_ALIGN];
		memset(junk, 0xee, sizeof(junk));
		for (int k = 0; k < res; k += (int)sizeof(junk)) {
			size_t len = (size_t)(res - k) < sizeof(junk) ?
					     (size_t)(res - k) : sizeof(junk);
			off_t at = (off_t)(op->off + op->done) + k;
			if (pwrite(op->fde->fd, junk, len, at) < 0)
				break; /* O_DIRECT alignment: the fault stands */
			qvl_record_at(op->fde->fd, NULL, 'W', (uint64_t)at,
				      len, junk);
		}
	} else {
		memset((char *)b->reqs[i].buf + op->done, 0xee, (size_t)res);
	}
	return said;
}

static void complete(struct nvme_batch *b, unsigned i, int res)
{
	struct nvme_op *op = &b->ops[i];
	uint32_t len = b->reqs[i].len;

	op->in_kernel = false;
	if (op->finished)
		return; /* failed when submission broke down */
	if (b->write && res > 0 && qvl_record_on())
		qvl_record_at(op->fde->fd, NULL, 'W', op->off + op->done,
			      (uint64_t)res, (char *)b->reqs[i].buf + op->done);
	if (qvl_fault_armed())
		res = fault(b, i, res);
	if (res == -EAGAIN || res == -EINTR) {
		fifo_push(b, i);
		return;
	}
	if (res < 0) {
		finish(b, i, res);
		return;
	}
	if (res == 0) {
		/* EOF on read; a write that moves nothing won't move more. */
		finish(b, i, !b->write && op->done >= len ? 0 : -EIO);
		return;
	}
	op->done += (uint32_t)res;
	/* A read needs the frame, not its padding. */
	if (op->done >= op->want || (!b->write && op->done >= len))
		finish(b, i, 0);
	else
		fifo_push(b, i);
}

static void reap(struct nvme_batch *b)
{
	struct io_uring_cqe *cqe;

	while (!io_uring_peek_cqe(&b->n->ring, &cqe)) {
		unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&b->n->ring, cqe);
		b->in_kernel--;
		complete(b, i, res);
	}
}

/* Submission failed with @err for good: see the header comment. */
static int abandon(struct nvme_batch *b, int err)
{
	struct io_uring_cqe *cqe;
	unsigned i;

	for (i = 0; i < b->count; i++) {
		if (i >= b->next_new)
			b->reqs[i].result = err;
		else if (!b->ops[i].finished)
			finish(b, i, err);
	}
	while (b->in_kernel) {
		int rc = io_uring_wait_cqe(&b->n->ring, &cqe);

		if (rc == -EINTR || rc == -EAGAIN)
			continue;
		if (rc)
			break; /* the ring is gone; nothing more will come */
		io_uring_cqe_seen(&b->n->ring, cqe);
		b->in_kernel--;
	}
	io_uring_queue_exit(&b->n->ring);
	qvl_nvme_ring_init(b->n);
	return err;
}

static int run(struct nvme_batch *b)
{
	struct io_uring *ring = &b->n->ring;

	for (;;) {
		int rc;

		fill(b);
		if (!b->queued && !b->in_kernel)
			return 0;
		rc = io_uring_submit_and_wait(ring, b->in_kernel ? 1 : 0);
		/* What the kernel consumed is in flight, even on error. */
		b->in_kernel += b->queued - io_uring_sq_ready(ring);
		b->queued = io_uring_sq_ready(ring);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
			return abandon(b, rc);
		if (rc < 0 && !b->in_kernel)
			sched_yield(); /* nothing to wait for: just retry */
		if (rc >= 0 && b->in_kernel && !io_uring_cq_ready(ring)) {
			struct io_uring_cqe *cqe;

			rc = io_uring_wait_cqe(ring, &cqe);
			if (rc && rc != -EINTR && rc != -EAGAIN)
				return abandon(b, rc);
		}
		reap(b);
	}
}

static int batch(struct qvl_nvme *n, struct qvl_nvme_req *reqs,
		 unsigned count, bool write, qvl_nvme_done_fn done,
		 void *done_arg)
{
	struct nvme_batch b = { .n = n, .reqs = reqs, .count = count,
				.write = write, .done = done,
				.done_arg = done_arg };
	unsigned i;
	int rc;

	if (!count)
		return 0;
	b.ops = calloc(count, sizeof(*b.ops));
	b.fifo = calloc(count, sizeof(*b.fifo));
	if (!b.ops || !b.fifo) {
		rc = -ENOMEM;
		goto out_free;
	}
	pthread_mutex_lock(&n->lock);
	if (!n->ring_ok && qvl_nvme_ring_init(n)) {
		rc = -EIO;
		goto out_unlock;
	}
	rc = run(&b);
	qvl_nvme_fd_trim(n);
out_unlock:
	pthread_mutex_unlock(&n->lock);
	if (rc)
		goto out_free;
	for (i = 0; i < count; i++) {
		if (reqs[i].result) {
			rc = reqs[i].result;
			break;
		}
	}
	free(b.fifo);
	free(b.ops);
	return rc;

out_free:
	for (i = 0; i < count; i++) {
		reqs[i].result = rc;
		if (done && (!b.ops || !b.ops[i].finished))
			done(done_arg, i);
	}
	free(b.fifo);
	free(b.ops);
	return rc;
}

int qvl_nvme_read(struct qvl_nvme *n, struct qvl_nvme_req *reqs,
		  unsigned count)
{
	return batch(n, reqs, count, false, NULL, NULL);
}

int qvl_nvme_read_each(struct qvl_nvme *n, struct qvl_nvme_req *reqs,
		       unsigned count, qvl_nvme_done_fn done, void *arg)
{
	return batch(n, reqs, count, false, done, arg);
}

int qvl_nvme_write(struct qvl_nvme *n, struct qvl_nvme_req *reqs,
		   unsigned count)
{
	return batch(n, reqs, count, true, NULL, NULL);
}

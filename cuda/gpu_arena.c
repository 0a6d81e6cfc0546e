/*
 * gpu_arena.c - the GPU tier's arena and staging ring, over a device
 * (gpu_dev.h): CUDA's runtime, or the test device.
 *
 * The arena is one device allocation, claimed at mount and carved by the
 * buddy allocator: one cudaMalloc instead of one per tensor (cudaMalloc
 * synchronizes the device, and its own rounding wastes memory), one IPC
 * handle that every consumer opens once, whole tensors contiguous.
 *
 * Uploads go through a ring of pinned buffers: a copy from pageable memory
 * is staged by the driver anyway, synchronously.  Buffer k's copy runs on
 * stream k % 2 and records event k; the buffer is handed out again only
 * after that event, so the caller fills (decodes into) one buffer while
 * the copies of the others run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_dev.h"
#include "qvl_gpu.h"

/* The smallest block: 64 KiB keeps the buddy's bookkeeping under 20 bytes
 * per 64 KiB of arena (1 MiB for 3 GiB) and every tensor aligned far past
 * what a vector load needs. */
#define ARENA_MIN_SHIFT 16

struct qvl_gpu {
	const struct qvl_gpu_dev *dev;
	void *ctx;
	char *base; /* the arena, a device address */
	struct qvl_buddy buddy;
	void *stage[QVL_GPU_STAGE_MAX];
	uint8_t stage_busy[QVL_GPU_STAGE_MAX];
	unsigned nstage, next_stage;
	size_t stage_bytes;
	struct qvl_gpu_stats st;
};

static const struct qvl_gpu_dev *pick_device(void)
{
	const char *fake = getenv("QVL_GPU_FAKE");
	if (fake && *fake)
		return &qvl_gpu_dev_fake;
	return qvl_gpu_dev_cuda;
}

int qvl_gpu_available(void)
{
	return pick_device() != NULL;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int qvl_gpu_open(const struct qvl_gpu_config *cfg, struct qvl_gpu **out,
		 char *why, size_t whycap)
{
	const struct qvl_gpu_dev *dev = pick_device();
	*out = NULL;
	if (whycap)
		why[0] = '\0';
	if (!dev) {
		snprintf(why, whycap, "this build has no CUDA (make found no "
				      "nvcc, or CUDA=0)");
		return -ENODEV;
	}
	unsigned nstage = cfg->stage_count ? cfg->stage_count : 4;
	size_t sbytes = cfg->stage_bytes ? cfg->stage_bytes : 4u << 20;
	if (nstage < 2 || nstage > QVL_GPU_STAGE_MAX || sbytes < 4096 ||
	    (!cfg->budget && (!cfg->percent || cfg->percent > 100)))
		return -EINVAL;
	struct qvl_gpu *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->dev = dev;
	g->nstage = nstage;
	g->stage_bytes = sbytes;
	g->st.dev = cfg->dev;
	g->st.fake = dev == &qvl_gpu_dev_fake;
	uint64_t free_bytes = 0;
	int rc = dev->open(cfg->dev, nstage, &g->ctx, &free_bytes,
			   g->st.device, sizeof(g->st.device), why, whycap);
	if (rc) {
		free(g);
		return rc;
	}
	uint64_t want = cfg->budget ? cfg->budget
				    : free_bytes / 100 * cfg->percent +
					      free_bytes % 100 * cfg->percent / 100;
	want &= ~((1ull << ARENA_MIN_SHIFT) - 1);
	rc = qvl_buddy_init(&g->buddy, want, ARENA_MIN_SHIFT);
	if (rc) {
		snprintf(why, whycap, "gpu arena of %llu bytes: too small",
			 (unsigned long long)want);
		goto fail;
	}
	rc = dev->dalloc(g->ctx, want, (void **)&g->base);
	if (rc) {
		snprintf(why, whycap, "cannot allocate %llu bytes on the "
				      "device (%llu free)",
			 (unsigned long long)want,
			 (unsigned long long)free_bytes);
		goto fail;
	}
	for (unsigned k = 0; k < nstage; k++) {
		rc = dev->halloc(g->ctx, sbytes, &g->stage[k]);
		if (rc) {
			snprintf(why, whycap, "cannot pin %zu bytes of host "
					      "memory for staging", sbytes);
			goto fail;
		}
	}
	*out = g;
	return 0;
fail:
	qvl_gpu_close(g);
	return rc;
}

void qvl_gpu_close(struct qvl_gpu *g)
{
	if (!g)
		return;
	if (g->ctx) {
		g->dev->sync(g->ctx);
		for (unsigned k = 0; k < g->nstage; k++)
			if (g->stage[k])
				g->dev->hfree(g->ctx, g->stage[k]);
		if (g->base)
			g->dev->dfree(g->ctx, g->base);
		g->dev->close(g->ctx);
	}
	qvl_buddy_fini(&g->buddy);
	free(g);
}

int qvl_gpu_alloc(struct qvl_gpu *g, uint64_t len, uint64_t *off)
{
	return qvl_buddy_alloc(&g->buddy, len, off);
}

void qvl_gpu_free(struct qvl_gpu *g, uint64_t off)
{
	qvl_buddy_free(&g->buddy, off);
}

uint64_t qvl_gpu_block_size(const struct qvl_gpu *g, uint64_t len)
{
	return qvl_buddy_block_size(&g->buddy, len);
}

void qvl_gpu_up_begin(struct qvl_gpu *g, struct qvl_gpu_up *up, uint64_t dst,
		      uint64_t len)
{
	*up = (struct qvl_gpu_up){ .gpu = g, .dst = dst, .len = len };
	up->t0 = now_ns();
	if (dst > g->buddy.size || len > g->buddy.size - dst)
		up->rc = -EINVAL;
}

void *qvl_gpu_up_buf(struct qvl_gpu_up *up, size_t *cap)
{
	struct qvl_gpu *g = up->gpu;
	unsigned k = g->next_stage++ % g->nstage;
	if (g->stage_busy[k]) {
		/* Its last copy may still read it: wait for that one only. */
		g->st.stage_waits++;
		int rc = g->dev->wait(g->ctx, k);
		if (rc && !up->rc)
			up->rc = rc;
		g->stage_busy[k] = 0;
	}
	up->cur = k;
	*cap = g->stage_bytes;
	return g->stage[k];
}

void qvl_gpu_up_send(struct qvl_gpu_up *up, size_t n)
{
	struct qvl_gpu *g = up->gpu;
	unsigned k = up->cur;
	if (up->rc)
		return;
	if (n > g->stage_bytes || n > up->len - up->sent) {
		up->rc = -EINVAL;
		return;
	}
	unsigned s = k % QVL_GPU_STREAMS;
	int rc = g->dev->h2d_async(g->ctx, g->base + up->dst + up->sent,
				   g->stage[k], n, s);
	if (!rc)
		rc = g->dev->record(g->ctx, k, s);
	if (rc) {
		up->rc = rc;
		return;
	}
	g->stage_busy[k] = 1;
	up->used |= 1u << k;
	up->sent += n;
}

int qvl_gpu_up_wait(struct qvl_gpu_up *up)
{
	struct qvl_gpu *g = up->gpu;
	/* Each event may have been recorded again by a later upload: then
	 * this waits for that copy too, longer but never too short. */
	for (unsigned k = 0; k < g->nstage; k++) {
		if (!(up->used & 1u << k))
			continue;
		int rc = g->dev->wait(g->ctx, k);
		if (rc && !up->rc)
			up->rc = rc;
	}
	up->waited = 1;
	return up->rc;
}

int qvl_gpu_up_end(struct qvl_gpu_up *up)
{
	struct qvl_gpu *g = up->gpu;
	/* After an up_wait() the buffers stay marked busy: another upload
	 * may have sent through one meanwhile, and its next user waits for
	 * the event (at once when the copy is done). */
	for (unsigned k = 0; !up->waited && k < g->nstage; k++) {
		if (!(up->used & 1u << k))
			continue;
		int rc = g->dev->wait(g->ctx, k);
		if (rc && !up->rc)
			up->rc = rc;
		g->stage_busy[k] = 0;
	}
	if (!up->rc) {
		g->st.uploads++;
		g->st.upload_bytes += up->sent;
		g->st.upload_ns += now_ns() - up->t0;
	}
	return up->rc;
}

int qvl_gpu_upload(struct qvl_gpu *g, uint64_t dst, const void *src,
		   uint64_t len, size_t piece)
{
	struct qvl_gpu_up up;
	qvl_gpu_up_begin(g, &up, dst, len);
	for (uint64_t done = 0; done < len && !up.rc;) {
		size_t cap;
		char *p = qvl_gpu_up_buf(&up, &cap);
		size_t n = piece && piece < cap ? piece : cap;
		if (n > len - done)
			n = (size_t)(len - done);
		if (src)
			memcpy(p, (const char *)src + done, n);
		else
			memset(p, 0, n);
		qvl_gpu_up_send(&up, n);
		done += n;
	}
	return qvl_gpu_up_end(&up);
}

int qvl_gpu_download(struct qvl_gpu *g, uint64_t off, void *dst,
		     uint64_t len)
{
	if (off > g->buddy.size || len > g->buddy.size - off)
		return -EINVAL;
	return g->dev->d2h(g->ctx, dst, g->base + off, len);
}

int qvl_gpu_ipc_handle(struct qvl_gpu *g, char *hex)
{
	unsigned char h[QVL_GPU_HANDLE_BYTES];
	if (!g->dev->ipc)
		return -ENOTSUP;
	int rc = g->dev->ipc(g->ctx, g->base, h);
	if (rc)
		return rc;
	for (unsigned i = 0; i < sizeof(h); i++)
		sprintf(hex + 2 * i, "%02x", h[i]);
	return 0;
}

void qvl_gpu_stats(const struct qvl_gpu *g, struct qvl_gpu_stats *st)
{
	*st = g->st;
	qvl_buddy_stats(&g->buddy, &st->arena);
}

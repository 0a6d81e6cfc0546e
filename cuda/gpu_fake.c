/*
 * gpu_fake.c - the test device: what the GPU tier asks of CUDA, done in
 * host memory, so the suite drives the arena, the staging ring and the
 * daemon's GPU tier on machines without a GPU.  Never a user's choice: it
 * is picked only when QVL_GPU_FAKE is set (gpu_dev.h).
 *
 * Asynchronous like the real thing: each stream is a thread working
 * through its queue in order (copies, event records), so a caller that
 * reuses a staging buffer before its copy ran uploads wrong bytes, which
 * the tests see; QVL_GPU_FAKE_DELAY_US slows each copy to make that
 * likely.  QVL_GPU_FAKE=/path puts the arena in that file (shared
 * mapping), so a test reads what landed where; any other value keeps it in
 * anonymous memory; its "IPC handle" carries the path (fake_ipc).
 * QVL_GPU_FAKE_FREE sets the free memory it reports
 * (bytes; default 1 GiB); while the file QVL_GPU_FAKE_FAIL_IF names
 * exists, copies fail (EIO), as a device that went away.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gpu_dev.h"
#include "qvl_gpu.h"

#define QUEUE_MAX 64

struct op {
	void *dst;
	const void *src;
	size_t len;
	int event; /* >= 0: record this event, no copy */
	uint64_t ticket;
};

struct stream {
	pthread_t thread;
	struct op q[QUEUE_MAX];
	unsigned head, n;
	int busy;
};

struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* any change: queued, done, stopping */
	struct stream s[QVL_GPU_STREAMS];
	unsigned nevents;
	uint64_t ticket;
	uint64_t recorded[QVL_GPU_STAGE_MAX], done[QVL_GPU_STAGE_MAX];
	int stop;
	unsigned delay_us;
	char *path; /* the arena's file, or NULL */
	int fd;
	uint64_t arena_len;
};

struct start {
	struct fake *f;
	unsigned s;
};

static void *stream_main(void *arg)
{
	struct start *st = arg;
	struct fake *f = st->f;
	struct stream *s = &f->s[st->s];
	free(st);
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!s->n && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (!s->n)
			break;
		struct op o = s->q[s->head];
		s->busy = 1;
		pthread_mutex_unlock(&f->mu);
		if (o.event < 0) {
			if (f->delay_us)
				usleep(f->delay_us);
			memcpy(o.dst, o.src, o.len);
		}
		pthread_mutex_lock(&f->mu);
		if (o.event >= 0)
			f->done[o.event] = o.ticket;
		s->head = (s->head + 1) % QUEUE_MAX;
		s->n--;
		s->busy = 0;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void fake_close(void *ctx)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	for (unsigned i = 0; i < QVL_GPU_STREAMS; i++)
		if (f->s[i].thread)
			pthread_join(f->s[i].thread, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->path);
	free(f);
}

static int fake_open(int dev, unsigned events, void **ctx,
		     uint64_t *free_bytes, char *name, size_t namecap,
		     char *why, size_t whycap)
{
	if (dev != 0) {
		snprintf(why, whycap, "the test device is device 0 only");
		return -ENODEV;
	}
	struct fake *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->nevents = events;
	f->fd = -1;
	const char *v = getenv("QVL_GPU_FAKE");
	if (v && v[0] == '/' && !(f->path = strdup(v))) {
		fake_close(f);
		return -ENOMEM;
	}
	const char *d = getenv("QVL_GPU_FAKE_DELAY_US");
	f->delay_us = d ? (unsigned)strtoul(d, NULL, 10) : 0;
	const char *fr = getenv("QVL_GPU_FAKE_FREE");
	*free_bytes = fr ? strtoull(fr, NULL, 0) : 1ull << 30;
	snprintf(name, namecap, "test device (host memory%s%s)",
		 f->path ? ", arena in " : "", f->path ? f->path : "");
	for (unsigned i = 0; i < QVL_GPU_STREAMS; i++) {
		struct start *st = malloc(sizeof(*st));
		if (st)
			*st = (struct start){ f, i };
		if (!st || pthread_create(&f->s[i].thread, NULL, stream_main,
					  st)) {
			free(st);
			f->s[i].thread = 0;
			fake_close(f);
			return -ENOMEM;
		}
	}
	*ctx = f;
	return 0;
}

static int fake_dalloc(void *ctx, uint64_t len, void **base)
{
	struct fake *f = ctx;
	if (!f->path) {
		*base = mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			     0);
		if (*base == MAP_FAILED)
			return -ENOMEM;
		f->arena_len = len;
		return 0;
	}
	f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return -errno;
	if (ftruncate(f->fd, (off_t)len)) {
		int e = errno;
		close(f->fd);
		f->fd = -1;
		return -e;
	}
	*base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (*base == MAP_FAILED) {
		close(f->fd);
		f->fd = -1;
		return -ENOMEM;
	}
	f->arena_len = len;
	return 0;
}

static void fake_dfree(void *ctx, void *base)
{
	struct fake *f = ctx;
	munmap(base, f->arena_len);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static int fake_halloc(void *ctx, size_t len, void **p)
{
	(void)ctx;
	*p = malloc(len);
	return *p ? 0 : -ENOMEM;
}

static void fake_hfree(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static int enqueue(struct fake *f, unsigned si, struct op o)
{
	struct stream *s = &f->s[si];
	pthread_mutex_lock(&f->mu);
	while (s->n == QUEUE_MAX) /* a full queue blocks, as CUDA's does */
		pthread_cond_wait(&f->cv, &f->mu);
	o.ticket = ++f->ticket;
	if (o.event >= 0)
		f->recorded[o.event] = o.ticket;
	s->q[(s->head + s->n) % QUEUE_MAX] = o;
	s->n++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int fake_h2d_async(void *ctx, void *dst, const void *src, size_t len,
			  unsigned stream)
{
	/* A test makes copies fail while this file exists. */
	const char *fail = getenv("QVL_GPU_FAKE_FAIL_IF");
	if (stream >= QVL_GPU_STREAMS)
		return -EINVAL;
	if (fail && *fail && access(fail, F_OK) == 0)
		return -EIO;
	return enqueue(ctx, stream,
		       (struct op){ .dst = dst, .src = src, .len = len,
				    .event = -1 });
}

static int fake_record(void *ctx, unsigned event, unsigned stream)
{
	struct fake *f = ctx;
	if (stream >= QVL_GPU_STREAMS || event >= f->nevents)
		return -EINVAL;
	return enqueue(f, stream, (struct op){ .event = (int)event });
}

static int fake_wait(void *ctx, unsigned event)
{
	struct fake *f = ctx;
	if (event >= f->nevents)
		return -EINVAL;
	pthread_mutex_lock(&f->mu);
	while (f->done[event] < f->recorded[event])
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int fake_sync(void *ctx)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		int idle = 1;
		for (unsigned i = 0; i < QVL_GPU_STREAMS; i++)
			idle &= !f->s[i].n && !f->s[i].busy;
		if (idle)
			break;
		pthread_cond_wait(&f->cv, &f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int fake_d2h(void *ctx, void *dst, const void *src, size_t len)
{
	fake_sync(ctx); /* as cudaMemcpy on the legacy stream */
	memcpy(dst, src, len);
	return 0;
}

/* Not a CUDA handle: a marker and the arena file's path (when it fits),
 * so libqvlmem_cuda can map the test device's arena into a test. */
static int fake_ipc(void *ctx, void *base, unsigned char *out)
{
	struct fake *f = ctx;
	(void)base;
	memset(out, 0, QVL_GPU_HANDLE_BYTES);
	memcpy(out, "qvlfake", 8);
	if (f->path && strlen(f->path) < QVL_GPU_HANDLE_BYTES - 8)
		memcpy(out + 8, f->path, strlen(f->path));
	return 0;
}

const struct qvl_gpu_dev qvl_gpu_dev_fake = {
	.kind = "fake",
	.open = fake_open,
	.close = fake_close,
	.dalloc = fake_dalloc,
	.dfree = fake_dfree,
	.halloc = fake_halloc,
	.hfree = fake_hfree,
	.h2d_async = fake_h2d_async,
	.d2h = fake_d2h,
	.record = fake_record,
	.wait = fake_wait,
	.sync = fake_sync,
	.ipc = fake_ipc,
};

/*
 * bg.c - the daemon's background threads.
 *
 * The flusher wakes every flush_ms, writes dirty chunks and stale catalog
 * rows and commits: it bounds how old the data a crash can lose may be.
 *
 * The invalidator drops the kernel's page cache for chunks the tier
 * manager moved out of RAM, so the memory a mount costs stays near its
 * budget.  The tier manager reports evictions under fs->lock; the drop
 * itself (fuse_lowlevel_notify_inval_inode) may wait for reads that need
 * fs->lock, so it happens here, holding no lock of ours.
 *
 * The lifetime collector (ttl.c) has its own thread, on its own second
 * (the flusher's period may be a minute), and so has the memory-pressure
 * watcher (pressure.c), which waits in poll(); they stop with the others,
 * and so does the tier manager's mover (tiers/mover.c), which writes dirty
 * chunks back ahead of need.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_tier.h"
#include "ops_i.h"
#include "pressure.h"
#include "ttl.h"

/* A page-cache range to drop, or (name) a directory entry the kernel may
 * have cached as absent. */
struct qvl_inval {
	uint64_t ino, off, len;
	char *name;
};

/* Past this many pending drops, forget the newest: a dropped drop costs
 * memory for a while, never correctness. */
#define INVAL_MAX 8192

void qvl_bg_init(struct qvl_fs *fs)
{
	pthread_condattr_t ca;
	pthread_mutex_init(&fs->bg_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fs->bg_cond, &ca);
	pthread_condattr_destroy(&ca);
}

void qvl_bg_fini(struct qvl_fs *fs)
{
	qvl_bg_stop(fs);
	pthread_cond_destroy(&fs->bg_cond);
	pthread_mutex_destroy(&fs->bg_lock);
	for (size_t i = 0; i < fs->ninval; i++)
		free(fs->inval[i].name);
	free(fs->inval);
	fs->inval = NULL;
}

static void queue(struct qvl_fs *fs, struct qvl_inval e)
{
	pthread_mutex_lock(&fs->bg_lock);
	struct qvl_inval *last = fs->ninval ? &fs->inval[fs->ninval - 1] : NULL;
	if (last && !last->name && !e.name && last->ino == e.ino &&
	    last->off + last->len == e.off) {
		last->len += e.len; /* evictions come in runs: merge */
	} else if (fs->ninval < INVAL_MAX) {
		if (fs->ninval == fs->capinval) {
			size_t cap = fs->capinval ? fs->capinval * 2 : 64;
			struct qvl_inval *q = realloc(fs->inval, cap * sizeof(*q));
			if (!q)
				goto out_drop;
			fs->inval = q;
			fs->capinval = cap;
		}
		fs->inval[fs->ninval++] = e;
	} else {
		goto out_drop;
	}
	pthread_cond_broadcast(&fs->bg_cond);
	pthread_mutex_unlock(&fs->bg_lock);
	return;
out_drop:
	fs->inval_dropped++;
	pthread_mutex_unlock(&fs->bg_lock);
	free(e.name);
}

void qvl_bg_inval(struct qvl_fs *fs, uint64_t ino, uint64_t off, uint64_t len)
{
	queue(fs, (struct qvl_inval){ ino, off, len, NULL });
}

void qvl_bg_inval_entry(struct qvl_fs *fs, uint64_t parent, const char *name)
{
	char *copy = strdup(name);
	if (copy) /* else the kernel's cache times out on its own */
		queue(fs, (struct qvl_inval){ parent, 0, 0, copy });
}

static void *flusher(void *arg)
{
	struct qvl_fs *fs = arg;
	pthread_mutex_lock(&fs->bg_lock);
	while (!fs->bg_stop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += fs->flush_ms / 1000;
		t.tv_nsec += (long)(fs->flush_ms % 1000) * 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		int rc = 0;
		while (!fs->bg_stop && rc != ETIMEDOUT && !fs->recode_kick)
			rc = pthread_cond_timedwait(&fs->bg_cond, &fs->bg_lock, &t);
		if (fs->bg_stop)
			break;
		fs->recode_kick = 0;
		pthread_mutex_unlock(&fs->bg_lock);
		qvl_recode_run(fs);
		/* Durable: a commit lets the space of frames it no longer
		 * refers to be reused, and a commit that a power cut could
		 * still undo must not (the older catalog needs them). */
		qvl_persist_flush(fs, 1);
		pthread_mutex_lock(&fs->bg_lock);
	}
	pthread_mutex_unlock(&fs->bg_lock);
	return NULL;
}

static void *invalidator(void *arg)
{
	struct qvl_fs *fs = arg;
	struct qvl_inval *mine = NULL;
	size_t n = 0, cap = 0;
	pthread_mutex_lock(&fs->bg_lock);
	for (;;) {
		while (!fs->ninval && !fs->bg_stop)
			pthread_cond_wait(&fs->bg_cond, &fs->bg_lock);
		if (fs->bg_stop)
			break;
		/* Take the whole queue: swap buffers. */
		struct qvl_inval *q = fs->inval;
		size_t qcap = fs->capinval;
		n = fs->ninval;
		fs->inval = mine;
		fs->capinval = cap;
		fs->ninval = 0;
		mine = q;
		cap = qcap;
		pthread_mutex_unlock(&fs->bg_lock);
		for (size_t i = 0; i < n; i++) {
			if (mine[i].name) {
				fuse_lowlevel_notify_inval_entry(
					fs->se, mine[i].ino, mine[i].name,
					strlen(mine[i].name));
				free(mine[i].name);
				continue;
			}
			fuse_lowlevel_notify_inval_inode(fs->se, mine[i].ino,
							 (off_t)mine[i].off,
							 (off_t)mine[i].len);
		}
		pthread_mutex_lock(&fs->bg_lock);
	}
	pthread_mutex_unlock(&fs->bg_lock);
	free(mine);
	return NULL;
}

int qvl_bg_start(struct qvl_fs *fs)
{
	if (!fs->tm || fs->bg_running)
		return 0;
	fs->bg_stop = 0;
	if (pthread_create(&fs->flusher, NULL, flusher, fs))
		return -EAGAIN;
	fs->bg_running = 1;
	if (pthread_create(&fs->invalidator, NULL, invalidator, fs)) {
		qvl_bg_stop(fs);
		return -EAGAIN;
	}
	fs->bg_running = 2;
	if (qvl_ttl_start(fs) || qvl_pressure_start(fs) ||
	    qvl_tm_mover_start(fs->tm) || qvl_fs_gpu_pins_start(fs)) {
		qvl_bg_stop(fs);
		return -EAGAIN;
	}
	return 0;
}

void qvl_bg_stop(struct qvl_fs *fs)
{
	qvl_fs_gpu_pins_stop(fs);
	qvl_tm_mover_stop(fs->tm);
	pthread_mutex_lock(&fs->bg_lock);
	int running = fs->bg_running;
	fs->bg_stop = 1;
	fs->bg_running = 0;
	pthread_cond_broadcast(&fs->bg_cond);
	pthread_mutex_unlock(&fs->bg_lock);
	if (running >= 1)
		pthread_join(fs->flusher, NULL);
	if (running >= 2)
		pthread_join(fs->invalidator, NULL);
	qvl_ttl_stop(fs);
	qvl_pressure_stop(fs);
}

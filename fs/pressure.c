/*
 * pressure.c - the machine's memory pressure shrinks the RAM tier.
 *
 * HOW IT WORKS
 *
 * A thread watches the kernel's pressure stall information for memory
 * (/proc/pressure/memory, Documentation/accounting/psi.rst): it writes a
 * trigger ("some 150000 2000000": tasks stalled 150 ms within 2 s)
 * to the opened file and poll()s it for POLLPRI.  Where no trigger can be
 * set (no PSI triggers, no permission) it reads the file four times a
 * second instead and takes "some avg10" at or above PRESSURE_AVG10 as
 * pressure; so it does with QVL_PSI_FILE, a file a test writes avg10
 * lines to in the kernel's format (read, never written).  MemAvailable
 * under 1/20 of MemTotal is pressure too (QVL_MEMINFO_FILE stands in for
 * /proc/meminfo in tests).
 *
 * Under pressure, at most once a second, the effective RAM target drops
 * by a quarter, never below ram_min=; the budget the pool enforces follows
 * and the tier manager makes room at once, coldest first (CLOCK for raw
 * chunks, LIRS for frames, the oldest page cache), in steps of 1/16 of the
 * budget per turn of fs->lock.  Once no pressure has been seen for
 * PRESSURE_CALM_S seconds and MemAvailable is over 1/10 of MemTotal, the
 * target grows back by 1/8 of ram= a second, up to ram=.
 *
 * What may not leave RAM (pinned or session data, dirty data with a full
 * store) can hold the pool above the target: the target is kept, and
 * writes that need RAM meet ENOSPC (or push other data out) until room
 * comes, as with any full budget.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pressure.h"

#define PSI_DEFAULT "/proc/pressure/memory"
/* 150 ms stalled within 2 s: a window of whole 2 s is what the kernel
 * accepts from a process without CAP_SYS_RESOURCE. */
#define PSI_TRIGGER "some 150000 2000000"
/* Polling: "some avg10" (percent of the last 10 s stalled) that counts. */
#define PRESSURE_AVG10 10.0
#define PRESSURE_CALM_S 3
/* How often the thread looks at its stop flag (and polls, without PSI). */
#define PRESSURE_TICK_MS 250

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* MemAvailable and MemTotal in kB; 0 when unknown. */
static void meminfo(uint64_t *avail, uint64_t *total)
{
	char line[128];
	*avail = *total = 0;
	const char *path = getenv("QVL_MEMINFO_FILE");
	FILE *f = fopen(path && *path ? path : "/proc/meminfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "MemAvailable: %llu", &v) == 1)
			*avail = v;
		else if (sscanf(line, "MemTotal: %llu", &v) == 1)
			*total = v;
	}
	fclose(f);
}

/* The "some avg10=" of a PSI file; -1 when it cannot be read. */
static double psi_avg10(const char *path)
{
	char line[256];
	double v = -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "some avg10=%lf", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int stopping(struct qvl_fs *fs)
{
	pthread_mutex_lock(&fs->bg_lock);
	int s = fs->bg_stop;
	pthread_mutex_unlock(&fs->bg_lock);
	return s;
}

/* Enforce @target: the budget comes down (or up) a step per lock turn. */
static void apply(struct qvl_fs *fs, uint64_t target)
{
	uint64_t step = fs->ram_budget / 16;
	for (;;) {
		pthread_mutex_lock(&fs->lock);
		uint64_t b = qvl_pool_budget(fs->pool);
		if (b > target + step)
			b -= step;
		else
			b = target;
		if (fs->tm)
			qvl_tm_set_budget(fs->tm, b); /* -ENOSPC: see above */
		else
			qvl_pool_set_budget(fs->pool, b);
		pthread_mutex_unlock(&fs->lock);
		if (b == target)
			break;
	}
	atomic_store(&fs->ram_target, target);
}

static void *watcher(void *arg)
{
	struct qvl_fs *fs = arg;
	const char *env = getenv("QVL_PSI_FILE");
	const char *path = env && *env ? env : PSI_DEFAULT;
	int fd = -1;
	/* A test's stand-in is read, never written: no trigger there. */
	if (!env || !*env) {
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 &&
		    write(fd, PSI_TRIGGER, strlen(PSI_TRIGGER) + 1) < 0) {
			close(fd); /* no trigger support here: poll */
			fd = -1;
		}
	}
	atomic_store(&fs->psi_trigger, fd >= 0);
	int64_t last_event = -1000000, last_shrink = -1000000, last_grow = 0;
	int64_t under_since = -1;
	while (!stopping(fs)) {
		int event = 0;
		if (fd >= 0) {
			struct pollfd p = { .fd = fd, .events = POLLPRI };
			int n = poll(&p, 1, PRESSURE_TICK_MS);
			if (n > 0 && (p.revents & POLLERR)) {
				close(fd); /* the trigger went away: poll */
				fd = -1;
				atomic_store(&fs->psi_trigger, 0);
			} else if (n > 0 && (p.revents & POLLPRI)) {
				event = 1;
			}
		} else {
			struct timespec t = { 0, PRESSURE_TICK_MS * 1000000L };
			nanosleep(&t, NULL);
			event = psi_avg10(path) >= PRESSURE_AVG10;
		}
		uint64_t avail, total;
		meminfo(&avail, &total);
		if (total && avail < total / 20)
			event = 1;
		int64_t now = now_ms();
		uint64_t target = atomic_load(&fs->ram_target);
		if (event) {
			last_event = now;
			if (under_since < 0)
				under_since = now;
			if (now - last_shrink >= 1000 && target > fs->ram_min) {
				uint64_t t = target - target / 4;
				apply(fs, t > fs->ram_min ? t : fs->ram_min);
				atomic_fetch_add(&fs->pressure_shrinks, 1);
				last_shrink = now;
			}
			continue;
		}
		if (now - last_event < PRESSURE_CALM_S * 1000 ||
		    (total && avail < total / 10))
			continue;
		if (under_since >= 0) {
			atomic_fetch_add(&fs->pressure_ms,
					 (uint64_t)(now - under_since));
			under_since = -1;
		}
		if (target < fs->ram_budget && now - last_grow >= 1000) {
			uint64_t t = target + fs->ram_budget / 8;
			apply(fs, t < fs->ram_budget ? t : fs->ram_budget);
			atomic_fetch_add(&fs->pressure_grows, 1);
			last_grow = now;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int qvl_pressure_start(struct qvl_fs *fs)
{
	if (!fs->ram_min || fs->ram_min > fs->ram_budget)
		fs->ram_min = fs->ram_budget / 4;
	/* Below two chunks nothing can be fetched (the mount's own minimum). */
	uint64_t floor = 2ull << fs->chunk_shift;
	if (fs->ram_min < floor)
		fs->ram_min = floor < fs->ram_budget ? floor : fs->ram_budget;
	atomic_store(&fs->ram_target, fs->ram_budget);
	if (pthread_create(&fs->pressure_thread, NULL, watcher, fs))
		return -EAGAIN;
	fs->pressure_running = 1;
	return 0;
}

void qvl_pressure_stop(struct qvl_fs *fs)
{
	if (fs->pressure_running)
		pthread_join(fs->pressure_thread, NULL);
	fs->pressure_running = 0;
}

void qvl_pressure_stats_text(struct qvl_fs *fs, FILE *f)
{
	fprintf(f, "pressure: target %" PRIu64 "  min %" PRIu64
		   "  shrinks %" PRIu64 "  grows %" PRIu64 "  seconds %.1f"
		   "  source %s\n",
		atomic_load(&fs->ram_target), fs->ram_min,
		atomic_load(&fs->pressure_shrinks),
		atomic_load(&fs->pressure_grows),
		(double)atomic_load(&fs->pressure_ms) / 1000,
		atomic_load(&fs->psi_trigger) ? "psi-trigger" : "polling");
}

void qvl_pressure_stats_json(struct qvl_fs *fs, FILE *f)
{
	fprintf(f, "\"pressure\":{\"ram_target\":%" PRIu64 ",\"ram_min\":%"
		   PRIu64 ",\"ram_max\":%" PRIu64 ",\"shrinks\":%" PRIu64
		   ",\"grows\":%" PRIu64 ",\"seconds\":%.1f,\"source\":\"%s\"},",
		atomic_load(&fs->ram_target), fs->ram_min, fs->ram_budget,
		atomic_load(&fs->pressure_shrinks),
		atomic_load(&fs->pressure_grows),
		(double)atomic_load(&fs->pressure_ms) / 1000,
		atomic_load(&fs->psi_trigger) ? "psi-trigger" : "polling");
}

/*
 * qvlctl_progress.c - the progress line of import and export:
 *   "  1.2 GiB / 3.4 GiB  35%  412.0 MiB/s  ETA 0:05"
 * on a terminal only, so logs and pipes stay clean.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "qvlctl_model.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void size_str(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void draw(struct qvlctl_progress *p, double t)
{
	char done[32], total[32], rate[32], eta[32] = "--:--";
	double dt = t - p->t0, r = dt > 0 ? (double)p->done / dt : 0;

	size_str((double)p->done, done, sizeof(done));
	size_str((double)p->total, total, sizeof(total));
	size_str(r, rate, sizeof(rate));
	if (r > 0 && p->total >= p->done) {
		unsigned s = (unsigned)((double)(p->total - p->done) / r);

		snprintf(eta, sizeof(eta), "%u:%02u", s / 60, s % 60);
	}
	fprintf(stderr, "\r  %s / %s  %3u%%  %s/s  ETA %s\033[K", done, total,
		p->total ? (unsigned)(100 * (double)p->done / (double)p->total) : 100,
		rate, eta);
	p->last = t;
}

void qvlctl_progress_start(struct qvlctl_progress *p, uint64_t total,
			   bool quiet)
{
	*p = (struct qvlctl_progress){ .total = total };
	p->on = !quiet && isatty(STDERR_FILENO);
	p->t0 = now();
}

void qvlctl_progress_add(struct qvlctl_progress *p, uint64_t n)
{
	double t;

	if (!p)
		return;
	p->done += n;
	if (!p->on)
		return;
	t = now();
	if (t - p->last >= 0.2)
		draw(p, t);
}

void qvlctl_progress_end(struct qvlctl_progress *p)
{
	if (!p->on)
		return;
	draw(p, now());
	fputc('\n', stderr);
	p->on = false;
}

/*
 * metrics.h - .qvl/metrics, the Prometheus text exposition format (0.0.4),
 * and the READ latency histograms it carries.
 *
 * A READ is timed from the handler's start to the end of its work (not
 * the reply) and filed under where its data came from, judged by the tier
 * manager's counters around the blob read (under fs->lock): a chunk
 * fetched from the store makes it "store", else a frame decoded from the
 * compressed RAM tier makes it "compressed_ram", else "raw_ram".  The
 * histograms are plain atomics: recording takes no lock.
 */
#ifndef QVL_METRICS_H
#define QVL_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum qvl_read_src {
	QVL_READ_RAW_RAM = 0,
	QVL_READ_COMPRESSED_RAM,
	QVL_READ_STORE,
	QVL_READ_NSRC
};

/* Upper bounds of the buckets, in seconds (metrics.c); one more counts
 * what lies above the last (le="+Inf"). */
#define QVL_READ_NBUCKETS 18

struct qvl_read_hist {
	/* per bucket, not cumulative: the renderer sums them */
	_Atomic uint64_t n[QVL_READ_NSRC][QVL_READ_NBUCKETS + 1];
	_Atomic uint64_t sum_ns[QVL_READ_NSRC];
};

struct qvl_tm_stats;
struct qvl_fs;

/* qvl_metrics_source() - where a READ's data came from, given the tier
 * manager's counters before and after its blob read. */
enum qvl_read_src qvl_metrics_source(const struct qvl_tm_stats *before,
				     const struct qvl_tm_stats *after);

/* qvl_metrics_read_done() - file one READ that started at @start
 * (CLOCK_MONOTONIC) under @src.  Any thread, no lock. */
void qvl_metrics_read_done(struct qvl_read_hist *h, enum qvl_read_src src,
			   const struct timespec *start);

/* qvl_metrics_render() - the whole exposition, a malloc'd NUL-terminated
 * buffer of *@len bytes (caller frees), or NULL when out of memory.
 * Takes fs->lock itself (through the stats snapshot). */
char *qvl_metrics_render(struct qvl_fs *fs, size_t *len);

#endif /* QVL_METRICS_H */

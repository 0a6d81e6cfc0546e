/*
 * stats_i.h - one snapshot of the filesystem's state, shared by the
 * renderings of .qvl/stats, .qvl/stats.json (stats.c) and .qvl/metrics
 * (metrics.c), so all three report the same things.
 */
#ifndef QVL_STATS_I_H
#define QVL_STATS_I_H

#include <stdio.h>

#include "fs_i.h"
#include "gpu_tier.h"

/* Codec policies (enum qvl_codec_pol) the snapshot counts files under. */
#define QVL_STATS_NCODEC (QVL_CPOL_F8E4M3 + 1)

struct qvl_stats_snap {
	struct qvl_pool_stats pool; /* used: less the page cache */
	struct qvl_tm_stats tm;
	uint64_t files, dirs, symlinks, bytes, inodes, enospc;
	uint64_t nvme_used, nvme_files, nvme_budget, ram_files;
	uint64_t remote_used, remote_files; /* frames only in the remote tier */
	uint64_t cat_errors, io_errors, orphans, dangling;
	int nvme;
	uint64_t ops[QVL_OP_COUNT];
	/* regular files by codec policy: count, logical and stored bytes */
	uint64_t codec_files[QVL_STATS_NCODEC];
	uint64_t codec_bytes[QVL_STATS_NCODEC];
	uint64_t codec_disk[QVL_STATS_NCODEC];
	int gpu; /* a GPU tier (gpu_tier.h): its arena and replicas */
	struct qvl_gpu_stats gpu_dev;
	struct qvl_gpu_counts gpu_reps;
};

/* @v bytes as "1.50 GiB" into @buf. */
const char *qvl_stats_human(uint64_t v, char *buf, size_t cap);

/* stats_gpu.c: the GPU tier's part of .qvl/stats and stats.json. */
void qvl_gpu_stats_text(struct qvl_fs *fs, const struct qvl_stats_snap *s,
			FILE *f);
void qvl_gpu_stats_json(const struct qvl_stats_snap *s, FILE *f);
/* Only with a GPU tier: its own lines after the tier table. */
void qvl_gpu_stats_detail(const struct qvl_stats_snap *s, FILE *f);

/* stats_remote.c: the remote tier's part of .qvl/stats and stats.json
 * (nothing without one). */
void qvl_remote_stats_text(struct qvl_fs *fs, const struct qvl_stats_snap *s,
			   FILE *f);
void qvl_remote_stats_json(struct qvl_fs *fs, const struct qvl_stats_snap *s,
			   FILE *f);

/* Fill @s; takes fs->lock (and walks the inode table under it). */
void qvl_stats_take(struct qvl_fs *fs, struct qvl_stats_snap *s);
/* Share of slot bytes lost to class rounding. */
double qvl_stats_frag_internal(const struct qvl_pool_stats *p);
/* Share of slots in live arenas that sit free. */
double qvl_stats_frag_external(const struct qvl_pool_stats *p);

#endif /* QVL_STATS_I_H */

/*
 * stats_gpu.c - the GPU tier's part of .qvl/stats and .qvl/stats.json:
 * the arena (buddy blocks, fragmentation, free blocks by size), the
 * replicas, and the staging ring's uploads.
 */
#include <inttypes.h>
#include <stdio.h>

#include "stats_i.h"

void qvl_gpu_stats_text(struct qvl_fs *fs, const struct qvl_stats_snap *s,
			FILE *f)
{
	char a[32], b[32];
	if (!s->gpu) {
		fprintf(f, "%-5s %-8s %12s %12s %6s %8s", "gpu", "absent", "-",
			"-", "-", "-");
		if (fs->gpu_asked) /* gpu= was given: why there is none */
			fprintf(f, "  (gpu=: %s)", fs->gpu_why);
		fprintf(f, "\n");
		return;
	}
	const struct qvl_buddy_stats *ar = &s->gpu_dev.arena;
	fprintf(f, "%-5s %-8s %12s %12s %5.1f%% %8" PRIu64 "\n", "gpu",
		"active", qvl_stats_human(ar->size, a, sizeof(a)),
		qvl_stats_human(ar->used, b, sizeof(b)),
		ar->size ? 100.0 * (double)ar->used / (double)ar->size : 0,
		s->gpu_reps.files);
}

void qvl_gpu_stats_detail(const struct qvl_stats_snap *s, FILE *f)
{
	if (!s->gpu)
		return;
	const struct qvl_buddy_stats *ar = &s->gpu_dev.arena;
	const struct qvl_gpu_counts *c = &s->gpu_reps;
	char a[32];
	fprintf(f, "gpu: %s, device %d: files %" PRIu64 " (pinned %" PRIu64
		   ", mapped %" PRIu64 ")  placed %" PRIu64 "  evicted %"
		   PRIu64 "  dropped %" PRIu64 "  refreshed %" PRIu64 "\n",
		s->gpu_dev.device, s->gpu_dev.dev, c->files, c->pinned,
		c->mapped, c->placed, c->evicted, c->dropped, c->refreshed);
	fprintf(f, "gpu arena: largest free %s  fragmentation internal "
		   "%.1f%% external %.1f%%  uploads %" PRIu64 " (%.0f MB/s)  "
		   "staging waits %" PRIu64 "\n",
		qvl_stats_human(ar->largest_free, a, sizeof(a)),
		100 * ar->frag_internal, 100 * ar->frag_external,
		s->gpu_dev.uploads,
		s->gpu_dev.upload_ns ? 1e3 * (double)s->gpu_dev.upload_bytes /
					       (double)s->gpu_dev.upload_ns
				     : 0.0,
		s->gpu_dev.stage_waits);
	fprintf(f, "gpu free blocks:");
	for (unsigned o = 0; o <= ar->max_order; o++)
		if (ar->free_blocks[o])
			fprintf(f, " %s x%" PRIu64,
				qvl_stats_human(1ull << (ar->min_shift + o), a,
						sizeof(a)),
				ar->free_blocks[o]);
	fprintf(f, "\n");
}

void qvl_gpu_stats_json(const struct qvl_stats_snap *s, FILE *f)
{
	const struct qvl_buddy_stats *ar = &s->gpu_dev.arena;
	const struct qvl_gpu_counts *c = &s->gpu_reps;
	if (!s->gpu) {
		fprintf(f, "\"gpu\":{\"present\":false,\"budget\":0,\"used\":0,"
			   "\"files\":0},");
		return;
	}
	fprintf(f, "\"gpu\":{\"present\":true,\"device\":%d,\"budget\":%"
		   PRIu64 ",\"used\":%" PRIu64 ",\"files\":%" PRIu64
		   ",\"bytes\":%" PRIu64 ",\"pinned\":%" PRIu64
		   ",\"mapped\":%" PRIu64 ",\"placed\":%" PRIu64
		   ",\"evicted\":%" PRIu64 ",\"dropped\":%" PRIu64
		   ",\"refreshed\":%" PRIu64 ",\"largest_free\":%" PRIu64
		   ",\"frag_internal\":%.4f,\"frag_external\":%.4f"
		   ",\"uploads\":%" PRIu64 ",\"upload_bytes\":%" PRIu64
		   ",\"upload_ns\":%" PRIu64 ",\"stage_waits\":%" PRIu64
		   ",\"fake\":%s,\"free_blocks\":{",
		s->gpu_dev.dev, ar->size, ar->used, c->files, c->bytes,
		c->pinned, c->mapped, c->placed, c->evicted, c->dropped,
		c->refreshed, ar->largest_free, ar->frag_internal,
		ar->frag_external, s->gpu_dev.uploads, s->gpu_dev.upload_bytes,
		s->gpu_dev.upload_ns, s->gpu_dev.stage_waits,
		s->gpu_dev.fake ? "true" : "false");
	int first = 1;
	for (unsigned o = 0; o <= ar->max_order; o++) {
		if (!ar->free_blocks[o])
			continue;
		fprintf(f, "%s\"%llu\":%" PRIu64, first ? "" : ",",
			1ull << (ar->min_shift + o), ar->free_blocks[o]);
		first = 0;
	}
	fprintf(f, "}},");
}

/*
 * metrics.c - .qvl/metrics: what .qvl/stats.json says, in the Prometheus
 * text exposition format 0.0.4, plus READ latency histograms.
 *
 * The format, as Prometheus' parser and node_exporter's textfile collector
 * read it: for each family one "# HELP name text" and one "# TYPE name
 * type" line before its samples, then "name{label="value",...} number".
 * Counters end in _total; a histogram is name_bucket{le="..."} lines,
 * cumulative, the last le="+Inf", then name_sum and name_count (equal to
 * the +Inf bucket).  Every series appears once; the text ends in a
 * newline.  Values come from one stats snapshot (stats_i.h), so the file
 * agrees with stats.json read at the same moment.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_i.h"
#include "qvl_fault.h"
#include "stats_i.h"

/* Upper bounds: 5 us (a raw RAM hit of a page) to 2.5 s (a store read
 * queued behind others); the strings are what le= says. */
static const struct {
	uint64_t ns;
	const char *le;
} bounds[QVL_READ_NBUCKETS] = {
	{ 5000, "5e-06" },	     { 10000, "1e-05" },
	{ 25000, "2.5e-05" },	     { 50000, "5e-05" },
	{ 100000, "0.0001" },	     { 250000, "0.00025" },
	{ 500000, "0.0005" },	     { 1000000, "0.001" },
	{ 2500000, "0.0025" },	     { 5000000, "0.005" },
	{ 10000000, "0.01" },	     { 25000000, "0.025" },
	{ 50000000, "0.05" },	     { 100000000, "0.1" },
	{ 250000000, "0.25" },	     { 500000000, "0.5" },
	{ 1000000000, "1" },	     { 2500000000, "2.5" },
};

static const char *const src_names[QVL_READ_NSRC] = {
	"raw_ram", "compressed_ram", "store",
};

enum qvl_read_src qvl_metrics_source(const struct qvl_tm_stats *before,
				     const struct qvl_tm_stats *after)
{
	if (after->fetched != before->fetched)
		return QVL_READ_STORE;
	if (after->z_hits != before->z_hits)
		return QVL_READ_COMPRESSED_RAM;
	return QVL_READ_RAW_RAM;
}

void qvl_metrics_read_done(struct qvl_read_hist *h, enum qvl_read_src src,
			   const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t d = (int64_t)(now.tv_sec - start->tv_sec) * 1000000000 +
		    (now.tv_nsec - start->tv_nsec);
	uint64_t ns = d > 0 ? (uint64_t)d : 0;
	unsigned b = 0;
	while (b < QVL_READ_NBUCKETS && ns > bounds[b].ns)
		b++;
	atomic_fetch_add_explicit(&h->n[src][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns[src], ns, memory_order_relaxed);
}

/* "# HELP" and "# TYPE" of a family; @help holds no backslash or newline. */
static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP qvlmemfs_%s %s\n# TYPE qvlmemfs_%s %s\n", name, help,
		name, type);
}

static void sample(FILE *f, const char *name, const char *labels, uint64_t v)
{
	fprintf(f, "qvlmemfs_%s%s %" PRIu64 "\n", name, labels, v);
}

/* A family of one series without labels. */
static void single(FILE *f, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	family(f, name, type, help);
	sample(f, name, "", v);
}

/* A label value with \, " and newline escaped, as the format asks. */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void render_tiers(FILE *f, struct qvl_fs *fs,
			 const struct qvl_stats_snap *s)
{
	static const char *const help[4][2] = {
		{ "tier_present", "1 when the tier is in use" },
		{ "tier_budget_bytes", "Bytes the tier may hold" },
		{ "tier_used_bytes", "Bytes the tier holds (nvme: compressed)" },
		{ "tier_files", "Files with bytes in the tier" },
	};
	const uint64_t v[4][3] = {
		{ 0, 1, (uint64_t)s->nvme },
		{ 0, s->pool.budget, s->nvme_budget },
		{ 0, s->pool.used, s->nvme_used },
		{ 0, s->ram_files, s->nvme_files },
	};
	static const char *const tier[3] = { "gpu", "ram", "nvme" };
	(void)fs;
	for (int m = 0; m < 4; m++) {
		family(f, help[m][0], "gauge", help[m][1]);
		for (int t = 0; t < 3; t++)
			fprintf(f, "qvlmemfs_%s{tier=\"%s\"} %" PRIu64 "\n",
				help[m][0], tier[t], v[m][t]);
	}
}

static void render_tiering(FILE *f, struct qvl_fs *fs,
			   const struct qvl_stats_snap *s)
{
	const struct qvl_tm_stats *t = &s->tm;
	single(f, "chunks_evicted_total", "counter",
	       "Chunks that left RAM for the store", t->evicted);
	single(f, "chunks_fetched_total", "counter",
	       "Chunks read back from the store", t->fetched);
	single(f, "chunks_dropped_total", "counter",
	       "Volatile chunks dropped under pressure", t->dropped);
	single(f, "chunks_dirty", "gauge",
	       "Chunks in RAM newer than the store", t->dirty);
	single(f, "frames_written_total", "counter",
	       "Frames written to the store", t->frames_written);
	single(f, "inline_frames_total", "counter",
	       "Frames an fsync put in the catalog instead of the store",
	       t->inline_frames);
	single(f, "inline_bytes_total", "counter",
	       "Bytes of the frames an fsync put in the catalog",
	       t->inline_bytes);
	single(f, "inline_replayed_total", "counter",
	       "Frames from the catalog brought back into RAM at mount",
	       t->inline_replayed);
	single(f, "store_written_bytes_total", "counter",
	       "Compressed bytes written to the store", t->frame_bytes_written);
	single(f, "store_read_bytes_total", "counter",
	       "Compressed bytes read from the store", t->frame_bytes_read);
	single(f, "store_read_decoded_bytes_total", "counter",
	       "Bytes read from the store, decoded", t->raw_bytes_read);
	single(f, "commits_total", "counter", "Catalog commits", t->commits);
	single(f, "ram_raw_bytes", "gauge", "Raw chunk bytes in RAM",
	       t->resident << fs->chunk_shift);
	single(f, "ram_raw_keep_bytes", "gauge",
	       "Raw bytes the split keeps", t->raw_keep);
	single(f, "ram_raw_target_bytes", "gauge",
	       "Target of the raw side (daemon raw and page cache)",
	       t->raw_target);
	single(f, "ram_compressed_bytes", "gauge",
	       "Pool bytes of compressed frames in RAM", t->z_bytes);
	family(f, "ram_compressed_frames", "gauge",
	       "Compressed frames in RAM, by LIRS set");
	fprintf(f, "qvlmemfs_ram_compressed_frames{set=\"lir\"} %" PRIu64
		   "\nqvlmemfs_ram_compressed_frames{set=\"hir\"} %" PRIu64 "\n",
		t->z_lir, t->z_hir);
	single(f, "page_cache_bytes", "gauge",
	       "Page cache of the mount charged to the budget", t->pc_bytes);
	single(f, "compressed_hits_total", "counter",
	       "Reads decoded from a frame in RAM", t->z_hits);
	single(f, "compressed_stored_total", "counter",
	       "Frames kept in RAM", t->z_stored);
	single(f, "compressed_evicted_total", "counter",
	       "Frames that left RAM", t->z_evicted);
	family(f, "ghost_hits_total", "counter",
	       "Reads of data that had just left a side of RAM");
	fprintf(f, "qvlmemfs_ghost_hits_total{side=\"raw\"} %" PRIu64
		   "\nqvlmemfs_ghost_hits_total{side=\"compressed\"} %" PRIu64
		   "\n", t->raw_ghost_hits, t->z_ghost_hits);
	single(f, "page_cache_drops_total", "counter",
	       "Chunk ranges the kernel was asked to drop", t->pc_dropped);
	single(f, "page_cache_loop_order", "gauge",
	       "1 while the page cache keeps its oldest (a loop larger than RAM)",
	       t->pc_loop);
	family(f, "page_cache_reuse_total", "counter",
	       "Chunks handed to the page cache again, by distance");
	fprintf(f, "qvlmemfs_page_cache_reuse_total{distance=\"short\"} %" PRIu64
		   "\nqvlmemfs_page_cache_reuse_total{distance=\"long\"} %"
		   PRIu64 "\n", t->pc_short_reuse, t->pc_long_reuse);
	single(f, "readahead_window_chunks", "gauge",
	       "Readahead window now", t->ra_win);
	single(f, "readahead_chunks_total", "counter",
	       "Chunks fetched ahead of reads", t->ra_chunks);
	single(f, "readahead_wasted_total", "counter",
	       "Chunks fetched ahead that left RAM unread", t->ra_wasted);
	single(f, "reply_from_chunks_bytes_total", "counter",
	       "READ bytes the kernel copied straight from chunk memory",
	       t->reply_pinned_bytes);
	single(f, "reply_graves_total", "counter",
	       "Chunks freed while a READ reply still read them",
	       t->reply_graves);
	single(f, "mover_frames_total", "counter",
	       "Dirty chunks the mover wrote back ahead of need",
	       t->mover_frames);
	single(f, "mover_discarded_total", "counter",
	       "Frames the mover coded for chunks that changed meanwhile",
	       t->mover_discarded);
	single(f, "evicted_as_predicted_total", "counter",
	       "Chunks that left RAM first as predicted to be read furthest "
	       "in the future", t->pred_evicted);
}

static void render_errors(FILE *f, struct qvl_fs *fs,
			  const struct qvl_stats_snap *s)
{
	family(f, "errors_total", "counter", "Errors by kind");
	fprintf(f, "qvlmemfs_errors_total{kind=\"io\"} %" PRIu64 "\n"
		   "qvlmemfs_errors_total{kind=\"write\"} %" PRIu64 "\n"
		   "qvlmemfs_errors_total{kind=\"catalog\"} %" PRIu64 "\n",
		s->io_errors, s->tm.write_errors, s->cat_errors);
	single(f, "read_only", "gauge",
	       "1 once the mount refuses changes", (uint64_t)qvl_fs_rdonly(fs));
	family(f, "mount_found", "gauge",
	       "Damage found in the catalog at mount");
	fprintf(f, "qvlmemfs_mount_found{kind=\"orphans\"} %" PRIu64 "\n"
		   "qvlmemfs_mount_found{kind=\"dangling\"} %" PRIu64 "\n",
		s->orphans, s->dangling);
	single(f, "faults_injected_total", "counter",
	       "Faults injected by QVL_FAULT", qvl_fault_injected());
	single(f, "enospc_total", "counter", "Operations refused with ENOSPC",
	       s->enospc);
}

/* The remote tier, when the mount has one. */
static void render_remote(FILE *f, struct qvl_fs *fs,
			  const struct qvl_stats_snap *s)
{
	struct qvl_remote_stats r;
	if (!fs->remote)
		return;
	qvl_remote_get_stats(fs->remote, &r);
	single(f, "remote_up", "gauge",
	       "1 when the last call to the remote tier reached it", r.up);
	single(f, "remote_nodes", "gauge",
	       "Redis masters known (1: a single server)", r.nodes);
	single(f, "remote_fetched_total", "counter",
	       "Frames fetched from the remote tier", s->tm.remote_fetched);
	single(f, "remote_fetched_bytes_total", "counter",
	       "Frame bytes fetched from the remote tier", s->tm.remote_bytes);
	single(f, "remote_failed_total", "counter",
	       "Frame fetches that failed (absent, unreachable, wrong bytes)",
	       s->tm.remote_failed);
	single(f, "remote_missing_total", "counter",
	       "Frames asked for that Redis did not have", r.missing);
	single(f, "remote_timeouts_total", "counter",
	       "Calls to Redis that got no reply in time", r.timeouts);
	single(f, "remote_reconnects_total", "counter",
	       "Connections to Redis made after the first", r.reconnects);
	single(f, "remote_copies_dropped_total", "counter",
	       "Copies of remote frames the store dropped when it filled",
	       s->tm.remote_dropped);
	single(f, "remote_only_bytes", "gauge",
	       "Frame bytes of files only in the remote tier", s->remote_used);
}

static void render_namespace(FILE *f, const struct qvl_stats_snap *s)
{
	family(f, "nodes", "gauge", "Names by type");
	fprintf(f, "qvlmemfs_nodes{type=\"file\"} %" PRIu64 "\n"
		   "qvlmemfs_nodes{type=\"dir\"} %" PRIu64 "\n"
		   "qvlmemfs_nodes{type=\"symlink\"} %" PRIu64 "\n",
		s->files, s->dirs, s->symlinks);
	single(f, "inodes", "gauge", "Inodes in memory", s->inodes);
	single(f, "logical_bytes", "gauge", "Sum of regular files' sizes",
	       s->bytes);
	static const char *const codec[QVL_STATS_NCODEC] = {
		"auto", "none", "zstd", "shuffle-zstd", "q8_0", "f8e4m3",
	};
	family(f, "codec_files", "gauge", "Regular files by codec policy");
	for (int c = 0; c < QVL_STATS_NCODEC; c++)
		fprintf(f, "qvlmemfs_codec_files{codec=\"%s\"} %" PRIu64 "\n",
			codec[c], s->codec_files[c]);
	family(f, "codec_logical_bytes", "gauge",
	       "Sizes of regular files by codec policy");
	for (int c = 0; c < QVL_STATS_NCODEC; c++)
		fprintf(f, "qvlmemfs_codec_logical_bytes{codec=\"%s\"} %" PRIu64
			   "\n", codec[c], s->codec_bytes[c]);
	family(f, "codec_stored_bytes", "gauge",
	       "Compressed bytes on the store by codec policy");
	for (int c = 0; c < QVL_STATS_NCODEC; c++)
		fprintf(f, "qvlmemfs_codec_stored_bytes{codec=\"%s\"} %" PRIu64
			   "\n", codec[c], s->codec_disk[c]);
}

static void render_pool(FILE *f, const struct qvl_stats_snap *s)
{
	const struct qvl_pool_stats *p = &s->pool;
	single(f, "pool_mapped_bytes", "gauge", "Bytes the pool has mapped",
	       p->mapped);
	single(f, "pool_requested_bytes", "gauge",
	       "Bytes asked of the pool, before class rounding", p->requested);
	single(f, "pool_alloc_failures_total", "counter",
	       "Pool allocations that failed", p->alloc_failures);
	family(f, "pool_fragmentation_ratio", "gauge",
	       "internal: lost to class rounding; external: free slots");
	fprintf(f, "qvlmemfs_pool_fragmentation_ratio{kind=\"internal\"} %.6f\n"
		   "qvlmemfs_pool_fragmentation_ratio{kind=\"external\"} %.6f\n",
		qvl_stats_frag_internal(p), qvl_stats_frag_external(p));
	static const char *const m[3][2] = {
		{ "pool_class_slots_used", "Slots in use, by slot size" },
		{ "pool_class_slots", "Slots in live arenas, by slot size" },
		{ "pool_class_arenas", "Arenas, by slot size" },
	};
	for (int k = 0; k < 3; k++) {
		family(f, m[k][0], "gauge", m[k][1]);
		for (unsigned i = 0; i < p->nclasses; i++) {
			const struct qvl_pool_class_stats *c = &p->cls[i];
			if (!c->arenas)
				continue;
			uint64_t v = k == 0 ? c->slots_used
				   : k == 1 ? c->slots_total : c->arenas;
			fprintf(f, "qvlmemfs_%s{slot_size=\"%zu\"} %" PRIu64
				   "\n", m[k][0], c->slot_size, v);
		}
	}
}

/* Lifetime collection (ttl.c keeps the counters). */
static void render_collect(FILE *f, struct qvl_fs *fs)
{
	single(f, "collect_files_expired_total", "counter",
	       "Files removed when their ttl ran out",
	       atomic_load(&fs->col_expired));
	single(f, "collect_bytes_total", "counter",
	       "Bytes of the files expired", atomic_load(&fs->col_bytes));
	single(f, "collect_demoted_total", "counter",
	       "Files sent to the store at 80% of their ttl",
	       atomic_load(&fs->col_demoted));
	single(f, "collect_writes_avoided_bytes_total", "counter",
	       "RAM-only bytes of unlinked files never written to the store",
	       atomic_load(&fs->col_avoided_bytes));
	single(f, "collect_writes_avoided_files_total", "counter",
	       "Unlinked files whose RAM-only bytes were never written",
	       atomic_load(&fs->col_avoided_files));
}

static void render_reads(FILE *f, struct qvl_fs *fs)
{
	family(f, "read_seconds", "histogram",
	       "READ service time in the daemon, by where the data came from");
	for (int src = 0; src < QVL_READ_NSRC; src++) {
		uint64_t cum = 0;
		for (int b = 0; b <= QVL_READ_NBUCKETS; b++) {
			cum += atomic_load_explicit(&fs->read_hist.n[src][b],
						    memory_order_relaxed);
			fprintf(f, "qvlmemfs_read_seconds_bucket{source=\"%s\","
				   "le=\"%s\"} %" PRIu64 "\n", src_names[src],
				b < QVL_READ_NBUCKETS ? bounds[b].le : "+Inf",
				cum);
		}
		uint64_t ns = atomic_load_explicit(&fs->read_hist.sum_ns[src],
						   memory_order_relaxed);
		fprintf(f, "qvlmemfs_read_seconds_sum{source=\"%s\"} %.9f\n"
			   "qvlmemfs_read_seconds_count{source=\"%s\"} %" PRIu64
			   "\n", src_names[src], (double)ns / 1e9,
			src_names[src], cum);
	}
}

char *qvl_metrics_render(struct qvl_fs *fs, size_t *len)
{
	struct qvl_stats_snap s;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	qvl_stats_take(fs, &s);
	family(f, "info", "gauge", "Version and configuration, as labels");
	fprintf(f, "qvlmemfs_info{version=\"%s\",store=\"", QVL_VERSION);
	label_value(f, fs->store ? fs->store : "");
	fprintf(f, "\"} 1\n");
	single(f, "chunk_size_bytes", "gauge", "Chunk size",
	       (uint64_t)1 << fs->chunk_shift);
	family(f, "read_ahead_kb", "gauge",
	       "The mount's read_ahead_kb (-1: unknown)");
	fprintf(f, "qvlmemfs_read_ahead_kb %d\n", fs->read_ahead_kb);
	render_tiers(f, fs, &s);
	render_tiering(f, fs, &s);
	render_errors(f, fs, &s);
	render_remote(f, fs, &s);
	render_namespace(f, &s);
	render_pool(f, &s);
	family(f, "ops_total", "counter", "FUSE requests by operation");
	for (int i = 0; i < QVL_OP_COUNT; i++)
		fprintf(f, "qvlmemfs_ops_total{op=\"%s\"} %" PRIu64 "\n",
			qvl_op_names[i], s.ops[i]);
	render_collect(f, fs);
	render_reads(f, fs);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * stats.c - the filesystem's state as text (.qvl/stats) and as JSON
 * (.qvl/stats.json).  Both render one snapshot taken under fs->lock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "ops_i.h"
#include "pressure.h"
#include "ttl.h"
#include "stats_i.h"
#include "qvl_fault.h"

const char *const qvl_op_names[QVL_OP_COUNT] = {
	"lookup", "forget", "getattr", "setattr", "readlink", "mknod",
	"mkdir", "unlink", "rmdir", "symlink", "rename", "link", "open",
	"read", "write", "release", "fsync", "opendir", "readdir",
	"releasedir", "statfs", "setxattr", "getxattr", "listxattr",
	"removexattr", "create", "fallocate", "lseek",
};

void qvl_stats_take(struct qvl_fs *fs, struct qvl_stats_snap *s)
{
	memset(s, 0, sizeof(*s));
	qvl_pool_get_stats(fs->pool, &s->pool);
	pthread_mutex_lock(&fs->lock);
	s->files = fs->nfiles;
	s->dirs = fs->ndirs;
	s->symlinks = fs->nlinks_sym;
	s->bytes = fs->bytes;
	s->inodes = fs->ninodes;
	s->nvme = fs->tm != NULL;
	s->cat_errors = fs->cat_errors;
	s->io_errors = fs->io_errors;
	s->orphans = fs->orphans;
	s->dangling = fs->dangling;
	if (fs->tm)
		qvl_tm_get_stats(fs->tm, &s->tm);
	if ((s->gpu = fs->gpu != NULL)) {
		qvl_gpu_stats(fs->gpu, &s->gpu_dev);
		qvl_fs_gpu_counts(fs, &s->gpu_reps);
	}
	/* The pool's used counts the page cache it is charged for. */
	s->pool.used -= s->tm.pc_bytes;
	for (size_t i = 0; i < fs->itab_size; i++) {
		for (struct qvl_inode *in = fs->itab[i]; in; in = in->hnext) {
			if (!in->blob)
				continue;
			uint64_t d = qvl_blob_disk_bytes(in->blob);
			s->nvme_used += d;
			s->nvme_files += d != 0;
			uint64_t rb = qvl_blob_remote_bytes(in->blob, NULL);
			s->remote_used += rb;
			s->remote_files += rb != 0;
			s->ram_files += qvl_blob_resident(in->blob) != 0;
			unsigned c = in->hints.codec < QVL_STATS_NCODEC
					     ? in->hints.codec : QVL_CPOL_AUTO;
			s->codec_files[c]++;
			s->codec_bytes[c] += in->size;
			s->codec_disk[c] += d;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	struct statvfs sv;
	if (fs->store && statvfs(fs->store, &sv) == 0)
		s->nvme_budget = (uint64_t)sv.f_bavail * sv.f_frsize + s->nvme_used;
	for (int i = 0; i < QVL_OP_COUNT; i++)
		s->ops[i] = atomic_load(&fs->ops[i]);
	s->enospc = atomic_load(&fs->enospc);
}

double qvl_stats_frag_internal(const struct qvl_pool_stats *p)
{
	return p->used ? (double)(p->used - p->requested) / (double)p->used : 0;
}

double qvl_stats_frag_external(const struct qvl_pool_stats *p)
{
	uint64_t used = 0, total = 0;
	for (unsigned i = 0; i < p->nclasses; i++) {
		used += p->cls[i].slots_used;
		total += p->cls[i].slots_total;
	}
	return total ? (double)(total - used) / (double)total : 0;
}

const char *qvl_stats_human(uint64_t v, char *buf, size_t cap)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, cap, u ? "%.2f %s" : "%.0f %s", d, unit[u]);
	return buf;
}

char *qvl_stats_text(struct qvl_fs *fs, size_t *len)
{
	struct qvl_stats_snap s;
	char *buf = NULL, a[32], b[32], c[32];
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	qvl_stats_take(fs, &s);
	fprintf(f, "qvlmemfs %s  chunk %s  read_ahead_kb %d  store %s\n\n",
		QVL_VERSION, qvl_stats_human((uint64_t)1 << fs->chunk_shift, a, sizeof(a)),
		fs->read_ahead_kb, fs->store ? fs->store : "-");
	fprintf(f, "%-5s %-8s %12s %12s %6s %8s\n", "tier", "state", "budget",
		"used", "use%", "files");
	qvl_gpu_stats_text(fs, &s, f);
	fprintf(f, "%-5s %-8s %12s %12s %5.1f%% %8" PRIu64 "\n", "ram", "active",
		qvl_stats_human(s.pool.budget, a, sizeof(a)),
		qvl_stats_human(s.pool.used, b, sizeof(b)),
		s.pool.budget ? 100.0 * (double)s.pool.used / (double)s.pool.budget : 0,
		s.ram_files);
	if (s.nvme)
		fprintf(f, "%-5s %-8s %12s %12s %5.1f%% %8" PRIu64 "\n\n",
			"nvme", "active", qvl_stats_human(s.nvme_budget, a, sizeof(a)),
			qvl_stats_human(s.nvme_used, b, sizeof(b)),
			s.nvme_budget ? 100.0 * (double)s.nvme_used /
						(double)s.nvme_budget : 0,
			s.nvme_files);
	else
		fprintf(f, "%-5s %-8s %12s %12s %6s %8s\n\n", "nvme", "absent",
			"-", "-", "-", "-");
	fprintf(f, "files %" PRIu64 "  dirs %" PRIu64 "  symlinks %" PRIu64
		   "  bytes %s (logical)  inodes %" PRIu64 "  enospc %" PRIu64 "\n",
		s.files, s.dirs, s.symlinks, qvl_stats_human(s.bytes, c, sizeof(c)),
		s.inodes, s.enospc);
	qvl_gpu_stats_detail(&s, f);
	if (s.nvme)
		fprintf(f, "tiering: evicted %" PRIu64 "  fetched %" PRIu64
			   "  dropped %" PRIu64 "  dirty %" PRIu64 "  written %s"
			   "  read %s (compressed)  commits %" PRIu64 "\n"
			   "errors: io %" PRIu64 "  write %" PRIu64 "  catalog %"
			   PRIu64 "%s  at mount: orphans %" PRIu64 " dangling %"
			   PRIu64 "  injected %" PRIu64 "\n",
			s.tm.evicted, s.tm.fetched, s.tm.dropped, s.tm.dirty,
			qvl_stats_human(s.tm.frame_bytes_written, a, sizeof(a)),
			qvl_stats_human(s.tm.frame_bytes_read, b, sizeof(b)), s.tm.commits,
			s.io_errors, s.tm.write_errors, s.cat_errors,
			qvl_fs_rdonly(fs) ? " (read-only since)" : "",
			s.orphans, s.dangling, qvl_fault_injected());
	if (s.nvme) {
		char d[32], e[32];
		fprintf(f, "ram split: raw %s (keep %s)  compressed %s in %" PRIu64
			   " frames (lir %" PRIu64 " hir %" PRIu64 ")  page cache %s"
			   "  raw side target %s\n"
			   "compressed tier: hits %" PRIu64 "  stored %" PRIu64
			   "  evicted %" PRIu64 "  ghost hits raw %" PRIu64
			   " compressed %" PRIu64 "  page cache drops %" PRIu64 "\n",
			qvl_stats_human(s.tm.resident << fs->chunk_shift, a, sizeof(a)),
			qvl_stats_human(s.tm.raw_keep, b, sizeof(b)),
			qvl_stats_human(s.tm.z_bytes, c, sizeof(c)), s.tm.z_frames,
			s.tm.z_lir, s.tm.z_hir,
			qvl_stats_human(s.tm.pc_bytes, d, sizeof(d)),
			qvl_stats_human(s.tm.raw_target, e, sizeof(e)), s.tm.z_hits,
			s.tm.z_stored, s.tm.z_evicted, s.tm.raw_ghost_hits,
			s.tm.z_ghost_hits, s.tm.pc_dropped);
		fprintf(f, "page cache order: %s  reuse short %" PRIu64
			   " long %" PRIu64 "\n",
			s.tm.pc_loop ? "loop" : "recency", s.tm.pc_short_reuse,
			s.tm.pc_long_reuse);
		fprintf(f, "readahead: window %" PRIu64 " chunks  fetched ahead %"
			   PRIu64 "  left unread %" PRIu64 "  off the lock: batches %"
			   PRIu64 " (READs' own %" PRIu64 ") landed %" PRIu64
			   " given up %" PRIu64 " reads that waited %" PRIu64
			   "\n",
			s.tm.ra_win, s.tm.ra_chunks, s.tm.ra_wasted,
			s.tm.ahead_batches, s.tm.ahead_own, s.tm.ahead_landed,
			s.tm.ahead_dropped, s.tm.ahead_waits);
		fprintf(f, "fsync into the catalog: frames %" PRIu64 "  %s"
			   "  brought back at mount %" PRIu64 "\n",
			s.tm.inline_frames,
			qvl_stats_human(s.tm.inline_bytes, a, sizeof(a)),
			s.tm.inline_replayed);
		fprintf(f, "replies: from chunk memory %s  chunks freed while "
			   "replying %" PRIu64 "\n",
			qvl_stats_human(s.tm.reply_pinned_bytes, a, sizeof(a)),
			s.tm.reply_graves);
		fprintf(f, "mover: batches %" PRIu64 "  frames written ahead %"
			   PRIu64 "  thrown away %" PRIu64
			   "  writes that waited %" PRIu64 "\n",
			s.tm.mover_batches, s.tm.mover_frames,
			s.tm.mover_discarded, s.tm.mover_waits);
		fprintf(f, "prefetch of the next file: chunks %" PRIu64
			   "  used %" PRIu64 "  left unread %" PRIu64
			   "  late %" PRIu64 "  reads %" PRIu64
			   " (waited for the store %" PRIu64
			   ")  files with a known successor %" PRIu64 "\n",
			s.tm.pf_chunks, s.tm.pf_used, s.tm.pf_wasted,
			s.tm.pf_late, s.tm.reads, s.tm.reads_waited,
			s.tm.succ_files);
		fprintf(f, "predicted next use: files in the chain %" PRIu64
			   "  chunks that left RAM first as read furthest "
			   "ahead %" PRIu64 "\n",
			s.tm.pred_files, s.tm.pred_evicted);
	}
	fprintf(f, "pool: mapped %s  fragmentation internal %.1f%% external %.1f%%"
		   "  alloc failures %" PRIu64 "\n",
		qvl_stats_human(s.pool.mapped, a, sizeof(a)), 100 * qvl_stats_frag_internal(&s.pool),
		100 * qvl_stats_frag_external(&s.pool), s.pool.alloc_failures);
	for (unsigned i = 0; i < s.pool.nclasses; i++) {
		const struct qvl_pool_class_stats *k = &s.pool.cls[i];
		if (!k->arenas)
			continue;
		fprintf(f, "  class %-9s slots %" PRIu64 "/%" PRIu64
			   "  arenas %" PRIu64 "\n",
			qvl_stats_human(k->slot_size, a, sizeof(a)), k->slots_used,
			k->slots_total, k->arenas);
	}
	qvl_ttl_stats_text(fs, f);
	qvl_remote_stats_text(fs, &s, f);
	qvl_pressure_stats_text(fs, f);
	fprintf(f, "ops:");
	for (int i = 0; i < QVL_OP_COUNT; i++)
		if (s.ops[i])
			fprintf(f, " %s=%" PRIu64, qvl_op_names[i], s.ops[i]);
	fprintf(f, "\n");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *qvl_stats_json(struct qvl_fs *fs, size_t *len)
{
	struct qvl_stats_snap s;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	qvl_stats_take(fs, &s);
	fprintf(f, "{\"version\":\"%s\",\"chunk_size\":%llu,\"read_ahead_kb\":%d,",
		QVL_VERSION, 1ULL << fs->chunk_shift, fs->read_ahead_kb);
	fprintf(f, "\"tiers\":{");
	qvl_gpu_stats_json(&s, f);
	fprintf(f, "\"ram\":{\"present\":true,\"budget\":%" PRIu64 ",\"used\":%"
		   PRIu64 ",\"files\":%" PRIu64 "},",
		s.pool.budget, s.pool.used, s.ram_files);
	fprintf(f, "\"nvme\":{\"present\":%s,\"budget\":%" PRIu64
		   ",\"used\":%" PRIu64 ",\"files\":%" PRIu64 "}},",
		s.nvme ? "true" : "false", s.nvme_budget, s.nvme_used,
		s.nvme_files);
	fprintf(f, "\"tiering\":{\"evicted\":%" PRIu64 ",\"fetched\":%" PRIu64
		   ",\"dropped\":%" PRIu64 ",\"dirty\":%" PRIu64
		   ",\"frames_written\":%" PRIu64 ",\"frame_bytes_written\":%" PRIu64
		   ",\"frame_bytes_read\":%" PRIu64 ",\"raw_bytes_read\":%" PRIu64
		   ",\"commits\":%" PRIu64 "},",
		s.tm.evicted, s.tm.fetched, s.tm.dropped, s.tm.dirty,
		s.tm.frames_written, s.tm.frame_bytes_written,
		s.tm.frame_bytes_read, s.tm.raw_bytes_read, s.tm.commits);
	fprintf(f, "\"ram_split\":{\"raw\":%" PRIu64 ",\"raw_keep\":%" PRIu64
		   ",\"compressed\":%" PRIu64 ",\"frames\":%" PRIu64
		   ",\"lir\":%" PRIu64 ",\"hir\":%" PRIu64
		   ",\"page_cache\":%" PRIu64 ",\"raw_target\":%" PRIu64
		   ",\"compressed_hits\":%" PRIu64 ",\"compressed_stored\":%"
		   PRIu64 ",\"compressed_evicted\":%" PRIu64
		   ",\"raw_ghost_hits\":%" PRIu64 ",\"compressed_ghost_hits\":%"
		   PRIu64 ",\"page_cache_drops\":%" PRIu64
		   ",\"page_cache_order\":\"%s\",\"page_cache_short_reuse\":%"
		   PRIu64 ",\"page_cache_long_reuse\":%" PRIu64 "},",
		s.tm.resident << fs->chunk_shift, s.tm.raw_keep, s.tm.z_bytes,
		s.tm.z_frames, s.tm.z_lir, s.tm.z_hir, s.tm.pc_bytes,
		s.tm.raw_target, s.tm.z_hits, s.tm.z_stored, s.tm.z_evicted,
		s.tm.raw_ghost_hits, s.tm.z_ghost_hits, s.tm.pc_dropped,
		s.tm.pc_loop ? "loop" : "recency", s.tm.pc_short_reuse,
		s.tm.pc_long_reuse);
	fprintf(f, "\"readahead\":{\"window\":%" PRIu64 ",\"chunks\":%" PRIu64
		   ",\"wasted\":%" PRIu64 ",\"async_batches\":%" PRIu64
		   ",\"async_landed\":%" PRIu64 ",\"async_given_up\":%" PRIu64
		   ",\"reads_waited_async\":%" PRIu64
		   ",\"own_batches\":%" PRIu64 "},",
		s.tm.ra_win, s.tm.ra_chunks, s.tm.ra_wasted, s.tm.ahead_batches,
		s.tm.ahead_landed, s.tm.ahead_dropped, s.tm.ahead_waits,
		s.tm.ahead_own);
	fprintf(f, "\"inline\":{\"frames\":%" PRIu64 ",\"bytes\":%" PRIu64
		   ",\"replayed\":%" PRIu64 "},",
		s.tm.inline_frames, s.tm.inline_bytes, s.tm.inline_replayed);
	fprintf(f, "\"replies\":{\"from_chunks_bytes\":%" PRIu64
		   ",\"graves\":%" PRIu64 "},",
		s.tm.reply_pinned_bytes, s.tm.reply_graves);
	fprintf(f, "\"mover\":{\"batches\":%" PRIu64 ",\"frames\":%" PRIu64
		   ",\"discarded\":%" PRIu64 ",\"waits\":%" PRIu64 "},",
		s.tm.mover_batches, s.tm.mover_frames, s.tm.mover_discarded,
		s.tm.mover_waits);
	fprintf(f, "\"prefetch\":{\"chunks\":%" PRIu64 ",\"used\":%" PRIu64
		   ",\"wasted\":%" PRIu64 ",\"late\":%" PRIu64
		   ",\"reads\":%" PRIu64 ",\"reads_waited\":%" PRIu64
		   ",\"files_known\":%" PRIu64 ",\"chain_files\":%" PRIu64
		   ",\"evicted_as_predicted\":%" PRIu64 "},",
		s.tm.pf_chunks, s.tm.pf_used, s.tm.pf_wasted, s.tm.pf_late,
		s.tm.reads, s.tm.reads_waited, s.tm.succ_files,
		s.tm.pred_files, s.tm.pred_evicted);
	fprintf(f, "\"errors\":{\"io\":%" PRIu64 ",\"write\":%" PRIu64
		   ",\"catalog\":%" PRIu64 ",\"read_only\":%s,\"orphans\":%"
		   PRIu64 ",\"dangling\":%" PRIu64 ",\"injected\":%" PRIu64 "},",
		s.io_errors, s.tm.write_errors, s.cat_errors,
		qvl_fs_rdonly(fs) ? "true" : "false", s.orphans, s.dangling,
		qvl_fault_injected());
	fprintf(f, "\"files\":%" PRIu64 ",\"dirs\":%" PRIu64 ",\"symlinks\":%"
		   PRIu64 ",\"bytes\":%" PRIu64 ",\"inodes\":%" PRIu64
		   ",\"enospc\":%" PRIu64 ",",
		s.files, s.dirs, s.symlinks, s.bytes, s.inodes, s.enospc);
	fprintf(f, "\"pool\":{\"mapped\":%" PRIu64 ",\"requested\":%" PRIu64
		   ",\"alloc_failures\":%" PRIu64 ",\"classes\":[",
		s.pool.mapped, s.pool.requested, s.pool.alloc_failures);
	for (unsigned i = 0, first = 1; i < s.pool.nclasses; i++) {
		const struct qvl_pool_class_stats *k = &s.pool.cls[i];
		if (!k->arenas)
			continue;
		fprintf(f, "%s{\"slot_size\":%zu,\"slots_used\":%" PRIu64
			   ",\"slots_total\":%" PRIu64 ",\"arenas\":%" PRIu64 "}",
			first ? "" : ",", k->slot_size, k->slots_used,
			k->slots_total, k->arenas);
		first = 0;
	}
	fprintf(f, "]},\"fragmentation\":{\"internal\":%.4f,\"external\":%.4f},",
		qvl_stats_frag_internal(&s.pool), qvl_stats_frag_external(&s.pool));
	qvl_ttl_stats_json(fs, f);
	qvl_remote_stats_json(fs, &s, f);
	qvl_pressure_stats_json(fs, f);
	fprintf(f, "\"ops\":{");
	for (int i = 0; i < QVL_OP_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", qvl_op_names[i],
			s.ops[i]);
	fprintf(f, "}}\n");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

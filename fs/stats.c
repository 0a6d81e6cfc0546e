/*
 * stats.c - the filesystem's state as text (.qvl/stats) and as JSON
 * (.qvl/stats.json).  Both render one snapshot taken under fs->lock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_i.h"
#include "qvl_gpu.h"

const char *const qvl_op_names[QVL_OP_COUNT] = {
	"lookup", "forget", "getattr", "setattr", "readlink", "mknod",
	"mkdir", "unlink", "rmdir", "symlink", "rename", "link", "open",
	"read", "write", "flush", "release", "fsync", "opendir", "readdir",
	"releasedir", "statfs", "setxattr", "getxattr", "listxattr",
	"removexattr", "create", "fallocate",
};

struct snap {
	struct qvl_pool_stats pool;
	uint64_t files, dirs, symlinks, bytes, inodes, enospc;
	uint64_t ops[QVL_OP_COUNT];
};

static void take(struct qvl_fs *fs, struct snap *s)
{
	qvl_pool_get_stats(fs->pool, &s->pool);
	pthread_mutex_lock(&fs->lock);
	s->files = fs->nfiles;
	s->dirs = fs->ndirs;
	s->symlinks = fs->nlinks_sym;
	s->bytes = fs->bytes;
	s->inodes = fs->ninodes;
	pthread_mutex_unlock(&fs->lock);
	for (int i = 0; i < QVL_OP_COUNT; i++)
		s->ops[i] = atomic_load(&fs->ops[i]);
	s->enospc = atomic_load(&fs->enospc);
}

/* Share of slot bytes lost to class rounding. */
static double frag_internal(const struct qvl_pool_stats *p)
{
	return p->used ? (double)(p->used - p->requested) / (double)p->used : 0;
}

/* Share of slots in live arenas that sit free. */
static double frag_external(const struct qvl_pool_stats *p)
{
	uint64_t used = 0, total = 0;
	for (unsigned i = 0; i < p->nclasses; i++) {
		used += p->cls[i].slots_used;
		total += p->cls[i].slots_total;
	}
	return total ? (double)(total - used) / (double)total : 0;
}

static const char *human(uint64_t v, char *buf, size_t cap)
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
	struct snap s;
	char *buf = NULL, a[32], b[32], c[32];
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	take(fs, &s);
	fprintf(f, "qvlmemfs %s  chunk %s  read_ahead_kb %d  store %s\n\n",
		QVL_VERSION, human((uint64_t)1 << fs->chunk_shift, a, sizeof(a)),
		fs->read_ahead_kb, fs->store ? fs->store : "-");
	fprintf(f, "%-5s %-8s %12s %12s %6s %8s\n", "tier", "state", "budget",
		"used", "use%", "files");
	fprintf(f, "%-5s %-8s %12s %12s %6s %8s\n", "gpu",
		qvl_gpu_available() ? "idle" : "absent", "-", "-", "-", "-");
	fprintf(f, "%-5s %-8s %12s %12s %5.1f%% %8" PRIu64 "\n", "ram", "active",
		human(s.pool.budget, a, sizeof(a)),
		human(s.pool.used, b, sizeof(b)),
		s.pool.budget ? 100.0 * (double)s.pool.used / (double)s.pool.budget : 0,
		s.files);
	fprintf(f, "%-5s %-8s %12s %12s %6s %8s\n\n", "nvme", "absent", "-",
		"-", "-", "-");
	fprintf(f, "files %" PRIu64 "  dirs %" PRIu64 "  symlinks %" PRIu64
		   "  bytes %s (logical)  inodes %" PRIu64 "  enospc %" PRIu64 "\n",
		s.files, s.dirs, s.symlinks, human(s.bytes, c, sizeof(c)),
		s.inodes, s.enospc);
	fprintf(f, "pool: mapped %s  fragmentation internal %.1f%% external %.1f%%"
		   "  alloc failures %" PRIu64 "\n",
		human(s.pool.mapped, a, sizeof(a)), 100 * frag_internal(&s.pool),
		100 * frag_external(&s.pool), s.pool.alloc_failures);
	for (unsigned i = 0; i < s.pool.nclasses; i++) {
		const struct qvl_pool_class_stats *k = &s.pool.cls[i];
		if (!k->arenas)
			continue;
		fprintf(f, "  class %-9s slots %" PRIu64 "/%" PRIu64
			   "  arenas %" PRIu64 "\n",
			human(k->slot_size, a, sizeof(a)), k->slots_used,
			k->slots_total, k->arenas);
	}
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
	struct snap s;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	take(fs, &s);
	fprintf(f, "{\"version\":\"%s\",\"chunk_size\":%llu,\"read_ahead_kb\":%d,",
		QVL_VERSION, 1ULL << fs->chunk_shift, fs->read_ahead_kb);
	fprintf(f, "\"tiers\":{\"gpu\":{\"present\":false,\"budget\":0,\"used\":0,"
		   "\"files\":0},");
	fprintf(f, "\"ram\":{\"present\":true,\"budget\":%" PRIu64 ",\"used\":%"
		   PRIu64 ",\"files\":%" PRIu64 "},",
		s.pool.budget, s.pool.used, s.files);
	fprintf(f, "\"nvme\":{\"present\":false,\"budget\":0,\"used\":0,"
		   "\"files\":0}},");
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
		frag_internal(&s.pool), frag_external(&s.pool));
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

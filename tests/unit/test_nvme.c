/*
 * test_nvme.c - unit tests for the NVMe backing store (tiers/nvme*.c)
 * against the contract in tiers/qvl_nvme.h, on the disk under /var/tmp and,
 * as root, on a tmpfs, a ramfs (no O_DIRECT: the buffered fallback) and a
 * 2 MiB tmpfs that fills up.  Ends with a throughput line (not asserted).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "nvme_i.h"
#include "qvl_nvme.h"
#include "qvl_fault.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define SHIFT 16 /* 64 KiB chunks */

static uint64_t rng_state = 42;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Bytes of frame (ino, idx, slot, gen): reproducible, incompressible. */
static void pattern(void *buf, size_t len, uint64_t ino, uint64_t idx,
		    unsigned slot, unsigned gen)
{
	uint64_t s = ino * 1000003 + idx * 7919 + slot * 31 + gen * 131;
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7)) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
		}
		p[i] = (unsigned char)(s >> (8 * (i & 7)));
	}
}

static void *abuf(size_t len)
{
	void *p = aligned_alloc(QVL_NVME_ALIGN, qvl_nvme_padded(len ? len : 1));

	if (!p)
		abort();
	return p;
}

/* ---- stores ---- */

static int rm_cb(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char *mkstore(void)
{
	char tmpl[] = "/var/tmp/qvl-nvme-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (!d) {
		char t2[] = "/tmp/qvl-nvme-XXXXXX";

		d = mkdtemp(t2);
		return d ? strdup(d) : NULL;
	}
	return strdup(d);
}

static void rmstore(char *dir, bool mounted)
{
	if (mounted) {
		/* The contents vanish with the mount. */
		umount2(dir, MNT_DETACH);
		rmdir(dir);
	} else {
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(dir);
}

/* A fresh mount of @fstype (with @opts) on a temporary dir; NULL if not root. */
static char *mkmount(const char *fstype, const char *opts)
{
	char *d;

	if (geteuid())
		return NULL;
	d = mkstore();
	if (d && mount(fstype, d, fstype, 0, opts)) {
		rmdir(d);
		free(d);
		return NULL;
	}
	return d;
}

static bool odirect_works(const char *dir)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/.odirect", dir);
	fd = open(path, O_CREAT | O_RDWR | O_DIRECT, 0600);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return fd >= 0;
}

static struct qvl_nvme *nopen(const char *dir, unsigned shift, unsigned qd)
{
	struct qvl_nvme *n = NULL;
	int rc = qvl_nvme_open(dir, shift, qd, &n);

	QVL_CHECK_EQ(rc, 0);
	return n;
}

/* ---- cases (each takes a store directory) ---- */

static const char *cur_dir;

/* Many chunks, both slots, more requests than the queue holds. */
static void t_round_trip(void)
{
	enum { INOS = 5, IDXS = 12, NR = INOS * IDXS * 2 };
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 8);
	struct qvl_nvme_req w[NR], r[NR];
	size_t ss = qvl_nvme_slot_size(n);
	unsigned i;

	QVL_CHECK_EQ(ss, qvl_nvme_padded((1u << SHIFT) + 24));
	for (i = 0; i < NR; i++) {
		size_t len;

		switch (i % 6) {
		case 0: len = ss; break;
		case 1: len = 1; break;
		case 2: len = 4096; break;
		case 3: len = 4097; break;
		default: len = 1 + rng() % ss; break;
		}
		w[i] = (struct qvl_nvme_req){ .ino = 1 + i % INOS,
			.idx = (i / INOS) % IDXS, .slot = i / (INOS * IDXS),
			.len = (uint32_t)len, .buf = abuf(len), .result = 1 };
		pattern(w[i].buf, len, w[i].ino, w[i].idx, w[i].slot, 0);
		r[i] = w[i];
		r[i].buf = abuf(len);
		r[i].result = 1;
	}
	QVL_CHECK_EQ(qvl_nvme_write(n, w, NR), 0);
	for (i = 0; i < NR; i++) {
		QVL_CHECK_EQ(w[i].result, 0);
		/* The tail of the padded buffer was zeroed. */
		if (w[i].len % 4096)
			QVL_CHECK_EQ(((char *)w[i].buf)[w[i].len], 0);
	}
	for (i = 1; i <= INOS; i++)
		QVL_CHECK_EQ(qvl_nvme_sync(n, i), 0);
	QVL_CHECK_EQ(qvl_nvme_read(n, r, NR), 0);
	for (i = 0; i < NR; i++) {
		QVL_CHECK_EQ(r[i].result, 0);
		QVL_CHECK(!memcmp(r[i].buf, w[i].buf, w[i].len));
	}

	/* A reopened store reads the same; a shorter len reads a prefix. */
	qvl_nvme_close(n);
	n = nopen(cur_dir, SHIFT, 1);
	for (i = 0; i < NR; i++) {
		memset(r[i].buf, 0xee, r[i].len);
		if (i % 5 == 0 && r[i].len > 10)
			r[i].len -= 10;
	}
	QVL_CHECK_EQ(qvl_nvme_read(n, r, NR), 0);
	for (i = 0; i < NR; i++)
		QVL_CHECK(!memcmp(r[i].buf, w[i].buf, r[i].len));

	/* Past the end: -EIO; missing file: -ENOENT; the rest still reads. */
	r[0].idx = 1000;
	r[1].ino = 999;
	memset(r[2].buf, 0, r[2].len);
	QVL_CHECK_EQ(qvl_nvme_read(n, r, 3), -EIO);
	QVL_CHECK_EQ(r[0].result, -EIO);
	QVL_CHECK_EQ(r[1].result, -ENOENT);
	QVL_CHECK_EQ(r[2].result, 0);
	QVL_CHECK(!memcmp(r[2].buf, w[2].buf, r[2].len));
	/* Bad requests, zero-length frames, and empty batches. */
	{
		struct qvl_nvme_req q = w[0];

		q.slot = 2;
		QVL_CHECK_EQ(qvl_nvme_read(n, &q, 1), -EINVAL);
		q = w[0];
		q.len = (uint32_t)ss + 1;
		QVL_CHECK_EQ(qvl_nvme_read(n, &q, 1), -EINVAL);
		q = w[0];
		q.idx = UINT64_MAX / 2;
		QVL_CHECK_EQ(qvl_nvme_read(n, &q, 1), -EFBIG);
		q = w[0];
		q.buf = (char *)q.buf + 512;
		QVL_CHECK_EQ(qvl_nvme_read(n, &q, 1), -EINVAL);
		q = w[0];
		q.len = 0;
		QVL_CHECK_EQ(qvl_nvme_read(n, &q, 1), 0);
		QVL_CHECK_EQ(qvl_nvme_write(n, &q, 0), 0);
	}

	for (i = 0; i < NR; i++) {
		free(w[i].buf);
		free(r[i].buf);
	}
	qvl_nvme_close(n);
}

static int rw1(struct qvl_nvme *n, bool write, uint64_t ino, uint64_t idx,
	       unsigned slot, void *buf, size_t len)
{
	struct qvl_nvme_req q = { .ino = ino, .idx = idx, .slot = slot,
				  .len = (uint32_t)len, .buf = buf };
	int rc = write ? qvl_nvme_write(n, &q, 1) : qvl_nvme_read(n, &q, 1);

	QVL_CHECK_EQ(q.result, rc);
	return rc;
}

static void t_slot_independence(void)
{
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 4);
	size_t ss = qvl_nvme_slot_size(n);
	char *a = abuf(ss), *b = abuf(ss), *got = abuf(ss);
	unsigned idx, s;

	for (idx = 2; idx <= 4; idx++)
		for (s = 0; s < 2; s++) {
			pattern(a, ss, 20, idx, s, 0);
			QVL_CHECK_EQ(rw1(n, true, 20, idx, s, a, ss), 0);
		}
	pattern(b, 5000, 20, 3, 1, 1);
	QVL_CHECK_EQ(rw1(n, true, 20, 3, 1, b, 5000), 0);
	for (idx = 2; idx <= 4; idx++)
		for (s = 0; s < 2; s++) {
			unsigned gen = idx == 3 && s == 1;
			size_t len = gen ? 5000 : ss;

			pattern(a, len, 20, idx, s, gen);
			QVL_CHECK_EQ(rw1(n, false, 20, idx, s, got, len), 0);
			QVL_CHECK(!memcmp(got, a, len));
		}
	free(a);
	free(b);
	free(got);
	qvl_nvme_close(n);
}

static void t_punch(void)
{
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 4);
	size_t ss = qvl_nvme_slot_size(n);
	char *a = abuf(ss), *got = abuf(ss);
	uint64_t before, after;
	unsigned idx, s;
	size_t i;
	int rc;

	for (idx = 0; idx < 4; idx++)
		for (s = 0; s < 2; s++) {
			pattern(a, ss, 30, idx, s, 0);
			QVL_CHECK_EQ(rw1(n, true, 30, idx, s, a, ss), 0);
		}
	QVL_CHECK_EQ(qvl_nvme_sync(n, 30), 0);
	before = qvl_nvme_disk_bytes(n, 30);
	QVL_CHECK(before >= 8 * ss);
	rc = qvl_nvme_punch(n, 30, 1, 0);
	QVL_CHECK_EQ(rc, 0);
	after = qvl_nvme_disk_bytes(n, 30);
	/* ext4 may spend a block on splitting the extent. */
	QVL_CHECK(after + ss - 2 * 4096 <= before);
	memset(got, 0x55, ss);
	QVL_CHECK_EQ(rw1(n, false, 30, 1, 0, got, ss), 0);
	for (i = 0; i < ss && !got[i]; i++)
		;
	QVL_CHECK_EQ(i, ss);
	/* The other slot, and the neighbours, are intact. */
	pattern(a, ss, 30, 1, 1, 0);
	QVL_CHECK_EQ(rw1(n, false, 30, 1, 1, got, ss), 0);
	QVL_CHECK(!memcmp(got, a, ss));
	pattern(a, ss, 30, 0, 1, 0);
	QVL_CHECK_EQ(rw1(n, false, 30, 0, 1, got, ss), 0);
	QVL_CHECK(!memcmp(got, a, ss));
	pattern(a, ss, 30, 2, 0, 0);
	QVL_CHECK_EQ(rw1(n, false, 30, 2, 0, got, ss), 0);
	QVL_CHECK(!memcmp(got, a, ss));
	/* No file: a no-op. */
	QVL_CHECK_EQ(qvl_nvme_punch(n, 31, 0, 0), 0);
	QVL_CHECK_EQ(qvl_nvme_punch(n, 30, 0, 2), -EINVAL);
	free(a);
	free(got);
	qvl_nvme_close(n);
}

static void t_truncate(void)
{
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 4);
	size_t ss = qvl_nvme_slot_size(n);
	char *a = abuf(ss), *got = abuf(ss);
	char path[600], rel[32];
	uint64_t before;
	struct stat st;
	unsigned idx;

	for (idx = 0; idx < 8; idx++) {
		pattern(a, ss, 40, idx, 1, 0);
		QVL_CHECK_EQ(rw1(n, true, 40, idx, 1, a, ss), 0);
	}
	before = qvl_nvme_disk_bytes(n, 40);
	QVL_CHECK_EQ(qvl_nvme_truncate(n, 40, 4), 0);
	qvl_nvme_path(40, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/data/%s", cur_dir, rel);
	QVL_CHECK_EQ(stat(path, &st), 0);
	QVL_CHECK_EQ(st.st_size, 8 * ss);
	QVL_CHECK(qvl_nvme_disk_bytes(n, 40) + 4 * ss <= before);
	QVL_CHECK_EQ(rw1(n, false, 40, 5, 1, got, ss), -EIO);
	QVL_CHECK_EQ(rw1(n, false, 40, 4, 0, got, 100), -EIO);
	pattern(a, ss, 40, 3, 1, 0);
	QVL_CHECK_EQ(rw1(n, false, 40, 3, 1, got, ss), 0);
	QVL_CHECK(!memcmp(got, a, ss));
	/* Truncating beyond the end does not grow the file. */
	QVL_CHECK_EQ(qvl_nvme_truncate(n, 40, 100), 0);
	QVL_CHECK_EQ(stat(path, &st), 0);
	QVL_CHECK_EQ(st.st_size, 8 * ss);
	QVL_CHECK_EQ(qvl_nvme_truncate(n, 40, UINT64_MAX), 0);
	/* A file ending inside a frame's padding: a short read that is
	 * enough; one byte more is -EIO. */
	QVL_CHECK_EQ(truncate(path, 7 * ss + 5000), 0);
	pattern(a, ss, 40, 3, 1, 0);
	QVL_CHECK_EQ(rw1(n, false, 40, 3, 1, got, 5000), 0);
	QVL_CHECK(!memcmp(got, a, 5000));
	QVL_CHECK_EQ(rw1(n, false, 40, 3, 1, got, 5001), -EIO);
	QVL_CHECK_EQ(qvl_nvme_truncate(n, 41, 0), 0);
	QVL_CHECK_EQ(qvl_nvme_truncate(n, 40, 0), 0);
	QVL_CHECK_EQ(qvl_nvme_disk_bytes(n, 40), 0);
	QVL_CHECK_EQ(rw1(n, false, 40, 0, 0, got, 1), -EIO);
	free(a);
	free(got);
	qvl_nvme_close(n);
}

static void t_remove(void)
{
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 4);
	char *a = abuf(8192), *got = abuf(8192);

	pattern(a, 8192, 50, 0, 0, 0);
	QVL_CHECK_EQ(rw1(n, true, 50, 0, 0, a, 8192), 0);
	QVL_CHECK(qvl_nvme_disk_bytes(n, 50) > 0);
	QVL_CHECK_EQ(qvl_nvme_remove(n, 50), 0);
	QVL_CHECK_EQ(qvl_nvme_disk_bytes(n, 50), 0);
	QVL_CHECK_EQ(rw1(n, false, 50, 0, 0, got, 8192), -ENOENT);
	QVL_CHECK_EQ(qvl_nvme_remove(n, 50), 0);
	QVL_CHECK_EQ(qvl_nvme_sync(n, 50), 0);
	/* A new file after removal starts empty. */
	QVL_CHECK_EQ(rw1(n, true, 50, 1, 0, a, 8192), 0);
	QVL_CHECK_EQ(rw1(n, false, 50, 1, 0, got, 8192), 0);
	QVL_CHECK(!memcmp(got, a, 8192));
	QVL_CHECK_EQ(rw1(n, false, 50, 0, 0, got, 8192), 0);
	QVL_CHECK_EQ(got[0] | got[4000] | got[8191], 0);
	QVL_CHECK_EQ(qvl_nvme_remove(n, 50), 0);
	free(a);
	free(got);
	qvl_nvme_close(n);
}

struct seen {
	uint64_t inos[16];
	unsigned nr;
};

static int list_cb(void *arg, uint64_t ino)
{
	struct seen *s = arg;

	if (s->nr < 16)
		s->inos[s->nr] = ino;
	s->nr++;
	return 0;
}

static int list_stop(void *arg, uint64_t ino)
{
	(void)ino;
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void t_list(void)
{
	static const uint64_t want[] = { 0, 1, 255, 256, 0x1234567890ULL,
					 UINT64_MAX };
	const unsigned nw = sizeof(want) / sizeof(want[0]);
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 4);
	char *a = abuf(4096), path[600];
	struct seen s = { .nr = 0 };
	unsigned i, j, found;
	int calls = 0, fd;

	/* The other cases removed their files or used other inodes. */
	for (i = 1; i <= 5; i++)
		qvl_nvme_remove(n, i);
	for (i = 20; i <= 60; i++)
		qvl_nvme_remove(n, i);
	memset(a, 1, 4096);
	for (i = 0; i < nw; i++)
		QVL_CHECK_EQ(rw1(n, true, want[i], 3, 1, a, 4096), 0);
	/* Strangers in the directories are not backing files. */
	snprintf(path, sizeof(path), "%s/data/01/junk", cur_dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	snprintf(path, sizeof(path), "%s/data/01/0101", cur_dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	snprintf(path, sizeof(path), "%s/data/02/1", cur_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/data/02/1", cur_dir);
	QVL_CHECK_EQ(qvl_nvme_list(n, list_cb, &s), 0);
	QVL_CHECK_EQ(s.nr, nw);
	for (i = 0, found = 0; i < nw; i++)
		for (j = 0; j < s.nr && j < 16; j++)
			found += s.inos[j] == want[i];
	QVL_CHECK_EQ(found, nw);
	QVL_CHECK_EQ(qvl_nvme_list(n, list_stop, &calls), 7);
	QVL_CHECK_EQ(calls, 2);
	for (i = 0; i < nw; i++)
		QVL_CHECK_EQ(qvl_nvme_remove(n, want[i]), 0);
	free(a);
	qvl_nvme_close(n);
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned nr = 0;

	if (!d)
		return 0;
	while (readdir(d))
		nr++;
	closedir(d);
	return nr;
}

/* More inodes than the descriptor cache holds, in one batch and singly. */
static void t_fd_cache(void)
{
	enum { NR = 3 * QVL_NVME_FD_CAP / 2 };
	struct qvl_nvme_req *w = calloc(NR, sizeof(*w));
	struct qvl_nvme_req *r = calloc(NR, sizeof(*r));
	struct qvl_nvme *n;
	unsigned base = open_fds(), i;

	n = nopen(cur_dir, SHIFT, 32);
	for (i = 0; i < NR; i++) {
		size_t len = 100 + i * 7;

		w[i] = (struct qvl_nvme_req){ .ino = 1000 + i, .idx = i % 3,
			.slot = i & 1, .len = (uint32_t)len, .buf = abuf(len) };
		pattern(w[i].buf, len, w[i].ino, w[i].idx, w[i].slot, 0);
		r[i] = w[i];
		r[i].buf = abuf(len);
	}
	QVL_CHECK_EQ(qvl_nvme_write(n, w, NR), 0);
	QVL_CHECK(open_fds() <= base + QVL_NVME_FD_CAP + 2);
	/* Reversed, then in order: every request evicts someone. */
	for (i = 0; i < NR; i++) {
		struct qvl_nvme_req *q = &r[NR - 1 - i];

		QVL_CHECK_EQ(qvl_nvme_read(n, q, 1), 0);
		QVL_CHECK(!memcmp(q->buf, w[NR - 1 - i].buf, q->len));
		memset(q->buf, 0, q->len);
	}
	QVL_CHECK_EQ(qvl_nvme_read(n, r, NR), 0);
	for (i = 0; i < NR; i++)
		QVL_CHECK(!memcmp(r[i].buf, w[i].buf, r[i].len));
	QVL_CHECK(open_fds() <= base + QVL_NVME_FD_CAP + 2);
	for (i = 0; i < NR; i++) {
		QVL_CHECK_EQ(qvl_nvme_remove(n, w[i].ino), 0);
		free(w[i].buf);
		free(r[i].buf);
	}
	qvl_nvme_close(n);
	QVL_CHECK_EQ(open_fds(), base);
	free(w);
	free(r);
}

struct thr {
	struct qvl_nvme *n;
	unsigned id;
	int fails;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	char *a = abuf(20000), *got = abuf(20000);
	unsigned it;

	for (it = 0; it < 30; it++) {
		struct qvl_nvme_req q = { .ino = 70 + t->id, .idx = it % 4,
					  .slot = it & 1, .len = 20000,
					  .buf = a };

		pattern(a, 20000, q.ino, q.idx, q.slot, it);
		t->fails += qvl_nvme_write(t->n, &q, 1) != 0;
		q.buf = got;
		t->fails += qvl_nvme_read(t->n, &q, 1) != 0;
		t->fails += memcmp(a, got, 20000) != 0;
		if (it % 10 == 9)
			t->fails += qvl_nvme_sync(t->n, q.ino) != 0;
	}
	free(a);
	free(got);
	return NULL;
}

static void t_threads(void)
{
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 8);
	struct thr t[4];
	pthread_t th[4];
	unsigned i;

	for (i = 0; i < 4; i++) {
		t[i] = (struct thr){ .n = n, .id = i };
		pthread_create(&th[i], NULL, thr_main, &t[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		QVL_CHECK_EQ(t[i].fails, 0);
		QVL_CHECK_EQ(qvl_nvme_remove(n, 70 + i), 0);
	}
	qvl_nvme_close(n);
}

/* Fault injection: the spec parser, and faults as the batch engine sees
 * them (the Nth completion; short transfers retried; junk left behind). */
static void t_fault(void)
{
	static const char *const bad[] = {
		"write", "write:0", "write:x", "write:1:eio:", "disk:1",
		"read:1:oops", "fsync:1:short", "write:1:eio:1:2", ",",
		"write:1,", "write:99999999999999999999",
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
		QVL_CHECK_EQ(qvl_fault_arm(bad[k]), -EINVAL);
		QVL_CHECK(!qvl_fault_armed());
	}
	QVL_CHECK_EQ(qvl_fault_arm("read:2:short,write:3:enospc:2"), 0);
	QVL_CHECK(qvl_fault_armed());
	QVL_CHECK_EQ(qvl_fault_arm(""), 0);
	QVL_CHECK(!qvl_fault_armed());

	enum { NR = 4 };
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 1); /* one at a time */
	size_t len = qvl_nvme_slot_size(n);
	struct qvl_nvme_req w[NR], r[NR];
	for (unsigned i = 0; i < NR; i++) {
		w[i] = (struct qvl_nvme_req){ .ino = 90, .idx = i,
					      .len = (uint32_t)len,
					      .buf = abuf(len), .result = 1 };
		pattern(w[i].buf, len, 90, i, 0, 1);
		r[i] = w[i];
		r[i].buf = abuf(len);
	}
	uint64_t before = qvl_fault_injected();
	QVL_CHECK_EQ(qvl_fault_arm("write:2:eio"), 0);
	QVL_CHECK_EQ(qvl_nvme_write(n, w, NR), -EIO);
	QVL_CHECK_EQ(w[0].result, 0);
	QVL_CHECK_EQ(w[1].result, -EIO);
	QVL_CHECK_EQ(w[2].result, 0);
	QVL_CHECK_EQ(qvl_fault_injected(), before + 1);
	/* The failed write left junk, not the frame, on the disk. */
	QVL_CHECK_EQ(qvl_fault_arm(NULL), 0);
	QVL_CHECK_EQ(qvl_nvme_read(n, r, NR), 0);
	QVL_CHECK(!memcmp(r[0].buf, w[0].buf, len));
	QVL_CHECK(((unsigned char *)r[1].buf)[0] == 0xee);
	QVL_CHECK(!memcmp(r[3].buf, w[3].buf, len));

	/* A short read is finished by the engine; a failed one is junk. */
	QVL_CHECK_EQ(qvl_fault_arm("read:1:short,read:3:eio"), 0);
	memset(r[0].buf, 0, len);
	QVL_CHECK_EQ(qvl_nvme_read(n, &r[0], 1), 0);
	QVL_CHECK(!memcmp(r[0].buf, w[0].buf, len));
	QVL_CHECK_EQ(qvl_nvme_read(n, &r[2], 1), -EIO);
	QVL_CHECK(((unsigned char *)r[2].buf)[0] == 0xee);
	QVL_CHECK_EQ(qvl_fault_injected(), before + 3);

	/* A slow read goes through, late (200 ms). */
	QVL_CHECK_EQ(qvl_fault_arm("read:1:slow"), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(r[0].buf, 0, len);
	QVL_CHECK_EQ(qvl_nvme_read(n, &r[0], 1), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	QVL_CHECK(!memcmp(r[0].buf, w[0].buf, len));
	QVL_CHECK((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec -
			  t0.tv_nsec >= 190000000L);
	QVL_CHECK_EQ(qvl_fault_injected(), before + 4);

	/* The Nth fsync, and a dead disk: every write from the 1st on. */
	QVL_CHECK_EQ(qvl_fault_arm("fsync:2:eio,write:1:enospc:0"), 0);
	QVL_CHECK_EQ(qvl_nvme_sync(n, 90), 0);
	QVL_CHECK_EQ(qvl_nvme_sync(n, 90), -EIO);
	QVL_CHECK_EQ(qvl_nvme_sync(n, 90), 0);
	QVL_CHECK_EQ(qvl_nvme_write(n, w, NR), -ENOSPC);
	for (unsigned i = 0; i < NR; i++)
		QVL_CHECK_EQ(w[i].result, -ENOSPC);
	QVL_CHECK_EQ(qvl_fault_arm(NULL), 0);
	QVL_CHECK_EQ(qvl_nvme_remove(n, 90), 0);
	qvl_nvme_close(n);
	for (unsigned i = 0; i < NR; i++) {
		free(w[i].buf);
		free(r[i].buf);
	}
}

static void run_all(const char *dir, const char *what)
{
	fprintf(stderr, " store %s (%s, O_DIRECT %s)\n", dir, what,
		odirect_works(dir) ? "yes" : "no: buffered");
	cur_dir = dir;
	QVL_RUN(t_round_trip);
	QVL_RUN(t_slot_independence);
	if (strcmp(what, "ramfs")) {
		QVL_RUN(t_punch);
		QVL_RUN(t_truncate);
	}
	QVL_RUN(t_remove);
	QVL_RUN(t_list);
	QVL_RUN(t_fd_cache);
	QVL_RUN(t_threads);
	QVL_RUN(t_fault);
}

/* ramfs has no hole punching: the error is reported, not swallowed. */
static void t_ramfs_punch(void)
{
	struct qvl_nvme *n = nopen(cur_dir, SHIFT, 4);
	char *a = abuf(4096);

	memset(a, 3, 4096);
	QVL_CHECK_EQ(rw1(n, true, 9, 0, 0, a, 4096), 0);
	QVL_CHECK_EQ(qvl_nvme_punch(n, 9, 0, 0), -EOPNOTSUPP);
	free(a);
	qvl_nvme_close(n);
}

/* A 2 MiB tmpfs fills up: -ENOSPC, and what was written still reads. */
static void t_enospc(void)
{
	enum { MAXF = 64, LEN = 60000 };
	char *dir = mkmount("tmpfs", "size=2m");
	struct qvl_nvme *n;
	char *a, *got;
	unsigned i, good = 0;
	int rc = 0;

	if (!dir) {
		fprintf(stderr, "  (skipped: not root or no tmpfs)\n");
		return;
	}
	n = nopen(dir, SHIFT, 4);
	a = abuf(LEN);
	got = abuf(LEN);
	for (i = 0; i < MAXF && !rc; i++) {
		struct qvl_nvme_req q[2] = {
			{ .ino = 5, .idx = i, .slot = 0, .len = LEN, .buf = a },
			{ .ino = 6, .idx = i, .slot = 1, .len = LEN,
			  .buf = got },
		};

		pattern(a, LEN, 5, i, 0, 0);
		pattern(got, LEN, 6, i, 1, 0);
		rc = qvl_nvme_write(n, q, 2);
		if (!rc)
			good++;
		else
			QVL_CHECK(q[0].result == -ENOSPC ||
				  q[1].result == -ENOSPC);
	}
	QVL_CHECK_EQ(rc, -ENOSPC);
	QVL_CHECK(good > 4);
	for (i = 0; i < good; i++) {
		pattern(a, LEN, 5, i, 0, 0);
		QVL_CHECK_EQ(rw1(n, false, 5, i, 0, got, LEN), 0);
		QVL_CHECK(!memcmp(a, got, LEN));
		pattern(a, LEN, 6, i, 1, 0);
		QVL_CHECK_EQ(rw1(n, false, 6, i, 1, got, LEN), 0);
		QVL_CHECK(!memcmp(a, got, LEN));
	}
	/* Freeing space makes writes work again. */
	QVL_CHECK_EQ(qvl_nvme_remove(n, 6), 0);
	QVL_CHECK_EQ(rw1(n, true, 7, 0, 0, a, LEN), 0);
	free(a);
	free(got);
	qvl_nvme_close(n);
	rmstore(dir, true);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void drop_caches(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "3", 1) < 0) {
			/* best effort: the numbers say so when not root */
		}
		close(fd);
	}
}

/* Batch-read BENCH_MB of 1 MiB frames at queue depth 32 and 1. */
static void t_throughput(void)
{
	const char *env = getenv("QVL_NVME_BENCH_MB");
	unsigned nr = env ? (unsigned)atoi(env) : 256, i, qd, rep;
	struct qvl_nvme_req *q = calloc(nr ? nr : 1, sizeof(*q));
	struct qvl_nvme *n;
	double mbs[2] = { 0, 0 };
	char *buf = NULL;

	if (!nr || !q)
		goto out;
	n = nopen(cur_dir, 20, 32);
	buf = aligned_alloc(QVL_NVME_ALIGN, (size_t)nr * MiB);
	if (!n || !buf)
		goto out_close;
	for (i = 0; i < nr; i++) {
		q[i] = (struct qvl_nvme_req){ .ino = 99, .idx = i,
			.len = MiB, .buf = buf + (size_t)i * MiB };
		pattern(q[i].buf, 64, 99, i, 0, 0);
	}
	QVL_CHECK_EQ(qvl_nvme_write(n, q, nr), 0);
	QVL_CHECK_EQ(qvl_nvme_sync(n, 99), 0);
	qvl_nvme_close(n);
	/* Best of three: a run is a fraction of a second. */
	for (rep = 0; rep < 6; rep++) {
		double t, v;

		i = rep & 1;
		qd = i ? 1 : 32;
		drop_caches();
		n = nopen(cur_dir, 20, qd);
		memset(buf, 0, (size_t)nr * MiB);
		t = now();
		QVL_CHECK_EQ(qvl_nvme_read(n, q, nr), 0);
		v = nr / (now() - t) * MiB / 1e6;
		if (v > mbs[i])
			mbs[i] = v;
		qvl_nvme_close(n);
	}
	{
		char want[64];

		pattern(want, 64, 99, nr - 1, 0, 0);
		QVL_CHECK(!memcmp(want, q[nr - 1].buf, 64));
	}
	fprintf(stderr, "  batch read %u MiB of 1 MiB frames: qd32 %.0f MB/s, "
		"qd1 %.0f MB/s%s\n", nr, mbs[0], mbs[1],
		geteuid() ? " (page cache not dropped: not root)" : "");
	n = nopen(cur_dir, 20, 1);
out_close:
	if (n)
		qvl_nvme_remove(n, 99);
	qvl_nvme_close(n);
out:
	free(buf);
	free(q);
}

int main(void)
{
	char *dir = mkstore(), *mnt;

	if (!dir) {
		fprintf(stderr, "no temporary directory\n");
		return 1;
	}
	run_all(dir, "disk");
	QVL_RUN(t_throughput);
	rmstore(dir, false);

	mnt = mkmount("tmpfs", "size=64m");
	if (mnt) {
		run_all(mnt, "tmpfs");
		rmstore(mnt, true);
	} else {
		fprintf(stderr, " tmpfs store skipped: not root\n");
	}
	mnt = mkmount("ramfs", NULL);
	if (mnt) {
		run_all(mnt, "ramfs");
		QVL_RUN(t_ramfs_punch);
		rmstore(mnt, true);
	} else {
		fprintf(stderr, " ramfs store skipped: not root\n");
	}
	QVL_RUN(t_enospc);
	fprintf(stderr, "%d cases, %d failures\n", qvl_test_cases,
		qvl_test_failures);
	return QVL_TEST_EXIT();
}

/*
 * test_tm.c - the tier manager (tiers/tm.c) through the blob API, with a
 * real catalog and backing store in a fresh directory under /var/tmp:
 * spill past a small RAM budget and read back exactly (against a shadow
 * copy), the budget always held, flush/commit/reopen, copy-on-write across
 * a crash (a child process that exits without committing), deferred
 * punches, corrupted frames, and the NO_STORE, DROPPABLE and PINNED
 * policies.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness.h"
#include "qvl_catalog.h"
#include "qvl_nvme.h"
#include "qvl_tier.h"

#define SHIFT 16 /* 64 KiB chunks */
#define CHUNK ((size_t)1 << SHIFT)
#define BUDGET_CHUNKS 16
#define NBLOB 4
#define MAXSZ (48 * CHUNK)
#define KC_CHUNKS 256 /* chunks per blob the stand-in page cache tracks */

static uint64_t rng_state = 7;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Random bytes, a constant run, or small numbers: all codecs get work. */
static void fill(unsigned char *p, size_t n)
{
	unsigned kind = (unsigned)(rng() % 3);
	uint64_t v = rng();
	for (size_t i = 0; i < n; i++) {
		if (kind == 0 && !(i & 7))
			v = rng();
		p[i] = kind == 0 ? (unsigned char)(v >> (8 * (i & 7)))
		     : kind == 1 ? (unsigned char)v
				 : (unsigned char)(rng() & 3);
	}
}

/* Incompressible bytes. */
static void noise(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rng();
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* Write @n bytes from @p at 0 in pieces that fit the budget. */
static int write_big(struct qvl_blob *b, const unsigned char *p, size_t n)
{
	for (size_t off = 0; off < n; off += 4 * CHUNK) {
		size_t len = n - off < 4 * CHUNK ? n - off : 4 * CHUNK;
		int rc = qvl_blob_write(b, p + off, len, off);
		if (rc)
			return rc;
	}
	return 0;
}

struct env {
	char dir[64];
	unsigned budget_chunks;
	struct qvl_pool *pool;
	struct qvl_catalog *cat;
	struct qvl_nvme *nvme;
	struct qvl_tm *tm;
	struct qvl_blob *b[NBLOB];
	unsigned io_errors;
	uint64_t err_ino, err_idx;
	int err;
	/* A stand-in for the kernel's page cache: chunks of each blob it
	 * holds (set when a read or write hands them out, cleared when the
	 * tier manager drops them). */
	uint8_t kc[NBLOB][KC_CHUNKS];
	/* The caller's lock, given to the manager when locked (readahead
	 * then runs without it: tiers/ahead.c). */
	int locked;
	pthread_mutex_t lock;
	/* Lets the manager find blobs by inode (cross-file prefetch and the
	 * predicted next use of files need it). */
	int by_ino;
};

static void on_evicted(void *arg, uint64_t ino, uint64_t off, uint64_t len)
{
	struct env *e = arg;
	if (ino < 1 || ino > NBLOB)
		return;
	for (uint64_t i = off >> SHIFT; i < (off + len + CHUNK - 1) >> SHIFT &&
					i < KC_CHUNKS;
	     i++)
		e->kc[ino - 1][i] = 0;
}

static void on_io_error(void *arg, uint64_t ino, uint64_t idx, int err)
{
	struct env *e = arg;
	e->io_errors++;
	e->err_ino = ino;
	e->err_idx = idx;
	e->err = err;
}

/* Worker threads of the managers under test: every case runs with none
 * (the caller decodes and encodes) and with a crew. */
static unsigned workers;

static struct qvl_blob *blob_of(void *arg, uint64_t ino)
{
	struct env *e = arg;
	return ino >= 1 && ino <= NBLOB ? e->b[ino - 1] : NULL;
}

static int attach(void *arg, const struct qvl_cat_chunk *c)
{
	struct env *e = arg;
	if (c->ino < 1 || c->ino > NBLOB)
		return -EINVAL;
	return qvl_blob_attach_frame(e->b[c->ino - 1], c->idx, c->slot, c->len);
}

/* Open the store in e->dir (made when empty), blobs for inos 1..NBLOB with
 * the frames the catalog records. */
static int env_open(struct env *e)
{
	char err[256] = "";
	int rc = qvl_pool_create((uint64_t)e->budget_chunks * CHUNK, SHIFT,
				 &e->pool);
	if (!rc)
		rc = qvl_catalog_open(e->dir, SHIFT, &e->cat, err, sizeof(err));
	if (!rc)
		rc = qvl_nvme_open(e->dir, SHIFT, 32, &e->nvme);
	struct qvl_tm_config tc = {
		.pool = e->pool, .nvme = e->nvme, .cat = e->cat,
		.chunk_shift = SHIFT, .workers = workers,
		.io_error = on_io_error, .evicted = on_evicted, .arg = e,
		.lock = e->locked ? &e->lock : NULL,
		.blob_of = e->by_ino ? blob_of : NULL,
	};
	if (!rc)
		rc = qvl_tm_create(&tc, &e->tm);
	for (unsigned i = 0; !rc && i < NBLOB; i++)
		rc = qvl_blob_create_tm(e->tm, i + 1, &e->b[i]);
	static const struct qvl_cat_visitor v = { .chunk = attach };
	if (!rc)
		rc = qvl_catalog_load(e->cat, &v, e);
	if (rc)
		fprintf(stderr, "env_open: %s %s\n", strerror(-rc), err);
	return rc;
}

static void env_close(struct env *e)
{
	for (unsigned i = 0; i < NBLOB; i++) {
		qvl_blob_destroy(e->b[i]);
		e->b[i] = NULL;
	}
	qvl_tm_destroy(e->tm);
	qvl_nvme_close(e->nvme);
	qvl_catalog_close(e->cat);
	qvl_pool_destroy(e->pool);
	e->tm = NULL;
	e->nvme = NULL;
	e->cat = NULL;
	e->pool = NULL;
}

static int rm_cb(const char *p, const struct stat *st, int f, struct FTW *w)
{
	(void)st;
	(void)f;
	(void)w;
	return remove(p);
}

/* A fresh store directory, not opened yet. */
static int env_dir(struct env *e, unsigned budget_chunks)
{
	memset(e, 0, sizeof(*e));
	e->budget_chunks = budget_chunks;
	snprintf(e->dir, sizeof(e->dir), "/var/tmp/qvl-tm.XXXXXX");
	if (!mkdtemp(e->dir)) {
		snprintf(e->dir, sizeof(e->dir), "/tmp/qvl-tm.XXXXXX");
		if (!mkdtemp(e->dir))
			return -errno;
	}
	return 0;
}

static int env_new(struct env *e, unsigned budget_chunks)
{
	int rc = env_dir(e, budget_chunks);
	return rc ? rc : env_open(e);
}

static void env_free(struct env *e)
{
	env_close(e);
	nftw(e->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void check_budget(struct env *e)
{
	struct qvl_pool_stats ps;
	qvl_pool_get_stats(e->pool, &ps);
	QVL_CHECK(ps.used <= ps.budget);
}

/* The first @size bytes of @b must equal @want. */
static int same(struct qvl_blob *b, const unsigned char *want, size_t size)
{
	unsigned char *got = malloc(size ? size : 1);
	int rc = qvl_blob_read(b, got, size, 0);
	int ok = !rc && !memcmp(got, want, size);
	if (rc)
		fprintf(stderr, "  read: %s\n", strerror(-rc));
	free(got);
	return ok;
}

/* Random writes and reads over NBLOB blobs against shadows. */
static void random_io(struct env *e, unsigned char **shadow, size_t *size,
		      unsigned ops)
{
	unsigned char *buf = malloc(4 * CHUNK);
	for (unsigned op = 0; op < ops; op++) {
		unsigned i = (unsigned)(rng() % NBLOB);
		size_t len = 1 + (size_t)(rng() % (3 * CHUNK));
		size_t off = (size_t)(rng() % (MAXSZ - len));
		if (rng() % 3) {
			fill(buf, len);
			int rc = qvl_blob_write(e->b[i], buf, len, off);
			QVL_CHECK_EQ(rc, 0);
			if (rc)
				break;
			memcpy(shadow[i] + off, buf, len);
			if (off + len > size[i])
				size[i] = off + len;
		} else if (size[i]) {
			off %= size[i];
			if (len > size[i] - off)
				len = size[i] - off;
			QVL_CHECK_EQ(qvl_blob_read(e->b[i], buf, len, off), 0);
			QVL_CHECK(!memcmp(buf, shadow[i] + off, len));
		}
		check_budget(e);
		if (op % 97 == 96) {
			QVL_CHECK_EQ(qvl_tm_flush(e->tm, 0, NULL), 0);
			QVL_CHECK_EQ(qvl_tm_commit(e->tm, 0), 0);
		}
	}
	free(buf);
}

static void t_spill_reopen(void)
{
	struct env e;
	unsigned char *shadow[NBLOB];
	size_t size[NBLOB] = { 0 };
	struct qvl_tm_stats st;
	uint64_t left = 1;

	QVL_CHECK_EQ(env_new(&e, BUDGET_CHUNKS), 0);
	for (unsigned i = 0; i < NBLOB; i++)
		shadow[i] = calloc(1, MAXSZ);
	random_io(&e, shadow, size, 600);
	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK(st.evicted > 0);
	QVL_CHECK(st.fetched > 0);
	QVL_CHECK(st.resident <= BUDGET_CHUNKS);
	for (unsigned i = 0; i < NBLOB; i++)
		QVL_CHECK(same(e.b[i], shadow[i], size[i]));
	/* Everything to disk, committed, closed, opened again. */
	QVL_CHECK_EQ(qvl_tm_flush(e.tm, 0, &left), 0);
	QVL_CHECK_EQ(left, 0);
	QVL_CHECK_EQ(qvl_tm_commit(e.tm, 1), 0);
	env_close(&e);
	QVL_CHECK_EQ(env_open(&e), 0);
	for (unsigned i = 0; i < NBLOB; i++) {
		uint64_t ram, disk;
		qvl_blob_residency(e.b[i], &ram, &disk);
		QVL_CHECK_EQ(ram, 0);
		QVL_CHECK(same(e.b[i], shadow[i], size[i]));
		check_budget(&e);
	}
	QVL_CHECK_EQ(e.io_errors, 0);
	/* And more I/O on the reopened store. */
	random_io(&e, shadow, size, 200);
	for (unsigned i = 0; i < NBLOB; i++)
		QVL_CHECK(same(e.b[i], shadow[i], size[i]));
	for (unsigned i = 0; i < NBLOB; i++)
		free(shadow[i]);
	env_free(&e);
}

#define NCH 8 /* chunks per blob in the crash tests */

static void version(unsigned char *p, unsigned blob, unsigned v)
{
	uint64_t save = rng_state;
	rng_state = blob * 1000 + v;
	fill(p, NCH * CHUNK);
	for (size_t i = 0; i < NCH * CHUNK; i += 4096)
		p[i] = (unsigned char)v; /* never all-zero, never equal */
	rng_state = save;
}

/*
 * In a child: commit version 1 of every blob, then rewrite blob 1 several
 * times and evict it, truncate blob 2, punch blob 3, forget blob 4's store,
 * write frames for all of it, and die without committing.  The committed
 * version must read back.
 */
static void t_cow_crash(void)
{
	struct env e;
	unsigned char *v1[NBLOB], *tmp = malloc(NCH * CHUNK);

	QVL_CHECK_EQ(env_dir(&e, BUDGET_CHUNKS), 0);
	for (unsigned i = 0; i < NBLOB; i++) {
		v1[i] = malloc(NCH * CHUNK);
		version(v1[i], i, 1);
	}
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		QVL_CHECK_EQ(env_open(&e), 0);
		for (unsigned i = 0; i < NBLOB; i++)
			QVL_CHECK_EQ(write_big(e.b[i], v1[i], NCH * CHUNK), 0);
		QVL_CHECK_EQ(qvl_tm_flush(e.tm, 0, NULL), 0);
		QVL_CHECK_EQ(qvl_tm_commit(e.tm, 1), 0);
		for (unsigned i = 0; i < NBLOB; i++)
			QVL_CHECK(same(e.b[i], v1[i], NCH * CHUNK));
		for (unsigned v = 2; v < 6; v++) {
			version(tmp, 0, v);
			QVL_CHECK_EQ(write_big(e.b[0], tmp, NCH * CHUNK), 0);
			QVL_CHECK_EQ(qvl_blob_evict(e.b[0]), 0);
			QVL_CHECK(same(e.b[0], tmp, NCH * CHUNK));
		}
		qvl_blob_truncate(e.b[1], 3 * CHUNK + 100);
		version(tmp, 1, 7);
		QVL_CHECK_EQ(qvl_blob_write(e.b[1], tmp, 2 * CHUNK, 5 * CHUNK), 0);
		qvl_blob_punch(e.b[2], CHUNK, 4 * CHUNK);
		qvl_blob_punch(e.b[2], 6 * CHUNK + 10, 20);
		qvl_blob_forget_store(e.b[3]);
		QVL_CHECK_EQ(qvl_tm_flush(e.tm, 0, NULL), 0);
		for (unsigned i = 0; i < 3; i++)
			QVL_CHECK_EQ(qvl_blob_evict(e.b[i]), 0);
		_exit(qvl_test_failures ? 1 : 0); /* no commit, no close */
	}
	int ws = 0;
	QVL_CHECK(pid > 0 && waitpid(pid, &ws, 0) == pid);
	QVL_CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	QVL_CHECK_EQ(env_open(&e), 0);
	for (unsigned i = 0; i < NBLOB; i++) {
		QVL_CHECK(same(e.b[i], v1[i], NCH * CHUNK));
		free(v1[i]);
	}
	QVL_CHECK_EQ(e.io_errors, 0);
	free(tmp);
	env_free(&e);
}

/* Replaced and punched frames keep their space until the commit. */
static void t_deferred_punch(void)
{
	struct env e;
	unsigned char *p = malloc(NCH * CHUNK);
	QVL_CHECK_EQ(env_new(&e, BUDGET_CHUNKS), 0);
	noise(p, NCH * CHUNK);
	QVL_CHECK_EQ(write_big(e.b[0], p, NCH * CHUNK), 0);
	QVL_CHECK_EQ(qvl_blob_flush(e.b[0]), 0);
	QVL_CHECK_EQ(qvl_tm_commit(e.tm, 0), 0);
	uint64_t d0 = qvl_nvme_disk_bytes(e.nvme, 1);
	QVL_CHECK(d0 >= NCH * CHUNK);
	qvl_blob_punch(e.b[0], 2 * CHUNK, 4 * CHUNK);
	QVL_CHECK_EQ(qvl_nvme_disk_bytes(e.nvme, 1), d0); /* still committed */
	QVL_CHECK_EQ(qvl_tm_commit(e.tm, 0), 0);
	uint64_t d1 = qvl_nvme_disk_bytes(e.nvme, 1);
	QVL_CHECK(d1 < d0 && d1 <= d0 - 4 * CHUNK);
	/* A rewrite goes to the other slot; the commit frees the old one. */
	noise(p, CHUNK);
	QVL_CHECK_EQ(qvl_blob_write(e.b[0], p, CHUNK, 0), 0);
	QVL_CHECK_EQ(qvl_blob_flush(e.b[0]), 0);
	QVL_CHECK(qvl_nvme_disk_bytes(e.nvme, 1) > d1);
	QVL_CHECK_EQ(qvl_tm_commit(e.tm, 0), 0);
	QVL_CHECK(qvl_nvme_disk_bytes(e.nvme, 1) <= d1 + CHUNK / 8);
	/* A file gone: the backing file goes with the commit. */
	qvl_blob_forget_store(e.b[0]);
	QVL_CHECK(qvl_nvme_disk_bytes(e.nvme, 1) > 0);
	QVL_CHECK_EQ(qvl_tm_commit(e.tm, 0), 0);
	QVL_CHECK_EQ(qvl_nvme_disk_bytes(e.nvme, 1), 0);
	free(p);
	env_free(&e);
}

/* A damaged frame is -EIO (and reported), never wrong bytes. */
static void t_corrupt(void)
{
	struct env e;
	unsigned char *p = malloc(NCH * CHUNK), *got = malloc(CHUNK);
	char path[128];
	QVL_CHECK_EQ(env_new(&e, BUDGET_CHUNKS), 0);
	noise(p, NCH * CHUNK);
	QVL_CHECK_EQ(write_big(e.b[1], p, NCH * CHUNK), 0);
	QVL_CHECK_EQ(qvl_blob_evict(e.b[1]), 0);
	QVL_CHECK_EQ(qvl_tm_commit(e.tm, 1), 0);
	/* Flip a byte inside chunk 2's frame (slot 0: its first frame). */
	snprintf(path, sizeof(path), "%s/data/%02x/%x", e.dir, 2, 2);
	int fd = open(path, O_RDWR);
	QVL_CHECK(fd >= 0);
	off_t at = (off_t)(2 * 2 + 0) * (off_t)qvl_nvme_slot_size(e.nvme) + 200;
	unsigned char c = 0;
	QVL_CHECK_EQ(pread(fd, &c, 1, at), 1);
	c ^= 0x20;
	QVL_CHECK_EQ(pwrite(fd, &c, 1, at), 1);
	close(fd);
	QVL_CHECK_EQ(qvl_blob_read(e.b[1], got, 100, 2 * CHUNK + 5), -EIO);
	QVL_CHECK(e.io_errors >= 1);
	QVL_CHECK_EQ(e.err_ino, 2);
	QVL_CHECK_EQ(e.err_idx, 2);
	QVL_CHECK_EQ(e.err, -EIO);
	/* Its neighbours are fine. */
	QVL_CHECK_EQ(qvl_blob_read(e.b[1], got, CHUNK, 3 * CHUNK), 0);
	QVL_CHECK(!memcmp(got, p + 3 * CHUNK, CHUNK));
	QVL_CHECK_EQ(qvl_blob_read(e.b[1], got, CHUNK, CHUNK), 0);
	QVL_CHECK(!memcmp(got, p + CHUNK, CHUNK));
	/* Still -EIO on a second try; a whole overwrite heals it. */
	QVL_CHECK_EQ(qvl_blob_read(e.b[1], got, 1, 2 * CHUNK), -EIO);
	/* A write that covers chunk 1 whole and the bad chunk 2 in part fails
	 * as a whole: chunk 1 must keep its bytes, not a fresh slot's. */
	QVL_CHECK_EQ(qvl_blob_evict(e.b[1]), 0);
	unsigned char *other = malloc(CHUNK + 10);
	memset(other, 0x5a, CHUNK + 10);
	QVL_CHECK_EQ(qvl_blob_write(e.b[1], other, CHUNK + 10, CHUNK), -EIO);
	QVL_CHECK_EQ(qvl_blob_read(e.b[1], got, CHUNK, CHUNK), 0);
	QVL_CHECK(!memcmp(got, p + CHUNK, CHUNK));
	free(other);
	QVL_CHECK_EQ(qvl_blob_write(e.b[1], p + 2 * CHUNK, CHUNK, 2 * CHUNK), 0);
	QVL_CHECK(same(e.b[1], p, NCH * CHUNK));
	struct qvl_tm_stats st;
	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK(st.io_errors >= 2);
	free(p);
	free(got);
	env_free(&e);
}

/* NO_STORE: never a frame, never evicted; a budget full of it is full. */
static void t_no_store(void)
{
	struct env e;
	unsigned char *p = malloc(BUDGET_CHUNKS * CHUNK);
	struct qvl_tm_stats st;
	uint64_t left = 1;
	QVL_CHECK_EQ(env_new(&e, BUDGET_CHUNKS), 0);
	qvl_blob_set_policy(e.b[0], QVL_BLOB_NO_STORE, QVL_DTYPE_U8,
			    QVL_CODEC_POLICY_AUTO);
	version(p, 5, 1);
	QVL_CHECK_EQ(qvl_blob_write(e.b[0], p, BUDGET_CHUNKS * CHUNK, 0), 0);
	QVL_CHECK_EQ(qvl_blob_write(e.b[0], p, 1, BUDGET_CHUNKS * CHUNK), -ENOSPC);
	QVL_CHECK_EQ(qvl_blob_write(e.b[1], p, 1, 0), -ENOSPC);
	QVL_CHECK_EQ(qvl_tm_flush(e.tm, 0, &left), 0);
	QVL_CHECK_EQ(left, 0);
	QVL_CHECK_EQ(qvl_blob_flush(e.b[0]), 0);
	QVL_CHECK_EQ(qvl_blob_evict(e.b[0]), 0);
	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK_EQ(st.frames_written, 0);
	QVL_CHECK_EQ(st.evicted, 0);
	QVL_CHECK_EQ(qvl_blob_disk_bytes(e.b[0]), 0);
	QVL_CHECK_EQ(qvl_nvme_disk_bytes(e.nvme, 1), 0);
	QVL_CHECK_EQ(qvl_blob_resident(e.b[0]), BUDGET_CHUNKS * CHUNK);
	QVL_CHECK(same(e.b[0], p, BUDGET_CHUNKS * CHUNK));
	/* Freeing some of it lets others in. */
	qvl_blob_truncate(e.b[0], 8 * CHUNK);
	QVL_CHECK_EQ(write_big(e.b[1], p, 12 * CHUNK), 0);
	QVL_CHECK(same(e.b[0], p, 8 * CHUNK));
	QVL_CHECK(same(e.b[1], p, 12 * CHUNK));
	check_budget(&e);
	free(p);
	env_free(&e);
}

/* DROPPABLE (volatile): dropped under pressure, then -ESTALE. */
static void t_droppable(void)
{
	struct env e;
	unsigned char *p = malloc(32 * CHUNK), *got = malloc(CHUNK);
	struct qvl_tm_stats st;
	QVL_CHECK_EQ(env_new(&e, BUDGET_CHUNKS), 0);
	qvl_blob_set_policy(e.b[0], QVL_BLOB_NO_STORE | QVL_BLOB_DROPPABLE,
			    QVL_DTYPE_U8, QVL_CODEC_POLICY_AUTO);
	version(p, 6, 1);
	QVL_CHECK_EQ(qvl_blob_write(e.b[0], p, 8 * CHUNK, 0), 0);
	QVL_CHECK_EQ(qvl_blob_lost(e.b[0]), 0);
	fill(p, 32 * CHUNK);
	QVL_CHECK_EQ(write_big(e.b[1], p, 32 * CHUNK), 0);
	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK(st.dropped > 0);
	QVL_CHECK_EQ(qvl_blob_lost(e.b[0]), 1);
	QVL_CHECK_EQ(qvl_blob_disk_bytes(e.b[0]), 0);
	QVL_CHECK_EQ(qvl_nvme_disk_bytes(e.nvme, 1), 0);
	QVL_CHECK_EQ(qvl_blob_read(e.b[0], got, CHUNK, 0), -ESTALE);
	/* The stored blob is whole. */
	QVL_CHECK(same(e.b[1], p, 32 * CHUNK));
	/* Overwriting a dropped chunk whole makes it valid again. */
	memset(got, 0x5a, CHUNK);
	QVL_CHECK_EQ(qvl_blob_write(e.b[0], got, CHUNK, 0), 0);
	memset(got, 0, CHUNK);
	QVL_CHECK_EQ(qvl_blob_read(e.b[0], got, CHUNK, 0), 0);
	QVL_CHECK(got[0] == 0x5a && got[CHUNK - 1] == 0x5a);
	check_budget(&e);
	free(p);
	free(got);
	env_free(&e);
}

/* PINNED: never evicted, whatever the pressure. */
static void t_pinned(void)
{
	struct env e;
	unsigned char *pin = malloc(8 * CHUNK), *p = malloc(40 * CHUNK);
	uint64_t ram, disk;
	QVL_CHECK_EQ(env_new(&e, BUDGET_CHUNKS), 0);
	qvl_blob_set_policy(e.b[0], QVL_BLOB_PINNED, QVL_DTYPE_U8,
			    QVL_CODEC_POLICY_AUTO);
	version(pin, 7, 1);
	QVL_CHECK_EQ(write_big(e.b[0], pin, 8 * CHUNK), 0);
	fill(p, 40 * CHUNK);
	for (unsigned r = 0; r < 3; r++) {
		QVL_CHECK_EQ(write_big(e.b[1], p, 40 * CHUNK), 0);
		QVL_CHECK(same(e.b[1], p, 40 * CHUNK));
		qvl_blob_residency(e.b[0], &ram, &disk);
		QVL_CHECK_EQ(ram, 8);
		QVL_CHECK_EQ(disk, 0);
		check_budget(&e);
	}
	QVL_CHECK_EQ(qvl_blob_evict(e.b[0]), 0);
	qvl_blob_residency(e.b[0], &ram, &disk);
	QVL_CHECK_EQ(ram, 8);
	/* Pinned data is still written back (it persists), just kept. */
	QVL_CHECK_EQ(qvl_tm_flush(e.tm, 0, NULL), 0);
	QVL_CHECK(qvl_blob_disk_bytes(e.b[0]) > 0);
	qvl_blob_residency(e.b[0], &ram, &disk);
	QVL_CHECK_EQ(ram, 8);
	QVL_CHECK(same(e.b[0], pin, 8 * CHUNK));
	free(pin);
	free(p);
	env_free(&e);
}

/* Chunk @i of blob @k as a program reading through the page cache sees it:
 * a kernel hit (1) or a read that reaches the tier manager (0), whose
 * bytes must be @want's. */
static int kread(struct env *e, unsigned k, uint64_t i, const unsigned char *want)
{
	static unsigned char got[CHUNK];
	if (e->kc[k][i])
		return 1;
	QVL_CHECK_EQ(qvl_blob_read(e->b[k], got, CHUNK, i * CHUNK), 0);
	QVL_CHECK(!memcmp(got, want + i * CHUNK, CHUNK));
	e->kc[k][i] = 1;
	check_budget(e);
	return 0;
}

/* Blob @k holds @n chunks of @p, on disk only, out of the page cache. */
static void kput(struct env *e, unsigned k, const unsigned char *p, unsigned n)
{
	QVL_CHECK_EQ(write_big(e->b[k], p, (size_t)n * CHUNK), 0);
	QVL_CHECK_EQ(qvl_blob_evict(e->b[k]), 0);
}

/*
 * The page cache on a loop larger than RAM, hits being the kernel's (the
 * tier manager never sees them): a loop of 2x the budget keeps a part of
 * itself for the passes after (optimal: about budget/loop), where a
 * recency order keeps nothing; a hot set stays while a scan runs past it;
 * and a working set that replaces another takes the page cache over.
 */
static void t_kernel_loop(void)
{
	enum { B = 64, L = 2 * B };
	struct env e;
	unsigned char *p = malloc((size_t)KC_CHUNKS * CHUNK);
	struct qvl_tm_stats st;
	QVL_CHECK_EQ(env_new(&e, B), 0);
	fill(p, (size_t)KC_CHUNKS * CHUNK);
	kput(&e, 0, p, L);
	unsigned hits[6] = { 0 };
	for (unsigned pass = 0; pass < 6; pass++)
		for (uint64_t i = 0; i < L; i++)
			hits[pass] += (unsigned)kread(&e, 0, i, p);
	fprintf(stderr, "    loop %u chunks in %u: kernel hits per pass", L, B);
	for (unsigned pass = 0; pass < 6; pass++)
		fprintf(stderr, " %u", hits[pass]);
	fprintf(stderr, " (optimal about %u)\n", B);
	for (unsigned pass = 2; pass < 6; pass++)
		QVL_CHECK(hits[pass] >= L / 4);
	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK_EQ(st.pc_loop, 1);
	QVL_CHECK(st.pc_long_reuse > 0);

	/* A hot set of 8 chunks read between every 4 of a scan of 200. */
	kput(&e, 1, p, 8);
	kput(&e, 2, p, 200);
	unsigned hot = 0, hot_reads = 0;
	for (uint64_t s = 0; s < 200; s += 4) {
		for (uint64_t i = 0; i < 8; i++, hot_reads++)
			hot += (unsigned)kread(&e, 1, i, p);
		for (uint64_t i = s; i < s + 4; i++)
			kread(&e, 2, i, p);
	}
	fprintf(stderr, "    hot set with a scan: %u of %u hot reads hit\n",
		hot, hot_reads);
	QVL_CHECK(hot * 10 >= hot_reads * 9);

	/* Working set A (40 chunks) five times, then B (40 others). */
	kput(&e, 3, p, 80);
	for (unsigned r = 0; r < 5; r++)
		for (uint64_t i = 0; i < 40; i++)
			kread(&e, 3, i, p);
	unsigned late = 0;
	for (unsigned r = 0; r < 8; r++)
		for (uint64_t i = 40; i < 80; i++)
			late += r >= 4 ? (unsigned)kread(&e, 3, i, p)
				       : (kread(&e, 3, i, p), 0);
	fprintf(stderr, "    a new working set: %u of 160 reads hit once it "
			"settled\n", late);
	QVL_CHECK(late >= 150);
	free(p);
	env_free(&e);
}

/* A read as the filesystem does one: under the lock, its own chunks from
 * the store read without it (a few rounds, then under it), then the
 * readahead it planned run without it and landed with it. */
static int aread(struct env *e, struct qvl_blob *b, void *buf, size_t len,
		 uint64_t off)
{
	struct qvl_ahead ah = { .own_ok = 1 };
	pthread_mutex_lock(&e->lock);
	int rc;
	for (unsigned round = 1;
	     (rc = qvl_blob_read_ahead(b, buf, len, off, 0, &ah, NULL)) ==
	     QVL_READ_PLANNED;
	     round++) {
		pthread_mutex_unlock(&e->lock);
		qvl_tm_ahead_run(e->tm, &ah);
		pthread_mutex_lock(&e->lock);
		qvl_tm_ahead_land(e->tm, &ah);
		ah.own_ok = round < QVL_READ_OWN_ROUNDS;
	}
	pthread_mutex_unlock(&e->lock);
	if (ah.blob) {
		qvl_tm_ahead_run(e->tm, &ah);
		pthread_mutex_lock(&e->lock);
		qvl_tm_ahead_land(e->tm, &ah);
		pthread_mutex_unlock(&e->lock);
	}
	return rc;
}

/* Plan a readahead of @b from chunk 0 (a read of chunk 0), without
 * running it: the chunks after it are in flight.  Advice sequential: the
 * learned window may have shrunk to nothing on the streams before. */
static void plan_only(struct qvl_blob *b, struct qvl_ahead *ah)
{
	static unsigned char one[CHUNK];
	qvl_blob_set_policy(b, QVL_BLOB_SEQUENTIAL, QVL_DTYPE_U8,
			    QVL_CODEC_POLICY_AUTO);
	QVL_CHECK_EQ(qvl_blob_read_ahead(b, one, CHUNK, 0, 0, ah, NULL), 0);
	QVL_CHECK(ah->blob != NULL && ah->n > 0);
}

struct areader {
	struct env *e;
	unsigned k;
	const unsigned char *want;
	unsigned bad;
};

static void *areader_main(void *arg)
{
	struct areader *r = arg;
	static __thread unsigned char got[4 * CHUNK];
	for (unsigned pass = 0; pass < 3; pass++)
		for (uint64_t off = 0; off < 40 * CHUNK; off += 4 * CHUNK)
			if (aread(r->e, r->e->b[r->k], got, 4 * CHUNK, off) ||
			    memcmp(got, r->want + off, 4 * CHUNK))
				r->bad++;
	return NULL;
}

/*
 * Readahead off the lock (tiers/ahead.c): streams read back exactly with
 * readahead landing behind them, from two threads at once; and what may
 * happen to chunks while they are in flight -- a write over them, a punch,
 * the blob destroyed -- loses nothing and leaks nothing (the sanitizer
 * build checks the second).
 */
static void t_ahead(void)
{
	struct env e;
	unsigned char *p = malloc(48 * CHUNK), *q = malloc(48 * CHUNK);
	unsigned char *got = malloc(48 * CHUNK);
	struct qvl_tm_stats st;
	QVL_CHECK_EQ(env_dir(&e, 32), 0);
	e.locked = 1;
	pthread_mutex_init(&e.lock, NULL);
	QVL_CHECK_EQ(env_open(&e), 0);
	fill(p, 48 * CHUNK);
	fill(q, 48 * CHUNK);
	for (unsigned k = 0; k < 3; k++)
		kput(&e, k, k == 1 ? q : p, 40);

	/* Two streams at once. */
	struct areader r[2] = { { &e, 0, p, 0 }, { &e, 1, q, 0 } };
	pthread_t th[2];
	for (unsigned i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, areader_main, &r[i]);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	QVL_CHECK_EQ(r[0].bad, 0);
	QVL_CHECK_EQ(r[1].bad, 0);
	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK(st.ahead_landed > 0);
	check_budget(&e);

	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK(st.ahead_own > 0); /* the streams' own chunks, off the lock */

	/* A write over a chunk in flight: the write's bytes win. */
	struct qvl_ahead ah = { .blob = NULL };
	QVL_CHECK_EQ(qvl_blob_evict(e.b[2]), 0);
	pthread_mutex_lock(&e.lock);
	plan_only(e.b[2], &ah);
	uint64_t victim = ah.idx[0];
	QVL_CHECK_EQ(qvl_blob_write(e.b[2], q + victim * CHUNK, CHUNK,
				    victim * CHUNK), 0);
	pthread_mutex_unlock(&e.lock);
	qvl_tm_ahead_run(e.tm, &ah);
	pthread_mutex_lock(&e.lock);
	qvl_tm_ahead_land(e.tm, &ah);
	memcpy(p + victim * CHUNK, q + victim * CHUNK, CHUNK);
	QVL_CHECK(same(e.b[2], p, 40 * CHUNK));

	/* A punch of chunks in flight: they read as zeros after. */
	QVL_CHECK_EQ(qvl_blob_evict(e.b[2]), 0);
	plan_only(e.b[2], &ah);
	uint64_t from = ah.idx[0], n = ah.n;
	qvl_blob_punch(e.b[2], from * CHUNK, n * CHUNK);
	pthread_mutex_unlock(&e.lock);
	qvl_tm_ahead_run(e.tm, &ah);
	pthread_mutex_lock(&e.lock);
	qvl_tm_ahead_land(e.tm, &ah);
	memset(p + from * CHUNK, 0, n * CHUNK);
	QVL_CHECK(same(e.b[2], p, 40 * CHUNK));

	/* The blob destroyed with a batch in flight: the landing frees it. */
	QVL_CHECK_EQ(qvl_blob_evict(e.b[0]), 0);
	plan_only(e.b[0], &ah);
	qvl_blob_destroy(e.b[0]);
	e.b[0] = NULL;
	pthread_mutex_unlock(&e.lock);
	qvl_tm_ahead_run(e.tm, &ah);
	pthread_mutex_lock(&e.lock);
	qvl_tm_ahead_land(e.tm, &ah);
	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK(st.ahead_dropped >= 1 + n);
	pthread_mutex_unlock(&e.lock);
	check_budget(&e);
	(void)got;
	free(p);
	free(q);
	free(got);
	env_free(&e);
	pthread_mutex_destroy(&e.lock);
}

/* The bytes @r's iovec describes, joined, must be @want's @len. */
static int reply_is(const struct qvl_reply *r, const unsigned char *want,
		    size_t len)
{
	size_t at = 0;
	for (unsigned i = 0; i < r->n; i++) {
		const struct iovec *v = &r->iov[i];
		if (at + v->iov_len > len || memcmp(v->iov_base, want + at,
						    v->iov_len))
			return 0;
		at += v->iov_len;
	}
	return at == len;
}

/*
 * Replies straight from chunk memory (tiers/reply.c): the iovec holds the
 * read's bytes; a pinned chunk does not leave RAM under pressure; one
 * truncated away keeps its memory, untouched by later allocations, until
 * the reply is done, which gives it back (the sanitizer build would catch
 * a read of freed memory or a leak).  A read over more chunks than the
 * iovec takes is copied in part, and still right.
 */
static void t_reply(void)
{
	struct env e;
	unsigned char *p = malloc(48 * CHUNK), *q = malloc(48 * CHUNK);
	unsigned char *got = malloc(48 * CHUNK);
	struct qvl_reply *r = malloc(sizeof(*r)), *r2 = malloc(sizeof(*r2));
	struct qvl_reply *r3 = malloc(sizeof(*r3));
	struct qvl_tm_stats st;
	struct qvl_pool_stats ps0, ps1;
	QVL_CHECK_EQ(env_new(&e, 40), 0); /* replies may pin 5 chunks */
	fill(p, 48 * CHUNK);
	fill(q, 48 * CHUNK);
	QVL_CHECK_EQ(write_big(e.b[0], p, 6 * CHUNK), 0);
	QVL_CHECK_EQ(qvl_tm_flush(e.tm, 0, NULL), 0);
	QVL_CHECK_EQ(qvl_blob_evict(e.b[0]), 0);

	size_t off = CHUNK / 2, len = 3 * CHUNK;
	QVL_CHECK_EQ(qvl_blob_read_ahead(e.b[0], got, len, off, 0, NULL, r),
		     0);
	QVL_CHECK_EQ(r->npin, 4);
	QVL_CHECK(reply_is(r, p + off, len));
	/* A second reply pins the same chunks again. */
	QVL_CHECK_EQ(qvl_blob_read_ahead(e.b[0], got, CHUNK, 0, 0, NULL, r2),
		     0);
	QVL_CHECK(reply_is(r2, p, CHUNK));
	/* Past an eighth of the budget pinned, a reply is a copy. */
	QVL_CHECK_EQ(qvl_blob_read_ahead(e.b[0], got, CHUNK, 5 * CHUNK, 0,
					 NULL, r3), 0);
	QVL_CHECK_EQ(r3->npin, 0);
	QVL_CHECK(reply_is(r3, p + 5 * CHUNK, CHUNK));

	/* Pressure: 48 chunks through a 40-chunk budget around them (the
	 * page cache of what was read is charged, and stays too). */
	QVL_CHECK_EQ(write_big(e.b[1], q, 48 * CHUNK), 0);
	QVL_CHECK(same(e.b[1], q, 48 * CHUNK));
	check_budget(&e);
	QVL_CHECK(reply_is(r, p + off, len));

	/* Truncated away while replies read it: its memory waits, and is
	 * given back by the last reply done. */
	qvl_blob_truncate(e.b[0], 0);
	QVL_CHECK_EQ(write_big(e.b[2], q, 48 * CHUNK), 0);
	QVL_CHECK(reply_is(r, p + off, len));
	QVL_CHECK(reply_is(r2, p, CHUNK));
	qvl_tm_get_stats(e.tm, &st);
	QVL_CHECK_EQ(st.reply_graves, 4);
	QVL_CHECK(st.reply_pinned_bytes >= len + CHUNK);
	qvl_pool_get_stats(e.pool, &ps0);
	qvl_tm_reply_done(e.tm, r);
	qvl_pool_get_stats(e.pool, &ps1);
	QVL_CHECK_EQ(ps0.used - ps1.used, 3 * CHUNK); /* chunk 0: r2's too */
	qvl_tm_reply_done(e.tm, r2);
	QVL_CHECK_EQ(r->n, 0);
	qvl_pool_get_stats(e.pool, &ps0);
	QVL_CHECK_EQ(ps1.used - ps0.used, CHUNK);
	check_budget(&e);

	/* More pieces than the iovec holds. */
	env_free(&e);
	QVL_CHECK_EQ(env_new(&e, 48), 0);
	QVL_CHECK_EQ(write_big(e.b[3], p, 40 * CHUNK), 0);
	memset(p + 7 * CHUNK, 0, 3 * CHUNK); /* holes in between */
	qvl_blob_punch(e.b[3], 7 * CHUNK, 3 * CHUNK);
	QVL_CHECK_EQ(qvl_blob_read_ahead(e.b[3], got, 40 * CHUNK - 5, 3, 0,
					 NULL, r), 0);
	QVL_CHECK(reply_is(r, p + 3, 40 * CHUNK - 5));
	QVL_CHECK(r->n <= QVL_REPLY_MAX);
	qvl_tm_reply_done(e.tm, r);
	check_budget(&e);
	free(p);
	free(q);
	free(got);
	free(r);
	free(r2);
	free(r3);
	env_free(&e);
}

/* The chunks of @b in RAM. */
static uint64_t in_ram(struct qvl_blob *b)
{
	uint64_t ram, disk;
	qvl_blob_residency(b, &ram, &disk);
	return ram;
}

/*
 * Priorities 0-9 in eviction: files at priorities 3, 1 and 7 (written in
 * that order) fill most of RAM, then a file at the default (5) is written
 * through it.  What it needs comes from priority 1, though 3's chunks are
 * older; 7's stay.  (With two classes, "at most 5" and the rest, CLOCK
 * took 3's older chunks first.)
 */
static void t_priority(void)
{
	struct env e;
	unsigned char *p = malloc(12 * CHUNK), *got = malloc(12 * CHUNK);
	static const unsigned prio[NBLOB] = { 1, 3, 7, 5 };
	QVL_CHECK_EQ(env_new(&e, 16), 0);
	uint64_t saved = rng_state; /* the tests after it see the same data */
	noise(p, 12 * CHUNK); /* frames do not stay in RAM: raw only */
	rng_state = saved;
	for (unsigned k = 0; k < NBLOB; k++)
		qvl_blob_set_priority(e.b[k], prio[k]);
	static const unsigned order[3] = { 1, 0, 2 };
	for (unsigned j = 0; j < 3; j++)
		for (unsigned i = 0; i < 4; i++)
			QVL_CHECK_EQ(qvl_blob_write_flags(e.b[order[j]],
							  p + i * CHUNK, CHUNK,
							  i * CHUNK,
							  QVL_IO_UNCACHED), 0);
	/* 4 chunks beyond the 4 free: priority 1's four. */
	for (unsigned i = 0; i < 8; i++)
		QVL_CHECK_EQ(qvl_blob_write_flags(e.b[3], p + i * CHUNK, CHUNK,
						  i * CHUNK, QVL_IO_UNCACHED),
			     0);
	fprintf(stderr, "    in RAM after the write, chunks: priority 1: %llu,"
			" 3: %llu, 7: %llu, 5 (the writer): %llu\n",
		(unsigned long long)in_ram(e.b[0]),
		(unsigned long long)in_ram(e.b[1]),
		(unsigned long long)in_ram(e.b[2]),
		(unsigned long long)in_ram(e.b[3]));
	QVL_CHECK_EQ(in_ram(e.b[0]), 0);
	QVL_CHECK_EQ(in_ram(e.b[1]), 4);
	QVL_CHECK_EQ(in_ram(e.b[2]), 4);
	check_budget(&e);
	for (unsigned k = 0; k < NBLOB; k++) {
		size_t n = (k == 3 ? 8 : 4) * CHUNK;
		QVL_CHECK_EQ(qvl_blob_read(e.b[k], got, n, 0), 0);
		QVL_CHECK(!memcmp(got, p, n));
	}
	free(p);
	free(got);
	env_free(&e);
}

/* Bytes that code to about half a chunk: frames of them stay in RAM. */
static void half(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rng() & 15);
}

/* The loop of t_predict over NBLOB files of @file_chunks chunks of @p
 * through RAM of 16 chunks, with the files' order (@with) or without:
 * fills hits[pass] with chunks read without a fetch from disk. */
static void predict_loop(int with, const unsigned char *p, unsigned file_chunks,
			 unsigned *hits, unsigned passes, const char *what)
{
	size_t len = (size_t)file_chunks * CHUNK;
	unsigned char *got = malloc(len);
	struct qvl_tm_stats st;
	struct env e;
	QVL_CHECK_EQ(env_dir(&e, 16), 0);
	e.by_ino = with;
	QVL_CHECK_EQ(env_open(&e), 0);
	for (unsigned k = 0; k < NBLOB; k++)
		kput(&e, k, p, file_chunks);
	for (unsigned pass = 0; pass < passes; pass++) {
		qvl_tm_get_stats(e.tm, &st);
		uint64_t fetched = st.fetched;
		for (unsigned k = 0; k < NBLOB; k++) {
			for (size_t off = 0; off < len; off += CHUNK)
				QVL_CHECK_EQ(qvl_blob_read_flags(
						     e.b[k], got + off, CHUNK,
						     off, QVL_IO_UNCACHED), 0);
			QVL_CHECK(!memcmp(got, p, len));
			check_budget(&e);
		}
		qvl_tm_get_stats(e.tm, &st);
		hits[pass] = NBLOB * file_chunks - (unsigned)(st.fetched - fetched);
	}
	fprintf(stderr, "    %s, loop of %u chunks in 16, %s: hits per pass",
		what, NBLOB * file_chunks, with ? "predicted" : "no prediction");
	for (unsigned pass = 0; pass < passes; pass++)
		fprintf(stderr, " %u", hits[pass]);
	fprintf(stderr, " (evicted as predicted %llu)\n",
		(unsigned long long)st.pred_evicted);
	if (with) {
		QVL_CHECK_EQ(st.pred_files, NBLOB);
		QVL_CHECK(st.pred_evicted > 0);
	} else {
		QVL_CHECK_EQ(st.pred_evicted, 0);
	}
	free(got);
	env_free(&e);
}

/*
 * Predicted next use in eviction (tiers/predict.c): NBLOB files read whole
 * (around the page cache, as O_DIRECT does), one after another, again and
 * again, through RAM of 16 chunks.  On raw chunks CLOCK (like LRU) evicts
 * on a loop exactly what is read next: no pass hits.  With the files'
 * order learned, the file read last is needed furthest away and leaves
 * first, so a part of the loop stays for the next pass (the optimal
 * policy keeps about 15 chunks of 32).  Frames in RAM (LIRS) are checked
 * to do no worse with the prediction than without.
 */
static void t_predict(void)
{
	enum { PASSES = 6 };
	unsigned char *p = malloc(16 * CHUNK);
	unsigned hits[2][PASSES];
	uint64_t saved = rng_state; /* the tests after it see the same data */
	noise(p, 8 * CHUNK); /* frames do not stay in RAM: raw only */
	for (int with = 0; with < 2; with++)
		predict_loop(with, p, 8, hits[with], PASSES, "raw");
	for (unsigned pass = 2; pass < PASSES; pass++) {
		QVL_CHECK(hits[1][pass] >= 8);
		QVL_CHECK(hits[1][pass] > hits[0][pass]);
	}
	half(p, 16 * CHUNK);
	for (int with = 0; with < 2; with++)
		predict_loop(with, p, 8, hits[with], PASSES, "frames");
	unsigned sum[2] = { 0, 0 };
	for (unsigned pass = 2; pass < PASSES; pass++)
		for (int with = 0; with < 2; with++)
			sum[with] += hits[with][pass];
	QVL_CHECK(sum[1] >= sum[0]);
	rng_state = saved;
	free(p);
}

int main(void)
{
	static const unsigned crews[] = { 0, 3 };
	for (unsigned i = 0; i < 2; i++) {
		workers = crews[i];
		fprintf(stderr, " with %u worker threads:\n", workers);
		QVL_RUN(t_spill_reopen);
		QVL_RUN(t_cow_crash);
		QVL_RUN(t_deferred_punch);
		QVL_RUN(t_corrupt);
		QVL_RUN(t_no_store);
		QVL_RUN(t_droppable);
		QVL_RUN(t_pinned);
		QVL_RUN(t_kernel_loop);
		QVL_RUN(t_ahead);
		QVL_RUN(t_reply);
		QVL_RUN(t_priority);
		QVL_RUN(t_predict);
	}
	return QVL_TEST_EXIT();
}

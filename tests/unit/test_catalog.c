/*
 * test_catalog.c - unit tests for the SQLite catalog (tiers/catalog*.c)
 * against the contract in tiers/qvl_catalog.h.  Each case makes its own
 * store under /tmp and removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "qvl_catalog.h"

#define SHIFT 20

/* ---- stores ---- */

static char *store_new(void)
{
	char tmpl[] = "/tmp/qvl-cat.XXXXXX";
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		exit(1);
	}
	return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *sb, int type,
		  struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void store_free(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static void db_path(const char *dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/catalog.db", dir);
}

static struct qvl_catalog *cat_open(const char *dir)
{
	struct qvl_catalog *cat = NULL;
	char err[256] = "";
	int rc = qvl_catalog_open(dir, SHIFT, &cat, err, sizeof(err));
	if (rc)
		fprintf(stderr, "open %s: %d %s\n", dir, rc, err);
	QVL_CHECK_EQ(rc, 0);
	return cat;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- a visitor that keeps everything ---- */

struct rec_inode {
	struct qvl_cat_inode in;
	char link[64];
	unsigned char hints[64];
};

struct rec_dirent {
	uint64_t parent, ino;
	char name[64];
};

struct rec_xattr {
	uint64_t ino;
	char name[64];
	unsigned char value[64];
	size_t len;
	int value_null;
};

#define REC_MAX 64

struct rec {
	struct rec_inode inodes[REC_MAX];
	struct rec_dirent dirents[REC_MAX];
	struct rec_xattr xattrs[REC_MAX];
	struct qvl_cat_chunk chunks[REC_MAX];
	int ni, nd, nx, nc;
	char order[4 * REC_MAX + 1]; /* 'i', 'd', 'x', 'c' as visited */
	int norder;
	int stop_after; /* visitor calls before answering 42; 0 = never */
};

static int rec_note(struct rec *r, char kind)
{
	if (r->norder < 4 * REC_MAX)
		r->order[r->norder++] = kind;
	if (r->stop_after && r->norder >= r->stop_after)
		return 42;
	return 0;
}

static int rec_inode_cb(void *arg, const struct qvl_cat_inode *in)
{
	struct rec *r = arg;
	if (r->ni < REC_MAX) {
		struct rec_inode *ri = &r->inodes[r->ni++];
		ri->in = *in;
		ri->in.link = NULL;
		ri->in.hints = NULL;
		if (in->link) {
			snprintf(ri->link, sizeof(ri->link), "%s", in->link);
			ri->in.link = ri->link;
		}
		if (in->hints && in->hints_len <= sizeof(ri->hints)) {
			memcpy(ri->hints, in->hints, in->hints_len);
			ri->in.hints = ri->hints;
		}
	}
	return rec_note(r, 'i');
}

static int rec_dirent_cb(void *arg, uint64_t parent, const char *name,
			 uint64_t ino)
{
	struct rec *r = arg;
	if (r->nd < REC_MAX) {
		struct rec_dirent *d = &r->dirents[r->nd++];
		d->parent = parent;
		d->ino = ino;
		snprintf(d->name, sizeof(d->name), "%s", name);
	}
	return rec_note(r, 'd');
}

static int rec_xattr_cb(void *arg, uint64_t ino, const char *name,
			const void *value, size_t len)
{
	struct rec *r = arg;
	if (r->nx < REC_MAX) {
		struct rec_xattr *x = &r->xattrs[r->nx++];
		x->ino = ino;
		snprintf(x->name, sizeof(x->name), "%s", name);
		x->value_null = value == NULL;
		x->len = len;
		if (value && len <= sizeof(x->value))
			memcpy(x->value, value, len);
	}
	return rec_note(r, 'x');
}

static int rec_chunk_cb(void *arg, const struct qvl_cat_chunk *c)
{
	struct rec *r = arg;
	if (r->nc < REC_MAX)
		r->chunks[r->nc++] = *c;
	return rec_note(r, 'c');
}

static const struct qvl_cat_visitor rec_visitor = {
	.inode = rec_inode_cb,
	.dirent = rec_dirent_cb,
	.xattr = rec_xattr_cb,
	.chunk = rec_chunk_cb,
};

static struct rec *load_all(struct qvl_catalog *cat)
{
	struct rec *r = calloc(1, sizeof(*r));
	QVL_CHECK_EQ(qvl_catalog_load(cat, &rec_visitor, r), 0);
	return r;
}

static const struct rec_inode *find_inode(const struct rec *r, uint64_t ino)
{
	for (int i = 0; i < r->ni; i++)
		if (r->inodes[i].in.ino == ino)
			return &r->inodes[i];
	return NULL;
}

static struct qvl_cat_inode mk_inode(uint64_t ino, uint32_t mode)
{
	struct qvl_cat_inode in = {
		.ino = ino,
		.mode = mode,
		.uid = 1000 + (uint32_t)ino,
		.gid = 2000 + (uint32_t)ino,
		.nlink = 1,
		.size = ino * 4096,
		.atime_ns = 1700000000123456789LL + (int64_t)ino,
		.mtime_ns = -5, /* before 1970: negative stays negative */
		.ctime_ns = 1700000000000000000LL,
	};
	return in;
}

/* ---- cases ---- */

/* Field by field: the struct has padding, which memcmp would compare. */
static int same_chunk(const struct qvl_cat_chunk *a,
		      const struct qvl_cat_chunk *b)
{
	return a->ino == b->ino && a->idx == b->idx && a->slot == b->slot &&
	       a->len == b->len && a->rkey == b->rkey;
}

static void test_roundtrip(void)
{
	char *dir = store_new();
	struct qvl_catalog *cat = cat_open(dir);
	uint64_t v = 0;

	QVL_CHECK_EQ(qvl_catalog_get_meta(cat, "next_ino", &v), 0);
	QVL_CHECK_EQ(v, 16);
	QVL_CHECK_EQ(qvl_catalog_get_meta(cat, "chunk_shift", &v), 0);
	QVL_CHECK_EQ(v, SHIFT);
	QVL_CHECK_EQ(qvl_catalog_get_meta(cat, "nope", &v), -ENOENT);
	QVL_CHECK_EQ(qvl_catalog_set_meta(cat, "next_ino", 1234), 0);
	QVL_CHECK_EQ(qvl_catalog_set_meta(cat, "big", UINT64_MAX - 1), 0);

	struct qvl_cat_inode root = mk_inode(1, 040755);
	root.nlink = 3;
	root.parent = 1;
	struct qvl_cat_inode file = mk_inode(17, 0100644);
	static const unsigned char hints[] = { 0, 1, 2, 0xff, 0, 7 };
	file.hints = hints;
	file.hints_len = sizeof(hints);
	file.size = UINT64_MAX - 7;
	file.rdev = 0;
	struct qvl_cat_inode lnk = mk_inode(18, 0120777);
	lnk.link = "../some/target";
	struct qvl_cat_inode dev = mk_inode(19, 020600);
	dev.rdev = 0x0801;
	struct qvl_cat_inode *all[] = { &root, &file, &lnk, &dev };
	for (int i = 0; i < 4; i++)
		QVL_CHECK_EQ(qvl_catalog_put_inode(cat, all[i]), 0);

	QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, "file", 17), 0);
	QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, "link", 18), 0);
	QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, "dev", 19), 0);
	QVL_CHECK_EQ(qvl_catalog_put_xattr(cat, 17, "user.a", "hello", 5), 0);
	QVL_CHECK_EQ(qvl_catalog_put_xattr(cat, 17, "user.empty", "", 0), 0);
	QVL_CHECK_EQ(qvl_catalog_put_xattr(cat, 17, "user.bin", "\0\1\0", 3),
		     0);
	struct qvl_cat_chunk c0 = { 17, 0, 1, 12345, NULL, 0 };
	struct qvl_cat_chunk c9 = { 17, 9, 0, 1 << 20, NULL, 0 };
	QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &c0), 0);
	QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &c9), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	qvl_catalog_close(cat);

	cat = cat_open(dir);
	QVL_CHECK_EQ(qvl_catalog_get_meta(cat, "next_ino", &v), 0);
	QVL_CHECK_EQ(v, 1234);
	QVL_CHECK_EQ(qvl_catalog_get_meta(cat, "big", &v), 0);
	QVL_CHECK(v == UINT64_MAX - 1);
	struct rec *r = load_all(cat);
	QVL_CHECK_EQ(r->ni, 4);
	for (int i = 0; i < 4 && i < r->ni; i++) {
		const struct qvl_cat_inode *a = all[i], *b = &r->inodes[i].in;
		QVL_CHECK(a->ino == b->ino && a->mode == b->mode &&
			  a->uid == b->uid && a->gid == b->gid &&
			  a->nlink == b->nlink && a->rdev == b->rdev &&
			  a->size == b->size && a->atime_ns == b->atime_ns &&
			  a->mtime_ns == b->mtime_ns &&
			  a->ctime_ns == b->ctime_ns &&
			  a->parent == b->parent &&
			  a->hints_len == b->hints_len);
		QVL_CHECK((a->link == NULL) == (b->link == NULL));
		QVL_CHECK((a->hints == NULL) == (b->hints == NULL));
	}
	const struct rec_inode *f = find_inode(r, 17);
	QVL_CHECK(f && f->in.hints_len == sizeof(hints) &&
		  !memcmp(f->hints, hints, sizeof(hints)));
	const struct rec_inode *l = find_inode(r, 18);
	QVL_CHECK(l && l->in.link);
	if (l && l->in.link)
		QVL_CHECK_STR(l->in.link, "../some/target");

	QVL_CHECK_EQ(r->nd, 3); /* ordered by (parent, name) */
	QVL_CHECK_STR(r->dirents[0].name, "dev");
	QVL_CHECK_STR(r->dirents[1].name, "file");
	QVL_CHECK_STR(r->dirents[2].name, "link");
	QVL_CHECK_EQ(r->dirents[1].ino, 17);
	QVL_CHECK_EQ(r->dirents[1].parent, 1);

	QVL_CHECK_EQ(r->nx, 3); /* ordered by (ino, name) */
	QVL_CHECK_STR(r->xattrs[0].name, "user.a");
	QVL_CHECK(r->xattrs[0].len == 5 &&
		  !memcmp(r->xattrs[0].value, "hello", 5));
	QVL_CHECK_STR(r->xattrs[1].name, "user.bin");
	QVL_CHECK(r->xattrs[1].len == 3 &&
		  !memcmp(r->xattrs[1].value, "\0\1\0", 3));
	QVL_CHECK_STR(r->xattrs[2].name, "user.empty");
	QVL_CHECK(r->xattrs[2].len == 0 && !r->xattrs[2].value_null);

	QVL_CHECK_EQ(r->nc, 2);
	QVL_CHECK(same_chunk(&r->chunks[0], &c0));
	QVL_CHECK(same_chunk(&r->chunks[1], &c9));
	free(r);
	qvl_catalog_close(cat);
	qvl_catalog_close(NULL);
	store_free(dir);
}

static void test_commit_noop(void)
{
	char *dir = store_new();
	struct qvl_catalog *cat = cat_open(dir);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 0), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	struct qvl_cat_inode in = mk_inode(20, 0100600);
	QVL_CHECK_EQ(qvl_catalog_put_inode(cat, &in), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 0), 0);
	/* Nothing open, but the commit before it is not yet synced. */
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	qvl_catalog_close(cat);
	store_free(dir);
}

/* A child commits some changes, leaves more uncommitted (@spill: enough
 * that SQLite spills them into the WAL), then dies by @how. */
static void crash_case(int how, int spill)
{
	char *dir = store_new();
	pid_t pid = fork();
	if (pid == 0) {
		struct qvl_catalog *cat = NULL;
		if (qvl_catalog_open(dir, SHIFT, &cat, NULL, 0))
			_exit(3);
		struct qvl_cat_inode in = mk_inode(100, 0100644);
		qvl_catalog_put_inode(cat, &in);
		qvl_catalog_put_dirent(cat, 1, "a", 100);
		qvl_catalog_set_meta(cat, "next_ino", 101);
		if (qvl_catalog_commit(cat, 0))
			_exit(4);
		in = mk_inode(101, 0100644);
		qvl_catalog_put_inode(cat, &in);
		qvl_catalog_put_xattr(cat, 100, "user.x", "1", 1);
		if (qvl_catalog_commit(cat, 1))
			_exit(5);
		/* Not committed: */
		qvl_catalog_set_meta(cat, "next_ino", 999999);
		qvl_catalog_del_inode(cat, 100);
		qvl_catalog_del_dirent(cat, 1, "a");
		static unsigned char hints[200];
		for (uint64_t i = 0; i < (spill ? 30000u : 1u); i++) {
			in = mk_inode(1000 + i, 0100644);
			in.hints = hints;
			in.hints_len = sizeof(hints);
			qvl_catalog_put_inode(cat, &in);
		}
		if (how == SIGKILL)
			kill(getpid(), SIGKILL);
		_exit(0);
	}
	int status = 0;
	QVL_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	if (how == SIGKILL)
		QVL_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	else
		QVL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	struct qvl_catalog *cat = cat_open(dir);
	uint64_t v = 0;
	QVL_CHECK_EQ(qvl_catalog_get_meta(cat, "next_ino", &v), 0);
	QVL_CHECK_EQ(v, 101);
	struct rec *r = load_all(cat);
	QVL_CHECK_EQ(r->ni, 2);
	QVL_CHECK(find_inode(r, 100) && find_inode(r, 101));
	QVL_CHECK_EQ(r->nd, 1);
	QVL_CHECK_EQ(r->nx, 1);
	QVL_CHECK_EQ(r->nc, 0);
	free(r);
	qvl_catalog_close(cat);
	store_free(dir);
}

static void test_crash_exit(void)
{
	crash_case(0, 0);
}

static void test_crash_kill9(void)
{
	crash_case(SIGKILL, 0);
}

static void test_crash_kill9_spilled(void)
{
	crash_case(SIGKILL, 1);
}

static void test_replace(void)
{
	char *dir = store_new();
	struct qvl_catalog *cat = cat_open(dir);
	struct qvl_cat_inode in = mk_inode(30, 0100644);
	in.link = "x";
	in.hints = "abc";
	in.hints_len = 3;
	QVL_CHECK_EQ(qvl_catalog_put_inode(cat, &in), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 0), 0);
	in.size = 77;
	in.nlink = 2;
	in.link = NULL;
	in.hints = NULL;
	in.hints_len = 0;
	QVL_CHECK_EQ(qvl_catalog_put_inode(cat, &in), 0);
	QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, "n", 30), 0);
	QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, "n", 31), 0);
	QVL_CHECK_EQ(qvl_catalog_put_xattr(cat, 30, "user.k", "old", 3), 0);
	QVL_CHECK_EQ(qvl_catalog_put_xattr(cat, 30, "user.k", "newer", 5), 0);
	struct qvl_cat_chunk c = { 30, 3, 0, 100, NULL, 0 };
	QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &c), 0);
	c.slot = 1;
	c.len = 200;
	QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &c), 0);
	QVL_CHECK_EQ(qvl_catalog_set_meta(cat, "k", 1), 0);
	QVL_CHECK_EQ(qvl_catalog_set_meta(cat, "k", 2), 0);
	qvl_catalog_close(cat); /* commits */

	cat = cat_open(dir);
	struct rec *r = load_all(cat);
	QVL_CHECK_EQ(r->ni, 1);
	QVL_CHECK(r->ni == 1 && r->inodes[0].in.size == 77 &&
		  r->inodes[0].in.nlink == 2 && !r->inodes[0].in.link &&
		  !r->inodes[0].in.hints && r->inodes[0].in.hints_len == 0);
	QVL_CHECK(r->nd == 1 && r->dirents[0].ino == 31);
	QVL_CHECK(r->nx == 1 && r->xattrs[0].len == 5 &&
		  !memcmp(r->xattrs[0].value, "newer", 5));
	QVL_CHECK(r->nc == 1 && r->chunks[0].slot == 1 &&
		  r->chunks[0].len == 200);
	uint64_t v = 0;
	QVL_CHECK_EQ(qvl_catalog_get_meta(cat, "k", &v), 0);
	QVL_CHECK_EQ(v, 2);
	free(r);
	qvl_catalog_close(cat);
	store_free(dir);
}

static void test_del(void)
{
	char *dir = store_new();
	struct qvl_catalog *cat = cat_open(dir);
	for (uint64_t ino = 40; ino <= 41; ino++) {
		struct qvl_cat_inode in = mk_inode(ino, 0100644);
		QVL_CHECK_EQ(qvl_catalog_put_inode(cat, &in), 0);
		QVL_CHECK_EQ(qvl_catalog_put_xattr(cat, ino, "user.a", "1", 1),
			     0);
		QVL_CHECK_EQ(qvl_catalog_put_xattr(cat, ino, "user.b", "2", 1),
			     0);
		for (uint64_t i = 0; i < 10; i++) {
			struct qvl_cat_chunk c = { ino, i, (uint32_t)i & 1,
						   (uint32_t)(i + 1), NULL, 0 };
			QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &c), 0);
		}
	}
	QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, "forty", 40), 0);
	QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, "fortyone", 41), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 0), 0);

	QVL_CHECK_EQ(qvl_catalog_del_inode(cat, 40), 0);
	QVL_CHECK_EQ(qvl_catalog_del_chunks(cat, 41, 5), 0);
	QVL_CHECK_EQ(qvl_catalog_del_chunk(cat, 41, 4), 0);
	QVL_CHECK_EQ(qvl_catalog_del_chunk(cat, 41, 77), 0);
	QVL_CHECK_EQ(qvl_catalog_del_xattr(cat, 41, "user.a"), 0);
	QVL_CHECK_EQ(qvl_catalog_del_dirent(cat, 1, "fortyone"), 0);
	/* Deleting what is not there is not an error. */
	QVL_CHECK_EQ(qvl_catalog_del_dirent(cat, 1, "nothing"), 0);
	QVL_CHECK_EQ(qvl_catalog_del_inode(cat, 4242), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	qvl_catalog_close(cat);

	cat = cat_open(dir);
	struct rec *r = load_all(cat);
	QVL_CHECK(r->ni == 1 && r->inodes[0].in.ino == 41);
	/* del_inode leaves the dirents that name it to the caller. */
	QVL_CHECK(r->nd == 1 && r->dirents[0].ino == 40);
	QVL_CHECK(r->nx == 1 && r->xattrs[0].ino == 41);
	if (r->nx == 1)
		QVL_CHECK_STR(r->xattrs[0].name, "user.b");
	QVL_CHECK_EQ(r->nc, 4);
	for (int i = 0; i < r->nc; i++)
		QVL_CHECK(r->chunks[i].ino == 41 &&
			  r->chunks[i].idx == (uint64_t)i);
	free(r);
	qvl_catalog_close(cat);
	store_free(dir);
}

static void test_load_order(void)
{
	char *dir = store_new();
	struct qvl_catalog *cat = cat_open(dir);
	/* Rows go in in mixed order; they come out table by table. */
	for (uint64_t k = 0; k < 8; k++) {
		uint64_t ino = 60 - k;
		struct qvl_cat_chunk c = { ino, 8 - k, 0, 1, NULL, 0 };
		char name[16];
		snprintf(name, sizeof(name), "n%llu", (unsigned long long)k);
		QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &c), 0);
		QVL_CHECK_EQ(qvl_catalog_put_xattr(cat, ino, "user.z", "", 0),
			     0);
		QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, name, ino), 0);
		struct qvl_cat_inode in = mk_inode(ino, 0100644);
		QVL_CHECK_EQ(qvl_catalog_put_inode(cat, &in), 0);
	}
	/* Inside the open transaction, load sees its changes. */
	struct rec *r = load_all(cat);
	QVL_CHECK_EQ(r->norder, 32);
	QVL_CHECK(r->norder == 32 &&
		  !memcmp(r->order, "iiiiiiiiddddddddxxxxxxxxcccccccc", 32));
	for (int i = 1; i < r->ni; i++)
		QVL_CHECK(r->inodes[i - 1].in.ino < r->inodes[i].in.ino);
	free(r);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 0), 0);

	r = load_all(cat);
	QVL_CHECK(r->norder == 32 &&
		  !memcmp(r->order, "iiiiiiiiddddddddxxxxxxxxcccccccc", 32));
	free(r);

	/* A visitor's non-zero answer stops the load and comes back. */
	r = calloc(1, sizeof(*r));
	r->stop_after = 10;
	QVL_CHECK_EQ(qvl_catalog_load(cat, &rec_visitor, r), 42);
	QVL_CHECK_EQ(r->norder, 10);
	free(r);
	/* ... and leaves the catalog usable. */
	struct qvl_cat_inode in = mk_inode(99, 0100644);
	QVL_CHECK_EQ(qvl_catalog_put_inode(cat, &in), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	r = load_all(cat);
	QVL_CHECK_EQ(r->ni, 9);
	free(r);
	qvl_catalog_close(cat);
	store_free(dir);
}

/* ---- refusals ---- */

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static void expect_refused(const char *dir, unsigned shift, int want)
{
	char path[512], err[256] = "";
	size_t n0 = 0, n1 = 0;
	db_path(dir, path, sizeof(path));
	unsigned char *before = read_file(path, &n0);
	struct qvl_catalog *cat = (struct qvl_catalog *)&n0;
	int rc = qvl_catalog_open(dir, shift, &cat, err, sizeof(err));
	QVL_CHECK_EQ(rc, want);
	QVL_CHECK(cat == NULL);
	QVL_CHECK(err[0] != '\0');
	fprintf(stderr, "    refused (%d): %s\n", rc, err);
	unsigned char *after = read_file(path, &n1);
	QVL_CHECK(before && after && n0 == n1 && !memcmp(before, after, n0));
	if (!rc)
		qvl_catalog_close(cat);
	free(before);
	free(after);
}

static void raw_exec(const char *dir, const char *sql)
{
	char path[512];
	sqlite3 *db = NULL;
	db_path(dir, path, sizeof(path));
	QVL_CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	QVL_CHECK_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	QVL_CHECK_EQ(sqlite3_close(db), SQLITE_OK);
}

static void make_store(const char *dir, int inodes)
{
	struct qvl_catalog *cat = cat_open(dir);
	for (int i = 0; i < inodes; i++) {
		char name[32];
		struct qvl_cat_inode in = mk_inode(16 + (uint64_t)i, 0100644);
		snprintf(name, sizeof(name), "file-%d", i);
		QVL_CHECK_EQ(qvl_catalog_put_inode(cat, &in), 0);
		QVL_CHECK_EQ(qvl_catalog_put_dirent(cat, 1, name, in.ino), 0);
	}
	qvl_catalog_close(cat);
}

struct inl {
	int n;
	uint64_t ino[16], idx[16];
	uint32_t len[16];
	char first[16];
};

static int inl_cb(void *arg, uint64_t ino, uint64_t idx, const void *frame,
		  uint32_t len)
{
	struct inl *l = arg;
	if (l->n < 16) {
		l->ino[l->n] = ino;
		l->idx[l->n] = idx;
		l->len[l->n] = len;
		l->first[l->n] = len ? *(const char *)frame : 0;
	}
	l->n++;
	return 0;
}

/* Frames kept in the catalog (catalog_inline.c): they persist, a chunk
 * row put afterwards drops its chunk's, deletes of chunks and inodes drop
 * theirs, and a format-1 catalog gains the table (and format 2). */
static void test_inline(void)
{
	char *dir = store_new();
	struct qvl_catalog *cat = cat_open(dir);
	QVL_CHECK(qvl_catalog_has_inline(cat));
	for (uint64_t ino = 40; ino <= 42; ino++)
		for (uint64_t i = 0; i < 4; i++)
			QVL_CHECK_EQ(qvl_catalog_put_inline(cat, ino, i, "abc",
							    3), 0);
	QVL_CHECK_EQ(qvl_catalog_put_inline(cat, 40, 0, "xyzw", 4), 0);
	QVL_CHECK_EQ(qvl_catalog_put_inline(cat, 40, 1, "x", 0), -EINVAL);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	struct qvl_cat_chunk c = { 40, 1, 0, 100, NULL, 0 };
	QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &c), 0);
	QVL_CHECK_EQ(qvl_catalog_del_chunk(cat, 40, 2), 0);
	QVL_CHECK_EQ(qvl_catalog_del_chunks(cat, 41, 1), 0);
	QVL_CHECK_EQ(qvl_catalog_del_inode(cat, 42), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	qvl_catalog_close(cat);

	cat = cat_open(dir);
	struct inl l = { 0 };
	QVL_CHECK_EQ(qvl_catalog_load_inline(cat, inl_cb, &l), 0);
	/* left: (40,0) "xyzw", (40,3), (41,0) */
	QVL_CHECK_EQ(l.n, 3);
	QVL_CHECK(l.ino[0] == 40 && l.idx[0] == 0 && l.len[0] == 4 &&
		  l.first[0] == 'x');
	QVL_CHECK(l.ino[1] == 40 && l.idx[1] == 3);
	QVL_CHECK(l.ino[2] == 41 && l.idx[2] == 0);
	qvl_catalog_close(cat);

	/* A format-1 catalog (no table) is upgraded when opened. */
	raw_exec(dir, "DROP TABLE inline_frames; PRAGMA user_version=1");
	cat = cat_open(dir);
	QVL_CHECK(cat && qvl_catalog_has_inline(cat));
	l.n = 0;
	QVL_CHECK_EQ(qvl_catalog_load_inline(cat, inl_cb, &l), 0);
	QVL_CHECK_EQ(l.n, 0);
	qvl_catalog_close(cat);
	store_free(dir);
}

struct rk_seen {
	unsigned n;
	uint64_t ino[8], idx[8];
	uint8_t first[8], codec[8];
};

static int rk_cb(void *arg, uint64_t ino, uint64_t idx,
		 const struct qvl_rkey *key, uint32_t rlen)
{
	QVL_CHECK_EQ(rlen, 1000);
	struct rk_seen *r = arg;
	if (r->n < 8) {
		r->ino[r->n] = ino;
		r->idx[r->n] = idx;
		r->first[r->n] = key->hash[0];
		r->codec[r->n] = key->codec;
	}
	r->n++;
	return 0;
}

/* Chunks pulled from the remote tier: a row with the remote slot and its
 * key, which a local frame, a delete, a cut or the inode's delete drop. */
static void test_remote_keys(void)
{
	char *dir = store_new();
	struct qvl_catalog *cat = cat_open(dir);
	QVL_CHECK(qvl_catalog_has_remote(cat));
	for (uint64_t ino = 50; ino <= 52; ino++)
		for (uint64_t i = 0; i < 3; i++) {
			struct qvl_rkey k = { .codec = 3 };
			k.hash[0] = (uint8_t)((ino - 50) * 10 + i);
			struct qvl_cat_chunk c = { ino, i, QVL_CAT_SLOT_REMOTE,
						   1000, &k, 0 };
			QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &c), 0);
		}
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	struct qvl_cat_chunk local = { 50, 1, 0, 100, NULL, 0 };
	QVL_CHECK_EQ(qvl_catalog_put_chunk(cat, &local), 0);
	QVL_CHECK_EQ(qvl_catalog_del_chunk(cat, 50, 2), 0);
	QVL_CHECK_EQ(qvl_catalog_del_chunks(cat, 51, 1), 0);
	QVL_CHECK_EQ(qvl_catalog_del_inode(cat, 52), 0);
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	qvl_catalog_close(cat);

	cat = cat_open(dir);
	struct rk_seen r = { 0 };
	QVL_CHECK_EQ(qvl_catalog_load_remote(cat, rk_cb, &r), 0);
	/* left: (50,0) and (51,0) */
	QVL_CHECK_EQ(r.n, 2);
	QVL_CHECK(r.ino[0] == 50 && r.idx[0] == 0 && r.first[0] == 0 &&
		  r.codec[0] == 3);
	QVL_CHECK(r.ino[1] == 51 && r.idx[1] == 0 && r.first[1] == 10);
	qvl_catalog_close(cat);
	store_free(dir);
}

static void test_refuse_newer(void)
{
	char *dir = store_new();
	make_store(dir, 10);
	raw_exec(dir, "PRAGMA user_version=4");
	expect_refused(dir, SHIFT, -EPROTONOSUPPORT);
	store_free(dir);
}

static void test_refuse_foreign(void)
{
	char *dir = store_new();
	raw_exec(dir, "PRAGMA application_id=305419896;"
		      " CREATE TABLE t(x); INSERT INTO t VALUES(1)");
	expect_refused(dir, SHIFT, -EMEDIUMTYPE);
	store_free(dir);

	/* A plain SQLite database, even one with our table names. */
	dir = store_new();
	raw_exec(dir, "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
		      " INSERT INTO meta VALUES('chunk_shift', 20)");
	expect_refused(dir, SHIFT, -EMEDIUMTYPE);
	store_free(dir);
}

static void test_refuse_garbage(void)
{
	char *dir = store_new();
	char path[512];
	unsigned char buf[8192];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
	db_path(dir, path, sizeof(path));
	FILE *f = fopen(path, "wb");
	QVL_CHECK(f && fwrite(buf, 1, sizeof(buf), f) == sizeof(buf));
	if (f)
		fclose(f);
	expect_refused(dir, SHIFT, -EMEDIUMTYPE);
	store_free(dir);
}

static void test_refuse_truncated(void)
{
	static const long cut[] = { -2, 4096, 50, 0 }; /* -2: half the file */
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		char *dir = store_new();
		char path[512];
		struct stat sb;
		make_store(dir, 3000);
		db_path(dir, path, sizeof(path));
		QVL_CHECK_EQ(stat(path, &sb), 0);
		long len = cut[i] == -2 ? (long)sb.st_size / 2 : cut[i];
		QVL_CHECK(len < sb.st_size);
		QVL_CHECK_EQ(truncate(path, len), 0);
		expect_refused(dir, SHIFT, -EUCLEAN);
		store_free(dir);
	}
}

static void test_refuse_chunk_shift(void)
{
	char *dir = store_new();
	make_store(dir, 10);
	expect_refused(dir, SHIFT + 2, -EINVAL);
	/* The right one still opens. */
	struct qvl_catalog *cat = cat_open(dir);
	qvl_catalog_close(cat);
	store_free(dir);
}

static void test_refuse_no_dir(void)
{
	struct qvl_catalog *cat = NULL;
	char err[256] = "";
	QVL_CHECK(qvl_catalog_open("/tmp/qvl-cat-does-not-exist/x", SHIFT,
				   &cat, err, sizeof(err)) < 0);
	QVL_CHECK(cat == NULL && err[0]);
}

/* ---- scale ---- */

#define N_BIG 100000

struct counts {
	uint64_t inodes, dirents, sum;
};

static int count_inode(void *arg, const struct qvl_cat_inode *in)
{
	struct counts *c = arg;
	c->inodes++;
	c->sum += in->ino;
	return 0;
}

static int count_dirent(void *arg, uint64_t parent, const char *name,
			uint64_t ino)
{
	struct counts *c = arg;
	(void)parent;
	c->dirents += name[0] == 'f';
	c->sum -= ino;
	return 0;
}

static void test_100k(void)
{
	char *dir = store_new();
	struct qvl_catalog *cat = cat_open(dir);
	double t0 = now_s();
	struct qvl_cat_inode root = mk_inode(1, 040755);
	root.parent = 1;
	QVL_CHECK_EQ(qvl_catalog_put_inode(cat, &root), 0);
	for (uint64_t i = 0; i < N_BIG; i++) {
		char name[32];
		struct qvl_cat_inode in = mk_inode(16 + i, 0100644);
		snprintf(name, sizeof(name), "f%06llu", (unsigned long long)i);
		if (qvl_catalog_put_inode(cat, &in) ||
		    qvl_catalog_put_dirent(cat, 1, name, in.ino)) {
			QVL_CHECK(0);
			break;
		}
	}
	QVL_CHECK_EQ(qvl_catalog_commit(cat, 1), 0);
	double t1 = now_s();
	qvl_catalog_close(cat);

	double t2 = now_s();
	cat = cat_open(dir);
	double t3 = now_s();
	struct counts c = { 0, 0, 1 };
	struct qvl_cat_visitor v = { .inode = count_inode,
				     .dirent = count_dirent };
	QVL_CHECK_EQ(qvl_catalog_load(cat, &v, &c), 0);
	double t4 = now_s();
	QVL_CHECK_EQ(c.inodes, N_BIG + 1);
	QVL_CHECK_EQ(c.dirents, N_BIG);
	QVL_CHECK_EQ(c.sum, 2); /* 1 + root + every ino minus every dirent */
	fprintf(stderr,
		"    100k: put+commit %.3f s, open %.3f s, load %.3f s\n",
		t1 - t0, t3 - t2, t4 - t3);
	QVL_CHECK(t4 - t3 < 1.0);
	qvl_catalog_close(cat);
	store_free(dir);
}

int main(void)
{
	QVL_RUN(test_roundtrip);
	QVL_RUN(test_commit_noop);
	QVL_RUN(test_crash_exit);
	QVL_RUN(test_crash_kill9);
	QVL_RUN(test_crash_kill9_spilled);
	QVL_RUN(test_replace);
	QVL_RUN(test_del);
	QVL_RUN(test_load_order);
	QVL_RUN(test_refuse_newer);
	QVL_RUN(test_refuse_foreign);
	QVL_RUN(test_refuse_garbage);
	QVL_RUN(test_refuse_truncated);
	QVL_RUN(test_refuse_chunk_shift);
	QVL_RUN(test_refuse_no_dir);
	QVL_RUN(test_inline);
	QVL_RUN(test_remote_keys);
	QVL_RUN(test_100k);
	return QVL_TEST_EXIT();
}

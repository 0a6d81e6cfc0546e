/*
 * test_remote.c - unit tests for the remote tier (remote/): frame keys, the
 * snapshot manifest (qvl_manifest.h), and the Redis engine (qvl_remote.h)
 * against real redis-servers started here: a plain one on a unix socket,
 * one with a password, one killed and restarted, one stopped, and a
 * three-master cluster on loopback ports.
 *
 * Without redis-server on PATH the engine cases say "skip" and pass; the
 * cluster case also needs redis-cli.  Every server started is killed at
 * exit (and by PR_SET_PDEATHSIG should this program die first).
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "../harness.h"
#include "qvl_manifest.h"
#include "qvl_remote.h"
#include "remote_i.h" /* qvl_rslot() */

#define KiB (1u << 10)
#define MiB (1u << 20)

static uint64_t rng_state = 42;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill(void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i % 8 ? (uint64_t)b[i - 1] * 31 + 7 : rng());
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* ---- frame keys ---- */

static void test_rkey(void)
{
	uint8_t raw[1000], *pad = calloc(1, 200000);
	struct qvl_rkey k = { .codec = 2 }, k2 = { .codec = 2 };
	char s[QVL_RKEY_STRLEN], want[64];
	XXH128_hash_t h;

	fill(raw, sizeof(raw));
	qvl_rkey_hash(raw, sizeof(raw), sizeof(raw), &k);
	h = XXH3_128bits(raw, sizeof(raw));
	snprintf(want, sizeof(want), "qvl:f:%016llx%016llx:2",
		 (unsigned long long)h.high64, (unsigned long long)h.low64);
	qvl_rkey_format(&k, s);
	QVL_CHECK_STR(s, want);
	QVL_CHECK_EQ(strlen(s), 6 + 32 + 2);
	k.codec = 255;
	qvl_rkey_format(&k, s);
	QVL_CHECK(strlen(s) < QVL_RKEY_STRLEN);
	QVL_CHECK(!strcmp(s + 38, ":255"));

	/* A short tail hashes as its zero-padded chunk, across the zero
	 * buffer's pieces too. */
	memcpy(pad, raw, sizeof(raw));
	for (size_t chunk = 64 * KiB; chunk <= 200000; chunk += 200000 - 64 * KiB) {
		qvl_rkey_hash(raw, sizeof(raw), chunk, &k);
		h = XXH3_128bits(pad, chunk);
		qvl_rkey_hash(pad, chunk, chunk, &k2);
		QVL_CHECK(!memcmp(k.hash, k2.hash, 16));
		for (int i = 0; i < 8; i++) {
			QVL_CHECK_EQ(k.hash[i], (uint8_t)(h.high64 >> (56 - 8 * i)));
			QVL_CHECK_EQ(k.hash[8 + i], (uint8_t)(h.low64 >> (56 - 8 * i)));
		}
		QVL_CHECK_EQ(qvl_rkey_check(&k, pad, chunk), 0);
		pad[chunk - 1] ^= 1;
		QVL_CHECK_EQ(qvl_rkey_check(&k, pad, chunk), -EIO);
		pad[chunk - 1] ^= 1;
		QVL_CHECK_EQ(qvl_rkey_check(&k, pad, chunk - 1), -EIO);
	}
	/* Redis Cluster's own examples. */
	QVL_CHECK_EQ(qvl_rslot("123456789", 9), 0x31c3);
	QVL_CHECK_EQ(qvl_rslot("{user1000}.following", 20),
		     qvl_rslot("user1000", 8));
	QVL_CHECK_EQ(qvl_rslot("{user1000}.followers", 20),
		     qvl_rslot("user1000", 8));
	QVL_CHECK_EQ(qvl_rslot("foo{{bar}}", 10), qvl_rslot("{bar", 4));
	QVL_CHECK(qvl_rslot("foo{}{bar}", 10) != qvl_rslot("bar", 3));
	free(pad);
}

/* ---- manifests ---- */

static struct qvl_rkey rkey_n(unsigned n, uint8_t codec)
{
	struct qvl_rkey k = { .codec = codec };
	for (int i = 0; i < 16; i++)
		k.hash[i] = (uint8_t)(n * 17 + i);
	return k;
}

static struct qvl_manifest *sample_manifest(void)
{
	struct qvl_manifest *m;
	struct qvl_man_entry *e;
	struct qvl_rkey k;

	QVL_CHECK_EQ(qvl_manifest_new(16, &m), 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "a", 0755, 0, 11, NULL, &e), 0);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(e, "user.note", "dir", 3), 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "a/b", 0700, 0, -5, NULL, &e), 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_FILE, "a/b/w.bin", 0644,
				      3 * 65536 + 100, 1700000000123456789ll,
				      NULL, &e), 0);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(e, "user.qvl.dtype", "bf16", 4), 0);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(e, "user.empty", NULL, 0), 0);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(e, "user.qvl.shape", "[3,4]", 5), 0);
	k = rkey_n(0, 2);
	QVL_CHECK_EQ(qvl_manifest_add_chunk(e, 0, &k, 1000), 0);
	k = rkey_n(2, 3);
	QVL_CHECK_EQ(qvl_manifest_add_chunk(e, 2, &k, 65536 + 4096), 0);
	k = rkey_n(3, 0);
	QVL_CHECK_EQ(qvl_manifest_add_chunk(e, 3, &k, 1), 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_FILE, "top", 06755, 0, 0, NULL, &e), 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_LINK, "a/l", 0777, 0, 3,
				      "b/w.bin", &e), 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "c", 0, 0, 0, NULL, &e), 0);
	return m;
}

static void check_same(const struct qvl_manifest *a, const struct qvl_manifest *b)
{
	QVL_CHECK_EQ(a->chunk_shift, b->chunk_shift);
	QVL_CHECK_EQ(a->n, b->n);
	for (uint64_t i = 0; i < a->n && i < b->n; i++) {
		const struct qvl_man_entry *x = &a->e[i], *y = &b->e[i];
		QVL_CHECK_EQ(x->type, y->type);
		QVL_CHECK_EQ(x->mode, y->mode);
		QVL_CHECK_EQ(x->size, y->size);
		QVL_CHECK_EQ(x->mtime_ns, y->mtime_ns);
		QVL_CHECK_STR(x->path, y->path);
		QVL_CHECK((x->link == NULL) == (y->link == NULL));
		if (x->link && y->link)
			QVL_CHECK_STR(x->link, y->link);
		QVL_CHECK_EQ(x->nxattr, y->nxattr);
		for (uint32_t k = 0; k < x->nxattr && k < y->nxattr; k++) {
			QVL_CHECK_STR(x->xattr[k].name, y->xattr[k].name);
			QVL_CHECK_EQ(x->xattr[k].len, y->xattr[k].len);
			QVL_CHECK(!memcmp(x->xattr[k].value, y->xattr[k].value,
					  x->xattr[k].len));
		}
		QVL_CHECK_EQ(x->nchunks, y->nchunks);
		for (uint64_t k = 0; k < x->nchunks && k < y->nchunks; k++) {
			QVL_CHECK_EQ(x->chunks[k].idx, y->chunks[k].idx);
			QVL_CHECK_EQ(x->chunks[k].len, y->chunks[k].len);
			QVL_CHECK(!memcmp(&x->chunks[k].key.hash, &y->chunks[k].key.hash, 16));
			QVL_CHECK_EQ(x->chunks[k].key.codec, y->chunks[k].key.codec);
		}
	}
}

/* Decode @len bytes from a buffer of exactly that size (ASan sees any
 * read past the end). */
static int decode_exact(const void *buf, size_t len, struct qvl_manifest **m)
{
	void *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, buf, len);
	rc = qvl_manifest_decode(copy, len, m);
	free(copy);
	return rc;
}

static void reseal(uint8_t *buf, size_t len)
{
	uint64_t h = XXH3_64bits(buf, len - 8);
	for (int i = 0; i < 8; i++)
		buf[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void test_manifest_roundtrip(void)
{
	struct qvl_manifest *m = sample_manifest(), *d = NULL, *d2;
	void *buf, *buf2;
	size_t len, len2;

	QVL_CHECK_EQ(qvl_manifest_encode(m, &buf, &len), 0);
	QVL_CHECK_EQ(decode_exact(buf, len, &d), 0);
	if (d) {
		check_same(m, d);
		/* A decoded manifest takes more entries like a new one. */
		struct qvl_man_entry *e;
		struct qvl_rkey k = rkey_n(9, 1);
		QVL_CHECK_EQ(qvl_manifest_add(d, QVL_MAN_DIR, "a/b", 0755, 0, 0, NULL, &e), -EEXIST);
		QVL_CHECK_EQ(qvl_manifest_add(d, QVL_MAN_FILE, "c/f", 0600, 1 << 20, 0, NULL, &e), 0);
		for (unsigned i = 0; i < 16; i++)
			QVL_CHECK_EQ(qvl_manifest_add_chunk(e, i, &k, 10), 0);
		QVL_CHECK_EQ(qvl_manifest_encode(d, &buf2, &len2), 0);
		QVL_CHECK_EQ(decode_exact(buf2, len2, &d2), 0);
		check_same(d, d2);
		qvl_manifest_free(d2);
		free(buf2);
	}
	qvl_manifest_free(d);

	/* Empty manifest. */
	struct qvl_manifest *z;
	QVL_CHECK_EQ(qvl_manifest_new(26, &z), 0);
	QVL_CHECK_EQ(qvl_manifest_encode(z, &buf2, &len2), 0);
	QVL_CHECK_EQ(len2, 28);
	qvl_manifest_free(z);
	QVL_CHECK_EQ(decode_exact(buf2, len2, &z), 0);
	QVL_CHECK(z && z->n == 0 && z->chunk_shift == 26);
	qvl_manifest_free(z);
	free(buf2);

	qvl_manifest_free(m);
	free(buf);
}

static void test_manifest_corrupt(void)
{
	struct qvl_manifest *m = sample_manifest(), *d;
	uint64_t t0 = now_ms();
	uint8_t *buf;
	size_t len;
	int rc;

	QVL_CHECK_EQ(qvl_manifest_encode(m, (void **)&buf, &len), 0);
	qvl_manifest_free(m);
	for (size_t l = 0; l < len; l++) {
		d = (struct qvl_manifest *)&d;
		QVL_CHECK_EQ(decode_exact(buf, l, &d), -EIO);
		QVL_CHECK(d == NULL);
	}
	/* Any flipped byte: the checksum. */
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x21;
		QVL_CHECK_EQ(decode_exact(buf, len, &d), -EIO);
		buf[i] ^= 0x21;
	}
	/* Flipped bytes with the checksum made right again: the structure
	 * checks.  What still decodes must encode back to the same bytes. */
	uint8_t *mut = malloc(len);
	unsigned ok = 0, bad = 0;
	for (unsigned round = 0; round < 4; round++) {
		for (size_t i = 0; i < len - 8; i++) {
			memcpy(mut, buf, len);
			mut[i] ^= (uint8_t)(round == 0 ? 0x01 : round == 1 ? 0x80 : rng() | 1);
			if (round == 3) /* and a few more */
				mut[rng() % (len - 8)] = (uint8_t)rng();
			reseal(mut, len);
			rc = decode_exact(mut, len, &d);
			QVL_CHECK(rc == 0 || rc == -EIO);
			if (!rc) {
				void *re;
				size_t relen;
				ok++;
				QVL_CHECK_EQ(qvl_manifest_encode(d, &re, &relen), 0);
				QVL_CHECK(relen == len && !memcmp(re, mut, len));
				free(re);
				qvl_manifest_free(d);
			} else {
				bad++;
			}
		}
	}
	QVL_CHECK(ok > 0 && bad > 0);
	free(mut);
	free(buf);
	QVL_CHECK(now_ms() - t0 < 2000);
}

/* A manifest of DIR entries named @paths, encoded by hand. */
static size_t enc_dirs(uint8_t *out, const char *const *paths, unsigned n,
		       unsigned shift)
{
	uint8_t *p = out;
	memcpy(p, "QVLMAN01", 8);
	p += 8;
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(shift >> (8 * i));
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)((uint64_t)n >> (8 * i));
	for (unsigned k = 0; k < n; k++) {
		size_t pl = strlen(paths[k]);
		*p++ = QVL_MAN_DIR;
		memcpy(p, "\xed\x01\0\0", 4); /* 0755 */
		p += 4;
		memset(p, 0, 16);
		p += 16;
		*p++ = (uint8_t)pl;
		*p++ = (uint8_t)(pl >> 8);
		memcpy(p, paths[k], pl);
		p += pl;
		*p++ = 0;
		*p++ = 0;
	}
	p += 8;
	reseal(out, (size_t)(p - out));
	return (size_t)(p - out);
}

static int decode_dirs(const char *const *paths, unsigned n, unsigned shift)
{
	static uint8_t buf[3 * 8192];
	struct qvl_manifest *m;
	int rc = decode_exact(buf, enc_dirs(buf, paths, n, shift), &m);
	qvl_manifest_free(m);
	return rc;
}

static void test_manifest_rules(void)
{
	static char longc[300], longp[4200];
	const char *bad[] = { "/abs", "a//b", "..", ".", "a/..", "a/./b", "a/",
			      "", "//", longc, longp };
	struct qvl_manifest *m;
	struct qvl_man_entry *e, *f;
	struct qvl_rkey k = rkey_n(1, 1);
	void *buf;
	size_t len;

	memset(longc, 'x', 256);
	for (size_t i = 0; i < 4096; i++)
		longp[i] = i % 200 == 199 ? '/' : 'y';
	QVL_CHECK(qvl_manifest_path_ok("a/b/c"));
	QVL_CHECK(qvl_manifest_path_ok("...") && qvl_manifest_path_ok(".a/..b"));
	longc[255] = '\0';
	QVL_CHECK(qvl_manifest_path_ok(longc));
	longc[255] = 'x';
	QVL_CHECK(!qvl_manifest_path_ok(NULL));

	QVL_CHECK_EQ(qvl_manifest_new(15, &m), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_new(27, &m), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_new(20, &m), 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		QVL_CHECK(!qvl_manifest_path_ok(bad[i]));
		QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, bad[i], 0755, 0, 0, NULL, &e), -EINVAL);
		const char *one[1] = { bad[i] };
		QVL_CHECK_EQ(decode_dirs(one, 1, 20), -EIO);
	}
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "x/y", 0755, 0, 0, NULL, &e), -ENOENT);
	QVL_CHECK_EQ(qvl_manifest_add(m, 0, "x", 0755, 0, 0, NULL, &e), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add(m, 4, "x", 0755, 0, 0, NULL, &e), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "x", 010755, 0, 0, NULL, &e), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "x", 0755, 1, 0, NULL, &e), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_LINK, "x", 0777, 0, 0, NULL, &e), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_LINK, "x", 0777, 0, 0, "", &e), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_LINK, "x", 0777, 0, 0, longp, &e), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_FILE, "x", 0777, 0, 0, "t", &e), -EINVAL);
	QVL_CHECK_EQ(m->n, 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "x", 0755, 0, 0, NULL, &e), 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "x", 0755, 0, 0, NULL, &e), -EEXIST);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_FILE, "x/f", 0644, (2u << 20) + 1, 0, NULL, &f), 0);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "x/f/g", 0755, 0, 0, NULL, &e), -ENOENT);
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_FILE, "x/f", 0644, 0, 0, NULL, &e), -EEXIST);

	/* xattrs: user.* only, names and values bounded. */
	QVL_CHECK_EQ(qvl_manifest_add_xattr(f, "trusted.x", "v", 1), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(f, "user.", "v", 1), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(f, "usr.x", "v", 1), -EINVAL);
	memcpy(longc, "user.", 5);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(f, longc, "v", 1), -EINVAL);
	void *big = calloc(1, QVL_MAN_XATTR_MAX + 1);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(f, "user.big", big, QVL_MAN_XATTR_MAX + 1), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add_xattr(f, "user.big", big, QVL_MAN_XATTR_MAX), 0);
	free(big);

	/* chunks: ascending, in the file, a codec, a length. */
	QVL_CHECK_EQ(qvl_manifest_add_chunk(f, 1, &k, 100), 0);
	QVL_CHECK_EQ(qvl_manifest_add_chunk(f, 1, &k, 100), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add_chunk(f, 0, &k, 100), -EINVAL);
	QVL_CHECK_EQ(qvl_manifest_add_chunk(f, 2, &k, 0), -EINVAL);
	k.codec = 6;
	QVL_CHECK_EQ(qvl_manifest_add_chunk(f, 2, &k, 10), -EINVAL);
	k.codec = 5;
	QVL_CHECK_EQ(qvl_manifest_add_chunk(f, 2, &k, (1u << 20) + 4096), 0);
	QVL_CHECK_EQ(qvl_manifest_encode(m, &buf, &len), 0);
	free(buf);
	/* Past the end at 1 MiB chunks (fine at 64 KiB): encode refuses. */
	QVL_CHECK_EQ(qvl_manifest_add_chunk(f, 3, &k, 10), 0);
	QVL_CHECK_EQ(qvl_manifest_encode(m, &buf, &len), -EINVAL);
	QVL_CHECK(buf == NULL);
	f->nchunks--;
	QVL_CHECK_EQ(qvl_manifest_add(m, QVL_MAN_DIR, "x/d", 0755, 0, 0, NULL, &e), 0);
	QVL_CHECK_EQ(qvl_manifest_add_chunk(e, 0, &k, 10), -EINVAL);
	qvl_manifest_free(m);

	/* The same rules when decoding. */
	const char *ok2[] = { "a", "a/b" }, *rev[] = { "a/b", "a" },
		   *dup[] = { "a", "a" }, *dup2[] = { "a", "a/b", "a/b" };
	QVL_CHECK_EQ(decode_dirs(ok2, 2, 20), 0);
	QVL_CHECK_EQ(decode_dirs(ok2, 2, 15), -EIO);
	QVL_CHECK_EQ(decode_dirs(ok2, 2, 27), -EIO);
	QVL_CHECK_EQ(decode_dirs(rev, 2, 20), -EIO);
	QVL_CHECK_EQ(decode_dirs(dup, 2, 20), -EIO);
	QVL_CHECK_EQ(decode_dirs(dup2, 3, 20), -EIO);

	/* An entry field at a time, on one DIR "d": type at 20, mode at 21,
	 * size at 25, the path at 43, a byte after the end. */
	uint8_t one[64 + 8], mut[sizeof(one) + 1];
	const char *dn[] = { "d" };
	size_t n1 = enc_dirs(one, dn, 1, 16);
	struct {
		size_t off;
		uint8_t v;
	} patch[] = { { 20, 0 }, { 20, 2 }, { 20, 3 }, { 20, 4 }, { 22, 0x10 },
		      { 25, 1 }, { 43, '/' }, { 43, 0 }, { 12, 2 }, { 12, 0 },
		      { 41, 2 }, { 44, 1 } };
	QVL_CHECK_EQ(n1, 54);
	QVL_CHECK_EQ(decode_exact(one, n1, &m), 0);
	qvl_manifest_free(m);
	for (unsigned i = 0; i < sizeof(patch) / sizeof(patch[0]); i++) {
		memcpy(mut, one, n1);
		mut[patch[i].off] = patch[i].v;
		reseal(mut, n1);
		QVL_CHECK_EQ(decode_exact(mut, n1, &m), -EIO);
	}
	memcpy(mut, one, n1 - 8);
	mut[n1 - 8] = 0;
	reseal(mut, n1 + 1);
	QVL_CHECK_EQ(decode_exact(mut, n1 + 1, &m), -EIO);
	/* A count that would ask for far more than the bytes hold. */
	memcpy(mut, one, n1);
	memset(mut + 12, 0xff, 8);
	reseal(mut, n1);
	QVL_CHECK_EQ(decode_exact(mut, n1, &m), -EIO);
}

/* ---- redis servers ---- */

struct srv {
	pid_t pid;
	int port;       /* TCP, or 0: unix socket */
	char dir[64];
	char sock[128];
};

static struct srv *servers[8];
static unsigned nservers;

static void srv_kill(struct srv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

static void cleanup(void)
{
	char cmd[128];

	for (unsigned i = 0; i < nservers; i++) {
		srv_kill(servers[i]);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", servers[i]->dir);
		if (system(cmd))
			fprintf(stderr, "can't remove %s\n", servers[i]->dir);
	}
	nservers = 0;
}

static int have(const char *prog)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static redisContext *srv_connect(const struct srv *s)
{
	struct timeval tv = { 1, 0 };
	redisContext *c = s->port ? redisConnectWithTimeout("127.0.0.1", s->port, tv)
				  : redisConnectUnixWithTimeout(s->sock, tv);
	if (c && c->err) {
		redisFree(c);
		c = NULL;
	}
	return c;
}

/* One command on a fresh connection, the reply or NULL. */
static redisReply *srv_cmd(const struct srv *s, const char *fmt, ...)
{
	redisContext *c = srv_connect(s);
	redisReply *rep;
	va_list ap;

	if (!c)
		return NULL;
	va_start(ap, fmt);
	rep = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	return rep;
}

/* Start (or restart) @s with @extra arguments; 0 once it answers. */
static int srv_start(struct srv *s, const char *const *extra)
{
	const char *argv[40] = { "redis-server", "--save", "", "--appendonly",
				 "no", "--dir", s->dir, "--logfile", "redis.log",
				 "--daemonize", "no" };
	char port[16];
	unsigned n = 11;
	int known = 0;

	if (!s->dir[0]) {
		strcpy(s->dir, "/tmp/qvl-redis.XXXXXX");
		if (!mkdtemp(s->dir))
			return -errno;
		snprintf(s->sock, sizeof(s->sock), "%s/r.sock", s->dir);
	}
	for (unsigned i = 0; i < nservers; i++)
		known |= servers[i] == s;
	if (!known)
		servers[nservers++] = s;
	snprintf(port, sizeof(port), "%d", s->port);
	argv[n++] = "--port";
	argv[n++] = port;
	if (!s->port) {
		argv[n++] = "--unixsocket";
		argv[n++] = s->sock;
		argv[n++] = "--unixsocketperm";
		argv[n++] = "700";
	}
	for (; extra && *extra && n < 39; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (!s->pid) {
		int null = open("/dev/null", O_RDWR);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp("redis-server", (char *const *)argv);
		_exit(127);
	}
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 5000; sleep_ms(20)) {
		redisReply *rep = srv_cmd(s, "PING");
		if (rep) {
			freeReplyObject(rep);
			return 0;
		}
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			return -ECHILD;
		}
	}
	return -ETIMEDOUT;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return -errno;
	fchmod(fd, mode);
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static struct qvl_remote *open_url(const char *url, const char *auth,
				   unsigned timeout_ms, unsigned conns)
{
	struct qvl_remote_opts o = { .url = url, .auth_file = auth,
				     .timeout_ms = timeout_ms, .conns = conns };
	struct qvl_remote *r = NULL;
	char err[256];
	int rc = qvl_remote_open(&o, &r, err, sizeof(err));

	if (rc)
		fprintf(stderr, "open %s: %d %s\n", url, rc, err);
	return r;
}

static struct qvl_remote *open_srv(const struct srv *s, const char *auth,
				   unsigned timeout_ms)
{
	char url[160];

	if (s->port)
		snprintf(url, sizeof(url), "redis://127.0.0.1:%d", s->port);
	else
		snprintf(url, sizeof(url), "unix:%s", s->sock);
	return open_url(url, auth, timeout_ms, 2);
}

/* ---- the engine ---- */

static struct srv plain;
static int redis_ok = -1;

static int need_redis(void)
{
	if (redis_ok < 0) {
		redis_ok = have("redis-server");
		if (!redis_ok)
			fprintf(stderr, "  skip: no redis-server on PATH\n");
		else if (srv_start(&plain, NULL)) {
			fprintf(stderr, "can't start redis-server\n");
			redis_ok = 0;
			qvl_test_failures++;
		}
	}
	return redis_ok;
}

static void test_open_args(void)
{
	const char *bad[] = { "http://x", "redis://", "redis://h:0", "redis://h:70000",
			      "redis://h:12x", "redis://h:", "unix:", "redis://a@b",
			      "redis://h/0", "redis://[::1", "6379", "" };
	const char *good[] = { "redis://localhost", "redis://127.0.0.1:7000",
			       "redis://[::1]:6380", "unix:/tmp/x.sock" };
	struct qvl_remote_opts o = { 0 };
	struct qvl_remote *r;
	char err[256], dir[] = "/tmp/qvl-auth.XXXXXX", path[64];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.url = bad[i];
		r = (struct qvl_remote *)&r;
		err[0] = '\0';
		QVL_CHECK_EQ(qvl_remote_open(&o, &r, err, sizeof(err)), -EINVAL);
		QVL_CHECK(r == NULL && err[0]);
	}
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		o.url = good[i];
		QVL_CHECK_EQ(qvl_remote_open(&o, &r, NULL, 0), 0);
		QVL_CHECK_STR(qvl_remote_url(r), good[i]);
		qvl_remote_close(r);
	}
	qvl_remote_close(NULL);

	QVL_CHECK(mkdtemp(dir) != NULL);
	o.url = "redis://localhost";
	snprintf(path, sizeof(path), "%s/missing", dir);
	o.auth_file = path;
	QVL_CHECK_EQ(qvl_remote_open(&o, &r, err, sizeof(err)), -ENOENT);
	snprintf(path, sizeof(path), "%s/open", dir);
	QVL_CHECK_EQ(write_file(path, "secret\n", 0644), 0);
	QVL_CHECK_EQ(qvl_remote_open(&o, &r, err, sizeof(err)), -EACCES);
	QVL_CHECK(strstr(err, "0644") != NULL);
	QVL_CHECK_EQ(write_file(path, "secret\n", 0640), 0);
	QVL_CHECK_EQ(qvl_remote_open(&o, &r, err, sizeof(err)), -EACCES);
	QVL_CHECK_EQ(write_file(path, "\n", 0600), 0);
	QVL_CHECK_EQ(qvl_remote_open(&o, &r, err, sizeof(err)), -EINVAL);
	QVL_CHECK_EQ(write_file(path, "a b c\n", 0600), 0);
	QVL_CHECK_EQ(qvl_remote_open(&o, &r, err, sizeof(err)), -EINVAL);
	QVL_CHECK_EQ(write_file(path, "user pass\r\nignored\n", 0600), 0);
	QVL_CHECK_EQ(qvl_remote_open(&o, &r, err, sizeof(err)), 0);
	qvl_remote_close(r);
	unlink(path);
	rmdir(dir);
}

#define NFRAMES 100

static void test_frames(void)
{
	struct qvl_remote_get g[NFRAMES + 4];
	struct qvl_rkey keys[NFRAMES + 1];
	const void *frames[NFRAMES];
	size_t lens[NFRAMES];
	uint8_t has[NFRAMES + 1], *data[NFRAMES];
	struct qvl_remote_stats st;
	struct qvl_remote *r;
	uint64_t bytes = 0;
	char err[256];

	if (!need_redis())
		return;
	r = open_srv(&plain, NULL, 0);
	if (!r)
		return;
	QVL_CHECK_EQ(qvl_remote_ping(r), 0);
	for (unsigned i = 0; i < NFRAMES; i++) {
		lens[i] = 1 + rng() % MiB;
		if (i == 0)
			lens[i] = MiB;
		data[i] = malloc(lens[i]);
		fill(data[i], lens[i]);
		frames[i] = data[i];
		qvl_rkey_hash(data[i], lens[i], lens[i], &keys[i]);
		keys[i].codec = (uint8_t)(i % 6);
		bytes += lens[i];
	}
	keys[NFRAMES] = rkey_n(12345, 1); /* never stored */
	QVL_CHECK_EQ(qvl_remote_put_frames(r, keys, frames, lens, NFRAMES), 0);
	/* Again: SET NX leaves them, still a success. */
	QVL_CHECK_EQ(qvl_remote_put_frames(r, keys, frames, lens, 3), 0);
	QVL_CHECK_EQ(qvl_remote_has_frames(r, keys, NFRAMES + 1, has), 0);
	for (unsigned i = 0; i < NFRAMES; i++)
		QVL_CHECK_EQ(has[i], 1);
	QVL_CHECK_EQ(has[NFRAMES], 0);

	for (unsigned i = 0; i < NFRAMES; i++) {
		g[i] = (struct qvl_remote_get){ .key = &keys[i], .cap = MiB,
						.len = i % 2 ? lens[i] : 0,
						.result = 1 };
		g[i].buf = malloc(MiB);
	}
	QVL_CHECK_EQ(qvl_remote_get_frames(r, g, NFRAMES), 0);
	for (unsigned i = 0; i < NFRAMES; i++) {
		QVL_CHECK_EQ(g[i].result, 0);
		QVL_CHECK_EQ(g[i].len, lens[i]);
		QVL_CHECK(!memcmp(g[i].buf, data[i], lens[i]));
	}
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.frames_got, NFRAMES);
	QVL_CHECK_EQ(st.frame_bytes_got, bytes);
	QVL_CHECK_EQ(st.frames_put, NFRAMES + 3);
	QVL_CHECK_EQ(st.nodes, 1);
	QVL_CHECK_EQ(st.up, 1);
	QVL_CHECK_EQ(st.errors, 0);

	/* One batch: good, absent, wrong length, no room, good. */
	struct qvl_remote_get mix[5] = {
		{ .key = &keys[1], .buf = g[0].buf, .cap = MiB },
		{ .key = &keys[NFRAMES], .buf = g[1].buf, .cap = MiB },
		{ .key = &keys[2], .buf = g[2].buf, .cap = MiB, .len = lens[2] + 1 },
		{ .key = &keys[3], .buf = g[3].buf, .cap = lens[3] - 1 },
		{ .key = &keys[4], .buf = g[4].buf, .cap = MiB, .len = lens[4] },
	};
	QVL_CHECK_EQ(qvl_remote_get_frames(r, mix, 5), -ENOENT);
	QVL_CHECK_EQ(mix[0].result, 0);
	QVL_CHECK_EQ(mix[0].len, lens[1]);
	QVL_CHECK_EQ(mix[1].result, -ENOENT);
	QVL_CHECK_EQ(mix[2].result, -EIO);
	QVL_CHECK_EQ(mix[3].result, -EIO);
	QVL_CHECK_EQ(mix[4].result, 0);
	QVL_CHECK(!memcmp(mix[4].buf, data[4], lens[4]));
	QVL_CHECK_EQ(qvl_remote_get_frames(r, &mix[2], 1), -EIO);
	qvl_remote_error(r, err, sizeof(err));
	QVL_CHECK(strstr(err, "expected") != NULL);
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.missing, 1);
	QVL_CHECK_EQ(st.errors, 2);
	QVL_CHECK_EQ(qvl_remote_get_frames(r, g, 0), 0);

	for (unsigned i = 0; i < NFRAMES; i++) {
		free(data[i]);
		free(g[i].buf);
	}
	qvl_remote_close(r);
}

struct fields {
	char seen[4][32];
	unsigned n;
	int stop_at;
};

static int collect(void *arg, const char *field, const char *value)
{
	struct fields *f = arg;
	if (f->n < 4)
		snprintf(f->seen[f->n], sizeof(f->seen[0]), "%s=%s", field, value);
	if ((int)++f->n == f->stop_at)
		return 7;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_values(void)
{
	struct qvl_remote *r;
	struct fields f = { .stop_at = -1 };
	void *buf;
	size_t len;
	char big[100000];

	if (!need_redis())
		return;
	r = open_srv(&plain, NULL, 0);
	if (!r)
		return;
	fill(big, sizeof(big));
	QVL_CHECK_EQ(qvl_remote_get_value(r, "qvl:m:none", &buf, &len), -ENOENT);
	QVL_CHECK(buf == NULL && len == 0);
	QVL_CHECK_EQ(qvl_remote_set_value(r, "qvl:m:snap", big, sizeof(big)), 0);
	QVL_CHECK_EQ(qvl_remote_get_value(r, "qvl:m:snap", &buf, &len), 0);
	QVL_CHECK(len == sizeof(big) && !memcmp(buf, big, len));
	free(buf);
	QVL_CHECK_EQ(qvl_remote_set_value(r, "qvl:m:snap", "", 0), 0);
	QVL_CHECK_EQ(qvl_remote_get_value(r, "qvl:m:snap", &buf, &len), 0);
	QVL_CHECK(buf != NULL && len == 0);
	free(buf);
	QVL_CHECK_EQ(qvl_remote_del_value(r, "qvl:m:snap"), 0);
	QVL_CHECK_EQ(qvl_remote_del_value(r, "qvl:m:snap"), -ENOENT);
	QVL_CHECK_EQ(qvl_remote_get_value(r, "qvl:m:snap", &buf, &len), -ENOENT);

	QVL_CHECK_EQ(qvl_remote_hgetall(r, "qvl:snapshots", collect, &f), 0);
	QVL_CHECK_EQ(f.n, 0);
	QVL_CHECK_EQ(qvl_remote_hset(r, "qvl:snapshots", "b", "1 2 3 4"), 0);
	QVL_CHECK_EQ(qvl_remote_hset(r, "qvl:snapshots", "a", "old"), 0);
	QVL_CHECK_EQ(qvl_remote_hset(r, "qvl:snapshots", "a", "5 6 7 8"), 0);
	QVL_CHECK_EQ(qvl_remote_hgetall(r, "qvl:snapshots", collect, &f), 0);
	QVL_CHECK_EQ(f.n, 2);
	qsort(f.seen, 2, sizeof(f.seen[0]), cmp_str);
	QVL_CHECK_STR(f.seen[0], "a=5 6 7 8");
	QVL_CHECK_STR(f.seen[1], "b=1 2 3 4");
	f = (struct fields){ .stop_at = 1 };
	QVL_CHECK_EQ(qvl_remote_hgetall(r, "qvl:snapshots", collect, &f), 7);
	QVL_CHECK_EQ(f.n, 1);
	/* A key of the wrong type is a reply that isn't what was asked for. */
	QVL_CHECK_EQ(qvl_remote_get_value(r, "qvl:snapshots", &buf, &len), -EIO);
	QVL_CHECK_EQ(qvl_remote_del_value(r, "qvl:snapshots"), 0);
	qvl_remote_close(r);
}

static void test_auth(void)
{
	const char *extra[] = { "--requirepass", "secret", NULL };
	static struct srv s;
	struct qvl_remote *r;
	char path[160];
	void *buf;
	size_t len;

	if (!need_redis())
		return;
	if (srv_start(&s, extra)) {
		QVL_CHECK(!"auth server started");
		return;
	}
	snprintf(path, sizeof(path), "%s/auth", s.dir);

	QVL_CHECK_EQ(write_file(path, "secret\n", 0600), 0);
	r = open_srv(&s, path, 0);
	QVL_CHECK_EQ(qvl_remote_ping(r), 0);
	QVL_CHECK_EQ(qvl_remote_set_value(r, "k", "v", 1), 0);
	QVL_CHECK_EQ(qvl_remote_get_value(r, "k", &buf, &len), 0);
	QVL_CHECK(len == 1 && !memcmp(buf, "v", 1));
	free(buf);
	qvl_remote_close(r);

	QVL_CHECK_EQ(write_file(path, "default secret\n", 0600), 0);
	r = open_srv(&s, path, 0);
	QVL_CHECK_EQ(qvl_remote_get_value(r, "k", &buf, &len), 0);
	free(buf);
	qvl_remote_close(r);

	QVL_CHECK_EQ(write_file(path, "wrong\n", 0600), 0);
	r = open_srv(&s, path, 0);
	QVL_CHECK_EQ(qvl_remote_ping(r), -EACCES);
	QVL_CHECK_EQ(qvl_remote_get_value(r, "k", &buf, &len), -EACCES);
	qvl_remote_close(r);

	r = open_srv(&s, NULL, 0); /* no AUTH at all */
	QVL_CHECK_EQ(qvl_remote_get_value(r, "k", &buf, &len), -EACCES);
	qvl_remote_close(r);

	QVL_CHECK_EQ(write_file(path, "secret\n", 0604), 0);
	QVL_CHECK(open_srv(&s, path, 0) == NULL); /* -EACCES, printed */
	srv_kill(&s);
}

/* ---- several threads on one handle ---- */

#define TFRAMES 8

struct worker {
	struct qvl_remote *r;
	const struct qvl_rkey *keys;
	const uint8_t (*data)[4096];
	int fails;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	static __thread uint8_t back[TFRAMES][4096];
	struct qvl_remote_get g[TFRAMES];

	for (unsigned it = 0; it < 40; it++) {
		for (unsigned i = 0; i < TFRAMES; i++)
			g[i] = (struct qvl_remote_get){ .key = &w->keys[i],
							.buf = back[i],
							.cap = 4096,
							.len = 4096 };
		if (qvl_remote_get_frames(w->r, g, TFRAMES))
			w->fails++;
		for (unsigned i = 0; i < TFRAMES; i++)
			w->fails += !!memcmp(back[i], w->data[i], 4096);
	}
	return NULL;
}

static void test_threads(void)
{
	static uint8_t data[TFRAMES][4096];
	struct qvl_rkey keys[TFRAMES];
	const void *frames[TFRAMES];
	size_t lens[TFRAMES];
	struct worker w[6];
	pthread_t t[6];
	struct qvl_remote_stats st;
	struct qvl_remote *r;
	redisReply *rep;

	if (!need_redis())
		return;
	r = open_srv(&plain, NULL, 0);
	if (!r)
		return;
	for (unsigned i = 0; i < TFRAMES; i++) {
		fill(data[i], 4096);
		frames[i] = data[i];
		lens[i] = 4096;
		qvl_rkey_hash(data[i], 4096, 4096, &keys[i]);
		keys[i].codec = 1;
	}
	QVL_CHECK_EQ(qvl_remote_put_frames(r, keys, frames, lens, TFRAMES), 0);
	for (unsigned i = 0; i < 6; i++) {
		w[i] = (struct worker){ .r = r, .keys = keys, .data = data };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (unsigned i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		QVL_CHECK_EQ(w[i].fails, 0);
	}
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.frames_got, 6 * 40 * TFRAMES);
	QVL_CHECK_EQ(st.errors, 0);

	/* The server closes the pooled connections (its idle timeout, a
	 * proxy): the next call goes through on a fresh one, unnoticed. */
	rep = srv_cmd(&plain, "CLIENT KILL TYPE normal");
	QVL_CHECK(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer >= 1);
	if (rep)
		freeReplyObject(rep);
	for (unsigned i = 0; i < 2; i++) {
		uint8_t has = 0;
		QVL_CHECK_EQ(qvl_remote_has_frames(r, keys, 1, &has), 0);
		QVL_CHECK_EQ(has, 1);
	}
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.errors, 0);
	QVL_CHECK(st.reconnects >= 1);
	qvl_remote_close(r);
}

static int get_one(struct qvl_remote *r, const struct qvl_rkey *k, void *buf,
		   size_t cap)
{
	struct qvl_remote_get g = { .key = k, .buf = buf, .cap = cap };

	return qvl_remote_get_frames(r, &g, 1);
}

/* Calls keep failing, then succeed once the server is back. */
static int wait_up(struct qvl_remote *r, unsigned ms)
{
	for (uint64_t t0 = now_ms(); now_ms() - t0 < ms; sleep_ms(25))
		if (!qvl_remote_ping(r))
			return 0;
	return -1;
}

static void test_fault(void)
{
	static struct srv s;
	struct qvl_remote_stats st;
	struct qvl_remote *r;
	struct qvl_rkey k = rkey_n(77, 1);
	const void *frame = "frame";
	size_t flen = 5;
	char buf[16], err[256];
	uint64_t t0, dt;
	int rc;

	if (!need_redis())
		return;
	if (srv_start(&s, NULL)) {
		QVL_CHECK(!"server started");
		return;
	}
	r = open_srv(&s, NULL, 500);
	QVL_CHECK_EQ(qvl_remote_put_frames(r, &k, &frame, &flen, 1), 0);
	QVL_CHECK_EQ(get_one(r, &k, buf, sizeof(buf)), 0);

	/* Dead server: one error, then backoff answers at once. */
	srv_kill(&s);
	t0 = now_ms();
	rc = get_one(r, &k, buf, sizeof(buf));
	dt = now_ms() - t0;
	QVL_CHECK(rc == -ENOTCONN || rc == -ETIMEDOUT);
	QVL_CHECK(dt < 1500);
	t0 = now_ms();
	QVL_CHECK_EQ(get_one(r, &k, buf, sizeof(buf)), -ENOTCONN);
	QVL_CHECK(now_ms() - t0 < 100);
	qvl_remote_error(r, err, sizeof(err));
	QVL_CHECK(err[0] != '\0');
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.up, 0);
	QVL_CHECK(st.errors >= 2);

	/* Back on the same socket: calls succeed again (the frame is gone:
	 * nothing persists). */
	QVL_CHECK_EQ(srv_start(&s, NULL), 0);
	QVL_CHECK_EQ(wait_up(r, 5000), 0);
	QVL_CHECK_EQ(get_one(r, &k, buf, sizeof(buf)), -ENOENT);
	qvl_remote_get_stats(r, &st);
	QVL_CHECK(st.reconnects >= 1);
	QVL_CHECK_EQ(st.up, 1);

	/* A server that stops answering costs one timeout. */
	QVL_CHECK_EQ(qvl_remote_put_frames(r, &k, &frame, &flen, 1), 0);
	kill(s.pid, SIGSTOP);
	t0 = now_ms();
	rc = get_one(r, &k, buf, sizeof(buf));
	dt = now_ms() - t0;
	QVL_CHECK_EQ(rc, -ETIMEDOUT);
	QVL_CHECK(dt >= 400 && dt < 1500);
	t0 = now_ms();
	QVL_CHECK_EQ(get_one(r, &k, buf, sizeof(buf)), -ENOTCONN);
	QVL_CHECK(now_ms() - t0 < 100);
	qvl_remote_get_stats(r, &st);
	QVL_CHECK(st.timeouts >= 1);
	kill(s.pid, SIGCONT);
	QVL_CHECK_EQ(wait_up(r, 5000), 0);
	QVL_CHECK_EQ(get_one(r, &k, buf, sizeof(buf)), 0);
	QVL_CHECK(!memcmp(buf, "frame", 5));
	qvl_remote_close(r);
	srv_kill(&s);
}

/* ---- a cluster ---- */

static int port_free(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	ok = fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (fd >= 0)
		close(fd);
	return ok;
}

static int cluster_ok(const struct srv *s)
{
	redisReply *rep = srv_cmd(s, "CLUSTER INFO");
	int ok = rep && rep->type == REDIS_REPLY_STRING &&
		 strstr(rep->str, "cluster_state:ok");

	if (rep)
		freeReplyObject(rep);
	return ok;
}

static long long srv_int(const struct srv *s, const char *cmd)
{
	redisReply *rep = srv_cmd(s, cmd);
	long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;

	if (rep)
		freeReplyObject(rep);
	return v;
}

static int srv_status_ok(redisReply *rep)
{
	int ok = rep && rep->type == REDIS_REPLY_STATUS;

	if (!ok && rep && rep->type == REDIS_REPLY_ERROR)
		fprintf(stderr, "redis: %s\n", rep->str);
	if (rep)
		freeReplyObject(rep);
	return ok;
}

static void node_id(const struct srv *s, char id[64])
{
	redisReply *rep = srv_cmd(s, "CLUSTER MYID");

	id[0] = '\0';
	if (rep && rep->type == REDIS_REPLY_STRING)
		snprintf(id, 64, "%s", rep->str);
	if (rep)
		freeReplyObject(rep);
}

/* Which of @s owns @key's slot: the one that doesn't answer MOVED. */
static int owner(struct srv *s, unsigned n, const char *key)
{
	for (unsigned i = 0; i < n; i++) {
		redisReply *rep = srv_cmd(&s[i], "EXISTS %s", key);
		int mine = rep && rep->type == REDIS_REPLY_INTEGER;
		if (rep)
			freeReplyObject(rep);
		if (mine)
			return (int)i;
	}
	return -1;
}

#define CFRAMES 200

static void test_cluster(void)
{
	static struct srv s[3];
	char confs[3][96], cmd[256], url[64], id[3][64];
	const char *extra[3][8];
	struct qvl_rkey keys[CFRAMES];
	const void *frames[CFRAMES];
	size_t lens[CFRAMES];
	static uint8_t data[CFRAMES][2048], back[CFRAMES][2048];
	struct qvl_remote_get g[CFRAMES];
	struct qvl_remote_stats st;
	struct qvl_remote *r;
	int port = 20000 + (int)(rng() % 9000), ok = 1;

	if (!need_redis())
		return;
	if (!have("redis-cli")) {
		fprintf(stderr, "  skip: no redis-cli on PATH\n");
		return;
	}
	for (unsigned i = 0; i < 3; i++) {
		while (!port_free(port) || !port_free(port + 10000))
			port++;
		s[i].port = port++;
		strcpy(s[i].dir, "/tmp/qvl-redis.XXXXXX");
		if (!mkdtemp(s[i].dir)) {
			QVL_CHECK(!"mkdtemp");
			return;
		}
		snprintf(confs[i], sizeof(confs[i]), "%s/nodes.conf", s[i].dir);
		const char *e[] = { "--cluster-enabled", "yes", "--cluster-config-file",
				    confs[i], "--bind", "127.0.0.1", NULL };
		memcpy(extra[i], e, sizeof(e));
		if (srv_start(&s[i], extra[i])) {
			QVL_CHECK(!"cluster node started");
			return;
		}
	}
	snprintf(cmd, sizeof(cmd), "redis-cli --cluster create 127.0.0.1:%d "
		 "127.0.0.1:%d 127.0.0.1:%d --cluster-yes >/dev/null 2>&1",
		 s[0].port, s[1].port, s[2].port);
	QVL_CHECK_EQ(system(cmd), 0);
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 10000; sleep_ms(100)) {
		ok = cluster_ok(&s[0]) && cluster_ok(&s[1]) && cluster_ok(&s[2]);
		if (ok)
			break;
	}
	QVL_CHECK(ok);
	if (!ok)
		return;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", s[1].port);
	r = open_url(url, NULL, 2000, 2);
	for (unsigned i = 0; i < CFRAMES; i++) {
		lens[i] = 1 + rng() % sizeof(data[i]);
		fill(data[i], lens[i]);
		frames[i] = data[i];
		qvl_rkey_hash(data[i], lens[i], sizeof(data[i]), &keys[i]);
		keys[i].codec = 2;
		g[i] = (struct qvl_remote_get){ .key = &keys[i], .buf = back[i],
						.cap = sizeof(back[i]), .len = lens[i] };
	}
	QVL_CHECK_EQ(qvl_remote_put_frames(r, keys, frames, lens, CFRAMES), 0);
	QVL_CHECK_EQ(qvl_remote_get_frames(r, g, CFRAMES), 0);
	for (unsigned i = 0; i < CFRAMES; i++)
		QVL_CHECK(g[i].result == 0 && !memcmp(back[i], data[i], lens[i]));
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.nodes, 3);
	QVL_CHECK_EQ(st.redirects, 0);
	for (unsigned i = 0; i < 3; i++)
		QVL_CHECK(srv_int(&s[i], "DBSIZE") > 0);
	QVL_CHECK_EQ(srv_int(&s[0], "DBSIZE") + srv_int(&s[1], "DBSIZE") +
		     srv_int(&s[2], "DBSIZE"), CFRAMES);

	/* Move a frame's slot to another master, the way redis-cli
	 * --cluster reshard does: the key goes over while the slot is
	 * MIGRATING (the old owner answers ASK), then the slot changes
	 * owner (MOVED). */
	char key[QVL_RKEY_STRLEN];
	unsigned slot, j, slots[CFRAMES];
	int from, to;

	for (unsigned i = 0; i < CFRAMES; i++) {
		qvl_rkey_format(&keys[i], key);
		slots[i] = qvl_rslot(key, strlen(key));
	}
	for (j = 0; j < CFRAMES; j++) {
		unsigned same = 0;
		for (unsigned i = 0; i < CFRAMES; i++)
			same += slots[i] == slots[j];
		if (same == 1)
			break;
	}
	qvl_rkey_format(&keys[j], key);
	slot = slots[j];
	from = owner(s, 3, key);
	QVL_CHECK(from >= 0);
	if (from < 0)
		goto out;
	to = (from + 1) % 3;
	for (unsigned i = 0; i < 3; i++)
		node_id(&s[i], id[i]);
	QVL_CHECK(srv_status_ok(srv_cmd(&s[to], "CLUSTER SETSLOT %u IMPORTING %s",
					slot, id[from])));
	QVL_CHECK(srv_status_ok(srv_cmd(&s[from], "CLUSTER SETSLOT %u MIGRATING %s",
					slot, id[to])));
	QVL_CHECK(srv_status_ok(srv_cmd(&s[from], "MIGRATE 127.0.0.1 %d %s 0 5000",
					s[to].port, key)));
	memset(back[j], 0, lens[j]);
	QVL_CHECK_EQ(qvl_remote_get_frames(r, &g[j], 1), 0);
	QVL_CHECK(!memcmp(back[j], data[j], lens[j]));
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.redirects, 1);
	for (unsigned i = 0; i < 3; i++)
		QVL_CHECK(srv_status_ok(srv_cmd(&s[i], "CLUSTER SETSLOT %u NODE %s",
						slot, id[to])));
	memset(back[j], 0, lens[j]);
	QVL_CHECK_EQ(qvl_remote_get_frames(r, g, CFRAMES), 0);
	QVL_CHECK(!memcmp(back[j], data[j], lens[j]));
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.redirects, 2);
	/* The map learnt the new owner: no redirect the next time. */
	QVL_CHECK_EQ(qvl_remote_get_frames(r, g, CFRAMES), 0);
	qvl_remote_get_stats(r, &st);
	QVL_CHECK_EQ(st.redirects, 2);
	QVL_CHECK_EQ(st.nodes, 3);
out:
	qvl_remote_close(r);
	for (unsigned i = 0; i < 3; i++)
		srv_kill(&s[i]);
}

int main(void)
{
	uint64_t t0 = now_ms();

	atexit(cleanup);
	QVL_RUN(test_rkey);
	QVL_RUN(test_manifest_roundtrip);
	QVL_RUN(test_manifest_corrupt);
	QVL_RUN(test_manifest_rules);
	QVL_RUN(test_open_args);
	QVL_RUN(test_frames);
	QVL_RUN(test_values);
	QVL_RUN(test_threads);
	QVL_RUN(test_auth);
	QVL_RUN(test_fault);
	QVL_RUN(test_cluster);
	cleanup();
	fprintf(stderr, "  %.1f s\n", (double)(now_ms() - t0) / 1000);
	return QVL_TEST_EXIT();
}

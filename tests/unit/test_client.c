/*
 * test_client.c - libqvlmem on a private tmpfs (user.* xattrs, no daemon):
 * create/open/map round trips, validation before any change, empty tensors,
 * metadata read back from xattrs, hints, tier values, stats.json parsing.
 * Needs root for the tmpfs mount; exits 77 otherwise.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../harness.h"
#include "qvlmem.h"

static char root[64];
static char path_buf[256];

static const char *P(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", root, name);
	return path_buf;
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* The raw xattr value as a string, "" when absent. */
static const char *xget(const char *p, const char *name)
{
	static char v[256];
	ssize_t n = getxattr(p, name, v, sizeof(v) - 1);

	v[n < 0 ? 0 : n] = '\0';
	return v;
}

static void write_file(const char *p, size_t n)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	QVL_CHECK(fd >= 0);
	QVL_CHECK(ftruncate(fd, (off_t)n) == 0);
	close(fd);
}

static void test_create_open_roundtrip(void)
{
	const uint64_t dims[2] = { 3, 4 };
	struct qvlmem_hints h = {
		.pin = QVLMEM_PIN_RAM,
		.lifetime = QVLMEM_LIFETIME_SESSION,
		.codec = QVLMEM_CODEC_SHUFFLE_ZSTD,
		.set = QVLMEM_HINT_TTL | QVLMEM_HINT_PRIORITY,
		.ttl = 60,
		.priority = 7,
	};
	struct qvlmem_tensor *t = NULL;
	const char *p = P("rt.f32");
	uint64_t got[QVL_MAX_DIMS];
	float *f;

	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, dims, &h, &t), 0);
	if (!t)
		return;
	QVL_CHECK_EQ(qvlmem_size(t), 48);
	QVL_CHECK_EQ(qvlmem_dtype(t), QVL_DTYPE_F32);
	QVL_CHECK_EQ(qvlmem_nelems(t), 12);
	f = qvlmem_data(t);
	QVL_CHECK(f != NULL);
	for (int i = 0; f && i < 12; i++) {
		QVL_CHECK(f[i] == 0.0f);
		f[i] = (float)i * 0.5f;
	}
	QVL_CHECK_EQ(qvlmem_sync(t), 0);
	QVL_CHECK_STR(xget(p, QVL_XATTR_DTYPE), "f32");
	QVL_CHECK_STR(xget(p, QVL_XATTR_SHAPE), "3,4");
	QVL_CHECK_STR(xget(p, QVL_XATTR_PIN), "ram");
	QVL_CHECK_STR(xget(p, QVL_XATTR_LIFETIME), "session");
	QVL_CHECK_STR(xget(p, QVL_XATTR_CODEC), "shuffle-zstd");
	QVL_CHECK_STR(xget(p, QVL_XATTR_TTL), "60");
	QVL_CHECK_STR(xget(p, QVL_XATTR_PRIORITY), "7");
	/* Values go out without a trailing NUL. */
	QVL_CHECK_EQ(getxattr(p, QVL_XATTR_DTYPE, NULL, 0), 3);
	QVL_CHECK_EQ(qvlmem_close(t), 0);

	t = NULL;
	QVL_CHECK_EQ(qvlmem_open(p, QVLMEM_RDONLY, &t), 0);
	if (!t)
		return;
	QVL_CHECK_EQ(qvlmem_dtype(t), QVL_DTYPE_F32);
	QVL_CHECK_EQ(qvlmem_shape(t, got, QVL_MAX_DIMS), 2);
	QVL_CHECK_EQ(got[0], 3);
	QVL_CHECK_EQ(got[1], 4);
	QVL_CHECK_EQ(qvlmem_shape(t, got, 1), 2); /* short buffer: count still 2 */
	f = qvlmem_data(t);
	for (int i = 0; i < 12; i++)
		QVL_CHECK(f[i] == (float)i * 0.5f);
	QVL_CHECK(qvlmem_fd(t) >= 0);
	QVL_CHECK_EQ(qvlmem_sync(t), 0);
	QVL_CHECK_EQ(qvlmem_close(t), 0);

	/* Read-write reopen, change, and see it again. */
	t = NULL;
	QVL_CHECK_EQ(qvlmem_open(p, QVLMEM_RDWR | QVLMEM_POPULATE, &t), 0);
	if (!t)
		return;
	((float *)qvlmem_data(t))[11] = 42.0f;
	QVL_CHECK_EQ(qvlmem_close(t), 0);
	t = NULL;
	QVL_CHECK_EQ(qvlmem_open(p, QVLMEM_RDONLY, &t), 0);
	if (t)
		QVL_CHECK(((float *)qvlmem_data(t))[11] == 42.0f);
	qvlmem_close(t);
	QVL_CHECK_EQ(qvlmem_close(NULL), 0);
}

static void test_create_rejects_bad_values(void)
{
	const uint64_t d2[2] = { 2, 2 };
	const uint64_t d31[1] = { 31 };
	const uint64_t huge[3] = { UINT64_MAX / 2, 4, 3 };
	const uint64_t nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	struct qvlmem_tensor *t = NULL;
	const char *p = P("bad");
	struct qvlmem_hints h;

	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_NONE, 2, d2, NULL, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_COUNT, 2, d2, NULL, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(p, (enum qvl_dtype)-1, 2, d2, NULL, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 0, d2, NULL, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 9, nine, NULL, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, NULL, NULL, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_Q8_0, 1, d31, NULL, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 3, huge, NULL, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, d2, NULL, NULL), -EINVAL);
	QVL_CHECK_EQ(qvlmem_create(NULL, QVL_DTYPE_F32, 2, d2, NULL, &t), -EINVAL);

	h = (struct qvlmem_hints){ .pin = (enum qvlmem_pin)99 };
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, d2, &h, &t), -EINVAL);
	h = (struct qvlmem_hints){ .lifetime = QVLMEM_LIFETIME_COUNT };
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, d2, &h, &t), -EINVAL);
	h = (struct qvlmem_hints){ .codec = (enum qvlmem_codec)-3 };
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, d2, &h, &t), -EINVAL);
	h = (struct qvlmem_hints){ .set = QVLMEM_HINT_PRIORITY, .priority = 10 };
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, d2, &h, &t), -EINVAL);
	h = (struct qvlmem_hints){ .set = QVLMEM_HINT_PRIORITY, .priority = -1 };
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, d2, &h, &t), -EINVAL);
	h = (struct qvlmem_hints){ .set = 0x80 };
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_F32, 2, d2, &h, &t), -EINVAL);

	QVL_CHECK(t == NULL);
	QVL_CHECK(!exists(p));

	/* Block types need whole blocks; 64 q4_0 elements are 2 x 18 bytes. */
	const uint64_t d64[1] = { 64 };
	QVL_CHECK_EQ(qvlmem_create(P("q4"), QVL_DTYPE_Q4_0, 1, d64, NULL, &t), 0);
	if (t)
		QVL_CHECK_EQ(qvlmem_size(t), 36);
	qvlmem_close(t);
}

static void test_create_exists(void)
{
	const uint64_t d[1] = { 8 };
	struct qvlmem_tensor *t = NULL;
	const char *p = P("exists");

	write_file(p, 5);
	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_U8, 1, d, NULL, &t), -EEXIST);
	QVL_CHECK(t == NULL);
	QVL_CHECK(exists(p)); /* not ours: not unlinked */
	QVL_CHECK_STR(xget(p, QVL_XATTR_DTYPE), "");
}

static void test_setters_reject_bad_values(void)
{
	const uint64_t d[1] = { 4 };
	struct qvlmem_tensor *t = NULL;
	const char *p = P("setters");
	struct qvlmem_hints h, g;

	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_I32, 1, d, NULL, &t), 0);
	if (!t)
		return;
	QVL_CHECK_EQ(qvlmem_set_pin(t, QVLMEM_PIN_GPU), 0);
	QVL_CHECK_EQ(qvlmem_set_priority(t, 3), 0);
	QVL_CHECK_EQ(qvlmem_set_ttl(t, 0), 0);
	QVL_CHECK_EQ(qvlmem_set_lifetime(t, QVLMEM_LIFETIME_VOLATILE), 0);
	QVL_CHECK_EQ(qvlmem_set_codec(t, QVLMEM_CODEC_NONE), 0);
	QVL_CHECK_STR(xget(p, QVL_XATTR_PIN), "gpu");
	QVL_CHECK_STR(xget(p, QVL_XATTR_TTL), "0");

	QVL_CHECK_EQ(qvlmem_set_pin(t, (enum qvlmem_pin)7), -EINVAL);
	QVL_CHECK_EQ(qvlmem_set_pin(t, QVLMEM_PIN_UNSET), -EINVAL);
	QVL_CHECK_EQ(qvlmem_set_priority(t, 10), -EINVAL);
	QVL_CHECK_EQ(qvlmem_set_priority(t, -2), -EINVAL);
	QVL_CHECK_EQ(qvlmem_set_lifetime(t, QVLMEM_LIFETIME_COUNT), -EINVAL);
	QVL_CHECK_EQ(qvlmem_set_codec(t, QVLMEM_CODEC_COUNT), -EINVAL);
	QVL_CHECK_EQ(qvlmem_advise(t, QVLMEM_ADVICE_UNSET), -EINVAL);
	QVL_CHECK_EQ(qvlmem_advise(t, QVLMEM_ADVICE_COUNT), -EINVAL);
	QVL_CHECK_EQ(qvlmem_move(t, QVLMEM_TIER_COUNT), -EINVAL);
	QVL_CHECK_EQ(qvlmem_move(t, (enum qvlmem_tier)-1), -EINVAL);
	/* One good and one bad field: nothing is written. */
	h = (struct qvlmem_hints){ .pin = QVLMEM_PIN_NONE,
				   .set = QVLMEM_HINT_PRIORITY, .priority = 12 };
	QVL_CHECK_EQ(qvlmem_set_hints(t, &h), -EINVAL);
	QVL_CHECK_STR(xget(p, QVL_XATTR_PIN), "gpu");
	QVL_CHECK_STR(xget(p, QVL_XATTR_PRIORITY), "3");
	QVL_CHECK_EQ(qvlmem_path_set_hints(p, &h), -EINVAL);
	QVL_CHECK_STR(xget(p, QVL_XATTR_PIN), "gpu");
	QVL_CHECK_EQ(qvlmem_set_hints(t, NULL), -EINVAL);

	QVL_CHECK_EQ(qvlmem_get_hints(t, &g), 0);
	QVL_CHECK_EQ(g.pin, QVLMEM_PIN_GPU);
	QVL_CHECK_EQ(g.lifetime, QVLMEM_LIFETIME_VOLATILE);
	QVL_CHECK_EQ(g.codec, QVLMEM_CODEC_NONE);
	QVL_CHECK_EQ(g.set, QVLMEM_HINT_TTL | QVLMEM_HINT_PRIORITY);
	QVL_CHECK_EQ(g.ttl, 0);
	QVL_CHECK_EQ(g.priority, 3);

	/* Advice and moves are plain xattr writes; tmpfs just keeps them. */
	QVL_CHECK_EQ(qvlmem_advise(t, QVLMEM_ADVICE_WILLNEED), 0);
	QVL_CHECK_STR(xget(p, QVL_XATTR_ADVICE), "willneed");
	QVL_CHECK_EQ(qvlmem_path_move(p, QVLMEM_TIER_NVME), 0);
	QVL_CHECK_STR(xget(p, QVL_XATTR_TIER), "nvme");
	qvlmem_close(t);

	/* A directory takes hints by path (inherited on qvlmemfs). */
	QVL_CHECK_EQ(mkdir(P("hdir"), 0755), 0);
	h = (struct qvlmem_hints){ .lifetime = QVLMEM_LIFETIME_SESSION };
	QVL_CHECK_EQ(qvlmem_path_set_hints(P("hdir"), &h), 0);
	QVL_CHECK_EQ(qvlmem_path_get_hints(P("hdir"), &g), 0);
	QVL_CHECK_EQ(g.lifetime, QVLMEM_LIFETIME_SESSION);
	QVL_CHECK_EQ(g.pin, QVLMEM_PIN_UNSET);
	QVL_CHECK_EQ(g.set, 0);

	/* Unknown values read back as unset, not as errors. */
	QVL_CHECK_EQ(setxattr(P("hdir"), QVL_XATTR_PIN, "vram", 4, 0), 0);
	QVL_CHECK_EQ(setxattr(P("hdir"), QVL_XATTR_PRIORITY, "x", 1, 0), 0);
	QVL_CHECK_EQ(qvlmem_path_get_hints(P("hdir"), &g), 0);
	QVL_CHECK_EQ(g.pin, QVLMEM_PIN_UNSET);
	QVL_CHECK_EQ(g.set, 0);
	QVL_CHECK_EQ(qvlmem_path_get_hints(P("nope"), &g), -ENOENT);
}

static void test_zero_size(void)
{
	const uint64_t d[2] = { 0, 5 };
	struct qvlmem_tensor *t = NULL;
	const char *p = P("empty");
	uint64_t got[2];

	QVL_CHECK_EQ(qvlmem_create(p, QVL_DTYPE_BF16, 2, d, NULL, &t), 0);
	if (!t)
		return;
	QVL_CHECK(qvlmem_data(t) == NULL);
	QVL_CHECK_EQ(qvlmem_size(t), 0);
	QVL_CHECK_EQ(qvlmem_nelems(t), 0);
	QVL_CHECK_EQ(qvlmem_sync(t), 0);
	QVL_CHECK_EQ(qvlmem_close(t), 0);
	QVL_CHECK_STR(xget(p, QVL_XATTR_SHAPE), "0,5");

	t = NULL;
	QVL_CHECK_EQ(qvlmem_open(p, QVLMEM_RDWR, &t), 0);
	if (!t)
		return;
	QVL_CHECK(qvlmem_data(t) == NULL);
	QVL_CHECK_EQ(qvlmem_shape(t, got, 2), 2);
	QVL_CHECK_EQ(got[0], 0);
	QVL_CHECK_EQ(got[1], 5);
	QVL_CHECK_EQ(qvlmem_dtype(t), QVL_DTYPE_BF16);
	qvlmem_close(t);

	/* A plain empty file: u8, one dim of 0. */
	write_file(P("empty.raw"), 0);
	t = NULL;
	QVL_CHECK_EQ(qvlmem_open(P("empty.raw"), QVLMEM_RDONLY, &t), 0);
	if (t)
		QVL_CHECK_EQ(qvlmem_nelems(t), 0);
	qvlmem_close(t);
}

static int open_err(const char *p)
{
	struct qvlmem_tensor *t = NULL;
	int rc = qvlmem_open(p, QVLMEM_RDONLY, &t);

	if (rc == 0) {
		qvlmem_close(t);
		return 0;
	}
	QVL_CHECK(t == NULL);
	return rc;
}

static void test_open_metadata(void)
{
	struct qvlmem_tensor *t = NULL;
	const char *p = P("meta");
	uint64_t d[QVL_MAX_DIMS];

	/* Untyped: u8, one dim. */
	write_file(p, 10);
	QVL_CHECK_EQ(qvlmem_open(p, QVLMEM_RDONLY, &t), 0);
	if (t) {
		QVL_CHECK_EQ(qvlmem_dtype(t), QVL_DTYPE_U8);
		QVL_CHECK_EQ(qvlmem_shape(t, d, QVL_MAX_DIMS), 1);
		QVL_CHECK_EQ(d[0], 10);
		qvlmem_close(t);
	}
	/* Shape without dtype: u8. */
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_SHAPE, "2,5", 3, 0), 0);
	QVL_CHECK_EQ(open_err(p), 0);
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_SHAPE, "3,5", 3, 0), 0);
	QVL_CHECK_EQ(open_err(p), -EBADMSG);
	QVL_CHECK_EQ(removexattr(p, QVL_XATTR_SHAPE), 0);

	/* dtype only: one dim of size / elem size, or -EBADMSG if uneven. */
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_DTYPE, "i16", 3, 0), 0);
	t = NULL;
	QVL_CHECK_EQ(qvlmem_open(p, QVLMEM_RDONLY, &t), 0);
	if (t) {
		QVL_CHECK_EQ(qvlmem_dtype(t), QVL_DTYPE_I16);
		QVL_CHECK_EQ(qvlmem_nelems(t), 5);
		qvlmem_close(t);
	}
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_DTYPE, "f32", 3, 0), 0);
	QVL_CHECK_EQ(open_err(p), -EBADMSG);

	/* A value with one trailing NUL is the same value. */
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_DTYPE, "u16\0", 4, 0), 0);
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_SHAPE, "5\0", 2, 0), 0);
	QVL_CHECK_EQ(open_err(p), 0);

	/* Malformed or inconsistent metadata. */
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_DTYPE, "f33", 3, 0), 0);
	QVL_CHECK_EQ(open_err(p), -EBADMSG);
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_DTYPE, "u16", 3, 0), 0);
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_SHAPE, "5,", 2, 0), 0);
	QVL_CHECK_EQ(open_err(p), -EBADMSG);
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_SHAPE, "6", 1, 0), 0);
	QVL_CHECK_EQ(open_err(p), -EBADMSG);

	/* Not a tensor at all, or not a file. */
	QVL_CHECK_EQ(open_err(P("missing")), -ENOENT);
	QVL_CHECK_EQ(mkdir(P("adir"), 0755), 0);
	QVL_CHECK_EQ(open_err(P("adir")), -EISDIR);
	QVL_CHECK_EQ(qvlmem_open(p, 0x100, &t), -EINVAL);
	QVL_CHECK_EQ(qvlmem_open(p, QVLMEM_RDONLY, NULL), -EINVAL);
}

static void test_shape_parse(void)
{
	uint64_t d[QVL_MAX_DIMS], b;

	QVL_CHECK_EQ(qvlmem_shape_parse("6144,2048", 9, d), 2);
	QVL_CHECK_EQ(d[0], 6144);
	QVL_CHECK_EQ(d[1], 2048);
	QVL_CHECK_EQ(qvlmem_shape_parse("7\n", 2, d), 1);
	QVL_CHECK_EQ(qvlmem_shape_parse("1,2,3,4,5,6,7,8", 15, d), 8);
	QVL_CHECK_EQ(qvlmem_shape_parse("18446744073709551615", 20, d), 1);
	QVL_CHECK(d[0] == UINT64_MAX);
	QVL_CHECK_EQ(qvlmem_shape_parse("18446744073709551616", 20, d), -EINVAL);
	QVL_CHECK_EQ(qvlmem_shape_parse("1,2,3,4,5,6,7,8,9", 17, d), -EINVAL);
	QVL_CHECK_EQ(qvlmem_shape_parse("", 0, d), -EINVAL);
	QVL_CHECK_EQ(qvlmem_shape_parse(",1", 2, d), -EINVAL);
	QVL_CHECK_EQ(qvlmem_shape_parse("1, 2", 4, d), -EINVAL);
	QVL_CHECK_EQ(qvlmem_shape_parse("-1", 2, d), -EINVAL);
	QVL_CHECK_EQ(qvlmem_shape_parse("1x2", 3, d), -EINVAL);

	d[0] = 6144;
	d[1] = 2048;
	QVL_CHECK_EQ(qvlmem_shape_bytes(QVL_DTYPE_BF16, 2, d, &b), 0);
	QVL_CHECK_EQ(b, 6144ull * 2048 * 2);
	d[0] = 0;
	d[1] = UINT64_MAX;
	QVL_CHECK_EQ(qvlmem_shape_bytes(QVL_DTYPE_F64, 2, d, &b), 0);
	QVL_CHECK_EQ(b, 0);
	d[0] = 1ull << 62;
	QVL_CHECK_EQ(qvlmem_shape_bytes(QVL_DTYPE_F64, 1, d, &b), -EINVAL);
}

static void test_tier_and_residency(void)
{
	const char *p = P("tiered");
	struct qvlmem_residency r;
	struct qvlmem_tensor *t = NULL;
	char buf[64];

	write_file(p, 16);
	QVL_CHECK_EQ(qvlmem_path_tier(p, buf, sizeof(buf)), -ENODATA);
	QVL_CHECK_EQ(setxattr(p, QVL_XATTR_TIER, "ram:25%,nvme:75%", 16, 0), 0);
	QVL_CHECK_EQ(qvlmem_path_tier(p, buf, sizeof(buf)), 16);
	QVL_CHECK_STR(buf, "ram:25%,nvme:75%");
	QVL_CHECK_EQ(qvlmem_path_tier(p, buf, 8), -ERANGE);
	QVL_CHECK_EQ(qvlmem_open(p, QVLMEM_RDONLY, &t), 0);
	if (t) {
		QVL_CHECK_EQ(qvlmem_residency(t, &r), 0);
		QVL_CHECK_EQ(r.pct[QVLMEM_TIER_RAM], 25);
		QVL_CHECK_EQ(r.pct[QVLMEM_TIER_NVME], 75);
		QVL_CHECK_EQ(r.pct[QVLMEM_TIER_GPU], 0);
		QVL_CHECK_EQ(setxattr(p, QVL_XATTR_TIER, "disk", 4, 0), 0);
		QVL_CHECK_EQ(qvlmem_residency(t, &r), -EBADMSG);
		qvlmem_close(t);
	}

	QVL_CHECK_EQ(qvlmem_residency_parse("ram", 3, &r), 0);
	QVL_CHECK_EQ(r.pct[QVLMEM_TIER_RAM], 100);
	QVL_CHECK_EQ(qvlmem_residency_parse("gpu:100%", 8, &r), 0);
	QVL_CHECK_EQ(r.pct[QVLMEM_TIER_GPU], 100);
	QVL_CHECK_EQ(qvlmem_residency_parse("ram:101%", 8, &r), -EINVAL);
	QVL_CHECK_EQ(qvlmem_residency_parse("ram:25", 6, &r), -EINVAL);
	QVL_CHECK_EQ(qvlmem_residency_parse("ram,nvme", 8, &r), -EINVAL);
	QVL_CHECK_EQ(qvlmem_residency_parse("ram:25%,", 8, &r), -EINVAL);
	QVL_CHECK_EQ(qvlmem_residency_parse("", 0, &r), -EINVAL);
	QVL_CHECK_EQ(qvlmem_residency_parse("ram:%", 5, &r), -EINVAL);
}

static const char stats_json[] =
	"{\"version\":\"0.1.0\",\"chunk_size\":1048576,\"read_ahead_kb\":1024,"
	"\"tiers\":{\"gpu\":{\"present\":false,\"budget\":0,\"used\":0,\"files\":0},"
	"\"ram\":{\"present\":true,\"budget\":2147483648,\"used\":1048576,\"files\":3},"
	"\"nvme\":{\"present\":false,\"budget\":0,\"used\":0,\"files\":0}},"
	"\"files\":3,\"dirs\":1,\"bytes\":3145728, \"pools\":[{\"size\":1048576,"
	"\"n\":[1,2,[3,{}]]}], \"fragmentation\":0.01, \"ops\":{\"read\":5,"
	"\"note\":\"a \\\"quoted\\\" } string\"}}";

static void test_stats_parse(void)
{
	struct qvlmem_stats st;
	const char *reordered =
		" { \"ops\" : { } , \"bytes\" : 7 , \"tiers\" : { \"tape\" : {\"used\":1},"
		" \"nvme\" : { \"files\" : 2 , \"used\" : 1.5e3, \"extra\": null,"
		" \"present\" : true } } , \"files\" : 2 }\n";

	QVL_CHECK_EQ(qvlmem_stats_parse(stats_json, sizeof(stats_json) - 1, &st), 0);
	QVL_CHECK_STR(st.version, "0.1.0");
	QVL_CHECK_EQ(st.chunk_size, 1048576);
	QVL_CHECK_EQ(st.read_ahead_kb, 1024);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_RAM].present, 1);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_RAM].budget, 2147483648ull);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_RAM].used, 1048576);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_RAM].files, 3);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_GPU].present, 0);
	QVL_CHECK_EQ(st.files, 3);
	QVL_CHECK_EQ(st.dirs, 1);
	QVL_CHECK_EQ(st.bytes, 3145728);

	QVL_CHECK_EQ(qvlmem_stats_parse(reordered, strlen(reordered), &st), 0);
	QVL_CHECK_EQ(st.bytes, 7);
	QVL_CHECK_EQ(st.files, 2);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_NVME].present, 1);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_NVME].used, 1);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_NVME].files, 2);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_RAM].present, 0);

	/* Every truncation of a good document fails cleanly. */
	for (size_t n = 0; n + 1 < sizeof(stats_json) - 1; n++)
		QVL_CHECK_EQ(qvlmem_stats_parse(stats_json, n, &st), -EBADMSG);
	QVL_CHECK_EQ(qvlmem_stats_parse("{\"files\":1}", 11, &st), -EBADMSG);
	QVL_CHECK_EQ(qvlmem_stats_parse("[]", 2, &st), -EBADMSG);
	QVL_CHECK_EQ(qvlmem_stats_parse("{\"tiers\":[", 10, &st), -EBADMSG);

	char deep[200];
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"tiers\":{},\"x\":", 16);
	QVL_CHECK_EQ(qvlmem_stats_parse(deep, sizeof(deep), &st), -EBADMSG);
}

static void test_mount_stats(void)
{
	struct qvlmem_stats st;
	char dir[256];
	FILE *f;

	QVL_CHECK_EQ(qvlmem_mount_stats(root, &st), -ENOENT);
	snprintf(dir, sizeof(dir), "%s/fakemnt", root);
	QVL_CHECK_EQ(mkdir(dir, 0755), 0);
	QVL_CHECK_EQ(mkdir(P("fakemnt/.qvl"), 0755), 0);
	f = fopen(P("fakemnt/.qvl/stats.json"), "w");
	QVL_CHECK(f != NULL);
	if (!f)
		return;
	fputs(stats_json, f);
	/* Longer than the first read buffer, to exercise growth. */
	for (int i = 0; i < 5000; i++)
		fputs("        ", f);
	fclose(f);
	QVL_CHECK_EQ(qvlmem_mount_stats(dir, &st), 0);
	QVL_CHECK_EQ(st.tier[QVLMEM_TIER_RAM].files, 3);
}

static void test_create_cleans_up_on_failure(void)
{
	const uint64_t d[1] = { 4 };
	struct qvlmem_tensor *t = NULL;
	char dir[256];

	/* ramfs keeps no user.* xattrs: setting the dtype fails after the
	 * file exists, and create must take the file away again. */
	snprintf(dir, sizeof(dir), "%s/ramfs", root);
	QVL_CHECK_EQ(mkdir(dir, 0755), 0);
	if (mount("ramfs", dir, "ramfs", 0, NULL) < 0) {
		fprintf(stderr, "  (no ramfs: cleanup case not run)\n");
		return;
	}
	QVL_CHECK_EQ(qvlmem_create(P("ramfs/t"), QVL_DTYPE_F32, 1, d, NULL, &t),
		     -ENOTSUP);
	QVL_CHECK(t == NULL);
	QVL_CHECK(!exists(P("ramfs/t")));
	QVL_CHECK_EQ(qvlmem_create(P("nodir/t"), QVL_DTYPE_F32, 1, d, NULL, &t),
		     -ENOENT);
	umount(dir);
}

static void test_names_and_strerror(void)
{
	QVL_CHECK_STR(qvlmem_pin_name(QVLMEM_PIN_GPU), "gpu");
	QVL_CHECK(qvlmem_pin_name(QVLMEM_PIN_UNSET) == NULL);
	QVL_CHECK(qvlmem_pin_name((enum qvlmem_pin)-1) == NULL);
	QVL_CHECK_STR(qvlmem_codec_name(QVLMEM_CODEC_SHUFFLE_ZSTD), "shuffle-zstd");
	QVL_CHECK_EQ(qvlmem_codec_from_name("q8_0", 4), QVLMEM_CODEC_Q8_0);
	QVL_CHECK_EQ(qvlmem_codec_from_name("q8", 2), QVLMEM_CODEC_UNSET);
	QVL_CHECK_EQ(qvlmem_lifetime_from_name("volatile", 8),
		     QVLMEM_LIFETIME_VOLATILE);
	QVL_CHECK_STR(qvlmem_advice_name(QVLMEM_ADVICE_SEQUENTIAL), "sequential");
	QVL_CHECK_STR(qvlmem_tier_name(QVLMEM_TIER_NVME), "nvme");
	QVL_CHECK_STR(qvlmem_version(), QVL_VERSION);

	QVL_CHECK(strstr(qvlmem_strerror(-EBADMSG), "inconsistent") != NULL);
	QVL_CHECK_STR(qvlmem_strerror(-EINVAL), qvlmem_strerror(EINVAL));
	QVL_CHECK_STR(qvlmem_strerror(-EINVAL), "Invalid argument");
	QVL_CHECK_STR(qvlmem_strerror(0), "success");
	QVL_CHECK_STR(qvlmem_strerror(-99999), "unknown error");
	QVL_CHECK(qvlmem_strerror(-ENODATA) != NULL);
}

int main(void)
{
	bool mounted = false;

	snprintf(root, sizeof(root), "/tmp/qvl-test-client.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	if (geteuid() != 0 ||
	    mount("tmpfs", root, "tmpfs", 0, "size=16m,mode=0700") < 0) {
		fprintf(stderr, "skip: needs root to mount a private tmpfs\n");
		rmdir(root);
		return QVL_TEST_SKIP;
	}
	mounted = true;
	if (setxattr(root, "user.qvl.probe", "1", 1, 0) < 0) {
		fprintf(stderr, "skip: tmpfs without user.* xattrs here\n");
		umount(root);
		rmdir(root);
		return QVL_TEST_SKIP;
	}

	QVL_RUN(test_create_open_roundtrip);
	QVL_RUN(test_create_rejects_bad_values);
	QVL_RUN(test_create_exists);
	QVL_RUN(test_setters_reject_bad_values);
	QVL_RUN(test_zero_size);
	QVL_RUN(test_open_metadata);
	QVL_RUN(test_shape_parse);
	QVL_RUN(test_tier_and_residency);
	QVL_RUN(test_stats_parse);
	QVL_RUN(test_mount_stats);
	QVL_RUN(test_create_cleans_up_on_failure);
	QVL_RUN(test_names_and_strerror);

	if (mounted && umount(root) < 0)
		perror("umount");
	rmdir(root);
	return QVL_TEST_EXIT();
}

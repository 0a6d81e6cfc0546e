/*
 * test_hints.c - the user.qvl.* value parsers and formatters (fs/hints.h):
 * one trailing NUL allowed and nothing else, garbage and overflow refused,
 * shapes up to QVL_MAX_DIMS with the empty shape a scalar, sizes with
 * suffixes and percentages, tensor byte counts for block types.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "hints.h"

#define S(lit) (lit), (sizeof(lit) - 1) /* a literal without its NUL */
#define Z(lit) (lit), sizeof(lit)       /* a literal with its NUL */

static void test_dtype(void)
{
	enum qvl_dtype d = QVL_DTYPE_NONE;
	QVL_CHECK_EQ(qvl_parse_dtype(S("bf16"), &d), 0);
	QVL_CHECK_EQ(d, QVL_DTYPE_BF16);
	QVL_CHECK_EQ(qvl_parse_dtype(Z("q4_0"), &d), 0);
	QVL_CHECK_EQ(d, QVL_DTYPE_Q4_0);
	for (int i = 1; i < QVL_DTYPE_COUNT; i++) {
		const char *n = qvl_dtype_table[i].name;
		QVL_CHECK_EQ(qvl_parse_dtype(n, strlen(n), &d), 0);
		QVL_CHECK_EQ(d, i);
	}
	d = QVL_DTYPE_F32;
	QVL_CHECK_EQ(qvl_parse_dtype(S("f33"), &d), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_dtype(S("F32"), &d), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_dtype(S("f32 "), &d), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_dtype(S("f32\0\0"), &d), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_dtype(S("f3"), &d), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_dtype("", 0, &d), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_dtype(Z(""), &d), -EINVAL);
	QVL_CHECK_EQ(d, QVL_DTYPE_F32); /* untouched on error */
}

static void test_shape(void)
{
	uint64_t dims[QVL_MAX_DIMS];
	uint8_t n = 99;
	QVL_CHECK_EQ(qvl_parse_shape(S("6144,2048"), dims, &n), 0);
	QVL_CHECK_EQ(n, 2);
	QVL_CHECK_EQ(dims[0], 6144);
	QVL_CHECK_EQ(dims[1], 2048);
	QVL_CHECK_EQ(qvl_parse_shape(Z("7"), dims, &n), 0);
	QVL_CHECK_EQ(n, 1);
	QVL_CHECK_EQ(dims[0], 7);
	QVL_CHECK_EQ(qvl_parse_shape(S("0,5"), dims, &n), 0);
	QVL_CHECK_EQ(n, 2);
	QVL_CHECK_EQ(dims[0], 0);
	/* Empty: a scalar, with or without the NUL. */
	n = 9;
	QVL_CHECK_EQ(qvl_parse_shape("", 0, dims, &n), 0);
	QVL_CHECK_EQ(n, 0);
	n = 9;
	QVL_CHECK_EQ(qvl_parse_shape(Z(""), dims, &n), 0);
	QVL_CHECK_EQ(n, 0);
	/* Eight dims are the most. */
	QVL_CHECK_EQ(qvl_parse_shape(S("1,2,3,4,5,6,7,8"), dims, &n), 0);
	QVL_CHECK_EQ(n, 8);
	QVL_CHECK_EQ(dims[7], 8);
	QVL_CHECK_EQ(qvl_parse_shape(S("1,2,3,4,5,6,7,8,9"), dims, &n), -EINVAL);
	/* The largest u64 parses; one more overflows. */
	QVL_CHECK_EQ(qvl_parse_shape(S("18446744073709551615"), dims, &n), 0);
	QVL_CHECK(dims[0] == UINT64_MAX);
	QVL_CHECK_EQ(qvl_parse_shape(S("18446744073709551616"), dims, &n), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_shape(S("99999999999999999999"), dims, &n), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_shape(S("000000000000000000001"), dims, &n), -EINVAL);
	static const char *const bad[] = { ",", "1,", ",1", "1,,2", "-1", "+1",
					   " 1", "1 ", "1x", "0x10", "1.0",
					   "a", "1;2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 42;
		int rc = qvl_parse_shape(bad[i], strlen(bad[i]), dims, &n);
		if (rc != -EINVAL)
			fprintf(stderr, "  shape '%s' accepted\n", bad[i]);
		QVL_CHECK_EQ(rc, -EINVAL);
		QVL_CHECK_EQ(n, 42);
	}
	QVL_CHECK_EQ(qvl_parse_shape(S("2,3\0"), dims, &n), 0);
	QVL_CHECK_EQ(qvl_parse_shape(S("2,3\0\0"), dims, &n), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_shape(S("2\0,3"), dims, &n), -EINVAL);
}

static void test_words(void)
{
	enum qvl_pin p;
	enum qvl_lifetime l;
	enum qvl_advice a;
	enum qvl_tier_id t;
	enum qvl_codec_pol c;

	QVL_CHECK_EQ(qvl_parse_pin(S("none"), &p), 0);
	QVL_CHECK_EQ(p, QVL_PIN_NONE);
	QVL_CHECK_EQ(qvl_parse_pin(S("ram"), &p), 0);
	QVL_CHECK_EQ(p, QVL_PIN_RAM);
	QVL_CHECK_EQ(qvl_parse_pin(Z("gpu"), &p), 0);
	QVL_CHECK_EQ(p, QVL_PIN_GPU);
	QVL_CHECK_EQ(qvl_parse_pin(S("vram"), &p), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_pin(S("RAM"), &p), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_pin(S("ra"), &p), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_pin(S("ram\0\0"), &p), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_pin("", 0, &p), -EINVAL);

	QVL_CHECK_EQ(qvl_parse_lifetime(S("persistent"), &l), 0);
	QVL_CHECK_EQ(l, QVL_LIFE_PERSISTENT);
	QVL_CHECK_EQ(qvl_parse_lifetime(S("session"), &l), 0);
	QVL_CHECK_EQ(l, QVL_LIFE_SESSION);
	QVL_CHECK_EQ(qvl_parse_lifetime(Z("volatile"), &l), 0);
	QVL_CHECK_EQ(l, QVL_LIFE_VOLATILE);
	QVL_CHECK_EQ(qvl_parse_lifetime(S("sessions"), &l), -EINVAL);

	QVL_CHECK_EQ(qvl_parse_advice(S("willneed"), &a), 0);
	QVL_CHECK_EQ(a, QVL_ADV_WILLNEED);
	QVL_CHECK_EQ(qvl_parse_advice(S("dontneed"), &a), 0);
	QVL_CHECK_EQ(a, QVL_ADV_DONTNEED);
	QVL_CHECK_EQ(qvl_parse_advice(S("sequential"), &a), 0);
	QVL_CHECK_EQ(a, QVL_ADV_SEQUENTIAL);
	QVL_CHECK_EQ(qvl_parse_advice(Z("random"), &a), 0);
	QVL_CHECK_EQ(a, QVL_ADV_RANDOM);
	QVL_CHECK_EQ(qvl_parse_advice(S("normal"), &a), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_advice(S("often"), &a), -EINVAL);

	QVL_CHECK_EQ(qvl_parse_tier(S("gpu"), &t), 0);
	QVL_CHECK_EQ(t, QVL_TIER_GPU);
	QVL_CHECK_EQ(qvl_parse_tier(S("ram"), &t), 0);
	QVL_CHECK_EQ(t, QVL_TIER_RAM);
	QVL_CHECK_EQ(qvl_parse_tier(Z("nvme"), &t), 0);
	QVL_CHECK_EQ(t, QVL_TIER_NVME);
	QVL_CHECK_EQ(qvl_parse_tier(S("ram:25%,nvme:75%"), &t), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_tier(S("disk"), &t), -EINVAL);

	static const char *const codecs[] = { "auto", "none", "zstd",
					      "shuffle-zstd", "q8_0", "f8e4m3" };
	for (int i = 0; i < 6; i++) {
		QVL_CHECK_EQ(qvl_parse_codec(codecs[i], strlen(codecs[i]), &c), 0);
		QVL_CHECK_EQ(c, i);
		QVL_CHECK_STR(qvl_codec_name(c), codecs[i]);
	}
	QVL_CHECK_EQ(qvl_parse_codec(S("lz4"), &c), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_codec(S("shuffle"), &c), -EINVAL);

	/* Names round-trip through the parsers. */
	QVL_CHECK_STR(qvl_pin_name(QVL_PIN_GPU), "gpu");
	QVL_CHECK_STR(qvl_lifetime_name(QVL_LIFE_SESSION), "session");
	QVL_CHECK_STR(qvl_advice_name(QVL_ADV_RANDOM), "random");
	QVL_CHECK_STR(qvl_tier_name(QVL_TIER_NVME), "nvme");
}

static void test_numbers(void)
{
	uint64_t t = 7;
	uint8_t p = 7;
	QVL_CHECK_EQ(qvl_parse_ttl(S("0"), &t), 0);
	QVL_CHECK_EQ(t, 0);
	QVL_CHECK_EQ(qvl_parse_ttl(Z("3600"), &t), 0);
	QVL_CHECK_EQ(t, 3600);
	QVL_CHECK_EQ(qvl_parse_ttl(S("3153600000"), &t), 0); /* a century */
	QVL_CHECK_EQ(t, 3153600000LL);
	QVL_CHECK_EQ(qvl_parse_ttl(S("3153600001"), &t), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_ttl(S("18446744073709551616"), &t), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_ttl(S("-1"), &t), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_ttl(S("1h"), &t), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_ttl(S(" 1"), &t), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_ttl("", 0, &t), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_ttl(Z(""), &t), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_ttl(S("5\0\0"), &t), -EINVAL);
	QVL_CHECK_EQ(t, 3153600000LL);

	for (int i = 0; i <= QVL_PRIORITY_MAX; i++) {
		char c = (char)('0' + i);
		QVL_CHECK_EQ(qvl_parse_priority(&c, 1, &p), 0);
		QVL_CHECK_EQ(p, i);
	}
	QVL_CHECK_EQ(qvl_parse_priority(Z("3"), &p), 0);
	QVL_CHECK_EQ(p, 3);
	QVL_CHECK_EQ(qvl_parse_priority(S("10"), &p), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_priority(S("256"), &p), -EINVAL); /* not mod 256 */
	QVL_CHECK_EQ(qvl_parse_priority(S("-1"), &p), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_priority(S("a"), &p), -EINVAL);
	QVL_CHECK_EQ(qvl_parse_priority("", 0, &p), -EINVAL);
	QVL_CHECK_EQ(p, 3);
}

static void test_size(void)
{
	uint64_t v = 0;
	const uint64_t G = 1ULL << 30;
	QVL_CHECK_EQ(qvl_parse_size("123", 0, &v), 0);
	QVL_CHECK_EQ(v, 123);
	QVL_CHECK_EQ(qvl_parse_size("4k", 0, &v), 0);
	QVL_CHECK_EQ(v, 4096);
	QVL_CHECK_EQ(qvl_parse_size("4K", 0, &v), 0);
	QVL_CHECK_EQ(v, 4096);
	QVL_CHECK_EQ(qvl_parse_size("2M", 0, &v), 0);
	QVL_CHECK_EQ(v, 2 << 20);
	QVL_CHECK_EQ(qvl_parse_size("2MiB", 0, &v), 0);
	QVL_CHECK_EQ(v, 2 << 20);
	QVL_CHECK_EQ(qvl_parse_size("2mb", 0, &v), 0);
	QVL_CHECK_EQ(v, 2 << 20);
	QVL_CHECK_EQ(qvl_parse_size("1.5G", 0, &v), 0);
	QVL_CHECK_EQ(v, 3 * G / 2);
	QVL_CHECK_EQ(qvl_parse_size("2T", 0, &v), 0);
	QVL_CHECK(v == 2ULL << 40);
	QVL_CHECK_EQ(qvl_parse_size("100B", 0, &v), 0);
	QVL_CHECK_EQ(v, 100);
	QVL_CHECK_EQ(qvl_parse_size(".5k", 0, &v), 0);
	QVL_CHECK_EQ(v, 512);
	QVL_CHECK_EQ(qvl_parse_size("0", 0, &v), 0);
	QVL_CHECK_EQ(v, 0);
	/* Percentages of the base. */
	QVL_CHECK_EQ(qvl_parse_size("25%", 8 * G, &v), 0);
	QVL_CHECK_EQ(v, 2 * G);
	QVL_CHECK_EQ(qvl_parse_size("100%", 8 * G, &v), 0);
	QVL_CHECK_EQ(v, 8 * G);
	QVL_CHECK_EQ(qvl_parse_size("12.5%", 8 * G, &v), 0);
	QVL_CHECK_EQ(v, G);
	QVL_CHECK_EQ(qvl_parse_size("0%", 8 * G, &v), 0);
	QVL_CHECK_EQ(v, 0);
	QVL_CHECK_EQ(qvl_parse_size("50%", UINT64_MAX, &v), 0);
	QVL_CHECK(v == UINT64_MAX / 2);
	v = 77;
	static const char *const bad[] = { "", "k", "banana", "12Q", "1kk",
					   "1iB", "-1", "+1", " 1", "1 ", "1e3",
					   "101%", "100.1%", "%", "1%%", "1.5.5",
					   "16E", "16384P",
					   "18446744073709551616",
					   "99999999999999999999999",
					   "16777216T" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = qvl_parse_size(bad[i], 8 * G, &v);
		if (rc != -EINVAL)
			fprintf(stderr, "  size '%s' accepted\n", bad[i]);
		QVL_CHECK_EQ(rc, -EINVAL);
	}
	QVL_CHECK_EQ(v, 77);
	/* Just under and just over 2^64 with a suffix. */
	QVL_CHECK_EQ(qvl_parse_size("16777215T", 0, &v), 0);
	QVL_CHECK(v == 16777215ULL << 40);
	QVL_CHECK_EQ(qvl_parse_size("1844674407370955161", 0, &v), 0);
	QVL_CHECK(v == UINT64_MAX / 10);
}

static void test_shape_bytes(void)
{
	uint64_t dims[QVL_MAX_DIMS] = { 2, 3 }, b = 1;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_F32, dims, 2, &b), 0);
	QVL_CHECK_EQ(b, 24);
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_BF16, dims, 2, &b), 0);
	QVL_CHECK_EQ(b, 12);
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_F64, dims, 0, &b), 0);
	QVL_CHECK_EQ(b, 8); /* a scalar is one element */
	dims[0] = 0;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_F32, dims, 2, &b), 0);
	QVL_CHECK_EQ(b, 0);
	/* Block types: whole blocks of 32 only. */
	dims[0] = 64;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_Q8_0, dims, 1, &b), 0);
	QVL_CHECK_EQ(b, 68);
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_Q4_0, dims, 1, &b), 0);
	QVL_CHECK_EQ(b, 36);
	dims[0] = 4;
	dims[1] = 8;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_Q4_0, dims, 2, &b), 0);
	QVL_CHECK_EQ(b, 18);
	b = 5;
	dims[0] = 31;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_Q8_0, dims, 1, &b), -EINVAL);
	dims[0] = 33;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_Q4_0, dims, 1, &b), -EINVAL);
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_Q8_0, dims, 0, &b), -EINVAL);
	QVL_CHECK_EQ(b, 5);
	/* Unset dtype. */
	dims[0] = 4;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_NONE, dims, 1, &b), -EINVAL);
	/* Overflow: of the element count, and of the byte count. */
	dims[0] = 1ULL << 32;
	dims[1] = 1ULL << 32;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_U8, dims, 2, &b), -EINVAL);
	dims[0] = 1ULL << 62;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_F32, dims, 1, &b), -EINVAL);
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_U8, dims, 1, &b), 0);
	QVL_CHECK(b == 1ULL << 62);
	dims[0] = UINT64_MAX / 32 * 32; /* whole blocks, too many bytes */
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_Q8_0, dims, 1, &b), -EINVAL);
	/* A leading zero dim: empty, however large the rest. */
	dims[0] = 0;
	dims[1] = UINT64_MAX;
	QVL_CHECK_EQ(qvl_shape_bytes(QVL_DTYPE_F32, dims, 2, &b), 0);
	QVL_CHECK_EQ(b, 0);
}

static void test_format_shape(void)
{
	uint64_t dims[QVL_MAX_DIMS] = { 6144, 2048, 1 };
	char buf[64];
	QVL_CHECK_EQ(qvl_format_shape(dims, 3, buf, sizeof(buf)), 11);
	QVL_CHECK_STR(buf, "6144,2048,1");
	QVL_CHECK_EQ(qvl_format_shape(dims, 0, buf, sizeof(buf)), 0);
	QVL_CHECK_STR(buf, "");
	/* Truncates like snprintf and still says the full length. */
	memset(buf, 'z', sizeof(buf));
	QVL_CHECK_EQ(qvl_format_shape(dims, 3, buf, 6), 11);
	QVL_CHECK_STR(buf, "6144,");
	QVL_CHECK_EQ(buf[6], 'z');
	QVL_CHECK_EQ(qvl_format_shape(dims, 3, buf, 0), 11);
	QVL_CHECK_EQ(buf[0], '6');
	/* Eight maximal dims, and a round trip through the parser. */
	uint64_t big[QVL_MAX_DIMS], back[QVL_MAX_DIMS];
	char wide[QVL_MAX_DIMS * 21 + 1];
	uint8_t n;
	for (int i = 0; i < QVL_MAX_DIMS; i++)
		big[i] = UINT64_MAX - (uint64_t)i;
	int len = qvl_format_shape(big, QVL_MAX_DIMS, wide, sizeof(wide));
	QVL_CHECK_EQ(len, (int)strlen(wide));
	QVL_CHECK_EQ(len, 8 * 20 + 7);
	QVL_CHECK_EQ(qvl_parse_shape(wide, (size_t)len, back, &n), 0);
	QVL_CHECK_EQ(n, QVL_MAX_DIMS);
	QVL_CHECK(memcmp(big, back, sizeof(big)) == 0);
}

static void test_inherit(void)
{
	struct qvl_hints dir, child;
	qvl_hints_init(&dir);
	qvl_hints_init(&child);
	QVL_CHECK_EQ(child.priority, QVL_PRIORITY_DEFAULT);
	QVL_CHECK_EQ(child.set, 0);
	dir.pin = QVL_PIN_RAM;
	dir.priority = 8;
	dir.ndims = 2;
	dir.set = QVL_HSET_PIN | QVL_HSET_PRIORITY | QVL_HSET_SHAPE;
	qvl_hints_inherit(&child, &dir);
	QVL_CHECK_EQ(child.pin, QVL_PIN_RAM);
	QVL_CHECK_EQ(child.priority, 8);
	QVL_CHECK_EQ(child.ndims, 0); /* the shape is never passed on */
	QVL_CHECK_EQ(child.set, QVL_HSET_PIN | QVL_HSET_PRIORITY);
	QVL_CHECK_EQ(child.lifetime, QVL_LIFE_PERSISTENT);
}

/* The catalog's packed form: round trip, and every malformed form refused. */
static void test_pack(void)
{
	struct qvl_hints h, back;
	uint8_t buf[QVL_HINTS_PACKED];
	qvl_hints_init(&h);
	h.set = QVL_HSET_DTYPE | QVL_HSET_SHAPE | QVL_HSET_PIN | QVL_HSET_TTL;
	h.dtype = QVL_DTYPE_Q4_0;
	h.ndims = 3;
	h.dims[0] = 1;
	h.dims[1] = 0xfedcba9876543210ULL;
	h.dims[2] = 7;
	h.pin = QVL_PIN_RAM;
	h.lifetime = QVL_LIFE_VOLATILE;
	h.ttl = 86400;
	h.priority = 9;
	h.codec = QVL_CPOL_F8E4M3;
	h.access = QVL_ADV_RANDOM;
	QVL_CHECK_EQ(qvl_hints_pack(&h, buf), QVL_HINTS_PACKED);
	QVL_CHECK_EQ(qvl_hints_unpack(buf, sizeof(buf), &back), 0);
	QVL_CHECK(memcmp(&h, &back, sizeof(h)) == 0);

	QVL_CHECK_EQ(qvl_hints_unpack(buf, sizeof(buf) - 1, &back), -EINVAL);
	uint8_t bad[QVL_HINTS_PACKED];
	memcpy(bad, buf, sizeof(bad));
	bad[0] = 2; /* a format we do not know */
	QVL_CHECK_EQ(qvl_hints_unpack(bad, sizeof(bad), &back), -EINVAL);
	memcpy(bad, buf, sizeof(bad));
	bad[5] = QVL_DTYPE_COUNT; /* dtype out of range */
	QVL_CHECK_EQ(qvl_hints_unpack(bad, sizeof(bad), &back), -EINVAL);
	memcpy(bad, buf, sizeof(bad));
	bad[6] = QVL_MAX_DIMS + 1; /* too many dims */
	QVL_CHECK_EQ(qvl_hints_unpack(bad, sizeof(bad), &back), -EINVAL);
	memcpy(bad, buf, sizeof(bad));
	bad[QVL_HINTS_PACKED - 3] = QVL_PRIORITY_MAX + 1;
	QVL_CHECK_EQ(qvl_hints_unpack(bad, sizeof(bad), &back), -EINVAL);
}

int main(void)
{
	QVL_RUN(test_pack);
	QVL_RUN(test_dtype);
	QVL_RUN(test_shape);
	QVL_RUN(test_words);
	QVL_RUN(test_numbers);
	QVL_RUN(test_size);
	QVL_RUN(test_shape_bytes);
	QVL_RUN(test_format_shape);
	QVL_RUN(test_inherit);
	return QVL_TEST_EXIT();
}

/*
 * test_codec.c - codecs/: round trips over random data, sizes, dtypes and
 * policies; malformed frames; zero chunks; lossy error bounds; the ratio
 * against the entropy floor on synthetic bf16 weights.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <xxhash.h>

#include "../bench/gen_tensors.h"
#include "harness.h"
#include "qvl_codec.h"

static uint64_t rng = 12345;

static const enum qvl_codec_policy lossless[] = {
	QVL_CODEC_POLICY_AUTO, QVL_CODEC_POLICY_NONE, QVL_CODEC_POLICY_ZSTD,
	QVL_CODEC_POLICY_SHUFFLE_ZSTD
};

/* Fill @buf with one of several shapes of data: noise, tensors, runs. */
static void fill(uint8_t *buf, size_t len, enum qvl_dtype dt, unsigned shape)
{
	size_t w = dt == QVL_DTYPE_F32 ? 4 : 2;

	switch (shape % 6) {
	case 0:
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)qvl_gen_next(&rng);
		break;
	case 1:
	case 2:
		memset(buf, 0, len);
		if (dt == QVL_DTYPE_BF16 || dt == QVL_DTYPE_F16 ||
		    dt == QVL_DTYPE_F32)
			qvl_gen_tensor(shape % 6 == 1 ? QVL_GEN_WEIGHTS :
							QVL_GEN_ACT,
				       dt, buf, len / w, qvl_gen_next(&rng));
		else
			qvl_gen_tensor(QVL_GEN_WEIGHTS, QVL_DTYPE_BF16, buf,
				       len / 2, qvl_gen_next(&rng));
		break;
	case 3: /* a short table repeated: LZ territory */
		for (size_t i = 0; i < len; i++)
			buf[i] = i < 1000 ? (uint8_t)qvl_gen_next(&rng) :
					    buf[i - 1000];
		break;
	case 4:
		memset(buf, (int)(qvl_gen_next(&rng) & 0xff), len);
		break;
	default: /* mostly zero, one byte set */
		memset(buf, 0, len);
		if (len)
			buf[qvl_gen_next(&rng) % len] = 1;
	}
}

static void test_policy_names(void)
{
	enum qvl_codec_policy p;

	for (int i = 0; i < QVL_CODEC_POLICY_COUNT; i++) {
		const char *n = qvl_codec_policy_name((enum qvl_codec_policy)i);
		QVL_CHECK_EQ(qvl_codec_policy_from_name(n, strlen(n), &p), 0);
		QVL_CHECK_EQ(p, i);
	}
	QVL_CHECK_EQ(qvl_codec_policy_from_name("zst", 3, &p), -EINVAL);
	QVL_CHECK_EQ(qvl_codec_policy_from_name("zstdx", 5, &p), -EINVAL);
	QVL_CHECK_EQ(qvl_codec_policy_from_name("auto", 5, &p), -EINVAL);
	QVL_CHECK_STR(qvl_codec_policy_name(QVL_CODEC_POLICY_COUNT), "");
	QVL_CHECK_STR(qvl_codec_id_name(QVL_CODEC_PLANES), "planes");
}

static void test_zero(void)
{
	size_t len = 256 << 10, flen, olen;
	uint8_t *buf = calloc(1, len), frame[64];
	struct qvl_codec_frame_info info;

	QVL_CHECK_EQ(qvl_codec_encode(buf, len, QVL_DTYPE_BF16,
				      QVL_CODEC_POLICY_AUTO, frame,
				      sizeof(frame), &flen),
		     0);
	QVL_CHECK_EQ(flen, QVL_CODEC_HEADER_SIZE);
	QVL_CHECK_EQ(qvl_codec_frame_info(frame, flen, &info), 0);
	QVL_CHECK_EQ(info.codec, QVL_CODEC_ZERO);
	QVL_CHECK_EQ(info.orig_len, len);
	memset(buf, 0xaa, len);
	QVL_CHECK_EQ(qvl_codec_decode(frame, flen, buf, len, &olen), 0);
	QVL_CHECK_EQ(olen, len);
	QVL_CHECK(buf[0] == 0 && buf[len - 1] == 0);
	/* An empty chunk is a zero chunk. */
	QVL_CHECK_EQ(qvl_codec_encode(NULL, 0, QVL_DTYPE_NONE,
				      QVL_CODEC_POLICY_NONE, frame,
				      sizeof(frame), &flen),
		     0);
	QVL_CHECK_EQ(qvl_codec_decode(frame, flen, buf, 0, &olen), 0);
	QVL_CHECK_EQ(olen, 0);
	free(buf);
}

/* Encode, check the bound, decode into a buffer with a guard band. */
static int roundtrip(struct qvl_codec_ctx *ctx, const uint8_t *src,
		     size_t len, enum qvl_dtype dt, enum qvl_codec_policy pol,
		     size_t *flen_out)
{
	size_t cap = qvl_codec_bound(len), flen, olen;
	uint8_t *frame = malloc(cap), *out = malloc(len + 64);
	int ok = 1;

	if (qvl_codec_encode_ctx(ctx, src, len, dt, pol, frame, cap, &flen)) {
		ok = 0;
		goto out;
	}
	ok &= flen <= cap;
	memset(out + len, 0x5c, 64);
	if (qvl_codec_decode_ctx(ctx, frame, flen, out, len, &olen) ||
	    olen != len || memcmp(out, src, len))
		ok = 0;
	for (int i = 0; i < 64; i++)
		ok &= out[len + i] == 0x5c;
	*flen_out = flen;
out:
	free(frame);
	free(out);
	return ok;
}

static void test_roundtrip_property(void)
{
	struct qvl_codec_ctx *ctx = qvl_codec_ctx_create();
	size_t maxlen = 300 << 10, flen = 0;
	uint8_t *buf = malloc(maxlen);
	int failures = 0;

	for (int iter = 0; iter < 600; iter++) {
		size_t len = qvl_gen_next(&rng) %
			     (iter % 4 == 0 ? maxlen : 5000);
		enum qvl_dtype dt = (enum qvl_dtype)(qvl_gen_next(&rng) %
						     QVL_DTYPE_COUNT);
		enum qvl_codec_policy pol = lossless[iter % 4];

		fill(buf, len, dt, (unsigned)(qvl_gen_next(&rng) % 6));
		if (!roundtrip(ctx, buf, len, dt, pol, &flen)) {
			if (failures++ < 5)
				fprintf(stderr, "  len %zu dtype %d policy %d\n",
					len, dt, pol);
		}
	}
	QVL_CHECK_EQ(failures, 0);
	free(buf);
	qvl_codec_ctx_free(ctx);
}

/*
 * Every single-byte change and every truncation of a frame must give an
 * error or the original bytes; nothing is written past the chunk.
 */
static void corrupt_one(struct qvl_codec_ctx *ctx, const uint8_t *src,
			size_t len, enum qvl_dtype dt,
			enum qvl_codec_policy pol, int *bad)
{
	size_t cap = qvl_codec_bound(len), flen, olen;
	uint8_t *frame = malloc(cap), *out = malloc(len + 64);
	uint8_t *ref = malloc(len + 1);

	/* Lossy frames decode to dequantized values: compare with those. */
	if (qvl_codec_encode_ctx(ctx, src, len, dt, pol, frame, cap, &flen) ||
	    qvl_codec_decode_ctx(ctx, frame, flen, ref, len, &olen)) {
		(*bad)++;
		goto out;
	}
	src = ref;
	for (size_t trial = 0; trial < 300; trial++) {
		size_t pos = trial < 40 ? trial % flen :
					  qvl_gen_next(&rng) % flen;
		uint8_t old = frame[pos];
		size_t fl = flen;
		int rc;

		if (trial % 10 == 9)
			fl = qvl_gen_next(&rng) % flen; /* truncate */
		else
			frame[pos] ^= (uint8_t)(1 + qvl_gen_next(&rng) % 255);
		memset(out + len, 0x5c, 64);
		rc = qvl_codec_decode_ctx(ctx, frame, fl, out, len, &olen);
		if (rc == 0 && (olen != len || memcmp(out, src, len)))
			(*bad)++;
		if (rc != 0 && rc != -EIO && rc != -EINVAL && rc != -ENOSPC)
			(*bad)++;

		for (int i = 0; i < 64; i++)
			*bad += out[len + i] != 0x5c;
		frame[pos] = old;
	}
out:
	free(frame);
	free(out);
	free(ref);
}

static void test_malformed(void)
{
	struct qvl_codec_ctx *ctx = qvl_codec_ctx_create();
	size_t len = 64 << 10;
	uint8_t *buf = malloc(len);
	int bad = 0;

	for (unsigned shape = 0; shape < 6; shape++) {
		for (int p = 0; p < 4; p++) {
			fill(buf, len, QVL_DTYPE_BF16, shape);
			corrupt_one(ctx, buf, len, QVL_DTYPE_BF16, lossless[p],
				    &bad);
		}
		fill(buf, len, QVL_DTYPE_F32, shape);
		corrupt_one(ctx, buf, len, QVL_DTYPE_F32,
			    QVL_CODEC_POLICY_AUTO, &bad);
		corrupt_one(ctx, buf, len - 3, QVL_DTYPE_F32,
			    QVL_CODEC_POLICY_Q8_0, &bad);
		corrupt_one(ctx, buf, len, QVL_DTYPE_F32,
			    QVL_CODEC_POLICY_F8E4M3, &bad);
	}
	QVL_CHECK_EQ(bad, 0);
	free(buf);
	qvl_codec_ctx_free(ctx);
}

static void test_errors(void)
{
	uint8_t src[4096], frame[8192], out[4096];
	size_t flen, olen;
	struct qvl_codec_frame_info info;

	fill(src, sizeof(src), QVL_DTYPE_NONE, 0);
	QVL_CHECK_EQ(qvl_codec_encode(src, sizeof(src), QVL_DTYPE_COUNT,
				      QVL_CODEC_POLICY_AUTO, frame,
				      sizeof(frame), &flen),
		     -EINVAL);
	QVL_CHECK_EQ(qvl_codec_encode(src, sizeof(src), QVL_DTYPE_U8,
				      QVL_CODEC_POLICY_AUTO, frame, 100, &flen),
		     -ENOSPC);
	QVL_CHECK_EQ(qvl_codec_encode(src, sizeof(src), QVL_DTYPE_U8,
				      QVL_CODEC_POLICY_AUTO, frame,
				      sizeof(frame), &flen),
		     0);
	QVL_CHECK_EQ(flen, sizeof(src) + QVL_CODEC_HEADER_SIZE); /* raw */
	QVL_CHECK_EQ(qvl_codec_decode(frame, flen, out, sizeof(out) - 1, &olen),
		     -ENOSPC);
	QVL_CHECK_EQ(qvl_codec_decode(frame, flen + 1, out, sizeof(out), &olen),
		     -EIO);
	QVL_CHECK_EQ(qvl_codec_frame_info(frame, flen + 100, &info), 0);
	QVL_CHECK_EQ(info.frame_len, flen);
	frame[2] = 9; /* unknown version */
	QVL_CHECK_EQ(qvl_codec_decode(frame, flen, out, sizeof(out), &olen),
		     -EINVAL);
	QVL_CHECK_EQ(qvl_codec_frame_info(frame, 10, &info), -EIO);
}

static double half_ulp(float v, enum qvl_dtype dt)
{
	int mant = dt == QVL_DTYPE_F32 ? 24 : dt == QVL_DTYPE_BF16 ? 8 : 11;
	int e;

	if (v == 0)
		return 0;
	frexpf(fabsf(v), &e);
	if (dt == QVL_DTYPE_F16 && e < -13)
		e = -13; /* f16 subnormals: fixed step */
	return ldexp(1.0, e - mant - 1);
}

/* Lossy: per-element error within the documented bound, and RMSE. */
static void test_lossy_bounds(void)
{
	static const enum qvl_dtype dts[] = { QVL_DTYPE_BF16, QVL_DTYPE_F16,
					      QVL_DTYPE_F32 };
	size_t nelem = 64 * 1024 + 7, flen, olen;
	uint8_t *src = malloc(nelem * 4), *out = malloc(nelem * 4);
	uint8_t *frame = malloc(qvl_codec_bound(nelem * 4));

	for (int d = 0; d < 3; d++) {
		enum qvl_dtype dt = dts[d];
		size_t w = dt == QVL_DTYPE_F32 ? 4 : 2, len = nelem * w;
		for (int c = 0; c < 2; c++) {
			enum qvl_codec_policy pol = c ? QVL_CODEC_POLICY_F8E4M3 :
							QVL_CODEC_POLICY_Q8_0;
			struct qvl_codec_frame_info info;
			int bad = 0;

			qvl_gen_tensor(QVL_GEN_KV, dt, src, nelem, 7);
			QVL_CHECK_EQ(qvl_codec_encode(src, len, dt, pol, frame,
						      qvl_codec_bound(len),
						      &flen),
				     0);
			QVL_CHECK_EQ(qvl_codec_frame_info(frame, flen, &info), 0);
			QVL_CHECK(info.lossy);
			QVL_CHECK_EQ(qvl_codec_decode(frame, flen, out, len,
						      &olen),
				     0);
			for (size_t b = 0; b < nelem; b += 32) {
				double amax = 0, scale;
				size_t e = b + 32 < nelem ? b + 32 : nelem;
				for (size_t i = b; i < e; i++)
					amax = fmax(amax, fabs(qvl_gen_load(src, i, dt)));
				scale = amax / (c ? 448.0 : 127.0);
				for (size_t i = b; i < e; i++) {
					double x = qvl_gen_load(src, i, dt);
					double y = qvl_gen_load(out, i, dt);
					double lim = c ? fmax(fabs(x) / 16,
							      scale / 1024) :
							 scale / 2;
					lim = lim * (1 + 1e-6) +
					      half_ulp((float)y, dt);
					bad += fabs(x - y) > lim;
				}
			}
			QVL_CHECK_EQ(bad, 0);
		}
	}
	/* NaN in a chunk: stored losslessly instead. */
	{
		float f[64];
		for (int i = 0; i < 64; i++)
			f[i] = (float)i;
		f[5] = NAN;
		QVL_CHECK_EQ(qvl_codec_encode(f, sizeof(f), QVL_DTYPE_F32,
					      QVL_CODEC_POLICY_Q8_0, frame,
					      qvl_codec_bound(sizeof(f)), &flen),
			     0);
		QVL_CHECK_EQ(qvl_codec_decode(frame, flen, out, sizeof(f),
					      &olen),
			     0);
		QVL_CHECK(memcmp(out, f, sizeof(f)) == 0);
	}
	free(src);
	free(out);
	free(frame);
}

/* Target: synthetic Gaussian bf16 within 0.5% of its entropy floor. */
/*
 * The frame checksum is xxh3-64 as libxxhash computes it, whichever
 * kernel (AVX2 or the library's) the codec picked: sizes around the
 * 64/256/1024-byte block edges and a whole chunk, at odd offsets.
 */
static void test_checksum_is_xxh3(void)
{
	static const size_t sizes[] = { 1,    3,    16,   17,	  64,	65,
					128,  129,  240,  241,	  255,	256,
					1023, 1024, 1025, 4097,	  65537, 262147 };
	size_t cap = qvl_codec_bound(262147 + 7), flen;
	uint8_t *src = malloc(262147 + 7), *frame = malloc(cap);
	struct qvl_codec_frame_info info;
	uint64_t s = 7;

	for (size_t i = 0; i < 262147 + 7; i++)
		src[i] = (uint8_t)qvl_gen_next(&s);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		const uint8_t *p = src + (k % 7);
		QVL_CHECK_EQ(qvl_codec_encode(p, sizes[k], QVL_DTYPE_BF16,
					      QVL_CODEC_POLICY_AUTO, frame, cap,
					      &flen),
			     0);
		QVL_CHECK_EQ(qvl_codec_frame_info(frame, flen, &info), 0);
		QVL_CHECK(info.checksum == XXH3_64bits(p, sizes[k]));
	}
	free(src);
	free(frame);
}

static void test_ratio_floor(void)
{
	struct qvl_codec_ctx *ctx = qvl_codec_ctx_create();
	size_t chunk = 256 << 10, n = 16, flen, total = 0;
	uint8_t *buf = malloc(chunk), *frame = malloc(qvl_codec_bound(chunk));
	double floor = 0;

	for (size_t c = 0; c < n; c++) {
		qvl_gen_tensor(QVL_GEN_WEIGHTS, QVL_DTYPE_BF16, buf, chunk / 2,
			       100 + c);
		floor += qvl_gen_entropy_floor(buf, chunk, 2, 1);
		QVL_CHECK_EQ(qvl_codec_encode_ctx(ctx, buf, chunk,
						  QVL_DTYPE_BF16,
						  QVL_CODEC_POLICY_AUTO, frame,
						  qvl_codec_bound(chunk), &flen),
			     0);
		total += flen;
	}
	fprintf(stderr, "  bf16 weights: ratio %.4f floor %.4f (+%.2f%%)\n",
		(double)total / (double)(n * chunk), floor / (double)(n * chunk),
		100.0 * ((double)total / floor - 1));
	QVL_CHECK((double)total <= floor * 1.005);
	free(buf);
	free(frame);
	qvl_codec_ctx_free(ctx);
}

int main(void)
{
	QVL_RUN(test_policy_names);
	QVL_RUN(test_zero);
	QVL_RUN(test_errors);
	QVL_RUN(test_roundtrip_property);
	QVL_RUN(test_malformed);
	QVL_RUN(test_lossy_bounds);
	QVL_RUN(test_checksum_is_xxh3);
	QVL_RUN(test_ratio_floor);
	return QVL_TEST_EXIT();
}

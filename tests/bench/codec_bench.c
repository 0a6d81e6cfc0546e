/*
 * codec_bench.c - qvlmemfs codecs against their peers.
 *
 * For each data set: ratio (compressed / original) and single-thread
 * encode / decode MB/s (of original bytes, median of --runs passes) of
 * zstd -1 and -3, Blosc (shuffle+zstd, the same with ALWAYS_SPLIT,
 * bitshuffle+zstd; clevel 1 and 5) and every qvlmemfs policy, at 64 KiB,
 * 256 KiB and 1 MiB chunks, beside the order-0 entropy floor.
 *
 * Data: synthetic tensors from gen_tensors.h and, when present, the real
 * weights in $QVL_REAL_WEIGHTS or ../shared/data/real-weights.
 *
 *   codec_bench [--runs N] [--mib N] [--chunk KIB] [--only NAME]
 *               [--peer NAME] [--cputime] [--quick]
 *
 * --cputime times with the thread's CPU clock instead of the wall clock:
 * on a shared, noisy machine it leaves out the time other processes run.
 */
#include <blosc.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "gen_tensors.h"
#include "qvl_codec.h"

#define MAX_PARTS 8

struct dataset {
	char name[64];
	enum qvl_dtype dtype;
	int nparts; /* chunks never span parts (files) */
	uint8_t *part[MAX_PARTS];
	size_t part_len[MAX_PARTS];
};

enum peer_kind { P_QVL, P_ZSTD, P_BLOSC };

struct peer {
	const char *name;
	enum peer_kind kind;
	int level;			/* zstd level, blosc clevel */
	int shuffle, split;		/* blosc */
	enum qvl_codec_policy policy;	/* qvl */
	int lossy;
};

static const struct peer peers[] = {
	{ "zstd-1", P_ZSTD, 1, 0, 0, 0, 0 },
	{ "zstd-3", P_ZSTD, 3, 0, 0, 0, 0 },
	{ "blosc-shuf-zstd1", P_BLOSC, 1, BLOSC_SHUFFLE, 0, 0, 0 },
	{ "blosc-shuf-zstd5", P_BLOSC, 5, BLOSC_SHUFFLE, 0, 0, 0 },
	{ "blosc-shuf-split-zstd1", P_BLOSC, 1, BLOSC_SHUFFLE, 1, 0, 0 },
	{ "blosc-shuf-split-zstd5", P_BLOSC, 5, BLOSC_SHUFFLE, 1, 0, 0 },
	{ "blosc-bitshuf-zstd1", P_BLOSC, 1, BLOSC_BITSHUFFLE, 0, 0, 0 },
	{ "blosc-bitshuf-zstd5", P_BLOSC, 5, BLOSC_BITSHUFFLE, 0, 0, 0 },
	{ "qvl-none", P_QVL, 0, 0, 0, QVL_CODEC_POLICY_NONE, 0 },
	{ "qvl-zstd", P_QVL, 0, 0, 0, QVL_CODEC_POLICY_ZSTD, 0 },
	{ "qvl-shuffle-zstd", P_QVL, 0, 0, 0, QVL_CODEC_POLICY_SHUFFLE_ZSTD, 0 },
	{ "qvl-auto", P_QVL, 0, 0, 0, QVL_CODEC_POLICY_AUTO, 0 },
	{ "qvl-q8_0 (lossy)", P_QVL, 0, 0, 0, QVL_CODEC_POLICY_Q8_0, 1 },
	{ "qvl-f8e4m3 (lossy)", P_QVL, 0, 0, 0, QVL_CODEC_POLICY_F8E4M3, 1 },
};
#define NPEERS (sizeof(peers) / sizeof(peers[0]))

static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now(void)
{
	struct timespec t;
	clock_gettime(bench_clock, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static unsigned dtype_width(enum qvl_dtype dt)
{
	return dt == QVL_DTYPE_F32 ? 4 : 2;
}

static ZSTD_CCtx *zc;
static ZSTD_DCtx *zd;
static struct qvl_codec_ctx *qctx;

static int enc(const struct peer *p, enum qvl_dtype dt, const uint8_t *src,
	       size_t len, uint8_t *dst, size_t cap, size_t *olen)
{
	int r;
	size_t z;

	switch (p->kind) {
	case P_ZSTD:
		z = ZSTD_compressCCtx(zc, dst, cap, src, len, p->level);
		if (ZSTD_isError(z))
			return -EIO;
		*olen = z;
		return 0;
	case P_BLOSC:
		blosc_set_splitmode(p->split ? BLOSC_ALWAYS_SPLIT :
					       BLOSC_FORWARD_COMPAT_SPLIT);
		r = blosc_compress(p->level, p->shuffle, dtype_width(dt), len,
				   src, dst, cap);
		if (r <= 0)
			return -EIO;
		*olen = (size_t)r;
		return 0;
	default:
		return qvl_codec_encode_ctx(qctx, src, len, dt, p->policy, dst,
					    cap, olen);
	}
}

static int dec(const struct peer *p, const uint8_t *src, size_t slen,
	       uint8_t *dst, size_t len)
{
	size_t z;

	switch (p->kind) {
	case P_ZSTD:
		z = ZSTD_decompressDCtx(zd, dst, len, src, slen);
		return ZSTD_isError(z) || z != len ? -EIO : 0;
	case P_BLOSC:
		return blosc_decompress(src, dst, len) == (int)len ? 0 : -EIO;
	default:
		return qvl_codec_decode_ctx(qctx, src, slen, dst, len, &z);
	}
}

struct result {
	double ratio, enc_mbps, dec_mbps;
	int ok;
};

/* All chunks of @ds through @p: sizes once, then timed passes. */
static struct result run_peer(const struct peer *p, const struct dataset *ds,
			      size_t chunk, int runs)
{
	struct result res = { 0, 0, 0, 1 };
	size_t total = 0, comp = 0, cap = chunk + chunk / 8 + 1024, nchunks = 0;
	uint8_t **frames, *out = malloc(chunk);
	size_t *flen;
	double t_enc[16], t_dec[16];

	for (int i = 0; i < ds->nparts; i++)
		nchunks += (ds->part_len[i] + chunk - 1) / chunk;
	frames = calloc(nchunks, sizeof(*frames));
	flen = calloc(nchunks, sizeof(*flen));
	for (int r = 0; r < runs; r++) {
		size_t k = 0;
		double t0 = now();
		for (int i = 0; i < ds->nparts; i++)
			for (size_t off = 0; off < ds->part_len[i];
			     off += chunk, k++) {
				size_t n = ds->part_len[i] - off < chunk ?
						   ds->part_len[i] - off :
						   chunk;
				if (!frames[k])
					frames[k] = malloc(cap);
				if (enc(p, ds->dtype, ds->part[i] + off, n,
					frames[k], cap, &flen[k]))
					res.ok = 0;
			}
		t_enc[r] = now() - t0;
		k = 0;
		t0 = now();
		for (int i = 0; i < ds->nparts; i++)
			for (size_t off = 0; off < ds->part_len[i];
			     off += chunk, k++) {
				size_t n = ds->part_len[i] - off < chunk ?
						   ds->part_len[i] - off :
						   chunk;
				if (dec(p, frames[k], flen[k], out, n) ||
				    (!p->lossy && r == 0 &&
				     memcmp(out, ds->part[i] + off, n)))
					res.ok = 0;
			}
		t_dec[r] = now() - t0;
	}
	for (size_t k = 0; k < nchunks; k++) {
		comp += flen[k];
		free(frames[k]);
	}
	for (int i = 0; i < ds->nparts; i++)
		total += ds->part_len[i];
	qsort(t_enc, (size_t)runs, sizeof(double), cmp_double);
	qsort(t_dec, (size_t)runs, sizeof(double), cmp_double);
	res.ratio = (double)comp / (double)total;
	res.enc_mbps = (double)total / t_enc[runs / 2] / 1e6;
	res.dec_mbps = (double)total / t_dec[runs / 2] / 1e6;
	free(frames);
	free(flen);
	free(out);
	return res;
}

static double floor_ratio(const struct dataset *ds, size_t chunk)
{
	double f = 0;
	size_t total = 0;
	unsigned w = dtype_width(ds->dtype);

	for (int i = 0; i < ds->nparts; i++) {
		for (size_t off = 0; off < ds->part_len[i]; off += chunk) {
			size_t n = ds->part_len[i] - off < chunk ?
					   ds->part_len[i] - off :
					   chunk;
			f += qvl_gen_entropy_floor(ds->part[i] + off, n, w, 1);
		}
		total += ds->part_len[i];
	}
	return f / (double)total;
}

/* Relative RMSE of a lossy policy over the data set, 256 KiB chunks. */
static double lossy_rmse(const struct peer *p, const struct dataset *ds)
{
	size_t chunk = 256 << 10, cap = qvl_codec_bound(chunk), fl, ol;
	uint8_t *frame = malloc(cap), *out = malloc(chunk);
	unsigned w = dtype_width(ds->dtype);
	double se = 0, sx = 0;

	for (int i = 0; i < ds->nparts; i++)
		for (size_t off = 0; off < ds->part_len[i]; off += chunk) {
			size_t n = ds->part_len[i] - off < chunk ?
					   ds->part_len[i] - off :
					   chunk;
			const uint8_t *src = ds->part[i] + off;
			if (qvl_codec_encode_ctx(qctx, src, n, ds->dtype,
						 p->policy, frame, cap, &fl) ||
			    qvl_codec_decode_ctx(qctx, frame, fl, out, n, &ol))
				return NAN;
			for (size_t k = 0; k < n / w; k++) {
				double x = qvl_gen_load(src, k, ds->dtype);
				double y = qvl_gen_load(out, k, ds->dtype);
				se += (x - y) * (x - y);
				sx += x * x;
			}
		}
	free(frame);
	free(out);
	return sqrt(se / sx);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (n < 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint16_t to_f16(float f)
{
	return qvl_gen_f16(f);
}

static int nds;
static struct dataset dsets[32];

static void add_synthetic(enum qvl_gen_kind kind, enum qvl_dtype dt,
			  size_t bytes)
{
	struct dataset *d = &dsets[nds++];

	snprintf(d->name, sizeof(d->name), "syn-%s-%s", qvl_gen_kind_names[kind],
		 qvl_dtype_table[dt].name);
	d->dtype = dt;
	d->nparts = 1;
	d->part_len[0] = bytes;
	d->part[0] = malloc(bytes);
	qvl_gen_tensor(kind, dt, d->part[0], bytes / dtype_width(dt), 42);
}

/* The three real models, bf16 / f32 as shipped and f16 made from f32. */
static int add_real(void)
{
	static const char *const models[] = { "stories260K", "silero_vad",
					      "dtln" };
	const char *dir = getenv("QVL_REAL_WEIGHTS");
	struct dataset *b = &dsets[nds], *s = &dsets[nds + 1],
		       *h = &dsets[nds + 2];
	char path[512];

	if (!dir)
		dir = "../shared/data/real-weights";
	snprintf(b->name, sizeof(b->name), "real-3models-bf16");
	snprintf(s->name, sizeof(s->name), "real-3models-f32");
	snprintf(h->name, sizeof(h->name), "real-3models-f16");
	b->dtype = QVL_DTYPE_BF16;
	s->dtype = QVL_DTYPE_F32;
	h->dtype = QVL_DTYPE_F16;
	for (int m = 0; m < 3; m++) {
		snprintf(path, sizeof(path), "%s/%s_bf16.bin", dir, models[m]);
		b->part[m] = read_file(path, &b->part_len[m]);
		snprintf(path, sizeof(path), "%s/%s_fp32.bin", dir, models[m]);
		s->part[m] = read_file(path, &s->part_len[m]);
		if (!b->part[m] || !s->part[m]) {
			printf("real weights: %s not found, skipped "
			       "(set QVL_REAL_WEIGHTS)\n\n", path);
			return 0;
		}
		h->part_len[m] = s->part_len[m] / 2;
		h->part[m] = malloc(h->part_len[m]);
		for (size_t i = 0; i < s->part_len[m] / 4; i++) {
			float f;
			uint16_t v;
			memcpy(&f, s->part[m] + 4 * i, 4);
			v = to_f16(f);
			memcpy(h->part[m] + 2 * i, &v, 2);
		}
	}
	b->nparts = s->nparts = h->nparts = 3;
	nds += 3;
	return 1;
}

int main(int argc, char **argv)
{
	static const size_t chunks[] = { 64 << 10, 256 << 10, 1 << 20 };
	int runs = 5, quick = 0;
	size_t mib = 8, only_chunk = 0;
	const char *only = NULL, *peer = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = (size_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--chunk") && i + 1 < argc)
			only_chunk = (size_t)atoi(argv[++i]) << 10;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--peer") && i + 1 < argc)
			peer = argv[++i];
		else if (!strcmp(argv[i], "--cputime"))
			bench_clock = CLOCK_THREAD_CPUTIME_ID;
		else if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else {
			fprintf(stderr,
				"usage: %s [--runs N] [--mib N] [--chunk KIB] "
				"[--only SUBSTR] [--peer SUBSTR] [--cputime] [--quick]\n",
				argv[0]);
			return 2;
		}
	}
	if (quick) {
		runs = 1;
		mib = 1;
		only_chunk = 256 << 10;
	}
	if (runs < 1 || runs > 15)
		runs = 5;
	blosc_init();
	blosc_set_nthreads(1);
	blosc_set_compressor("zstd");
	zc = ZSTD_createCCtx();
	zd = ZSTD_createDCtx();
	qctx = qvl_codec_ctx_create();

	add_real();
	add_synthetic(QVL_GEN_WEIGHTS, QVL_DTYPE_BF16, mib << 20);
	add_synthetic(QVL_GEN_WEIGHTS, QVL_DTYPE_F16, mib << 20);
	add_synthetic(QVL_GEN_WEIGHTS, QVL_DTYPE_F32, mib << 20);
	add_synthetic(QVL_GEN_KV, QVL_DTYPE_BF16, mib << 20);
	add_synthetic(QVL_GEN_KV, QVL_DTYPE_F16, mib << 20);
	add_synthetic(QVL_GEN_ACT, QVL_DTYPE_BF16, mib << 20);
	add_synthetic(QVL_GEN_ZERO, QVL_DTYPE_BF16, mib << 20);

	printf("single thread, median of %d runs; ratio = compressed/original; "
	       "MB/s of original bytes\n\n", runs);
	printf("| data | codec | chunk | ratio | enc MB/s | dec MB/s |\n");
	printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
	for (int d = 0; d < nds; d++) {
		if (only && !strstr(dsets[d].name, only))
			continue;
		for (size_t c = 0; c < 3; c++) {
			if (only_chunk && chunks[c] != only_chunk)
				continue;
			printf("| %s | order-0 floor | %zuK | %.4f | | |\n",
			       dsets[d].name, chunks[c] >> 10,
			       floor_ratio(&dsets[d], chunks[c]));
			for (size_t p = 0; p < NPEERS; p++) {
				if (peer && !strstr(peers[p].name, peer))
					continue;
				struct result r = run_peer(&peers[p], &dsets[d],
							   chunks[c], runs);
				printf("| %s | %s | %zuK | %.4f | %.0f | %.0f |%s\n",
				       dsets[d].name, peers[p].name,
				       chunks[c] >> 10, r.ratio, r.enc_mbps,
				       r.dec_mbps, r.ok ? "" : " FAILED");
				fflush(stdout);
			}
		}
	}
	if (peer && !strstr("lossy", peer))
		goto out;
	printf("\nlossy relative RMSE (256K chunks): sqrt(sum (x-y)^2 / sum x^2)\n\n");
	printf("| data | q8_0 | f8e4m3 |\n| --- | ---: | ---: |\n");
	for (int d = 0; d < nds; d++) {
		if (only && !strstr(dsets[d].name, only))
			continue;
		if (strstr(dsets[d].name, "zero"))
			continue;
		printf("| %s | %.5f | %.5f |\n", dsets[d].name,
		       lossy_rmse(&peers[NPEERS - 2], &dsets[d]),
		       lossy_rmse(&peers[NPEERS - 1], &dsets[d]));
	}
out:
	qvl_codec_ctx_free(qctx);
	ZSTD_freeCCtx(zc);
	ZSTD_freeDCtx(zd);
	blosc_destroy();
	return 0;
}

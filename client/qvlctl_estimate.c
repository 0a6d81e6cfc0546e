/*
 * qvlctl_estimate.c - `qvlctl estimate`: run files through the codecs the
 * daemon would use and report ratio and single-thread speed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>

#include "qvl_codec.h"
#include "qvlctl_estimate.h"

struct est_totals {
	unsigned long long orig, stored, chunks[QVL_CODEC_ID_COUNT];
	double t_enc, t_dec;
};

static double est_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double mbps(unsigned long long bytes, double secs)
{
	return secs > 0 ? (double)bytes / secs / 1e6 : 0;
}

static void est_usage(FILE *f)
{
	fprintf(f,
		"usage: qvlctl estimate [--dtype DTYPE] [--policy NAME] "
		"[--chunk KIB] FILE...\n"
		"  DTYPE: bf16, f16, f32, ... (user.qvl.dtype names); without it\n"
		"         each FILE's own user.qvl.dtype, else bytes (u8)\n"
		"  NAME:  auto (default), none, zstd, shuffle-zstd, q8_0, f8e4m3\n"
		"  prints a line per file, then\n"
		"  total ratio=R encode_MBps=E decode_MBps=D  (ratio = compressed/original)\n");
}

/* One file: encode, decode, compare each chunk; add to @t. */
static int est_file(struct qvl_codec_ctx *ctx, const char *path,
		    enum qvl_dtype dt, enum qvl_codec_policy pol, size_t chunk,
		    uint8_t *buf, uint8_t *frame, uint8_t *back,
		    struct est_totals *tot)
{
	struct est_totals t = { 0 };
	struct qvl_codec_frame_info info;
	FILE *f = fopen(path, "rb");
	size_t n, flen, olen;
	int rc = 0, lossy = pol == QVL_CODEC_POLICY_Q8_0 ||
			    pol == QVL_CODEC_POLICY_F8E4M3;

	if (!f) {
		fprintf(stderr, "qvlctl estimate: %s: %s\n", path,
			strerror(errno));
		return 2;
	}
	while ((n = fread(buf, 1, chunk, f)) > 0) {
		double t0 = est_now(), t1, t2;
		int erc = qvl_codec_encode_ctx(ctx, buf, n, dt, pol, frame,
					       qvl_codec_bound(chunk), &flen);
		t1 = est_now();
		int drc = erc ? erc :
				qvl_codec_decode_ctx(ctx, frame, flen, back,
						     chunk, &olen);
		t2 = est_now();
		if (erc || drc || olen != n || (!lossy && memcmp(buf, back, n))) {
			fprintf(stderr,
				"qvlctl estimate: %s: round trip failed at "
				"byte %llu (%s)\n",
				path, t.orig, strerror(erc ? -erc : drc ? -drc : EIO));
			rc = 1;
			break;
		}
		qvl_codec_frame_info(frame, flen, &info);
		t.chunks[info.codec]++;
		t.orig += n;
		t.stored += flen;
		t.t_enc += t1 - t0;
		t.t_dec += t2 - t1;
	}
	if (ferror(f)) {
		fprintf(stderr, "qvlctl estimate: %s: read error\n", path);
		rc = 2;
	}
	fclose(f);
	printf("%s dtype=%s bytes=%llu stored=%llu ratio=%.4f encode_MBps=%.0f "
	       "decode_MBps=%.0f chunks:",
	       path, qvl_dtype_table[dt].name, t.orig, t.stored,
	       t.orig ? (double)t.stored / (double)t.orig : 1.0,
	       mbps(t.orig, t.t_enc), mbps(t.orig, t.t_dec));
	for (int i = 0; i < QVL_CODEC_ID_COUNT; i++)
		if (t.chunks[i])
			printf(" %s=%llu", qvl_codec_id_name((enum qvl_codec_id)i),
			       t.chunks[i]);
	printf("\n");
	tot->orig += t.orig;
	tot->stored += t.stored;
	tot->t_enc += t.t_enc;
	tot->t_dec += t.t_dec;
	return rc;
}

/*
 * The dtype a file says it has (user.qvl.dtype), as the daemon would code
 * it; u8 (bytes, as the daemon codes an untyped file) with a note when it
 * has none.  Returns the dtype, or QVL_DTYPE_NONE after saying why.
 */
static enum qvl_dtype est_file_dtype(const char *path)
{
	char v[64];
	ssize_t n = getxattr(path, QVL_XATTR_DTYPE, v, sizeof(v));
	enum qvl_dtype dt;

	if (n < 0 && (errno == ENODATA || errno == ENOTSUP)) {
		fprintf(stderr, "qvlctl estimate: %s: no user.qvl.dtype, "
			"estimated as bytes (u8); --dtype names one\n", path);
		return QVL_DTYPE_U8;
	}
	if (n < 0) {
		fprintf(stderr, "qvlctl estimate: %s: %s\n", path,
			strerror(errno));
		return QVL_DTYPE_NONE;
	}
	while (n > 0 && (v[n - 1] == '\0' || v[n - 1] == '\n'))
		n--;
	dt = qvl_dtype_from_name(v, (size_t)n);
	if (dt == QVL_DTYPE_NONE)
		fprintf(stderr, "qvlctl estimate: %s: unknown user.qvl.dtype "
			"'%.*s' (--dtype names one)\n", path, (int)n, v);
	return dt;
}

int qvlctl_estimate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dtype", required_argument, NULL, 'd' },
		{ "policy", required_argument, NULL, 'p' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum qvl_dtype dt = QVL_DTYPE_NONE;
	enum qvl_codec_policy pol = QVL_CODEC_POLICY_AUTO;
	size_t chunk = 256 << 10;
	struct est_totals tot = { 0 };
	struct qvl_codec_ctx *ctx;
	uint8_t *buf, *frame, *back;
	int c, rc = 0;
	long kib;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:p:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dt = qvl_dtype_from_name(optarg, strlen(optarg));
			if (dt == QVL_DTYPE_NONE) {
				fprintf(stderr, "qvlctl estimate: unknown dtype %s\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			if (qvl_codec_policy_from_name(optarg, strlen(optarg),
						       &pol)) {
				fprintf(stderr, "qvlctl estimate: unknown policy %s\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			kib = strtol(optarg, NULL, 10);
			if (kib < 4 || kib > 65536) {
				fprintf(stderr, "qvlctl estimate: chunk must be 4..65536 KiB\n");
				return 2;
			}
			chunk = (size_t)kib << 10;
			break;
		case 'h':
			est_usage(stdout);
			return 0;
		default:
			est_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		est_usage(stderr);
		return 2;
	}
	ctx = qvl_codec_ctx_create();
	buf = malloc(chunk);
	back = malloc(chunk);
	frame = malloc(qvl_codec_bound(chunk));
	if (!ctx || !buf || !back || !frame) {
		fprintf(stderr, "qvlctl estimate: out of memory\n");
		rc = 2;
		goto out_free;
	}
	for (int i = optind; i < argc; i++) {
		enum qvl_dtype fdt = dt ? dt : est_file_dtype(argv[i]);
		int frc = fdt ? est_file(ctx, argv[i], fdt, pol, chunk, buf,
					 frame, back, &tot) : 2;

		if (frc > rc)
			rc = frc;
	}
	printf("total ratio=%.4f encode_MBps=%.0f decode_MBps=%.0f\n",
	       tot.orig ? (double)tot.stored / (double)tot.orig : 1.0,
	       mbps(tot.orig, tot.t_enc), mbps(tot.orig, tot.t_dec));
out_free:
	free(buf);
	free(back);
	free(frame);
	qvl_codec_ctx_free(ctx);
	return rc;
}

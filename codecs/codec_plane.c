/*
 * codec_plane.c - one byte plane, coded by whichever of raw, const, rANS
 * and zstd -1 gives the fewest bytes.
 *
 * Trying every coder on every plane would cost more than the coding
 * itself (zstd -1 runs at ~300 MB/s on an exponent plane), so a histogram
 * decides first: its order-0 entropy predicts the rANS size closely, rANS
 * runs only where it can win, and zstd runs in full only where a 4 KiB
 * sample beats that prediction (fixed tables, repeated rows), on noise
 * planes as on the others.
 */
#include <errno.h>
#include <math.h>

#include "codec_i.h"

#define QVL_PLANE_MIN 64	    /* below this, raw */
#define QVL_RANS_MAX_BITS 7.85	    /* above this, rANS cannot pay */
#define QVL_LZ_SAMPLE 4096

/*
 * Bits of order-0 entropy per byte, estimated from one 64-byte block in
 * four (the decision needs an estimate, not the exact figure); *@nsym gets
 * the alphabet size seen.
 */
static double plane_entropy(const uint8_t *p, size_t n, unsigned *nsym)
{
	uint32_t h[4][256] = { { 0 } };
	double bits = 0;
	size_t i = 0, seen = 0;

	for (; i + 256 <= n; i += 256) {
		for (size_t k = i; k < i + 64; k += 4) {
			h[0][p[k]]++;
			h[1][p[k + 1]]++;
			h[2][p[k + 2]]++;
			h[3][p[k + 3]]++;
		}
		seen += 64;
	}
	for (; i < n; i++, seen++)
		h[0][p[i]]++;
	n = seen;
	*nsym = 0;
	for (int s = 0; s < 256; s++) {
		uint32_t c = h[0][s] + h[1][s] + h[2][s] + h[3][s];
		if (!c)
			continue;
		(*nsym)++;
		bits -= c * log2((double)c / (double)n);
	}
	return bits / (double)n;
}

static int all_same(const uint8_t *p, size_t n)
{
	return p[0] == p[n - 1] && !memcmp(p, p + 1, n - 1);
}

int qvl_plane_encode(struct qvl_codec_ctx *ctx, const uint8_t *p, size_t n,
		     int allow_rans, uint8_t *coder, const uint8_t **out,
		     size_t *out_len)
{
	double h = 8.0;
	unsigned nsym = 256;
	size_t len;
	int rc, try_lz = 1;

	*coder = QVL_PLANE_RAW;
	*out = p;
	*out_len = n;
	if (n < QVL_PLANE_MIN)
		return 0;
	if (allow_rans) {
		h = plane_entropy(p, n, &nsym);
		if (nsym == 1 && all_same(p, n)) {
			*coder = QVL_PLANE_CONST;
			*out_len = 1;
			return 0;
		}
		if (h < QVL_RANS_MAX_BITS) {
			rc = qvl_rans_encode(p, n, ctx->cand[0], ctx->cand_cap,
					     &len);
			if (rc)
				return rc;
			if (len < *out_len) {
				*coder = QVL_PLANE_RANS;
				*out = ctx->cand[0];
				*out_len = len;
			}
		}
		/*
		 * LZ in full only where a sample beats the order-0 estimate:
		 * on noise planes too (h >= QVL_RANS_MAX_BITS), where zstd on
		 * the whole plane cost 20-100 us and never won on data whose
		 * sample did not compress.
		 */
		if (n > 2 * QVL_LZ_SAMPLE) {
			rc = qvl_zstd_encode_plane(ctx, p, QVL_LZ_SAMPLE,
						   ctx->cand[1], ctx->cand_cap,
						   &len);
			if (rc)
				return rc;
			try_lz = len * 8.0 < h * QVL_LZ_SAMPLE;
		}
	}
	if (!try_lz)
		return 0;
	rc = qvl_zstd_encode_plane(ctx, p, n, ctx->cand[1], ctx->cand_cap,
				   &len);
	if (rc)
		return rc;
	if (len < *out_len) {
		*coder = QVL_PLANE_ZSTD;
		*out = ctx->cand[1];
		*out_len = len;
	}
	return 0;
}

/*
 * Decode a plane of @n bytes from @in.  A raw plane is used in place;
 * the others are decoded into @buf.  *@plane says where the plane is.
 */
int qvl_plane_decode(struct qvl_codec_ctx *ctx, unsigned coder,
		     const uint8_t *in, size_t in_len, uint8_t *buf, size_t n,
		     const uint8_t **plane)
{
	int rc;

	switch (coder) {
	case QVL_PLANE_RAW:
		if (in_len != n)
			return -EIO;
		*plane = in;
		return 0;
	case QVL_PLANE_CONST:
		if (in_len != 1)
			return -EIO;
		memset(buf, in[0], n);
		break;
	case QVL_PLANE_RANS:
		rc = qvl_rans_decode(in, in_len, buf, n);
		if (rc)
			return rc;
		break;
	case QVL_PLANE_ZSTD:
		rc = qvl_zstd_decode(ctx, in, in_len, buf, n);
		if (rc)
			return rc;
		break;
	default:
		return -EIO;
	}
	*plane = buf;
	return 0;
}

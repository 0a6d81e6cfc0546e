/*
 * codec_zstd.c - zstd level 1 over a buffer, its errors turned into errno.
 */
#include <errno.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec_i.h"

size_t qvl_zstd_bound(size_t n)
{
	return ZSTD_compressBound(n);
}

int qvl_zstd_encode(struct qvl_codec_ctx *ctx, const uint8_t *src, size_t n,
		    uint8_t *dst, size_t cap, size_t *out_len)
{
	size_t r = ZSTD_compressCCtx(ctx->zc, dst, cap, src, n, 1);

	if (ZSTD_isError(r))
		return ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall ?
			       -ENOSPC :
			       -EIO;
	*out_len = r;
	return 0;
}

/*
 * zstd -1 with a minimum match of 7 bytes, for byte planes.  On exponent
 * planes zstd's default (5-6 byte matches at level 1) spends its time on
 * short matches that order-0 coding already captures: a minimum of 7 is
 * 1.5-2x faster there and its output is 1-6% smaller (the long matches,
 * table rows, are what LZ wins on).  The parameters are sticky on the
 * context; qvl_zstd_encode() (the simple API) does not see them.
 */
int qvl_zstd_plane_params(struct qvl_codec_ctx *ctx)
{
	if (ZSTD_isError(ZSTD_CCtx_setParameter(ctx->zc,
						ZSTD_c_compressionLevel, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(ctx->zc, ZSTD_c_minMatch,
						QVL_ZSTD_PLANE_MINMATCH)))
		return -EIO;
	return 0;
}

int qvl_zstd_encode_plane(struct qvl_codec_ctx *ctx, const uint8_t *src,
			  size_t n, uint8_t *dst, size_t cap, size_t *out_len)
{
	size_t r = ZSTD_compress2(ctx->zc, dst, cap, src, n);

	if (ZSTD_isError(r))
		return ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall ?
			       -ENOSPC :
			       -EIO;
	*out_len = r;
	return 0;
}

/* Decode exactly @want bytes, or fail: a short or long result is -EIO. */
int qvl_zstd_decode(struct qvl_codec_ctx *ctx, const uint8_t *src, size_t n,
		    uint8_t *dst, size_t want)
{
	size_t r = ZSTD_decompressDCtx(ctx->zd, dst, want, src, n);

	if (ZSTD_isError(r) || r != want)
		return -EIO;
	return 0;
}

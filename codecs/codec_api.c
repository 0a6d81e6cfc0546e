/*
 * codec_api.c - encode and decode one chunk: pick the codec the policy
 * asks for, fall back to raw when it does not pay, checksum everything.
 */
#include <errno.h>
#include <xxhash.h>

#include "codec_i.h"

static int write_raw(const uint8_t *src, size_t len, uint8_t *payload,
		     size_t room, struct qvl_frame_hdr *h)
{
	if (len > room)
		return -ENOSPC;
	memcpy(payload, src, len);
	h->codec = QVL_CODEC_RAW;
	h->nplanes = 0;
	h->flags = 0;
	h->payload_len = (uint32_t)len;
	return 0;
}

/* Whole-chunk zstd into @payload if it beats @best bytes; -ENOSPC if not. */
static int try_zstd(struct qvl_codec_ctx *ctx, const uint8_t *src, size_t len,
		    uint8_t *payload, size_t best, struct qvl_frame_hdr *h)
{
	size_t zlen;
	int rc = qvl_zstd_encode(ctx, src, len, payload, best ? best - 1 : 0,
				 &zlen);

	if (rc)
		return rc;
	h->codec = QVL_CODEC_ZSTD;
	h->nplanes = 0;
	h->flags = 0;
	h->payload_len = (uint32_t)zlen;
	return 0;
}

static int try_planes(struct qvl_codec_ctx *ctx, const uint8_t *src,
		      size_t len, enum qvl_dtype dtype, int allow_rans,
		      uint8_t *payload, size_t room, struct qvl_frame_hdr *h)
{
	size_t plen;
	int used_lz, rc;

	/* Planes no smaller than the chunk are not worth a frame. */
	if (room >= len)
		room = len ? len - 1 : 0;
	/*
	 * Whole-chunk zstd after a plane chose zstd was tried: on the real
	 * weights it never beat the planes, and it cost 10% of encode speed.
	 */
	rc = qvl_planes_encode(ctx, src, len, dtype, allow_rans, payload, room,
			       &plen, &h->nplanes, &h->flags, &used_lz);
	if (rc)
		return rc;
	h->codec = QVL_CODEC_PLANES;
	h->payload_len = (uint32_t)plen;
	return 0;
}

static int try_lossy(struct qvl_codec_ctx *ctx, const uint8_t *src,
		     size_t len, enum qvl_dtype dtype, enum qvl_codec_id codec,
		     uint8_t *payload, size_t room, struct qvl_frame_hdr *h)
{
	size_t plen;
	int rc;

	if (!qvl_lossy_supported(dtype))
		return -ENOTSUP;
	plen = qvl_lossy_payload_len(len, dtype);
	if (plen >= len)
		return -ENOTSUP;
	if (plen > room)
		return -ENOSPC;
	rc = qvl_lossy_encode(codec, src, len, dtype, payload, plen);
	if (rc)
		return rc;
	/* The checksum covers what decoding will return. */
	rc = qvl_lossy_decode(codec, payload, plen, dtype, ctx->planes, len);
	if (rc)
		return rc;
	h->codec = (uint8_t)codec;
	h->payload_len = (uint32_t)plen;
	h->checksum = qvl_codec_hash(ctx->planes, len);
	return 0;
}

int qvl_codec_encode_ctx(struct qvl_codec_ctx *ctx, const void *src,
			 size_t len, enum qvl_dtype dtype,
			 enum qvl_codec_policy policy, void *dst, size_t cap,
			 size_t *out_len)
{
	struct qvl_frame_hdr h = { 0 };
	uint8_t *payload = (uint8_t *)dst + QVL_CODEC_HEADER_SIZE;
	size_t room;
	int rc = -ENOTSUP;

	if (!ctx || !dst || !out_len || (!src && len) ||
	    len > QVL_CODEC_MAX_CHUNK || (unsigned)dtype >= QVL_DTYPE_COUNT ||
	    (unsigned)policy >= QVL_CODEC_POLICY_COUNT)
		return -EINVAL;
	if (cap < QVL_CODEC_HEADER_SIZE)
		return -ENOSPC;
	room = cap - QVL_CODEC_HEADER_SIZE;
	h.dtype = (uint8_t)dtype;
	h.orig_len = (uint32_t)len;
	if (qvl_codec_is_zero(src, len)) {
		h.codec = QVL_CODEC_ZERO;
		h.checksum = qvl_codec_zero_hash(ctx, len);
		goto out_header;
	}
	rc = qvl_codec_ctx_reserve(ctx, len);
	if (rc)
		return rc;
	h.checksum = qvl_codec_hash(src, len);
	switch (policy) {
	case QVL_CODEC_POLICY_NONE:
		rc = -ENOTSUP;
		break;
	case QVL_CODEC_POLICY_ZSTD:
		rc = try_zstd(ctx, src, len, payload, room < len ? room + 1 : len,
			      &h);
		break;
	case QVL_CODEC_POLICY_SHUFFLE_ZSTD:
		rc = try_planes(ctx, src, len, dtype, 0, payload, room, &h);
		break;
	case QVL_CODEC_POLICY_Q8_0:
	case QVL_CODEC_POLICY_F8E4M3:
		rc = try_lossy(ctx, src, len, dtype,
			       policy == QVL_CODEC_POLICY_Q8_0 ? QVL_CODEC_Q8_0 :
								 QVL_CODEC_F8E4M3,
			       payload, room, &h);
		if (rc == -ENOTSUP || rc == -ERANGE) /* not floats, or NaN/inf */
			rc = try_planes(ctx, src, len, dtype, 1, payload, room,
					&h);
		break;
	case QVL_CODEC_POLICY_AUTO:
	default:
		rc = try_planes(ctx, src, len, dtype, 1, payload, room, &h);
		break;
	}
	if (rc == -ENOSPC || rc == -ENOTSUP)
		rc = write_raw(src, len, payload, room, &h);
	if (rc)
		return rc;
out_header:
	qvl_frame_hdr_put(dst, &h);
	*out_len = QVL_CODEC_HEADER_SIZE + (size_t)h.payload_len;
	return 0;
}

int qvl_codec_decode_ctx(struct qvl_codec_ctx *ctx, const void *frame,
			 size_t flen, void *dst, size_t cap, size_t *out_len)
{
	const uint8_t *payload = (const uint8_t *)frame + QVL_CODEC_HEADER_SIZE;
	struct qvl_frame_hdr h;
	int rc;

	if (!ctx || !frame || !dst || !out_len)
		return -EINVAL;
	rc = qvl_frame_hdr_get(frame, flen, &h);
	if (rc)
		return rc;
	if (flen != QVL_CODEC_HEADER_SIZE + (size_t)h.payload_len)
		return -EIO;
	if (cap < h.orig_len)
		return -ENOSPC;
	switch (h.codec) {
	case QVL_CODEC_ZERO:
		/* The header's checksum vouches for zeros: no need to hash. */
		if (h.checksum != qvl_codec_zero_hash(ctx, h.orig_len))
			return -EIO;
		memset(dst, 0, h.orig_len);
		*out_len = h.orig_len;
		return 0;
	case QVL_CODEC_RAW:
		memcpy(dst, payload, h.orig_len);
		break;
	case QVL_CODEC_ZSTD:
		rc = qvl_zstd_decode(ctx, payload, h.payload_len, dst,
				     h.orig_len);
		break;
	case QVL_CODEC_PLANES:
		rc = qvl_planes_decode(ctx, &h, payload, dst);
		break;
	default:
		rc = qvl_lossy_decode((enum qvl_codec_id)h.codec, payload,
				      h.payload_len, (enum qvl_dtype)h.dtype,
				      dst, h.orig_len);
		break;
	}
	if (rc)
		return rc;
	if (qvl_codec_hash(dst, h.orig_len) != h.checksum)
		return -EIO;
	*out_len = h.orig_len;
	return 0;
}

int qvl_codec_encode(const void *src, size_t len, enum qvl_dtype dtype,
		     enum qvl_codec_policy policy, void *dst, size_t cap,
		     size_t *out_len)
{
	struct qvl_codec_ctx *ctx = qvl_codec_ctx_create();
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = qvl_codec_encode_ctx(ctx, src, len, dtype, policy, dst, cap,
				  out_len);
	qvl_codec_ctx_free(ctx);
	return rc;
}

int qvl_codec_decode(const void *frame, size_t flen, void *dst, size_t cap,
		     size_t *out_len)
{
	struct qvl_codec_ctx *ctx = qvl_codec_ctx_create();
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = qvl_codec_decode_ctx(ctx, frame, flen, dst, cap, out_len);
	qvl_codec_ctx_free(ctx);
	return rc;
}

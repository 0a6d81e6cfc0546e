/*
 * codec_planes.c - the PLANES payload: a table of (coder, length) per
 * plane, the coded planes, then the bytes past the last whole element.
 */
#include <errno.h>

#include "codec_i.h"

/* The plane layout encode uses for a chunk; decode insists on the same. */
static unsigned layout(size_t len, enum qvl_dtype dtype, int *rotate)
{
	unsigned w = qvl_codec_plane_width(dtype, rotate);

	if (len < w)
		w = 1;
	if (w == 1)
		*rotate = 0;
	return w;
}

int qvl_planes_encode(struct qvl_codec_ctx *ctx, const uint8_t *src,
		      size_t len, enum qvl_dtype dtype, int allow_rans,
		      uint8_t *dst, size_t cap, size_t *out_len,
		      uint8_t *nplanes, uint8_t *flags, int *used_lz)
{
	int rot;
	unsigned w = layout(len, dtype, &rot);
	size_t nelem = len / w, tail = len - nelem * w;
	size_t pos = (size_t)w * QVL_PLANE_ENTRY_SIZE;
	const uint8_t *planes = src;

	*used_lz = 0;
	if (pos > cap)
		return -ENOSPC;
	if (w > 1) {
		qvl_codec_split(src, nelem, w, rot, ctx->planes);
		planes = ctx->planes;
	}
	for (unsigned k = 0; k < w; k++) {
		const uint8_t *out;
		size_t olen;
		uint8_t coder;
		int rc = qvl_plane_encode(ctx, planes + k * nelem, nelem,
					  allow_rans, &coder, &out, &olen);
		if (rc)
			return rc;
		if (olen > cap - pos)
			return -ENOSPC;
		memcpy(dst + pos, out, olen);
		pos += olen;
		dst[k * QVL_PLANE_ENTRY_SIZE] = coder;
		qvl_put32(dst + k * QVL_PLANE_ENTRY_SIZE + 1, (uint32_t)olen);
		*used_lz |= coder == QVL_PLANE_ZSTD;
	}
	if (tail > cap - pos)
		return -ENOSPC;
	memcpy(dst + pos, src + nelem * w, tail);
	*out_len = pos + tail;
	*nplanes = (uint8_t)w;
	*flags = rot ? QVL_FRAME_F_ROTATE : 0;
	return 0;
}

/* @h is checked by qvl_frame_hdr_get(); @payload holds h->payload_len. */
int qvl_planes_decode(struct qvl_codec_ctx *ctx,
		      const struct qvl_frame_hdr *h, const uint8_t *payload,
		      uint8_t *dst)
{
	const uint8_t *plane[QVL_MAX_PLANES];
	int rot;
	unsigned w = layout(h->orig_len, h->dtype, &rot);
	size_t nelem = h->orig_len / w, tail = h->orig_len - nelem * w;
	size_t pos = (size_t)w * QVL_PLANE_ENTRY_SIZE, plen = h->payload_len;
	int rc;

	if (w != h->nplanes || (h->flags != (rot ? QVL_FRAME_F_ROTATE : 0)) ||
	    pos > plen)
		return -EIO;
	rc = qvl_codec_ctx_reserve(ctx, h->orig_len);
	if (rc)
		return rc;
	for (unsigned k = 0; k < w; k++) {
		unsigned coder = payload[k * QVL_PLANE_ENTRY_SIZE];
		size_t clen = qvl_get32(payload + k * QVL_PLANE_ENTRY_SIZE + 1);

		if (clen > plen - pos)
			return -EIO;
		rc = qvl_plane_decode(ctx, coder, payload + pos, clen,
				      ctx->planes + k * nelem, nelem,
				      &plane[k]);
		if (rc)
			return rc;
		pos += clen;
	}
	if (plen - pos != tail)
		return -EIO;
	qvl_codec_merge(plane, nelem, w, rot, dst);
	memcpy(dst + nelem * w, payload + pos, tail);
	return 0;
}

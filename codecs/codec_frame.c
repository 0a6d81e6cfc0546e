/*
 * codec_frame.c - the frame header: writing, checking, peeking, and the
 * names of policies and codecs.
 */
#include <errno.h>

#include "codec_i.h"

static const char *const policy_names[QVL_CODEC_POLICY_COUNT] = {
	[QVL_CODEC_POLICY_AUTO] = "auto",
	[QVL_CODEC_POLICY_NONE] = "none",
	[QVL_CODEC_POLICY_ZSTD] = "zstd",
	[QVL_CODEC_POLICY_SHUFFLE_ZSTD] = "shuffle-zstd",
	[QVL_CODEC_POLICY_Q8_0] = "q8_0",
	[QVL_CODEC_POLICY_F8E4M3] = "f8e4m3",
};

static const char *const id_names[QVL_CODEC_ID_COUNT] = {
	[QVL_CODEC_ZERO] = "zero",   [QVL_CODEC_RAW] = "raw",
	[QVL_CODEC_ZSTD] = "zstd",   [QVL_CODEC_PLANES] = "planes",
	[QVL_CODEC_Q8_0] = "q8_0",   [QVL_CODEC_F8E4M3] = "f8e4m3",
};

int qvl_codec_policy_from_name(const char *name, size_t len,
			       enum qvl_codec_policy *policy)
{
	if (!name || !policy)
		return -EINVAL;
	for (int i = 0; i < QVL_CODEC_POLICY_COUNT; i++) {
		const char *n = policy_names[i];
		if (strlen(n) == len && memcmp(n, name, len) == 0) {
			*policy = (enum qvl_codec_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *qvl_codec_policy_name(enum qvl_codec_policy policy)
{
	if ((unsigned)policy >= QVL_CODEC_POLICY_COUNT)
		return "";
	return policy_names[policy];
}

const char *qvl_codec_id_name(enum qvl_codec_id id)
{
	if ((unsigned)id >= QVL_CODEC_ID_COUNT)
		return "";
	return id_names[id];
}

size_t qvl_codec_bound(size_t len)
{
	return len + QVL_CODEC_HEADER_SIZE;
}

void qvl_frame_hdr_put(uint8_t *dst, const struct qvl_frame_hdr *h)
{
	dst[0] = QVL_FRAME_MAGIC0;
	dst[1] = QVL_FRAME_MAGIC1;
	dst[2] = QVL_CODEC_FORMAT_VERSION;
	dst[3] = h->codec;
	dst[4] = h->dtype;
	dst[5] = h->nplanes;
	dst[6] = h->flags;
	dst[7] = 0;
	qvl_put32(dst + 8, h->orig_len);
	qvl_put32(dst + 12, h->payload_len);
	qvl_put64(dst + 16, h->checksum);
}

/*
 * Parse and check the header alone: everything that can be judged without
 * the payload.  @len is what the caller holds, at least the frame.
 */
int qvl_frame_hdr_get(const uint8_t *src, size_t len, struct qvl_frame_hdr *h)
{
	if (len < QVL_CODEC_HEADER_SIZE || src[0] != QVL_FRAME_MAGIC0 ||
	    src[1] != QVL_FRAME_MAGIC1)
		return -EIO;
	h->version = src[2];
	if (h->version != QVL_CODEC_FORMAT_VERSION)
		return -EINVAL;
	h->codec = src[3];
	h->dtype = src[4];
	h->nplanes = src[5];
	h->flags = src[6];
	h->orig_len = qvl_get32(src + 8);
	h->payload_len = qvl_get32(src + 12);
	h->checksum = qvl_get64(src + 16);
	if (src[7] != 0 || h->codec >= QVL_CODEC_ID_COUNT ||
	    h->dtype >= QVL_DTYPE_COUNT || (h->flags & ~QVL_FRAME_F_MASK) ||
	    h->orig_len > QVL_CODEC_MAX_CHUNK)
		return -EIO;
	if ((size_t)h->payload_len > len - QVL_CODEC_HEADER_SIZE)
		return -EIO;
	if (h->codec != QVL_CODEC_PLANES && (h->nplanes || h->flags))
		return -EIO;
	switch (h->codec) {
	case QVL_CODEC_ZERO:
		if (h->payload_len != 0)
			return -EIO;
		break;
	case QVL_CODEC_RAW:
		if (h->payload_len != h->orig_len)
			return -EIO;
		break;
	case QVL_CODEC_ZSTD:
		if (h->payload_len == 0 || h->payload_len > h->orig_len)
			return -EIO;
		break;
	case QVL_CODEC_PLANES:
		if (h->nplanes < 1 || h->nplanes > QVL_MAX_PLANES ||
		    h->payload_len > h->orig_len)
			return -EIO;
		break;
	case QVL_CODEC_Q8_0:
	case QVL_CODEC_F8E4M3:
		if (!qvl_lossy_supported(h->dtype) ||
		    h->payload_len != qvl_lossy_payload_len(h->orig_len, h->dtype))
			return -EIO;
		break;
	}
	return 0;
}

int qvl_codec_frame_info(const void *frame, size_t flen,
			 struct qvl_codec_frame_info *info)
{
	struct qvl_frame_hdr h;
	int rc;

	if (!frame || !info)
		return -EINVAL;
	rc = qvl_frame_hdr_get(frame, flen, &h);
	if (rc)
		return rc;
	info->codec = (enum qvl_codec_id)h.codec;
	info->dtype = (enum qvl_dtype)h.dtype;
	info->nplanes = h.nplanes;
	info->lossy = h.codec == QVL_CODEC_Q8_0 || h.codec == QVL_CODEC_F8E4M3;
	info->orig_len = h.orig_len;
	info->frame_len = QVL_CODEC_HEADER_SIZE + (size_t)h.payload_len;
	info->checksum = h.checksum;
	return 0;
}

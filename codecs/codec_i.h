/*
 * codec_i.h - what the files of codecs/ share: the frame layout, the
 * context, and the pieces each file exports to the others.
 */
#ifndef QVL_CODEC_I_H
#define QVL_CODEC_I_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qvl_codec.h"

/*
 * Frame header, little-endian, QVL_CODEC_HEADER_SIZE bytes:
 *   0  u8[2] magic "QC"
 *   2  u8    format version
 *   3  u8    codec (enum qvl_codec_id)
 *   4  u8    dtype (enum qvl_dtype)
 *   5  u8    number of planes (PLANES only, else 0)
 *   6  u8    flags (QVL_FRAME_F_*)
 *   7  u8    reserved, 0
 *   8  u32   original length
 *  12  u32   payload length (frame length - header)
 *  16  u64   xxh3-64 of the bytes decoding returns
 */
#define QVL_FRAME_MAGIC0 'Q'
#define QVL_FRAME_MAGIC1 'C'
#define QVL_FRAME_F_ROTATE 0x01 /* PLANES: float values were sign-rotated */
#define QVL_FRAME_F_MASK 0x01

/* PLANES: a table entry per plane, then the plane payloads, then the tail. */
#define QVL_PLANE_ENTRY_SIZE 5 /* u8 coder, u32 coded length */
#define QVL_MAX_PLANES 8

enum qvl_plane_coder {
	QVL_PLANE_RAW = 0,
	QVL_PLANE_CONST = 1, /* one byte, repeated */
	QVL_PLANE_RANS = 2,  /* htscodecs rANS 4x16, order 0 */
	QVL_PLANE_ZSTD = 3,  /* zstd frame */
	QVL_PLANE_CODER_COUNT
};

struct qvl_frame_hdr {
	uint8_t version;
	uint8_t codec;
	uint8_t dtype;
	uint8_t nplanes;
	uint8_t flags;
	uint32_t orig_len;
	uint32_t payload_len;
	uint64_t checksum;
};

/* Scratch space; one thread at a time.  Buffers only grow. */
struct qvl_codec_ctx {
	void *zc; /* ZSTD_CCtx */
	void *zd; /* ZSTD_DCtx */
	uint8_t *planes; /* split planes (encode) or decoded planes (decode) */
	size_t planes_cap;
	uint8_t *cand[2]; /* candidate coder outputs for one plane */
	size_t cand_cap;
	size_t zero_len; /* cached xxh3 of zero_len zero bytes */
	uint64_t zero_hash;
	int zero_valid;
};

static inline void qvl_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void qvl_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void qvl_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t qvl_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t qvl_get64(const uint8_t *p)
{
	return (uint64_t)qvl_get32(p) | (uint64_t)qvl_get32(p + 4) << 32;
}

/* codec_frame.c */
void qvl_frame_hdr_put(uint8_t *dst, const struct qvl_frame_hdr *h);
int qvl_frame_hdr_get(const uint8_t *src, size_t len, struct qvl_frame_hdr *h);

/* codec_ctx.c */
int qvl_codec_ctx_reserve(struct qvl_codec_ctx *ctx, size_t len);
uint64_t qvl_codec_zero_hash(struct qvl_codec_ctx *ctx, size_t len);
int qvl_codec_is_zero(const uint8_t *p, size_t len);
uint64_t qvl_hash_lib(const void *p, size_t n);

/* codec_hash.c: xxh3-64, AVX2 where the CPU has it */
uint64_t qvl_codec_hash(const void *p, size_t n);

/* codec_split.c: byte planes, sign rotation for floats */
unsigned qvl_codec_plane_width(enum qvl_dtype dtype, int *rotate);
void qvl_codec_split(const uint8_t *src, size_t nelem, unsigned width,
		     int rotate, uint8_t *planes);
void qvl_codec_merge(const uint8_t *const *planes, size_t nelem,
		     unsigned width, int rotate, uint8_t *dst);

/* codec_plane.c: one plane, best coder by size */
int qvl_plane_encode(struct qvl_codec_ctx *ctx, const uint8_t *p, size_t n,
		     int allow_rans, uint8_t *coder, const uint8_t **out,
		     size_t *out_len);
int qvl_plane_decode(struct qvl_codec_ctx *ctx, unsigned coder,
		     const uint8_t *in, size_t in_len, uint8_t *buf, size_t n,
		     const uint8_t **plane);

/* codec_zstd.c and codec_rans.c: the library coders, errors to -EIO */
size_t qvl_zstd_bound(size_t n);
int qvl_zstd_encode(struct qvl_codec_ctx *ctx, const uint8_t *src, size_t n,
		    uint8_t *dst, size_t cap, size_t *out_len);
#define QVL_ZSTD_PLANE_MINMATCH 7
int qvl_zstd_plane_params(struct qvl_codec_ctx *ctx);
int qvl_zstd_encode_plane(struct qvl_codec_ctx *ctx, const uint8_t *src,
			  size_t n, uint8_t *dst, size_t cap, size_t *out_len);
int qvl_zstd_decode(struct qvl_codec_ctx *ctx, const uint8_t *src, size_t n,
		    uint8_t *dst, size_t want);
void qvl_rans_init(void);
size_t qvl_rans_bound(size_t n);
int qvl_rans_encode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
		    size_t *out_len);
int qvl_rans_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t want);

/* codec_planes.c: the PLANES frame payload */
int qvl_planes_encode(struct qvl_codec_ctx *ctx, const uint8_t *src,
		      size_t len, enum qvl_dtype dtype, int allow_rans,
		      uint8_t *dst, size_t cap, size_t *out_len,
		      uint8_t *nplanes, uint8_t *flags, int *used_lz);
int qvl_planes_decode(struct qvl_codec_ctx *ctx,
		      const struct qvl_frame_hdr *h, const uint8_t *payload,
		      uint8_t *dst);

/* codec_lossy.c */
int qvl_lossy_supported(enum qvl_dtype dtype);
size_t qvl_lossy_payload_len(size_t len, enum qvl_dtype dtype);
int qvl_lossy_encode(enum qvl_codec_id codec, const uint8_t *src, size_t len,
		     enum qvl_dtype dtype, uint8_t *dst, size_t cap);
int qvl_lossy_decode(enum qvl_codec_id codec, const uint8_t *payload,
		     size_t plen, enum qvl_dtype dtype, uint8_t *dst,
		     size_t len);

#endif /* QVL_CODEC_I_H */

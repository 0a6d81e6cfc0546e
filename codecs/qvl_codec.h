/*
 * qvl_codec.h - chunk codecs: one chunk of bytes in, one self-describing
 * frame out, and back.
 *
 * codecs/ is a leaf: buffer in, buffer out.  No I/O, no threads, no
 * printing.  Every function returns 0 or a negative errno.
 *
 * A frame carries a 24-byte header (format version, codec, dtype, plane
 * count, lengths, xxh3-64 of the bytes decoding returns) and a payload
 * (docs/CODECS.md has the byte layout).  Decoding checks every length and
 * the checksum: a malformed or corrupted frame gives -EIO (or -EINVAL for a
 * frame of an unknown version), never out-of-bounds access and never wrong
 * bytes.
 *
 * Thread context: all functions are reentrant.  A struct qvl_codec_ctx
 * holds scratch space and must be used by one thread at a time; give each
 * thread its own.  The functions without a ctx create a temporary one (a
 * few allocations per call).
 */
#ifndef QVL_CODEC_H
#define QVL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "qvl_abi.h"

/* The frame format this library writes; decoding accepts only this one. */
#define QVL_CODEC_FORMAT_VERSION 1
/* Bytes of the frame header; a frame is never longer than len + this. */
#define QVL_CODEC_HEADER_SIZE 24
/* The largest chunk a frame can describe. */
#define QVL_CODEC_MAX_CHUNK ((size_t)1 << 30)

/*
 * What a file asks for (user.qvl.codec).  The lossless policies never
 * change a byte; the lossy ones (Q8_0, F8E4M3) only apply to bf16, f16 and
 * f32 chunks and fall back to AUTO for anything else.
 *   AUTO          per chunk: zero, raw, zstd -1 or byte planes, each plane
 *                 coded by the best of rANS, zstd -1, raw (the default)
 *   NONE          store as is (all-zero chunks still cost no payload)
 *   ZSTD          zstd -1 over the whole chunk (raw if that is larger)
 *   SHUFFLE_ZSTD  byte planes (by dtype width, sign rotated for floats),
 *                 each plane by zstd -1 or raw: the Blosc-style pipeline
 *   Q8_0          blocks of 32 values, one f32 scale, int8 each (lossy)
 *   F8E4M3        blocks of 32 values, one f32 scale, fp8 e4m3 each (lossy)
 */
enum qvl_codec_policy {
	QVL_CODEC_POLICY_AUTO = 0,
	QVL_CODEC_POLICY_NONE,
	QVL_CODEC_POLICY_ZSTD,
	QVL_CODEC_POLICY_SHUFFLE_ZSTD,
	QVL_CODEC_POLICY_Q8_0,
	QVL_CODEC_POLICY_F8E4M3,
	QVL_CODEC_POLICY_COUNT
};

/* The codec a frame was written with (struct qvl_codec_frame_info.codec). */
enum qvl_codec_id {
	QVL_CODEC_ZERO = 0, /* all-zero chunk, no payload */
	QVL_CODEC_RAW = 1,
	QVL_CODEC_ZSTD = 2,
	QVL_CODEC_PLANES = 3, /* byte planes, each raw/const/rANS/zstd */
	QVL_CODEC_Q8_0 = 4,
	QVL_CODEC_F8E4M3 = 5,
	QVL_CODEC_ID_COUNT
};

struct qvl_codec_frame_info {
	enum qvl_codec_id codec;
	enum qvl_dtype dtype;  /* as given to encode */
	unsigned nplanes;      /* PLANES: number of byte planes, else 0 */
	int lossy;             /* 1 for Q8_0 and F8E4M3 */
	size_t orig_len;       /* bytes decoding returns */
	size_t frame_len;      /* bytes of the whole frame */
	uint64_t checksum;     /* xxh3-64 of the bytes decoding returns */
};

struct qvl_codec_ctx;

/*
 * qvl_codec_ctx_create() - scratch space for encoding and decoding.
 * Returns a context, or NULL when out of memory.  Buffers grow to the
 * largest chunk seen and stay until qvl_codec_ctx_free().
 */
struct qvl_codec_ctx *qvl_codec_ctx_create(void);

/* qvl_codec_ctx_free() - release @ctx; NULL is accepted and ignored. */
void qvl_codec_ctx_free(struct qvl_codec_ctx *ctx);

/*
 * qvl_codec_bound() - the largest frame encoding @len bytes can produce,
 * whatever the policy: @len + QVL_CODEC_HEADER_SIZE.  A dst of this size
 * never fails with -ENOSPC.
 */
size_t qvl_codec_bound(size_t len);

/*
 * qvl_codec_encode_ctx() - encode one chunk into a frame.
 * @src, @len:   the chunk; @len may be 0 and need not be a multiple of the
 *               dtype's width (the tail is stored as is)
 * @dtype:       element type of the chunk (QVL_DTYPE_NONE: plain bytes)
 * @policy:      what the file asked for
 * @dst, @cap:   where the frame goes
 * @out_len:     set to the frame's length on success
 * Returns 0; -EINVAL for a bad argument or @len > QVL_CODEC_MAX_CHUNK;
 * -ENOSPC when the frame does not fit in @cap (cannot happen when @cap >=
 * qvl_codec_bound(@len)); -ENOMEM; -EIO when a library coder failed.
 */
int qvl_codec_encode_ctx(struct qvl_codec_ctx *ctx, const void *src,
			 size_t len, enum qvl_dtype dtype,
			 enum qvl_codec_policy policy, void *dst, size_t cap,
			 size_t *out_len);

/* qvl_codec_encode() - the same with a temporary context. */
int qvl_codec_encode(const void *src, size_t len, enum qvl_dtype dtype,
		     enum qvl_codec_policy policy, void *dst, size_t cap,
		     size_t *out_len);

/*
 * qvl_codec_decode_ctx() - decode one frame.
 * @frame, @flen: the frame; @flen must be its exact length
 * @dst, @cap:    where the chunk goes; @cap >= info.orig_len
 * @out_len:      set to the chunk's length on success
 * Returns 0; -EIO for a malformed or corrupted frame (bad magic, lengths,
 * plane table, payload, or checksum mismatch); -EINVAL for an unknown
 * format version or a NULL argument; -ENOSPC when @cap is too small;
 * -ENOMEM.  On error @dst may hold garbage, never more than @cap bytes.
 */
int qvl_codec_decode_ctx(struct qvl_codec_ctx *ctx, const void *frame,
			 size_t flen, void *dst, size_t cap, size_t *out_len);

/* qvl_codec_decode() - the same with a temporary context. */
int qvl_codec_decode(const void *frame, size_t flen, void *dst, size_t cap,
		     size_t *out_len);

/*
 * qvl_codec_frame_info() - read a frame's header without decoding it.
 * @flen may be longer than the frame (a stream of frames): the header says
 * how long the frame is (info->frame_len).  Returns 0; -EIO when @flen is
 * shorter than the header or the frame, or the header is inconsistent;
 * -EINVAL for an unknown format version or NULL arguments.
 */
int qvl_codec_frame_info(const void *frame, size_t flen,
			 struct qvl_codec_frame_info *info);

/*
 * qvl_codec_policy_from_name() - parse a user.qvl.codec value.
 * @name, @len: bytes of the name, not necessarily NUL-terminated; one of
 * auto, none, zstd, shuffle-zstd, q8_0, f8e4m3.
 * Returns 0 and sets *@policy, or -EINVAL for anything else.
 */
int qvl_codec_policy_from_name(const char *name, size_t len,
			       enum qvl_codec_policy *policy);

/* qvl_codec_policy_name() - the name of @policy, "" when out of range. */
const char *qvl_codec_policy_name(enum qvl_codec_policy policy);

/* qvl_codec_id_name() - "zero", "raw", ...; "" when out of range. */
const char *qvl_codec_id_name(enum qvl_codec_id id);

/*
 * The content checksum (user.qvl.checksum, qvlctl checksum): xxh3-64 over
 * (index, xxh3-64) of each 64 KiB block of the content that is not all
 * zero, then the size, each as a little-endian u64.  Holes and zero blocks
 * add nothing, so a sparse file costs only its data and equal contents
 * give equal sums however they are stored.  Feed the content in order with
 * qvl_sum_data (@off a multiple of QVL_SUM_BLOCK, @n too except at the
 * end; skipping a range means it is zero), then qvl_sum_end frees @s.
 */
#define QVL_SUM_BLOCK 65536u
struct qvl_sum;
int qvl_sum_new(struct qvl_sum **out); /* 0 or -ENOMEM */
void qvl_sum_data(struct qvl_sum *s, uint64_t off, const void *p, size_t n);
uint64_t qvl_sum_end(struct qvl_sum *s, uint64_t size);

#endif /* QVL_CODEC_H */

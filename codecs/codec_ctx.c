/*
 * codec_ctx.c - the scratch context: library coder contexts, plane buffers
 * that grow to the largest chunk seen, and the checksum of zero chunks.
 */
#include <errno.h>
#include <stdlib.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>
#include <zstd.h>

#include "codec_i.h"

struct qvl_codec_ctx *qvl_codec_ctx_create(void)
{
	struct qvl_codec_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	qvl_rans_init();
	ctx->zc = ZSTD_createCCtx();
	ctx->zd = ZSTD_createDCtx();
	if (!ctx->zc || !ctx->zd || qvl_zstd_plane_params(ctx)) {
		qvl_codec_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

void qvl_codec_ctx_free(struct qvl_codec_ctx *ctx)
{
	if (!ctx)
		return;
	ZSTD_freeCCtx(ctx->zc);
	ZSTD_freeDCtx(ctx->zd);
	free(ctx->planes);
	free(ctx->cand[0]);
	free(ctx->cand[1]);
	free(ctx);
}

static int grow(uint8_t **buf, size_t *cap, size_t want)
{
	uint8_t *p;

	if (*cap >= want)
		return 0;
	p = malloc(want);
	if (!p)
		return -ENOMEM;
	free(*buf);
	*buf = p;
	*cap = want;
	return 0;
}

/*
 * Room for a chunk of @len bytes: its planes, and two candidate outputs
 * for the largest plane (a plane is at most the whole chunk).
 */
int qvl_codec_ctx_reserve(struct qvl_codec_ctx *ctx, size_t len)
{
	size_t cand = qvl_rans_bound(len);
	size_t cap0 = ctx->cand_cap, cap1 = ctx->cand_cap;
	int rc;

	if (qvl_zstd_bound(len) > cand)
		cand = qvl_zstd_bound(len);
	rc = grow(&ctx->planes, &ctx->planes_cap, len ? len : 1);
	if (!rc)
		rc = grow(&ctx->cand[0], &cap0, cand);
	if (!rc)
		rc = grow(&ctx->cand[1], &cap1, cand);
	if (rc) {
		/* Keep the invariant: both candidates hold cand_cap bytes. */
		ctx->cand_cap = cap0 < cap1 ? cap0 : cap1;
		return rc;
	}
	ctx->cand_cap = cap0;
	return 0;
}

uint64_t qvl_hash_lib(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

uint64_t qvl_codec_zero_hash(struct qvl_codec_ctx *ctx, size_t len)
{
	static const uint8_t zeros[4096];
	XXH3_state_t st;

	if (ctx->zero_valid && ctx->zero_len == len)
		return ctx->zero_hash;
	XXH3_64bits_reset(&st);
	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(zeros) ? len - done : sizeof(zeros);
		XXH3_64bits_update(&st, zeros, n);
		done += n;
	}
	ctx->zero_hash = XXH3_64bits_digest(&st);
	ctx->zero_len = len;
	ctx->zero_valid = 1;
	return ctx->zero_hash;
}

/* OR 64 bytes at a time: the compiler turns this into wide vector ORs. */
int qvl_codec_is_zero(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i + 64 <= len) {
		uint64_t w[8], acc = 0;
		memcpy(w, p + i, 64);
		for (int k = 0; k < 8; k++)
			acc |= w[k];
		if (acc)
			return 0;
		i += 64;
	}
	for (; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/*
 * fuzz_codec_decode.c - libFuzzer target: any byte string handed to the
 * frame decoder must give a clean error or a chunk whose checksum holds.
 * Half the inputs are mutated from a real frame (byte 0 of the input
 * picks what to encode), so the fuzzer gets past the header quickly.
 *
 *   make fuzz-build && build/fuzz/fuzz_codec_decode -max_total_time=60
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qvl_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct qvl_codec_ctx *ctx;
static uint8_t out[1 << 20];

static void check(const uint8_t *frame, size_t flen)
{
	struct qvl_codec_frame_info info;
	size_t olen = 0;
	int rc = qvl_codec_decode_ctx(ctx, frame, flen, out, sizeof(out), &olen);

	if (rc == 0) {
		if (qvl_codec_frame_info(frame, flen, &info) ||
		    olen != info.orig_len || info.frame_len != flen)
			abort();
	} else if (rc != -EIO && rc != -EINVAL && rc != -ENOSPC &&
		   rc != -ENOMEM) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[(1 << 16) + QVL_CODEC_HEADER_SIZE];
	size_t flen;

	if (!ctx)
		ctx = qvl_codec_ctx_create();
	check(data, size);
	/* Encode the input as a chunk, flip a byte, decode. */
	if (size >= 4 && size <= (1 << 16)) {
		enum qvl_dtype dt = (enum qvl_dtype)(data[0] % QVL_DTYPE_COUNT);
		enum qvl_codec_policy pol =
			(enum qvl_codec_policy)(data[1] % QVL_CODEC_POLICY_COUNT);
		if (qvl_codec_encode_ctx(ctx, data, size, dt, pol, frame,
					 sizeof(frame), &flen))
			abort();
		check(frame, flen);
		frame[(data[2] | data[3] << 8) % flen] ^= (uint8_t)(data[3] | 1);
		check(frame, flen);
	}
	return 0;
}

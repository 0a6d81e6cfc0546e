/*
 * test_gpu_decode.c - what each GPU thread computes (cuda/gpu_decode.h),
 * run on the CPU: q8_0 and f8e4m3 payloads of bf16, f16 and f32 chunks,
 * with short last blocks and bytes past the last value, must decode byte
 * for byte as the codecs' own decoder does; merged byte planes must equal
 * the codecs' merge.  The kernels add only the thread index, and
 * tests/gpu/run checks them on a device where there is one.
 */
#include <stdlib.h>
#include <string.h>

#include "codec_float_i.h"
#include "codec_i.h"
#include "gpu_decode.h"
#include "gpu/lossy_cases.h"
#include "harness.h"

static void lossy_case(enum qvl_codec_id codec, enum qvl_dtype dt, size_t len)
{
	size_t w = dt == QVL_DTYPE_F32 ? 4 : 2, n = len / w;
	size_t plen = qvl_lossy_payload_len(len, dt);
	QVL_CHECK_EQ(qvl_lossy_plen(len, w), plen);
	uint8_t *src = malloc(len), *pay = malloc(plen), *want = malloc(len);
	uint8_t *got = malloc(len);
	lossy_case_fill(src, len, dt);
	QVL_CHECK_EQ(qvl_lossy_encode(codec, src, len, dt, pay, plen), 0);
	QVL_CHECK_EQ(qvl_lossy_decode(codec, pay, plen, dt, want, len), 0);
	int out = dt == QVL_DTYPE_BF16  ? QVL_GPU_OUT_BF16
		  : dt == QVL_DTYPE_F16 ? QVL_GPU_OUT_F16
					: QVL_GPU_OUT_F32;
	memset(got, 0xa5, len);
	for (uint32_t i = 0; i < n; i++)
		qvl_gpu_lossy_one(pay, (uint32_t)n, i,
				  codec == QVL_CODEC_F8E4M3, out, got);
	size_t blocks = (n + QVL_LOSSY_BLOCK - 1) / QVL_LOSSY_BLOCK;
	memcpy(got + n * w, pay + blocks * 4 + n, len - n * w); /* the tail */
	size_t bad = 0;
	for (size_t i = 0; i < len; i++)
		bad += got[i] != want[i];
	QVL_CHECK_EQ(bad, 0);
	free(src);
	free(pay);
	free(want);
	free(got);
}

static void t_lossy(void)
{
	static const size_t lens[] = { 1 << 20, (1 << 20) + 3, 4097, 66, 2 };
	static const enum qvl_dtype dts[] = { QVL_DTYPE_BF16, QVL_DTYPE_F16,
					      QVL_DTYPE_F32 };
	for (unsigned c = 0; c < 2; c++)
		for (unsigned d = 0; d < 3; d++)
			for (unsigned l = 0; l < 5; l++)
				lossy_case(c ? QVL_CODEC_F8E4M3 : QVL_CODEC_Q8_0,
					   dts[d], lens[l]);
}

/* Every e4m3 byte and every q8_0 byte, at a few scales. */
static void t_every_byte(void)
{
	uint8_t pay[4 + 32];
	uint16_t got[32];
	float want;
	static const float scales[] = { 1.0f, 0.02f / 448, 3e-8f, 0.0f };
	for (unsigned s = 0; s < 4; s++) {
		memcpy(pay, &scales[s], 4);
		for (unsigned c = 0; c < 256; c += 32) {
			for (unsigned k = 0; k < 32; k++)
				pay[4 + k] = (uint8_t)(c + k);
			for (int fp8 = 0; fp8 < 2; fp8++) {
				for (uint32_t k = 0; k < 32; k++) {
					qvl_gpu_lossy_one(pay, 32, k, fp8,
							  QVL_GPU_OUT_BF16,
							  (uint8_t *)got);
					want = (fp8 ? qvl_fm_e4m3_to_float(
							      (uint8_t)(c + k))
						    : (float)(int8_t)(c + k)) *
					       scales[s];
					QVL_CHECK_EQ(got[k],
						     qvl_float_to_bf16(want));
				}
			}
		}
	}
}

static void t_merge2(void)
{
	size_t n = (1 << 19) + 7;
	uint8_t *p = malloc(2 * n);
	uint16_t *got = malloc(2 * n), *want = malloc(2 * n);
	for (size_t i = 0; i < 2 * n; i++)
		p[i] = (uint8_t)(lossy_case_unit() * 256);
	for (int rot = 0; rot < 2; rot++) {
		const uint8_t *planes[2] = { p, p + n };
		qvl_codec_merge(planes, n, 2, rot, (uint8_t *)want);
		for (uint32_t i = 0; i < n; i++)
			qvl_gpu_merge2_one(p, p + n, i, rot, got);
		QVL_CHECK_EQ(memcmp(got, want, 2 * n), 0);
	}
	free(p);
	free(got);
	free(want);
}

int main(void)
{
	QVL_RUN(t_lossy);
	QVL_RUN(t_every_byte);
	QVL_RUN(t_merge2);
	return QVL_TEST_EXIT();
}

/*
 * test_gpu_kernels.c - the GPU's decoders against the CPU's, on a device:
 * q8_0 and f8e4m3 payloads of bf16, f16 and f32 chunks (with a few bytes
 * past the last value) dequantized on the GPU must equal the CPU decode
 * byte for byte, and byte planes merged on the GPU must give back the
 * values they were split from.  Then the effective bandwidth of each
 * kernel.  Exit 77 (skip) when there is no usable GPU.  Built by
 * tests/gpu/run (nvcc), never by the suite.
 */
#include <cuda_runtime_api.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_float_i.h"
#include "codec_i.h"
#include "cuda_check.h"
#include "lossy_cases.h"
#include "qvl_gpu_kernels.h"

static int failures;


static double ms_between(cudaEvent_t a, cudaEvent_t b)
{
	float ms = 0;
	CK(cudaEventElapsedTime(&ms, a, b));
	return ms;
}

static void lossy_case(enum qvl_codec_id codec, enum qvl_dtype dt,
		       size_t len, FILE *res)
{
	size_t plen = qvl_lossy_payload_len(len, dt);
	uint8_t *src = malloc(len), *pay = malloc(plen), *want = malloc(len),
		*got = malloc(len);
	void *dpay, *ddst;
	cudaEvent_t t0, t1;
	lossy_case_fill(src, len, dt);
	if (qvl_lossy_encode(codec, src, len, dt, pay, plen) ||
	    qvl_lossy_decode(codec, pay, plen, dt, want, len)) {
		fprintf(stderr, "CPU codec refused the case\n");
		exit(1);
	}
	CK(cudaMalloc(&dpay, plen));
	CK(cudaMalloc(&ddst, len));
	CK(cudaMemcpy(dpay, pay, plen, cudaMemcpyHostToDevice));
	CK(cudaMemset(ddst, 0xa5, len));
	enum qvl_gpu_out out = dt == QVL_DTYPE_BF16  ? QVL_GPU_OUT_BF16
			       : dt == QVL_DTYPE_F16 ? QVL_GPU_OUT_F16
						     : QVL_GPU_OUT_F32;
	enum qvl_gpu_lossy gc =
		codec == QVL_CODEC_Q8_0 ? QVL_GPU_Q8_0 : QVL_GPU_F8E4M3;
	int rc = qvl_gpu_lossy_decode(dpay, plen, gc, out, ddst, len, NULL);
	CK(cudaDeviceSynchronize());
	CK(cudaMemcpy(got, ddst, len, cudaMemcpyDeviceToHost));
	size_t bad = 0;
	for (size_t i = 0; i < len; i++)
		bad += got[i] != want[i];
	const char *name = codec == QVL_CODEC_Q8_0 ? "q8_0" : "f8e4m3";
	const char *dn = qvl_dtype_table[dt].name;
	if (rc || bad) {
		fprintf(stderr, "FAIL lossy %s %s len %zu: rc %d, %zu bytes "
				"differ\n", name, dn, len, rc, bad);
		failures++;
	}
	/* bandwidth: ten decodes of the chunk */
	CK(cudaEventCreate(&t0));
	CK(cudaEventCreate(&t1));
	CK(cudaEventRecord(t0, NULL));
	for (int k = 0; k < 10; k++)
		qvl_gpu_lossy_decode(dpay, plen, gc, out, ddst, len, NULL);
	CK(cudaEventRecord(t1, NULL));
	CK(cudaEventSynchronize(t1));
	double ms = ms_between(t0, t1) / 10;
	fprintf(res, "lossy %-7s %-5s %9zu bytes  %s  %.1f GB/s of output\n",
		name, dn, len, rc || bad ? "FAIL" : "ok  ", len / ms / 1e6);
	CK(cudaEventDestroy(t0));
	CK(cudaEventDestroy(t1));
	CK(cudaFree(dpay));
	CK(cudaFree(ddst));
	free(src);
	free(pay);
	free(want);
	free(got);
}

static void merge_case(size_t n, int rot, FILE *res)
{
	uint16_t *v = malloc(n * 2), *got = malloc(n * 2);
	uint8_t *p = malloc(n * 2);
	void *dp, *dd;
	for (size_t i = 0; i < n; i++) {
		v[i] = (uint16_t)(lossy_case_unit() * 65536);
		uint16_t r = rot ? (uint16_t)(v[i] << 1 | v[i] >> 15) : v[i];
		p[i] = (uint8_t)r;
		p[n + i] = (uint8_t)(r >> 8);
	}
	CK(cudaMalloc(&dp, n * 2));
	CK(cudaMalloc(&dd, n * 2));
	CK(cudaMemcpy(dp, p, n * 2, cudaMemcpyHostToDevice));
	int rc = qvl_gpu_merge2(dp, (uint8_t *)dp + n, n, rot, dd, NULL);
	CK(cudaDeviceSynchronize());
	CK(cudaMemcpy(got, dd, n * 2, cudaMemcpyDeviceToHost));
	int bad = rc || memcmp(got, v, n * 2);
	if (bad) {
		fprintf(stderr, "FAIL merge2 n %zu rotate %d: rc %d\n", n, rot,
			rc);
		failures++;
	}
	cudaEvent_t t0, t1;
	CK(cudaEventCreate(&t0));
	CK(cudaEventCreate(&t1));
	CK(cudaEventRecord(t0, NULL));
	for (int k = 0; k < 10; k++)
		qvl_gpu_merge2(dp, (uint8_t *)dp + n, n, rot, dd, NULL);
	CK(cudaEventRecord(t1, NULL));
	CK(cudaEventSynchronize(t1));
	double ms = ms_between(t0, t1) / 10;
	fprintf(res, "merge2 rotate %d %9zu values  %s  %.1f GB/s of output\n",
		rot, n, bad ? "FAIL" : "ok  ", n * 2 / ms / 1e6);
	CK(cudaEventDestroy(t0));
	CK(cudaEventDestroy(t1));
	CK(cudaFree(dp));
	CK(cudaFree(dd));
	free(v);
	free(got);
	free(p);
}

int main(int argc, char **argv)
{
	int ndev = 0;
	struct cudaDeviceProp prop;
	FILE *res = argc > 1 ? fopen(argv[1], "w") : stdout;
	if (!res) {
		perror(argv[1]);
		return 1;
	}
	if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev < 1) {
		printf("skip: no usable GPU\n");
		return 77;
	}
	CK(cudaGetDeviceProperties(&prop, 0));
	fprintf(res, "device 0: %s, sm_%d%d, %.1f GiB\n", prop.name,
		prop.major, prop.minor, prop.totalGlobalMem / 1073741824.0);
	/* with sizes that leave bytes past the last value, and a short
	 * last block */
	static const size_t lens[] = { 1 << 20, (1 << 20) + 3, 4097, 2 };
	static const enum qvl_dtype dts[] = { QVL_DTYPE_BF16, QVL_DTYPE_F16,
					      QVL_DTYPE_F32 };
	for (unsigned c = 0; c < 2; c++)
		for (unsigned d = 0; d < 3; d++)
			for (unsigned l = 0; l < 4; l++)
				lossy_case(c ? QVL_CODEC_F8E4M3 : QVL_CODEC_Q8_0,
					   dts[d], lens[l], res);
	lossy_case(QVL_CODEC_Q8_0, QVL_DTYPE_BF16, 64 << 20, res);
	for (int rot = 0; rot < 2; rot++) {
		merge_case(1 << 19, rot, res);
		merge_case(333, rot, res);
	}
	merge_case(32 << 20, 1, res);
	fprintf(res, "%s\n", failures ? "FAILED" : "all byte-exact");
	if (res != stdout)
		fclose(res);
	return failures ? 1 : 0;
}

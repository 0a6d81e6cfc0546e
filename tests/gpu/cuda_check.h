/* cuda_check.h - the GPU tests' CK(call): a CUDA runtime call that must
 * succeed, or the test says where and why and exits 1. */
#ifndef QVL_CUDA_CHECK_H
#define QVL_CUDA_CHECK_H

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

#define CK(call)                                                            \
	do {                                                                \
		cudaError_t e_ = (call);                                    \
		if (e_ != cudaSuccess) {                                    \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__,        \
				__LINE__, #call, cudaGetErrorString(e_));  \
			exit(1);                                            \
		}                                                           \
	} while (0)

#endif /* QVL_CUDA_CHECK_H */

/*
 * tensor_read.c - open a tensor with libqvlmem and print what it says:
 *
 *   tensor_read PATH     ->  "DTYPE D0,D1,... SUM" (SUM for f32 only)
 *
 * Exits 1 with qvlmem_strerror() when qvlmem_open() fails.
 */
#include <stdio.h>

#include "qvlmem.h"

int main(int argc, char **argv)
{
	struct qvlmem_tensor *t;
	uint64_t dims[QVL_MAX_DIMS];
	double sum = 0;

	if (argc != 2)
		return 2;
	int rc = qvlmem_open(argv[1], QVLMEM_RDONLY, &t);
	if (rc) {
		fprintf(stderr, "qvlmem_open: %s\n", qvlmem_strerror(rc));
		return 1;
	}
	int nd = qvlmem_shape(t, dims, QVL_MAX_DIMS);
	printf("%s ", qvl_dtype_table[qvlmem_dtype(t)].name);
	for (int i = 0; i < nd; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)dims[i]);
	if (qvlmem_dtype(t) == QVL_DTYPE_F32) {
		const float *f = qvlmem_data(t);
		for (uint64_t i = 0; i < qvlmem_nelems(t); i++)
			sum += f[i];
	}
	printf(" %.1f\n", sum);
	qvlmem_close(t);
	return 0;
}

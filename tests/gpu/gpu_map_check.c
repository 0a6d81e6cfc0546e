/*
 * gpu_map_check.c - FILE's bytes on the GPU tier, read back through
 * libqvlmem_cuda in this (second) process: qvlmem_cuda_map(), a copy
 * from the device, compared with read(2) of the file.  Exit 0 equal, 1
 * different, 2 could not map.  For tests/gpu/mount_check.sh.
 */
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvlmem_cuda.h"

int main(int argc, char **argv)
{
	void *d;
	size_t n;
	if (argc != 2) {
		fprintf(stderr, "usage: gpu_map_check FILE\n");
		return 2;
	}
	int rc = qvlmem_cuda_map(argv[1], &d, &n);
	if (rc) {
		fprintf(stderr, "%s: map: %s\n", argv[1], strerror(-rc));
		return 2;
	}
	char *dev = malloc(n + 1), *file = malloc(n + 1);
	FILE *f = fopen(argv[1], "rb");
	size_t got = f ? fread(file, 1, n + 1, f) : 0;
	if (f)
		fclose(f);
	cudaError_t e = cudaMemcpy(dev, d, n, cudaMemcpyDeviceToHost);
	int same = e == cudaSuccess && got == n && !memcmp(dev, file, n);
	printf("%s: %zu bytes on the GPU %s\n", argv[1], n,
	       e != cudaSuccess ? cudaGetErrorString(e)
	       : same		? "equal the file"
				: "DIFFER from the file");
	qvlmem_cuda_unmap(d);
	return same ? 0 : 1;
}

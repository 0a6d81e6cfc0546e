/* gpu_stub.c - the GPU tier when built without CUDA: nothing is there. */
#include <errno.h>
#include <stddef.h>

#include "qvl_gpu.h"

int qvl_gpu_open(int dev, uint64_t budget, struct qvl_gpu **out)
{
	(void)dev;
	(void)budget;
	*out = NULL;
	return -ENODEV;
}

void qvl_gpu_close(struct qvl_gpu *gpu)
{
	(void)gpu;
}

int qvl_gpu_available(void)
{
	return 0;
}

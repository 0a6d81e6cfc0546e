/* gpu_nocuda.c - a build without CUDA has no device but the test one. */
#include <stddef.h>

#include "gpu_dev.h"

const struct qvl_gpu_dev *const qvl_gpu_dev_cuda = NULL;

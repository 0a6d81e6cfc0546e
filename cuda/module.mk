# cuda/: the GPU tier behind qvl_gpu.h.  The arena, its staging ring and
# the test device are plain C; the CUDA device (gpu_cuda.c, linked with the
# static runtime) and the kernels build when nvcc is found, so every build
# on a machine with nvcc compiles them.  Sanitizer builds leave CUDA out
# (gpu_nocuda.c): only the test device there.
#
#   CUDA=0         do not look for nvcc
#   CUDA_HOME=DIR  take DIR/bin/nvcc (else /usr/local/cuda, else PATH)
#   CUDA_ARCH="61 75 ..."  the sm_ architectures to build (default: those
#                  of 61 75 80 86 89 90 the nvcc found supports)
#   NVCC_CCBIN=clang-14    the host compiler nvcc uses (CUDA 11.8 needs it
#                  with Debian 12's gcc 12)
GPU_SRCS := cuda/gpu_arena.c cuda/gpu_fake.c cuda/buddy.c
GPU_LIBS :=

CUDA ?= auto
NVCC :=
ifneq ($(CUDA),0)
NVCC := $(firstword $(wildcard $(CUDA_HOME)/bin/nvcc) \
	$(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
endif

ifneq ($(NVCC),)
CUDA_WANT_ARCH := 61 75 80 86 89 90
CUDA_HAS_ARCH := $(patsubst compute_%,%,$(shell $(NVCC) --list-gpu-arch 2>/dev/null))
CUDA_ARCH ?= $(filter $(CUDA_HAS_ARCH),$(CUDA_WANT_ARCH))
CUDA_BIN := $(patsubst %/,%,$(dir $(NVCC)))
CUDA_ROOT := $(patsubst %/,%,$(dir $(CUDA_BIN)))
# device code for each architecture, and PTX of the newest for later GPUs
NVCC_FLAGS := -O2 -std=c++17 -Xcompiler -fPIC -Icodecs -Icuda \
	$(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) \
	$(foreach a,$(lastword $(CUDA_ARCH)),-gencode arch=compute_$(a),code=compute_$(a)) \
	$(if $(NVCC_CCBIN),-ccbin $(NVCC_CCBIN))

$(BUILD)/cuda/%.o: cuda/%.cu
	@mkdir -p $(dir $@)
	$(if $(CUDA_ARCH),,$(error nvcc $(NVCC) supports none of $(CUDA_WANT_ARCH): set CUDA_ARCH= or CUDA=0))
	$(NVCC) $(NVCC_FLAGS) -MMD -MP -c $< -o $@

GPU_OBJS += $(BUILD)/cuda/kernels.o

# The CUDA device (the daemon links CUDA's static runtime) and the GPU's
# own tests (tests/gpu/run runs them; they need a device); not in
# sanitizer builds, whose libraries nvcc's link does not know how to take.
ifneq ($(SAN),1)
GPU_SRCS += cuda/gpu_cuda.c
GPU_LIBS := -L$(CUDA_ROOT)/lib64 -lcudart_static -ldl -lrt
$(BUILD)/cuda/gpu_cuda.o: cuda/gpu_cuda.c
	@mkdir -p $(dir $@)
	$(CC) $(QVL_CFLAGS) $(CFLAGS) -I$(CUDA_ROOT)/include -MMD -MP -c $< -o $@

$(BUILD)/tests/gpu/test_gpu_kernels.o: tests/gpu/test_gpu_kernels.c
	@mkdir -p $(dir $@)
	$(CC) $(QVL_CFLAGS) $(CFLAGS) -I$(CUDA_ROOT)/include -c $< -o $@

$(BUILD)/tests/gpu_kernels: $(BUILD)/tests/gpu/test_gpu_kernels.o $(BUILD)/cuda/kernels.o $(BUILD)/libqvlcodec.a
	@mkdir -p $(dir $@)
	$(NVCC) $(if $(NVCC_CCBIN),-ccbin $(NVCC_CCBIN)) -o $@ $^ $(CODEC_LIBS)

TEST_BINS += $(BUILD)/tests/gpu_kernels

# The arena over CUDA itself: ring, IPC, bandwidths (tests/gpu/run).
$(BUILD)/tests/gpu/test_gpu_tier.o: tests/gpu/test_gpu_tier.c
	@mkdir -p $(dir $@)
	$(CC) $(QVL_CFLAGS) $(CFLAGS) -I$(CUDA_ROOT)/include -c $< -o $@

$(BUILD)/tests/gpu_tier: $(BUILD)/tests/gpu/test_gpu_tier.o $(BUILD)/libqvlgpu.a $(BUILD)/libqvlcodec.a
	@mkdir -p $(dir $@)
	$(NVCC) $(if $(NVCC_CCBIN),-ccbin $(NVCC_CCBIN)) -o $@ $^ $(CODEC_LIBS)

TEST_BINS += $(BUILD)/tests/gpu_tier

# A second process reading a mount's GPU copy (tests/gpu/mount_check.sh):
# the shared runtime, the one libqvlmem_cuda opens.
$(BUILD)/tests/gpu/gpu_map_check.o: tests/gpu/gpu_map_check.c
	@mkdir -p $(dir $@)
	$(CC) $(QVL_CFLAGS) $(CFLAGS) -I$(CUDA_ROOT)/include -c $< -o $@

$(BUILD)/tests/gpu_map_check: $(BUILD)/tests/gpu/gpu_map_check.o $(BUILD)/client/qvlmem_cuda.o
	@mkdir -p $(dir $@)
	$(NVCC) $(if $(NVCC_CCBIN),-ccbin $(NVCC_CCBIN)) -cudart shared -o $@ $^ -ldl

TEST_BINS += $(BUILD)/tests/gpu_map_check
endif
endif

ifeq ($(filter cuda/gpu_cuda.c,$(GPU_SRCS)),)
GPU_SRCS += cuda/gpu_nocuda.c
endif
GPU_OBJS += $(GPU_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/libqvlgpu.a: $(GPU_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

LIBS_BUILT += $(BUILD)/libqvlgpu.a

gpu-info:
	@echo "nvcc: $(or $(NVCC),none (the GPU kernels are not built))"
	@echo "CUDA_ARCH: $(CUDA_ARCH)"
	@echo "GPU device: $(if $(GPU_LIBS),CUDA runtime ($(CUDA_ROOT)),none (test device only))"

.PHONY: gpu-info

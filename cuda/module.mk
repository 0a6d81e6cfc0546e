# cuda/: the GPU tier behind qvl_gpu.h.  Without CUDA only the stub builds.
GPU_SRCS := cuda/gpu_stub.c cuda/buddy.c
GPU_OBJS := $(GPU_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/libqvlgpu.a: $(GPU_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

LIBS_BUILT += $(BUILD)/libqvlgpu.a

# fs/: the FUSE daemon.  Everything but main.c goes into libqvlfs.a so unit
# tests can reach the parsers and the namespace without mounting.
FS_SRCS := $(filter-out fs/main.c,$(wildcard fs/*.c))
FS_OBJS := $(FS_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/libqvlfs.a: $(FS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/qvlmemfs: $(BUILD)/fs/main.o $(BUILD)/libqvlfs.a $(BUILD)/libqvltier.a \
		$(BUILD)/libqvlgpu.a $(BUILD)/libqvlremote.a $(BUILD)/libqvlcodec.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(TIER_LIBS) $(REMOTE_LIBS) $(CODEC_LIBS) $(GPU_LIBS)

BINS += $(BUILD)/qvlmemfs
LIBS_BUILT += $(BUILD)/libqvlfs.a

# codecs/: chunk codecs and checksums (leaf module: no I/O, no threads).
CODEC_SRCS := $(wildcard codecs/*.c)
CODEC_OBJS := $(CODEC_SRCS:%.c=$(BUILD)/%.o)
CODEC_LIBS := -lzstd -lxxhash -lhtscodecs -lm

$(BUILD)/libqvlcodec.a: $(CODEC_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

LIBS_BUILT += $(BUILD)/libqvlcodec.a

# client/: libqvlmem (shared + static + pkg-config), qvlctl, examples.
# libqvlmem depends only on qvl_abi.h; qvlctl may also use codecs/ (estimate).
QVLMEM_SRCS := client/qvlmem.c
QVLMEM_OBJS := $(QVLMEM_SRCS:%.c=$(BUILD)/%.o)
QVLCTL_SRCS := $(wildcard client/qvlctl*.c)
QVLCTL_OBJS := $(QVLCTL_SRCS:%.c=$(BUILD)/%.o)
EXAMPLE_SRCS := $(wildcard client/examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:client/examples/%.c=$(BUILD)/examples/%)

$(BUILD)/libqvlmem.a: $(QVLMEM_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libqvlmem.so: $(QVLMEM_OBJS)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libqvlmem.so.0 -o $@ $^

$(BUILD)/qvlmem.pc: client/qvlmem.pc.in
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@PREFIX@|$(PREFIX)|' $< > $@

$(BUILD)/qvlctl: $(QVLCTL_OBJS) $(BUILD)/libqvlmem.a $(BUILD)/libqvlcodec.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CODEC_LIBS) -lm

$(BUILD)/examples/%: $(BUILD)/client/examples/%.o $(BUILD)/libqvlmem.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

PREFIX ?= /usr/local
BINS += $(BUILD)/qvlctl $(EXAMPLE_BINS)
LIBS_BUILT += $(BUILD)/libqvlmem.a $(BUILD)/libqvlmem.so $(BUILD)/qvlmem.pc

# client/: libqvlmem (shared + static + pkg-config), qvlctl, examples.
# libqvlmem depends only on qvl_abi.h and libc; qvlctl may also use codecs/
# (estimate).  The shared library exports only what qvlmem.h marks QVLMEM_API.
QVLMEM_SRCS := client/qvlmem.c client/qvlmem_hints.c client/qvlmem_stats.c
QVLMEM_OBJS := $(QVLMEM_SRCS:%.c=$(BUILD)/%.o)
# model_*.c read safetensors and GGUF headers for import/export; the
# fuzzers in tests/fuzz build them on their own.
MODEL_SRCS := $(wildcard client/model_*.c)
QVLCTL_SRCS := $(wildcard client/qvlctl*.c) $(MODEL_SRCS)
QVLCTL_OBJS := $(QVLCTL_SRCS:%.c=$(BUILD)/%.o)
EXAMPLE_SRCS := $(wildcard client/examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:client/examples/%.c=$(BUILD)/examples/%)

$(QVLMEM_OBJS): QVL_CFLAGS += -fvisibility=hidden

# qvlctl dispatches `estimate` to qvlctl_estimate.c when that exists; rebuild
# qvlctl.o when it appears, and keep the call out while only the header does.
QVLCTL_ESTIMATE := $(wildcard client/qvlctl_estimate.h client/qvlctl_estimate.c)
$(BUILD)/client/qvlctl.o: $(QVLCTL_ESTIMATE)
ifeq ($(wildcard client/qvlctl_estimate.c),)
$(BUILD)/client/qvlctl.o: QVL_CFLAGS += -DQVLCTL_NO_ESTIMATE
endif

$(BUILD)/libqvlmem.a: $(QVLMEM_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libqvlmem.so: $(QVLMEM_OBJS)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libqvlmem.so.0 -Wl,--no-undefined \
		-o $@ $^
	ln -sf libqvlmem.so $(BUILD)/libqvlmem.so.0

$(BUILD)/qvlmem.pc: client/qvlmem.pc.in
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@PREFIX@|$(PREFIX)|' $< > $@

$(BUILD)/qvlctl: $(QVLCTL_OBJS) $(BUILD)/libqvlmem.a $(BUILD)/libqvlcodec.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CODEC_LIBS) -lm

$(BUILD)/examples/%: $(BUILD)/client/examples/%.o $(BUILD)/libqvlmem.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# The client's unit test links libqvlmem alone: that is the dependency rule
# (no daemon code) checked by the linker, and it builds while the daemon's
# modules are in progress.
$(BUILD)/tests/test_client: $(BUILD)/tests/unit/test_client.o $(BUILD)/libqvlmem.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

PREFIX ?= /usr/local
DESTDIR ?=

# The .pc is written here, not copied: $(BUILD)/qvlmem.pc may hold another PREFIX.
install-client: $(BUILD)/libqvlmem.a $(BUILD)/libqvlmem.so $(BUILD)/qvlctl
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/libqvlmem.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libqvlmem.so $(DESTDIR)$(PREFIX)/lib/libqvlmem.so.$(VERSION)
	ln -sf libqvlmem.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libqvlmem.so.0
	ln -sf libqvlmem.so.0 $(DESTDIR)$(PREFIX)/lib/libqvlmem.so
	install -m 644 client/qvlmem.h client/qvl_abi.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@PREFIX@|$(PREFIX)|' \
		client/qvlmem.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/qvlmem.pc
	install -m 755 $(BUILD)/qvlctl $(DESTDIR)$(PREFIX)/bin/

.PHONY: install-client

BINS += $(BUILD)/qvlctl $(EXAMPLE_BINS)
LIBS_BUILT += $(BUILD)/libqvlmem.a $(BUILD)/libqvlmem.so $(BUILD)/qvlmem.pc

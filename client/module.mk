# client/: libqvlmem (shared + static + pkg-config), qvlctl, examples.
# libqvlmem depends only on qvl_abi.h and libc; qvlctl may also use codecs/
# (estimate) and remote/ (push, pull, ls-remote).  The shared library
# exports only what qvlmem.h marks QVLMEM_API.
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

# libqvlmem_cuda: device pointers to files on the GPU tier.  No CUDA at
# build time: it opens libcudart with dlopen() when first asked.
$(BUILD)/client/qvlmem_cuda.o: QVL_CFLAGS += -fvisibility=hidden

$(BUILD)/libqvlmem_cuda.so: $(BUILD)/client/qvlmem_cuda.o
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libqvlmem_cuda.so.0 \
		-Wl,--no-undefined -o $@ $^ -ldl -pthread
	ln -sf libqvlmem_cuda.so $(BUILD)/libqvlmem_cuda.so.0

$(BUILD)/qvlmem.pc: client/qvlmem.pc.in
	$(QVLMEM_PC_SED) $< > $@

$(BUILD)/qvlctl: $(QVLCTL_OBJS) $(BUILD)/libqvlmem.a $(BUILD)/libqvlremote.a \
		$(BUILD)/libqvlcodec.a
	$(CC) $(LDFLAGS) -o $@ $^ $(REMOTE_LIBS) $(CODEC_LIBS) -lm

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
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# Debian's python3 looks here for PREFIX=/usr; for any other PREFIX add it
# to PYTHONPATH or give PYTHONDIR (README, "Install").
PYTHONDIR ?= $(PREFIX)/lib/python3/dist-packages

# Programs built with `pkg-config --libs qvlmem` find libqvlmem.so.0 at run
# time without LD_LIBRARY_PATH: the .pc carries an rpath to its libdir,
# except for /usr, whose lib is where the loader looks anyway.
QVLMEM_RPATH = $(if $(filter /usr /usr/,$(PREFIX)),,-Wl,-rpath,$${libdir} )
QVLMEM_PC_SED = sed -e 's|@VERSION@|$(VERSION)|' -e 's|@PREFIX@|$(PREFIX)|' \
	-e 's|@RPATH@|$(QVLMEM_RPATH)|'

# qvlctl links libqvlmem statically, so neither it nor the daemon needs
# the shared library at run time.  The .pc is written here, not copied:
# $(BUILD)/qvlmem.pc may hold another PREFIX.  ldconfig runs for a real
# install (no DESTDIR) into a libdir the loader searches, so the soname
# link and the cache agree at once.
install-client: $(BUILD)/libqvlmem.a $(BUILD)/libqvlmem.so $(BUILD)/libqvlmem_cuda.so $(BUILD)/qvlctl
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(BINDIR)
	install -m 644 $(BUILD)/libqvlmem.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libqvlmem.so $(DESTDIR)$(PREFIX)/lib/libqvlmem.so.$(VERSION)
	ln -sf libqvlmem.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libqvlmem.so.0
	ln -sf libqvlmem.so.0 $(DESTDIR)$(PREFIX)/lib/libqvlmem.so
	install -m 755 $(BUILD)/libqvlmem_cuda.so $(DESTDIR)$(PREFIX)/lib/libqvlmem_cuda.so.$(VERSION)
	ln -sf libqvlmem_cuda.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libqvlmem_cuda.so.0
	ln -sf libqvlmem_cuda.so.0 $(DESTDIR)$(PREFIX)/lib/libqvlmem_cuda.so
	install -m 644 client/qvlmem.h client/qvl_abi.h client/qvlmem_cuda.h $(DESTDIR)$(PREFIX)/include/
	$(QVLMEM_PC_SED) client/qvlmem.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/qvlmem.pc
	install -m 755 $(BUILD)/qvlctl $(DESTDIR)$(BINDIR)/
	@if [ -z "$(DESTDIR)" ] && [ -w /etc/ld.so.cache ] && \
	    { [ "$(PREFIX)" = /usr ] || cat /etc/ld.so.conf \
	      /etc/ld.so.conf.d/*.conf 2>/dev/null | grep -qx '$(PREFIX)/lib'; }; then \
		echo ldconfig; ldconfig; fi

# make install PREFIX=/usr/local [DESTDIR=/tmp/pkg]: the whole program as a
# system package lays it out.  The daemon goes to bin/, not sbin/: users
# mount their own stores (fusermount3), and mount.fuse3 finds it on the
# default PATH either way.  The systemd unit (docs/qvlmemfs.service) is an
# example, not installed.
install: install-client $(BUILD)/qvlmemfs
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(PYTHONDIR)
	install -m 755 $(BUILD)/qvlmemfs $(DESTDIR)$(BINDIR)/
	install -m 644 docs/man/qvlctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 docs/man/libqvlmem.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 docs/man/qvlmemfs.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 client/python/qvlmem.py $(DESTDIR)$(PYTHONDIR)/

.PHONY: install install-client

BINS += $(BUILD)/qvlctl $(EXAMPLE_BINS)
LIBS_BUILT += $(BUILD)/libqvlmem.a $(BUILD)/libqvlmem.so $(BUILD)/qvlmem.pc \
	$(BUILD)/libqvlmem_cuda.so

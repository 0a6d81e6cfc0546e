# tests/fuzz/catalog.mk: the damaged-catalog fuzzer, which mounts a store
# in-process, so it links the daemon's modules (all but fs/main.c), built
# here with clang and the sanitizers.  tests/once/catalog_fuzz.sh runs it.
FUZZ_DAEMON_SRCS := $(filter-out fs/main.c,$(wildcard fs/*.c)) \
	$(wildcard tiers/*.c) $(wildcard codecs/*.c) $(wildcard remote/*.c) \
	cuda/gpu_arena.c cuda/gpu_fake.c cuda/gpu_nocuda.c cuda/buddy.c

build/fuzz/fuzz_catalog: tests/fuzz/fuzz_catalog.c $(FUZZ_DAEMON_SRCS) \
		$(wildcard fs/*.h tiers/*.h codecs/*.h cuda/*.h client/*.h remote/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -pthread -DFUSE_USE_VERSION=314 -Ifs -Itiers \
		-Icuda -Iremote -DQVL_VERSION=\"$(VERSION)\" $(PKG_CFLAGS) -o $@ \
		tests/fuzz/fuzz_catalog.c \
		$(FUZZ_DAEMON_SRCS) $(PKG_LIBS) $(TIER_LIBS) $(REMOTE_LIBS) \
		$(CODEC_LIBS)

fuzz-build: build/fuzz/fuzz_catalog

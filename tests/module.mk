# tests/: one program per area in tests/unit/test_*.c, each linked with every
# library of the tree.  Integration tests are shell scripts run by tests/run.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
ALL_QVL_LIBS := $(BUILD)/libqvlfs.a $(BUILD)/libqvltier.a $(BUILD)/libqvlgpu.a \
	$(BUILD)/libqvlremote.a $(BUILD)/libqvlcodec.a $(BUILD)/libqvlmem.a

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(ALL_QVL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(REMOTE_LIBS) $(CODEC_LIBS) $(TIER_LIBS) $(GPU_LIBS)

TEST_BINS += $(UNIT_BINS)

# Benchmarks and fuzzers have their own fragments (optional).
-include tests/bench/bench.mk
-include tests/fuzz/fuzz.mk
-include tests/fuzz/catalog.mk

# Tools the integration tests run that link the daemon's modules.
$(BUILD)/tests/crash_check: $(BUILD)/tests/tools/crash_check.o $(ALL_QVL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(REMOTE_LIBS) $(CODEC_LIBS) $(TIER_LIBS) $(GPU_LIBS)

TEST_BINS += $(BUILD)/tests/crash_check

# tests/bench/: the codec benchmark (not part of the test suite) and the
# synthetic tensor generator the demo can reuse.
#   make bench-codec               build and run it (prints a markdown table)
#   make build/rel/bench/codec_bench
$(BUILD)/bench/codec_bench: $(BUILD)/tests/bench/codec_bench.o $(BUILD)/libqvlcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lblosc $(CODEC_LIBS)

$(BUILD)/bench/gen_tensors: $(BUILD)/tests/bench/gen_tensors_main.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lm

bench-codec: $(BUILD)/bench/codec_bench
	$(BUILD)/bench/codec_bench $(BENCH_ARGS)

.PHONY: bench-codec

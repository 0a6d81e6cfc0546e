# tests/fuzz/: libFuzzer targets, built with clang into build/fuzz.
#   make fuzz-build      build/fuzz/fuzz_codec_decode
#   make fuzz-build      build/fuzz/fuzz_safetensors, build/fuzz/fuzz_gguf,
#                        build/fuzz/fuzz_manifest
# tests/once/codec_fuzz.sh builds and runs the first for 30 s,
# tests/once/import_fuzz.sh the model-header parsers for 10 seconds each.
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -std=c17 -D_GNU_SOURCE -Iclient -Icodecs

build/fuzz/fuzz_codec_decode: tests/fuzz/fuzz_codec_decode.c $(CODEC_SRCS) \
		$(wildcard codecs/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_codec_decode.c \
		$(CODEC_SRCS) $(CODEC_LIBS)

# The model-header parsers and the header writer, without qvlctl's main.
FUZZ_MODEL_SRCS := $(wildcard client/model_*.c) client/qvlctl_model.c \
	client/qvlctl_progress.c

build/fuzz/fuzz_safetensors build/fuzz/fuzz_gguf: build/fuzz/%: \
		tests/fuzz/%.c $(FUZZ_MODEL_SRCS) $(wildcard client/model*.h) \
		client/qvlctl_model.h client/qvl_abi.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_MODEL_SRCS)

# The snapshot manifest decoder (remote/manifest.c, qvl_rkey_* beside it).
build/fuzz/fuzz_manifest: tests/fuzz/fuzz_manifest.c remote/manifest.c \
		remote/remote.c remote/remote_conn.c remote/remote_cluster.c \
		$(wildcard remote/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iremote -o $@ tests/fuzz/fuzz_manifest.c \
		$(wildcard remote/*.c) -lhiredis -lxxhash

fuzz-build: build/fuzz/fuzz_codec_decode build/fuzz/fuzz_safetensors \
	build/fuzz/fuzz_gguf build/fuzz/fuzz_manifest

.PHONY: fuzz-build

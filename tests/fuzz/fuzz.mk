# tests/fuzz/: libFuzzer targets, built with clang into build/fuzz.
#   make fuzz-build      build/fuzz/fuzz_codec_decode
# tests/once/codec_fuzz.sh builds and runs it for a minute.
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -std=c17 -D_GNU_SOURCE -Iclient -Icodecs

build/fuzz/fuzz_codec_decode: tests/fuzz/fuzz_codec_decode.c $(CODEC_SRCS) \
		$(wildcard codecs/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_codec_decode.c \
		$(CODEC_SRCS) $(CODEC_LIBS)

fuzz-build: build/fuzz/fuzz_codec_decode

.PHONY: fuzz-build

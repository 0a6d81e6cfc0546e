# qvlmemfs - top-level build.
#
#   make            daemon, libqvlmem (shared+static, header, .pc), qvlctl, tests
#   make test       installs missing build deps, builds normal + ASan/UBSan,
#                   runs the whole suite under both
#   make demo       installs missing deps, builds, mounts, runs the demo
#   make SAN=1      sanitizer build into build/san
#   make install PREFIX=/usr/local [DESTDIR=...]
#                   daemon, qvlctl, libqvlmem, headers, .pc, qvlmem.py, man
#                   pages (client/module.mk; README "Install")
#
# Each module lists its sources in its own module.mk; this file holds the
# flags and the rules they share.

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
else
BUILD ?= build/rel
endif

CC ?= cc
PKGS := fuse3 libzstd liburing libxxhash
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Werror
CFLAGS ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
QVL_CFLAGS := -std=c17 $(WARN) -D_GNU_SOURCE -DFUSE_USE_VERSION=314 -fPIC \
	-pthread -Iclient -Icodecs -Itiers -Icuda -Ifs -Iremote -Itests $(PKG_CFLAGS)
LIBS := $(PKG_LIBS) -pthread -lm

VERSION := 0.3.0
QVL_CFLAGS += -DQVL_VERSION=\"$(VERSION)\"

# Filled in by the modules.
BINS :=
LIBS_BUILT :=
TEST_BINS :=

include codecs/module.mk
include remote/module.mk
include cuda/module.mk
include tiers/module.mk
include fs/module.mk
include client/module.mk
include tests/module.mk

all: $(BINS) $(LIBS_BUILT) $(TEST_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(QVL_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

deps:
	@sh .ci/deps

test: deps
	$(MAKE) all
	$(MAKE) SAN=1 all
	tests/run build/rel build/san

demo: deps
	$(MAKE) all
	client/examples/demo.sh build/rel

clean:
	rm -rf build

.PHONY: all deps test demo clean
.DEFAULT_GOAL := all

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

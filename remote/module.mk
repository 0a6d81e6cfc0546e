# remote/: the remote tier's engine (Redis, through hiredis) and the
# snapshot manifest.  No FUSE, no tier state: the daemon fetches frames
# with it (tiers/), qvlctl pushes and pulls with it (client/).
REMOTE_SRCS := $(wildcard remote/*.c)
REMOTE_OBJS := $(REMOTE_SRCS:%.c=$(BUILD)/%.o)
REMOTE_LIBS := -lhiredis

$(BUILD)/libqvlremote.a: $(REMOTE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

LIBS_BUILT += $(BUILD)/libqvlremote.a

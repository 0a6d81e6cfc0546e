# tiers/: pools, chunk maps (blobs), budgets.
TIER_SRCS := $(wildcard tiers/*.c)
TIER_OBJS := $(TIER_SRCS:%.c=$(BUILD)/%.o)
# The catalog (catalog*.c) is SQLite: whatever links libqvltier.a adds these.
TIER_LIBS := -lsqlite3

$(BUILD)/libqvltier.a: $(TIER_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

LIBS_BUILT += $(BUILD)/libqvltier.a

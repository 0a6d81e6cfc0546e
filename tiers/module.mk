# tiers/: pools, chunk maps (blobs), budgets.
TIER_SRCS := $(wildcard tiers/*.c)
TIER_OBJS := $(TIER_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/libqvltier.a: $(TIER_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

LIBS_BUILT += $(BUILD)/libqvltier.a

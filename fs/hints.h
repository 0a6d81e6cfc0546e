/*
 * hints.h - the user.qvl.* values: parsing, validation and formatting.
 *
 * Pure functions over byte strings: no FUSE, no locks, no allocation, so the
 * xattr contract can be unit-tested on its own.  A value may end in one NUL
 * (some clients send C strings); anything else that does not match the
 * grammar is -EINVAL.
 */
#ifndef QVL_HINTS_H
#define QVL_HINTS_H

#include <stddef.h>
#include <stdint.h>

#include "qvl_abi.h"

enum qvl_pin { QVL_PIN_NONE = 0, QVL_PIN_RAM, QVL_PIN_GPU };
enum qvl_lifetime { QVL_LIFE_PERSISTENT = 0, QVL_LIFE_SESSION, QVL_LIFE_VOLATILE };
enum qvl_advice { QVL_ADV_NORMAL = 0, QVL_ADV_WILLNEED, QVL_ADV_DONTNEED,
		  QVL_ADV_SEQUENTIAL, QVL_ADV_RANDOM };
enum qvl_tier_id { QVL_TIER_GPU = 0, QVL_TIER_RAM, QVL_TIER_NVME };
enum qvl_codec_pol { QVL_CPOL_AUTO = 0, QVL_CPOL_NONE, QVL_CPOL_ZSTD,
		     QVL_CPOL_SHUFFLE_ZSTD, QVL_CPOL_Q8_0, QVL_CPOL_F8E4M3 };

/* Which fields of struct qvl_hints were set explicitly (and so are passed
 * on to what is created in a directory). */
enum {
	QVL_HSET_DTYPE = 1 << 0,
	QVL_HSET_SHAPE = 1 << 1,
	QVL_HSET_PIN = 1 << 2,
	QVL_HSET_LIFETIME = 1 << 3,
	QVL_HSET_TTL = 1 << 4,
	QVL_HSET_PRIORITY = 1 << 5,
	QVL_HSET_CODEC = 1 << 6,
	QVL_HSET_ACCESS = 1 << 7,
};
#define QVL_HSET_INHERITED                                                   \
	(QVL_HSET_DTYPE | QVL_HSET_PIN | QVL_HSET_LIFETIME | QVL_HSET_TTL |  \
	 QVL_HSET_PRIORITY | QVL_HSET_CODEC | QVL_HSET_ACCESS)

struct qvl_hints {
	uint32_t set; /* QVL_HSET_* */
	enum qvl_dtype dtype;
	uint8_t ndims;
	uint64_t dims[QVL_MAX_DIMS];
	enum qvl_pin pin;
	enum qvl_lifetime lifetime;
	uint64_t ttl; /* seconds, 0 = never */
	uint8_t priority;
	enum qvl_codec_pol codec;
	enum qvl_advice access; /* sequential / random / normal */
};

/* qvl_hints_init() - defaults: nothing set, priority QVL_PRIORITY_DEFAULT. */
void qvl_hints_init(struct qvl_hints *h);

/* qvl_hints_inherit() - @child takes @dir's explicitly set inheritable hints. */
void qvl_hints_inherit(struct qvl_hints *child, const struct qvl_hints *dir);

/* Each parser returns 0 and sets *out, or -EINVAL. */
int qvl_parse_dtype(const char *v, size_t len, enum qvl_dtype *out);
int qvl_parse_shape(const char *v, size_t len, uint64_t dims[QVL_MAX_DIMS],
		    uint8_t *ndims);
int qvl_parse_pin(const char *v, size_t len, enum qvl_pin *out);
int qvl_parse_lifetime(const char *v, size_t len, enum qvl_lifetime *out);
int qvl_parse_ttl(const char *v, size_t len, uint64_t *out);
int qvl_parse_priority(const char *v, size_t len, uint8_t *out);
int qvl_parse_advice(const char *v, size_t len, enum qvl_advice *out);
int qvl_parse_tier(const char *v, size_t len, enum qvl_tier_id *out);
int qvl_parse_codec(const char *v, size_t len, enum qvl_codec_pol *out);

/*
 * qvl_parse_size() - "123", "4k", "2M", "1.5G", "10%" (of @pct_base).
 * Suffixes are binary (k = 1024) and case-insensitive; an optional "iB"/"B"
 * follows.  Returns 0 and sets *out, or -EINVAL (also on overflow).
 */
int qvl_parse_size(const char *s, uint64_t pct_base, uint64_t *out);

/*
 * qvl_shape_bytes() - bytes a tensor of @dtype and the given dims occupies.
 * Returns 0 and sets *out; -EINVAL when the element count is not a whole
 * number of the dtype's blocks or overflows.
 */
int qvl_shape_bytes(enum qvl_dtype dtype, const uint64_t *dims, uint8_t ndims,
		    uint64_t *out);

/* Bytes of the packed form (qvl_hints_pack). */
#define QVL_HINTS_PACKED (1 + 4 + 2 + 8 * QVL_MAX_DIMS + 2 + 8 + 3)

/* qvl_hints_pack() - @h in a fixed, versioned byte form for the catalog;
 * @buf holds QVL_HINTS_PACKED bytes.  Returns the length written. */
size_t qvl_hints_pack(const struct qvl_hints *h, uint8_t *buf);

/* qvl_hints_unpack() - the reverse; -EINVAL for a malformed form. */
int qvl_hints_unpack(const uint8_t *buf, size_t len, struct qvl_hints *h);

/* Formatters write a NUL-terminated value and return its length (without
 * the NUL), truncating like snprintf. */
int qvl_format_shape(const uint64_t *dims, uint8_t ndims, char *buf, size_t cap);
const char *qvl_pin_name(enum qvl_pin p);
const char *qvl_lifetime_name(enum qvl_lifetime l);
const char *qvl_codec_name(enum qvl_codec_pol c);
const char *qvl_advice_name(enum qvl_advice a);
const char *qvl_tier_name(enum qvl_tier_id t);

#endif /* QVL_HINTS_H */

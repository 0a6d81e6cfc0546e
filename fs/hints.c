/* hints.c - parse, validate and format the user.qvl.* values. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hints.h"

void qvl_hints_init(struct qvl_hints *h)
{
	memset(h, 0, sizeof(*h));
	h->priority = QVL_PRIORITY_DEFAULT;
}

void qvl_hints_inherit(struct qvl_hints *child, const struct qvl_hints *dir)
{
	uint32_t s = dir->set & QVL_HSET_INHERITED;
	if (s & QVL_HSET_DTYPE)
		child->dtype = dir->dtype;
	if (s & QVL_HSET_PIN)
		child->pin = dir->pin;
	if (s & QVL_HSET_LIFETIME)
		child->lifetime = dir->lifetime;
	if (s & QVL_HSET_TTL)
		child->ttl = dir->ttl;
	if (s & QVL_HSET_PRIORITY)
		child->priority = dir->priority;
	if (s & QVL_HSET_CODEC)
		child->codec = dir->codec;
	if (s & QVL_HSET_ACCESS)
		child->access = dir->access;
	child->set |= s;
}

/* Drop one trailing NUL, the only slack the grammar allows. */
static size_t trim(const char *v, size_t len)
{
	return len && v[len - 1] == '\0' ? len - 1 : len;
}

/* Index of the word @v equals in the NULL-terminated @words, or -EINVAL. */
static int pick(const char *v, size_t len, const char *const *words)
{
	len = trim(v, len);
	for (int i = 0; words[i]; i++)
		if (strlen(words[i]) == len && memcmp(words[i], v, len) == 0)
			return i;
	return -EINVAL;
}

/* Decimal digits only, no sign, no spaces, no overflow. */
static int parse_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t x = 0;
	if (!len || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(v[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

int qvl_parse_dtype(const char *v, size_t len, enum qvl_dtype *out)
{
	enum qvl_dtype d = qvl_dtype_from_name(v, trim(v, len));
	if (d == QVL_DTYPE_NONE)
		return -EINVAL;
	*out = d;
	return 0;
}

int qvl_parse_shape(const char *v, size_t len, uint64_t dims[QVL_MAX_DIMS],
		    uint8_t *ndims)
{
	len = trim(v, len);
	uint8_t n = 0;
	size_t start = 0;
	if (len == 0) { /* a scalar */
		*ndims = 0;
		return 0;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && v[i] != ',')
			continue;
		if (n == QVL_MAX_DIMS)
			return -EINVAL;
		if (parse_u64(v + start, i - start, &dims[n]))
			return -EINVAL;
		n++;
		start = i + 1;
	}
	*ndims = n;
	return 0;
}

static const char *const pin_words[] = { "none", "ram", "gpu", NULL };
static const char *const life_words[] = { "persistent", "session", "volatile",
					  NULL };
static const char *const adv_words[] = { "normal", "willneed", "dontneed",
					 "sequential", "random", NULL };
static const char *const tier_words[] = { "gpu", "ram", "nvme", NULL };
static const char *const codec_words[] = { "auto", "none", "zstd",
					   "shuffle-zstd", "q8_0", "f8e4m3",
					   NULL };

int qvl_parse_pin(const char *v, size_t len, enum qvl_pin *out)
{
	int i = pick(v, len, pin_words);
	if (i < 0)
		return i;
	*out = (enum qvl_pin)i;
	return 0;
}

int qvl_parse_lifetime(const char *v, size_t len, enum qvl_lifetime *out)
{
	int i = pick(v, len, life_words);
	if (i < 0)
		return i;
	*out = (enum qvl_lifetime)i;
	return 0;
}

int qvl_parse_advice(const char *v, size_t len, enum qvl_advice *out)
{
	int i = pick(v, len, adv_words);
	if (i <= 0) /* "normal" is a state, not something to ask for */
		return -EINVAL;
	*out = (enum qvl_advice)i;
	return 0;
}

int qvl_parse_tier(const char *v, size_t len, enum qvl_tier_id *out)
{
	int i = pick(v, len, tier_words);
	if (i < 0)
		return i;
	*out = (enum qvl_tier_id)i;
	return 0;
}

int qvl_parse_codec(const char *v, size_t len, enum qvl_codec_pol *out)
{
	int i = pick(v, len, codec_words);
	if (i < 0)
		return i;
	*out = (enum qvl_codec_pol)i;
	return 0;
}

/* A TTL past a century is a typo, not a plan. */
#define QVL_TTL_MAX (100ULL * 365 * 24 * 3600)

int qvl_parse_ttl(const char *v, size_t len, uint64_t *out)
{
	uint64_t t;
	if (parse_u64(v, trim(v, len), &t) || t > QVL_TTL_MAX)
		return -EINVAL;
	*out = t;
	return 0;
}

int qvl_parse_priority(const char *v, size_t len, uint8_t *out)
{
	uint64_t p;
	if (parse_u64(v, trim(v, len), &p) || p > QVL_PRIORITY_MAX)
		return -EINVAL;
	*out = (uint8_t)p;
	return 0;
}

int qvl_parse_size(const char *s, uint64_t pct_base, uint64_t *out)
{
	size_t i = 0, n = strlen(s);
	uint64_t whole = 0, frac = 0, fscale = 1;
	int digits = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		whole = whole * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
			if (fscale < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(s[i] - '0');
				fscale *= 10;
			}
		}
	}
	if (!digits)
		return -EINVAL;
	const char *suf = s + i;
	if (strcmp(suf, "%") == 0) {
		if (whole > 100 || (whole == 100 && frac))
			return -EINVAL;
		unsigned __int128 v = (unsigned __int128)pct_base *
				      (whole * fscale + frac) / (100 * fscale);
		*out = (uint64_t)v;
		return 0;
	}
	unsigned shift = 0;
	if (*suf) {
		static const char units[] = "kmgt";
		const char *u = strchr(units, *suf | 0x20);
		if (u) {
			shift = 10 * (unsigned)(u - units + 1);
			suf++;
		}
		if (*suf && strcasecmp(suf, "b") &&
		    (!shift || strcasecmp(suf, "ib")))
			return -EINVAL;
	}
	unsigned __int128 v = ((unsigned __int128)whole << shift) +
			      (((unsigned __int128)frac << shift) / fscale);
	if (v > UINT64_MAX)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

int qvl_shape_bytes(enum qvl_dtype dtype, const uint64_t *dims, uint8_t ndims,
		    uint64_t *out)
{
	uint64_t n = 1;
	for (uint8_t i = 0; i < ndims; i++) {
		if (dims[i] && n > UINT64_MAX / dims[i])
			return -EINVAL;
		n *= dims[i];
	}
	if (n == 0) {
		*out = 0;
		return 0;
	}
	uint64_t b = qvl_dtype_bytes(dtype, n);
	if (b == 0 || b == UINT64_MAX)
		return -EINVAL;
	*out = b;
	return 0;
}

int qvl_format_shape(const uint64_t *dims, uint8_t ndims, char *buf, size_t cap)
{
	size_t used = 0;
	if (cap)
		buf[0] = '\0';
	for (uint8_t i = 0; i < ndims; i++) {
		int w = snprintf(buf + (used < cap ? used : cap),
				 used < cap ? cap - used : 0, "%s%llu",
				 i ? "," : "", (unsigned long long)dims[i]);
		if (w < 0)
			return w;
		used += (size_t)w;
	}
	return (int)used;
}

const char *qvl_pin_name(enum qvl_pin p)
{
	return pin_words[p];
}

const char *qvl_lifetime_name(enum qvl_lifetime l)
{
	return life_words[l];
}

const char *qvl_codec_name(enum qvl_codec_pol c)
{
	return codec_words[c];
}

const char *qvl_advice_name(enum qvl_advice a)
{
	return adv_words[a];
}

const char *qvl_tier_name(enum qvl_tier_id t)
{
	return tier_words[t];
}

/*
 * The packed form stored in the catalog: a format byte, then the fields in
 * a fixed order, little-endian.  Independent of struct layout and compiler.
 */
#define HINTS_PACK_FORMAT 1

static uint8_t *put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static const uint8_t *get_le(const uint8_t *p, uint64_t *v, int bytes)
{
	*v = 0;
	for (int i = 0; i < bytes; i++)
		*v |= (uint64_t)p[i] << (8 * i);
	return p + bytes;
}

size_t qvl_hints_pack(const struct qvl_hints *h, uint8_t *buf)
{
	uint8_t *p = buf;
	*p++ = HINTS_PACK_FORMAT;
	p = put_le(p, h->set, 4);
	*p++ = (uint8_t)h->dtype;
	*p++ = h->ndims;
	for (int i = 0; i < QVL_MAX_DIMS; i++)
		p = put_le(p, h->dims[i], 8);
	*p++ = (uint8_t)h->pin;
	*p++ = (uint8_t)h->lifetime;
	p = put_le(p, h->ttl, 8);
	*p++ = h->priority;
	*p++ = (uint8_t)h->codec;
	*p++ = (uint8_t)h->access;
	return (size_t)(p - buf);
}

int qvl_hints_unpack(const uint8_t *buf, size_t len, struct qvl_hints *h)
{
	uint64_t v;
	if (len != QVL_HINTS_PACKED || buf[0] != HINTS_PACK_FORMAT)
		return -EINVAL;
	const uint8_t *p = buf + 1;
	qvl_hints_init(h);
	p = get_le(p, &v, 4);
	h->set = (uint32_t)v;
	uint8_t dt = *p++, nd = *p++;
	for (int i = 0; i < QVL_MAX_DIMS; i++)
		p = get_le(p, &h->dims[i], 8);
	uint8_t pin = *p++, life = *p++;
	p = get_le(p, &h->ttl, 8);
	uint8_t prio = *p++, codec = *p++, access = *p++;
	if (dt >= QVL_DTYPE_COUNT || nd > QVL_MAX_DIMS || pin > QVL_PIN_GPU ||
	    life > QVL_LIFE_VOLATILE || prio > QVL_PRIORITY_MAX ||
	    codec > QVL_CPOL_F8E4M3 || access > QVL_ADV_RANDOM)
		return -EINVAL;
	h->dtype = (enum qvl_dtype)dt;
	h->ndims = nd;
	h->pin = (enum qvl_pin)pin;
	h->lifetime = (enum qvl_lifetime)life;
	h->priority = prio;
	h->codec = (enum qvl_codec_pol)codec;
	h->access = (enum qvl_advice)access;
	return 0;
}

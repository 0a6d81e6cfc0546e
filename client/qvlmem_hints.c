/*
 * qvlmem_hints.c - libqvlmem: typed hints, advice, moves, tier queries and
 * error text.  Every value is checked against its table before anything is
 * written, so a bad value never reaches the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "qvlmem_i.h"

static const char *const pin_names[QVLMEM_PIN_COUNT] = {
	[QVLMEM_PIN_NONE] = "none",
	[QVLMEM_PIN_RAM] = "ram",
	[QVLMEM_PIN_GPU] = "gpu",
};

static const char *const lifetime_names[QVLMEM_LIFETIME_COUNT] = {
	[QVLMEM_LIFETIME_PERSISTENT] = "persistent",
	[QVLMEM_LIFETIME_SESSION] = "session",
	[QVLMEM_LIFETIME_VOLATILE] = "volatile",
};

static const char *const codec_names[QVLMEM_CODEC_COUNT] = {
	[QVLMEM_CODEC_AUTO] = "auto",
	[QVLMEM_CODEC_NONE] = "none",
	[QVLMEM_CODEC_ZSTD] = "zstd",
	[QVLMEM_CODEC_SHUFFLE_ZSTD] = "shuffle-zstd",
	[QVLMEM_CODEC_Q8_0] = "q8_0",
	[QVLMEM_CODEC_F8E4M3] = "f8e4m3",
};

static const char *const advice_names[QVLMEM_ADVICE_COUNT] = {
	[QVLMEM_ADVICE_WILLNEED] = "willneed",
	[QVLMEM_ADVICE_DONTNEED] = "dontneed",
	[QVLMEM_ADVICE_SEQUENTIAL] = "sequential",
	[QVLMEM_ADVICE_RANDOM] = "random",
};

static const char *const tier_names[QVLMEM_TIER_COUNT] = {
	[QVLMEM_TIER_GPU] = "gpu",
	[QVLMEM_TIER_RAM] = "ram",
	[QVLMEM_TIER_NVME] = "nvme",
};

/* Enum values arrive from callers as ints: compare as unsigned so that a
 * negative value is out of range too. */
static const char *lookup(const char *const *names, unsigned count, unsigned v)
{
	return v < count ? names[v] : NULL;
}

static int find(const char *const *names, int count, const char *s, size_t len)
{
	if (!s)
		return -1;
	for (int i = 0; i < count; i++)
		if (names[i] && strlen(names[i]) == len && !memcmp(names[i], s, len))
			return i;
	return -1;
}

const char *qvlmem_pin_name(enum qvlmem_pin v)
{
	return lookup(pin_names, QVLMEM_PIN_COUNT, (unsigned)v);
}

const char *qvlmem_lifetime_name(enum qvlmem_lifetime v)
{
	return lookup(lifetime_names, QVLMEM_LIFETIME_COUNT, (unsigned)v);
}

const char *qvlmem_codec_name(enum qvlmem_codec v)
{
	return lookup(codec_names, QVLMEM_CODEC_COUNT, (unsigned)v);
}

const char *qvlmem_advice_name(enum qvlmem_advice v)
{
	return lookup(advice_names, QVLMEM_ADVICE_COUNT, (unsigned)v);
}

const char *qvlmem_tier_name(enum qvlmem_tier v)
{
	return lookup(tier_names, QVLMEM_TIER_COUNT, (unsigned)v);
}

enum qvlmem_pin qvlmem_pin_from_name(const char *s, size_t len)
{
	int i = find(pin_names, QVLMEM_PIN_COUNT, s, len);

	return i < 0 ? QVLMEM_PIN_UNSET : (enum qvlmem_pin)i;
}

enum qvlmem_lifetime qvlmem_lifetime_from_name(const char *s, size_t len)
{
	int i = find(lifetime_names, QVLMEM_LIFETIME_COUNT, s, len);

	return i < 0 ? QVLMEM_LIFETIME_UNSET : (enum qvlmem_lifetime)i;
}

enum qvlmem_codec qvlmem_codec_from_name(const char *s, size_t len)
{
	int i = find(codec_names, QVLMEM_CODEC_COUNT, s, len);

	return i < 0 ? QVLMEM_CODEC_UNSET : (enum qvlmem_codec)i;
}

/* ---- hints ---- */

int qvlmem_hints_check(const struct qvlmem_hints *h)
{
	if (!h)
		return -EINVAL;
	if ((unsigned)h->pin >= QVLMEM_PIN_COUNT ||
	    (unsigned)h->lifetime >= QVLMEM_LIFETIME_COUNT ||
	    (unsigned)h->codec >= QVLMEM_CODEC_COUNT)
		return -EINVAL;
	if (h->set & ~(QVLMEM_HINT_TTL | QVLMEM_HINT_PRIORITY))
		return -EINVAL;
	if ((h->set & QVLMEM_HINT_PRIORITY) &&
	    (h->priority < 0 || h->priority > QVL_PRIORITY_MAX))
		return -EINVAL;
	return 0;
}

int qvlmem_hints_apply(struct qvlmem_target tg, const struct qvlmem_hints *h)
{
	char num[24];
	int rc;

	rc = qvlmem_hints_check(h);
	if (rc)
		return rc;
	if (h->pin) {
		rc = qvlmem_xattr_set(tg, QVL_XATTR_PIN, pin_names[h->pin]);
		if (rc)
			return rc;
	}
	if (h->lifetime) {
		rc = qvlmem_xattr_set(tg, QVL_XATTR_LIFETIME,
				      lifetime_names[h->lifetime]);
		if (rc)
			return rc;
	}
	if (h->set & QVLMEM_HINT_TTL) {
		snprintf(num, sizeof(num), "%" PRIu64, h->ttl);
		rc = qvlmem_xattr_set(tg, QVL_XATTR_TTL, num);
		if (rc)
			return rc;
	}
	if (h->set & QVLMEM_HINT_PRIORITY) {
		snprintf(num, sizeof(num), "%d", h->priority);
		rc = qvlmem_xattr_set(tg, QVL_XATTR_PRIORITY, num);
		if (rc)
			return rc;
	}
	if (h->codec)
		return qvlmem_xattr_set(tg, QVL_XATTR_CODEC, codec_names[h->codec]);
	return 0;
}

/* Parse a whole decimal value; false if it is anything else. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

int qvlmem_hints_read(struct qvlmem_target tg, struct qvlmem_hints *h)
{
	char buf[QVLMEM_VALUE_MAX];
	uint64_t v;
	int n;

	if (!h)
		return -EINVAL;
	memset(h, 0, sizeof(*h));

/* Absent or unreadably long values leave their field unset. */
#define READ_OR_SKIP(name)                                              \
	n = qvlmem_xattr_get(tg, name, buf, sizeof(buf));               \
	if (n < 0 && n != -ENODATA && n != -ERANGE)                     \
		return n;

	READ_OR_SKIP(QVL_XATTR_PIN);
	if (n >= 0)
		h->pin = qvlmem_pin_from_name(buf, (size_t)n);
	READ_OR_SKIP(QVL_XATTR_LIFETIME);
	if (n >= 0)
		h->lifetime = qvlmem_lifetime_from_name(buf, (size_t)n);
	READ_OR_SKIP(QVL_XATTR_CODEC);
	if (n >= 0)
		h->codec = qvlmem_codec_from_name(buf, (size_t)n);
	READ_OR_SKIP(QVL_XATTR_TTL);
	if (n >= 0 && parse_u64(buf, (size_t)n, &v)) {
		h->ttl = v;
		h->set |= QVLMEM_HINT_TTL;
	}
	READ_OR_SKIP(QVL_XATTR_PRIORITY);
	if (n >= 0 && parse_u64(buf, (size_t)n, &v) && v <= QVL_PRIORITY_MAX) {
		h->priority = (int)v;
		h->set |= QVLMEM_HINT_PRIORITY;
	}
#undef READ_OR_SKIP
	return 0;
}

int qvlmem_set_hints(struct qvlmem_tensor *t, const struct qvlmem_hints *h)
{
	if (!t)
		return -EINVAL;
	return qvlmem_hints_apply(QVLMEM_FD_TARGET(t), h);
}

int qvlmem_path_set_hints(const char *path, const struct qvlmem_hints *h)
{
	if (!path)
		return -EINVAL;
	return qvlmem_hints_apply(QVLMEM_PATH_TARGET(path), h);
}

int qvlmem_get_hints(const struct qvlmem_tensor *t, struct qvlmem_hints *h)
{
	if (!t)
		return -EINVAL;
	return qvlmem_hints_read(QVLMEM_FD_TARGET(t), h);
}

int qvlmem_path_get_hints(const char *path, struct qvlmem_hints *h)
{
	if (!path)
		return -EINVAL;
	return qvlmem_hints_read(QVLMEM_PATH_TARGET(path), h);
}

int qvlmem_set_pin(struct qvlmem_tensor *t, enum qvlmem_pin pin)
{
	struct qvlmem_hints h = { .pin = pin };

	return pin ? qvlmem_set_hints(t, &h) : -EINVAL;
}

int qvlmem_set_lifetime(struct qvlmem_tensor *t, enum qvlmem_lifetime lifetime)
{
	struct qvlmem_hints h = { .lifetime = lifetime };

	return lifetime ? qvlmem_set_hints(t, &h) : -EINVAL;
}

int qvlmem_set_ttl(struct qvlmem_tensor *t, uint64_t seconds)
{
	struct qvlmem_hints h = { .set = QVLMEM_HINT_TTL, .ttl = seconds };

	return qvlmem_set_hints(t, &h);
}

int qvlmem_set_priority(struct qvlmem_tensor *t, int priority)
{
	struct qvlmem_hints h = { .set = QVLMEM_HINT_PRIORITY,
				  .priority = priority };

	return qvlmem_set_hints(t, &h);
}

int qvlmem_set_codec(struct qvlmem_tensor *t, enum qvlmem_codec codec)
{
	struct qvlmem_hints h = { .codec = codec };

	return codec ? qvlmem_set_hints(t, &h) : -EINVAL;
}

/* ---- advice, moves, tier ---- */

static int advise(struct qvlmem_target tg, enum qvlmem_advice a)
{
	const char *v = qvlmem_advice_name(a);

	return v ? qvlmem_xattr_set(tg, QVL_XATTR_ADVICE, v) : -EINVAL;
}

int qvlmem_advise(struct qvlmem_tensor *t, enum qvlmem_advice a)
{
	return t ? advise(QVLMEM_FD_TARGET(t), a) : -EINVAL;
}

int qvlmem_path_advise(const char *path, enum qvlmem_advice a)
{
	return path ? advise(QVLMEM_PATH_TARGET(path), a) : -EINVAL;
}

static int move(struct qvlmem_target tg, enum qvlmem_tier tier)
{
	const char *v = qvlmem_tier_name(tier);

	return v ? qvlmem_xattr_set(tg, QVL_XATTR_TIER, v) : -EINVAL;
}

int qvlmem_move(struct qvlmem_tensor *t, enum qvlmem_tier tier)
{
	return t ? move(QVLMEM_FD_TARGET(t), tier) : -EINVAL;
}

int qvlmem_path_move(const char *path, enum qvlmem_tier tier)
{
	return path ? move(QVLMEM_PATH_TARGET(path), tier) : -EINVAL;
}

static int tier(struct qvlmem_target tg, char *buf, size_t len)
{
	int n;

	if (!buf || len == 0)
		return -EINVAL;
	/* Leave room for the NUL; getxattr's -ERANGE means the same to us. */
	n = qvlmem_xattr_get(tg, QVL_XATTR_TIER, buf, len - 1);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}

int qvlmem_tier(const struct qvlmem_tensor *t, char *buf, size_t len)
{
	return t ? tier(QVLMEM_FD_TARGET(t), buf, len) : -EINVAL;
}

int qvlmem_path_tier(const char *path, char *buf, size_t len)
{
	return path ? tier(QVLMEM_PATH_TARGET(path), buf, len) : -EINVAL;
}

int qvlmem_residency_parse(const char *s, size_t len,
			   struct qvlmem_residency *r)
{
	size_t i = 0;

	if (!s || !r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	while (len > 0 && (s[len - 1] == '\0' || s[len - 1] == '\n'))
		len--;
	if (len == 0)
		return -EINVAL;
	for (;;) {
		size_t start = i, end;
		uint64_t pct = 100;
		int t;

		while (i < len && s[i] != ':' && s[i] != ',')
			i++;
		t = find(tier_names, QVLMEM_TIER_COUNT, s + start, i - start);
		if (t < 0)
			return -EINVAL;
		if (i < len && s[i] == ':') {
			start = ++i;
			while (i < len && s[i] != ',')
				i++;
			end = i;
			if (end == start || s[end - 1] != '%' ||
			    !parse_u64(s + start, end - 1 - start, &pct) ||
			    pct > 100)
				return -EINVAL;
		} else if (r->pct[0] + r->pct[1] + r->pct[2] || i < len) {
			/* A bare name means all of it and stands alone. */
			return -EINVAL;
		}
		r->pct[t] += (unsigned)pct;
		if (r->pct[t] > 100)
			return -EINVAL;
		if (i == len)
			return 0;
		i++; /* the comma */
		if (i == len)
			return -EINVAL;
	}
}

int qvlmem_residency(const struct qvlmem_tensor *t, struct qvlmem_residency *r)
{
	char buf[QVLMEM_VALUE_MAX];
	int n = qvlmem_tier(t, buf, sizeof(buf));

	if (n < 0)
		return n;
	return qvlmem_residency_parse(buf, (size_t)n, r) ? -EBADMSG : 0;
}

/* ---- errors ---- */

const char *qvlmem_strerror(int err)
{
	const char *s;

	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case EBADMSG:
		return "tensor attributes malformed or inconsistent with file size";
	case ENODATA:
		return "no such attribute (not a qvlmemfs tensor?)";
	case ENOTSUP:
		return "extended attributes not supported here (not qvlmemfs?)";
	default:
		break;
	}
	/* strerrordesc_np() returns static text: unlike strerror(), thread-safe. */
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}

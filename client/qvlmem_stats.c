/*
 * qvlmem_stats.c - libqvlmem: read MOUNT/.qvl/stats.json.
 *
 * HOW IT WORKS: not a JSON library, a scanner that knows JSON's grammar
 * well enough to walk over any value it does not care about (strings with
 * escapes, nested objects and arrays to a bounded depth, numbers, literals)
 * and to pick out the few it does: top-level numbers, "version", and the
 * numeric fields of each object under "tiers".  Key order is free, unknown
 * keys are skipped, so the daemon can add fields without breaking clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvlmem_i.h"

#define SCAN_MAX_DEPTH 32
#define STATS_MAX_BYTES (4u << 20)

struct scan {
	const char *p, *end;
	int depth;
};

typedef int (*member_fn)(struct scan *s, const char *key, size_t klen,
			 void *arg);

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool peek(struct scan *s, char c)
{
	ws(s);
	return s->p < s->end && *s->p == c;
}

/* A string's raw bytes between the quotes (escapes left as they are). */
static int string(struct scan *s, const char **start, size_t *len)
{
	if (!peek(s, '"'))
		return -1;
	s->p++;
	*start = s->p;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\' && ++s->p == s->end)
			return -1;
		s->p++;
	}
	if (s->p == s->end)
		return -1;
	*len = (size_t)(s->p - *start);
	s->p++;
	return 0;
}

static bool word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	ws(s);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n))
		return false;
	s->p += n;
	return true;
}

static int skip_value(struct scan *s);

static int members(struct scan *s, member_fn fn, void *arg)
{
	const char *key;
	size_t klen;

	if (!peek(s, '{') || ++s->depth > SCAN_MAX_DEPTH)
		return -1;
	s->p++;
	if (peek(s, '}')) {
		s->p++;
		s->depth--;
		return 0;
	}
	for (;;) {
		if (string(s, &key, &klen) || !peek(s, ':'))
			return -1;
		s->p++;
		if (fn(s, key, klen, arg))
			return -1;
		if (peek(s, ',')) {
			s->p++;
			continue;
		}
		if (!peek(s, '}'))
			return -1;
		s->p++;
		s->depth--;
		return 0;
	}
}

static int skip_member(struct scan *s, const char *key, size_t klen, void *arg)
{
	(void)key;
	(void)klen;
	(void)arg;
	return skip_value(s);
}

static int skip_array(struct scan *s)
{
	if (++s->depth > SCAN_MAX_DEPTH)
		return -1;
	s->p++; /* '[' */
	if (peek(s, ']')) {
		s->p++;
		s->depth--;
		return 0;
	}
	for (;;) {
		if (skip_value(s))
			return -1;
		if (peek(s, ',')) {
			s->p++;
			continue;
		}
		if (!peek(s, ']'))
			return -1;
		s->p++;
		s->depth--;
		return 0;
	}
}

static int skip_number(struct scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && strchr("+-0123456789.eE", *s->p))
		s->p++;
	return s->p == start ? -1 : 0;
}

static int skip_value(struct scan *s)
{
	const char *str;
	size_t len;

	ws(s);
	if (s->p == s->end)
		return -1;
	switch (*s->p) {
	case '{':
		return members(s, skip_member, NULL);
	case '[':
		return skip_array(s);
	case '"':
		return string(s, &str, &len);
	case 't':
		return word(s, "true") ? 0 : -1;
	case 'f':
		return word(s, "false") ? 0 : -1;
	case 'n':
		return word(s, "null") ? 0 : -1;
	default:
		return skip_number(s);
	}
}

/* A non-negative integer; fractions are truncated, anything else reads as
 * 0 (and is skipped) so an odd value never fails the whole parse. */
static int u64(struct scan *s, uint64_t *v)
{
	uint64_t n = 0;

	ws(s);
	*v = 0;
	if (s->p == s->end || *s->p < '0' || *s->p > '9')
		return skip_value(s);
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		unsigned d = (unsigned)(*s->p++ - '0');

		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
	}
	*v = n;
	if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
		return skip_number(s); /* the rest of "1.5e3" */
	return 0;
}

static bool key_is(const char *key, size_t klen, const char *want)
{
	return strlen(want) == klen && !memcmp(key, want, klen);
}

static int tier_field(struct scan *s, const char *key, size_t klen, void *arg)
{
	struct qvlmem_tier_stats *ts = arg;

	if (key_is(key, klen, "present")) {
		if (word(s, "true"))
			ts->present = 1;
		else if (word(s, "false"))
			ts->present = 0;
		else
			return skip_value(s);
		return 0;
	}
	if (key_is(key, klen, "budget"))
		return u64(s, &ts->budget);
	if (key_is(key, klen, "used"))
		return u64(s, &ts->used);
	if (key_is(key, klen, "files"))
		return u64(s, &ts->files);
	return skip_value(s);
}

static int tier_member(struct scan *s, const char *key, size_t klen, void *arg)
{
	struct qvlmem_stats *st = arg;

	for (int t = 0; t < QVLMEM_TIER_COUNT; t++)
		if (key_is(key, klen, qvlmem_tier_name((enum qvlmem_tier)t)) &&
		    peek(s, '{'))
			return members(s, tier_field, &st->tier[t]);
	return skip_value(s);
}

struct top {
	struct qvlmem_stats *st;
	bool have_tiers;
};

static int top_member(struct scan *s, const char *key, size_t klen, void *arg)
{
	struct top *top = arg;
	struct qvlmem_stats *st = top->st;

	if (key_is(key, klen, "tiers") && peek(s, '{')) {
		top->have_tiers = true;
		return members(s, tier_member, st);
	}
	if (key_is(key, klen, "version") && peek(s, '"')) {
		const char *v;
		size_t len;

		if (string(s, &v, &len))
			return -1;
		if (len >= sizeof(st->version))
			len = sizeof(st->version) - 1;
		memcpy(st->version, v, len);
		st->version[len] = '\0';
		return 0;
	}
	if (key_is(key, klen, "chunk_size"))
		return u64(s, &st->chunk_size);
	if (key_is(key, klen, "read_ahead_kb"))
		return u64(s, &st->read_ahead_kb);
	if (key_is(key, klen, "files"))
		return u64(s, &st->files);
	if (key_is(key, klen, "dirs"))
		return u64(s, &st->dirs);
	if (key_is(key, klen, "bytes"))
		return u64(s, &st->bytes);
	return skip_value(s);
}

int qvlmem_stats_parse(const char *json, size_t len, struct qvlmem_stats *st)
{
	struct top top = { .st = st };
	struct scan s;

	if (!json || !st)
		return -EINVAL;
	s = (struct scan){ .p = json, .end = json + len };
	memset(st, 0, sizeof(*st));
	if (members(&s, top_member, &top) || !top.have_tiers)
		return -EBADMSG;
	return 0;
}

int qvlmem_mount_stats(const char *mount, struct qvlmem_stats *st)
{
	size_t cap = 16384, len = 0;
	char *path, *buf, *nbuf;
	int fd, rc;

	if (!mount || !st)
		return -EINVAL;
	if (asprintf(&path, "%s/" QVL_CTL_DIR "/stats.json", mount) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = -errno;
	free(path);
	if (fd < 0)
		return rc;
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	/* Control files may report any st_size: read to EOF, growing. */
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= STATS_MAX_BYTES) {
				rc = -EFBIG;
				goto out_free;
			}
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				rc = -ENOMEM;
				goto out_free;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = qvlmem_stats_parse(buf, len, st);
out_free:
	free(buf);
out_close:
	close(fd);
	return rc;
}

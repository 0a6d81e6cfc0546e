/*
 * model_json.c - a JSON cursor for model headers (RFC 8259, strict: no
 * comments, no trailing commas, no raw control characters in strings).
 * It builds no tree: the parsers walk the text once and keep what they
 * need, and the header's bytes stay where they are for a verbatim export.
 */
#include <errno.h>
#include <stdlib.h>

#include "model_json.h"

static int bad(struct qvl_json *j, const char *why)
{
	j->why = why;
	return -EBADMSG;
}

static void ws(struct qvl_json *j)
{
	while (j->pos < j->len) {
		char c = j->s[j->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		j->pos++;
	}
}

int qvl_json_peek(struct qvl_json *j)
{
	ws(j);
	return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

int qvl_json_expect(struct qvl_json *j, char c)
{
	static const char *const want[] = { "expected '{'", "expected '}'",
					    "expected '['", "expected ']'",
					    "expected ':'", "expected ','",
					    "expected '\"'" };
	const char *set = "{}[]:,\"";
	const char *why = "unexpected character";

	if (qvl_json_peek(j) == (unsigned char)c) {
		j->pos++;
		return 0;
	}
	for (int i = 0; set[i]; i++)
		if (set[i] == c)
			why = want[i];
	return bad(j, j->pos >= j->len ? "unexpected end of JSON" : why);
}

int qvl_json_more(struct qvl_json *j, char close)
{
	int c = qvl_json_peek(j);

	if (c == ',') {
		j->pos++;
		return 1;
	}
	if (c == close) {
		j->pos++;
		return 0;
	}
	return bad(j, c < 0 ? "unexpected end of JSON"
			    : close == '}' ? "expected ',' or '}'"
					   : "expected ',' or ']'");
}

static int hex4(struct qvl_json *j, size_t at, unsigned *v)
{
	*v = 0;
	if (at > j->len || j->len - at < 4)
		return bad(j, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = j->s[at + i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return bad(j, "bad \\u escape");
		*v = *v << 4 | d;
	}
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* One escape at j->pos (just after the backslash); appends to @o. */
static int escape(struct qvl_json *j, char *o, size_t *n)
{
	unsigned cp, lo;
	char c = j->s[j->pos];
	const char *map = "\"\"\\\\//b\bf\fn\nr\rt\t";

	for (int i = 0; map[i]; i += 2)
		if (map[i] == c) {
			o[(*n)++] = map[i + 1];
			j->pos++;
			return 0;
		}
	if (c != 'u')
		return bad(j, "bad escape");
	if (hex4(j, j->pos + 1, &cp))
		return -EBADMSG;
	j->pos += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return bad(j, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->len - j->pos < 6 || j->s[j->pos] != '\\' ||
		    j->s[j->pos + 1] != 'u')
			return bad(j, "lone high surrogate");
		if (hex4(j, j->pos + 2, &lo))
			return -EBADMSG;
		if (lo < 0xdc00 || lo > 0xdfff)
			return bad(j, "bad surrogate pair");
		j->pos += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*n += put_utf8(o + *n, cp);
	return 0;
}

int qvl_json_string(struct qvl_json *j, char **out, size_t *outlen)
{
	size_t end, n = 0;
	char *o;
	int rc;

	if (qvl_json_expect(j, '"'))
		return -EBADMSG;
	/* Find the end first: the unescaped text is never longer. */
	for (end = j->pos; end < j->len && j->s[end] != '"'; end++)
		if (j->s[end] == '\\')
			end++;
	if (end >= j->len)
		return bad(j, "unterminated string");
	o = malloc(end - j->pos + 1);
	if (!o)
		return -ENOMEM;
	while (j->pos < end) {
		unsigned char c = (unsigned char)j->s[j->pos];

		if (c < 0x20) {
			rc = bad(j, "control character in string");
			goto out_free;
		}
		if (c != '\\') {
			o[n++] = (char)c;
			j->pos++;
			continue;
		}
		j->pos++;
		rc = escape(j, o, &n);
		if (rc)
			goto out_free;
	}
	j->pos = end + 1;
	o[n] = '\0';
	*out = o;
	if (outlen)
		*outlen = n;
	return 0;
out_free:
	free(o);
	return rc;
}

int qvl_json_u64(struct qvl_json *j, uint64_t *v)
{
	size_t start;

	ws(j);
	start = j->pos;
	*v = 0;
	while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
		unsigned d = (unsigned)(j->s[j->pos] - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return bad(j, "integer too large");
		*v = *v * 10 + d;
		j->pos++;
	}
	if (j->pos == start)
		return bad(j, "expected an unsigned integer");
	if (j->pos - start > 1 && j->s[start] == '0')
		return bad(j, "leading zero");
	if (j->pos < j->len && (j->s[j->pos] == '.' || j->s[j->pos] == 'e' ||
				j->s[j->pos] == 'E'))
		return bad(j, "expected an integer");
	return 0;
}

static int skip_number(struct qvl_json *j)
{
	if (j->s[j->pos] == '-')
		j->pos++;
	if (j->pos >= j->len || j->s[j->pos] < '0' || j->s[j->pos] > '9')
		return bad(j, "bad number");
	while (j->pos < j->len &&
	       ((j->s[j->pos] >= '0' && j->s[j->pos] <= '9') ||
		j->s[j->pos] == '.' || j->s[j->pos] == 'e' ||
		j->s[j->pos] == 'E' || j->s[j->pos] == '+' ||
		j->s[j->pos] == '-'))
		j->pos++;
	return 0;
}

static int skip_word(struct qvl_json *j, const char *w)
{
	size_t i = 0;

	for (; w[i]; i++)
		if (j->pos + i >= j->len || j->s[j->pos + i] != w[i])
			return bad(j, "bad literal");
	j->pos += i;
	return 0;
}

static int skip_value(struct qvl_json *j, int depth)
{
	int c = qvl_json_peek(j), more;
	char *s;

	if (depth > QVL_JSON_MAX_DEPTH)
		return bad(j, "nested too deep");
	switch (c) {
	case '"':
		if (qvl_json_string(j, &s, NULL))
			return j->why ? -EBADMSG : -ENOMEM;
		free(s);
		return 0;
	case '{':
		j->pos++;
		if (qvl_json_peek(j) == '}') {
			j->pos++;
			return 0;
		}
		do {
			if (qvl_json_string(j, &s, NULL))
				return j->why ? -EBADMSG : -ENOMEM;
			free(s);
			if (qvl_json_expect(j, ':') || skip_value(j, depth + 1))
				return -EBADMSG;
		} while ((more = qvl_json_more(j, '}')) == 1);
		return more;
	case '[':
		j->pos++;
		if (qvl_json_peek(j) == ']') {
			j->pos++;
			return 0;
		}
		do {
			if (skip_value(j, depth + 1))
				return -EBADMSG;
		} while ((more = qvl_json_more(j, ']')) == 1);
		return more;
	case 't':
		return skip_word(j, "true");
	case 'f':
		return skip_word(j, "false");
	case 'n':
		return skip_word(j, "null");
	case -1:
		return bad(j, "unexpected end of JSON");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return skip_number(j);
		return bad(j, "unexpected character");
	}
}

int qvl_json_skip(struct qvl_json *j)
{
	return skip_value(j, 0);
}

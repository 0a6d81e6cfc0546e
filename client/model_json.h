/*
 * model_json.h - the little JSON a safetensors header and a shard index
 * need: a cursor over a buffer that reads strings, unsigned integers and
 * the punctuation between them, and skips any value it does not want.
 *
 * Each call returns 0 or -EBADMSG; on -EBADMSG j->pos is the offset of the
 * trouble and j->why says what it was.  Nesting deeper than
 * QVL_JSON_MAX_DEPTH is refused, so a hostile header cannot overflow the
 * stack.
 */
#ifndef QVL_MODEL_JSON_H
#define QVL_MODEL_JSON_H

#include <stddef.h>
#include <stdint.h>

#define QVL_JSON_MAX_DEPTH 64

struct qvl_json {
	const char *s;
	size_t len;
	size_t pos;
	const char *why;
};

/* The next character after white space, without taking it; -1 at the end. */
int qvl_json_peek(struct qvl_json *j);

/* Take the character @c (after white space). */
int qvl_json_expect(struct qvl_json *j, char c);

/*
 * A string, unescaped into a malloc'd NUL-terminated buffer (*out, *outlen;
 * a \u0000 escape stays in and shows in *outlen).  -ENOMEM when malloc
 * fails.
 */
int qvl_json_string(struct qvl_json *j, char **out, size_t *outlen);

/* A non-negative integer that fits in 64 bits (no sign, fraction, exponent). */
int qvl_json_u64(struct qvl_json *j, uint64_t *v);

/* Any value, checked for form and skipped. */
int qvl_json_skip(struct qvl_json *j);

/*
 * After '{' or '[' has been taken and one member read: take ',' and return
 * 1 when another follows, take the closing @close and return 0.
 */
int qvl_json_more(struct qvl_json *j, char close);

#endif /* QVL_MODEL_JSON_H */

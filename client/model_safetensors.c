/*
 * model_safetensors.c - the safetensors header, and the shard index of a
 * sharded set.
 *
 * The format (huggingface/safetensors, docs "Format"): a little-endian u64
 * N, then N bytes of JSON, then the data section.  The JSON is one object:
 * "__metadata__" maps strings to strings; every other key is a tensor,
 * {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, with
 * offsets relative to the data section.  Writers pad the JSON with spaces.
 * Upstream refuses a header over 100 MB, data ranges that leave a gap or
 * overlap, and a data section longer or shorter than the tensors: so do we,
 * so that what we accept loads there too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_json.h"

/* What the parse of one header carries along. */
struct st_parse {
	struct qvl_model *m;
	uint64_t *key_at; /* JSON offset of each tensor's key, for errors */
	size_t cap;
	struct qvl_json j;
	struct qvl_model_error *err;
};

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A JSON error at the cursor, as a file offset (the JSON starts at 8). */
static int json_fail(struct st_parse *p, int rc)
{
	if (rc == -ENOMEM)
		return qvl_model_fail(p->err, rc, 8 + p->j.pos, "out of memory");
	return qvl_model_fail(p->err, -EBADMSG, 8 + p->j.pos,
			      "bad header JSON: %s",
			      p->j.why ? p->j.why : "malformed");
}

/* "__metadata__": an object of string values. */
static int parse_metadata(struct st_parse *p)
{
	struct qvl_json *j = &p->j;
	size_t start;
	char *s;
	int rc, more;

	if (p->m->meta_len)
		return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
				      "__metadata__ given twice");
	if (qvl_json_peek(j) != '{')
		return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
				      "__metadata__ is not an object");
	start = j->pos;
	j->pos++;
	if (qvl_json_peek(j) == '}') {
		j->pos++;
		goto out;
	}
	do {
		rc = qvl_json_string(j, &s, NULL);
		if (rc)
			return json_fail(p, rc);
		free(s);
		if (qvl_json_expect(j, ':'))
			return json_fail(p, -EBADMSG);
		if (qvl_json_peek(j) != '"')
			return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
					      "__metadata__ value is not a string");
		rc = qvl_json_string(j, &s, NULL);
		if (rc)
			return json_fail(p, rc);
		free(s);
	} while ((more = qvl_json_more(j, '}')) == 1);
	if (more)
		return json_fail(p, more);
out:
	p->m->meta_off = start;
	p->m->meta_len = j->pos - start;
	return 0;
}

static int parse_dims(struct st_parse *p, struct qvl_model_tensor *t)
{
	struct qvl_json *j = &p->j;
	int more;

	if (qvl_json_expect(j, '['))
		return json_fail(p, -EBADMSG);
	if (qvl_json_peek(j) == ']') {
		j->pos++;
		return 0;
	}
	do {
		if (t->ndims == QVL_MAX_DIMS)
			return qvl_model_fail(p->err, -ENOTSUP, 8 + j->pos,
					      "more than %d dims", QVL_MAX_DIMS);
		if (qvl_json_u64(j, &t->dims[t->ndims++]))
			return json_fail(p, -EBADMSG);
	} while ((more = qvl_json_more(j, ']')) == 1);
	return more ? json_fail(p, more) : 0;
}

static int parse_offsets(struct st_parse *p, uint64_t off[2])
{
	struct qvl_json *j = &p->j;

	if (qvl_json_expect(j, '[') || qvl_json_u64(j, &off[0]) ||
	    qvl_json_expect(j, ',') || qvl_json_u64(j, &off[1]) ||
	    qvl_json_expect(j, ']'))
		return json_fail(p, -EBADMSG);
	return 0;
}

/* One tensor's value object; @t->name is set. */
static int parse_tensor(struct st_parse *p, struct qvl_model_tensor *t)
{
	struct qvl_json *j = &p->j;
	uint64_t off[2] = { 0, 0 }, at = 0;
	unsigned seen = 0;
	int rc, more;

	if (qvl_json_peek(j) != '{')
		return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
				      "tensor '%s' is not an object", t->name);
	j->pos++;
	if (qvl_json_peek(j) == '}')
		return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
				      "tensor '%s' has no dtype", t->name);
	do {
		char *key;
		size_t klen;
		unsigned bit = 0;

		rc = qvl_json_string(j, &key, &klen);
		if (rc)
			return json_fail(p, rc);
		if (!strcmp(key, "dtype"))
			bit = 1;
		else if (!strcmp(key, "shape"))
			bit = 2;
		else if (!strcmp(key, "data_offsets"))
			bit = 4;
		free(key);
		if (bit & seen)
			return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
					      "tensor '%s': a field given twice",
					      t->name);
		seen |= bit;
		if (qvl_json_expect(j, ':'))
			return json_fail(p, -EBADMSG);
		if (bit == 1) {
			char *dt;
			size_t dlen;

			at = 8 + j->pos + 1;
			rc = qvl_json_string(j, &dt, &dlen);
			if (rc)
				return json_fail(p, rc);
			t->dtype = qvl_model_st_dtype(dt, dlen);
			if (t->dtype == QVL_DTYPE_NONE) {
				rc = qvl_model_fail(p->err, -ENOTSUP, at,
						    "tensor '%s': unsupported dtype '%.32s'",
						    t->name, dt);
				free(dt);
				return rc;
			}
			free(dt);
		} else if (bit == 2) {
			rc = parse_dims(p, t);
		} else if (bit == 4) {
			rc = parse_offsets(p, off);
		} else {
			rc = qvl_json_skip(j) ? json_fail(p, -EBADMSG) : 0;
		}
		if (rc)
			return rc;
	} while ((more = qvl_json_more(j, '}')) == 1);
	if (more)
		return json_fail(p, more);
	if (seen != 7)
		return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
				      "tensor '%s' lacks %s", t->name,
				      !(seen & 1) ? "dtype" : !(seen & 2) ? "shape"
								: "data_offsets");
	t->offset = off[0];
	t->size = off[1] - off[0];
	if (off[1] < off[0])
		return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
				      "tensor '%s': data_offsets end before they begin",
				      t->name);
	return 0;
}

static int add_tensor(struct st_parse *p, char *name)
{
	struct qvl_model *m = p->m;

	if (m->nt == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		void *t = realloc(m->t, cap * sizeof(*m->t));
		void *k;

		if (!t)
			return -ENOMEM;
		m->t = t;
		k = realloc(p->key_at, cap * sizeof(*p->key_at));
		if (!k)
			return -ENOMEM;
		p->key_at = k;
		p->cap = cap;
	}
	memset(&m->t[m->nt], 0, sizeof(m->t[m->nt]));
	m->t[m->nt].name = name;
	p->key_at[m->nt] = 8 + p->j.pos;
	m->nt++;
	return 0;
}

/* Sizes against shapes, then the ranges tile [0, data length). */
static int check_tensors(struct st_parse *p, const struct qvl_model_src *src,
			 unsigned flags)
{
	struct qvl_model *m = p->m;
	struct qvl_model_span *s;
	uint64_t next = 0;
	int rc = 0;

	for (size_t i = 0; i < m->nt; i++) {
		struct qvl_model_tensor *t = &m->t[i];
		uint64_t b;

		rc = qvl_model_tensor_bytes(t->dtype, t->ndims, t->dims, &b);
		if (rc || b != t->size)
			return qvl_model_fail(p->err, -EBADMSG, p->key_at[i],
					      "tensor '%s': shape and dtype make %s, data_offsets hold %llu bytes",
					      t->name, rc ? "no whole size" : "another size",
					      (unsigned long long)t->size);
	}
	s = qvl_model_spans(m);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < m->nt; i++) {
		if (s[i].begin != next) {
			rc = qvl_model_fail(p->err, -EBADMSG, p->key_at[s[i].i],
					    "tensor '%s': data_offsets %s at %llu (expected %llu)",
					    m->t[s[i].i].name,
					    s[i].begin < next ? "overlap another tensor"
							      : "leave a gap",
					    (unsigned long long)s[i].begin,
					    (unsigned long long)next);
			goto out;
		}
		next = s[i].end;
	}
	if (next > UINT64_MAX - m->data_start ||
	    (!(flags & QVL_MODEL_HEADER_ONLY) &&
	     next != src->size - m->data_start)) {
		rc = qvl_model_fail(p->err, -EBADMSG,
				    next > src->size - m->data_start ? src->size
								     : m->data_start + next,
				    "tensors cover %llu bytes of data, the file holds %llu",
				    (unsigned long long)next,
				    (unsigned long long)(src->size - m->data_start));
		goto out;
	}
	for (size_t i = 0; i < m->nt; i++)
		m->t[i].offset += m->data_start;
	m->data_end = m->data_start + next;
out:
	free(s);
	return rc;
}

static int parse_object(struct st_parse *p)
{
	struct qvl_json *j = &p->j;
	int rc, more;

	if (j->len == 0 || j->s[0] != '{')
		return qvl_model_fail(p->err, -EBADMSG, 8,
				      "header JSON does not start with '{'");
	j->pos = 1;
	if (qvl_json_peek(j) == '}') {
		j->pos++;
		goto tail;
	}
	do {
		char *key;
		size_t klen;
		uint64_t at = 8 + j->pos;

		rc = qvl_json_string(j, &key, &klen);
		if (rc)
			return json_fail(p, rc);
		if (qvl_json_expect(j, ':')) {
			free(key);
			return json_fail(p, -EBADMSG);
		}
		if (!strcmp(key, "__metadata__")) {
			free(key);
			rc = parse_metadata(p);
		} else if (klen != strlen(key)) {
			free(key);
			return qvl_model_fail(p->err, -EBADMSG, at,
					      "NUL in a tensor name");
		} else if (klen > QVL_MODEL_MAX_NAME) {
			free(key);
			return qvl_model_fail(p->err, -EBADMSG, at,
					      "tensor name longer than %d bytes",
					      QVL_MODEL_MAX_NAME);
		} else {
			rc = add_tensor(p, key);
			if (rc) {
				free(key);
				return qvl_model_fail(p->err, rc, at, "out of memory");
			}
			p->key_at[p->m->nt - 1] = at;
			rc = parse_tensor(p, &p->m->t[p->m->nt - 1]);
		}
		if (rc)
			return rc;
	} while ((more = qvl_json_more(j, '}')) == 1);
	if (more)
		return json_fail(p, more);
tail:
	while (j->pos < j->len && j->s[j->pos] == ' ')
		j->pos++;
	if (qvl_json_peek(j) != -1)
		return qvl_model_fail(p->err, -EBADMSG, 8 + j->pos,
				      "bytes after the header JSON");
	return 0;
}

int qvl_model_safetensors_parse(const struct qvl_model_src *src,
				unsigned flags, struct qvl_model **out,
				struct qvl_model_error *err)
{
	struct st_parse p = { .err = err };
	uint8_t lenb[8];
	uint64_t n;
	int rc;

	*out = NULL;
	if (src->size < 8)
		return qvl_model_fail(err, -EBADMSG, src->size,
				      "file too short for the 8-byte header length");
	rc = src->read(src->arg, 0, lenb, 8);
	if (rc)
		return qvl_model_fail(err, rc, 0, "cannot read the header length");
	n = le64(lenb);
	if (n > QVL_MODEL_MAX_HEADER)
		return qvl_model_fail(err, -EOVERFLOW, 0,
				      "header length %llu over the %u-byte cap",
				      (unsigned long long)n, QVL_MODEL_MAX_HEADER);
	if (n > src->size - 8)
		return qvl_model_fail(err, -EBADMSG, 0,
				      "header length %llu runs past the end of the file (%llu bytes)",
				      (unsigned long long)n,
				      (unsigned long long)src->size);
	p.m = calloc(1, sizeof(*p.m));
	if (!p.m)
		return -ENOMEM;
	p.m->format = QVL_MODEL_SAFETENSORS;
	p.m->data_start = 8 + n;
	p.m->data_end = p.m->data_start;
	p.m->json = malloc(n + 1);
	if (!p.m->json) {
		rc = qvl_model_fail(err, -ENOMEM, 8, "out of memory for the header");
		goto out_free;
	}
	rc = src->read(src->arg, 8, p.m->json, n);
	if (rc) {
		qvl_model_fail(err, rc, 8, "cannot read the header");
		goto out_free;
	}
	p.m->json[n] = '\0';
	p.j = (struct qvl_json){ .s = p.m->json, .len = n };
	rc = parse_object(&p);
	if (!rc)
		rc = qvl_model_check_names(p.m, p.key_at, err);
	if (!rc)
		rc = check_tensors(&p, src, flags);
	if (rc)
		goto out_free;
	p.m->json_len = n;
	free(p.key_at);
	*out = p.m;
	return 0;
out_free:
	free(p.key_at);
	qvl_model_free(p.m);
	return rc;
}

int qvl_model_index_parse(const char *json, size_t len, char ***files,
			  size_t *n, struct qvl_model_error *err)
{
	struct qvl_json j = { .s = json, .len = len };
	char **f = NULL, *key = NULL, *val = NULL;
	size_t nf = 0;
	int rc = -EBADMSG, more, seen_map = 0;

	*files = NULL;
	*n = 0;
	if (qvl_json_expect(&j, '{'))
		goto out_json;
	if (qvl_json_peek(&j) == '}')
		goto out_nomap;
	do {
		if ((rc = qvl_json_string(&j, &key, NULL)) || qvl_json_expect(&j, ':'))
			goto out_json;
		if (strcmp(key, "weight_map")) {
			if (qvl_json_skip(&j))
				goto out_json;
		} else {
			seen_map = 1;
			if (qvl_json_expect(&j, '{'))
				goto out_json;
			if (qvl_json_peek(&j) == '}') {
				j.pos++;
			} else {
				do {
					size_t vlen, k;
					uint64_t at;

					free(key);
					key = NULL;
					if ((rc = qvl_json_string(&j, &key, NULL)) ||
					    qvl_json_expect(&j, ':'))
						goto out_json;
					at = j.pos;
					if ((rc = qvl_json_string(&j, &val, &vlen)))
						goto out_json;
					if (!vlen || vlen != strlen(val) ||
					    strchr(val, '/') || !strcmp(val, ".") ||
					    !strcmp(val, "..")) {
						rc = qvl_model_fail(err, -EBADMSG, at,
								    "shard name is not a plain file name");
						goto out_free;
					}
					for (k = 0; k < nf && strcmp(f[k], val); k++)
						;
					if (k == nf) {
						void *g = realloc(f, (nf + 1) * sizeof(*f));

						if (!g) {
							rc = -ENOMEM;
							goto out_free;
						}
						f = g;
						f[nf++] = val;
					} else {
						free(val);
					}
					val = NULL;
				} while ((more = qvl_json_more(&j, '}')) == 1);
				if (more)
					goto out_json;
			}
		}
		free(key);
		key = NULL;
	} while ((more = qvl_json_more(&j, '}')) == 1);
	if (more)
		goto out_json;
	if (qvl_json_peek(&j) != -1) {
		j.why = "bytes after the JSON";
		goto out_json;
	}
	if (!seen_map)
		goto out_nomap;
	*files = f;
	*n = nf;
	return 0;
out_nomap:
	rc = qvl_model_fail(err, -EBADMSG, j.pos, "index has no weight_map");
	goto out_free;
out_json:
	rc = rc == -ENOMEM ? rc
			   : qvl_model_fail(err, -EBADMSG, j.pos, "bad index JSON: %s",
					    j.why ? j.why : "malformed");
out_free:
	free(key);
	free(val);
	for (size_t k = 0; k < nf; k++)
		free(f[k]);
	free(f);
	return rc;
}

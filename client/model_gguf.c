/*
 * model_gguf.c - the GGUF header (versions 2 and 3, little endian).
 *
 * The format (ggml docs/gguf.md): "GGUF", u32 version, u64 tensor count,
 * u64 key/value count; the key/values (a string key, a u32 type, a value;
 * arrays hold a u32 element type, a u64 count and the elements); then per
 * tensor a string name, u32 n_dims, n_dims u64 dims (innermost first), a
 * u32 ggml type and a u64 offset into the data section; the data section
 * starts at the next multiple of general.alignment (default 32).  Strings
 * are a u64 length and that many bytes.  Version 1 had 32-bit counts and
 * is refused; 2 and 3 differ only for big-endian files, which start with a
 * byte-swapped version and are refused as an unknown version.
 *
 * Nothing is allocated on a count alone: the tensor table grows as tensor
 * infos are read, and a count the remaining bytes cannot hold is refused
 * before the first one is.  Key/values are checked and skipped, not kept:
 * export copies their bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

enum {
	GGUF_U8, GGUF_I8, GGUF_U16, GGUF_I16, GGUF_U32, GGUF_I32, GGUF_F32,
	GGUF_BOOL, GGUF_STRING, GGUF_ARRAY, GGUF_U64, GGUF_I64, GGUF_F64,
	GGUF_TYPE_COUNT
};

static const uint8_t gguf_size[GGUF_TYPE_COUNT] = {
	[GGUF_U8] = 1, [GGUF_I8] = 1, [GGUF_U16] = 2, [GGUF_I16] = 2,
	[GGUF_U32] = 4, [GGUF_I32] = 4, [GGUF_F32] = 4, [GGUF_BOOL] = 1,
	[GGUF_U64] = 8, [GGUF_I64] = 8, [GGUF_F64] = 8,
};

#define CUR_BUF (64 * 1024)

/* A buffered cursor over the source. */
struct cur {
	const struct qvl_model_src *src;
	struct qvl_model_error *err;
	uint64_t pos;
	uint64_t buf_off;
	size_t buf_len;
	uint8_t buf[CUR_BUF];
};

static uint64_t left(const struct cur *c)
{
	return c->src->size - c->pos;
}

static int get(struct cur *c, void *out, size_t n, const char *what)
{
	uint8_t *o = out;

	if (n > left(c))
		return qvl_model_fail(c->err, -EBADMSG, c->pos,
				      "truncated: %s runs past the end of the file",
				      what);
	while (n) {
		size_t k;

		if (c->pos < c->buf_off || c->pos >= c->buf_off + c->buf_len) {
			uint64_t l = left(c);
			int rc;

			c->buf_off = c->pos;
			c->buf_len = l < CUR_BUF ? (size_t)l : CUR_BUF;
			rc = c->src->read(c->src->arg, c->buf_off, c->buf,
					  c->buf_len);
			if (rc) {
				c->buf_len = 0;
				return qvl_model_fail(c->err, rc, c->pos,
						      "read error");
			}
		}
		k = (size_t)(c->buf_off + c->buf_len - c->pos);
		if (k > n)
			k = n;
		memcpy(o, c->buf + (c->pos - c->buf_off), k);
		o += k;
		n -= k;
		c->pos += k;
	}
	return 0;
}

static int skip(struct cur *c, uint64_t n, const char *what)
{
	if (n > left(c))
		return qvl_model_fail(c->err, -EBADMSG, c->pos,
				      "truncated: %s runs past the end of the file",
				      what);
	c->pos += n;
	return 0;
}

static int get32(struct cur *c, uint32_t *v, const char *what)
{
	uint8_t b[4];
	int rc = get(c, b, 4, what);

	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	     (uint32_t)b[3] << 24;
	return rc;
}

static int get64(struct cur *c, uint64_t *v, const char *what)
{
	uint8_t b[8];
	int rc = get(c, b, 8, what);

	*v = 0;
	for (int i = 7; i >= 0; i--)
		*v = *v << 8 | b[i];
	return rc;
}

/* A string's length, checked against what is left. */
static int str_len(struct cur *c, uint64_t *len, const char *what)
{
	uint64_t at = c->pos;
	int rc = get64(c, len, what);

	if (rc)
		return rc;
	if (*len > left(c))
		return qvl_model_fail(c->err, -EBADMSG, at,
				      "%s length %llu runs past the end of the file",
				      what, (unsigned long long)*len);
	return 0;
}

/* One value of @type (not an array), skipped. */
static int skip_value(struct cur *c, uint32_t type)
{
	uint64_t len;
	int rc;

	if (type == GGUF_STRING) {
		rc = str_len(c, &len, "string");
		return rc ? rc : skip(c, len, "string");
	}
	return skip(c, gguf_size[type], "value");
}

static int skip_array(struct cur *c)
{
	uint64_t at = c->pos, count, bytes;
	uint32_t et;
	int rc;

	if ((rc = get32(c, &et, "array type")) ||
	    (rc = get64(c, &count, "array count")))
		return rc;
	if (et == GGUF_ARRAY)
		return qvl_model_fail(c->err, -ENOTSUP, at, "nested array");
	if (et >= GGUF_TYPE_COUNT)
		return qvl_model_fail(c->err, -EBADMSG, at,
				      "array of unknown type %u", et);
	if (et != GGUF_STRING) {
		if (__builtin_mul_overflow(count, (uint64_t)gguf_size[et], &bytes) ||
		    bytes > left(c))
			return qvl_model_fail(c->err, -EBADMSG, at + 4,
					      "array of %llu elements runs past the end of the file",
					      (unsigned long long)count);
		return skip(c, bytes, "array");
	}
	/* Each string costs at least its 8-byte length. */
	if (count > left(c) / 8)
		return qvl_model_fail(c->err, -EBADMSG, at + 4,
				      "array of %llu strings cannot fit in the file",
				      (unsigned long long)count);
	for (uint64_t i = 0; i < count; i++)
		if ((rc = skip_value(c, GGUF_STRING)))
			return rc;
	return 0;
}

/* One key/value; general.alignment is read into m->alignment. */
static int parse_kv(struct cur *c, struct qvl_model *m)
{
	static const char align_key[] = "general.alignment";
	char key[sizeof(align_key) - 1];
	uint64_t at = c->pos, klen;
	uint32_t type, a;
	int rc, is_align = 0;

	if ((rc = str_len(c, &klen, "key")))
		return rc;
	if (klen == sizeof(key)) {
		if ((rc = get(c, key, sizeof(key), "key")))
			return rc;
		is_align = !memcmp(key, align_key, sizeof(key));
	} else if ((rc = skip(c, klen, "key"))) {
		return rc;
	}
	at = c->pos;
	if ((rc = get32(c, &type, "value type")))
		return rc;
	if (type >= GGUF_TYPE_COUNT)
		return qvl_model_fail(c->err, -EBADMSG, at,
				      "key/value of unknown type %u", type);
	if (is_align) {
		if (type != GGUF_U32)
			return qvl_model_fail(c->err, -EBADMSG, at,
					      "general.alignment is not a u32");
		if ((rc = get32(c, &a, "general.alignment")))
			return rc;
		if (a == 0 || (a & (a - 1)) || a > QVL_MODEL_GGUF_MAX_ALIGN)
			return qvl_model_fail(c->err, -EBADMSG, at + 4,
					      "general.alignment %u is not a power of two up to %u",
					      a, QVL_MODEL_GGUF_MAX_ALIGN);
		m->alignment = a;
		return 0;
	}
	return type == GGUF_ARRAY ? skip_array(c) : skip_value(c, type);
}

static int add_tensor(struct qvl_model *m, size_t *cap, uint64_t **info_at)
{
	if (m->nt == *cap) {
		size_t n = *cap ? 2 * *cap : 16;
		void *t = realloc(m->t, n * sizeof(*m->t));
		void *a;

		if (!t)
			return -ENOMEM;
		m->t = t;
		a = realloc(*info_at, n * sizeof(**info_at));
		if (!a)
			return -ENOMEM;
		*info_at = a;
		*cap = n;
	}
	memset(&m->t[m->nt], 0, sizeof(m->t[m->nt]));
	m->nt++;
	return 0;
}

static int parse_info(struct cur *c, struct qvl_model_tensor *t)
{
	uint64_t at = c->pos, len, ne[QVL_MAX_DIMS];
	uint32_t nd;
	int rc;

	if ((rc = str_len(c, &len, "tensor name")))
		return rc;
	if (len > QVL_MODEL_MAX_NAME)
		return qvl_model_fail(c->err, -EBADMSG, at,
				      "tensor name longer than %d bytes",
				      QVL_MODEL_MAX_NAME);
	t->name = malloc(len + 1);
	if (!t->name)
		return qvl_model_fail(c->err, -ENOMEM, at, "out of memory");
	if ((rc = get(c, t->name, len, "tensor name")))
		return rc;
	t->name[len] = '\0';
	if (strlen(t->name) != len)
		return qvl_model_fail(c->err, -EBADMSG, at + 8, "NUL in a tensor name");
	at = c->pos;
	if ((rc = get32(c, &nd, "n_dims")))
		return rc;
	if (nd > QVL_MAX_DIMS)
		return qvl_model_fail(c->err, -ENOTSUP, at,
				      "tensor '%s' has %u dims (at most %d)",
				      t->name, nd, QVL_MAX_DIMS);
	t->ndims = (int)nd;
	for (uint32_t i = 0; i < nd; i++)
		if ((rc = get64(c, &ne[i], "dims")))
			return rc;
	for (uint32_t i = 0; i < nd; i++)
		t->dims[i] = ne[nd - 1 - i];
	at = c->pos;
	if ((rc = get32(c, &t->gguf_type, "tensor type")) ||
	    (rc = get64(c, &t->offset, "tensor offset")))
		return rc;
	t->dtype = qvl_model_gguf_dtype(t->gguf_type);
	if (t->dtype == QVL_DTYPE_NONE)
		return qvl_model_fail(c->err, -ENOTSUP, at,
				      "tensor '%s' has unknown ggml type %u",
				      t->name, t->gguf_type);
	if (nd > 0 && ne[0] % qvl_dtype_table[t->dtype].block_elems)
		return qvl_model_fail(c->err, -EBADMSG, at,
				      "tensor '%s': first dim %llu is not whole %s blocks",
				      t->name, (unsigned long long)ne[0],
				      qvl_dtype_table[t->dtype].name);
	rc = qvl_model_tensor_bytes(t->dtype, t->ndims, t->dims, &t->size);
	if (rc || t->size > INT64_MAX)
		return qvl_model_fail(c->err, -EBADMSG, at,
				      "tensor '%s': dims make no valid size",
				      t->name);
	return 0;
}

/* Offsets aligned, inside the file, and no two tensors share a byte. */
static int check_ranges(struct cur *c, struct qvl_model *m,
			const uint64_t *info_at, unsigned flags)
{
	struct qvl_model_span *s;
	int rc = 0;

	for (size_t i = 0; i < m->nt; i++) {
		struct qvl_model_tensor *t = &m->t[i];
		uint64_t end;

		if (t->offset % m->alignment)
			return qvl_model_fail(c->err, -EBADMSG, info_at[i],
					      "tensor '%s': offset %llu is not a multiple of the alignment %u",
					      t->name, (unsigned long long)t->offset,
					      m->alignment);
		if (__builtin_add_overflow(t->offset, m->data_start, &t->offset) ||
		    __builtin_add_overflow(t->offset, t->size, &end) ||
		    (!(flags & QVL_MODEL_HEADER_ONLY) && end > c->src->size))
			return qvl_model_fail(c->err, -EBADMSG, info_at[i],
					      "tensor '%s': data runs past the end of the file",
					      t->name);
		if (end > m->data_end)
			m->data_end = end;
	}
	s = qvl_model_spans(m);
	if (!s)
		return -ENOMEM;
	for (size_t i = 1; i < m->nt; i++)
		if (s[i].begin < s[i - 1].end) {
			rc = qvl_model_fail(c->err, -EBADMSG, info_at[s[i].i],
					    "tensor '%s' overlaps tensor '%s'",
					    m->t[s[i].i].name, m->t[s[i - 1].i].name);
			break;
		}
	free(s);
	return rc;
}

static int parse(struct cur *c, struct qvl_model *m, unsigned flags)
{
	uint64_t n_tensors, *info_at = NULL;
	uint8_t magic[4];
	size_t cap = 0;
	int rc;

	if (c->src->size < 24)
		return qvl_model_fail(c->err, -EBADMSG, c->src->size,
				      "file too short for a GGUF header (24 bytes)");
	if ((rc = get(c, magic, 4, "magic")))
		return rc;
	if (memcmp(magic, "GGUF", 4))
		return qvl_model_fail(c->err, -EBADMSG, 0, "not a GGUF file (bad magic)");
	if ((rc = get32(c, &m->version, "version")))
		return rc;
	if (m->version != 2 && m->version != 3)
		return qvl_model_fail(c->err, -ENOTSUP, 4,
				      "GGUF version %u (versions 2 and 3 are read)",
				      m->version);
	if ((rc = get64(c, &n_tensors, "tensor count")) ||
	    (rc = get64(c, &m->n_kv, "key/value count")))
		return rc;
	/* The smallest key/value is 13 bytes, the smallest tensor info 24. */
	if (m->n_kv > left(c) / 13)
		return qvl_model_fail(c->err, -EBADMSG, 16,
				      "key/value count %llu cannot fit in the file",
				      (unsigned long long)m->n_kv);
	if (n_tensors > left(c) / 24)
		return qvl_model_fail(c->err, -EBADMSG, 8,
				      "tensor count %llu cannot fit in the file",
				      (unsigned long long)n_tensors);
	m->kv_off = c->pos;
	for (uint64_t i = 0; i < m->n_kv; i++)
		if ((rc = parse_kv(c, m)))
			return rc;
	m->kv_end = c->pos;
	if (n_tensors > left(c) / 24)
		return qvl_model_fail(c->err, -EBADMSG, 8,
				      "tensor count %llu cannot fit in the file",
				      (unsigned long long)n_tensors);
	for (uint64_t i = 0; i < n_tensors; i++) {
		if ((rc = add_tensor(m, &cap, &info_at))) {
			rc = qvl_model_fail(c->err, rc, c->pos, "out of memory");
			goto out;
		}
		info_at[m->nt - 1] = c->pos;
		if ((rc = parse_info(c, &m->t[m->nt - 1])))
			goto out;
	}
	if ((rc = qvl_model_check_names(m, info_at, c->err)))
		goto out;
	m->data_start = c->pos + (m->alignment - 1);
	if (m->data_start < c->pos) {
		rc = qvl_model_fail(c->err, -EBADMSG, c->pos, "data offset overflows");
		goto out;
	}
	m->data_start -= m->data_start % m->alignment;
	if (!(flags & QVL_MODEL_HEADER_ONLY) && m->data_start > c->src->size) {
		rc = qvl_model_fail(c->err, -EBADMSG, c->src->size,
				    "truncated: the data section starts at %llu, past the end",
				    (unsigned long long)m->data_start);
		goto out;
	}
	m->data_end = m->data_start;
	rc = check_ranges(c, m, info_at, flags);
out:
	free(info_at);
	return rc;
}

int qvl_model_gguf_parse(const struct qvl_model_src *src, unsigned flags,
			 struct qvl_model **out, struct qvl_model_error *err)
{
	struct qvl_model *m;
	struct cur *c;
	int rc;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	c = malloc(sizeof(*c));
	if (!m || !c) {
		rc = qvl_model_fail(err, -ENOMEM, 0, "out of memory");
		goto out_free;
	}
	*c = (struct cur){ .src = src, .err = err };
	m->format = QVL_MODEL_GGUF;
	m->alignment = QVL_MODEL_GGUF_DEFAULT_ALIGN;
	rc = parse(c, m, flags);
	if (!rc) {
		free(c);
		*out = m;
		return 0;
	}
out_free:
	free(c);
	qvl_model_free(m);
	return rc;
}

/*
 * model_common.c - what the safetensors and GGUF readers share: the dtype
 * tables of both formats, tensor names that are safe as paths, shapes, and
 * the error and buffer-source helpers.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

void qvl_model_free(struct qvl_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nt; i++)
		free(m->t[i].name);
	free(m->t);
	free(m->json);
	free(m);
}

int qvl_model_fail(struct qvl_model_error *err, int rc, uint64_t off,
		   const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->offset = off;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

int qvl_model_mem_read(void *arg, uint64_t off, void *buf, size_t len)
{
	const struct qvl_model_mem *m = arg;

	if (off > m->len || len > m->len - off)
		return -EIO;
	memcpy(buf, m->data + off, len);
	return 0;
}

const char *qvl_model_name_check(const char *name)
{
	const char *c = name;

	if (!*name)
		return "empty name";
	if (*name == '/')
		return "absolute name";
	for (;;) {
		size_t n = strcspn(c, "/");

		if (n == 0)
			return "empty path component";
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return "'.' or '..' component";
		if (n > NAME_MAX)
			return "path component longer than NAME_MAX";
		if (n >= 5 && !memcmp(c, ".qvl-", 5))
			return "component starting '.qvl-' (kept for qvlctl)";
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
				return "control character";
		if (!c[n])
			return NULL;
		c += n + 1;
	}
}

static int name_cmp(const void *a, const void *b)
{
	const struct qvl_model_tensor *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

int qvl_model_check_names(const struct qvl_model *m, const uint64_t *at,
			  struct qvl_model_error *err)
{
	const struct qvl_model_tensor **s;
	int rc = 0;

	for (size_t i = 0; i < m->nt; i++) {
		const char *why = qvl_model_name_check(m->t[i].name);

		if (why)
			return qvl_model_fail(err, -EBADMSG, at[i],
					      "tensor name '%.64s': %s",
					      m->t[i].name, why);
	}
	s = malloc((m->nt ? m->nt : 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < m->nt; i++)
		s[i] = &m->t[i];
	qsort(s, m->nt, sizeof(*s), name_cmp);
	for (size_t i = 1; i < m->nt; i++)
		if (!strcmp(s[i]->name, s[i - 1]->name)) {
			rc = qvl_model_fail(err, -EBADMSG, at[s[i] - m->t],
					    "tensor '%.64s' appears twice",
					    s[i]->name);
			break;
		}
	free(s);
	return rc;
}

/* safetensors dtype names (upstream's Dtype enum, serialized names). */
static const struct {
	const char *name;
	enum qvl_dtype dt;
} st_names[] = {
	{ "BOOL", QVL_DTYPE_BOOL },	{ "U8", QVL_DTYPE_U8 },
	{ "I8", QVL_DTYPE_I8 },		{ "F8_E5M2", QVL_DTYPE_F8E5M2 },
	{ "F8_E4M3", QVL_DTYPE_F8E4M3 }, { "I16", QVL_DTYPE_I16 },
	{ "U16", QVL_DTYPE_U16 },	{ "F16", QVL_DTYPE_F16 },
	{ "BF16", QVL_DTYPE_BF16 },	{ "I32", QVL_DTYPE_I32 },
	{ "U32", QVL_DTYPE_U32 },	{ "F32", QVL_DTYPE_F32 },
	{ "F64", QVL_DTYPE_F64 },	{ "I64", QVL_DTYPE_I64 },
	{ "U64", QVL_DTYPE_U64 },
};

enum qvl_dtype qvl_model_st_dtype(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(st_names) / sizeof(*st_names); i++)
		if (strlen(st_names[i].name) == len &&
		    !memcmp(st_names[i].name, name, len))
			return st_names[i].dt;
	return QVL_DTYPE_NONE;
}

const char *qvl_model_st_name(enum qvl_dtype dt)
{
	for (size_t i = 0; i < sizeof(st_names) / sizeof(*st_names); i++)
		if (st_names[i].dt == dt)
			return st_names[i].name;
	return NULL;
}

/* ggml type ids (ggml.h enum ggml_type); the holes are types ggml removed. */
static const enum qvl_dtype ggml_types[] = {
	[0] = QVL_DTYPE_F32,	   [1] = QVL_DTYPE_F16,
	[2] = QVL_DTYPE_Q4_0,	   [3] = QVL_DTYPE_Q4_1,
	[6] = QVL_DTYPE_Q5_0,	   [7] = QVL_DTYPE_Q5_1,
	[8] = QVL_DTYPE_Q8_0,	   [9] = QVL_DTYPE_Q8_1,
	[10] = QVL_DTYPE_Q2_K,	   [11] = QVL_DTYPE_Q3_K,
	[12] = QVL_DTYPE_Q4_K,	   [13] = QVL_DTYPE_Q5_K,
	[14] = QVL_DTYPE_Q6_K,	   [15] = QVL_DTYPE_Q8_K,
	[16] = QVL_DTYPE_IQ2_XXS,  [17] = QVL_DTYPE_IQ2_XS,
	[18] = QVL_DTYPE_IQ3_XXS,  [19] = QVL_DTYPE_IQ1_S,
	[20] = QVL_DTYPE_IQ4_NL,   [21] = QVL_DTYPE_IQ3_S,
	[22] = QVL_DTYPE_IQ2_S,	   [23] = QVL_DTYPE_IQ4_XS,
	[24] = QVL_DTYPE_I8,	   [25] = QVL_DTYPE_I16,
	[26] = QVL_DTYPE_I32,	   [27] = QVL_DTYPE_I64,
	[28] = QVL_DTYPE_F64,	   [29] = QVL_DTYPE_IQ1_M,
	[30] = QVL_DTYPE_BF16,	   [34] = QVL_DTYPE_TQ1_0,
	[35] = QVL_DTYPE_TQ2_0,	   [39] = QVL_DTYPE_MXFP4,
};

enum qvl_dtype qvl_model_gguf_dtype(uint32_t ggml_type)
{
	if (ggml_type >= sizeof(ggml_types) / sizeof(*ggml_types))
		return QVL_DTYPE_NONE;
	return ggml_types[ggml_type];
}

int qvl_model_gguf_type(enum qvl_dtype dt)
{
	if (dt == QVL_DTYPE_NONE)
		return -1;
	for (size_t i = 0; i < sizeof(ggml_types) / sizeof(*ggml_types); i++)
		if (ggml_types[i] == dt)
			return (int)i;
	return -1;
}

int qvl_model_shape_parse(const char *s, size_t len,
			  uint64_t dims[QVL_MAX_DIMS])
{
	int nd = 0;
	size_t i = 0;

	while (len > 0 && (s[len - 1] == '\0' || s[len - 1] == '\n'))
		len--;
	if (len == 0)
		return 0; /* a scalar */
	for (;;) {
		uint64_t v = 0;
		size_t start = i;

		if (nd == QVL_MAX_DIMS)
			return -EINVAL;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			unsigned d = (unsigned)(s[i] - '0');

			if (v > (UINT64_MAX - d) / 10)
				return -EINVAL;
			v = v * 10 + d;
		}
		if (i == start)
			return -EINVAL;
		dims[nd++] = v;
		if (i == len)
			return nd;
		if (s[i++] != ',')
			return -EINVAL;
	}
}

int qvl_model_tensor_bytes(enum qvl_dtype dt, int ndims, const uint64_t *dims,
			   uint64_t *bytes)
{
	uint64_t n = 1, b;

	if (dt <= QVL_DTYPE_NONE || dt >= QVL_DTYPE_COUNT)
		return -EINVAL;
	for (int i = 0; i < ndims; i++)
		if (__builtin_mul_overflow(n, dims[i], &n))
			return -EOVERFLOW;
	if (n == 0) {
		*bytes = 0;
		return 0;
	}
	b = qvl_dtype_bytes(dt, n);
	if (b == 0)
		return -EINVAL;
	if (b == UINT64_MAX)
		return -EOVERFLOW;
	*bytes = b;
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct qvl_model_span *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

struct qvl_model_span *qvl_model_spans(const struct qvl_model *m)
{
	struct qvl_model_span *s = malloc((m->nt ? m->nt : 1) * sizeof(*s));

	if (!s)
		return NULL;
	for (size_t i = 0; i < m->nt; i++)
		s[i] = (struct qvl_model_span){ m->t[i].offset,
						m->t[i].offset + m->t[i].size, i };
	qsort(s, m->nt, sizeof(*s), span_cmp);
	return s;
}

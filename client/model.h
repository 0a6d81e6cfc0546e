/*
 * model.h - read the headers of model files: safetensors and GGUF.
 *
 * The parsers turn a file's header into a list of tensors (name, dtype,
 * shape, where the bytes are) and remember where the format's own metadata
 * lies, so that `qvlctl import` can copy each tensor out and `qvlctl export`
 * can write the file back.  They read through a callback (struct
 * qvl_model_src), never the whole file, so the same code runs on a file
 * descriptor in qvlctl and on a buffer in the fuzzers.
 *
 * Trust: everything in a header is hostile until checked.  Every count,
 * length and offset is checked for overflow and against the source's size
 * before it is used; nothing is allocated on a count the file has not paid
 * for in bytes.  A parser that fails fills struct qvl_model_error with the
 * byte offset it was looking at and a one-line reason, and returns -EBADMSG
 * (malformed), -EOVERFLOW (a size past a cap), -ENOTSUP (a valid file this
 * reader does not take: a dtype, a GGUF version), -ENOMEM, or what the
 * callback returned.  The library never prints.
 *
 * Shapes are stored outermost dimension first, as user.qvl.shape writes
 * them; GGUF lists its dims innermost first and the GGUF parser reverses
 * them.
 */
#ifndef QVL_MODEL_H
#define QVL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qvl_abi.h"

/* Caps on what a header may ask for (upstream safetensors caps its header
 * at 100 MB; names longer than a path make no file). */
#define QVL_MODEL_MAX_HEADER (100u * 1000 * 1000)
#define QVL_MODEL_MAX_NAME 4096
#define QVL_MODEL_GGUF_MAX_ALIGN (1u << 20)
#define QVL_MODEL_GGUF_DEFAULT_ALIGN 32u

enum qvl_model_format {
	QVL_MODEL_SAFETENSORS = 1,
	QVL_MODEL_GGUF,
};

/*
 * Where the parser reads from.  @read fills exactly @len bytes at @off and
 * returns 0, or a negative errno (-EIO for a short read).  @size is the
 * source's length; the parser never asks past it.
 */
struct qvl_model_src {
	int (*read)(void *arg, uint64_t off, void *buf, size_t len);
	void *arg;
	uint64_t size;
};

struct qvl_model_error {
	uint64_t offset;  /* byte offset in the source the reason is about */
	char msg[192];
};

struct qvl_model_tensor {
	char *name;             /* NUL-terminated, owned by the model */
	enum qvl_dtype dtype;
	uint32_t gguf_type;     /* GGUF only: the ggml type id */
	int ndims;              /* 0 for a scalar */
	uint64_t dims[QVL_MAX_DIMS]; /* outermost first */
	uint64_t offset;        /* absolute offset of the bytes in the source */
	uint64_t size;          /* bytes */
};

struct qvl_model {
	enum qvl_model_format format;
	struct qvl_model_tensor *t; /* in header order */
	size_t nt;
	uint64_t data_start;    /* where the data section begins */
	uint64_t data_end;      /* the end of the last tensor's bytes */
	/* safetensors: the header's JSON (owned) and the span of the
	 * __metadata__ value in it, [meta_off, meta_off + meta_len) */
	char *json;
	size_t json_len, meta_off, meta_len;
	/* GGUF */
	uint32_t version;
	uint32_t alignment;
	uint64_t n_kv;
	uint64_t kv_off, kv_end; /* the key/value section, absolute */
};

/* Parser flags. */
#define QVL_MODEL_HEADER_ONLY 1u /* the source is a header alone (a sidecar):
				    do not check tensors against its size */

/*
 * qvl_model_safetensors_parse() - parse a safetensors header.
 * @src:   the file
 * @flags: 0 or QVL_MODEL_HEADER_ONLY
 * @out:   on success, a model the caller frees with qvl_model_free()
 * @err:   on failure, the offset and the reason
 *
 * Checks what upstream's reader checks: the header length (at most
 * QVL_MODEL_MAX_HEADER, inside the file), valid JSON, known dtypes, shape
 * times dtype size equal to the data range, and data ranges that tile the
 * data section exactly (no gap, no overlap, nothing past the end).
 * Returns 0 or a negative errno (see above).
 */
int qvl_model_safetensors_parse(const struct qvl_model_src *src,
				unsigned flags, struct qvl_model **out,
				struct qvl_model_error *err);

/*
 * qvl_model_gguf_parse() - parse a GGUF header (versions 2 and 3, little
 * endian).  Checks the magic, version, every count and string length
 * against the bytes left, key/value types, general.alignment (a power of
 * two), tensor dims (ne0 a multiple of the block), known ggml types,
 * aligned offsets, and that tensors neither overlap nor run past the end.
 * Same contract as qvl_model_safetensors_parse().
 */
int qvl_model_gguf_parse(const struct qvl_model_src *src, unsigned flags,
			 struct qvl_model **out, struct qvl_model_error *err);

/*
 * qvl_model_index_parse() - the shard files of a sharded safetensors set,
 * from its model.safetensors.index.json (@json, @len bytes).
 * @files: on success a malloc'd array of @n malloc'd names, distinct, in
 *         the order the weight map first names them; free each and it.
 * Refuses a shard name that is not a plain file name (a '/', "..").
 * Returns 0, -EBADMSG (with @err) or -ENOMEM.
 */
int qvl_model_index_parse(const char *json, size_t len, char ***files,
			  size_t *n, struct qvl_model_error *err);

/* qvl_model_free() - free a model and its names; accepts NULL. */
void qvl_model_free(struct qvl_model *m);

/*
 * qvl_model_name_check() - may @name become a path under an import
 * directory?  Refuses the empty name, a leading '/', an empty, "." or ".."
 * component, control characters, a component longer than NAME_MAX, and
 * names qvlctl keeps for itself (a component starting ".qvl-").
 * Returns NULL when it may, else a reason for people.
 */
const char *qvl_model_name_check(const char *name);

/*
 * The dtype <-> format tables.  *_from_* return QVL_DTYPE_NONE when the
 * format's type has no dtype here; *_name / *_type return NULL / -1 when
 * the dtype has no type in that format.
 */
enum qvl_dtype qvl_model_st_dtype(const char *name, size_t len);
const char *qvl_model_st_name(enum qvl_dtype dt);
enum qvl_dtype qvl_model_gguf_dtype(uint32_t ggml_type);
int qvl_model_gguf_type(enum qvl_dtype dt);

/*
 * qvl_model_shape_parse() - a user.qvl.shape value ("d0,d1", "" for a
 * scalar, a trailing NUL or newline allowed) into @dims.
 * Returns the number of dims (0 for a scalar) or -EINVAL.
 */
int qvl_model_shape_parse(const char *s, size_t len,
			  uint64_t dims[QVL_MAX_DIMS]);

/*
 * qvl_model_tensor_bytes() - bytes of a tensor of @dt with these dims;
 * -EINVAL when the element count is not whole blocks, -EOVERFLOW past
 * UINT64_MAX.
 */
int qvl_model_tensor_bytes(enum qvl_dtype dt, int ndims, const uint64_t *dims,
			   uint64_t *bytes);

/*
 * qvl_model_check_names() - every name passes qvl_model_name_check() and
 * none appears twice; @at[i] is the offset of tensor i's name, for @err.
 * Returns 0, -EBADMSG or -ENOMEM.  The parsers call it.
 */
int qvl_model_check_names(const struct qvl_model *m, const uint64_t *at,
			  struct qvl_model_error *err);

/* Fill @err (printf-style) and return @rc; for the parsers. */
__attribute__((format(printf, 4, 5)))
/* One tensor's bytes [begin, end) and its index in m->t. */
struct qvl_model_span {
	uint64_t begin, end;
	size_t i;
};

/* qvl_model_spans() - @m's tensors' spans sorted by where they begin
 * (malloc'ed, one entry at least), or NULL without memory. */
struct qvl_model_span *qvl_model_spans(const struct qvl_model *m);

int qvl_model_fail(struct qvl_model_error *err, int rc, uint64_t off,
		   const char *fmt, ...);

/* A source over a buffer, for tests and fuzzers: @arg is a struct
 * qvl_model_mem. */
struct qvl_model_mem {
	const uint8_t *data;
	size_t len;
};
int qvl_model_mem_read(void *arg, uint64_t off, void *buf, size_t len);

#endif /* QVL_MODEL_H */

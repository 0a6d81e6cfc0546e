/*
 * qvlmem_i.h - private to libqvlmem: the tensor object and xattr helpers
 * shared by qvlmem.c, qvlmem_hints.c and qvlmem_stats.c.
 */
#ifndef QVLMEM_I_H
#define QVLMEM_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qvlmem.h"

/*
 * Immutable after qvlmem_create()/qvlmem_open() returns, so any number of
 * threads may read it; only qvlmem_close() changes (frees) it.
 */
struct qvlmem_tensor {
	int fd;
	bool writable;
	void *data; /* NULL when size == 0 */
	size_t size;
	enum qvl_dtype dtype;
	int ndims;
	uint64_t dims[QVL_MAX_DIMS];
};

/* An xattr target: a file descriptor (fd >= 0) or else a path. */
struct qvlmem_target {
	int fd;
	const char *path;
};

#define QVLMEM_FD_TARGET(t) ((struct qvlmem_target){ .fd = (t)->fd, .path = NULL })
#define QVLMEM_PATH_TARGET(p) ((struct qvlmem_target){ .fd = -1, .path = (p) })

/* Longest xattr value the library reads (tier, shape, hint values). */
#define QVLMEM_VALUE_MAX 256

/*
 * qvlmem_xattr_get() - read @name into @buf (not NUL-terminated; a trailing
 * NUL or newline is dropped).  Returns the length or -errno.
 */
int qvlmem_xattr_get(struct qvlmem_target tg, const char *name, char *buf,
		     size_t len);

/* qvlmem_xattr_set() - write @value without a trailing NUL.  0 or -errno. */
int qvlmem_xattr_set(struct qvlmem_target tg, const char *name,
		     const char *value);

/* Hints by target; the public functions wrap these. */
int qvlmem_hints_check(const struct qvlmem_hints *h);
int qvlmem_hints_apply(struct qvlmem_target tg, const struct qvlmem_hints *h);
int qvlmem_hints_read(struct qvlmem_target tg, struct qvlmem_hints *h);

#endif /* QVLMEM_I_H */

/*
 * scalar.c - scalars (shape "") through libqvlmem:
 *
 *   scalar create PATH VALUE   an f32 scalar holding VALUE: qvlmem_create()
 *                              of one dim of 1, then the shape "" (what
 *                              qvlmem.h says to do)
 *   scalar read PATH           qvlmem_open() it: "DTYPE ndims=N nelems=N
 *                              size=N value=V" (V for f32 only)
 *
 * Exits 1 with qvlmem_strerror() when a call fails, 2 for usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "qvlmem.h"

static int scalar_create(const char *path, const char *value)
{
	const uint64_t one[1] = { 1 };
	struct qvlmem_tensor *t;
	int rc = qvlmem_create(path, QVL_DTYPE_F32, 1, one, NULL, &t);

	if (rc) {
		fprintf(stderr, "qvlmem_create: %s\n", qvlmem_strerror(rc));
		return 1;
	}
	if (fsetxattr(qvlmem_fd(t), QVL_XATTR_SHAPE, "", 0, 0) < 0) {
		perror("setxattr user.qvl.shape");
		qvlmem_close(t);
		return 1;
	}
	*(float *)qvlmem_data(t) = strtof(value, NULL);
	rc = qvlmem_sync(t);
	qvlmem_close(t);
	if (rc) {
		fprintf(stderr, "qvlmem_sync: %s\n", qvlmem_strerror(rc));
		return 1;
	}
	return 0;
}

static int scalar_read(const char *path)
{
	struct qvlmem_tensor *t;
	int rc = qvlmem_open(path, QVLMEM_RDONLY, &t);

	if (rc) {
		fprintf(stderr, "qvlmem_open: %s\n", qvlmem_strerror(rc));
		return 1;
	}
	printf("%s ndims=%d nelems=%llu size=%zu",
	       qvl_dtype_table[qvlmem_dtype(t)].name, qvlmem_ndims(t),
	       (unsigned long long)qvlmem_nelems(t), qvlmem_size(t));
	if (qvlmem_dtype(t) == QVL_DTYPE_F32 && qvlmem_size(t) == sizeof(float))
		printf(" value=%g", (double)*(const float *)qvlmem_data(t));
	putchar('\n');
	qvlmem_close(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "create"))
		return scalar_create(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "read"))
		return scalar_read(argv[2]);
	fprintf(stderr, "usage: scalar create PATH VALUE | scalar read PATH\n");
	return 2;
}

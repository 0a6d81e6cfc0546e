/*
 * qvlmem.c - libqvlmem: tensor create/open/map/sync/close, shapes, and the
 * xattr helpers the rest of the library uses.
 *
 * Order of work in qvlmem_create() matters on qvlmemfs: the daemon checks
 * that shape x dtype size equals the file size once both are set, so the
 * file is sized first, then the dtype, then the shape are written.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "qvlmem_i.h"

const char *qvlmem_version(void)
{
#ifdef QVL_VERSION
	return QVL_VERSION;
#else
#define QVLMEM_STR_(x) #x
#define QVLMEM_STR(x) QVLMEM_STR_(x)
	return QVLMEM_STR(QVLMEM_VERSION_MAJOR) "." QVLMEM_STR(
		QVLMEM_VERSION_MINOR) "." QVLMEM_STR(QVLMEM_VERSION_PATCH);
#endif
}

/* ---- xattr helpers ---- */

static size_t trim_value(const char *buf, size_t n)
{
	while (n > 0 && (buf[n - 1] == '\0' || buf[n - 1] == '\n'))
		n--;
	return n;
}

int qvlmem_xattr_get(struct qvlmem_target tg, const char *name, char *buf,
		     size_t len)
{
	ssize_t n;

	if (tg.fd >= 0)
		n = fgetxattr(tg.fd, name, buf, len);
	else
		n = getxattr(tg.path, name, buf, len);
	if (n < 0)
		return -errno;
	return (int)trim_value(buf, (size_t)n);
}

int qvlmem_xattr_set(struct qvlmem_target tg, const char *name,
		     const char *value)
{
	size_t n = strlen(value);
	int rc;

	if (tg.fd >= 0)
		rc = fsetxattr(tg.fd, name, value, n, 0);
	else
		rc = setxattr(tg.path, name, value, n, 0);
	return rc < 0 ? -errno : 0;
}

/* ---- shapes ---- */

int qvlmem_shape_parse(const char *s, size_t len, uint64_t dims[QVL_MAX_DIMS])
{
	int nd = 0;
	size_t i = 0;

	if (!s || !dims)
		return -EINVAL;
	len = trim_value(s, len);
	if (len == 0)
		return -EINVAL;
	for (;;) {
		uint64_t v = 0;
		size_t start = i;

		if (nd == QVL_MAX_DIMS)
			return -EINVAL;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			unsigned d = (unsigned)(s[i] - '0');

			if (v > (UINT64_MAX - d) / 10)
				return -EINVAL;
			v = v * 10 + d;
			i++;
		}
		if (i == start)
			return -EINVAL;
		dims[nd++] = v;
		if (i == len)
			return nd;
		if (s[i] != ',')
			return -EINVAL;
		i++;
	}
}

int qvlmem_shape_bytes(enum qvl_dtype dt, int ndims, const uint64_t *dims,
		       uint64_t *bytes)
{
	uint64_t n = 1, b;

	if (dt <= QVL_DTYPE_NONE || dt >= QVL_DTYPE_COUNT || !bytes ||
	    ndims < 0 || ndims > QVL_MAX_DIMS || (ndims && !dims))
		return -EINVAL;
	for (int i = 0; i < ndims; i++) {
		if (dims[i] == 0) { /* checked first: 0 x huge is not an overflow */
			*bytes = 0;
			return 0;
		}
	}
	for (int i = 0; i < ndims; i++) {
		if (n > UINT64_MAX / dims[i])
			return -EINVAL;
		n *= dims[i];
	}
	b = qvl_dtype_bytes(dt, n);
	/* 0: not whole blocks; the cap keeps the size an off_t and a size_t. */
	if (b == 0 || b > (uint64_t)INT64_MAX || b > SIZE_MAX)
		return -EINVAL;
	*bytes = b;
	return 0;
}

static void shape_format(char *buf, size_t len, int ndims,
			 const uint64_t *dims)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < ndims && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%" PRIu64,
					i ? "," : "", dims[i]);
}

/* ---- tensors ---- */

static int tensor_map(struct qvlmem_tensor *t, bool populate)
{
	int prot = PROT_READ | (t->writable ? PROT_WRITE : 0);
	void *p;

	t->data = NULL;
	if (t->size == 0) /* mmap of length 0 is EINVAL: an empty tensor has no mapping */
		return 0;
	p = mmap(NULL, t->size, prot, MAP_SHARED | (populate ? MAP_POPULATE : 0),
		 t->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	t->data = p;
	return 0;
}

int qvlmem_create(const char *path, enum qvl_dtype dt, int ndims,
		  const uint64_t *dims, const struct qvlmem_hints *hints,
		  struct qvlmem_tensor **out)
{
	char shape[QVL_MAX_DIMS * 21 + 1];
	struct qvlmem_tensor *t;
	uint64_t bytes;
	int rc;

	if (!path || !*path || !out || ndims < 1)
		return -EINVAL;
	rc = qvlmem_shape_bytes(dt, ndims, dims, &bytes);
	if (rc)
		return rc;
	if (hints) {
		rc = qvlmem_hints_check(hints);
		if (rc)
			return rc;
	}
	shape_format(shape, sizeof(shape), ndims, dims);

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (t->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	t->writable = true;
	t->size = (size_t)bytes;
	t->dtype = dt;
	t->ndims = ndims;
	memcpy(t->dims, dims, (size_t)ndims * sizeof(dims[0]));

	if (ftruncate(t->fd, (off_t)bytes) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	rc = qvlmem_xattr_set(QVLMEM_FD_TARGET(t), QVL_XATTR_DTYPE,
			      qvl_dtype_table[dt].name);
	if (rc)
		goto out_unlink;
	rc = qvlmem_xattr_set(QVLMEM_FD_TARGET(t), QVL_XATTR_SHAPE, shape);
	if (rc)
		goto out_unlink;
	if (hints) {
		rc = qvlmem_hints_apply(QVLMEM_FD_TARGET(t), hints);
		if (rc)
			goto out_unlink;
	}
	rc = tensor_map(t, false);
	if (rc)
		goto out_unlink;
	*out = t;
	return 0;

out_unlink:
	/* O_EXCL made the file ours, so taking it away leaves things as found. */
	unlink(path);
	close(t->fd);
out_free:
	free(t);
	return rc;
}

/* Read dtype and shape from the xattrs and reconcile them with the size. */
static int tensor_read_meta(struct qvlmem_tensor *t)
{
	struct qvlmem_target tg = QVLMEM_FD_TARGET(t);
	char buf[QVLMEM_VALUE_MAX];
	bool have_shape = false;
	uint64_t bytes;
	int n;

	t->dtype = QVL_DTYPE_U8; /* untyped files read as bytes */
	n = qvlmem_xattr_get(tg, QVL_XATTR_DTYPE, buf, sizeof(buf));
	if (n >= 0) {
		t->dtype = qvl_dtype_from_name(buf, (size_t)n);
		if (t->dtype == QVL_DTYPE_NONE)
			return -EBADMSG;
	} else if (n == -ERANGE) {
		return -EBADMSG;
	} else if (n != -ENODATA && n != -ENOTSUP) {
		return n;
	}

	n = qvlmem_xattr_get(tg, QVL_XATTR_SHAPE, buf, sizeof(buf));
	if (n == 0) { /* "": a scalar (qvlmem_shape_parse refuses it) */
		t->ndims = 0;
		have_shape = true;
	} else if (n > 0) {
		t->ndims = qvlmem_shape_parse(buf, (size_t)n, t->dims);
		if (t->ndims < 0)
			return -EBADMSG;
		have_shape = true;
	} else if (n == -ERANGE) {
		return -EBADMSG;
	} else if (n != -ENODATA && n != -ENOTSUP) {
		return n;
	}

	if (!have_shape) {
		const struct qvl_dtype_info *d = &qvl_dtype_table[t->dtype];

		if (t->size % d->block_bytes)
			return -EBADMSG;
		t->ndims = 1;
		t->dims[0] = t->size / d->block_bytes * d->block_elems;
		return 0;
	}
	if (qvlmem_shape_bytes(t->dtype, t->ndims, t->dims, &bytes) ||
	    bytes != t->size)
		return -EBADMSG;
	return 0;
}

int qvlmem_open(const char *path, int flags, struct qvlmem_tensor **out)
{
	struct qvlmem_tensor *t;
	struct stat st;
	int rc;

	if (!path || !out || (flags & ~(QVLMEM_RDWR | QVLMEM_POPULATE)))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->writable = flags & QVLMEM_RDWR;
	t->fd = open(path, (t->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (t->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	if (fstat(t->fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out_close;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		rc = -EFBIG;
		goto out_close;
	}
	t->size = (size_t)st.st_size;
	rc = tensor_read_meta(t);
	if (rc)
		goto out_close;
	rc = tensor_map(t, flags & QVLMEM_POPULATE);
	if (rc)
		goto out_close;
	*out = t;
	return 0;

out_close:
	close(t->fd);
out_free:
	free(t);
	return rc;
}

int qvlmem_close(struct qvlmem_tensor *t)
{
	int rc = 0;

	if (!t)
		return 0;
	if (t->data)
		munmap(t->data, t->size);
	if (close(t->fd) < 0)
		rc = -errno;
	free(t);
	return rc;
}

int qvlmem_sync(struct qvlmem_tensor *t)
{
	if (!t)
		return -EINVAL;
	if (t->data && msync(t->data, t->size, MS_SYNC) < 0)
		return -errno;
	if (fsync(t->fd) < 0)
		return -errno;
	return 0;
}

void *qvlmem_data(const struct qvlmem_tensor *t)
{
	return t->data;
}

size_t qvlmem_size(const struct qvlmem_tensor *t)
{
	return t->size;
}

enum qvl_dtype qvlmem_dtype(const struct qvlmem_tensor *t)
{
	return t->dtype;
}

int qvlmem_ndims(const struct qvlmem_tensor *t)
{
	return t->ndims;
}

int qvlmem_shape(const struct qvlmem_tensor *t, uint64_t *dims, int max)
{
	for (int i = 0; i < t->ndims && i < max; i++)
		dims[i] = t->dims[i];
	return t->ndims;
}

uint64_t qvlmem_nelems(const struct qvlmem_tensor *t)
{
	uint64_t n = 1;

	for (int i = 0; i < t->ndims; i++)
		n *= t->dims[i];
	return n;
}

int qvlmem_fd(const struct qvlmem_tensor *t)
{
	return t->fd;
}

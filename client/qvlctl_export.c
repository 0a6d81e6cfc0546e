/*
 * qvlctl_export.c - `qvlctl export [-q] DIR OUT`: the tensors under DIR
 * back into one .safetensors or .gguf file.
 *
 * The tensors are the sidecar's (in its order), then any other file under
 * DIR with a user.qvl.dtype attribute (by name); without a sidecar, those
 * alone.  Each file's dtype, shape and size are read and must agree with
 * each other.  The output format is OUT's suffix (.safetensors, .gguf),
 * else the sidecar's.  When the sidecar's format is the output's, no file
 * was added and every tensor still has the sidecar's dtype, shape and
 * size, the sidecar's header is written verbatim and each tensor at its
 * old offset (zeros in GGUF's alignment gaps): an unchanged import exports
 * to the same bytes.  Otherwise a new header is written: safetensors keeps
 * the sidecar's __metadata__, GGUF its key/values, version and alignment;
 * converting between the formats carries the tensors alone.  OUT is
 * written under a temporary name beside it and renamed when complete.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "qvlctl_model.h"

#define WALK_MAX_DEPTH 32

/* A tensor as DIR holds it now. */
struct cur {
	struct qvl_model_tensor t;   /* t.name owned; t.offset: in the output */
	const struct qvl_model_tensor *side; /* its sidecar entry, or NULL */
};

struct export {
	const char *dir, *out;
	int dirfd, side_fd, out_fd;
	struct qvl_model *side;      /* the sidecar, or NULL */
	struct cur *c;
	size_t nc, cap;
	int format;
	uint8_t *buf;
	struct qvlctl_progress prog;
	/* output buffer for headers */
	uint8_t ob[64 * 1024];
	size_t on;
	int oerr;
};

static void out_flush(struct export *ex)
{
	if (ex->on && !ex->oerr)
		ex->oerr = qvlctl_write_all(ex->out_fd, ex->ob, ex->on);
	ex->on = 0;
}

static void out_put(struct export *ex, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		size_t k = sizeof(ex->ob) - ex->on;

		if (k > n)
			k = n;
		memcpy(ex->ob + ex->on, b, k);
		ex->on += k;
		b += k;
		n -= k;
		if (ex->on == sizeof(ex->ob))
			out_flush(ex);
	}
}

static void out_le(struct export *ex, uint64_t v, int bytes)
{
	uint8_t b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	out_put(ex, b, (size_t)bytes);
}

static int add(struct export *ex, char *name)
{
	if (ex->nc == ex->cap) {
		size_t cap = ex->cap ? 2 * ex->cap : 64;
		void *c = realloc(ex->c, cap * sizeof(*ex->c));

		if (!c)
			return -ENOMEM;
		ex->c = c;
		ex->cap = cap;
	}
	memset(&ex->c[ex->nc], 0, sizeof(ex->c[ex->nc]));
	ex->c[ex->nc++].t.name = name;
	return 0;
}

static int cur_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cur *)a)->t.name, ((const struct cur *)b)->t.name);
}

static bool in_sidecar(const struct export *ex, const char *name)
{
	if (!ex->side)
		return false;
	for (size_t i = 0; i < ex->side->nt; i++)
		if (!strcmp(ex->side->t[i].name, name))
			return true;
	return false;
}

static bool has_dtype(const struct export *ex, const char *path)
{
	char *full;
	bool yes;

	if (asprintf(&full, "%s/%s", ex->dir, path) < 0)
		return false;
	yes = lgetxattr(full, QVL_XATTR_DTYPE, NULL, 0) >= 0;
	free(full);
	return yes;
}

/* Files under @rel with a dtype, not in the sidecar: the extras. */
static int walk(struct export *ex, const char *rel, int depth)
{
	int fd = openat(ex->dirfd, rel, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (!rc && (de = readdir(d))) {
		char *path;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&path, "%s%s%s", strcmp(rel, ".") ? rel : "",
			     strcmp(rel, ".") ? "/" : "", de->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (qvl_model_name_check(path) ||
		    fstatat(ex->dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(path); /* .qvl-* and the like, or gone */
			continue;
		}
		if (S_ISDIR(st.st_mode) && depth < WALK_MAX_DEPTH) {
			rc = walk(ex, path, depth + 1);
			free(path);
		} else if (S_ISREG(st.st_mode) && !in_sidecar(ex, path) &&
			   has_dtype(ex, path)) {
			rc = add(ex, path);
		} else {
			free(path);
		}
	}
	closedir(d);
	return rc;
}

/* Read one tensor's dtype, shape and size from its file. */
static int stat_tensor(struct export *ex, struct cur *c)
{
	struct qvl_model_tensor *t = &c->t;
	char v[256];
	struct stat st;
	ssize_t n;
	uint64_t bytes;
	int fd = openat(ex->dirfd, t->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;
	const char *why = NULL;

	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
		goto out;
	}
	t->size = (uint64_t)st.st_size;
	n = fgetxattr(fd, QVL_XATTR_DTYPE, v, sizeof(v));
	if (n >= 0) {
		while (n > 0 && (v[n - 1] == '\0' || v[n - 1] == '\n'))
			n--;
		t->dtype = qvl_dtype_from_name(v, (size_t)n);
		if (t->dtype == QVL_DTYPE_NONE) {
			why = "unknown user.qvl.dtype";
			goto out;
		}
	} else if (errno == ENODATA) {
		t->dtype = QVL_DTYPE_U8;
	} else {
		rc = -errno;
		goto out;
	}
	n = fgetxattr(fd, QVL_XATTR_SHAPE, v, sizeof(v));
	if (n >= 0) {
		t->ndims = qvl_model_shape_parse(v, (size_t)n, t->dims);
		if (t->ndims < 0) {
			why = "malformed user.qvl.shape";
			goto out;
		}
	} else if (errno == ENODATA) {
		const struct qvl_dtype_info *d = &qvl_dtype_table[t->dtype];

		if (t->size % d->block_bytes) {
			why = "no shape, and the size is not whole elements";
			goto out;
		}
		t->ndims = 1;
		t->dims[0] = t->size / d->block_bytes * d->block_elems;
	} else {
		rc = -errno;
		goto out;
	}
	if (qvl_model_tensor_bytes(t->dtype, t->ndims, t->dims, &bytes) ||
	    bytes != t->size)
		why = "dtype and shape do not match the size";
out:
	if (fd >= 0)
		close(fd);
	if (why || rc)
		fprintf(stderr, "qvlctl: export: %s/%s: %s\n", ex->dir, t->name,
			why ? why : strerror(-rc));
	return why ? -EINVAL : rc;
}

static bool same(const struct qvl_model_tensor *a, const struct qvl_model_tensor *b)
{
	return a->dtype == b->dtype && a->ndims == b->ndims && a->size == b->size &&
	       !memcmp(a->dims, b->dims, (size_t)a->ndims * sizeof(*a->dims));
}

static int copy_tensor(struct export *ex, const struct cur *c)
{
	bool in_err;
	int fd = openat(ex->dirfd, c->t.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "qvlctl: export: %s/%s: %s\n", ex->dir, c->t.name,
			strerror(-rc));
		return rc;
	}
	rc = qvlctl_copy(fd, 0, c->t.size, ex->out_fd, ex->buf, &ex->prog, &in_err);
	close(fd);
	if (rc) {
		qvlctl_progress_end(&ex->prog);
		fprintf(stderr, "qvlctl: export: %s: %s\n",
			in_err ? c->t.name : ex->out,
			rc == -EIO && in_err ? "file shrank while being read"
					     : rc == -EINTR ? "interrupted" : strerror(-rc));
	}
	return rc;
}

static int pos_cmp(const void *a, const void *b)
{
	const struct cur *x = *(struct cur *const *)a, *y = *(struct cur *const *)b;

	return x->t.offset < y->t.offset ? -1 : x->t.offset > y->t.offset;
}

/*
 * The data section: tensors in offset order, zeros in the gaps, and
 * (GGUF) zeros to the alignment after the last, as ggml writes it.
 */
static int write_data(struct export *ex, uint64_t pos, uint32_t align)
{
	struct cur **order = malloc((ex->nc ? ex->nc : 1) * sizeof(*order));
	int rc = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < ex->nc; i++)
		order[i] = &ex->c[i];
	qsort(order, ex->nc, sizeof(*order), pos_cmp);
	for (size_t i = 0; !rc && i < ex->nc; i++) {
		rc = qvlctl_zeros(ex->out_fd, order[i]->t.offset - pos);
		if (!rc)
			rc = copy_tensor(ex, order[i]);
		pos = order[i]->t.offset + order[i]->t.size;
	}
	if (!rc && align > 1 && pos % align)
		rc = qvlctl_zeros(ex->out_fd, align - pos % align);
	free(order);
	return rc;
}

static int write_verbatim(struct export *ex)
{
	bool in_err;
	int rc;

	/* Tensors take the sidecar's offsets. */
	for (size_t i = 0; i < ex->nc; i++)
		ex->c[i].t.offset = ex->c[i].side->offset;
	rc = qvlctl_copy(ex->side_fd, 0, ex->side->data_start, ex->out_fd,
			 ex->buf, NULL, &in_err);
	if (rc)
		return rc;
	return write_data(ex, ex->side->data_start,
			  ex->format == QVL_MODEL_GGUF ? ex->side->alignment : 1);
}

static int write_safetensors(struct export *ex)
{
	const struct qvl_model *s = ex->side;
	struct qvl_model_tensor *t = malloc((ex->nc ? ex->nc : 1) * sizeof(*t));
	char *hdr;
	size_t len;
	int rc;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < ex->nc; i++)
		t[i] = ex->c[i].t;
	rc = qvlctl_st_header(t, ex->nc,
			      s && s->format == QVL_MODEL_SAFETENSORS && s->meta_len
				      ? s->json + s->meta_off : NULL,
			      s ? s->meta_len : 0, &hdr, &len);
	if (rc == -EINVAL) {
		for (size_t i = 0; i < ex->nc; i++)
			if (!qvl_model_st_name(t[i].dtype)) {
				fprintf(stderr, "qvlctl: export: %s: dtype %s has no safetensors type\n",
					t[i].name, qvl_dtype_table[t[i].dtype].name);
				break;
			}
	}
	for (size_t i = 0; !rc && i < ex->nc; i++)
		ex->c[i].t.offset = len + t[i].offset;
	free(t);
	if (rc)
		return rc;
	rc = qvlctl_write_all(ex->out_fd, hdr, len);
	free(hdr);
	return rc ? rc : write_data(ex, len, 1);
}

static int write_gguf(struct export *ex)
{
	const struct qvl_model *s = ex->side && ex->side->format == QVL_MODEL_GGUF
					    ? ex->side : NULL;
	uint32_t align = s ? s->alignment : QVL_MODEL_GGUF_DEFAULT_ALIGN;
	uint64_t pos, off = 0;
	bool in_err;
	int rc;

	for (size_t i = 0; i < ex->nc; i++) {
		const struct qvl_model_tensor *t = &ex->c[i].t;
		int type = qvl_model_gguf_type(t->dtype);

		if (type < 0) {
			fprintf(stderr, "qvlctl: export: %s: dtype %s has no GGUF type\n",
				t->name, qvl_dtype_table[t->dtype].name);
			return -EINVAL;
		}
		if (t->ndims && t->dims[t->ndims - 1] % qvl_dtype_table[t->dtype].block_elems) {
			fprintf(stderr, "qvlctl: export: %s: innermost dim is not whole %s blocks\n",
				t->name, qvl_dtype_table[t->dtype].name);
			return -EINVAL;
		}
	}
	out_put(ex, "GGUF", 4);
	out_le(ex, s ? s->version : 3, 4);
	out_le(ex, ex->nc, 8);
	out_le(ex, s ? s->n_kv : 0, 8);
	pos = 24;
	if (s) {
		out_flush(ex);
		if (ex->oerr)
			return ex->oerr;
		rc = qvlctl_copy(ex->side_fd, s->kv_off, s->kv_end - s->kv_off,
				 ex->out_fd, ex->buf, NULL, &in_err);
		if (rc)
			return rc;
		pos += s->kv_end - s->kv_off;
	}
	for (size_t i = 0; i < ex->nc; i++) {
		struct qvl_model_tensor *t = &ex->c[i].t;
		size_t nl = strlen(t->name);

		out_le(ex, nl, 8);
		out_put(ex, t->name, nl);
		out_le(ex, (uint64_t)t->ndims, 4);
		for (int d = t->ndims - 1; d >= 0; d--)
			out_le(ex, t->dims[d], 8);
		out_le(ex, (uint64_t)qvl_model_gguf_type(t->dtype), 4);
		out_le(ex, off, 8);
		pos += 8 + nl + 4 + 8 * (uint64_t)t->ndims + 4 + 8;
		t->offset = off;
		off += t->size + (align - t->size % align) % align;
	}
	while (pos % align) {
		out_put(ex, "", 1);
		pos++;
	}
	out_flush(ex);
	if (ex->oerr)
		return ex->oerr;
	for (size_t i = 0; i < ex->nc; i++)
		ex->c[i].t.offset += pos;
	return write_data(ex, pos, align);
}

static int open_sidecar(struct export *ex)
{
	static const char *const names[] = { QVLCTL_SIDECAR_ST, QVLCTL_SIDECAR_GGUF };
	static const int formats[] = { QVL_MODEL_SAFETENSORS, QVL_MODEL_GGUF };

	for (int i = 0; i < 2; i++) {
		struct stat st;
		char *path;
		int rc;

		if (faccessat(ex->dirfd, names[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (asprintf(&path, "%s/%s", ex->dir, names[i]) < 0)
			return -ENOMEM;
		rc = qvlctl_model_open("export", path, formats[i],
				       QVL_MODEL_HEADER_ONLY, &ex->side, &ex->side_fd);
		/* The verbatim export copies the header from it. */
		if (!rc && (fstat(ex->side_fd, &st) < 0 ||
			    (uint64_t)st.st_size < ex->side->data_start)) {
			fprintf(stderr, "qvlctl: export: %s: shorter than its header\n",
				path);
			rc = -EINVAL;
		}
		free(path);
		return rc;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: qvlctl export [-q] DIR OUT\n"
		"  OUT: a .safetensors or .gguf file (the format by its suffix,\n"
		"  else the format DIR was imported from)\n");
	return 2;
}

static int run(struct export *ex, bool quiet)
{
	size_t nside = ex->side ? ex->side->nt : 0;
	bool verbatim;
	uint64_t total = 0;
	size_t olen = strlen(ex->out);
	int rc;

	if (olen > 5 && !strcmp(ex->out + olen - 5, ".gguf"))
		ex->format = QVL_MODEL_GGUF;
	else if (olen > 12 && !strcmp(ex->out + olen - 12, ".safetensors"))
		ex->format = QVL_MODEL_SAFETENSORS;
	else if (ex->side)
		ex->format = ex->side->format;
	else {
		fprintf(stderr, "qvlctl: export: %s: no sidecar, and OUT ends in "
			"neither .safetensors nor .gguf\n", ex->dir);
		return -EINVAL;
	}
	for (size_t i = 0; i < nside; i++) {
		char *name = strdup(ex->side->t[i].name);

		if (!name || add(ex, name)) {
			free(name);
			return -ENOMEM;
		}
		ex->c[i].side = &ex->side->t[i];
	}
	rc = walk(ex, ".", 0);
	if (rc) {
		fprintf(stderr, "qvlctl: export: %s: %s\n", ex->dir, strerror(-rc));
		return rc;
	}
	qsort(ex->c + nside, ex->nc - nside, sizeof(*ex->c), cur_cmp);
	verbatim = ex->side && (int)ex->side->format == ex->format && ex->nc == nside;
	for (size_t i = 0; i < ex->nc; i++) {
		rc = stat_tensor(ex, &ex->c[i]);
		if (rc)
			return rc;
		if (!ex->c[i].side || !same(&ex->c[i].t, ex->c[i].side))
			verbatim = false;
		total += ex->c[i].t.size;
	}
	qvlctl_progress_start(&ex->prog, total, quiet);
	if (verbatim)
		rc = write_verbatim(ex);
	else if (ex->format == QVL_MODEL_GGUF)
		rc = write_gguf(ex);
	else
		rc = write_safetensors(ex);
	qvlctl_progress_end(&ex->prog);
	if (rc == 0 && !quiet)
		printf("exported %zu tensors into %s (%s header)\n", ex->nc, ex->out,
		       verbatim ? "original" : "new");
	return rc;
}

int qvlctl_export_main(int argc, char **argv)
{
	struct export *ex = calloc(1, sizeof(*ex));
	bool quiet = false;
	char *tmp = NULL;
	int rc;

	if (!ex)
		return 1;
	ex->dirfd = ex->side_fd = ex->out_fd = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			free(ex);
			return usage(), 0;
		} else if ((argv[i][0] == '-' && argv[i][1]) || ex->out) {
			free(ex);
			return usage();
		} else if (!ex->dir) {
			ex->dir = argv[i];
		} else {
			ex->out = argv[i];
		}
	}
	if (!ex->dir || !ex->out) {
		free(ex);
		return usage();
	}
	qvlctl_catch_signals();
	ex->buf = malloc(QVLCTL_COPY_BUF);
	ex->dirfd = open(ex->dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (ex->dirfd < 0 || !ex->buf) {
		rc = ex->buf ? -errno : -ENOMEM;
		fprintf(stderr, "qvlctl: export: %s: %s\n", ex->dir, strerror(-rc));
		goto out;
	}
	rc = open_sidecar(ex);
	if (rc)
		goto out;
	if (asprintf(&tmp, "%s" QVLCTL_TMP_PREFIX "%ld", ex->out, (long)getpid()) < 0) {
		tmp = NULL;
		rc = -ENOMEM;
		goto out;
	}
	ex->out_fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (ex->out_fd < 0) {
		rc = -errno;
		fprintf(stderr, "qvlctl: export: %s: %s\n", tmp, strerror(-rc));
		goto out;
	}
	rc = run(ex, quiet);
	if (!rc && (fdatasync(ex->out_fd) < 0 || close(ex->out_fd) < 0))
		rc = -errno;
	else if (rc)
		close(ex->out_fd);
	ex->out_fd = -1;
	if (!rc && rename(tmp, ex->out) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		if (rc != -EINVAL)
			fprintf(stderr, "qvlctl: export: %s: not written (%s)\n", ex->out,
				rc == -EINTR ? "interrupted" : strerror(-rc));
	}
out:
	for (size_t i = 0; i < ex->nc; i++)
		free(ex->c[i].t.name);
	free(ex->c);
	free(tmp);
	qvl_model_free(ex->side);
	if (ex->side_fd >= 0)
		close(ex->side_fd);
	if (ex->dirfd >= 0)
		close(ex->dirfd);
	free(ex->buf);
	free(ex);
	return rc ? 1 : 0;
}

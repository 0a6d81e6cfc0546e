/*
 * qvlctl_import.c - `qvlctl import [-q] MODEL DIR`: one file per tensor.
 *
 * Every header is parsed and checked in full before the first byte is
 * written, so a malformed or hostile file changes nothing.  Each tensor is
 * written as DIR/sub/.qvl-tmp.PID.N with user.qvl.dtype and user.qvl.shape
 * set while it is still empty (a qvlmemfs mount then codes its chunks by
 * dtype from the first write, and holds the shape as pending until the
 * size matches), then renamed to its name; on any error the temporary file
 * is removed.  When the copy itself fails (disk full, Ctrl-C), tensors
 * finished before it stay, the sidecar is not written, and the message
 * says how many stayed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "qvlctl_model.h"

/* One model file of the import (several for a sharded set). */
struct part {
	char *path;
	struct qvl_model *m;
	int fd;
};

struct import {
	const char *dir;
	int dirfd;
	struct part *parts;
	size_t nparts;
	uint8_t *buf;
	struct qvlctl_progress prog;
	unsigned long tmp_seq;
	size_t done;  /* tensors renamed into place */
};

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* mkdir -p for @path relative to @dirfd; every component already checked. */
static int mkdirs_at(int dirfd, const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdirat(dirfd, p, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*s = '/';
	}
	free(p);
	return rc;
}

static int mkdir_p(const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

static void shape_str(const struct qvl_model_tensor *t, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < t->ndims && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used,
					 i ? ",%" PRIu64 : "%" PRIu64, t->dims[i]);
}

/* One tensor: temporary file, xattrs, bytes, rename. */
static int import_tensor(struct import *im, const struct part *pt,
			 const struct qvl_model_tensor *t)
{
	const char *base = strrchr(t->name, '/');
	char tmp[64], shape[QVL_MAX_DIMS * 21 + 1], *parent = NULL;
	const char *dt = qvl_dtype_table[t->dtype].name;
	int pfd = im->dirfd, fd = -1, rc;
	bool in_err = false;
	const char *what = "create";

	if (base) {
		parent = strndup(t->name, (size_t)(base - t->name));
		base++;
		rc = parent ? mkdirs_at(im->dirfd, t->name) : -ENOMEM;
		if (rc)
			goto out_say;
		pfd = openat(im->dirfd, parent, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (pfd < 0) {
			rc = -errno;
			goto out_say;
		}
	} else {
		base = t->name;
	}
	snprintf(tmp, sizeof(tmp), QVLCTL_TMP_PREFIX "%ld.%lu", (long)getpid(),
		 im->tmp_seq++);
	fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out_say;
	}
	what = "set user.qvl.dtype/shape on";
	shape_str(t, shape, sizeof(shape));
	if (fsetxattr(fd, QVL_XATTR_DTYPE, dt, strlen(dt), 0) < 0 ||
	    fsetxattr(fd, QVL_XATTR_SHAPE, shape, strlen(shape), 0) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	what = "write";
	rc = qvlctl_copy(pt->fd, t->offset, t->size, fd, im->buf, &im->prog,
			 &in_err);
	if (rc)
		goto out_unlink;
	rc = close(fd) < 0 ? -errno : 0; /* FUSE reports write-back errors here */
	fd = -1;
	if (rc)
		goto out_unlink;
	what = "rename into place";
	if (renameat(pfd, tmp, pfd, base) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	im->done++;
	goto out;
out_unlink:
	if (fd >= 0)
		close(fd);
	unlinkat(pfd, tmp, 0);
out_say:
	qvlctl_progress_end(&im->prog);
	if (in_err)
		fprintf(stderr, "qvlctl: import: %s: offset %" PRIu64 ": reading tensor '%s': %s\n",
			pt->path, t->offset, t->name, strerror(-rc));
	else
		fprintf(stderr, "qvlctl: import: %s/%s: cannot %s: %s\n", im->dir,
			t->name, what, rc == -EINTR ? "interrupted" : strerror(-rc));
out:
	if (pfd != im->dirfd && pfd >= 0)
		close(pfd);
	free(parent);
	return rc;
}

/* The sidecar of one model file: its header bytes, verbatim. */
static int write_sidecar_copy(struct import *im, const struct part *pt,
			      const char *name)
{
	char tmp[64];
	bool in_err;
	int fd, rc;

	snprintf(tmp, sizeof(tmp), QVLCTL_TMP_PREFIX "%ld.side", (long)getpid());
	fd = openat(im->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = qvlctl_copy(pt->fd, 0, pt->m->data_start, fd, im->buf, NULL, &in_err);
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && renameat(im->dirfd, tmp, im->dirfd, name) < 0)
		rc = -errno;
	if (rc)
		unlinkat(im->dirfd, tmp, 0);
	return rc;
}

/* A sharded set's sidecar: one header for all tensors, shard by shard. */
static int write_sidecar_merged(struct import *im)
{
	struct qvl_model_tensor *all;
	const struct qvl_model *m0 = im->parts[0].m;
	size_t n = 0, k = 0, len;
	char *hdr;
	int rc;

	for (size_t i = 0; i < im->nparts; i++)
		n += im->parts[i].m->nt;
	all = malloc((n ? n : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < im->nparts; i++)
		for (size_t j = 0; j < im->parts[i].m->nt; j++)
			all[k++] = im->parts[i].m->t[j];
	rc = qvlctl_st_header(all, n, m0->meta_len ? m0->json + m0->meta_off : NULL,
			      m0->meta_len, &hdr, &len);
	free(all);
	if (rc)
		return rc;
	rc = qvlctl_write_file_at(im->dirfd, QVLCTL_SIDECAR_ST, hdr, len);
	free(hdr);
	return rc;
}

static char *read_small_file(const char *path, size_t *len)
{
	FILE *f;
	char *s = NULL;
	long n;

	errno = 0;
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    (uint64_t)n <= QVL_MODEL_MAX_HEADER && fseek(f, 0, SEEK_SET) == 0 &&
	    (s = malloc((size_t)n + 1)) && fread(s, 1, (size_t)n, f) == (size_t)n) {
		s[n] = '\0';
		*len = (size_t)n;
	} else {
		free(s);
		s = NULL;
		if (!errno)
			errno = EFBIG;
	}
	fclose(f);
	return s;
}

/* The parts of a sharded set: the files its index names, beside it. */
static int open_index(struct import *im, const char *index)
{
	struct qvl_model_error err = { 0 };
	char **files = NULL, *json;
	const char *slash = strrchr(index, '/');
	int dirlen = slash ? (int)(slash - index) : 1, rc;
	size_t len, n = 0;

	json = read_small_file(index, &len);
	if (!json) {
		fprintf(stderr, "qvlctl: import: %s: %s\n", index, strerror(errno));
		return -EIO;
	}
	rc = qvl_model_index_parse(json, len, &files, &n, &err);
	free(json);
	if (rc) {
		fprintf(stderr, "qvlctl: import: %s: offset %" PRIu64 ": %s\n",
			index, err.offset, err.msg[0] ? err.msg : strerror(-rc));
		return rc;
	}
	im->parts = calloc(n ? n : 1, sizeof(*im->parts));
	if (!im->parts)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		struct part *pt = &im->parts[i];

		pt->fd = -1;
		im->nparts++;
		if (asprintf(&pt->path, "%.*s/%s", dirlen, slash ? index : ".",
			     files[i]) < 0) {
			pt->path = NULL;
			rc = -ENOMEM;
			break;
		}
		rc = qvlctl_model_open("import", pt->path, QVL_MODEL_SAFETENSORS, 0,
				       &pt->m, &pt->fd);
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	if (!rc && n == 0) {
		fprintf(stderr, "qvlctl: import: %s: the weight map names no shard\n",
			index);
		rc = -EBADMSG;
	}
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The parsers refuse a name twice in one file; across shards, here. */
static int check_across(const struct import *im)
{
	size_t n = 0, k = 0;
	char **names;
	int rc = 0;

	if (im->nparts < 2)
		return 0;
	for (size_t i = 0; i < im->nparts; i++)
		n += im->parts[i].m->nt;
	names = malloc((n ? n : 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < im->nparts; i++)
		for (size_t j = 0; j < im->parts[i].m->nt; j++)
			names[k++] = im->parts[i].m->t[j].name;
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(names[i], names[i - 1])) {
			fprintf(stderr, "qvlctl: import: tensor '%s' is in two shards\n",
				names[i]);
			rc = -EBADMSG;
			break;
		}
	free(names);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: qvlctl import [-q] MODEL DIR\n"
		"  MODEL: a .safetensors file, a sharded set's "
		"model.safetensors.index.json, or a .gguf file (v2, v3)\n");
	return 2;
}

int qvlctl_import_main(int argc, char **argv)
{
	struct import im = { .dirfd = -1 };
	const char *model = NULL, *other;
	bool quiet = false;
	uint64_t total = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(), 0;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage();
		else if (!model)
			model = argv[i];
		else if (!im.dir)
			im.dir = argv[i];
		else
			return usage();
	}
	if (!model || !im.dir)
		return usage();
	qvlctl_catch_signals();

	if (ends_with(model, ".json")) {
		rc = open_index(&im, model);
	} else {
		im.parts = calloc(1, sizeof(*im.parts));
		if (!im.parts)
			return 1;
		im.nparts = 1;
		im.parts[0].fd = -1;
		im.parts[0].path = strdup(model);
		rc = im.parts[0].path ? qvlctl_model_open("import", model, 0, 0,
							  &im.parts[0].m, &im.parts[0].fd)
				      : -ENOMEM;
	}
	if (!rc)
		rc = check_across(&im);
	if (rc)
		goto out;

	rc = mkdir_p(im.dir);
	if (!rc) {
		im.dirfd = open(im.dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		rc = im.dirfd < 0 ? -errno : 0;
	}
	im.buf = malloc(QVLCTL_COPY_BUF);
	if (!rc && !im.buf)
		rc = -ENOMEM;
	if (rc) {
		fprintf(stderr, "qvlctl: import: %s: %s\n", im.dir, strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < im.nparts; i++)
		for (size_t j = 0; j < im.parts[i].m->nt; j++)
			total += im.parts[i].m->t[j].size;
	qvlctl_progress_start(&im.prog, total, quiet);
	for (size_t i = 0; !rc && i < im.nparts; i++)
		for (size_t j = 0; !rc && j < im.parts[i].m->nt; j++)
			rc = import_tensor(&im, &im.parts[i], &im.parts[i].m->t[j]);
	if (rc) {
		if (im.done)
			fprintf(stderr, "qvlctl: import: %zu tensor(s) finished before "
				"the error stay in %s; no sidecar was written, so it "
				"is not a complete model\n", im.done, im.dir);
		goto out;
	}
	qvlctl_progress_end(&im.prog);

	/* The sidecar last: its presence says the import completed. */
	if (im.nparts > 1)
		rc = write_sidecar_merged(&im);
	else
		rc = write_sidecar_copy(&im, &im.parts[0],
					im.parts[0].m->format == QVL_MODEL_GGUF
						? QVLCTL_SIDECAR_GGUF
						: QVLCTL_SIDECAR_ST);
	if (rc) {
		fprintf(stderr, "qvlctl: import: %s: cannot write the sidecar: %s\n",
			im.dir, strerror(-rc));
		goto out;
	}
	other = im.parts[0].m->format == QVL_MODEL_GGUF && im.nparts == 1
			? QVLCTL_SIDECAR_ST : QVLCTL_SIDECAR_GGUF;
	unlinkat(im.dirfd, other, 0); /* from an earlier import of another file */
	if (!quiet) {
		size_t n = 0;

		for (size_t i = 0; i < im.nparts; i++)
			n += im.parts[i].m->nt;
		printf("imported %zu tensors (%" PRIu64 " bytes) into %s\n", n,
		       total, im.dir);
	}
out:
	for (size_t i = 0; i < im.nparts; i++) {
		qvl_model_free(im.parts[i].m);
		if (im.parts[i].fd >= 0)
			close(im.parts[i].fd);
		free(im.parts[i].path);
	}
	free(im.parts);
	free(im.buf);
	if (im.dirfd >= 0)
		close(im.dirfd);
	return rc ? 1 : 0;
}

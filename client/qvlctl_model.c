/*
 * qvlctl_model.c - what import and export share: the file source for the
 * parsers, opening a model with one-line errors, streaming copies through
 * one buffer, the safetensors header writer, Ctrl-C.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qvlctl_model.h"

volatile int qvlctl_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	qvlctl_interrupted = 1;
}

void qvlctl_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a blocked read or write returns and the copy stops,
	 * so the temporary file is removed rather than left behind. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int qvlctl_fd_read(void *arg, uint64_t off, void *buf, size_t len)
{
	int fd = *(int *)arg;
	uint8_t *b = buf;

	while (len) {
		ssize_t n = pread(fd, b, len, (off_t)off);

		if (n < 0 && errno == EINTR && !qvlctl_interrupted)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		b += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int qvlctl_model_open(const char *cmd, const char *path, int format,
		      unsigned flags, struct qvl_model **m, int *fd)
{
	struct qvl_model_error err = { 0 };
	struct qvl_model_src src = { .read = qvlctl_fd_read, .arg = fd };
	struct stat st;
	char magic[4] = { 0 };
	int rc;

	*m = NULL;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &st) < 0) {
		rc = -errno;
		fprintf(stderr, "qvlctl: %s: %s: %s\n", cmd, path, strerror(-rc));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		fprintf(stderr, "qvlctl: %s: %s: not a regular file\n", cmd, path);
		goto out_close;
	}
	src.size = (uint64_t)st.st_size;
	if (!format) {
		format = QVL_MODEL_SAFETENSORS;
		if (src.size >= 4 && !qvlctl_fd_read(fd, 0, magic, 4) &&
		    !memcmp(magic, "GGUF", 4))
			format = QVL_MODEL_GGUF;
	}
	rc = format == QVL_MODEL_GGUF ? qvl_model_gguf_parse(&src, flags, m, &err)
				      : qvl_model_safetensors_parse(&src, flags, m, &err);
	if (rc) {
		fprintf(stderr, "qvlctl: %s: %s: offset %" PRIu64 ": %s\n", cmd,
			path, err.offset, err.msg[0] ? err.msg : strerror(-rc));
		goto out_close;
	}
	return 0;
out_close:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return rc;
}

int qvlctl_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	while (len) {
		ssize_t n;

		if (qvlctl_interrupted)
			return -EINTR;
		n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int qvlctl_copy(int in, uint64_t off, uint64_t len, int out, uint8_t *buf,
		struct qvlctl_progress *p, bool *in_err)
{
	*in_err = false;
	while (len) {
		size_t want = len < QVLCTL_COPY_BUF ? (size_t)len : QVLCTL_COPY_BUF;
		ssize_t n;
		int rc;

		if (qvlctl_interrupted)
			return -EINTR;
		n = off == UINT64_MAX ? read(in, buf, want)
				      : pread(in, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*in_err = true;
			return n < 0 ? -errno : -EIO;
		}
		rc = qvlctl_write_all(out, buf, (size_t)n);
		if (rc)
			return rc;
		if (off != UINT64_MAX)
			off += (uint64_t)n;
		len -= (uint64_t)n;
		qvlctl_progress_add(p, (uint64_t)n);
	}
	return 0;
}

int qvlctl_zeros(int out, uint64_t n)
{
	static const uint8_t zero[4096];

	while (n) {
		size_t k = n < sizeof(zero) ? (size_t)n : sizeof(zero);
		int rc = qvlctl_write_all(out, zero, k);

		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

/* A growing text buffer; on ENOMEM it stops growing and says so at the end. */
struct sbuf {
	char *s;
	size_t len, cap;
	int err;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *t;

		while (cap < b->len + n + 1)
			cap *= 2;
		t = realloc(b->s, cap);
		if (!t) {
			b->err = -ENOMEM;
			return;
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void sb_json_string(struct sbuf *b, const char *s)
{
	sb_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			sb_put(b, e, 2);
		} else if (c < 0x20) {
			sb_printf(b, "\\u%04x", c);
		} else {
			sb_put(b, s, 1);
		}
	}
	sb_put(b, "\"", 1);
}

int qvlctl_st_header(struct qvl_model_tensor *t, size_t nt, const char *meta,
		     size_t meta_len, char **out, size_t *out_len)
{
	struct sbuf b = { 0 };
	uint64_t off = 0, n;
	uint8_t len8[8];
	int first = 1;

	sb_put(&b, "\0\0\0\0\0\0\0\0{", 9);
	if (meta) {
		sb_put(&b, "\"__metadata__\":", 15);
		sb_put(&b, meta, meta_len);
		first = 0;
	}
	for (size_t i = 0; i < nt; i++) {
		const char *dt = qvl_model_st_name(t[i].dtype);

		if (!dt) {
			free(b.s);
			return -EINVAL;
		}
		if (!first)
			sb_put(&b, ",", 1);
		first = 0;
		sb_json_string(&b, t[i].name);
		sb_printf(&b, ":{\"dtype\":\"%s\",\"shape\":[", dt);
		for (int d = 0; d < t[i].ndims; d++)
			sb_printf(&b, d ? ",%" PRIu64 : "%" PRIu64, t[i].dims[d]);
		sb_printf(&b, "],\"data_offsets\":[%" PRIu64 ",", off);
		t[i].offset = off;
		off += t[i].size;
		sb_printf(&b, "%" PRIu64 "]}", off);
	}
	sb_put(&b, "}", 1);
	while (b.len % 8)
		sb_put(&b, " ", 1);
	if (b.err) {
		free(b.s);
		return b.err;
	}
	n = b.len - 8;
	for (int i = 0; i < 8; i++)
		len8[i] = (uint8_t)(n >> (8 * i));
	memcpy(b.s, len8, 8);
	*out = b.s;
	*out_len = b.len;
	return 0;
}

int qvlctl_write_file_at(int dirfd, const char *name, const void *data,
			 size_t len)
{
	char tmp[64];
	int fd, rc;

	snprintf(tmp, sizeof(tmp), QVLCTL_TMP_PREFIX "%ld.side", (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = qvlctl_write_all(fd, data, len);
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

/*
 * qvlctl_push.c - `qvlctl push DIR NAME`: a tree into the remote tier as
 * snapshot NAME.
 *
 * HOW IT WORKS.  First a walk lists the tree: directories before what is
 * in them, names in byte order (strcmp, not the locale), so the same tree
 * always gives the same manifest; symlinks are not followed.  Then each
 * entry becomes a manifest entry, and each file is read chunk by chunk.
 * An all-zero chunk is a hole and left out.  Any other chunk is hashed
 * (xxh3-128, zero-padded to the chunk size: the frame's key) and encoded
 * with a lossless policy, since the daemon checks the hash of what a frame
 * decodes to.  Frames collect in a batch; a full batch asks the remote
 * which of its keys exist (one pipeline) and sends the others (another).
 * The manifest goes last, in one SET, and then the index entry: until the
 * manifest is there the snapshot does not exist, and the frames already
 * sent make a second push of the same tree send nothing again.  That is
 * how an interrupted push resumes.
 */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "qvl_abi.h"
#include "qvl_codec.h"
#include "qvl_manifest.h"
#include "qvlctl_model.h"
#include "qvlctl_remote.h"
#include "qvlctl_util.h"

#define CHUNK_MIN ((size_t)64 << 10)
#define CHUNK_MAX ((size_t)64 << 20)
#define CHUNK_DEFAULT ((size_t)1 << 20) /* outside a mount */
/* A batch is sent when it holds this many frames or bytes of frames:
 * few round trips, bounded memory whatever the chunk size. */
#define BATCH_MAX 32
#define BATCH_BYTES ((size_t)32 << 20)

struct push_ent {
	char *rel; /* path relative to DIR */
	struct stat st;
};

/* Frames encoded and not yet sent: one arena, each frame at off[i]. */
struct batch {
	uint8_t *arena;
	size_t cap, used;
	unsigned n;
	struct qvl_rkey key[BATCH_MAX];
	size_t off[BATCH_MAX], len[BATCH_MAX];
};

struct push {
	const char *dir, *name;
	size_t chunk;
	bool skip_ctl; /* DIR is a mount's root: leave out its .qvl */
	struct push_ent *ent;
	size_t nent, cap;

	struct qvl_remote *r;
	struct qvl_manifest *m;
	struct qvl_codec_ctx *cctx;
	uint8_t *raw; /* one chunk read from a file */
	struct batch b;
	/* Test hook (QVLCTL_PUSH_STOP_AFTER=N): after N frames are sent,
	 * stop as if interrupted, before the manifest.  0: off. */
	uint64_t stop_after;

	uint64_t files, logical;       /* what the manifest describes */
	uint64_t sent, sent_bytes;     /* frames this push SET */
	uint64_t already;              /* frames the remote (or batch) had */
	bool reported;                 /* the error that stops us is printed */

	/* the progress line, on a terminal unless -q */
	bool prog_on;
	uint64_t done;
	double t0, last;
};

/* ---- progress ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void prog_draw(struct push *p)
{
	char d[32], t[32];

	fprintf(stderr, "\r  %s / %s  %3u%%  %" PRIu64 " sent, %" PRIu64
		" already there\033[K", qvlctl_human(p->done, d, sizeof(d)),
		qvlctl_human(p->logical, t, sizeof(t)),
		p->logical ? (unsigned)(100 * (double)p->done /
					(double)p->logical) : 100,
		p->sent, p->already);
	p->last = now();
}

static void prog_add(struct push *p, uint64_t n)
{
	p->done += n;
	if (p->prog_on && now() - p->last >= 0.2)
		prog_draw(p);
}

static void prog_end(struct push *p)
{
	if (!p->prog_on)
		return;
	prog_draw(p);
	fputc('\n', stderr);
	p->prog_on = false;
}

/* ---- the walk ---- */

/* DIR/REL, malloc'd; REL "" is DIR itself. */
static char *full_path(const struct push *p, const char *rel)
{
	size_t dl = strlen(p->dir), rl = strlen(rel);
	char *s = malloc(dl + rl + 2);

	if (s)
		sprintf(s, rl ? "%s/%s" : "%s", p->dir, rel);
	return s;
}

static int by_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in DIR/@rel, sorted, "." and ".." left out; the directory is
 * closed again before the caller descends, so depth costs no fds. */
static int read_names(struct push *p, const char *rel, char ***out, size_t *n)
{
	char *path = full_path(p, rel), **v = NULL;
	size_t cap = 0, k = 0;
	struct dirent *de;
	int rc = 0;
	DIR *d;

	if (!path)
		return -ENOMEM;
	d = opendir(path);
	free(path);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (p->skip_ctl && !rel[0] && !strcmp(de->d_name, QVL_CTL_DIR))
			continue; /* the mount's control tree, not data */
		if (k == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[k] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		k++;
	}
	if (!rc && errno)
		rc = -errno;
	closedir(d);
	if (rc) {
		while (k)
			free(v[--k]);
		free(v);
		return rc;
	}
	if (k) /* qsort() wants a non-NULL base even for nothing */
		qsort(v, k, sizeof(*v), by_strcmp);
	*out = v;
	*n = k;
	return 0;
}

static int walk(struct push *p, const char *rel)
{
	char **names = NULL;
	size_t n = 0, i;
	int rc = read_names(p, rel, &names, &n);

	if (rc) {
		fprintf(stderr, "qvlctl: push: %s%s%s: %s\n", p->dir,
			rel[0] ? "/" : "", rel, strerror(-rc));
		p->reported = true;
		return rc;
	}
	for (i = 0; !rc && i < n; i++) {
		struct push_ent *e;
		char *child, *path;

		child = malloc(strlen(rel) + strlen(names[i]) + 2);
		if (!child) {
			rc = -ENOMEM;
			break;
		}
		sprintf(child, rel[0] ? "%s/%s" : "%s%s", rel, names[i]);
		if (p->nent == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 64;
			struct push_ent *ne = realloc(p->ent, cap * sizeof(*ne));

			if (!ne) {
				free(child);
				rc = -ENOMEM;
				break;
			}
			p->ent = ne;
			p->cap = cap;
		}
		e = &p->ent[p->nent];
		path = full_path(p, child);
		if (!path || lstat(path, &e->st) < 0) {
			rc = path ? -errno : -ENOMEM;
			fprintf(stderr, "qvlctl: push: %s: %s\n",
				path ? path : child, strerror(-rc));
			p->reported = true;
			free(path);
			free(child);
			break;
		}
		if (!S_ISDIR(e->st.st_mode) && !S_ISREG(e->st.st_mode) &&
		    !S_ISLNK(e->st.st_mode)) {
			fprintf(stderr, "qvlctl: push: %s: not a file, directory "
				"or symlink; skipped\n", path);
			free(path);
			free(child);
			continue;
		}
		free(path);
		e->rel = child;
		p->nent++;
		if (S_ISREG(e->st.st_mode))
			p->logical += (uint64_t)e->st.st_size;
		else if (S_ISDIR(e->st.st_mode))
			rc = walk(p, child);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ---- xattrs ---- */

/* What the store computes, not what a user set: a pull cannot set it. */
static bool computed(const char *name)
{
	return !strcmp(name, QVL_XATTR_STORED) ||
	       !strcmp(name, QVL_XATTR_CHECKSUM) ||
	       !strcmp(name, QVL_XATTR_CUDA_IPC);
}

/* A value as a name: without the trailing NULs and newlines that some
 * tools write. */
static size_t trim(const char *v, size_t n)
{
	while (n && (v[n - 1] == '\0' || v[n - 1] == '\n'))
		n--;
	return n;
}

/*
 * Every user.* xattr of @path into @e, sorted by name; the file's dtype
 * and the policy its frames are encoded with come out of them.  Only a
 * lossless policy is kept: a frame must decode to the bytes its key
 * hashes, and a lossy file's reads already return dequantized bytes.
 */
static int push_xattrs(const char *path, struct qvl_man_entry *e,
		       enum qvl_dtype *dt, enum qvl_codec_policy *pol)
{
	char *list = NULL, **names = NULL;
	ssize_t len = qvlctl_xattr_get(path, NULL, &list, 1);
	size_t n = 0, k = 0;
	int rc = 0;

	*dt = QVL_DTYPE_NONE;
	*pol = QVL_CODEC_POLICY_AUTO;
	if (len == -ENOTSUP || len == -ENODATA)
		return 0; /* a filesystem without xattrs */
	if (len < 0)
		return (int)len;
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(list + off) + 1)
		n++;
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names) {
		free(list);
		return -ENOMEM;
	}
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(list + off) + 1)
		if (!strncmp(list + off, "user.", 5) && !computed(list + off))
			names[k++] = list + off;
	qsort(names, k, sizeof(*names), by_strcmp);
	for (size_t i = 0; !rc && i < k; i++) {
		char *v = NULL;
		ssize_t vn = qvlctl_xattr_get(path, names[i], &v, 1);

		if (vn == -ENODATA)
			continue; /* removed since the list */
		if (vn < 0) {
			rc = (int)vn;
			break;
		}
		if (vn > QVL_MAN_XATTR_MAX)
			rc = -E2BIG;
		else
			rc = qvl_manifest_add_xattr(e, names[i], v, (uint32_t)vn);
		if (!rc && !strcmp(names[i], QVL_XATTR_DTYPE)) {
			*dt = qvl_dtype_from_name(v, trim(v, (size_t)vn));
		} else if (!rc && !strcmp(names[i], QVL_XATTR_CODEC)) {
			enum qvl_codec_policy cp;

			if (!qvl_codec_policy_from_name(v, trim(v, (size_t)vn), &cp) &&
			    cp != QVL_CODEC_POLICY_Q8_0 &&
			    cp != QVL_CODEC_POLICY_F8E4M3)
				*pol = cp;
		}
		free(v);
	}
	free(names);
	free(list);
	return rc;
}

/* ---- frames ---- */

static bool all_zero(const uint8_t *b, size_t n)
{
	return n == 0 || (b[0] == 0 && !memcmp(b, b + 1, n - 1));
}

static bool key_eq(const struct qvl_rkey *a, const struct qvl_rkey *b)
{
	return a->codec == b->codec && !memcmp(a->hash, b->hash, sizeof(a->hash));
}

/* Send what the remote lacks of the batch, then empty it.  -ECANCELED
 * when the test hook's count is reached. */
static int flush(struct push *p)
{
	struct batch *b = &p->b;
	uint8_t has[BATCH_MAX];
	struct qvl_rkey keys[BATCH_MAX];
	const void *frames[BATCH_MAX];
	size_t lens[BATCH_MAX], bytes = 0;
	unsigned k = 0;
	int rc;

	if (!b->n)
		return 0;
	rc = qvl_remote_has_frames(p->r, b->key, b->n, has);
	if (rc && qvlctl_interrupted)
		return -EINTR; /* the signal broke the wait: no remote error */
	if (rc) {
		prog_end(p);
		qvlctl_remote_perror("push", p->r, "asking for frames", rc);
		p->reported = true;
		return rc;
	}
	for (unsigned i = 0; i < b->n; i++) {
		if (has[i]) {
			p->already++;
			continue;
		}
		keys[k] = b->key[i];
		frames[k] = b->arena + b->off[i];
		lens[k] = b->len[i];
		k++;
	}
	if (p->stop_after && p->sent + k > p->stop_after)
		k = (unsigned)(p->stop_after - p->sent);
	for (unsigned i = 0; i < k; i++)
		bytes += lens[i];
	rc = k ? qvl_remote_put_frames(p->r, keys, frames, lens, k) : 0;
	if (rc && qvlctl_interrupted)
		return -EINTR;
	if (rc) {
		prog_end(p);
		qvlctl_remote_perror("push", p->r, "sending frames", rc);
		p->reported = true;
		return rc;
	}
	p->sent += k;
	p->sent_bytes += bytes;
	b->n = 0;
	b->used = 0;
	if (p->stop_after && p->sent >= p->stop_after)
		return -ECANCELED;
	return 0;
}

/* One chunk of @len bytes in p->raw, index @idx of the file @e. */
static int push_chunk(struct push *p, struct qvl_man_entry *e, uint64_t idx,
		      size_t len, enum qvl_dtype dt, enum qvl_codec_policy pol)
{
	struct batch *b = &p->b;
	struct qvl_codec_frame_info fi;
	struct qvl_rkey key;
	size_t flen;
	int rc;

	if (all_zero(p->raw, len))
		return 0; /* a hole: the manifest leaves it out */
	qvl_rkey_hash(p->raw, len, p->chunk, &key);
	rc = qvl_codec_encode_ctx(p->cctx, p->raw, len, dt, pol,
				  b->arena + b->used, b->cap - b->used, &flen);
	if (!rc)
		rc = qvl_codec_frame_info(b->arena + b->used, flen, &fi);
	if (rc)
		return rc;
	key.codec = (uint8_t)fi.codec;
	rc = qvl_manifest_add_chunk(e, idx, &key, (uint32_t)flen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < b->n; i++)
		if (key_eq(&b->key[i], &key)) {
			p->already++; /* sent with its twin */
			return 0;
		}
	b->key[b->n] = key;
	b->off[b->n] = b->used;
	b->len[b->n] = flen;
	b->n++;
	b->used += flen;
	/* The arena holds BATCH_BYTES and one more frame's bound: below
	 * BATCH_BYTES used, the next frame always fits. */
	if (b->n == BATCH_MAX || b->used >= BATCH_BYTES)
		return flush(p);
	return 0;
}

/* Read the whole of [@off, @off + @len) into p->raw. */
static int read_chunk(struct push *p, int fd, uint64_t off, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = pread(fd, p->raw + got, len - got, (off_t)(off + got));

		if (qvlctl_interrupted)
			return -EINTR;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA; /* shorter than fstat said */
		got += (size_t)n;
	}
	return 0;
}

/*
 * The chunks of one file.  SEEK_DATA skips whole chunks of a sparse file
 * without reading them; where it is not supported every chunk is read
 * (an all-zero chunk is a hole either way).
 */
static int push_chunks(struct push *p, struct qvl_man_entry *e, int fd,
		       uint64_t size, enum qvl_dtype dt,
		       enum qvl_codec_policy pol)
{
	uint64_t data = 0; /* the next byte that may be data */
	bool seek = true;
	int rc = 0;

	for (uint64_t off = 0, idx = 0; !rc && off < size; off += p->chunk, idx++) {
		size_t len = size - off < p->chunk ? (size_t)(size - off) : p->chunk;

		if (seek && data < off) {
			off_t d = lseek(fd, (off_t)off, SEEK_DATA);

			if (d >= 0)
				data = (uint64_t)d;
			else if (errno == ENXIO)
				data = size; /* nothing but a hole is left */
			else
				seek = false;
		}
		if (seek && data >= off + len) {
			prog_add(p, len);
			continue;
		}
		rc = read_chunk(p, fd, off, len);
		if (!rc) {
			prog_add(p, len);
			rc = push_chunk(p, e, idx, len, dt, pol);
		}
	}
	return rc;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* One entry of the walk into the manifest (a file with its chunks). */
static int push_entry(struct push *p, const struct push_ent *pe)
{
	char *path = full_path(p, pe->rel), link[QVL_MAN_PATH_MAX + 2];
	struct qvl_man_entry *e;
	enum qvl_dtype dt;
	enum qvl_codec_policy pol;
	uint32_t mode = (uint32_t)(pe->st.st_mode & 07777);
	struct stat st;
	ssize_t ln;
	int fd = -1, rc;

	if (!path)
		return -ENOMEM;
	if (S_ISLNK(pe->st.st_mode)) {
		ln = readlink(path, link, sizeof(link) - 1);
		if (ln < 0 || (size_t)ln >= sizeof(link) - 1) {
			rc = ln < 0 ? -errno : -ENAMETOOLONG;
			goto out;
		}
		link[ln] = '\0';
		rc = qvl_manifest_add(p->m, QVL_MAN_LINK, pe->rel, mode, 0,
				      mtime_ns(&pe->st), link, &e);
		goto out_add;
	}
	if (S_ISDIR(pe->st.st_mode)) {
		rc = qvl_manifest_add(p->m, QVL_MAN_DIR, pe->rel, mode, 0,
				      mtime_ns(&pe->st), NULL, &e);
		if (!rc)
			rc = push_xattrs(path, e, &dt, &pol);
		goto out_add;
	}
	/* O_NONBLOCK: should a FIFO have taken the file's place since the
	 * walk, the open must not wait for a writer. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EAGAIN; /* "changed while pushing" */
		goto out;
	}
	/* The size read now, not at the walk: the file may have changed. */
	p->logical += (uint64_t)st.st_size - (uint64_t)pe->st.st_size;
	rc = qvl_manifest_add(p->m, QVL_MAN_FILE, pe->rel,
			      (uint32_t)(st.st_mode & 07777), (uint64_t)st.st_size,
			      mtime_ns(&st), NULL, &e);
	if (!rc)
		rc = push_xattrs(path, e, &dt, &pol);
	if (!rc)
		rc = push_chunks(p, e, fd, (uint64_t)st.st_size, dt, pol);
	if (!rc)
		p->files++;
out_add:
	if (rc == -EINVAL && !qvl_manifest_path_ok(pe->rel)) {
		prog_end(p);
		fprintf(stderr, "qvlctl: push: %s: the path cannot go into a "
			"manifest (longer than %d bytes?)\n", path,
			QVL_MAN_PATH_MAX);
		p->reported = true;
	}
out:
	if (rc && !p->reported && rc != -ECANCELED && rc != -EINTR) {
		prog_end(p);
		fprintf(stderr, "qvlctl: push: %s: %s\n", path,
			rc == -ENODATA ? "shorter than its size (changed "
					 "while pushing?)" :
			rc == -EAGAIN ? "no longer a regular file (changed "
					"while pushing?)" : strerror(-rc));
		p->reported = true;
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* ---- the snapshot ---- */

static int rkey_cmp(const void *a, const void *b)
{
	const struct qvl_man_chunk *x = a, *y = b;
	int c = memcmp(x->key.hash, y->key.hash, sizeof(x->key.hash));

	return c ? c : (int)x->key.codec - (int)y->key.codec;
}

/* The distinct frames the manifest refers to, and their bytes: what the
 * snapshot costs in the remote, shared frames counted once. */
static int distinct_frames(const struct qvl_manifest *m, uint64_t *frames,
			   uint64_t *bytes)
{
	struct qvl_man_chunk *all;
	uint64_t n = 0;

	*frames = *bytes = 0;
	for (uint64_t i = 0; i < m->n; i++)
		n += m->e[i].nchunks;
	if (!n)
		return 0;
	all = malloc(n * sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = 0;
	for (uint64_t i = 0; i < m->n; i++)
		for (uint64_t j = 0; j < m->e[i].nchunks; j++)
			all[n++] = m->e[i].chunks[j];
	qsort(all, n, sizeof(*all), rkey_cmp);
	for (uint64_t i = 0; i < n; i++)
		if (i == 0 || rkey_cmp(&all[i - 1], &all[i])) {
			(*frames)++;
			*bytes += all[i].len;
		}
	free(all);
	return 0;
}

/* The manifest under qvl:m:NAME, then NAME in the index. */
static int write_snapshot(struct push *p)
{
	char key[sizeof("qvl:m:") + QVLCTL_SNAP_NAME_MAX], val[96];
	uint64_t frames, bytes;
	void *buf = NULL;
	size_t len;
	int rc = distinct_frames(p->m, &frames, &bytes);

	if (!rc)
		rc = qvl_manifest_encode(p->m, &buf, &len);
	if (rc) {
		fprintf(stderr, "qvlctl: push: cannot encode the manifest: %s\n",
			strerror(-rc));
		return rc;
	}
	snprintf(key, sizeof(key), "qvl:m:%s", p->name);
	rc = qvl_remote_set_value(p->r, key, buf, len);
	free(buf);
	if (rc) {
		qvlctl_remote_perror("push", p->r, key, rc);
		return rc;
	}
	snprintf(val, sizeof(val), "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
		 p->logical, p->files, frames, bytes);
	rc = qvl_remote_hset(p->r, "qvl:snapshots", p->name, val);
	if (rc)
		qvlctl_remote_perror("push", p->r, "qvl:snapshots", rc);
	return rc;
}

/* ---- the command ---- */

static int usage(void)
{
	fprintf(stderr, "usage: qvlctl push [-q] [-r URL] [-a AUTHFILE] "
		"[-c CHUNK] DIR NAME\n"
		"  URL: redis://HOST[:PORT] or unix:PATH (default: $QVL_REMOTE, "
		"else the remote of the mount DIR is in)\n"
		"  CHUNK: 64K..64M, a power of two (default: the mount's chunk "
		"size, else 1M)\n"
		"  NAME: 1..%d of A-Z a-z 0-9 . _ - /\n", QVLCTL_SNAP_NAME_MAX);
	return 2;
}

/* "256K", "1M", "1MiB", "65536": 0 when malformed. */
static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned sh = 0;

	if (end == s || *s == '-')
		return 0;
	if (*end == 'K' || *end == 'k')
		sh = 10, end++;
	else if (*end == 'M' || *end == 'm')
		sh = 20, end++;
	if (sh && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end || v > (CHUNK_MAX >> sh))
		return 0;
	return (size_t)v << sh;
}

static bool chunk_ok(uint64_t c)
{
	return c >= CHUNK_MIN && c <= CHUNK_MAX && !(c & (c - 1));
}

/* The test hook: QVLCTL_PUSH_STOP_AFTER=N stops a push after N frames
 * sent, as an interruption would, so tests can check that a second push
 * resumes (sends only the rest).  Not for use otherwise. */
static uint64_t stop_after_env(void)
{
	const char *s = getenv("QVLCTL_PUSH_STOP_AFTER");

	return s && *s ? strtoull(s, NULL, 10) : 0;
}

int qvlctl_push_main(int argc, char **argv)
{
	struct push p = { 0 };
	struct qvlctl_mount mt = { 0 };
	const char *url = NULL, *auth = NULL;
	char dirbuf[4096];
	bool quiet = false, in_mount = false;
	size_t chunk = 0, dl;
	struct stat st;
	int rc, ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			url = argv[++i];
		} else if (!strcmp(argv[i], "-a") && i + 1 < argc) {
			auth = argv[++i];
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			chunk = parse_size(argv[++i]);
			if (!chunk_ok(chunk)) {
				fprintf(stderr, "qvlctl: push: -c %s: 64K..64M, a "
					"power of two\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			return usage(), 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage();
		} else if (!p.dir) {
			p.dir = argv[i];
		} else if (!p.name) {
			p.name = argv[i];
		} else {
			return usage();
		}
	}
	if (!p.dir || !p.name)
		return usage();
	if (!qvlctl_snap_name_ok(p.name)) {
		fprintf(stderr, "qvlctl: push: bad snapshot name '%s' (1..%d of "
			"A-Z a-z 0-9 . _ - /)\n", p.name, QVLCTL_SNAP_NAME_MAX);
		return 2;
	}
	/* DIR without its trailing slashes, so paths print as DIR/a/b. */
	dl = strlen(p.dir);
	if (dl >= sizeof(dirbuf)) {
		fprintf(stderr, "qvlctl: push: %s: %s\n", p.dir,
			strerror(ENAMETOOLONG));
		return 1;
	}
	memcpy(dirbuf, p.dir, dl + 1);
	while (dl > 1 && dirbuf[dl - 1] == '/')
		dirbuf[--dl] = '\0';
	p.dir = dirbuf;
	if (stat(p.dir, &st) < 0) {
		fprintf(stderr, "qvlctl: push: %s: %s\n", p.dir, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "qvlctl: push: %s: not a directory\n", p.dir);
		return 1;
	}

	rc = qvlctl_mount_find(p.dir, &mt);
	if (rc && rc != -ENOENT) {
		fprintf(stderr, "qvlctl: push: %s: %s\n", p.dir, strerror(-rc));
		return 1;
	}
	in_mount = rc == 0;
	if (in_mount) {
		char *real = realpath(p.dir, NULL);

		p.skip_ctl = real && !strcmp(real, mt.root);
		free(real);
	}
	if (!chunk && in_mount) {
		chunk = (size_t)mt.chunk_size;
		if (!chunk_ok(chunk)) {
			fprintf(stderr, "qvlctl: push: the chunk size of the mount "
				"at %s (%" PRIu64 ") is not one push can use; "
				"give -c\n", mt.root, mt.chunk_size);
			goto out;
		}
	}
	p.chunk = chunk ? chunk : CHUNK_DEFAULT;

	rc = qvlctl_remote_connect("push", url, auth, in_mount ? &mt : NULL, &p.r);
	if (rc) {
		ret = rc;
		goto out;
	}
	qvlctl_catch_signals();
	p.stop_after = stop_after_env();

	rc = walk(&p, "");
	if (rc) {
		if (!p.reported)
			fprintf(stderr, "qvlctl: push: %s: %s\n", p.dir,
				strerror(-rc));
		goto out;
	}
	p.b.cap = BATCH_BYTES + qvl_codec_bound(p.chunk);
	p.b.arena = malloc(p.b.cap);
	p.raw = malloc(p.chunk);
	p.cctx = qvl_codec_ctx_create();
	rc = !p.b.arena || !p.raw || !p.cctx ? -ENOMEM
		: qvl_manifest_new((unsigned)__builtin_ctzll(p.chunk), &p.m);
	if (rc) {
		fprintf(stderr, "qvlctl: push: %s\n", strerror(-rc));
		goto out;
	}

	p.prog_on = !quiet && isatty(STDERR_FILENO);
	p.t0 = now();
	for (size_t i = 0; !rc && i < p.nent; i++)
		rc = push_entry(&p, &p.ent[i]);
	if (!rc)
		rc = flush(&p);
	if (!rc && qvlctl_interrupted)
		rc = -EINTR;
	prog_end(&p);
	if (rc == -ECANCELED || rc == -EINTR) {
		fprintf(stderr, "qvlctl: push interrupted after %" PRIu64
			" frames sent; the same push again resumes\n", p.sent);
		goto out;
	}
	if (rc || write_snapshot(&p))
		goto out;
	printf("pushed %s: %" PRIu64 " files, %" PRIu64 " bytes, %" PRIu64
	       " frames (%" PRIu64 " bytes) sent, %" PRIu64 " already there\n",
	       p.name, p.files, p.logical, p.sent, p.sent_bytes, p.already);
	ret = 0;
out:
	for (size_t i = 0; i < p.nent; i++)
		free(p.ent[i].rel);
	free(p.ent);
	qvl_manifest_free(p.m);
	qvl_codec_ctx_free(p.cctx);
	free(p.raw);
	free(p.b.arena);
	qvl_remote_close(p.r);
	qvlctl_mount_free(&mt);
	return ret;
}

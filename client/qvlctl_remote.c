/*
 * qvlctl_remote.c - what push, pull and ls-remote share (the mount a path
 * is in, which remote to use, snapshot names), and the two small commands:
 * pull, which hands the work to the daemon, and ls-remote.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "qvl_abi.h"
#include "qvlctl_remote.h"
#include "qvlctl_util.h"
#include "qvlmem.h"

#define STATS_MAX_BYTES (4u << 20)

bool qvlctl_snap_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > QVLCTL_SNAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		/* isalnum() would follow the locale; the key must not. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '/'))
			return false;
	}
	return true;
}

/* ---- the mount a path is in ---- */

/* All of a small file (a FUSE file may report size 0: read to EOF). */
static int read_small(const char *path, char **out, size_t *outlen)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	int fd, rc = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = cap >= STATS_MAX_BYTES ? NULL
							  : realloc(buf, 2 * cap + 1);
			if (!nb) {
				rc = cap >= STATS_MAX_BYTES ? -EFBIG : -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A JSON string at @p (on its opening quote), unescaped into a malloc'd
 * copy (\uXXXX kept as written: a URL or path has none).  Returns the
 * byte after the closing quote, or NULL. */
static const char *json_string(const char *p, char **out)
{
	const char *s = p + 1;
	char *d;
	size_t n = 0;

	while (s[n] && s[n] != '"')
		n += s[n] == '\\' && s[n + 1] ? 2 : 1;
	if (s[n] != '"')
		return NULL;
	d = malloc(n + 1);
	if (!d)
		return NULL;
	*out = d;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			*d++ = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
		} else {
			*d++ = s[i];
		}
	}
	*d = '\0';
	return s + n + 1;
}

/* Past one JSON value that is not a string we want: a number, a literal,
 * or a nested object or array (strings in it skipped whole). */
static const char *json_skip(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			if (--depth == 0)
				return p + 1;
		} else if (*p == ',' && depth == 0) {
			return p;
		}
	}
	return NULL;
}

/* The members of one object (@p on its '{'): url and auth_file kept,
 * everything else skipped. */
static void remote_members(const char *p, struct qvlctl_mount *mt)
{
	p = json_ws(p + 1);
	while (p && *p == '"') {
		char *key = NULL, *val = NULL;

		p = json_string(p, &key);
		if (!p)
			break;
		p = json_ws(p);
		if (*p != ':') {
			free(key);
			break;
		}
		p = json_ws(p + 1);
		if (*p == '"')
			p = json_string(p, &val);
		else
			p = json_skip(p);
		if (val && !strcmp(key, "url") && !mt->url)
			mt->url = val, val = NULL;
		else if (val && !strcmp(key, "auth_file") && !mt->auth_file)
			mt->auth_file = val, val = NULL;
		free(key);
		free(val);
		if (!p)
			break;
		p = json_ws(p);
		if (*p != ',')
			break;
		p = json_ws(p + 1);
	}
}

/*
 * "remote":{"url":"...","auth_file":"...", ...} anywhere in stats.json
 * (the daemon writes it at the top level when it has a remote).  Tolerant:
 * other members are skipped, a missing or null member stays NULL.
 */
static void parse_remote(const char *json, struct qvlctl_mount *mt)
{
	const char *p = json;

	/* The first "remote": {...} with a url: a tier or counter of that
	 * name elsewhere in the file is passed over. */
	while (!mt->url && (p = strstr(p, "\"remote\""))) {
		p = json_ws(p + 8);
		if (*p != ':')
			continue;
		p = json_ws(p + 1);
		if (*p == '{')
			remote_members(p, mt);
	}
	if (mt->url && !mt->url[0]) { /* "url":"" is no remote */
		free(mt->url);
		mt->url = NULL;
	}
	if (mt->auth_file && !mt->auth_file[0]) {
		free(mt->auth_file);
		mt->auth_file = NULL;
	}
}

int qvlctl_mount_find(const char *path, struct qvlctl_mount *mt)
{
	char *dir = realpath(path, NULL), *json = NULL, *stats = NULL;
	struct qvlmem_stats st;
	size_t len = 0;
	int rc;

	*mt = (struct qvlctl_mount){ 0 };
	if (!dir)
		return -errno;
	stats = malloc(strlen(dir) + sizeof("/" QVL_CTL_DIR "/stats.json"));
	if (!stats) {
		free(dir);
		return -ENOMEM;
	}
	for (;;) {
		struct stat sb;
		char *slash;

		sprintf(stats, "%s/" QVL_CTL_DIR "/stats.json",
			strcmp(dir, "/") ? dir : "");
		if (stat(stats, &sb) == 0 && S_ISREG(sb.st_mode))
			break;
		slash = strrchr(dir, '/');
		if (!slash || !strcmp(dir, "/")) {
			free(dir);
			free(stats);
			return -ENOENT;
		}
		slash[slash == dir ? 1 : 0] = '\0';
	}
	mt->root = dir;
	rc = read_small(stats, &json, &len);
	free(stats);
	if (rc) {
		qvlctl_mount_free(mt);
		return rc;
	}
	if (qvlmem_stats_parse(json, len, &st) == 0)
		mt->chunk_size = st.chunk_size;
	parse_remote(json, mt);
	free(json);
	return 0;
}

void qvlctl_mount_free(struct qvlctl_mount *mt)
{
	free(mt->root);
	free(mt->url);
	free(mt->auth_file);
	*mt = (struct qvlctl_mount){ 0 };
}

/* ---- the remote ---- */

void qvlctl_remote_perror(const char *cmd, struct qvl_remote *r,
			  const char *what, int rc)
{
	char msg[256] = "";

	/* The engine's text names the server where it matters. */
	qvl_remote_error(r, msg, sizeof(msg));
	if (msg[0])
		fprintf(stderr, "qvlctl: %s: %s: %s\n", cmd, what, msg);
	else
		fprintf(stderr, "qvlctl: %s: %s (%s): %s\n", cmd, what,
			qvl_remote_url(r), strerror(-rc));
}

int qvlctl_remote_connect(const char *cmd, const char *url, const char *auth,
			  const struct qvlctl_mount *mt, struct qvl_remote **out)
{
	struct qvl_remote_opts o = { 0 };
	char err[256] = "";
	const char *env;
	int rc;

	*out = NULL;
	if (!url && (env = getenv("QVL_REMOTE")) && *env)
		url = env;
	if (!url && mt)
		url = mt->url;
	if (!url) {
		fprintf(stderr, "qvlctl: %s: no remote: give -r URL or set "
			"QVL_REMOTE\n(qvlctl --help for usage)\n", cmd);
		return 2;
	}
	if (!auth && (env = getenv("QVL_REMOTE_AUTH")) && *env)
		auth = env;
	if (!auth && mt && mt->url && !strcmp(url, mt->url))
		auth = mt->auth_file;
	o.url = url;
	o.auth_file = auth;
	rc = qvl_remote_open(&o, out, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "qvlctl: %s: %s: %s\n", cmd, url,
			err[0] ? err : strerror(-rc));
		return 1;
	}
	rc = qvl_remote_ping(*out);
	if (rc) {
		qvlctl_remote_perror(cmd, *out, "cannot reach the remote", rc);
		qvl_remote_close(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}

/* ---- pull ---- */

static int pull_usage(void)
{
	fprintf(stderr, "usage: qvlctl pull [-r URL] [-a AUTHFILE] NAME DIR\n"
		"  DIR: a new or empty directory in a qvlmemfs mount started "
		"with -o remote=URL\n"
		"  (-r and -a are accepted for symmetry with push; the daemon "
		"uses its own remote)\n");
	return 2;
}

static void pull_perror(const char *name, const char *dir, int err)
{
	const char *why;

	switch (err) {
	case EOPNOTSUPP:
#if ENOTSUP != EOPNOTSUPP
	case ENOTSUP:
#endif
		why = "the mount has no remote tier (mount with -o remote=URL)";
		break;
	case ENOENT:
		fprintf(stderr, "qvlctl: pull: no snapshot %s\n", name);
		return;
	case ENOTEMPTY:
	case EEXIST:
		fprintf(stderr, "qvlctl: pull: %s is not empty\n", dir);
		return;
	case EINVAL:
		why = "the snapshot's chunk size differs from the mount's, "
		      "or its manifest is bad";
		break;
	case EIO:
		why = "the remote is unreachable or the manifest is bad "
		      "(the daemon's log says which)";
		break;
	case ENOTCONN:
	case ETIMEDOUT:
		why = "the daemon cannot reach its remote";
		break;
	case EACCES:
		why = "permission denied (or the remote refused the daemon's "
		      "credentials)";
		break;
	default:
		why = strerror(err);
	}
	fprintf(stderr, "qvlctl: pull: %s into %s: %s\n", name, dir, why);
}

int qvlctl_pull_main(int argc, char **argv)
{
	const char *name = NULL, *dir = NULL, *url = NULL;
	struct qvlctl_mount mt;
	bool made = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-r") || !strcmp(argv[i], "-a")) &&
		    i + 1 < argc) {
			if (argv[i][1] == 'r')
				url = argv[i + 1];
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			return pull_usage(), 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return pull_usage();
		} else if (!name) {
			name = argv[i];
		} else if (!dir) {
			dir = argv[i];
		} else {
			return pull_usage();
		}
	}
	if (!name || !dir)
		return pull_usage();
	if (!qvlctl_snap_name_ok(name)) {
		fprintf(stderr, "qvlctl: pull: bad snapshot name '%s' (1..%d of "
			"A-Z a-z 0-9 . _ - /)\n", name, QVLCTL_SNAP_NAME_MAX);
		return 2;
	}

	if (mkdir(dir, 0755) == 0)
		made = true;
	else if (errno != EEXIST) {
		fprintf(stderr, "qvlctl: pull: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	/* On any other filesystem user.qvl.pull would just be stored: make
	 * sure a daemon is there to act on it. */
	rc = qvlctl_mount_find(dir, &mt);
	if (rc) {
		if (rc == -ENOENT)
			fprintf(stderr, "qvlctl: pull: %s is not in a qvlmemfs "
				"mount\n", dir);
		else
			fprintf(stderr, "qvlctl: pull: %s: %s\n", dir,
				strerror(-rc));
		goto out_rmdir;
	}
	if (url && mt.url && strcmp(url, mt.url))
		fprintf(stderr, "qvlctl: pull: note: the daemon pulls from its "
			"own remote, %s, not %s\n", mt.url, url);
	qvlctl_mount_free(&mt);

	if (setxattr(dir, QVL_XATTR_PULL, name, strlen(name), 0) < 0) {
		pull_perror(name, dir, errno);
		goto out_rmdir;
	}
	printf("pulled %s into %s\n", name, dir);
	return 0;

out_rmdir:
	if (made)
		rmdir(dir); /* leave no trace of a pull that did not happen */
	return 1;
}

/* ---- ls-remote ---- */

struct snap_row {
	char *name;
	uint64_t logical, files, frames, stored;
	bool ok; /* the index value parsed */
};

struct snap_list {
	struct snap_row *row;
	size_t n, cap;
};

static int collect(void *arg, const char *field, const char *value)
{
	struct snap_list *l = arg;
	struct snap_row *r;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct snap_row *nr = realloc(l->row, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		l->row = nr;
		l->cap = cap;
	}
	r = &l->row[l->n];
	*r = (struct snap_row){ .name = strdup(field) };
	if (!r->name)
		return -ENOMEM;
	r->ok = sscanf(value, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
		       &r->logical, &r->files, &r->frames, &r->stored) == 4;
	l->n++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct snap_row *)a)->name,
		      ((const struct snap_row *)b)->name);
}

static int ls_remote_usage(void)
{
	fprintf(stderr, "usage: qvlctl ls-remote [-r URL] [-a AUTHFILE]\n"
		"  URL: redis://HOST[:PORT] or unix:PATH (default: $QVL_REMOTE; "
		"auth: $QVL_REMOTE_AUTH)\n");
	return 2;
}

int qvlctl_ls_remote_main(int argc, char **argv)
{
	const char *url = NULL, *auth = NULL;
	struct snap_list l = { 0 };
	struct qvl_remote *r;
	int rc, w = 4;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc)
			url = argv[++i];
		else if (!strcmp(argv[i], "-a") && i + 1 < argc)
			auth = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return ls_remote_usage(), 0;
		else
			return ls_remote_usage();
	}
	rc = qvlctl_remote_connect("ls-remote", url, auth, NULL, &r);
	if (rc)
		return rc;
	rc = qvl_remote_hgetall(r, "qvl:snapshots", collect, &l);
	if (rc) {
		qvlctl_remote_perror("ls-remote", r, "qvl:snapshots", rc);
		goto out;
	}
	if (l.n)
		qsort(l.row, l.n, sizeof(*l.row), by_name);
	for (size_t i = 0; i < l.n; i++)
		if ((int)strlen(l.row[i].name) > w)
			w = (int)strlen(l.row[i].name);
	printf("%-*s %10s %8s %8s %10s %6s\n", w, "NAME", "SIZE", "FILES",
	       "FRAMES", "STORED", "RATIO");
	for (size_t i = 0; i < l.n; i++) {
		const struct snap_row *s = &l.row[i];
		char b1[32], b2[32], ratio[16] = "-";

		if (!s->ok) {
			printf("%-*s %10s %8s %8s %10s %6s\n", w, s->name, "?",
			       "?", "?", "?", "?");
			continue;
		}
		if (s->logical)
			snprintf(ratio, sizeof(ratio), "%.2f",
				 (double)s->stored / (double)s->logical);
		printf("%-*s %10s %8" PRIu64 " %8" PRIu64 " %10s %6s\n", w,
		       s->name, qvlctl_human(s->logical, b1, sizeof(b1)),
		       s->files, s->frames,
		       qvlctl_human(s->stored, b2, sizeof(b2)), ratio);
	}
out:
	for (size_t i = 0; i < l.n; i++)
		free(l.row[i].name);
	free(l.row);
	qvl_remote_close(r);
	return rc ? 1 : 0;
}

/*
 * remote.c - the remote tier's public calls (qvl_remote.h): frame keys,
 * the handle, frames, whole values, the snapshot index, errors and stats.
 *
 * Each call turns its requests into commands (struct qvl_rcmd), hands them
 * to qvl_rexec() (remote_cluster.c: which node; remote_conn.c: the wire)
 * and reads each reply in a small function that runs as the reply comes
 * in, so a frame is copied straight from hiredis' reply to the caller's
 * buffer and dropped.
 */
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xxhash.h>

#include "remote_i.h"

/* ---- keys ----------------------------------------------------------------- */

void qvl_rkey_format(const struct qvl_rkey *k, char out[QVL_RKEY_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	memcpy(p, "qvl:f:", 6);
	p += 6;
	for (int i = 0; i < 16; i++) {
		*p++ = hex[k->hash[i] >> 4];
		*p++ = hex[k->hash[i] & 15];
	}
	snprintf(p, (size_t)(out + QVL_RKEY_STRLEN - p), ":%u", k->codec);
}

static void hash_store(XXH128_hash_t h, struct qvl_rkey *k)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, h); /* high 64 first, big-endian */
	memcpy(k->hash, c.digest, sizeof(k->hash));
}

void qvl_rkey_hash(const void *raw, size_t len, size_t chunk,
		   struct qvl_rkey *k)
{
	static const uint8_t zeros[64 << 10];
	XXH3_state_t st;

	if (len >= chunk) {
		hash_store(XXH3_128bits(raw, len), k);
		return;
	}
	/* The tail of a file's last chunk: hashed as the zero-padded chunk
	 * the tiers hold, without building it. */
	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, raw, len);
	for (size_t left = chunk - len; left;) {
		size_t n = left < sizeof(zeros) ? left : sizeof(zeros);

		XXH3_128bits_update(&st, zeros, n);
		left -= n;
	}
	hash_store(XXH3_128bits_digest(&st), k);
}

int qvl_rkey_check(const struct qvl_rkey *k, const void *chunk, size_t len)
{
	struct qvl_rkey got;

	hash_store(XXH3_128bits(chunk, len), &got);
	return memcmp(got.hash, k->hash, sizeof(got.hash)) ? -EIO : 0;
}

/* ---- errors and stats ------------------------------------------------------- */

void qvl_rerr(struct qvl_remote *r, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->err_lock);
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&r->err_lock);
}

void qvl_remote_error(struct qvl_remote *r, char *buf, size_t len)
{
	if (!len)
		return;
	pthread_mutex_lock(&r->err_lock);
	snprintf(buf, len, "%s", r->err);
	pthread_mutex_unlock(&r->err_lock);
}

/* An error reply, or a reply of the wrong type, to @what. */
int qvl_rreply_error(struct qvl_remote *r, const redisReply *rep,
		     const char *what)
{
	if (rep->type != REDIS_REPLY_ERROR) {
		qvl_rerr(r, "%s: unexpected reply (type %d)", what, rep->type);
		return -EIO;
	}
	qvl_rerr(r, "%s: %s", what, rep->str);
	if (!strncmp(rep->str, "NOAUTH", 6) ||
	    !strncmp(rep->str, "WRONGPASS", 9) ||
	    !strncmp(rep->str, "NOPERM", 6))
		return -EACCES;
	return -EIO;
}

void qvl_rstat_redirect(struct qvl_remote *r)
{
	pthread_mutex_lock(&r->st_lock);
	r->st.redirects++;
	pthread_mutex_unlock(&r->st_lock);
}

void qvl_rstat_reconnect(struct qvl_remote *r)
{
	pthread_mutex_lock(&r->st_lock);
	r->st.reconnects++;
	pthread_mutex_unlock(&r->st_lock);
}

void qvl_rstat_nodes(struct qvl_remote *r, uint32_t masters)
{
	pthread_mutex_lock(&r->st_lock);
	r->st.nodes = masters;
	pthread_mutex_unlock(&r->st_lock);
}

/* No transport result: the call never got as far as the server. */
#define NO_CONTACT 1

/* The end of every public call: @rc its result, @trc the transport's. */
static int call_end(struct qvl_remote *r, int rc, int trc)
{
	pthread_mutex_lock(&r->st_lock);
	if (trc != NO_CONTACT)
		r->st.up = !trc;
	if (rc) {
		r->st.errors++;
		if (rc == -ETIMEDOUT)
			r->st.timeouts++;
	}
	pthread_mutex_unlock(&r->st_lock);
	return rc;
}

void qvl_remote_get_stats(struct qvl_remote *r, struct qvl_remote_stats *st)
{
	pthread_mutex_lock(&r->st_lock);
	*st = r->st;
	pthread_mutex_unlock(&r->st_lock);
}

/* ---- open and close ---------------------------------------------------------- */

static int parse_port(const char *s, int *port)
{
	long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (*s - '0')) > 65535)
			return -EINVAL;
	}
	if (!v)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

/* redis://HOST[:PORT] or unix:PATH into node 0. */
static int parse_url(struct qvl_remote *r, const char *url, char *err,
		     size_t errlen)
{
	char host[256];
	const char *h, *end, *rest;
	int port = 6379;

	if (!strncmp(url, "unix:", 5)) {
		if (!url[5] || strlen(url + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			goto out_bad;
		return qvl_rnode_new(r, NULL, 0, url + 5, &r->nodes[0]);
	}
	if (strncmp(url, "redis://", 8))
		goto out_bad;
	h = url + 8;
	if (*h == '[') { /* [v6 address] */
		end = strchr(++h, ']');
		if (!end)
			goto out_bad;
		rest = end + 1;
	} else {
		end = h + strcspn(h, ":");
		rest = end;
	}
	if (end == h || (size_t)(end - h) >= sizeof(host))
		goto out_bad;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	if (strpbrk(host, "/@?# \t") || (*rest && *rest != ':'))
		goto out_bad;
	if (*rest && parse_port(rest + 1, &port))
		goto out_bad;
	return qvl_rnode_new(r, host, port, NULL, &r->nodes[0]);

out_bad:
	snprintf(err, errlen, "bad URL '%s': expected redis://HOST[:PORT] "
		 "or unix:PATH", url);
	return -EINVAL;
}

/* The first line of @path: "PASSWORD" or "USER PASSWORD". */
static int read_auth(struct qvl_remote *r, const char *path, char *err,
		     size_t errlen)
{
	char buf[1024], *line, *sp;
	struct stat sb;
	ssize_t got;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "auth file %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &sb)) {
		rc = -errno;
		snprintf(err, errlen, "auth file %s: %s", path, strerror(-rc));
		goto out_close;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen, "auth file %s is open to group or "
			 "others (mode %04o): chmod 600 it", path,
			 (unsigned)(sb.st_mode & 07777));
		rc = -EACCES;
		goto out_close;
	}
	got = read(fd, buf, sizeof(buf) - 1);
	if (got < 0) {
		rc = -errno;
		snprintf(err, errlen, "auth file %s: %s", path, strerror(-rc));
		goto out_close;
	}
	buf[got] = '\0';
	line = buf;
	line[strcspn(line, "\r\n")] = '\0';
	sp = strchr(line, ' ');
	if (!*line || (sp && (sp == line || !sp[1] || strchr(sp + 1, ' ')))) {
		snprintf(err, errlen, "auth file %s: expected PASSWORD or "
			 "USER PASSWORD on the first line", path);
		rc = -EINVAL;
		goto out_wipe;
	}
	if (sp) {
		*sp = '\0';
		r->user = strdup(line);
		r->pass = strdup(sp + 1);
	} else {
		r->pass = strdup(line);
	}
	rc = (!r->pass || (sp && !r->user)) ? -ENOMEM : 0;
	if (rc)
		snprintf(err, errlen, "out of memory");
out_wipe:
	explicit_bzero(buf, sizeof(buf));
out_close:
	close(fd);
	return rc;
}

int qvl_remote_open(const struct qvl_remote_opts *o, struct qvl_remote **out,
		    char *err, size_t errlen)
{
	struct qvl_remote *r;
	char dummy[1];
	int rc;

	*out = NULL;
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!o || !o->url) {
		snprintf(err, errlen, "no URL");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out_nomem;
	pthread_mutex_init(&r->disc_lock, NULL);
	pthread_rwlock_init(&r->map_lock, NULL);
	pthread_mutex_init(&r->err_lock, NULL);
	pthread_mutex_init(&r->st_lock, NULL);
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : QVL_RDEFAULT_TIMEOUT_MS;
	r->nconns = o->conns ? o->conns : QVL_RDEFAULT_CONNS;
	r->capnodes = 4;
	r->nodes = calloc(r->capnodes, sizeof(*r->nodes));
	r->url = strdup(o->url);
	if (!r->nodes || !r->url) {
		qvl_remote_close(r);
		goto out_nomem;
	}
	rc = parse_url(r, o->url, err, errlen);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		qvl_remote_close(r);
		return rc;
	}
	r->nnodes = 1;
	if (o->auth_file) {
		rc = read_auth(r, o->auth_file, err, errlen);
		if (rc) {
			qvl_remote_close(r);
			return rc;
		}
	}
	*out = r;
	return 0;

out_nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void qvl_remote_close(struct qvl_remote *r)
{
	if (!r)
		return;
	if (r->nodes) {
		for (unsigned i = 0; i < r->nnodes; i++)
			qvl_rnode_free(r->nodes[i]);
	}
	free(r->nodes);
	free(r->slot);
	free(r->url);
	wipe_free(r->user);
	wipe_free(r->pass);
	pthread_mutex_destroy(&r->disc_lock);
	pthread_rwlock_destroy(&r->map_lock);
	pthread_mutex_destroy(&r->err_lock);
	pthread_mutex_destroy(&r->st_lock);
	free(r);
}

const char *qvl_remote_url(const struct qvl_remote *r)
{
	return r->url;
}

/* ---- commands ---------------------------------------------------------------- */

static void cmd_set(struct qvl_rcmd *c, int argc, const char *a0,
		    const char *a1, size_t l1, const void *a2, size_t l2,
		    const char *a3)
{
	memset(c, 0, sizeof(*c));
	c->to = -1;
	c->argc = argc;
	c->argv[0] = a0;
	c->argvlen[0] = strlen(a0);
	c->argv[1] = a1;
	c->argvlen[1] = l1;
	if (argc > 2) {
		c->argv[2] = a2;
		c->argvlen[2] = l2;
	}
	if (argc > 3) {
		c->argv[3] = a3;
		c->argvlen[3] = strlen(a3);
	}
}

/* Commands and their keys for a batch of @n frames, in one allocation. */
static struct qvl_rcmd *cmds_new(unsigned n, char (**keys)[QVL_RKEY_STRLEN])
{
	struct qvl_rcmd *c = malloc(n * (sizeof(*c) + QVL_RKEY_STRLEN));

	if (c)
		*keys = (char (*)[QVL_RKEY_STRLEN])(c + n);
	return c;
}

/* 0 for the status reply @want, else the error of command @cmd. */
static int status_reply(void *arg, redisReply *rep, const char *want,
			const char *cmd)
{
	if (rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, want))
		return 0;
	return qvl_rreply_error(arg, rep, cmd);
}

static int ping_reply(void *arg, unsigned i, redisReply *rep)
{
	(void)i;
	return status_reply(arg, rep, "PONG", "PING");
}

int qvl_remote_ping(struct qvl_remote *r)
{
	struct qvl_rcmd c;
	int trc;

	cmd_set(&c, 1, "PING", NULL, 0, NULL, 0, NULL);
	c.to = 0;
	trc = qvl_rexec(r, &c, 1, ping_reply, r);
	return call_end(r, c.rc, trc);
}

/* ---- frames --------------------------------------------------------------- */

struct get_batch {
	struct qvl_remote *r;
	struct qvl_remote_get *g;
	struct qvl_rcmd *c;
	char (*keys)[QVL_RKEY_STRLEN];
	void (*done)(void *arg, unsigned i); /* NULL: none */
	void *arg;
	uint8_t *told; /* done() called for request i */
};

static int get_frame(struct get_batch *b, unsigned i, redisReply *rep)
{
	struct qvl_remote_get *g = &b->g[i];

	if (rep->type == REDIS_REPLY_NIL)
		return -ENOENT;
	if (rep->type != REDIS_REPLY_STRING)
		return qvl_rreply_error(b->r, rep, b->keys[i]);
	/* Sunk: the bytes are in g->buf already (remote_conn.c). */
	size_t len = b->c[i].sunk ? b->c[i].sink_len : rep->len;
	if (len > g->cap || (g->len && len != g->len)) {
		qvl_rerr(b->r, "%s: frame of %zu bytes, expected %zu (room "
			 "for %zu)", b->keys[i], len, g->len, g->cap);
		return -EIO;
	}
	if (!b->c[i].sunk)
		memcpy(g->buf, rep->str, len);
	g->len = len;
	return 0;
}

/* A final reply (redirects were followed before): the frame is the
 * caller's at once, while the rest of the pipeline still arrives. */
static int get_reply(void *arg, unsigned i, redisReply *rep)
{
	struct get_batch *b = arg;
	int v = get_frame(b, i, rep);

	if (b->done) {
		b->g[i].result = v;
		b->told[i] = 1;
		b->done(b->arg, i);
	}
	return v;
}

int qvl_remote_get_frames(struct qvl_remote *r, struct qvl_remote_get *g,
			  unsigned n)
{
	return qvl_remote_get_frames_each(r, g, n, NULL, NULL);
}

int qvl_remote_get_frames_each(struct qvl_remote *r, struct qvl_remote_get *g,
			       unsigned n, void (*done)(void *arg, unsigned i),
			       void *arg)
{
	struct get_batch b = { .r = r, .g = g, .done = done, .arg = arg };
	uint64_t got = 0, bytes = 0, missing = 0;
	struct qvl_rcmd *c;
	int rc = 0, trc;

	if (!n)
		return 0;
	c = cmds_new(n, &b.keys);
	b.told = done ? calloc(n, 1) : NULL;
	if (!c || (done && !b.told)) {
		free(c);
		free(b.told);
		for (unsigned i = 0; i < n; i++) {
			g[i].result = -ENOMEM;
			if (done)
				done(arg, i);
		}
		return call_end(r, -ENOMEM, NO_CONTACT);
	}
	for (unsigned i = 0; i < n; i++) {
		qvl_rkey_format(g[i].key, b.keys[i]);
		cmd_set(&c[i], 2, "GET", b.keys[i], strlen(b.keys[i]), NULL, 0,
			NULL);
		c[i].sink = g[i].buf;
		c[i].sink_cap = g[i].cap;
	}
	b.c = c;
	trc = qvl_rexec(r, c, n, get_reply, &b);
	for (unsigned i = 0; i < n; i++) {
		g[i].result = c[i].rc;
		/* Those no reply came for (the connection failed). */
		if (done && !b.told[i])
			done(arg, i);
		if (!c[i].rc) {
			got++;
			bytes += g[i].len;
		} else if (c[i].rc == -ENOENT) {
			missing++;
		}
		if (c[i].rc && !rc)
			rc = c[i].rc;
	}
	free(c);
	free(b.told);
	pthread_mutex_lock(&r->st_lock);
	r->st.frames_got += got;
	r->st.frame_bytes_got += bytes;
	r->st.missing += missing;
	pthread_mutex_unlock(&r->st_lock);
	if (missing && rc == -ENOENT)
		qvl_rerr(r, "%" PRIu64 " of %u frames absent", missing, n);
	return call_end(r, rc, trc);
}

struct has_batch {
	struct qvl_remote *r;
	uint8_t *has;
};

static int has_reply(void *arg, unsigned i, redisReply *rep)
{
	struct has_batch *b = arg;

	if (rep->type != REDIS_REPLY_INTEGER)
		return qvl_rreply_error(b->r, rep, "EXISTS");
	b->has[i] = rep->integer > 0;
	return 0;
}

int qvl_remote_has_frames(struct qvl_remote *r, const struct qvl_rkey *keys,
			  unsigned n, uint8_t *has)
{
	char (*k)[QVL_RKEY_STRLEN];
	struct has_batch b = { .r = r, .has = has };
	struct qvl_rcmd *c;
	int rc = 0, trc;

	if (!n)
		return 0;
	c = cmds_new(n, &k);
	if (!c)
		return call_end(r, -ENOMEM, NO_CONTACT);
	for (unsigned i = 0; i < n; i++) {
		has[i] = 0;
		qvl_rkey_format(&keys[i], k[i]);
		cmd_set(&c[i], 2, "EXISTS", k[i], strlen(k[i]), NULL, 0, NULL);
	}
	trc = qvl_rexec(r, c, n, has_reply, &b);
	for (unsigned i = 0; i < n && !rc; i++)
		rc = c[i].rc;
	free(c);
	return call_end(r, rc, trc);
}

/* SET ... NX: "OK" when set, nil when it was there already. */
static int set_reply(void *arg, unsigned i, redisReply *rep)
{
	(void)i;
	return rep->type == REDIS_REPLY_NIL ? 0
					    : status_reply(arg, rep, "OK", "SET");
}

int qvl_remote_put_frames(struct qvl_remote *r, const struct qvl_rkey *keys,
			  const void *const *frames, const size_t *lens,
			  unsigned n)
{
	char (*k)[QVL_RKEY_STRLEN];
	uint64_t put = 0, bytes = 0;
	struct qvl_rcmd *c;
	int rc = 0, trc;

	if (!n)
		return 0;
	c = cmds_new(n, &k);
	if (!c)
		return call_end(r, -ENOMEM, NO_CONTACT);
	for (unsigned i = 0; i < n; i++) {
		qvl_rkey_format(&keys[i], k[i]);
		cmd_set(&c[i], 4, "SET", k[i], strlen(k[i]), frames[i],
			lens[i], "NX");
	}
	trc = qvl_rexec(r, c, n, set_reply, r);
	for (unsigned i = 0; i < n; i++) {
		if (!c[i].rc) {
			put++;
			bytes += lens[i];
		} else if (!rc) {
			rc = c[i].rc;
		}
	}
	free(c);
	pthread_mutex_lock(&r->st_lock);
	r->st.frames_put += put;
	r->st.frame_bytes_put += bytes;
	pthread_mutex_unlock(&r->st_lock);
	return call_end(r, rc, trc);
}

/* ---- values and the snapshot index ---------------------------------------- */

/* One command with one reply function: the common shape below. */
static int one(struct qvl_remote *r, struct qvl_rcmd *c, qvl_rreply_fn fn,
	       void *arg)
{
	int trc = qvl_rexec(r, c, 1, fn, arg);

	return call_end(r, c->rc, trc);
}

struct value_out {
	struct qvl_remote *r;
	void **buf;
	size_t *len;
};

static int value_reply(void *arg, unsigned i, redisReply *rep)
{
	struct value_out *v = arg;
	void *p;

	(void)i;
	if (rep->type == REDIS_REPLY_NIL)
		return -ENOENT;
	if (rep->type != REDIS_REPLY_STRING)
		return qvl_rreply_error(v->r, rep, "GET");
	p = malloc(rep->len + 1); /* +1: a NUL, and never malloc(0) */
	if (!p)
		return -ENOMEM;
	memcpy(p, rep->str, rep->len);
	((char *)p)[rep->len] = '\0';
	*v->buf = p;
	*v->len = rep->len;
	return 0;
}

int qvl_remote_get_value(struct qvl_remote *r, const char *key, void **buf,
			 size_t *len)
{
	struct value_out v = { .r = r, .buf = buf, .len = len };
	struct qvl_rcmd c;
	int rc;

	*buf = NULL;
	*len = 0;
	cmd_set(&c, 2, "GET", key, strlen(key), NULL, 0, NULL);
	rc = one(r, &c, value_reply, &v);
	if (rc == -ENOENT)
		qvl_rerr(r, "%s: absent", key);
	return rc;
}

static int ok_reply(void *arg, unsigned i, redisReply *rep)
{
	(void)i;
	return status_reply(arg, rep, "OK", "SET");
}

int qvl_remote_set_value(struct qvl_remote *r, const char *key,
			 const void *buf, size_t len)
{
	struct qvl_rcmd c;

	cmd_set(&c, 3, "SET", key, strlen(key), buf, len, NULL);
	return one(r, &c, ok_reply, r);
}

/* DEL and HSET answer how many keys or fields they added or removed. */
static int count_reply(void *arg, unsigned i, redisReply *rep)
{
	(void)i;
	if (rep->type == REDIS_REPLY_INTEGER)
		return rep->integer > 0 ? 0 : -ENOENT;
	return qvl_rreply_error(arg, rep, "DEL/HSET");
}

int qvl_remote_del_value(struct qvl_remote *r, const char *key)
{
	struct qvl_rcmd c;
	int rc;

	cmd_set(&c, 2, "DEL", key, strlen(key), NULL, 0, NULL);
	rc = one(r, &c, count_reply, r);
	if (rc == -ENOENT)
		qvl_rerr(r, "%s: absent", key);
	return rc;
}

static int hset_reply(void *arg, unsigned i, redisReply *rep)
{
	int rc = count_reply(arg, i, rep);

	return rc == -ENOENT ? 0 : rc; /* 0: the field was there, updated */
}

int qvl_remote_hset(struct qvl_remote *r, const char *hash, const char *field,
		    const char *value)
{
	struct qvl_rcmd c;

	cmd_set(&c, 4, "HSET", hash, strlen(hash), field, strlen(field),
		value);
	return one(r, &c, hset_reply, r);
}

static int keep_reply(void *arg, unsigned i, redisReply *rep)
{
	(void)i;
	*(redisReply **)arg = rep;
	return QVL_RKEEP;
}

int qvl_remote_hgetall(struct qvl_remote *r, const char *hash,
		       int (*fn)(void *arg, const char *field,
				 const char *value),
		       void *arg)
{
	redisReply *rep = NULL;
	struct qvl_rcmd c;
	int rc;

	cmd_set(&c, 2, "HGETALL", hash, strlen(hash), NULL, 0, NULL);
	rc = one(r, &c, keep_reply, &rep);
	if (rc)
		return rc;
	/* The callback runs with no connection held: it may call us. */
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2) {
		rc = call_end(r, qvl_rreply_error(r, rep, "HGETALL"),
			      NO_CONTACT);
		goto out_free;
	}
	for (size_t k = 0; k < rep->elements; k += 2) {
		if (rep->element[k]->type != REDIS_REPLY_STRING ||
		    rep->element[k + 1]->type != REDIS_REPLY_STRING) {
			rc = call_end(r, qvl_rreply_error(r, rep->element[k],
							  "HGETALL"), NO_CONTACT);
			goto out_free;
		}
	}
	for (size_t k = 0; k < rep->elements && !rc; k += 2)
		rc = fn(arg, rep->element[k]->str, rep->element[k + 1]->str);
out_free:
	freeReplyObject(rep);
	return rc;
}

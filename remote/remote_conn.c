/*
 * remote_conn.c - one Redis server (a node): a pool of connections, connect
 * and AUTH, backoff after a failure, and a pipeline on one connection.
 *
 * HOW IT WORKS
 *
 * A node keeps nconns connections, each behind its own mutex.  A call takes
 * one (the first free one from a round-robin start, else it waits on the
 * start one), connects it if it has no context, sends its commands and
 * reads the replies, and gives it back.  Commands go in windows of at most
 * RUN_WINDOW bytes: all of a window is sent, then all of its replies read,
 * so a batch of a hundred 1 MiB frames neither costs a hundred round trips
 * nor copies 100 MiB into hiredis' output buffer at once.
 *
 * A connection whose context failed (I/O error, EOF, timeout, a protocol
 * error) is freed at once: what is left unread on it can't be trusted.  The
 * next call on it connects again.  A connect that fails, a reply that
 * doesn't come in time, or a peer that doesn't speak Redis puts the node
 * in backoff: for 100 ms, doubling up to 5 s while it keeps failing, every
 * call on the node fails at once (-ENOTCONN, or -EACCES when AUTH was
 * refused) instead of waiting out another timeout.  Any success clears
 * it.
 *
 * A pooled connection the server closed while idle (its `timeout`, a
 * proxy, a restart) fails with EOF on first use; that one failure is
 * retried once on a fresh connection, since every command the engine sends
 * is idempotent (GET, EXISTS, SET NX, SET, DEL, HSET, HGETALL).
 *
 * hiredis writes with write(2): a peer that went away raises SIGPIPE,
 * which would kill a process that didn't ignore it.  A library doesn't get
 * to change that for the process, so the calling thread blocks SIGPIPE
 * while it talks to Redis and takes back any SIGPIPE it caused.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "remote_i.h"

#define RUN_WINDOW (8u << 20) /* bytes of commands sent before reading */
#define RUN_WINDOW_CMDS 1024

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int qvl_rnode_new(struct qvl_remote *r, const char *host, int port,
		  const char *path, struct qvl_rnode **out)
{
	struct qvl_rnode *nd = calloc(1, sizeof(*nd));
	size_t namelen;

	*out = NULL;
	if (!nd)
		return -ENOMEM;
	nd->port = port;
	nd->nconns = r->nconns;
	namelen = (path ? strlen(path) : strlen(host)) + 16;
	nd->name = malloc(namelen);
	nd->conns = calloc(nd->nconns, sizeof(*nd->conns));
	if (path)
		nd->path = strdup(path);
	else
		nd->host = strdup(host);
	if (!nd->name || !nd->conns || (path ? !nd->path : !nd->host)) {
		free(nd->name);
		free(nd->conns);
		free(nd->path);
		free(nd->host);
		free(nd);
		return -ENOMEM;
	}
	if (path)
		snprintf(nd->name, namelen, "unix:%s", path);
	else
		snprintf(nd->name, namelen, "%s:%d", host, port);
	for (unsigned i = 0; i < nd->nconns; i++)
		pthread_mutex_init(&nd->conns[i].lock, NULL);
	pthread_mutex_init(&nd->bo_lock, NULL);
	*out = nd;
	return 0;
}

void qvl_rnode_free(struct qvl_rnode *nd)
{
	if (!nd)
		return;
	for (unsigned i = 0; i < nd->nconns; i++) {
		if (nd->conns[i].ctx)
			redisFree(nd->conns[i].ctx);
		pthread_mutex_destroy(&nd->conns[i].lock);
	}
	pthread_mutex_destroy(&nd->bo_lock);
	free(nd->conns);
	free(nd->name);
	free(nd->host);
	free(nd->path);
	free(nd);
}

/* ---- backoff ------------------------------------------------------------ */

/* 0 when the node may be tried, else what a call returns meanwhile. */
static int bo_check(struct qvl_rnode *nd)
{
	int rc = 0;

	pthread_mutex_lock(&nd->bo_lock);
	if (nd->backoff_ms && now_ns() < nd->retry_ns)
		rc = nd->bo_rc;
	pthread_mutex_unlock(&nd->bo_lock);
	return rc;
}

static void bo_fail(struct qvl_rnode *nd, int rc)
{
	pthread_mutex_lock(&nd->bo_lock);
	if (!nd->backoff_ms)
		nd->backoff_ms = QVL_RBACKOFF_MIN_MS;
	else if (nd->backoff_ms < QVL_RBACKOFF_MAX_MS / 2)
		nd->backoff_ms *= 2;
	else
		nd->backoff_ms = QVL_RBACKOFF_MAX_MS;
	nd->retry_ns = now_ns() + (uint64_t)nd->backoff_ms * 1000000u;
	nd->bo_rc = rc == -EACCES ? -EACCES : -ENOTCONN;
	pthread_mutex_unlock(&nd->bo_lock);
}

static void bo_ok(struct qvl_rnode *nd)
{
	pthread_mutex_lock(&nd->bo_lock);
	nd->backoff_ms = 0;
	nd->retry_ns = 0;
	pthread_mutex_unlock(&nd->bo_lock);
}

/* ---- SIGPIPE ------------------------------------------------------------ */

struct pipe_guard {
	sigset_t old;
	int was_pending;
};

static void pipe_block(struct pipe_guard *g)
{
	sigset_t s, pend;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	sigpending(&pend);
	g->was_pending = sigismember(&pend, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &s, &g->old);
}

static void pipe_unblock(struct pipe_guard *g)
{
	sigset_t s, pend;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	if (!g->was_pending && !sigpending(&pend) &&
	    sigismember(&pend, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&s, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- connections ---------------------------------------------------------- */

/* The errno for a failed context; @e is errno right after the failure. */
static int ctx_rc(const redisContext *ctx, int e)
{
	switch (ctx->err) {
	case REDIS_ERR_IO:
		if (e == EAGAIN || e == EWOULDBLOCK || e == ETIMEDOUT ||
		    e == EINPROGRESS || strstr(ctx->errstr, "timed out") ||
		    strstr(ctx->errstr, "temporarily unavailable"))
			return -ETIMEDOUT;
		return -ENOTCONN;
#ifdef REDIS_ERR_TIMEOUT
	case REDIS_ERR_TIMEOUT:
		return -ETIMEDOUT;
#endif
	case REDIS_ERR_OOM:
		return -ENOMEM;
	case REDIS_ERR_PROTOCOL:
		return -EIO;
	default: /* EOF, OTHER (resolve, ...) */
		return -ENOTCONN;
	}
}

static struct qvl_rconn *conn_take(struct qvl_rnode *nd)
{
	unsigned start = atomic_fetch_add(&nd->next, 1);
	struct qvl_rconn *cn;

	for (unsigned i = 0; i < nd->nconns; i++) {
		cn = &nd->conns[(start + i) % nd->nconns];
		if (!pthread_mutex_trylock(&cn->lock))
			return cn;
	}
	cn = &nd->conns[start % nd->nconns];
	pthread_mutex_lock(&cn->lock);
	return cn;
}

/*
 * Reply strings into the command's buffer.  hiredis copies every bulk
 * string it parses into a new allocation; for a frame of 700 KiB that
 * was a fresh mapping each time (page faults and zeroing took a fifth of
 * the daemon's time reading a pulled model) and a second copy.  The
 * reader's string constructor is wrapped: a top-level string reply while
 * a sink is armed (the reader's privdata, one command's) is copied into
 * the sink and the object made with an empty string.  hiredis' own
 * functions are not exported, so the wrapper takes them from a reader
 * made once for that (the same table for every context): set once,
 * read-only after.
 */
static redisReplyObjectFunctions sink_fn;
static void *(*orig_string)(const redisReadTask *, char *, size_t);
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;

static void *sink_string(const redisReadTask *t, char *str, size_t len)
{
	struct qvl_rcmd *cm = t->privdata;
	if (cm && !t->parent && t->type == REDIS_REPLY_STRING &&
	    len <= cm->sink_cap) {
		memcpy(cm->sink, str, len);
		cm->sink_len = len;
		cm->sunk = 1;
		len = 0;
	}
	return orig_string(t, str, len);
}

static void sink_init(void)
{
	redisReader *rd = redisReaderCreate();
	if (!rd)
		return; /* no sink: replies are copied as before */
	sink_fn = *rd->fn;
	orig_string = rd->fn->createString;
	sink_fn.createString = sink_string;
	redisReaderFree(rd);
}

static void sink_install(redisContext *ctx)
{
	pthread_once(&sink_once, sink_init);
	if (orig_string && ctx->reader && ctx->reader->fn &&
	    ctx->reader->fn->createString == orig_string)
		ctx->reader->fn = &sink_fn;
}

static void conn_drop(struct qvl_rconn *cn)
{
	redisFree(cn->ctx);
	cn->ctx = NULL;
	cn->dropped = 1;
}

static int conn_auth(struct qvl_remote *r, struct qvl_rnode *nd,
		     redisContext *ctx)
{
	const char *argv[3] = { "AUTH", r->user, r->pass };
	size_t argvlen[3] = { 4, r->user ? strlen(r->user) : 0,
			      strlen(r->pass) };
	redisReply *rep;
	int rc = 0;

	if (!r->user) {
		argv[1] = r->pass;
		argvlen[1] = argvlen[2];
	}
	rep = redisCommandArgv(ctx, r->user ? 3 : 2, argv, argvlen);
	if (!rep) {
		rc = ctx_rc(ctx, errno);
		qvl_rerr(r, "%s: AUTH: %s", nd->name, ctx->errstr);
		return rc;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		qvl_rerr(r, "%s: AUTH refused: %.*s", nd->name,
			 (int)rep->len, rep->str);
		rc = -EACCES;
	} else if (rep->type != REDIS_REPLY_STATUS) {
		qvl_rerr(r, "%s: AUTH: unexpected reply", nd->name);
		rc = -EIO;
	}
	freeReplyObject(rep);
	return rc;
}

static int conn_open(struct qvl_remote *r, struct qvl_rnode *nd,
		     struct qvl_rconn *cn)
{
	struct timeval tv = { .tv_sec = r->timeout_ms / 1000,
			      .tv_usec = (r->timeout_ms % 1000) * 1000 };
	redisContext *ctx;
	int rc;

	errno = 0;
	ctx = nd->path ? redisConnectUnixWithTimeout(nd->path, tv)
		       : redisConnectWithTimeout(nd->host, nd->port, tv);
	if (!ctx) {
		qvl_rerr(r, "%s: connect: out of memory", nd->name);
		return -ENOMEM;
	}
	if (ctx->err) {
		rc = ctx_rc(ctx, errno);
		qvl_rerr(r, "%s: connect: %s", nd->name, ctx->errstr);
		goto out_free;
	}
	if (redisSetTimeout(ctx, tv) != REDIS_OK) {
		rc = -ENOTCONN;
		qvl_rerr(r, "%s: can't set the timeout: %s", nd->name,
			 ctx->errstr);
		goto out_free;
	}
	if (r->pass) {
		rc = conn_auth(r, nd, ctx);
		if (rc)
			goto out_free;
	}
	/* Frames are replies of hundreds of KiB: a reader that gave its
	 * buffer back past 16 KiB (hiredis' default) grew it again for
	 * every one; and its string objects go to the command's sink. */
	ctx->reader->maxbuf = 0;
	sink_install(ctx);
	cn->ctx = ctx;
	/* A reconnect is a connection made again after one failed, not the
	 * pool's others being opened for the first time. */
	if (cn->dropped)
		qvl_rstat_reconnect(r);
	cn->dropped = 0;
	bo_ok(nd);
	return 0;

out_free:
	redisFree(ctx);
	if (rc != -ENOMEM)
		bo_fail(nd, rc);
	return rc;
}

/* ---- the pipeline --------------------------------------------------------- */

static void fail_rest(struct qvl_rcmd *c, const unsigned *idx, unsigned from,
		      unsigned m, int rc)
{
	for (unsigned k = from; k < m; k++)
		c[idx[k]].rc = rc;
}

/* Append commands from @k on; returns the first one not appended (the
 * window is full), or -1 when hiredis ran out of memory. */
static long run_send(redisContext *ctx, struct qvl_rcmd *c,
		     const unsigned *idx, unsigned k, unsigned m)
{
	unsigned start = k;
	size_t bytes = 0;

	while (k < m && (k == start || (bytes < RUN_WINDOW &&
					k - start < RUN_WINDOW_CMDS))) {
		struct qvl_rcmd *cm = &c[idx[k]];

		if (cm->asking &&
		    redisAppendCommand(ctx, "ASKING") != REDIS_OK)
			return -1;
		if (redisAppendCommandArgv(ctx, cm->argc, cm->argv,
					   cm->argvlen) != REDIS_OK)
			return -1;
		for (int a = 0; a < cm->argc; a++)
			bytes += cm->argvlen[a];
		k++;
	}
	return k;
}

/*
 * qvl_rnode_run() - send the @m commands c[idx[0..m)] to @nd on one
 * connection, pipelined, and give each reply to @fn.  Returns 0 when every
 * command was answered, else the transport's error, which is then also the
 * result of every command left unanswered.
 */
int qvl_rnode_run(struct qvl_remote *r, struct qvl_rnode *nd,
		  struct qvl_rcmd *c, const unsigned *idx, unsigned m,
		  qvl_rreply_fn fn, void *arg)
{
	struct pipe_guard guard;
	struct qvl_rconn *cn;
	unsigned k = 0, j = 0, answered = 0;
	int rc, fresh = 0, retried = 0;
	void *rep;

	if (!m)
		return 0;
	rc = bo_check(nd);
	if (rc) {
		qvl_rerr(r, "%s: unreachable, waiting before the next try",
			 nd->name);
		fail_rest(c, idx, 0, m, rc);
		return rc;
	}
	cn = conn_take(nd);
	pipe_block(&guard);
again:
	if (!cn->ctx) {
		rc = conn_open(r, nd, cn);
		if (rc) {
			fail_rest(c, idx, answered, m, rc);
			goto out;
		}
		fresh = 1;
	}
	for (k = answered; k < m;) {
		long end = run_send(cn->ctx, c, idx, k, m);

		if (end < 0) {
			qvl_rerr(r, "%s: out of memory", nd->name);
			conn_drop(cn);
			rc = -ENOMEM;
			fail_rest(c, idx, k, m, rc);
			goto out;
		}
		for (j = k; j < (unsigned)end; j++) {
			struct qvl_rcmd *cm = &c[idx[j]];
			int v;

			if (cm->asking) {
				if (redisGetReply(cn->ctx, &rep) != REDIS_OK)
					goto out_io;
				freeReplyObject(rep);
			}
			cm->sunk = 0;
			redisReaderSetPrivdata(cn->ctx->reader,
					       cm->sink ? cm : NULL);
			int got = redisGetReply(cn->ctx, &rep);
			redisReaderSetPrivdata(cn->ctx->reader, NULL);
			if (got != REDIS_OK)
				goto out_io;
			answered++;
			v = fn(arg, idx[j], rep);
			if (v == QVL_RKEEP)
				v = 0;
			else
				freeReplyObject(rep);
			cm->rc = v;
		}
		k = (unsigned)end;
	}
	rc = 0;
	bo_ok(nd);
	goto out;

out_io:
	rc = ctx_rc(cn->ctx, errno);
	qvl_rerr(r, "%s: %s", nd->name,
		 rc == -ETIMEDOUT ? "no reply in time" : cn->ctx->errstr);
	conn_drop(cn);
	if (rc == -ENOTCONN && !answered && !fresh && !retried) {
		retried = 1;
		goto again;
	}
	if (rc == -ETIMEDOUT || rc == -EIO) /* hung, or not Redis */
		bo_fail(nd, rc);
	fail_rest(c, idx, j, m, rc);
out:
	pipe_unblock(&guard);
	pthread_mutex_unlock(&cn->lock);
	return rc;
}

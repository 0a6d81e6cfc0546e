/*
 * remote_i.h - what the three files of the Redis engine share.
 *
 *   remote.c          the public calls: keys, open/close, frames, values,
 *                     errors, stats
 *   remote_conn.c     one server (a node): its connection pool, connect
 *                     and AUTH, backoff, one pipeline on one connection
 *   remote_cluster.c  where a command goes: a single server, or a Redis
 *                     Cluster's slot map; MOVED and ASK
 *
 * A public call fills an array of commands (struct qvl_rcmd) and hands it
 * to qvl_rexec(), which sends them, pipelined per node, and gives each
 * reply to the caller's function while the connection is held.
 *
 * LOCK ORDER (outer first): r->disc_lock, a connection's lock,
 * r->map_lock; nd->bo_lock, r->err_lock and r->st_lock are leaves.  A
 * caller's reply function runs with a connection's lock held: it takes
 * leaves only.
 */
#ifndef QVL_REMOTE_I_H
#define QVL_REMOTE_I_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "qvl_remote.h"

#define QVL_RSLOTS 16384
#define QVL_RDEFAULT_TIMEOUT_MS 2000
#define QVL_RDEFAULT_CONNS 4
#define QVL_RBACKOFF_MIN_MS 100
#define QVL_RBACKOFF_MAX_MS 5000

/* A reply function's return that keeps the reply: the function owns it
 * (freeReplyObject() it); the command's result is 0. */
#define QVL_RKEEP 1

/* Modes, in r->mode. */
#define QVL_RMODE_UNKNOWN 0 /* CLUSTER SLOTS not answered yet */
#define QVL_RMODE_SINGLE 1
#define QVL_RMODE_CLUSTER 2

struct qvl_rconn {
	pthread_mutex_t lock;
	redisContext *ctx; /* protected by lock; NULL: connect on next use */
	uint8_t dropped;   /* had one that failed: the next is a reconnect */
};

/* One server: a single Redis, or one master of a cluster.  Never freed
 * before the handle, so a pointer to it stays good without a lock. */
struct qvl_rnode {
	char *host; /* TCP, or NULL */
	int port;
	char *path; /* unix socket, or NULL */
	char *name; /* "host:port" or "unix:path", for matching and messages */
	unsigned nconns;
	atomic_uint next; /* round-robin start for the next take */
	struct qvl_rconn *conns;

	pthread_mutex_t bo_lock;
	uint64_t retry_ns;   /* protected by bo_lock: fail at once before */
	unsigned backoff_ms; /* protected by bo_lock: 0 when healthy */
	int bo_rc;           /* protected by bo_lock: what backoff returns */
};

struct qvl_remote {
	char *url;
	char *user, *pass; /* from the auth file; pass NULL: no AUTH */
	unsigned timeout_ms, nconns;

	/* Serializes CLUSTER SLOTS (discovery, refresh). */
	pthread_mutex_t disc_lock;
	atomic_int mode;      /* QVL_RMODE_*, set under disc_lock */
	atomic_int stale;     /* cluster: refresh the map before the next call */
	uint64_t refresh_ns;  /* protected by disc_lock: last refresh */

	pthread_rwlock_t map_lock;
	struct qvl_rnode **nodes; /* protected by map_lock; [0]: the URL's */
	unsigned nnodes, capnodes; /* protected by map_lock */
	uint16_t *slot;       /* protected by map_lock: slot -> node index */
	uint32_t masters;     /* protected by map_lock */


	pthread_mutex_t err_lock;
	char err[256]; /* protected by err_lock */

	pthread_mutex_t st_lock;
	struct qvl_remote_stats st; /* protected by st_lock */
};

/* One command.  The caller sets argv/argvlen/argc and to; the rest is the
 * engine's. */
struct qvl_rcmd {
	const char *argv[4];
	size_t argvlen[4];
	int argc;
	int to;      /* node index, or -1: route by the key argv[1] */
	int rc;      /* out: the reply function's result, or the transport's */
	uint8_t asking;  /* send ASKING first (an ASK redirect) */
	uint8_t redirs;  /* redirects followed */
	uint8_t pending; /* redirected: send again to @to */
	/* A bulk-string reply that fits goes straight here (sink_len set,
	 * the reply object's string left empty): no copy of a frame is
	 * allocated per reply (remote_conn.c). */
	void *sink;
	size_t sink_cap, sink_len;
	uint8_t sunk;
};

/* Called once per command answered, connection held.  Returns the
 * command's result (0 or -errno), or QVL_RKEEP. */
typedef int (*qvl_rreply_fn)(void *arg, unsigned i, redisReply *rep);

/* remote.c */
void qvl_rerr(struct qvl_remote *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void qvl_rstat_redirect(struct qvl_remote *r);
void qvl_rstat_reconnect(struct qvl_remote *r);
void qvl_rstat_nodes(struct qvl_remote *r, uint32_t masters);
int qvl_rreply_error(struct qvl_remote *r, const redisReply *rep,
		     const char *what);

/* remote_conn.c */
int qvl_rnode_new(struct qvl_remote *r, const char *host, int port,
		  const char *path, struct qvl_rnode **out);
void qvl_rnode_free(struct qvl_rnode *nd);
int qvl_rnode_run(struct qvl_remote *r, struct qvl_rnode *nd,
		  struct qvl_rcmd *c, const unsigned *idx, unsigned m,
		  qvl_rreply_fn fn, void *arg);

/* remote_cluster.c */
int qvl_rexec(struct qvl_remote *r, struct qvl_rcmd *c, unsigned n,
	      qvl_rreply_fn fn, void *arg);
unsigned qvl_rslot(const char *key, size_t len);

#endif /* QVL_REMOTE_I_H */

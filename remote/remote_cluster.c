/*
 * remote_cluster.c - where a command goes: the one server, or the master
 * of its key's slot in a Redis Cluster.
 *
 * HOW IT WORKS
 *
 * The first call asks the URL's server CLUSTER SLOTS.  A server without
 * cluster support answers with an error and the handle is a single server
 * for good: every command goes to node 0.  A cluster node answers with its
 * slot ranges and their masters; each master becomes a node (its own
 * connection pool, remote_conn.c) and a table maps the 16384 slots to node
 * indices.  A key's slot is CRC16-XMODEM of the key, or of its {hashtag},
 * mod 16384, as Redis Cluster defines it.
 *
 * A batch is split by node and each part pipelined on its node.  A reply
 * MOVED <slot> <host:port> means the slot has a new owner: the table takes
 * it at once, the whole map is asked for again (at most every
 * REFRESH_MIN_NS), and the command is sent again to the node named.  ASK
 * means the slot is migrating: the command is sent once more to the node
 * named, preceded by ASKING, and the table stays.  Redirected commands go
 * out in rounds, grouped by node again, at most MAX_REDIRS times each.  A
 * node that stops answering also marks the map stale, so a failover's new
 * master is found.
 *
 * Nodes are only ever added (a master that left keeps its idle pool until
 * the handle closes): an index or pointer to one stays good without a lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "remote_i.h"

#define MAX_REDIRS 5
#define REFRESH_MIN_NS 100000000u /* 100 ms */
#define SLOT_NONE 0xffffu

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint16_t crc16_xmodem(const char *p, size_t n)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)((uint8_t)p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
					     : (uint16_t)(crc << 1);
	}
	return crc;
}

unsigned qvl_rslot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len);

	if (open) {
		size_t rest = len - (size_t)(open + 1 - key);
		const char *close = memchr(open + 1, '}', rest);

		if (close && close > open + 1) {
			key = open + 1;
			len = (size_t)(close - key);
		}
	}
	return crc16_xmodem(key, len) & (QVL_RSLOTS - 1);
}

/* The index of node host:port, added when new.  map_lock held (write). */
static int node_index(struct qvl_remote *r, const char *host, int port)
{
	struct qvl_rnode *nd, **nodes;
	int rc;

	for (unsigned i = 0; i < r->nnodes; i++) {
		nd = r->nodes[i];
		if (nd->host && nd->port == port && !strcmp(nd->host, host))
			return (int)i;
	}
	if (r->nnodes >= SLOT_NONE)
		return -EIO;
	if (r->nnodes == r->capnodes) {
		nodes = realloc(r->nodes, 2 * r->capnodes * sizeof(*nodes));
		if (!nodes)
			return -ENOMEM;
		r->nodes = nodes;
		r->capnodes *= 2;
	}
	rc = qvl_rnode_new(r, host, port, NULL, &nd);
	if (rc)
		return rc;
	r->nodes[r->nnodes] = nd;
	return (int)r->nnodes++;
}

static struct qvl_rnode *node_at(struct qvl_remote *r, unsigned i)
{
	struct qvl_rnode *nd;

	pthread_rwlock_rdlock(&r->map_lock);
	nd = r->nodes[i];
	pthread_rwlock_unlock(&r->map_lock);
	return nd;
}

static int keep_reply(void *arg, unsigned i, redisReply *rep)
{
	(void)i;
	*(redisReply **)arg = rep;
	return QVL_RKEEP;
}

/* CLUSTER SLOTS to node @i: 0 and the reply (*@out, free it), or the
 * transport's error. */
static int slots_ask(struct qvl_remote *r, unsigned i, redisReply **out)
{
	struct qvl_rcmd c = { .argv = { "CLUSTER", "SLOTS" },
			      .argvlen = { 7, 5 },
			      .argc = 2,
			      .to = (int)i };
	unsigned zero = 0;
	int rc;

	*out = NULL;
	rc = qvl_rnode_run(r, node_at(r, i), &c, &zero, 1, keep_reply, out);
	return rc ? rc : c.rc;
}

/* Take a CLUSTER SLOTS array as the slot map.  @asked: the node that
 * answered (a master listed with an empty address is that node's host). */
static int slots_apply(struct qvl_remote *r, const redisReply *rep,
		       unsigned asked)
{
	uint16_t *slot = malloc(QVL_RSLOTS * sizeof(*slot));
	uint8_t *seen = NULL;
	uint32_t masters = 0;
	int rc = 0;

	if (!slot)
		return -ENOMEM;
	for (unsigned s = 0; s < QVL_RSLOTS; s++)
		slot[s] = SLOT_NONE;
	pthread_rwlock_wrlock(&r->map_lock);
	for (size_t k = 0; k < rep->elements; k++) {
		const redisReply *e = rep->element[k], *m;
		const char *host;
		int idx;

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    e->element[0]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->type != REDIS_REPLY_INTEGER ||
		    e->element[2]->type != REDIS_REPLY_ARRAY)
			goto out_bad;
		m = e->element[2];
		if (m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING ||
		    m->element[1]->type != REDIS_REPLY_INTEGER ||
		    m->element[1]->integer <= 0 || m->element[1]->integer > 65535 ||
		    e->element[0]->integer < 0 ||
		    e->element[1]->integer >= QVL_RSLOTS ||
		    e->element[0]->integer > e->element[1]->integer)
			goto out_bad;
		host = m->element[0]->str;
		if (!*host || !strcmp(host, "?"))
			host = r->nodes[asked]->host ? r->nodes[asked]->host
						     : "127.0.0.1";
		idx = node_index(r, host, (int)m->element[1]->integer);
		if (idx < 0) {
			rc = idx;
			goto out_unlock;
		}
		for (long long s = e->element[0]->integer;
		     s <= e->element[1]->integer; s++)
			slot[s] = (uint16_t)idx;
	}
	seen = calloc(r->nnodes, 1);
	if (!seen) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	for (unsigned s = 0; s < QVL_RSLOTS; s++)
		if (slot[s] != SLOT_NONE && !seen[slot[s]]) {
			seen[slot[s]] = 1;
			masters++;
		}
	free(r->slot);
	r->slot = slot;
	slot = NULL;
	r->masters = masters;
	pthread_rwlock_unlock(&r->map_lock);
	free(seen);
	qvl_rstat_nodes(r, masters);
	return 0;

out_bad:
	qvl_rerr(r, "%s: CLUSTER SLOTS: malformed reply", r->nodes[asked]->name);
	rc = -EIO;
out_unlock:
	pthread_rwlock_unlock(&r->map_lock);
	free(slot);
	return rc;
}

/* Is the CLUSTER SLOTS error a server without cluster support? */
static int not_a_cluster(const redisReply *rep)
{
	return strstr(rep->str, "cluster support disabled") ||
	       !strncmp(rep->str, "ERR unknown command", 19) ||
	       !strncmp(rep->str, "NOPERM", 6);
}

/* First contact: single server or cluster.  disc_lock held. */
static int discover(struct qvl_remote *r)
{
	redisReply *rep;
	int rc = slots_ask(r, 0, &rep);

	if (rc)
		return rc;
	if (rep->type == REDIS_REPLY_ERROR && not_a_cluster(rep)) {
		atomic_store(&r->mode, QVL_RMODE_SINGLE);
		qvl_rstat_nodes(r, 1);
	} else if (rep->type == REDIS_REPLY_ARRAY) {
		rc = slots_apply(r, rep, 0);
		if (!rc) {
			r->refresh_ns = now_ns();
			atomic_store(&r->mode, QVL_RMODE_CLUSTER);
		}
	} else {
		rc = qvl_rreply_error(r, rep, "CLUSTER SLOTS");
	}
	freeReplyObject(rep);
	return rc;
}

/* Ask the nodes in turn for the map; the old one stays if none answers.
 * disc_lock held. */
static void refresh(struct qvl_remote *r)
{
	unsigned n;

	pthread_rwlock_rdlock(&r->map_lock);
	n = r->nnodes;
	pthread_rwlock_unlock(&r->map_lock);
	r->refresh_ns = now_ns();
	for (unsigned i = 0; i < n; i++) {
		redisReply *rep;

		if (slots_ask(r, i, &rep))
			continue;
		if (rep->type == REDIS_REPLY_ARRAY && !slots_apply(r, rep, i)) {
			atomic_store(&r->stale, 0);
			freeReplyObject(rep);
			return;
		}
		freeReplyObject(rep);
	}
}

static int ensure_map(struct qvl_remote *r)
{
	int mode = atomic_load(&r->mode), rc = 0;

	if (mode == QVL_RMODE_SINGLE ||
	    (mode == QVL_RMODE_CLUSTER && !atomic_load(&r->stale)))
		return 0;
	if (mode == QVL_RMODE_CLUSTER) {
		/* Someone else refreshing: the old map will do meanwhile. */
		if (pthread_mutex_trylock(&r->disc_lock))
			return 0;
		if (atomic_load(&r->stale) &&
		    now_ns() - r->refresh_ns >= REFRESH_MIN_NS)
			refresh(r);
		pthread_mutex_unlock(&r->disc_lock);
		return 0;
	}
	pthread_mutex_lock(&r->disc_lock);
	if (atomic_load(&r->mode) == QVL_RMODE_UNKNOWN)
		rc = discover(r);
	pthread_mutex_unlock(&r->disc_lock);
	return rc;
}

/* ---- redirects ------------------------------------------------------------ */

struct route {
	struct qvl_remote *r;
	struct qvl_rcmd *c;
	qvl_rreply_fn fn;
	void *arg;
};

/* "MOVED 3999 127.0.0.1:6381" or "ASK ...": send @c again there. */
static int redirect(struct qvl_remote *r, struct qvl_rcmd *c,
		    const redisReply *rep, int ask)
{
	const char *p = rep->str + (ask ? 4 : 6), *colon;
	char *end, host[256];
	unsigned long slot, port;
	int idx;

	slot = strtoul(p, &end, 10);
	colon = strrchr(end, ':');
	if (end == p || *end != ' ' || slot >= QVL_RSLOTS || !colon ||
	    colon == end + 1 || (size_t)(colon - end - 1) >= sizeof(host))
		goto out_bad;
	memcpy(host, end + 1, (size_t)(colon - end - 1));
	host[colon - end - 1] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		goto out_bad;
	if (++c->redirs > MAX_REDIRS) {
		qvl_rerr(r, "too many redirects (last: %s)", rep->str);
		return -EIO;
	}
	pthread_rwlock_wrlock(&r->map_lock);
	idx = node_index(r, host, (int)port);
	if (idx >= 0 && !ask && r->slot)
		r->slot[slot] = (uint16_t)idx;
	pthread_rwlock_unlock(&r->map_lock);
	if (idx < 0)
		return idx;
	if (!ask)
		atomic_store(&r->stale, 1);
	c->to = idx;
	c->asking = (uint8_t)ask;
	c->pending = 1;
	qvl_rstat_redirect(r);
	return 0;

out_bad:
	qvl_rerr(r, "bad redirect: %s", rep->str);
	return -EIO;
}

static int route_reply(void *arg, unsigned i, redisReply *rep)
{
	struct route *x = arg;

	if (rep->type == REDIS_REPLY_ERROR) {
		if (!strncmp(rep->str, "MOVED ", 6))
			return redirect(x->r, &x->c[i], rep, 0);
		if (!strncmp(rep->str, "ASK ", 4))
			return redirect(x->r, &x->c[i], rep, 1);
	}
	x->c[i].asking = 0;
	return x->fn(x->arg, i, rep);
}

/* Send every pending command of @c to its node, grouped per node. */
static int send_round(struct route *x, unsigned n, unsigned *idx)
{
	struct qvl_remote *r = x->r;
	struct qvl_rcmd *c = x->c;
	unsigned nn, *count, m = 0;
	int rc = 0;

	pthread_rwlock_rdlock(&r->map_lock);
	nn = r->nnodes;
	pthread_rwlock_unlock(&r->map_lock);
	count = calloc(nn + 1, sizeof(*count));
	if (!count)
		return -ENOMEM;
	/* Counting sort of the pending commands by node. */
	for (unsigned i = 0; i < n; i++)
		if (c[i].pending)
			count[c[i].to + 1]++;
	for (unsigned k = 0; k < nn; k++)
		count[k + 1] += count[k];
	for (unsigned i = 0; i < n; i++) {
		if (c[i].pending) {
			c[i].pending = 0;
			idx[count[c[i].to]++] = i;
			m++;
		}
	}
	/* count[k] is now where node k's part ends. */
	for (unsigned k = 0, start = 0; k < nn && start < m; k++) {
		unsigned end = count[k];
		int e;

		if (end == start)
			continue;
		e = qvl_rnode_run(r, node_at(r, k), c, idx + start,
				  end - start, route_reply, x);
		if (e) {
			if (atomic_load(&r->mode) == QVL_RMODE_CLUSTER)
				atomic_store(&r->stale, 1);
			if (!rc)
				rc = e;
		}
		start = end;
	}
	free(count);
	return rc;
}

/*
 * qvl_rexec() - send @n commands, each to its node, and give each reply to
 * @fn (MOVED and ASK are followed here, @fn never sees them).  Every
 * c[i].rc is set.  Returns 0 when each command got its answer, else the
 * first transport error.
 */
int qvl_rexec(struct qvl_remote *r, struct qvl_rcmd *c, unsigned n,
	      qvl_rreply_fn fn, void *arg)
{
	struct route x = { .r = r, .c = c, .fn = fn, .arg = arg };
	unsigned *idx;
	int rc, e;

	if (!n)
		return 0;
	rc = ensure_map(r);
	idx = rc ? NULL : malloc(n * sizeof(*idx));
	if (!rc && !idx)
		rc = -ENOMEM;
	if (rc) {
		for (unsigned i = 0; i < n; i++)
			c[i].rc = rc;
		return rc;
	}
	pthread_rwlock_rdlock(&r->map_lock);
	for (unsigned i = 0; i < n; i++) {
		c[i].pending = 1;
		c[i].asking = 0;
		c[i].redirs = 0;
		if (c[i].to >= 0 && (unsigned)c[i].to < r->nnodes)
			continue;
		c[i].to = 0;
		if (r->slot) {
			unsigned s = r->slot[qvl_rslot(c[i].argv[1],
						       c[i].argvlen[1])];
			if (s != SLOT_NONE)
				c[i].to = (int)s;
		}
	}
	pthread_rwlock_unlock(&r->map_lock);

	for (int round = 0; round <= MAX_REDIRS; round++) {
		int any = 0;

		for (unsigned i = 0; i < n && !any; i++)
			any = c[i].pending;
		if (!any)
			break;
		if (round)
			ensure_map(r);
		e = send_round(&x, n, idx);
		if (e == -ENOMEM) {
			for (unsigned i = 0; i < n; i++)
				if (c[i].pending)
					c[i].rc = e;
		}
		if (e && !rc)
			rc = e;
	}
	/* route_reply() stops a command after MAX_REDIRS, so none is left
	 * pending here. */
	free(idx);
	return rc;
}

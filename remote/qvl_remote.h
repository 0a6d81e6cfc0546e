/*
 * qvl_remote.h - the remote tier's engine: chunk frames and snapshots kept
 * in Redis (a single server, or a Redis Cluster), shared by a fleet.
 *
 * KEYS
 *
 *   qvl:f:<hash>:<codec>  one chunk's frame (codecs/ format), immutable:
 *                         written with SET NX, never changed.  <hash> is
 *                         the xxh3-128 of the raw chunk (zero-padded to
 *                         the chunk size) as 32 hex digits, high 64 bits
 *                         first; <codec> the frame's codec id in decimal.
 *                         Identical chunks are stored once, whoever wrote
 *                         them.
 *   qvl:m:<name>          a snapshot's manifest (qvl_manifest.h), written
 *                         whole by one SET: a reader sees all of it or
 *                         none.
 *   qvl:snapshots         a hash: snapshot name -> "<logical bytes>
 *                         <files> <frames> <frame bytes>".
 *
 * Redis must not evict these (maxmemory-policy noeviction) and should
 * persist them (appendonly or RDB): a frame that is gone reads as -ENOENT.
 *
 * Thread context: thread-safe.  A handle keeps a small pool of connections;
 * each call takes one for its duration, so calls from several threads run
 * at once.  A batch call pipelines its commands (all sent, then all
 * replies read): one round trip for many frames.  A connection that fails
 * is reconnected on the next call that needs it, with exponential backoff
 * (calls during the backoff fail at once with -ENOTCONN), so a dead server
 * costs a reader one timeout, not one per chunk.  Nothing here prints.
 *
 * Functions return 0 or a negative errno: -ENOTCONN (server unreachable,
 * or in backoff), -ETIMEDOUT (no reply within the timeout), -EIO (a reply
 * that is not what was asked for, a frame of the wrong length), -ENOENT
 * (key absent), -EACCES (authentication refused), -ENOMEM.
 */
#ifndef QVL_REMOTE_H
#define QVL_REMOTE_H

#include <stddef.h>
#include <stdint.h>

/* The key of one frame. */
struct qvl_rkey {
	uint8_t hash[16]; /* xxh3-128 of the raw chunk, big-endian */
	uint8_t codec;    /* enum qvl_codec_id of the frame */
};

/* Bytes qvl_rkey_format() writes, with the NUL. */
#define QVL_RKEY_STRLEN 48

/* qvl_rkey_format() - "qvl:f:<32 hex>:<codec>" into @out. */
void qvl_rkey_format(const struct qvl_rkey *k, char out[QVL_RKEY_STRLEN]);

/* qvl_rkey_hash() - set @k->hash from @len bytes of raw chunk at @raw,
 * as if zero-padded to @chunk bytes (@len <= @chunk). */
void qvl_rkey_hash(const void *raw, size_t len, size_t chunk,
		   struct qvl_rkey *k);

/* qvl_rkey_check() - 0 when @chunk (@len bytes, a whole decoded chunk)
 * hashes to @k->hash, else -EIO. */
int qvl_rkey_check(const struct qvl_rkey *k, const void *chunk, size_t len);

struct qvl_remote;

struct qvl_remote_opts {
	/* redis://HOST:PORT (also redis://HOST, port 6379) or unix:PATH.
	 * A URL naming a cluster node is fine: the engine finds the others
	 * (CLUSTER SLOTS) and follows MOVED/ASK. */
	const char *url;
	/* NULL, or a file holding "PASSWORD" or "USER PASSWORD" on its first
	 * line (Redis ACL, AUTH); it must not be readable by group or
	 * others (-EACCES otherwise). */
	const char *auth_file;
	unsigned timeout_ms; /* connect and reply timeout; 0: 2000 */
	unsigned conns;      /* connections in the pool; 0: 4 */
};

/*
 * qvl_remote_open() - a handle for @o; checks the URL and reads the auth
 * file, connects lazily (qvl_remote_ping() to connect now).  On failure
 * *@out is NULL and @err (if not NULL) says why in one line: -EINVAL for a
 * bad URL, -EACCES/-ENOENT for the auth file.
 */
int qvl_remote_open(const struct qvl_remote_opts *o, struct qvl_remote **out,
		    char *err, size_t errlen);

/* qvl_remote_close() - close every connection; NULL ok. */
void qvl_remote_close(struct qvl_remote *r);

/* qvl_remote_url() - the URL it was opened with. */
const char *qvl_remote_url(const struct qvl_remote *r);

/* qvl_remote_ping() - connect (and authenticate) one connection now. */
int qvl_remote_ping(struct qvl_remote *r);

/* qvl_remote_error() - one line about the last failure, "" if none.  The
 * text is copied into @buf. */
void qvl_remote_error(struct qvl_remote *r, char *buf, size_t len);

/* One frame to fetch. */
struct qvl_remote_get {
	const struct qvl_rkey *key;
	void *buf;     /* where the frame goes */
	size_t cap;    /* @buf's size */
	size_t len;    /* in: the frame's length, 0 when unknown; out: got */
	int result;    /* out: 0, -ENOENT, -EIO (wrong length), ... */
};

/*
 * qvl_remote_get_frames() - GET @n frames in one pipeline.  Each request's
 * result is set; returns 0 when all succeeded, else the first failure.
 * A frame longer than @cap, or not @len long when @len is given, is -EIO.
 */
int qvl_remote_get_frames(struct qvl_remote *r, struct qvl_remote_get *g,
			  unsigned n);

/*
 * qvl_remote_get_frames_each() - the same, calling @done(@arg, i) as soon
 * as request i has its result (once each, in the order replies come,
 * failures included), so the caller decodes one frame while the next ones
 * arrive.  @done runs on the calling thread with a connection held: it
 * must not call into @r.
 */
int qvl_remote_get_frames_each(struct qvl_remote *r, struct qvl_remote_get *g,
			       unsigned n, void (*done)(void *arg, unsigned i),
			       void *arg);

/* qvl_remote_has_frames() - @has[i] = 1 when frame @keys[i] exists. */
int qvl_remote_has_frames(struct qvl_remote *r, const struct qvl_rkey *keys,
			  unsigned n, uint8_t *has);

/* qvl_remote_put_frames() - SET NX @n frames in one pipeline (a frame that
 * exists already is left as it is: it holds the same bytes). */
int qvl_remote_put_frames(struct qvl_remote *r, const struct qvl_rkey *keys,
			  const void *const *frames, const size_t *lens,
			  unsigned n);

/* Whole values by name (manifests): GET into a malloc'd buffer (*@buf,
 * *@len; free() it), SET, DEL.  GET and DEL of an absent key: -ENOENT. */
int qvl_remote_get_value(struct qvl_remote *r, const char *key, void **buf,
			 size_t *len);
int qvl_remote_set_value(struct qvl_remote *r, const char *key,
			 const void *buf, size_t len);
int qvl_remote_del_value(struct qvl_remote *r, const char *key);

/* The snapshot index (a Redis hash): set one field; call @fn for each
 * field (a non-zero return stops and is returned). */
int qvl_remote_hset(struct qvl_remote *r, const char *hash, const char *field,
		    const char *value);
int qvl_remote_hgetall(struct qvl_remote *r, const char *hash,
		       int (*fn)(void *arg, const char *field,
				 const char *value),
		       void *arg);

struct qvl_remote_stats {
	uint64_t frames_got, frame_bytes_got; /* frames fetched */
	uint64_t frames_put, frame_bytes_put; /* frames SET NX (sent) */
	uint64_t missing;    /* frames asked for that were absent */
	uint64_t errors;     /* failed calls (any cause) */
	uint64_t timeouts;   /* of those: no reply in time */
	uint64_t reconnects; /* connections made after the first */
	uint64_t redirects;  /* cluster MOVED/ASK followed */
	uint32_t nodes;      /* cluster: masters known (1: a single server) */
	uint8_t up;          /* the last call reached the server */
};
void qvl_remote_get_stats(struct qvl_remote *r, struct qvl_remote_stats *st);

#endif /* QVL_REMOTE_H */

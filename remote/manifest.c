/*
 * manifest.c - a snapshot's manifest: build, encode, decode (FORMAT in
 * qvl_manifest.h).
 *
 * A decoded manifest drives file creation on a reader's machine from bytes
 * anyone with write access to Redis could have put there, so the decoder
 * takes nothing on trust: the checksum first, then every length against
 * the bytes left before it is read, every count against the bytes left
 * before anything is allocated for it (a count can't ask for more memory
 * than a few times the input), and each entry through the same checks
 * qvl_manifest_add() makes.  What passes is a tree whose paths stay under
 * the root, whose parents exist before their children, with no name twice.
 *
 * To check "parent exists, name is new" in O(1), the manifest carries a
 * hash index of its paths (entry index + 1 per slot, open addressing) in a
 * private wrapper around the public struct; every manifest comes from
 * qvl_manifest_new() or qvl_manifest_decode(), which allocate the wrapper.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "qvl_manifest.h"

#define MAN_MAGIC "QVLMAN01"
#define MAN_SHIFT_MIN 16
#define MAN_SHIFT_MAX 26
#define MAN_FRAME_SLACK 4096 /* a frame may exceed its chunk by this */
#define MAN_CODECS 6         /* enum qvl_codec_id values */
#define MAN_XATTR_NAME_MIN 6 /* "user." and one byte */
/* Smallest encodings, to bound counts by the bytes left. */
#define MAN_ENTRY_MIN (1 + 4 + 8 + 8 + 2 + 1 + 2)
#define MAN_XATTR_MIN (2 + MAN_XATTR_NAME_MIN + 4)
#define MAN_CHUNK_MIN (8 + 16 + 1 + 4)

struct man {
	struct qvl_manifest m; /* first: the public part */
	uint64_t *slot;        /* entry index + 1, 0 empty */
	uint64_t nslot;        /* a power of two, at most half full */
};

static struct man *man_of(const struct qvl_manifest *m)
{
	return (struct man *)m;
}

/* ---- paths ---------------------------------------------------------------- */

int qvl_manifest_path_ok(const char *path)
{
	size_t len, comp = 0;

	if (!path)
		return 0;
	len = strlen(path);
	if (!len || len > QVL_MAN_PATH_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (path[i] != '/' && path[i]) {
			comp++;
			continue;
		}
		/* A component ends at i: not empty, ".", ".." or too long. */
		if (!comp || comp > QVL_MAN_NAME_MAX)
			return 0;
		if (path[i - comp] == '.' &&
		    (comp == 1 || (comp == 2 && path[i - 1] == '.')))
			return 0;
		comp = 0;
	}
	return 1;
}

/* ---- the path index ---------------------------------------------------------- */

static uint64_t path_hash(const char *p, size_t len)
{
	return XXH3_64bits(p, len);
}

/* Index of the entry named by @len bytes at @p, or -1. */
static int64_t index_find(const struct man *x, const char *p, size_t len)
{
	uint64_t mask = x->nslot - 1, h;

	if (!x->nslot)
		return -1;
	for (h = path_hash(p, len) & mask; x->slot[h]; h = (h + 1) & mask) {
		const char *q = x->m.e[x->slot[h] - 1].path;

		if (!strncmp(q, p, len) && !q[len])
			return (int64_t)(x->slot[h] - 1);
	}
	return -1;
}

static void index_put(struct man *x, uint64_t i)
{
	const char *p = x->m.e[i].path;
	uint64_t mask = x->nslot - 1, h;

	for (h = path_hash(p, strlen(p)) & mask; x->slot[h]; h = (h + 1) & mask)
		;
	x->slot[h] = i + 1;
}

/* Room in the index for @n entries. */
static int index_reserve(struct man *x, uint64_t n)
{
	uint64_t want = 16, *old = x->slot, oldn = x->nslot;

	while (want < 2 * n)
		want *= 2;
	if (want <= x->nslot)
		return 0;
	x->slot = calloc(want, sizeof(*x->slot));
	if (!x->slot) {
		x->slot = old;
		return -ENOMEM;
	}
	x->nslot = want;
	for (uint64_t s = 0; s < oldn; s++)
		if (old[s])
			index_put(x, old[s] - 1);
	free(old);
	return 0;
}

static int entries_reserve(struct qvl_manifest *m, uint64_t n)
{
	struct qvl_man_entry *e;
	uint64_t cap = m->cap ? m->cap : 16;

	if (n <= m->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	e = realloc(m->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	m->e = e;
	m->cap = cap;
	return index_reserve(man_of(m), cap);
}

/* ---- building --------------------------------------------------------------- */

int qvl_manifest_new(unsigned chunk_shift, struct qvl_manifest **out)
{
	struct man *x;

	*out = NULL;
	if (chunk_shift < MAN_SHIFT_MIN || chunk_shift > MAN_SHIFT_MAX)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->m.chunk_shift = chunk_shift;
	*out = &x->m;
	return 0;
}

static void entry_free(struct qvl_man_entry *e)
{
	for (uint32_t k = 0; k < e->nxattr; k++) {
		free(e->xattr[k].name);
		free(e->xattr[k].value);
	}
	free(e->xattr);
	free(e->chunks);
	free(e->link);
	free(e->path);
}

void qvl_manifest_free(struct qvl_manifest *m)
{
	struct man *x = man_of(m);

	if (!m)
		return;
	for (uint64_t i = 0; i < m->n; i++)
		entry_free(&m->e[i]);
	free(m->e);
	free(x->slot);
	free(x);
}

/* @len bytes at @p, NUL-terminated, into a new string. */
static char *dup_n(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* Everything about an entry that doesn't depend on the others. */
static int entry_ok(uint8_t type, uint32_t mode, uint64_t size,
		    const char *link, size_t linklen)
{
	if (mode & ~07777u)
		return -EINVAL;
	switch (type) {
	case QVL_MAN_DIR:
		return size || link ? -EINVAL : 0;
	case QVL_MAN_FILE:
		return link || size > INT64_MAX ? -EINVAL : 0;
	case QVL_MAN_LINK:
		if (size || !link || !linklen || linklen > QVL_MAN_PATH_MAX ||
		    memchr(link, '\0', linklen))
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

/* qvl_manifest_add() with the target as bytes (the decoder's form). */
static int entry_add(struct qvl_manifest *m, uint8_t type, const char *path,
		     uint32_t mode, uint64_t size, int64_t mtime_ns,
		     const char *link, size_t linklen,
		     struct qvl_man_entry **out)
{
	struct man *x = man_of(m);
	const char *slash;
	struct qvl_man_entry *e;
	int64_t parent;
	int rc;

	if (!qvl_manifest_path_ok(path))
		return -EINVAL;
	rc = entry_ok(type, mode, size, link, linklen);
	if (rc)
		return rc;
	slash = strrchr(path, '/');
	if (slash) {
		parent = index_find(x, path, (size_t)(slash - path));
		if (parent < 0 || m->e[parent].type != QVL_MAN_DIR)
			return -ENOENT;
	}
	if (index_find(x, path, strlen(path)) >= 0)
		return -EEXIST;
	rc = entries_reserve(m, m->n + 1);
	if (rc)
		return rc;
	e = &m->e[m->n];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->mode = mode;
	e->size = size;
	e->mtime_ns = mtime_ns;
	e->path = strdup(path);
	if (link)
		e->link = dup_n(link, linklen);
	if (!e->path || (link && !e->link)) {
		free(e->path);
		free(e->link);
		return -ENOMEM;
	}
	index_put(x, m->n++);
	if (out)
		*out = e;
	return 0;
}

int qvl_manifest_add(struct qvl_manifest *m, uint8_t type, const char *path,
		     uint32_t mode, uint64_t size, int64_t mtime_ns,
		     const char *link, struct qvl_man_entry **out)
{
	if (out)
		*out = NULL;
	return entry_add(m, type, path, mode, size, mtime_ns, link,
			 link ? strlen(link) : 0, out);
}

static int xattr_ok(const char *name, size_t namelen, uint32_t len)
{
	if (namelen < MAN_XATTR_NAME_MIN || namelen > QVL_MAN_NAME_MAX ||
	    memcmp(name, "user.", 5) || memchr(name, '\0', namelen) ||
	    len > QVL_MAN_XATTR_MAX)
		return -EINVAL;
	return 0;
}

/* Grow an array of @n items of @size to hold n + 1: capacity is the next
 * power of two, so no capacity field is needed. */
static int grow(void **arr, uint64_t n, size_t size)
{
	void *p;

	if (n & (n - 1))
		return 0;
	p = realloc(*arr, (n ? 2 * n : 1) * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

static int xattr_add(struct qvl_man_entry *e, const char *name,
		     size_t namelen, const void *value, uint32_t len)
{
	struct qvl_man_xattr *xa;
	int rc = xattr_ok(name, namelen, len);

	if (rc)
		return rc;
	if (e->nxattr >= UINT16_MAX)
		return -E2BIG;
	rc = grow((void **)&e->xattr, e->nxattr, sizeof(*e->xattr));
	if (rc)
		return rc;
	xa = &e->xattr[e->nxattr];
	xa->name = dup_n(name, namelen);
	xa->value = malloc(len ? len : 1);
	if (!xa->name || !xa->value) {
		free(xa->name);
		free(xa->value);
		return -ENOMEM;
	}
	if (len)
		memcpy(xa->value, value, len);
	xa->len = len;
	e->nxattr++;
	return 0;
}

int qvl_manifest_add_xattr(struct qvl_man_entry *e, const char *name,
			   const void *value, uint32_t len)
{
	if (!name)
		return -EINVAL;
	return xattr_add(e, name, strlen(name), value, len);
}

/* A chunk @c fits @e at chunk size 1 << @shift, after @e's last chunk. */
static int chunk_ok(const struct qvl_man_entry *e, unsigned idx_shift,
		    unsigned len_shift, const struct qvl_man_chunk *c,
		    const struct qvl_man_chunk *prev)
{
	uint64_t mask = (1ull << idx_shift) - 1;
	uint64_t nidx = (e->size >> idx_shift) + !!(e->size & mask);

	if (e->type != QVL_MAN_FILE || c->idx >= nidx ||
	    (prev && c->idx <= prev->idx) || c->key.codec >= MAN_CODECS ||
	    !c->len || c->len > (1u << len_shift) + MAN_FRAME_SLACK)
		return -EINVAL;
	return 0;
}

static int chunk_add(struct qvl_man_entry *e, unsigned idx_shift,
		     unsigned len_shift, const struct qvl_man_chunk *c)
{
	int rc = chunk_ok(e, idx_shift, len_shift, c,
			  e->nchunks ? &e->chunks[e->nchunks - 1] : NULL);

	if (rc)
		return rc;
	rc = grow((void **)&e->chunks, e->nchunks, sizeof(*e->chunks));
	if (rc)
		return rc;
	e->chunks[e->nchunks++] = *c;
	return 0;
}

/* The entry doesn't know the chunk size: the bounds here are those of the
 * loosest one, and qvl_manifest_encode() checks again with the real one. */
int qvl_manifest_add_chunk(struct qvl_man_entry *e, uint64_t idx,
			   const struct qvl_rkey *key, uint32_t len)
{
	struct qvl_man_chunk c = { .idx = idx, .key = *key, .len = len };

	return chunk_add(e, MAN_SHIFT_MIN, MAN_SHIFT_MAX, &c);
}

/* ---- encoding ------------------------------------------------------------------ */

static uint8_t *put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static uint8_t *put_bytes(uint8_t *p, const void *s, size_t n)
{
	if (n)
		memcpy(p, s, n);
	return p + n;
}

/* Bytes @e encodes to, or 0 when it can't be encoded as it stands. */
static size_t entry_size(const struct qvl_manifest *m,
			 const struct qvl_man_entry *e)
{
	size_t n;

	if (!qvl_manifest_path_ok(e->path) ||
	    entry_ok(e->type, e->mode, e->size, e->link,
		     e->link ? strlen(e->link) : 0) ||
	    e->nxattr > UINT16_MAX)
		return 0;
	n = MAN_ENTRY_MIN - 1 + strlen(e->path);
	for (uint32_t k = 0; k < e->nxattr; k++) {
		const struct qvl_man_xattr *xa = &e->xattr[k];
		size_t nl = strlen(xa->name);

		if (xattr_ok(xa->name, nl, xa->len))
			return 0;
		n += 2 + nl + 4 + xa->len;
	}
	if (e->type == QVL_MAN_LINK)
		n += 2 + strlen(e->link);
	if (e->type == QVL_MAN_FILE) {
		for (uint64_t k = 0; k < e->nchunks; k++)
			if (chunk_ok(e, m->chunk_shift, m->chunk_shift,
				     &e->chunks[k], k ? &e->chunks[k - 1] : NULL))
				return 0;
		n += 8 + e->nchunks * MAN_CHUNK_MIN;
	} else if (e->nchunks) {
		return 0;
	}
	return n;
}

static uint8_t *entry_put(uint8_t *p, const struct qvl_man_entry *e)
{
	size_t pl = strlen(e->path);

	p = put_le(p, e->type, 1);
	p = put_le(p, e->mode, 4);
	p = put_le(p, e->size, 8);
	p = put_le(p, (uint64_t)e->mtime_ns, 8);
	p = put_le(p, pl, 2);
	p = put_bytes(p, e->path, pl);
	p = put_le(p, e->nxattr, 2);
	for (uint32_t k = 0; k < e->nxattr; k++) {
		size_t nl = strlen(e->xattr[k].name);

		p = put_le(p, nl, 2);
		p = put_bytes(p, e->xattr[k].name, nl);
		p = put_le(p, e->xattr[k].len, 4);
		p = put_bytes(p, e->xattr[k].value, e->xattr[k].len);
	}
	if (e->type == QVL_MAN_LINK) {
		size_t ll = strlen(e->link);

		p = put_le(p, ll, 2);
		p = put_bytes(p, e->link, ll);
	} else if (e->type == QVL_MAN_FILE) {
		p = put_le(p, e->nchunks, 8);
		for (uint64_t k = 0; k < e->nchunks; k++) {
			const struct qvl_man_chunk *c = &e->chunks[k];

			p = put_le(p, c->idx, 8);
			p = put_bytes(p, c->key.hash, 16);
			p = put_le(p, c->key.codec, 1);
			p = put_le(p, c->len, 4);
		}
	}
	return p;
}

int qvl_manifest_encode(const struct qvl_manifest *m, void **buf,
			size_t *len)
{
	size_t total = 8 + 4 + 8 + 8;
	uint8_t *out, *p;

	*buf = NULL;
	*len = 0;
	if (m->chunk_shift < MAN_SHIFT_MIN || m->chunk_shift > MAN_SHIFT_MAX)
		return -EINVAL;
	for (uint64_t i = 0; i < m->n; i++) {
		size_t n = entry_size(m, &m->e[i]);

		if (!n)
			return -EINVAL;
		total += n;
	}
	out = malloc(total);
	if (!out)
		return -ENOMEM;
	p = put_bytes(out, MAN_MAGIC, 8);
	p = put_le(p, m->chunk_shift, 4);
	p = put_le(p, m->n, 8);
	for (uint64_t i = 0; i < m->n; i++)
		p = entry_put(p, &m->e[i]);
	p = put_le(p, XXH3_64bits(out, (size_t)(p - out)), 8);
	*buf = out;
	*len = (size_t)(p - out);
	return 0;
}

/* ---- decoding -------------------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t left;
	int bad; /* a read went past the end */
};

static uint64_t get_le(struct rd *r, int bytes)
{
	uint64_t v = 0;

	if (r->left < (size_t)bytes) {
		r->bad = 1;
		r->left = 0;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += bytes;
	r->left -= (size_t)bytes;
	return v;
}

static const char *get_bytes(struct rd *r, size_t n)
{
	const char *s = (const char *)r->p;

	if (r->left < n) {
		r->bad = 1;
		r->left = 0;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return s;
}

/* Read the xattr table at @r into @e (NULL: only step over it). */
static int xattrs_get(struct rd *r, struct qvl_man_entry *e)
{
	unsigned n = (unsigned)get_le(r, 2);

	if (r->bad || n > r->left / MAN_XATTR_MIN)
		return -EIO;
	for (unsigned k = 0; k < n; k++) {
		size_t nl = get_le(r, 2);
		const char *name = get_bytes(r, nl);
		uint32_t vl = (uint32_t)get_le(r, 4);
		const char *val = get_bytes(r, vl);

		if (r->bad || xattr_ok(name, nl, vl))
			return -EIO;
		if (e) {
			int rc = xattr_add(e, name, nl, val, vl);

			if (rc)
				return rc == -ENOMEM ? rc : -EIO;
		}
	}
	return 0;
}

static int chunks_get(struct rd *r, const struct qvl_manifest *m,
		      struct qvl_man_entry *e)
{
	uint64_t n = get_le(r, 8);

	if (r->bad || n > r->left / MAN_CHUNK_MIN)
		return -EIO;
	if (n) {
		uint64_t cap = 1;

		/* A power of two: grow() takes it for the capacity. */
		while (cap < n)
			cap *= 2;
		e->chunks = malloc(cap * sizeof(*e->chunks));
		if (!e->chunks)
			return -ENOMEM;
	}
	for (uint64_t k = 0; k < n; k++) {
		struct qvl_man_chunk *c = &e->chunks[k];
		const char *hash;

		c->idx = get_le(r, 8);
		hash = get_bytes(r, 16);
		c->key.codec = (uint8_t)get_le(r, 1);
		c->len = (uint32_t)get_le(r, 4);
		if (r->bad)
			return -EIO;
		memcpy(c->key.hash, hash, 16);
		if (chunk_ok(e, m->chunk_shift, m->chunk_shift, c,
			     k ? c - 1 : NULL))
			return -EIO;
		e->nchunks++;
	}
	return 0;
}

static int entry_get(struct rd *r, struct qvl_manifest *m)
{
	char path[QVL_MAN_PATH_MAX + 1];
	uint8_t type = (uint8_t)get_le(r, 1);
	uint32_t mode = (uint32_t)get_le(r, 4);
	uint64_t size = get_le(r, 8);
	int64_t mtime = (int64_t)get_le(r, 8);
	size_t pl = get_le(r, 2), ll = 0;
	const char *p = get_bytes(r, pl), *link = NULL;
	struct qvl_man_entry *e;
	struct rd xattrs;
	int rc;

	if (r->bad || !pl || pl > QVL_MAN_PATH_MAX || memchr(p, '\0', pl))
		return -EIO;
	memcpy(path, p, pl);
	path[pl] = '\0';
	/* The table comes before the link target add needs: step over it
	 * now, read it once the entry exists. */
	xattrs = *r;
	rc = xattrs_get(r, NULL);
	if (rc)
		return rc;
	if (type == QVL_MAN_LINK) {
		ll = get_le(r, 2);
		link = get_bytes(r, ll);
		if (r->bad)
			return -EIO;
	}
	rc = entry_add(m, type, path, mode, size, mtime, link, ll, &e);
	if (rc)
		return rc == -ENOMEM ? rc : -EIO;
	rc = xattrs_get(&xattrs, e);
	if (!rc && type == QVL_MAN_FILE)
		rc = chunks_get(r, m, e);
	return rc;
}

int qvl_manifest_decode(const void *buf, size_t len,
			struct qvl_manifest **out)
{
	const uint8_t *b = buf;
	struct qvl_manifest *m;
	struct rd r;
	uint64_t n, sum;
	unsigned shift;
	int rc;

	*out = NULL;
	if (len < 8 + 4 + 8 + 8 || memcmp(b, MAN_MAGIC, 8))
		return -EIO;
	r = (struct rd){ .p = b + len - 8, .left = 8 };
	sum = get_le(&r, 8);
	if (sum != XXH3_64bits(b, len - 8))
		return -EIO;
	r = (struct rd){ .p = b + 8, .left = len - 16 };
	shift = (unsigned)get_le(&r, 4);
	n = get_le(&r, 8);
	if (shift < MAN_SHIFT_MIN || shift > MAN_SHIFT_MAX ||
	    n > r.left / MAN_ENTRY_MIN)
		return -EIO;
	rc = qvl_manifest_new(shift, &m);
	if (!rc)
		rc = entries_reserve(m, n);
	for (uint64_t i = 0; !rc && i < n; i++)
		rc = entry_get(&r, m);
	if (!rc && r.left)
		rc = -EIO; /* bytes after the last entry */
	if (rc) {
		qvl_manifest_free(m);
		return rc == -ENOMEM ? rc : -EIO;
	}
	*out = m;
	return 0;
}

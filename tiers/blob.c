/*
 * blob.c - one file's bytes as a flat map of fixed-size chunks.
 *
 * map[i] is chunk i or NULL (a hole).  The map covers only chunks that were
 * ever written, so a sparse file costs a pointer per chunk up to its last
 * written one, and nothing for its holes' data.  Writes are all-or-nothing:
 * the chunks a write needs are allocated before any byte is copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "qvl_tier.h"

struct qvl_blob {
	struct qvl_pool *pool;
	unsigned shift;
	size_t chunk; /* 1 << shift */
	void **map;
	uint64_t nmap;     /* entries in map */
	uint64_t resident; /* chunks allocated */
	uint64_t version;
};

int qvl_blob_create(struct qvl_pool *pool, unsigned chunk_shift,
		    struct qvl_blob **out)
{
	*out = NULL;
	if (chunk_shift < QVL_CHUNK_SHIFT_MIN || chunk_shift > QVL_CHUNK_SHIFT_MAX)
		return -EINVAL;
	struct qvl_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->pool = pool;
	b->shift = chunk_shift;
	b->chunk = (size_t)1 << chunk_shift;
	*out = b;
	return 0;
}

static void free_from(struct qvl_blob *b, uint64_t first)
{
	for (uint64_t i = first; i < b->nmap; i++) {
		if (b->map[i]) {
			qvl_pool_free(b->pool, b->map[i], b->chunk);
			b->map[i] = NULL;
			b->resident--;
		}
	}
}

void qvl_blob_destroy(struct qvl_blob *blob)
{
	if (!blob)
		return;
	free_from(blob, 0);
	free(blob->map);
	free(blob);
}

void qvl_blob_read(const struct qvl_blob *b, void *buf, size_t len,
		   uint64_t off)
{
	char *dst = buf;
	while (len) {
		uint64_t idx = off >> b->shift;
		size_t in = (size_t)(off & (b->chunk - 1));
		size_t n = b->chunk - in < len ? b->chunk - in : len;
		const char *c = idx < b->nmap ? b->map[idx] : NULL;
		if (c)
			memcpy(dst, c + in, n);
		else
			memset(dst, 0, n);
		dst += n;
		off += n;
		len -= n;
	}
}

static int grow_map(struct qvl_blob *b, uint64_t need)
{
	if (need <= b->nmap)
		return 0;
	uint64_t cap = b->nmap ? b->nmap : 4;
	while (cap < need)
		cap *= 2;
	void **m = realloc(b->map, cap * sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m + b->nmap, 0, (cap - b->nmap) * sizeof(*m));
	b->map = m;
	b->nmap = cap;
	return 0;
}

/*
 * Make chunks [first, last] resident, all or nothing: count the holes, take
 * that many slots from the pool in one call (which checks the budget once),
 * then fill the holes.
 */
static int make_resident(struct qvl_blob *b, uint64_t first, uint64_t last)
{
	int rc = grow_map(b, last + 1);
	if (rc)
		return rc;
	size_t holes = 0;
	for (uint64_t i = first; i <= last; i++)
		holes += !b->map[i];
	if (!holes)
		return 0;

	void *small[4];
	void **fresh = holes <= 4 ? small : malloc(holes * sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	rc = qvl_pool_alloc_n(b->pool, b->chunk, holes, fresh);
	if (!rc) {
		size_t k = 0;
		for (uint64_t i = first; i <= last; i++)
			if (!b->map[i])
				b->map[i] = fresh[k++];
		b->resident += holes;
	}
	if (fresh != small)
		free(fresh);
	return rc;
}

static int check_range(uint64_t off, uint64_t len)
{
	if (off > QVL_BLOB_MAX_SIZE || len > QVL_BLOB_MAX_SIZE - off)
		return -EFBIG;
	return 0;
}

int qvl_blob_write(struct qvl_blob *b, const void *buf, size_t len,
		   uint64_t off)
{
	if (!len)
		return 0;
	int rc = check_range(off, len);
	if (rc)
		return rc;
	rc = make_resident(b, off >> b->shift, (off + len - 1) >> b->shift);
	if (rc)
		return rc;
	const char *src = buf;
	while (len) {
		uint64_t idx = off >> b->shift;
		size_t in = (size_t)(off & (b->chunk - 1));
		size_t n = b->chunk - in < len ? b->chunk - in : len;
		memcpy((char *)b->map[idx] + in, src, n);
		src += n;
		off += n;
		len -= n;
	}
	b->version++;
	return 0;
}

int qvl_blob_reserve(struct qvl_blob *b, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	int rc = check_range(off, len);
	if (rc)
		return rc;
	return make_resident(b, off >> b->shift, (off + len - 1) >> b->shift);
}

static void drop_chunk(struct qvl_blob *b, uint64_t idx)
{
	if (idx < b->nmap && b->map[idx]) {
		qvl_pool_free(b->pool, b->map[idx], b->chunk);
		b->map[idx] = NULL;
		b->resident--;
	}
}

static void zero_part(struct qvl_blob *b, uint64_t off, uint64_t len)
{
	uint64_t idx = off >> b->shift;
	if (idx < b->nmap && b->map[idx])
		memset((char *)b->map[idx] + (off & (b->chunk - 1)), 0, len);
}

void qvl_blob_punch(struct qvl_blob *b, uint64_t off, uint64_t len)
{
	if (off >= QVL_BLOB_MAX_SIZE)
		return; /* nothing can be stored there */
	if (len > QVL_BLOB_MAX_SIZE - off)
		len = QVL_BLOB_MAX_SIZE - off;
	uint64_t end = off + len;
	while (off < end) {
		uint64_t cstart = off & ~(uint64_t)(b->chunk - 1);
		uint64_t cend = cstart + b->chunk;
		uint64_t stop = cend < end ? cend : end;
		if (off == cstart && stop == cend)
			drop_chunk(b, off >> b->shift);
		else
			zero_part(b, off, stop - off);
		off = stop;
	}
	b->version++;
}

void qvl_blob_truncate(struct qvl_blob *b, uint64_t size)
{
	if (size > QVL_BLOB_MAX_SIZE)
		size = QVL_BLOB_MAX_SIZE; /* nothing lies past it; no overflow */
	uint64_t first_whole = (size + b->chunk - 1) >> b->shift;
	free_from(b, first_whole);
	if (size & (b->chunk - 1))
		zero_part(b, size, b->chunk - (size & (b->chunk - 1)));
	b->version++;
}

uint64_t qvl_blob_resident(const struct qvl_blob *b)
{
	return b->resident << b->shift;
}

uint64_t qvl_blob_version(const struct qvl_blob *b)
{
	return b->version;
}

int qvl_blob_checksum(const struct qvl_blob *b, uint64_t size, uint64_t *out)
{
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		return -ENOMEM;
	void *zeros = NULL;
	XXH3_64bits_reset(st);
	for (uint64_t off = 0; off < size; off += b->chunk) {
		size_t n = size - off < b->chunk ? (size_t)(size - off) : b->chunk;
		const void *c = (off >> b->shift) < b->nmap ? b->map[off >> b->shift]
							    : NULL;
		if (!c) {
			if (!zeros && !(zeros = calloc(1, b->chunk))) {
				XXH3_freeState(st);
				return -ENOMEM;
			}
			c = zeros;
		}
		XXH3_64bits_update(st, c, n);
	}
	*out = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	free(zeros);
	return 0;
}

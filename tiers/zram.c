/*
 * zram.c - compressed frames kept in RAM: the compressed tier's storage.
 *
 * A frame is kept in pieces of one pool class (1/32 of a chunk, at least
 * 4 KiB), so a 0.66 frame costs 0.66 of a chunk plus at most one piece,
 * where a power-of-two slot would cost a whole chunk.  The decoder wants
 * one buffer: a frame is gathered before it is decoded (a memcpy of the
 * frame, a few percent of the decode's own time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tm_i.h"

size_t qvl_zram_piece(size_t chunk)
{
	size_t p = chunk >> 5;
	return p < 4096 ? 4096 : p;
}

int qvl_zram_alloc(struct qvl_pool *pool, size_t piece, uint32_t len,
		   struct qvl_zframe **out)
{
	size_t n = (len + piece - 1) / piece;
	struct qvl_zframe *z = malloc(sizeof(*z) + n * sizeof(z->piece[0]));
	*out = NULL;
	if (!z)
		return -ENOMEM;
	int rc = qvl_pool_alloc_n_raw(pool, piece, n, z->piece);
	if (rc) {
		free(z);
		return rc;
	}
	z->len = len;
	z->npieces = (uint32_t)n;
	*out = z;
	return 0;
}

void qvl_zram_fill(struct qvl_zframe *z, size_t piece, const void *frame)
{
	const char *src = frame;
	for (size_t i = 0; i < z->npieces; i++) {
		size_t k = z->len - i * piece < piece ? z->len - i * piece : piece;
		memcpy(z->piece[i], src + i * piece, k);
	}
}

int qvl_zram_store(struct qvl_pool *pool, size_t piece, const void *frame,
		   uint32_t len, struct qvl_zframe **out)
{
	int rc = qvl_zram_alloc(pool, piece, len, out);
	if (!rc)
		qvl_zram_fill(*out, piece, frame);
	return rc;
}

void qvl_zram_free(struct qvl_pool *pool, size_t piece, struct qvl_zframe *z)
{
	if (!z)
		return;
	for (uint32_t i = 0; i < z->npieces; i++)
		qvl_pool_free(pool, z->piece[i], piece);
	free(z);
}

void qvl_zram_gather(const struct qvl_zframe *z, size_t piece, void *dst)
{
	char *d = dst;
	for (uint32_t i = 0; i < z->npieces; i++) {
		size_t k = z->len - i * piece < piece ? z->len - i * piece : piece;
		memcpy(d + i * piece, z->piece[i], k);
	}
}

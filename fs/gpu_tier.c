/*
 * gpu_tier.c - whole files replicated on the GPU (gpu_tier.h).
 *
 * Placement is asked for (tier=gpu, pin=gpu); nothing is placed on its
 * own.  A replica takes one block of the arena, the file's bytes read
 * through the blob (fetched from the store or the remote tier as a READ
 * would) into the staging ring piece by piece and copied up while the
 * next piece is read.  When the arena is full, replicas that are neither
 * pinned (pin=gpu) nor mapped by a consumer leave, least recently used
 * first (placed, or asked for its handle).
 *
 * A change of the file changes its replica before the request returns: a
 * pinned or mapped one is refreshed (the written bytes, zeros for a hole
 * or a growth, a new block when a pinned file outgrows its block), any
 * other is dropped, since nobody holds it and it is placed again when
 * asked.  A mapped replica never moves: a size past its block is EBUSY.
 *
 * All of it under fs->lock: the GPU's work per request is a copy of the
 * bytes the request itself moved, and a placement's reads are those of
 * tier=ram, which waits for the store under the lock the same way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu_tier.h"
#include "ops_i.h"

void qvl_fs_gpu_open(struct qvl_fs *fs, const struct qvl_gpu_config *cfg)
{
	fs->gpu_asked = 1;
	int rc = qvl_gpu_open(cfg, &fs->gpu, fs->gpu_why, sizeof(fs->gpu_why));
	if (rc) {
		if (!fs->gpu_why[0])
			snprintf(fs->gpu_why, sizeof(fs->gpu_why), "%s",
				 strerror(-rc));
		fprintf(stderr, "qvlmemfs: no GPU tier: %s; GPU requests "
				"(tier=gpu, pin=gpu) fail with ENODEV\n",
			fs->gpu_why);
		return;
	}
	if (qvl_gpu_ipc_handle(fs->gpu, fs->gpu_handle))
		fs->gpu_handle[0] = '\0';
	struct qvl_gpu_stats st;
	qvl_gpu_stats(fs->gpu, &st);
	fprintf(stderr, "qvlmemfs: GPU tier: %s, device %d, arena %" PRIu64
			" MiB\n", st.device, st.dev, st.arena.size >> 20);
}

static void lru_unlink(struct qvl_fs *fs, struct qvl_gpu_rep *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		fs->gpu_lru = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		fs->gpu_lru_tail = r->prev;
	r->prev = r->next = NULL;
}

static void lru_front(struct qvl_fs *fs, struct qvl_gpu_rep *r)
{
	r->next = fs->gpu_lru;
	if (fs->gpu_lru)
		fs->gpu_lru->prev = r;
	fs->gpu_lru = r;
	if (!fs->gpu_lru_tail)
		fs->gpu_lru_tail = r;
}

static void touch(struct qvl_fs *fs, struct qvl_gpu_rep *r)
{
	lru_unlink(fs, r);
	lru_front(fs, r);
}

static void rep_free(struct qvl_fs *fs, struct qvl_gpu_rep *r)
{
	lru_unlink(fs, r);
	qvl_gpu_free(fs->gpu, r->off);
	if (r->in)
		r->in->gpu = NULL;
	free(r->maps);
	free(r);
}

void qvl_fs_gpu_close(struct qvl_fs *fs)
{
	while (fs->gpu_lru)
		rep_free(fs, fs->gpu_lru);
	qvl_gpu_close(fs->gpu);
	fs->gpu = NULL;
}

static int pinned(const struct qvl_gpu_rep *r)
{
	return r->in && r->in->hints.pin == QVL_PIN_GPU;
}

/* Someone holds it: it is refreshed, never dropped, on a change. */
static int kept(const struct qvl_gpu_rep *r)
{
	return r->mappers || pinned(r);
}

/* A block for @len, evicting what nobody holds, oldest first. */
static int block_for(struct qvl_fs *fs, uint64_t len, uint64_t *off)
{
	if (!qvl_gpu_block_size(fs->gpu, len ? len : 1))
		return ENOSPC; /* larger than the arena */
	for (;;) {
		int rc = qvl_gpu_alloc(fs->gpu, len ? len : 1, off);
		if (rc != -ENOSPC)
			return -rc;
		struct qvl_gpu_rep *v = fs->gpu_lru_tail;
		while (v && kept(v))
			v = v->prev;
		if (!v)
			return ENOSPC;
		fs->gpu_evicted++;
		rep_free(fs, v);
	}
}

/* Bytes [@at, @at + @len) of the replica from @buf (NULL: zeros). */
static int up_bytes(struct qvl_fs *fs, struct qvl_gpu_rep *r, uint64_t at,
		    const void *buf, uint64_t len)
{
	return -qvl_gpu_upload(fs->gpu, r->off + at, buf, len, 0);
}

/*
 * File @ino's @size bytes into the arena at @off, read through the blob a
 * staging buffer at a time.  With @unlocked, fs->lock is let go after
 * each piece (its copy runs meanwhile), so a large file does not hold up
 * every other request; the file must then stay at blob version @version
 * throughout (EAGAIN: it changed or went).  0, EAGAIN, ESTALE, ENOMEM, or
 * EIO (the store or the device failed).
 */
static int up_file(struct qvl_fs *fs, uint64_t ino, uint64_t off,
		   uint64_t size, uint64_t version, int unlocked)
{
	struct qvl_gpu_up up;
	int err = 0;
	qvl_gpu_up_begin(fs->gpu, &up, off, size);
	for (uint64_t done = 0; done < size && !up.rc && !err;) {
		struct qvl_inode *in = qvl_inode_get(fs, ino);
		if (!in || !in->blob || qvl_blob_version(in->blob) != version) {
			err = EAGAIN;
			break;
		}
		size_t cap;
		char *p = qvl_gpu_up_buf(&up, &cap);
		size_t n = size - done < cap ? (size_t)(size - done) : cap;
		err = -qvl_blob_read(in->blob, p, n, done);
		if (!err)
			qvl_gpu_up_send(&up, n);
		done += n;
		if (unlocked && done < size) {
			pthread_mutex_unlock(&fs->lock);
			pthread_mutex_lock(&fs->lock);
		}
	}
	if (unlocked) { /* the last copies, without the lock */
		pthread_mutex_unlock(&fs->lock);
		qvl_gpu_up_wait(&up);
		pthread_mutex_lock(&fs->lock);
	}
	int rc = -qvl_gpu_up_end(&up);
	if (err == EAGAIN || err == ESTALE || err == ENOMEM)
		return err;
	return err ? EIO : rc ? EIO : 0;
}

/* Tries with the lock let go between pieces before one that keeps it. */
#define PLACE_UNLOCKED_TRIES 3

int qvl_fs_gpu_place(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (!fs->gpu)
		return ENODEV;
	if (!S_ISREG(in->mode) || !in->blob)
		return EINVAL;
	uint64_t ino = in->ino;
	for (unsigned tries = 0;; tries++) {
		if (in->gpu) { /* here already, or placed meanwhile */
			if (in->gpu->stale)
				return EBUSY; /* its old block still mapped */
			touch(fs, in->gpu);
			return 0;
		}
		uint64_t off, size = in->size;
		uint64_t version = qvl_blob_version(in->blob);
		int err = block_for(fs, size, &off);
		if (err)
			return err;
		/* The block is no replica's yet: nothing evicts it. */
		err = up_file(fs, ino, off, size, version,
			      tries < PLACE_UNLOCKED_TRIES);
		in = qvl_inode_get(fs, ino);
		if (!err && in && !in->gpu &&
		    qvl_blob_version(in->blob) == version) {
			struct qvl_gpu_rep *r = calloc(1, sizeof(*r));
			if (!r) {
				qvl_gpu_free(fs->gpu, off);
				return ENOMEM;
			}
			*r = (struct qvl_gpu_rep){
				.in = in, .off = off, .len = size,
				.block = qvl_gpu_block_size(fs->gpu,
							    size ? size : 1),
			};
			in->gpu = r;
			lru_front(fs, r);
			fs->gpu_placed++;
			return 0;
		}
		qvl_gpu_free(fs->gpu, off);
		if (!in)
			return ENOENT;
		if (err && err != EAGAIN)
			return err;
	}
}

/* The files pinned to the GPU at mount, by number (one walk of the inode
 * table, not one per file); *@n of them, NULL when none or no memory. */
static uint64_t *pinned_inos(struct qvl_fs *fs, size_t *n)
{
	uint64_t *v = NULL;
	size_t cap = 0;
	*n = 0;
	for (size_t i = 0; i < fs->itab_size; i++) {
		for (struct qvl_inode *in = fs->itab[i]; in; in = in->hnext) {
			if (!S_ISREG(in->mode) || !in->blob ||
			    in->hints.pin != QVL_PIN_GPU)
				continue;
			if (*n == cap) {
				cap = cap ? 2 * cap : 64;
				uint64_t *w = realloc(v, cap * sizeof(*v));
				if (!w)
					return v; /* the ones so far */
				v = w;
			}
			v[(*n)++] = in->ino;
		}
	}
	return v;
}

static void *pinner(void *arg)
{
	struct qvl_fs *fs = arg;
	unsigned placed = 0, failed = 0;
	size_t n;
	pthread_mutex_lock(&fs->lock);
	uint64_t *inos = pinned_inos(fs, &n);
	for (size_t k = 0; k < n && !atomic_load(&fs->gpu_pinner_stop); k++) {
		struct qvl_inode *in = qvl_inode_get(fs, inos[k]);
		if (!in)
			continue;
		/* Its bytes come without the lock, as tier=gpu's do. */
		qvl_fetch_unlocked(fs, inos[k], 0, in->size, QVL_FETCH_ALL,
				   &in);
		if (!in || in->hints.pin != QVL_PIN_GPU || in->gpu)
			continue; /* gone, unpinned or placed meanwhile */
		int rc = qvl_fs_gpu_place(fs, in);
		placed += !rc;
		if (rc && failed++ < 8)
			fprintf(stderr, "qvlmemfs: inode %" PRIu64 " is pinned "
					"to the GPU but cannot be placed: %s\n",
				inos[k], strerror(rc));
	}
	pthread_mutex_unlock(&fs->lock);
	free(inos);
	if (placed || failed)
		fprintf(stderr, "qvlmemfs: GPU tier: %u pinned files placed, "
				"%u could not be\n", placed, failed);
	return NULL;
}

int qvl_fs_gpu_pins_start(struct qvl_fs *fs)
{
	if (!fs->gpu || fs->gpu_pinner_on)
		return 0;
	atomic_store(&fs->gpu_pinner_stop, 0);
	if (pthread_create(&fs->gpu_pinner, NULL, pinner, fs))
		return -EAGAIN;
	fs->gpu_pinner_on = 1;
	return 0;
}

void qvl_fs_gpu_pins_stop(struct qvl_fs *fs)
{
	if (!fs->gpu_pinner_on)
		return;
	atomic_store(&fs->gpu_pinner_stop, 1);
	pthread_join(fs->gpu_pinner, NULL);
	fs->gpu_pinner_on = 0;
}

int qvl_fs_gpu_unplace(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (!qvl_fs_gpu_on(in))
		return 0;
	if (kept(in->gpu))
		return EBUSY;
	fs->gpu_dropped++;
	rep_free(fs, in->gpu);
	return 0;
}

void qvl_fs_gpu_forget(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (in->gpu)
		rep_free(fs, in->gpu);
}

int qvl_fs_gpu_may_resize(const struct qvl_inode *in, uint64_t size)
{
	const struct qvl_gpu_rep *r = in->gpu;
	return r && !r->stale && r->mappers && size > r->block ? EBUSY : 0;
}

static void drop(struct qvl_fs *fs, struct qvl_gpu_rep *r)
{
	fs->gpu_dropped++;
	if (r->mappers)
		r->stale = 1; /* freed when the last mapper goes */
	else
		rep_free(fs, r);
}

void qvl_fs_gpu_resized(struct qvl_fs *fs, struct qvl_inode *in,
			uint64_t old)
{
	struct qvl_gpu_rep *r = in->gpu;
	if (!r || r->stale || in->size == old)
		return;
	if (!kept(r)) {
		drop(fs, r);
		return;
	}
	if (in->size > r->block) {
		/* Pinned, not mapped (a mapped one was refused before), so
		 * nobody reads the old block: it goes first (the new one may
		 * need its room), and the file is read again into a larger. */
		lru_unlink(fs, r);
		qvl_gpu_free(fs->gpu, r->off);
		if (block_for(fs, in->size, &r->off)) {
			in->gpu = NULL;
			fs->gpu_dropped++;
			free(r->maps);
			free(r);
			return;
		}
		lru_front(fs, r);
		r->block = qvl_gpu_block_size(fs->gpu, in->size);
		if (up_file(fs, in->ino, r->off, in->size,
			    qvl_blob_version(in->blob), 0)) {
			drop(fs, r);
			return;
		}
	} else if (in->size > old && up_bytes(fs, r, old, NULL,
					      in->size - old)) {
		drop(fs, r);
		return;
	}
	r->len = in->size;
	fs->gpu_refreshed++;
}

void qvl_fs_gpu_written(struct qvl_fs *fs, struct qvl_inode *in,
			uint64_t off, const void *buf, uint64_t len)
{
	struct qvl_gpu_rep *r = in->gpu;
	if (!r || r->stale || !len)
		return;
	if (!kept(r) || off >= r->len) {
		if (kept(r)) /* past the end: resized() said all there is */
			return;
		drop(fs, r);
		return;
	}
	if (len > r->len - off)
		len = r->len - off;
	if (up_bytes(fs, r, off, buf, len))
		drop(fs, r);
	else
		fs->gpu_refreshed++;
}

static void fill_info(struct qvl_fs *fs, const struct qvl_gpu_rep *r,
		      struct qvl_cuda_ipc_info *o)
{
	struct qvl_gpu_stats st;
	qvl_gpu_stats(fs->gpu, &st);
	memset(o, 0, sizeof(*o));
	o->dev = st.dev;
	o->fake = (uint32_t)st.fake;
	o->offset = r->off;
	o->size = r->len;
	o->arena = st.arena.size;
	for (unsigned i = 0; i < sizeof(o->handle) && fs->gpu_handle[0]; i++) {
		unsigned v;
		sscanf(fs->gpu_handle + 2 * i, "%2x", &v);
		o->handle[i] = (unsigned char)v;
	}
}

int qvl_fs_gpu_ipc_text(struct qvl_fs *fs, struct qvl_inode *in, char *buf,
			size_t cap)
{
	if (!fs->gpu || !in->gpu || in->gpu->stale) /* not an error to print */
		return -ENODATA;
	touch(fs, in->gpu);
	struct qvl_cuda_ipc_info o;
	fill_info(fs, in->gpu, &o);
	return snprintf(buf, cap,
			"dev=%d handle=%s offset=%" PRIu64 " size=%" PRIu64
			" arena=%" PRIu64,
			o.dev, fs->gpu_handle, o.offset, o.size, o.arena);
}

int qvl_fs_gpu_map(struct qvl_fs *fs, struct qvl_inode *in, uint64_t fh,
		   struct qvl_cuda_ipc_info *out)
{
	if (!fs->gpu)
		return ENODEV;
	struct qvl_gpu_rep *r = in->gpu;
	if (!r || r->stale)
		return ENODATA;
	uint32_t i = 0;
	while (i < r->nmaps && r->maps[i].fh != fh)
		i++;
	if (i == r->nmaps) {
		if (r->nmaps == r->capmaps) {
			uint32_t cap = r->capmaps ? 2 * r->capmaps : 4;
			void *m = realloc(r->maps, cap * sizeof(*r->maps));
			if (!m)
				return ENOMEM;
			r->maps = m;
			r->capmaps = cap;
		}
		r->maps[r->nmaps++] = (struct qvl_gpu_map){ .fh = fh };
	}
	r->maps[i].n++;
	r->mappers++;
	touch(fs, r);
	fill_info(fs, r, out);
	return 0;
}

/* Forget @n of @fh's maps of @r (all of them: UINT32_MAX). */
static int unmap_n(struct qvl_gpu_rep *r, uint64_t fh, uint32_t n)
{
	for (uint32_t i = 0; i < r->nmaps; i++) {
		if (r->maps[i].fh != fh)
			continue;
		n = n < r->maps[i].n ? n : r->maps[i].n;
		r->maps[i].n -= n;
		r->mappers -= n;
		if (!r->maps[i].n)
			r->maps[i] = r->maps[--r->nmaps];
		return 0;
	}
	return EINVAL;
}

/* After a mapper went: a stale replica with none left is freed. */
static void unmapped(struct qvl_fs *fs, struct qvl_gpu_rep *r)
{
	if (r->stale && !r->mappers)
		rep_free(fs, r);
}

int qvl_fs_gpu_unmap(struct qvl_fs *fs, struct qvl_inode *in, uint64_t fh)
{
	struct qvl_gpu_rep *r = in->gpu;
	int rc = r ? unmap_n(r, fh, 1) : EINVAL;
	if (r)
		unmapped(fs, r);
	return rc;
}

void qvl_fs_gpu_release(struct qvl_fs *fs, struct qvl_inode *in,
			uint64_t fh)
{
	struct qvl_gpu_rep *r = in->gpu;
	if (r) {
		unmap_n(r, fh, UINT32_MAX);
		unmapped(fs, r);
	}
}

int qvl_fs_gpu_may_hand(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	return ctx->uid == 0 || ctx->uid == geteuid();
}

int qvl_fs_gpu_on(const struct qvl_inode *in)
{
	return in->gpu && !in->gpu->stale;
}

uint64_t qvl_fs_gpu_bytes(const struct qvl_inode *in)
{
	return qvl_fs_gpu_on(in) ? in->gpu->len : 0;
}

void qvl_fs_gpu_counts(struct qvl_fs *fs, struct qvl_gpu_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (struct qvl_gpu_rep *r = fs->gpu_lru; r; r = r->next) {
		c->mapped += r->mappers != 0;
		if (r->stale)
			continue; /* a block, no longer a file's copy */
		c->files++;
		c->bytes += r->len;
		c->pinned += pinned(r);
	}
	c->placed = fs->gpu_placed;
	c->evicted = fs->gpu_evicted;
	c->dropped = fs->gpu_dropped;
	c->refreshed = fs->gpu_refreshed;
}

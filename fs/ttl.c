/*
 * ttl.c - lifetime collection: user.qvl.ttl acts, like an expiring key.
 *
 * HOW IT WORKS
 *
 * A file's last use is the latest of its atime, mtime and ctime.  Writes
 * set mtime; reads and opens of a file with a ttl set atime to a tenth of
 * a second (qvl_ttl_note(), which relatime would otherwise hold back for
 * a day); setting the ttl sets ctime, so the clock starts
 * when the ttl is given, not when the file was last written.  A read the
 * kernel serves from its page cache never reaches us and is no use; the
 * open before it is.  The times are the inode's own, so they are in its
 * catalog row and a ttl keeps counting across a remount.
 *
 * The collector thread wakes once a second and walks the directories (a
 * name is what expiry removes, and only the directory knows it), a run
 * of inode-table buckets per turn of fs->lock:
 *
 *  - unused for ttl seconds: every name of the file is removed as by
 *    unlink(2).  The file's data goes with its last name, or, when it is
 *    open, with its last close; the kernel is told the names are gone
 *    (fuse_lowlevel_notify_delete) after the lock is let go.
 *  - unused for 80% of its ttl: a persistent file's RAM goes to the
 *    store now (as advice=dontneed), ahead of the files that will still
 *    be wanted.  Session and volatile files have nowhere to go: they
 *    stay in RAM until they expire (a volatile file may still be dropped
 *    under pressure, as always).  Pinned files are not demoted.
 *
 * qvl_ttl_unlinked() keeps an unlinked file's RAM-only bytes off the store:
 * see there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops_i.h"
#include "ttl.h"

/* Inode-table buckets walked per turn of fs->lock. */
#define TTL_TURN 64
/* Names expired per turn, kept until the kernel is told. */
#define TTL_GONE_MAX 256

struct ttl_gone {
	uint64_t parent, ino;
	char *name;
};

/* Milliseconds since the epoch, saturated: utimensat() takes times far
 * past what 64 bits of milliseconds hold. */
static int64_t ms(struct timespec t)
{
	int64_t v;
	if (__builtin_mul_overflow((int64_t)t.tv_sec, 1000, &v) ||
	    __builtin_add_overflow(v, (int64_t)(t.tv_nsec / 1000000), &v))
		return t.tv_sec < 0 ? INT64_MIN : INT64_MAX;
	return v;
}

/* @now - @then in milliseconds, saturated (a time set far in the past or
 * future must not overflow the comparison). */
static int64_t since(int64_t now, int64_t then)
{
	int64_t d;
	if (__builtin_sub_overflow(now, then, &d))
		return now < then ? INT64_MIN : INT64_MAX;
	return d;
}

/* Milliseconds since the epoch of the file's last use. */
static int64_t last_use(const struct qvl_inode *in)
{
	int64_t t = ms(in->atime);
	if (ms(in->mtime) > t)
		t = ms(in->mtime);
	if (ms(in->ctime) > t)
		t = ms(in->ctime);
	return t;
}

/* A tenth of a second is as close as the collector's one-second turn
 * can use; it also spares marking the row on every read. */
#define TTL_NOTE_MS 100

void qvl_ttl_note(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (!in->hints.ttl)
		return;
	struct timespec now;
	qvl_now(&now);
	if (since(ms(now), ms(in->atime)) >= TTL_NOTE_MS ||
	    ms(now) < ms(in->atime)) {
		in->atime = now;
		qvl_persist_mark(fs, in);
	}
}

/*
 * A file lost its last name.  Bytes of it that live only in RAM would
 * reach the store only to be deleted there:
 *  - not open: nobody can read it again, so its data goes now;
 *  - open, with nothing on the store: it stays in RAM like a session file
 *    (the flusher and eviction no longer write it) until the last close.
 * An open file that has frames on the store keeps its policy: moving it
 * whole into RAM could take more than the budget.
 */
void qvl_ttl_unlinked(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (!in->blob || !fs->tm || in->nlink ||
	    in->hints.lifetime != QVL_LIFE_PERSISTENT)
		return;
	uint64_t from = qvl_blob_unbacked_from(in->blob);
	uint64_t avoided = 0;
	if (from < in->size) {
		uint64_t ram, disk;
		qvl_blob_residency(in->blob, &ram, &disk);
		/* Exact for a file never flushed; for one flushed and then
		 * partly rewritten, the chunks in RAM past the first dirty
		 * one (clean ones among them included). */
		avoided = in->size - from;
		if (avoided > ram << fs->chunk_shift)
			avoided = ram << fs->chunk_shift;
	}
	if (!in->nopen) {
		qvl_blob_truncate(in->blob, 0);
	} else if (!qvl_blob_disk_bytes(in->blob)) {
		in->hints.lifetime = QVL_LIFE_SESSION;
		qvl_inode_apply_policy(in);
	} else {
		return;
	}
	if (avoided) {
		atomic_fetch_add(&fs->col_avoided_bytes, avoided);
		atomic_fetch_add(&fs->col_avoided_files, 1);
	}
}

/* Remove @e (naming a file that expired) from @d, as unlink would. */
static void expire_name(struct qvl_fs *fs, struct qvl_inode *d,
			struct qvl_dirent *e, struct ttl_gone *g)
{
	struct qvl_inode *in = e->inode;
	g->parent = d->ino;
	g->ino = in->ino;
	g->name = strdup(e->name); /* NULL: the kernel learns it later */
	qvl_persist_dirent(fs, d->ino, e->name, NULL);
	qvl_dir_remove(d->dir, e);
	qvl_now(&d->mtime);
	d->ctime = d->mtime;
	qvl_persist_mark(fs, d);
	/* ctime stays: another name of the same file is as expired. */
	in->nlink--;
	qvl_persist_mark(fs, in);
	if (!in->nlink) {
		atomic_fetch_add(&fs->col_expired, 1);
		atomic_fetch_add(&fs->col_bytes, in->size);
		qvl_ttl_unlinked(fs, in);
	}
	qvl_inode_maybe_free(fs, in);
}

static void demote(struct qvl_fs *fs, struct qvl_inode *in)
{
	if (!fs->tm || in->hints.lifetime != QVL_LIFE_PERSISTENT ||
	    in->hints.pin != QVL_PIN_NONE || !qvl_blob_resident(in->blob))
		return;
	if (!qvl_blob_evict(in->blob))
		atomic_fetch_add(&fs->col_demoted, 1);
}

/* One turn: the directories in buckets [*pos, *pos + TTL_TURN).  Returns
 * how many names expired (in @g). */
static size_t turn(struct qvl_fs *fs, size_t *pos, int64_t now,
		   struct ttl_gone *g)
{
	size_t ngone = 0, s = *pos;
	for (; s < fs->itab_size && s < *pos + TTL_TURN; s++) {
		for (struct qvl_inode *d = fs->itab[s]; d; d = d->hnext) {
			if (!d->dir)
				continue;
			struct qvl_dirent *e = d->dir->head, *next;
			for (; e && ngone < TTL_GONE_MAX; e = next) {
				next = e->next;
				struct qvl_inode *in = e->inode;
				uint64_t ttl = in->hints.ttl;
				if (!in->blob || !ttl)
					continue;
				int64_t idle = since(now, last_use(in));
				if (idle >= (int64_t)ttl * 1000)
					expire_name(fs, d, e, &g[ngone++]);
				else if (idle >= (int64_t)ttl * 800)
					demote(fs, in);
			}
			/* d->hnext is read after expiry: a file freed from
			 * this same bucket has been unhashed by then. */
		}
		if (ngone == TTL_GONE_MAX) /* this bucket again next turn */
			break;
	}
	*pos = s;
	return ngone;
}

void qvl_ttl_run(struct qvl_fs *fs)
{
	struct ttl_gone g[TTL_GONE_MAX];
	size_t pos = 0, size;
	do {
		struct timespec now;
		qvl_now(&now);
		pthread_mutex_lock(&fs->lock);
		int idle = qvl_fs_rdonly(fs) || !fs->ttl_any;
		size_t n = idle ? 0 : turn(fs, &pos, ms(now), g);
		size = idle ? 0 : fs->itab_size;
		pthread_mutex_unlock(&fs->lock);
		/* Not under fs->lock: the kernel may wait for requests on
		 * the directory that need it. */
		for (size_t i = 0; i < n; i++) {
			if (fs->se && g[i].name)
				fuse_lowlevel_notify_delete(fs->se, g[i].parent,
							    g[i].ino, g[i].name,
							    strlen(g[i].name));
			free(g[i].name);
		}
		/* The table may have grown between turns: a file missed
		 * this second is found the next. */
	} while (pos < size);
}

static void *collector(void *arg)
{
	struct qvl_fs *fs = arg;
	pthread_mutex_lock(&fs->bg_lock);
	while (!fs->bg_stop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += 1;
		int rc = 0;
		while (!fs->bg_stop && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&fs->bg_cond, &fs->bg_lock, &t);
		if (fs->bg_stop)
			break;
		pthread_mutex_unlock(&fs->bg_lock);
		qvl_ttl_run(fs);
		pthread_mutex_lock(&fs->bg_lock);
	}
	pthread_mutex_unlock(&fs->bg_lock);
	return NULL;
}

int qvl_ttl_start(struct qvl_fs *fs)
{
	if (pthread_create(&fs->ttl_thread, NULL, collector, fs))
		return -EAGAIN;
	fs->ttl_running = 1;
	return 0;
}

void qvl_ttl_stop(struct qvl_fs *fs)
{
	/* bg_stop is set and broadcast by the caller. */
	if (fs->ttl_running)
		pthread_join(fs->ttl_thread, NULL);
	fs->ttl_running = 0;
}

void qvl_ttl_stats_text(struct qvl_fs *fs, FILE *f)
{
	fprintf(f, "collect: expired %" PRIu64 "  bytes %" PRIu64
		   "  demoted %" PRIu64 "  writes avoided %" PRIu64
		   " bytes (%" PRIu64 " files)\n",
		atomic_load(&fs->col_expired), atomic_load(&fs->col_bytes),
		atomic_load(&fs->col_demoted),
		atomic_load(&fs->col_avoided_bytes),
		atomic_load(&fs->col_avoided_files));
}

void qvl_ttl_stats_json(struct qvl_fs *fs, FILE *f)
{
	fprintf(f, "\"collect\":{\"files_expired\":%" PRIu64
		   ",\"bytes_collected\":%" PRIu64 ",\"demoted\":%" PRIu64
		   ",\"writes_avoided_bytes\":%" PRIu64
		   ",\"writes_avoided_files\":%" PRIu64 "},",
		atomic_load(&fs->col_expired), atomic_load(&fs->col_bytes),
		atomic_load(&fs->col_demoted),
		atomic_load(&fs->col_avoided_bytes),
		atomic_load(&fs->col_avoided_files));
}

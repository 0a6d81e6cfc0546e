/*
 * ttl.h - lifetime collection (ttl.c): user.qvl.ttl acts.
 *
 * qvl_ttl_note() records a use of a file with a ttl (a read or an open;
 * under fs->lock).  qvl_ttl_unlinked() is for a regular file whose last
 * name just went (under fs->lock, before qvl_inode_maybe_free()): its
 * RAM-only bytes never reach the store.  start/stop run the collector
 * thread beside the flusher (bg.c: stop after bg_stop is set and
 * broadcast).  The stats functions print the "collect" numbers.
 */
#ifndef QVL_TTL_H
#define QVL_TTL_H

#include <stdio.h>

#include "fs_i.h"

void qvl_ttl_note(struct qvl_fs *fs, struct qvl_inode *in);
void qvl_ttl_unlinked(struct qvl_fs *fs, struct qvl_inode *in);
/* @in's hints were set (an xattr, the load): a file with a ttl makes the
 * collector walk the namespace from now on; until then it does not (a
 * walk of 100k inodes a second for nothing).  Under fs->lock. */
static inline void qvl_ttl_seen(struct qvl_fs *fs, const struct qvl_inode *in)
{
	if (in->hints.ttl)
		fs->ttl_any = 1;
}
/* One pass over the namespace (the collector calls it once a second). */
void qvl_ttl_run(struct qvl_fs *fs);
int qvl_ttl_start(struct qvl_fs *fs);
void qvl_ttl_stop(struct qvl_fs *fs);
void qvl_ttl_stats_text(struct qvl_fs *fs, FILE *f);
void qvl_ttl_stats_json(struct qvl_fs *fs, FILE *f);

#endif /* QVL_TTL_H */

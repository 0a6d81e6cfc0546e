/*
 * dir.c - directory entries: a hash table by name for lookup, and a list in
 * insertion order for readdir.  All functions run under fs->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "fs_i.h"

#define DIR_BUCKETS_MIN 8

int qvl_dir_init(struct qvl_inode *in, uint64_t parent)
{
	struct qvl_dir *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->buckets = calloc(DIR_BUCKETS_MIN, sizeof(*d->buckets));
	if (!d->buckets) {
		free(d);
		return -ENOMEM;
	}
	d->nbuckets = DIR_BUCKETS_MIN;
	d->parent = parent;
	in->dir = d;
	return 0;
}

void qvl_dir_free(struct qvl_dir *d)
{
	struct qvl_dirent *e = d->head;
	while (e) {
		struct qvl_dirent *next = e->next;
		free(e);
		e = next;
	}
	free(d->buckets);
	free(d);
}

static size_t bucket(const struct qvl_dir *d, const char *name, size_t len)
{
	return (size_t)XXH3_64bits(name, len) & (d->nbuckets - 1);
}

struct qvl_dirent *qvl_dir_find(const struct qvl_dir *d, const char *name)
{
	size_t len = strlen(name);
	for (struct qvl_dirent *e = d->buckets[bucket(d, name, len)]; e; e = e->hnext)
		if (e->namelen == len && memcmp(e->name, name, len) == 0)
			return e;
	return NULL;
}

static void rehash(struct qvl_dir *d)
{
	size_t n = d->nbuckets * 4;
	struct qvl_dirent **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	free(d->buckets);
	d->buckets = b;
	d->nbuckets = n;
	for (struct qvl_dirent *e = d->head; e; e = e->next) {
		size_t s = bucket(d, e->name, e->namelen);
		e->hnext = b[s];
		b[s] = e;
	}
}

int qvl_dir_add(struct qvl_dir *d, const char *name, struct qvl_inode *in)
{
	size_t len = strlen(name);
	struct qvl_dirent *e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->name, name, len + 1);
	e->namelen = len;
	e->inode = in;
	/* Rehash before @e joins the list: rehash() hashes every listed
	 * entry, and @e hashed twice would chain to itself. */
	if (d->count + 1 > d->nbuckets * 2)
		rehash(d);
	e->next = NULL;
	e->prev = d->tail;
	if (d->tail)
		d->tail->next = e;
	else
		d->head = e;
	d->tail = e;
	size_t s = bucket(d, name, len);
	e->hnext = d->buckets[s];
	d->buckets[s] = e;
	d->count++;
	return 0;
}

void qvl_dir_remove(struct qvl_dir *d, struct qvl_dirent *e)
{
	struct qvl_dirent **pp = &d->buckets[bucket(d, e->name, e->namelen)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		d->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		d->tail = e->prev;
	d->count--;
	free(e);
}

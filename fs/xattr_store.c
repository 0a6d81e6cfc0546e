/*
 * xattr_store.c - xattrs stored verbatim (every name outside user.qvl.*).
 * A short list per inode: files carry a handful at most.  Under fs->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fs_i.h"

struct qvl_xattr *qvl_xattr_find(struct qvl_inode *in, const char *name)
{
	for (struct qvl_xattr *x = in->xattrs; x; x = x->next)
		if (strcmp(x->name, name) == 0)
			return x;
	return NULL;
}

int qvl_xattr_set(struct qvl_inode *in, const char *name, const void *value,
		  size_t size, int flags)
{
	struct qvl_xattr *x = qvl_xattr_find(in, name);
	if (x && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!x && (flags & XATTR_REPLACE))
		return -ENODATA;
	size_t namelen = strlen(name);
	size_t space = in->xattr_space + size + (x ? 0 : namelen + 1) -
		       (x ? x->size : 0);
	if (space > QVL_XATTR_SPACE_MAX)
		return -ENOSPC;
	void *v = malloc(size ? size : 1);
	if (!v)
		return -ENOMEM;
	memcpy(v, value, size);
	if (!x) {
		x = calloc(1, sizeof(*x));
		char *n = strdup(name);
		if (!x || !n) {
			free(x);
			free(n);
			free(v);
			return -ENOMEM;
		}
		x->name = n;
		x->next = in->xattrs;
		in->xattrs = x;
	} else {
		free(x->value);
	}
	x->value = v;
	x->size = size;
	in->xattr_space = space;
	return 0;
}

int qvl_xattr_remove(struct qvl_inode *in, const char *name)
{
	for (struct qvl_xattr **pp = &in->xattrs; *pp; pp = &(*pp)->next) {
		struct qvl_xattr *x = *pp;
		if (strcmp(x->name, name))
			continue;
		*pp = x->next;
		in->xattr_space -= x->size + strlen(x->name) + 1;
		free(x->name);
		free(x->value);
		free(x);
		return 0;
	}
	return -ENODATA;
}

void qvl_xattr_free_all(struct qvl_inode *in)
{
	struct qvl_xattr *x = in->xattrs;
	while (x) {
		struct qvl_xattr *next = x->next;
		free(x->name);
		free(x->value);
		free(x);
		x = next;
	}
	in->xattrs = NULL;
	in->xattr_space = 0;
}

/*
 * record.c - the store's change log for simulated power cuts (see
 * qvl_record.h).  Off unless QVL_RECORD names a log: then each hook costs
 * a readlink and one write, which only tests pay.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvl_record.h"

static int log_fd = -1;
static char store_root[PATH_MAX];
static size_t root_len;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int qvl_record_start(const char *log, const char *store)
{
	if (!realpath(store, store_root))
		return -errno;
	root_len = strlen(store_root);
	log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	return log_fd < 0 ? -errno : 0;
}

bool qvl_record_on(void)
{
	return log_fd >= 0;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void qvl_record_path(const char *path, char kind, uint64_t a, uint64_t b,
		     const void *data)
{
	if (log_fd < 0)
		return;
	/* Relative to the store; what lies outside it is not ours to log. */
	if (path[0] == '/') {
		if (strncmp(path, store_root, root_len) || path[root_len] != '/')
			return;
		path += root_len + 1;
	}
	size_t plen = strlen(path), dlen = kind == 'W' ? (size_t)b : 0;
	size_t len = 24 + plen + dlen;
	unsigned char *rec = malloc(len);
	if (!rec)
		return; /* the simulation then misses one change: it fails */
	memset(rec, 0, 24);
	rec[0] = (unsigned char)kind;
	for (int i = 0; i < 4; i++)
		rec[4 + i] = (unsigned char)(plen >> (8 * i));
	put64(rec + 8, a);
	put64(rec + 16, b);
	memcpy(rec + 24, path, plen);
	if (dlen)
		memcpy(rec + 24 + plen, data, dlen);
	/* One write per record: markers from other processes stay whole. */
	pthread_mutex_lock(&log_lock);
	ssize_t w = write(log_fd, rec, len);
	pthread_mutex_unlock(&log_lock);
	(void)w;
	free(rec);
}

void qvl_record_at(int dirfd, const char *rel, char kind, uint64_t a,
		   uint64_t b, const void *data)
{
	char link[32], path[PATH_MAX + NAME_MAX + 2];
	if (log_fd < 0)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	ssize_t n = readlink(link, path, PATH_MAX - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	if (rel)
		snprintf(path + n, sizeof(path) - (size_t)n, "/%s", rel);
	qvl_record_path(path, kind, a, b, data);
}

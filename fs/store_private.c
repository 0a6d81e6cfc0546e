/*
 * store_private.c - a store is readable by its owner only.
 *
 * The catalog holds every file name and every user.* xattr value of the
 * mount, the backing files every byte: a store another local user can read
 * gives away files whose mode in the mount is 0600.  The daemon makes what
 * it creates 0600/0700 (its umask), and tightens a store it is given that
 * was created looser (by an older version, or by hand), saying so on
 * stderr.  A store it cannot tighten (owned by someone else) is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_i.h"

/* The store's own entries that hold data or metadata (the backing files
 * under data/ are created 0600 inside a 0700 data/). */
static const char *const store_entries[] = {
	".", "catalog.db", "catalog.db-wal", "catalog.db-shm", "lock", "data",
};

int qvl_store_make_private(const char *store, char *err, size_t errlen)
{
	int dfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -errno;
	}
	int rc = 0;
	for (size_t i = 0; i < sizeof(store_entries) / sizeof(*store_entries);
	     i++) {
		const char *name = store_entries[i];
		struct stat sb;
		if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW)) {
			if (errno == ENOENT)
				continue;
			rc = -errno;
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			break;
		}
		if (!(sb.st_mode & 077))
			continue;
		if (S_ISLNK(sb.st_mode) ||
		    fchmodat(dfd, name, sb.st_mode & 07700, 0)) {
			rc = S_ISLNK(sb.st_mode) ? -ELOOP : -errno;
			snprintf(err, errlen,
				 "%s is mode %04o and cannot be made private "
				 "(%s): other users could read the catalog",
				 name, (unsigned)(sb.st_mode & 07777),
				 S_ISLNK(sb.st_mode) ? "a symbolic link"
						     : strerror(errno));
			break;
		}
		fprintf(stderr, "qvlmemfs: %s/%s was mode %04o, now %04o: "
				"a store is its owner's alone\n",
			store, name, (unsigned)(sb.st_mode & 07777),
			(unsigned)(sb.st_mode & 07700));
	}
	close(dfd);
	return rc;
}

/*
 * qvlctl_util.h - what several qvlctl commands share.
 */
#ifndef QVLCTL_UTIL_H
#define QVLCTL_UTIL_H

#include <stdint.h>
#include <sys/types.h>

/* qvlctl_human() - "1.5 GiB", "512 B" into @buf; returns @buf. */
const char *qvlctl_human(uint64_t v, char *buf, size_t len);

/* qvlctl_xattr_get() - getxattr of @name (listxattr when @name is NULL)
 * into a malloc'd, NUL-terminated buffer; @nofollow: of a symlink itself.
 * Returns the length or -errno. */
ssize_t qvlctl_xattr_get(const char *path, const char *name, char **out,
			 int nofollow);

#endif /* QVLCTL_UTIL_H */

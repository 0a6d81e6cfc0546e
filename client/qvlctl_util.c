/*
 * qvlctl_util.c - small things several qvlctl commands share: sizes for
 * people, and xattr values of any length.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/xattr.h>

#include "qvlctl_util.h"

const char *qvlctl_human(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)v;
	int u = 0;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return buf;
	}
	while (d >= 1024 && u < 6) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
}

ssize_t qvlctl_xattr_get(const char *path, const char *name, char **out,
			 int nofollow)
{
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = name ? (nofollow ? lgetxattr(path, name, NULL, 0)
					     : getxattr(path, name, NULL, 0))
				 : (nofollow ? llistxattr(path, NULL, 0)
					     : listxattr(path, NULL, 0));
		char *buf;

		if (n < 0)
			return -errno;
		buf = malloc((size_t)n + 1);
		if (!buf)
			return -ENOMEM;
		n = name ? (nofollow ? lgetxattr(path, name, buf, (size_t)n)
				     : getxattr(path, name, buf, (size_t)n))
			 : (nofollow ? llistxattr(path, buf, (size_t)n)
				     : listxattr(path, buf, (size_t)n));
		if (n >= 0) {
			buf[n] = '\0';
			*out = buf;
			return n;
		}
		free(buf);
		if (errno != ERANGE) /* ERANGE: it grew in between; again */
			return -errno;
	}
	return -ERANGE;
}

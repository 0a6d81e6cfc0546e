/*
 * qvlctl_checksum.c - `qvlctl checksum FILE...`: the sum of qvl_sum_new()
 * (codecs/qvl_codec.h) over a file anywhere, so a copy outside the mount
 * can be compared with user.qvl.checksum.
 *
 * Only the data is read: each range SEEK_DATA/SEEK_HOLE report, widened to
 * whole 64 KiB blocks (a filesystem's holes may be smaller: the zeros read
 * there add nothing to the sum).  A filesystem without SEEK_DATA is read
 * whole.
 */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qvl_codec.h"
#include "qvlctl_checksum.h"

enum { READ_UNIT = 1 << 20 }; /* a multiple of QVL_SUM_BLOCK */

/* [from, to) of @fd into @s, READ_UNIT at a time; each unit is read whole
 * first, since the sum takes whole blocks. */
static int sum_range(int fd, struct qvl_sum *s, char *buf, uint64_t from,
		     uint64_t to)
{
	while (from < to) {
		size_t want = to - from < READ_UNIT ? (size_t)(to - from)
						    : READ_UNIT;
		for (size_t got = 0; got < want;) {
			ssize_t n = pread(fd, buf + got, want - got,
					  (off_t)(from + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				return -EIO; /* shorter than fstat said */
			got += (size_t)n;
		}
		qvl_sum_data(s, from, buf, want);
		from += want;
	}
	return 0;
}

/* The data ranges of @fd, block-aligned, in order, each block once. */
static int sum_fd(int fd, uint64_t size, char *buf, uint64_t *out)
{
	struct qvl_sum *s;
	int rc = qvl_sum_new(&s);
	if (rc)
		return rc;
	uint64_t done = 0; /* blocks before this are in the sum */
	while (!rc && done < size) {
		off_t d = lseek(fd, (off_t)done, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			break; /* only a hole is left */
		off_t h = d < 0 ? -1 : lseek(fd, d, SEEK_HOLE);
		if (d < 0 || h < 0) {
			if (errno != EINVAL && errno != EOPNOTSUPP) {
				rc = -errno;
				break;
			}
			d = (off_t)done; /* no SEEK_DATA here: all data */
			h = (off_t)size;
		}
		uint64_t from = (uint64_t)d / QVL_SUM_BLOCK * QVL_SUM_BLOCK;
		uint64_t to = ((uint64_t)h + QVL_SUM_BLOCK - 1) /
			      QVL_SUM_BLOCK * QVL_SUM_BLOCK;
		if (from < done)
			from = done;
		if (to > size)
			to = size;
		rc = sum_range(fd, s, buf, from, to);
		done = to;
	}
	uint64_t h = qvl_sum_end(s, size);
	if (!rc)
		*out = h;
	return rc;
}

static int sum_one(const char *path, char *buf)
{
	struct stat st;
	uint64_t h = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;
	if (!rc && fstat(fd, &st) < 0)
		rc = -errno;
	if (!rc && !S_ISREG(st.st_mode))
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (!rc)
		rc = sum_fd(fd, (uint64_t)st.st_size, buf, &h);
	if (fd >= 0)
		close(fd);
	if (rc) {
		fprintf(stderr, "qvlctl: checksum: %s: %s\n", path,
			strerror(-rc));
		return 1;
	}
	printf("%016" PRIx64 "  %s\n", h, path);
	return 0;
}

int qvlctl_checksum_main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("qvlctl: checksum: needs at least one FILE\n"
		      "(qvlctl --help for usage)\n", stderr);
		return 2;
	}
	char *buf = malloc(READ_UNIT);
	if (!buf) {
		fputs("qvlctl: checksum: out of memory\n", stderr);
		return 1;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= sum_one(argv[i], buf);
	free(buf);
	return rc;
}

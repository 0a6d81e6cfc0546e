/*
 * qvlt.c - what the integration tests need that no common tool does:
 *
 *   qvlt rename2 none|noreplace|exchange OLD NEW   renameat2() with flags
 *   qvlt sum FILE                                   content sum of FILE, 16 hex
 *   qvlt getx PATH NAME BUFSIZE                     getxattr() into a buffer
 *                                                   of BUFSIZE (0: the size)
 *   qvlt setx PATH NAME VALUE|@N none|create|replace
 *                                                   setxattr() with flags;
 *                                                   @N is N bytes of 'x'
 *   qvlt listx PATH BUFSIZE                         listxattr() likewise
 *
 * On failure prints strerror(errno) and exits 1; usage errors exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <xxhash.h>

static int die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	return 1;
}

static int do_rename2(char **a)
{
	unsigned flags = 0;
	if (!strcmp(a[0], "noreplace"))
		flags = RENAME_NOREPLACE;
	else if (!strcmp(a[0], "exchange"))
		flags = RENAME_EXCHANGE;
	else if (strcmp(a[0], "none"))
		return 2;
	if (renameat2(AT_FDCWD, a[1], AT_FDCWD, a[2], flags))
		return die("renameat2");
	return 0;
}

/* The content sum (codecs/qvl_codec.h), written out plainly from every
 * byte of the file, as a check on the daemon's and qvlctl's: xxh3-64 over
 * (index, xxh3-64) of each 64 KiB block that is not all zero, then the
 * size, little-endian u64s. */
static int do_sum(const char *path)
{
	XXH3_state_t *st = XXH3_createState();
	static char buf[1 << 16];
	static const char zero[1 << 16];
	uint64_t size = 0, idx = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || !st)
		return die("open");
	XXH3_64bits_reset(st);
	for (;;) {
		size_t got = 0;
		ssize_t n = 1;
		while (got < sizeof(buf) &&
		       (n = read(fd, buf + got, sizeof(buf) - got)) > 0)
			got += (size_t)n;
		if (n < 0)
			return die("read");
		if (got && memcmp(buf, zero, got)) {
			uint64_t rec[2] = { idx, XXH3_64bits(buf, got) };
			XXH3_64bits_update(st, rec, sizeof(rec));
		}
		size += got;
		idx++;
		if (got < sizeof(buf))
			break;
	}
	XXH3_64bits_update(st, &size, sizeof(size));
	printf("%016llx\n", (unsigned long long)XXH3_64bits_digest(st));
	XXH3_freeState(st);
	close(fd);
	return 0;
}

static int do_getx(char **a)
{
	size_t cap = strtoul(a[2], NULL, 0);
	char *buf = malloc(cap + 1);
	ssize_t n = getxattr(a[0], a[1], cap ? buf : NULL, cap);
	if (n < 0)
		return die("getxattr");
	if (cap)
		fwrite(buf, 1, (size_t)n, stdout);
	else
		printf("%zd", n);
	printf("\n");
	free(buf);
	return 0;
}

static int do_listx(char **a)
{
	size_t cap = strtoul(a[1], NULL, 0);
	char *buf = malloc(cap + 1);
	ssize_t n = listxattr(a[0], cap ? buf : NULL, cap);
	if (n < 0)
		return die("listxattr");
	printf("%zd\n", n);
	free(buf);
	return 0;
}

static int do_setx(char **a)
{
	const char *v = a[2];
	size_t len = strlen(v);
	char *big = NULL;
	int flags = 0;
	if (v[0] == '@') {
		len = strtoul(v + 1, NULL, 0);
		big = malloc(len + 1);
		memset(big, 'x', len);
		v = big;
	}
	if (!strcmp(a[3], "create"))
		flags = XATTR_CREATE;
	else if (!strcmp(a[3], "replace"))
		flags = XATTR_REPLACE;
	else if (strcmp(a[3], "none"))
		return 2;
	int rc = setxattr(a[0], a[1], v, len, flags);
	free(big);
	return rc ? die("setxattr") : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "rename2"))
		return do_rename2(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "sum"))
		return do_sum(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "getx"))
		return do_getx(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "setx"))
		return do_setx(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "listx"))
		return do_listx(argv + 2);
	fprintf(stderr, "usage: see qvlt.c\n");
	return 2;
}

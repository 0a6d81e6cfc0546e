/*
 * qvlctl_ls.c - `qvlctl ls [-l] PATH...`: what `ls -l` would say if it knew
 * tensors.  Everything comes from the user.qvl.* attributes, asked for by
 * name: the computed ones (tier, stored) and defaults (codec) are not in
 * listxattr, so a listing of names would miss them.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "qvlctl_ls.h"
#include "qvlmem.h"

/* Every qvl value fits: the longest is a shape of 8 dims of 20 digits. */
#define LS_VALUE_MAX 256

struct ls_row {
	char dtype[LS_VALUE_MAX];
	char shape[LS_VALUE_MAX];
	char tier[LS_VALUE_MAX];
	char codec[LS_VALUE_MAX];
	char size[32], ratio[16], stored[64];
};

/*
 * @name's value into @buf as text without its trailing NULs or newline;
 * "-" when the file does not have it (or is not on a filesystem with
 * user xattrs).  A value that is not printable is shown as "?".
 */
static void ls_attr(const char *path, const char *name, char *buf,
		    size_t len)
{
	ssize_t n = getxattr(path, name, buf, len - 1);

	if (n < 0) {
		snprintf(buf, len, "-");
		return;
	}
	while (n > 0 && (buf[n - 1] == '\0' || buf[n - 1] == '\n'))
		n--;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			snprintf(buf, len, "?");
}

/* "ram:N,nvme:N" into its two numbers; false when it does not parse. */
static bool ls_parse_stored(const char *s, uint64_t *ram, uint64_t *nvme)
{
	*ram = *nvme = 0;
	while (*s) {
		const char *colon = strchr(s, ':');
		char *end;
		uint64_t v;

		if (!colon)
			return false;
		errno = 0;
		v = strtoull(colon + 1, &end, 10);
		if (errno || end == colon + 1 || (*end && *end != ','))
			return false;
		if (!strncmp(s, "ram:", 4))
			*ram = v;
		else if (!strncmp(s, "nvme:", 5))
			*nvme = v;
		s = *end ? end + 1 : end;
	}
	return true;
}

static void ls_human(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = { "K", "M", "G", "T", "P", "E" };
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%s", d, unit[u]);
}

static void ls_fill(const char *path, const struct stat *st, bool lng,
		    struct ls_row *r)
{
	char stored[LS_VALUE_MAX];
	uint64_t ram, nvme, size = (uint64_t)st->st_size;

	ls_attr(path, QVL_XATTR_DTYPE, r->dtype, sizeof(r->dtype));
	ls_attr(path, QVL_XATTR_SHAPE, r->shape, sizeof(r->shape));
	if (!r->shape[0])
		snprintf(r->shape, sizeof(r->shape), "scalar");
	ls_attr(path, QVL_XATTR_TIER, r->tier, sizeof(r->tier));
	ls_attr(path, QVL_XATTR_CODEC, r->codec, sizeof(r->codec));
	ls_attr(path, QVL_XATTR_STORED, stored, sizeof(stored));
	if (lng)
		snprintf(r->size, sizeof(r->size), "%" PRIu64, size);
	else
		ls_human(size, r->size, sizeof(r->size));
	snprintf(r->ratio, sizeof(r->ratio), "-");
	snprintf(r->stored, sizeof(r->stored), "-");
	if (ls_parse_stored(stored, &ram, &nvme) && strcmp(stored, "-")) {
		/* What the tensor costs the machine per byte of data: a chunk
		 * both in RAM and on the store counts twice, one only on the
		 * store counts compressed. */
		double ratio = size ? (double)(ram + nvme) / (double)size : 0;

		/* A small file costs a whole chunk in RAM: thousands. */
		if (size)
			snprintf(r->ratio, sizeof(r->ratio),
				 ratio < 100 ? "%.2f" : "%.0f", ratio);
		snprintf(r->stored, sizeof(r->stored),
			 "ram:%" PRIu64 ",nvme:%" PRIu64, ram, nvme);
	}
}

static void ls_header(bool lng)
{
	if (lng)
		printf("%-7s %-15s %14s %-18s %-12s %5s %-30s %s\n", "DTYPE",
		       "SHAPE", "SIZE", "TIER", "CODEC", "RATIO", "STORED",
		       "NAME");
	else
		printf("%-7s %-15s %7s %-18s %-12s %5s %s\n", "DTYPE", "SHAPE",
		       "SIZE", "TIER", "CODEC", "RATIO", "NAME");
}

/* One line for @path, shown as @name.  Returns 0, or 1 after saying why. */
static int ls_one(const char *path, const char *name, bool lng)
{
	struct ls_row r;
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "qvlctl: ls: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (lng)
			printf("%-7s %-15s %14s %-18s %-12s %5s %-30s %s/\n",
			       "dir", "-", "-", "-", "-", "-", "-", name);
		else
			printf("%-7s %-15s %7s %-18s %-12s %5s %s/\n", "dir",
			       "-", "-", "-", "-", "-", name);
		return 0;
	}
	ls_fill(path, &st, lng, &r);
	if (lng)
		printf("%-7s %-15s %14s %-18s %-12s %5s %-30s %s\n", r.dtype,
		       r.shape, r.size, r.tier, r.codec, r.ratio, r.stored, name);
	else
		printf("%-7s %-15s %7s %-18s %-12s %5s %s\n", r.dtype, r.shape,
		       r.size, r.tier, r.codec, r.ratio, name);
	return 0;
}

static int ls_visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int ls_path(const char *path, bool lng)
{
	struct dirent **ents;
	struct stat st;
	char child[PATH_MAX];
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "qvlctl: ls: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return ls_one(path, path, lng);
	n = scandir(path, &ents, ls_visible, alphasort);
	if (n < 0) {
		fprintf(stderr, "qvlctl: ls: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (snprintf(child, sizeof(child), "%s/%s", path,
			     ents[i]->d_name) >= (int)sizeof(child)) {
			fprintf(stderr, "qvlctl: ls: %s/%s: %s\n", path,
				ents[i]->d_name, strerror(ENAMETOOLONG));
			rc = 1;
		} else {
			rc |= ls_one(child, ents[i]->d_name, lng);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int qvlctl_ls_main(int argc, char **argv)
{
	bool lng = false;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt(argc, argv, "lh")) != -1) {
		switch (c) {
		case 'l':
			lng = true;
			break;
		case 'h':
			printf("usage: qvlctl ls [-l] [PATH...]\n");
			return 0;
		default:
			fprintf(stderr, "usage: qvlctl ls [-l] [PATH...]\n");
			return 2;
		}
	}
	ls_header(lng);
	if (optind == argc)
		return ls_path(".", lng);
	for (int i = optind; i < argc; i++) {
		if (argc - optind > 1)
			printf("%s%s:\n", i > optind ? "\n" : "", argv[i]);
		rc |= ls_path(argv[i], lng);
	}
	return rc;
}

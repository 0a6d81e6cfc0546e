/*
 * crash_check.c - mount a store in-process, as the daemon would after a
 * power cut, and copy out what it holds, for power_cut.sh's simulator.
 *
 *   crash_check STORE CHUNK_SHIFT OUTDIR
 *
 * Loads STORE (qvl_fs_create: the catalog, its WAL, the backing files),
 * walks the namespace from the root and writes each regular file's bytes
 * to OUTDIR/NAME (a '/' in the path becomes '#'), printing one line per
 * file: "F PATH SIZE", or "E PATH ERRNO" when it cannot be read.  Then it
 * runs the unmount's write-back and commit, as a real unmount would.
 * Exit 0 when it mounted, 2 when the store was refused (with the reason
 * on stdout: "refused: ..."), 1 on a failure of this tool.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_i.h"

static const char *outdir;
static char buf[1 << 16];

static int copy_out(struct qvl_inode *in, const char *rel)
{
	char name[PATH_MAX], path[PATH_MAX * 2];
	snprintf(name, sizeof(name), "%s", rel);
	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '#';
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	int rc = 0;
	for (uint64_t off = 0; off < in->size && !rc; off += sizeof(buf)) {
		size_t n = in->size - off < sizeof(buf) ? (size_t)(in->size - off)
							: sizeof(buf);
		rc = qvl_blob_read(in->blob, buf, n, off);
		if (!rc && write(fd, buf, n) != (ssize_t)n)
			rc = -EIO;
	}
	close(fd);
	return rc;
}

static void walk(struct qvl_inode *dir, const char *prefix, int depth)
{
	if (depth > 64)
		return;
	for (struct qvl_dirent *e = dir->dir->head; e; e = e->next) {
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "%s%s", prefix, e->name);
		struct qvl_inode *in = e->inode;
		if (in->dir) {
			char sub[PATH_MAX + 1];
			snprintf(sub, sizeof(sub), "%s/", rel);
			walk(in, sub, depth + 1);
		} else if (in->blob) {
			int rc = copy_out(in, rel);
			if (rc)
				printf("E %s %d\n", rel, -rc);
			else
				printf("F %s %llu\n", rel,
				       (unsigned long long)in->size);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: crash_check STORE CHUNK_SHIFT OUTDIR\n");
		return 1;
	}
	outdir = argv[3];
	struct qvl_fs_config cfg = { .ram_budget = 8u << 20,
				     .chunk_shift = (unsigned)atoi(argv[2]),
				     .store = argv[1], .flush_ms = 1000 };
	struct qvl_fs *fs;
	char err[512] = "";
	int rc = qvl_fs_create(&cfg, &fs, err, sizeof(err));
	if (rc) {
		printf("refused: %s\n", *err ? err : strerror(-rc));
		return 2;
	}
	pthread_mutex_lock(&fs->lock);
	walk(fs->root, "", 0);
	printf("dangling %llu orphans %llu\n",
	       (unsigned long long)fs->dangling,
	       (unsigned long long)fs->orphans);
	pthread_mutex_unlock(&fs->lock);
	qvl_fs_unmount(fs);
	rc = fs->unmount_rc;
	qvl_fs_destroy(fs);
	if (rc)
		printf("unmount: %s\n", strerror(-rc));
	return 0;
}

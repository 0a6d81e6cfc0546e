/*
 * fs_bench_io.c - the timed loops of tests/bench/fs_bench.sh.  Each mode
 * prints one number on stdout (or one "name value" per line for meta).
 *
 *   fs_bench_io fill FILE BYTES         write BYTES of pseudo-random data in
 *                                       1 MiB write()s; prints GB/s
 *   fs_bench_io read FILE [BS]          sequential read() of BS (1 MiB);
 *                                       prints GB/s
 *   fs_bench_io mmap FILE               mmap PROT_READ MAP_SHARED and sum
 *                                       every 64-bit word; prints GB/s
 *   fs_bench_io drop FILE               posix_fadvise(DONTNEED) the file's
 *                                       page cache; prints the share of its
 *                                       pages still resident (mincore)
 *   fs_bench_io meta DIR N              create (open O_CREAT+close), stat,
 *                                       unlink N files in DIR; prints
 *                                       "create OPS/s", "stat ..", "unlink .."
 *
 * Built by fs_bench.sh with cc -O2; no dependency on the rest of the tree.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MiB (1u << 20)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "fs_bench_io: %s %s: ", what, arg);
	perror(NULL);
	exit(1);
}

static int do_fill(const char *path, uint64_t bytes)
{
	uint64_t *buf = malloc(MiB), x = 0x9e3779b97f4a7c15ull;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!buf || fd < 0)
		die("open", path);
	double t0 = now();
	for (uint64_t done = 0; done < bytes;) {
		for (size_t i = 0; i < MiB / 8; i++) { /* xorshift64 */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		}
		size_t n = bytes - done < MiB ? (size_t)(bytes - done) : MiB;
		ssize_t w = write(fd, buf, n);
		if (w <= 0)
			die("write", path);
		done += (uint64_t)w;
	}
	if (close(fd))
		die("close", path);
	printf("%.3f\n", (double)bytes / (now() - t0) / 1e9);
	free(buf);
	return 0;
}

static int do_read(const char *path, size_t bs)
{
	char *buf = aligned_alloc(4096, bs);
	uint64_t total = 0;
	int fd = open(path, O_RDONLY);
	if (!buf || fd < 0)
		die("open", path);
	double t0 = now();
	for (;;) {
		ssize_t r = read(fd, buf, bs);
		if (r < 0)
			die("read", path);
		if (r == 0)
			break;
		total += (uint64_t)r;
	}
	double dt = now() - t0;
	close(fd);
	printf("%.3f\n", (double)total / dt / 1e9);
	free(buf);
	return 0;
}

static int do_mmap(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		die("open", path);
	size_t len = (size_t)st.st_size;
	double t0 = now();
	const uint64_t *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap", path);
	uint64_t sum = 0;
	for (size_t i = 0; i < len / 8; i++)
		sum += p[i];
	munmap((void *)p, len);
	double dt = now() - t0;
	close(fd);
	printf("%.3f\n", (double)len / dt / 1e9);
	fprintf(stderr, "sum %llx\n", (unsigned long long)sum);
	return 0;
}

static int do_drop(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		die("open", path);
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		die("fadvise", path);
	size_t len = (size_t)st.st_size, pages = (len + 4095) / 4096, in = 0;
	unsigned char *vec = malloc(pages ? pages : 1);
	void *p = len ? mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0) : NULL;
	if (len && (p == MAP_FAILED || !vec || mincore(p, len, vec)))
		die("mincore", path);
	for (size_t i = 0; i < pages; i++)
		in += vec[i] & 1;
	if (len)
		munmap(p, len);
	close(fd);
	free(vec);
	printf("%.4f\n", pages ? (double)in / (double)pages : 0.0);
	return 0;
}

static int do_meta(const char *dir, long n)
{
	char path[4096];
	struct stat st;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%07ld", dir, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create", path);
		close(fd);
	}
	double t1 = now();
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%07ld", dir, i);
		if (stat(path, &st))
			die("stat", path);
	}
	double t2 = now();
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%07ld", dir, i);
		if (unlink(path))
			die("unlink", path);
	}
	double t3 = now();
	printf("create %.0f\nstat %.0f\nunlink %.0f\n", (double)n / (t1 - t0),
	       (double)n / (t2 - t1), (double)n / (t3 - t2));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "fill"))
		return do_fill(argv[2], strtoull(argv[3], NULL, 0));
	if (argc >= 3 && !strcmp(argv[1], "read"))
		return do_read(argv[2], argc > 3 ? strtoul(argv[3], NULL, 0) : MiB);
	if (argc >= 3 && !strcmp(argv[1], "mmap"))
		return do_mmap(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "drop"))
		return do_drop(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "meta"))
		return do_meta(argv[2], strtol(argv[3], NULL, 0));
	fprintf(stderr, "usage: fs_bench_io fill FILE BYTES | read FILE [BS] | "
			"mmap FILE | drop FILE | meta DIR N\n");
	return 2;
}

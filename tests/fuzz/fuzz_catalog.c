/*
 * fuzz_catalog.c - libFuzzer target: a damaged store never costs more than
 * the damage.  Each input damages a copy of a small valid store (made by a
 * real mount, named by QVL_FUZZ_SEED) and mounts it in-process: the loader
 * runs (qvl_fs_create), every file is read and checksummed, every
 * directory walked, every link and xattr looked at, and the unmount's
 * write-back and commit run.  A refusal is fine; a crash, a hang (libFuzzer
 * -timeout), a leak or a sanitizer report is the bug.
 *
 * Byte 0 of the input picks the damage:
 *   even: row damage, 8 bytes a change: table, what (set a column / delete
 *         the row / copy the row), which row, which column, and a value
 *         (NULL, 0, -1, small, huge, INT64_MIN/MAX, text, blob);
 *   odd:  byte damage, 5 bytes a change: an offset into catalog.db (32
 *         bits, modulo its size) and the byte to put there.
 *
 *   QVL_FUZZ_SEED=STORE build/fuzz/fuzz_catalog -max_total_time=30
 * tests/once/catalog_fuzz.sh makes the seed store and runs it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_i.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEED_FILES_MAX 64
#define SEED_SHIFT 16 /* the seed store is made with chunk=64K */

struct seed_file {
	char rel[64]; /* "data/XX/hex" */
	void *bytes;
	size_t len;
};

static struct seed_file files[SEED_FILES_MAX];
static unsigned nfiles;
static void *cat_bytes;
static size_t cat_len;
static char work[PATH_MAX];

static void *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		abort();
	void *p = malloc((size_t)st.st_size + 1);
	if (!p || read(fd, p, (size_t)st.st_size) != st.st_size)
		abort();
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void spit(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, p, len) != (ssize_t)len)
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *seed = getenv("QVL_FUZZ_SEED");
	char path[PATH_MAX];
	if (!seed) {
		fprintf(stderr, "fuzz_catalog: set QVL_FUZZ_SEED to a store\n");
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/catalog.db", seed);
	cat_bytes = slurp(path, &cat_len);
	snprintf(path, sizeof(path), "%s/data", seed);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[PATH_MAX];
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		DIR *s = opendir(sub);
		struct dirent *f;
		while (s && (f = readdir(s)) && nfiles < SEED_FILES_MAX) {
			if (f->d_name[0] == '.')
				continue;
			struct seed_file *sf = &files[nfiles++];
			char fp[PATH_MAX + 300];
			snprintf(sf->rel, sizeof(sf->rel), "data/%.2s/%.40s",
				 e->d_name, f->d_name);
			snprintf(fp, sizeof(fp), "%s/%s", sub, f->d_name);
			sf->bytes = slurp(fp, &sf->len);
		}
		if (s)
			closedir(s);
	}
	if (d)
		closedir(d);
	snprintf(work, sizeof(work), "/tmp/qvl-fuzzcat.XXXXXX");
	if (!mkdtemp(work))
		abort();
	return 0;
}

/* A fresh copy of the seed store in work/ (catalog written by the caller). */
static void lay_out_store(void)
{
	char p[PATH_MAX + 80];
	snprintf(p, sizeof(p), "rm -rf '%s'/* '%s'/.??* 2>/dev/null", work, work);
	if (system(p) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/data", work);
	mkdir(p, 0700);
	for (unsigned i = 0; i < nfiles; i++) {
		snprintf(p, sizeof(p), "%s/%.7s", work, files[i].rel);
		mkdir(p, 0700);
		snprintf(p, sizeof(p), "%s/%s", work, files[i].rel);
		spit(p, files[i].bytes, files[i].len);
	}
}

static const char *const tables[] = { "inodes", "dirents", "xattrs",
				      "chunks", "meta" };
static const char *const columns[][13] = {
	{ "ino", "mode", "uid", "gid", "nlink", "rdev", "size", "atime_ns",
	  "mtime_ns", "ctime_ns", "parent", "link", "hints" },
	{ "parent", "name", "ino" },
	{ "ino", "name", "value" },
	{ "ino", "idx", "slot", "len" },
	{ "key", "value" },
};
static const unsigned ncolumns[] = { 13, 3, 3, 4, 2 };

static void bind_value(sqlite3_stmt *st, int at, const uint8_t *r)
{
	static const char *const texts[] = { "", "/", "..", ".", "a/b",
					     "x\nz", "bf16", "1,2,3" };
	int64_t v = (int64_t)r[2] << 16 | (int64_t)r[3] << 8 | r[1];
	switch (r[0] % 10) {
	case 0: sqlite3_bind_null(st, at); break;
	case 1: sqlite3_bind_int64(st, at, 0); break;
	case 2: sqlite3_bind_int64(st, at, -1); break;
	case 3: sqlite3_bind_int64(st, at, (int8_t)r[1]); break;
	case 4: sqlite3_bind_int64(st, at, v << (r[1] % 40)); break;
	case 5: sqlite3_bind_int64(st, at, INT64_MAX); break;
	case 6: sqlite3_bind_int64(st, at, INT64_MIN); break;
	case 7: sqlite3_bind_text(st, at, texts[r[1] % 8], -1, SQLITE_STATIC);
		break;
	case 8: sqlite3_bind_blob(st, at, r, 4, SQLITE_TRANSIENT); break;
	default: sqlite3_bind_int64(st, at, v); break;
	}
}

/* One 8-byte row change: table, what, row, column, value[4]. */
static void damage_row(sqlite3 *db, const uint8_t *r)
{
	unsigned t = r[0] % 5, what = r[1] % 8;
	char sql[256];
	sqlite3_stmt *st = NULL;
	int64_t rowid = -1;
	snprintf(sql, sizeof(sql), "SELECT rowid FROM %s LIMIT 1 OFFSET "
		 "(%u %% max(1, (SELECT count(*) FROM %s)))",
		 tables[t], r[2], tables[t]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		rowid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rowid < 0)
		return;
	if (what == 6)
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE rowid = ?1",
			 tables[t]);
	else if (what == 7)
		snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO %s SELECT * "
			 "FROM %s WHERE rowid = ?1", tables[t], tables[t]);
	else
		snprintf(sql, sizeof(sql), "UPDATE OR IGNORE %s SET %s = ?2 "
			 "WHERE rowid = ?1", tables[t],
			 columns[t][r[3] % ncolumns[t]]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, rowid);
	if (what < 6)
		bind_value(st, 2, r + 4);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static void damage(const uint8_t *data, size_t size)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/catalog.db", work);
	if (size && (data[0] & 1)) {
		uint8_t *copy = malloc(cat_len);
		if (!copy)
			abort();
		memcpy(copy, cat_bytes, cat_len);
		for (size_t i = 1; i + 5 <= size; i += 5) {
			uint32_t off;
			memcpy(&off, data + i, 4);
			copy[off % cat_len] = data[i + 4];
		}
		spit(path, copy, cat_len);
		free(copy);
		return;
	}
	spit(path, cat_bytes, cat_len);
	sqlite3 *db;
	if (sqlite3_open(path, &db) == SQLITE_OK) {
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (size_t i = 1; i + 8 <= size; i += 8)
			damage_row(db, data + i);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_close(db);
}

/* What a user's tools would do to every inode of the loaded store. */
static void exercise(struct qvl_fs *fs)
{
	static char buf[1 << 16];
	pthread_mutex_lock(&fs->lock);
	for (size_t s = 0; s < fs->itab_size; s++) {
		for (struct qvl_inode *in = fs->itab[s]; in; in = in->hnext) {
			if (in->blob) {
				uint64_t end = in->size < (4u << 20) ? in->size
								       : 4u << 20;
				for (uint64_t off = 0; off < end; off += sizeof(buf)) {
					size_t n = end - off < sizeof(buf)
							   ? (size_t)(end - off)
							   : sizeof(buf);
					qvl_blob_read(in->blob, buf, n, off);
				}
				/* Holes are hashed too: keep it short. */
				if (in->size <= (64u << 20)) {
					uint64_t sum;
					qvl_blob_checksum(in->blob, in->size,
							  &sum);
				}
			}
			if (in->link && strlen(in->link) > PATH_MAX)
				abort();
			for (struct qvl_xattr *x = in->xattrs; x; x = x->next)
				if (!x->name || (x->size && !x->value))
					abort();
			if (in->dir)
				for (struct qvl_dirent *e = in->dir->head; e;
				     e = e->next)
					if (!e->inode ||
					    !qvl_inode_get(fs, e->inode->ino))
						abort();
		}
	}
	pthread_mutex_unlock(&fs->lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qvl_fs *fs;
	char err[512];
	lay_out_store();
	damage(data, size);
	struct qvl_fs_config cfg = { .ram_budget = 4u << 20,
				     .chunk_shift = SEED_SHIFT, .store = work,
				     .flush_ms = 1000 };
	if (qvl_fs_create(&cfg, &fs, err, sizeof(err)))
		return 0; /* refused: fine, if it said why */
	exercise(fs);
	qvl_fs_unmount(fs);
	qvl_fs_destroy(fs);
	return 0;
}

/*
 * ctl.c - the read-only control tree at the mount root:
 *
 *   .qvl/stats        the state in text, for people
 *   .qvl/stats.json   the same as one JSON object, for programs
 *
 * A file's content is rendered at open and served from that snapshot, so a
 * reader sees one consistent state however many reads it takes.  The files
 * are opened direct_io: their size is unknown until rendered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "ops_i.h"

static const struct {
	const char *name;
	fuse_ino_t ino;
} ctl_files[] = {
	{ "stats", QVL_INO_CTL_STATS },
	{ "stats.json", QVL_INO_CTL_JSON },
};
#define NCTL (sizeof(ctl_files) / sizeof(ctl_files[0]))

struct ctl_snap {
	char *buf;
	size_t len;
};

size_t qvl_ctl_list(const char **names, fuse_ino_t *inos, mode_t *modes,
		    size_t max)
{
	size_t n = 0;
	for (; n < NCTL && n < max; n++) {
		names[n] = ctl_files[n].name;
		inos[n] = ctl_files[n].ino;
		modes[n] = S_IFREG;
	}
	return n;
}

int qvl_ctl_stat(struct qvl_fs *fs, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_atim = st->st_mtim = st->st_ctim = fs->started;
	if (ino == QVL_INO_CTL_DIR) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return 0;
	}
	for (size_t i = 0; i < NCTL; i++) {
		if (ctl_files[i].ino == ino) {
			st->st_mode = S_IFREG | 0444;
			st->st_nlink = 1;
			return 0;
		}
	}
	return ENOENT;
}

int qvl_ctl_lookup(struct qvl_fs *fs, fuse_ino_t parent, const char *name,
		   struct fuse_entry_param *e)
{
	fuse_ino_t ino = 0;
	memset(e, 0, sizeof(*e));
	if (parent == FUSE_ROOT_ID) {
		ino = QVL_INO_CTL_DIR;
	} else if (parent == QVL_INO_CTL_DIR) {
		for (size_t i = 0; i < NCTL; i++)
			if (strcmp(name, ctl_files[i].name) == 0)
				ino = ctl_files[i].ino;
	} else {
		return ENOTDIR;
	}
	if (!ino)
		return ENOENT;
	e->ino = ino;
	e->generation = 1;
	/* Short timeouts: nothing here is worth caching for long. */
	e->attr_timeout = 1.0;
	e->entry_timeout = 1.0;
	return qvl_ctl_stat(fs, ino, &e->attr);
}

void qvl_ctl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct ctl_snap *s;

	if (ino == QVL_INO_CTL_DIR) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	s->buf = ino == QVL_INO_CTL_JSON ? qvl_stats_json(fs, &s->len)
					 : qvl_stats_text(fs, &s->len);
	if (!s->buf) {
		free(s);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)s;
	fi->direct_io = 1;
	if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted */
		free(s->buf);
		free(s);
	}
}

void qvl_ctl_read(fuse_req_t req, size_t size, off_t off,
		  struct fuse_file_info *fi)
{
	const struct ctl_snap *s = (const struct ctl_snap *)(uintptr_t)fi->fh;
	if (off < 0 || (size_t)off >= s->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t n = s->len - (size_t)off < size ? s->len - (size_t)off : size;
	/* Reply from a copy: once the reply is written the reader may close
	 * and our release free the snapshot, while fuse_reply_buf() (or a
	 * sanitizer checking its writev) still looks at the buffer. */
	char *copy = malloc(n);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, s->buf + off, n);
	fuse_reply_buf(req, copy, n);
	free(copy);
}

void qvl_ctl_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct ctl_snap *s = (struct ctl_snap *)(uintptr_t)fi->fh;
	if (s) {
		free(s->buf);
		free(s);
	}
	fuse_reply_err(req, 0);
}

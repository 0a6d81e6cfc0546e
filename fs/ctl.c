/*
 * ctl.c - the read-only control tree at the mount root:
 *
 *   .qvl/stats        the state in text, for people
 *   .qvl/stats.json   the same as one JSON object, for programs
 *   .qvl/metrics      the same in the Prometheus text format (metrics.c)
 *   .qvl/tiers/{gpu,ram,nvme}/   a link per file with bytes in that tier
 *                                (ctl_tiers.c)
 *
 * A file's content is rendered at open and served from that snapshot, so a
 * reader sees one consistent state however many reads it takes.  The files
 * are opened direct_io: their size is unknown until rendered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops_i.h"

/* The fixed nodes; a tier directory's entries are computed (ctl_tiers.c). */
static const struct ctl_node {
	const char *name;
	fuse_ino_t ino, parent;
	mode_t type;
} nodes[] = {
	{ QVL_CTL_DIR, QVL_INO_CTL_DIR, FUSE_ROOT_ID, S_IFDIR },
	{ "stats", QVL_INO_CTL_STATS, QVL_INO_CTL_DIR, S_IFREG },
	{ "stats.json", QVL_INO_CTL_JSON, QVL_INO_CTL_DIR, S_IFREG },
	{ "metrics", QVL_INO_CTL_METRICS, QVL_INO_CTL_DIR, S_IFREG },
	{ "tiers", QVL_INO_CTL_TIERS, QVL_INO_CTL_DIR, S_IFDIR },
	{ "gpu", QVL_INO_CTL_TIER0 + QVL_TIER_GPU, QVL_INO_CTL_TIERS, S_IFDIR },
	{ "ram", QVL_INO_CTL_TIER0 + QVL_TIER_RAM, QVL_INO_CTL_TIERS, S_IFDIR },
	{ "nvme", QVL_INO_CTL_TIER0 + QVL_TIER_NVME, QVL_INO_CTL_TIERS,
	  S_IFDIR },
};
#define NNODES (sizeof(nodes) / sizeof(nodes[0]))

static const struct ctl_node *node_of(fuse_ino_t ino)
{
	for (size_t i = 0; i < NNODES; i++)
		if (nodes[i].ino == ino)
			return &nodes[i];
	return NULL;
}

/* The tier a directory of .qvl/tiers/ shows, or -1. */
static int tier_of_dir(fuse_ino_t ino)
{
	if (ino >= QVL_INO_CTL_TIER0 &&
	    ino <= QVL_INO_CTL_TIER0 + QVL_TIER_NVME)
		return (int)(ino - QVL_INO_CTL_TIER0);
	return -1;
}

/* Tier directories and their entries change as data moves: the kernel
 * must ask each time.  The rest changes only in content, read direct_io. */
static double timeout_of(fuse_ino_t ino)
{
	return (ino & QVL_INO_CTL_LINK) || tier_of_dir(ino) >= 0 ? 0.0 : 1.0;
}

int qvl_ctl_readdir(struct qvl_fs *fs, fuse_ino_t ino, qvl_ctl_add_fn add,
		    void *arg)
{
	const struct ctl_node *n = node_of(ino);
	if (!n)
		return (ino & QVL_INO_CTL_LINK) ? -ENOTDIR : -ENOENT;
	if (!S_ISDIR(n->type))
		return -ENOTDIR;
	int rc = add(arg, ".", ino, S_IFDIR);
	rc = rc ? rc : add(arg, "..", n->parent, S_IFDIR);
	for (size_t i = 0; !rc && i < NNODES; i++)
		if (nodes[i].parent == ino)
			rc = add(arg, nodes[i].name, nodes[i].ino,
				 nodes[i].type);
	if (!rc && tier_of_dir(ino) >= 0)
		rc = qvl_ctl_tiers_list(fs, tier_of_dir(ino), add, arg);
	return rc;
}

int qvl_ctl_stat(struct qvl_fs *fs, fuse_ino_t ino, struct stat *st,
		 double *timeout)
{
	*timeout = timeout_of(ino);
	if (ino & QVL_INO_CTL_LINK)
		return qvl_ctl_tiers_stat(fs, ino, st);
	const struct ctl_node *n = node_of(ino);
	if (!n)
		return ENOENT;
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_atim = st->st_mtim = st->st_ctim = fs->started;
	if (S_ISDIR(n->type)) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		for (size_t i = 0; i < NNODES; i++)
			if (nodes[i].parent == ino && S_ISDIR(nodes[i].type))
				st->st_nlink++;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
	}
	return 0;
}

int qvl_ctl_lookup(struct qvl_fs *fs, fuse_ino_t parent, const char *name,
		   struct fuse_entry_param *e)
{
	fuse_ino_t ino = 0;
	int err;

	memset(e, 0, sizeof(*e));
	if (parent != FUSE_ROOT_ID) {
		const struct ctl_node *p = node_of(parent);
		if (!p || !S_ISDIR(p->type))
			return p || (parent & QVL_INO_CTL_LINK) ? ENOTDIR
								  : ENOENT;
	}
	for (size_t i = 0; i < NNODES; i++)
		if (nodes[i].parent == parent && strcmp(name, nodes[i].name) == 0)
			ino = nodes[i].ino;
	if (ino) {
		err = qvl_ctl_stat(fs, ino, &e->attr, &e->attr_timeout);
	} else if (tier_of_dir(parent) >= 0) {
		err = qvl_ctl_tiers_lookup(fs, tier_of_dir(parent), name,
					   &e->attr);
		ino = e->attr.st_ino;
		e->attr_timeout = 0.0;
	} else {
		err = ENOENT;
	}
	if (err)
		return err;
	e->ino = ino;
	e->generation = 1;
	e->entry_timeout = e->attr_timeout;
	return 0;
}

int qvl_ctl_readlink(struct qvl_fs *fs, fuse_ino_t ino, char **out)
{
	if (!(ino & QVL_INO_CTL_LINK))
		return node_of(ino) ? EINVAL : ENOENT;
	return qvl_ctl_tiers_readlink(fs, ino, out);
}

struct ctl_snap {
	char *buf;
	size_t len;
};

void qvl_ctl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	struct ctl_snap *s;

	const struct ctl_node *n = node_of(ino);
	if (!n || !S_ISREG(n->type)) {
		fuse_reply_err(req, !n ? (ino & QVL_INO_CTL_LINK ? ELOOP : ENOENT)
				       : EISDIR);
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
	if (ino == QVL_INO_CTL_JSON)
		s->buf = qvl_stats_json(fs, &s->len);
	else if (ino == QVL_INO_CTL_METRICS)
		s->buf = qvl_metrics_render(fs, &s->len);
	else
		s->buf = qvl_stats_text(fs, &s->len);
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

/* The snapshot is all data. */
void qvl_ctl_lseek(fuse_req_t req, off_t off, int whence,
		   struct fuse_file_info *fi)
{
	const struct ctl_snap *s = (const struct ctl_snap *)(uintptr_t)fi->fh;
	if (off < 0 || (whence != SEEK_DATA && whence != SEEK_HOLE))
		fuse_reply_err(req, EINVAL);
	else if ((size_t)off >= s->len)
		fuse_reply_err(req, ENXIO);
	else
		fuse_reply_lseek(req, whence == SEEK_DATA ? off : (off_t)s->len);
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

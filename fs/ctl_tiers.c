/*
 * ctl_tiers.c - .qvl/tiers/{gpu,ram,nvme}/: which files have bytes in a
 * tier, and how many.
 *
 * Each entry is a symbolic link standing for one regular file:
 *
 *   name     "INO:BASENAME" - the file's inode number, which keeps names
 *            unique, then one of its names as a hint (cut to NAME_MAX)
 *   target   "../../../PATH" - the file's path from the mount root, so the
 *            link resolves to the file (a hard-linked file: the first name
 *            a depth-first walk from the root meets)
 *   st_size  the file's bytes in that tier, as user.qvl.stored counts
 *            them: ram = pool bytes of raw chunks and compressed frames,
 *            nvme = compressed bytes on the store (st_blocks to match, so
 *            du -b over a tier directory sums the tier)
 *
 * Nothing is cached: readdir, lookup, getattr and readlink each look at
 * the blobs as they are, under fs->lock, and the kernel is told not to
 * keep the entries (timeouts 0), so a listing follows data as it moves.
 * Files have no parent pointers, so a name comes from walking the tree:
 * a lookup or readlink costs a walk up to the file (the fs->lock held
 * meanwhile), a listing one walk in all.  A file with no name left
 * (unlinked while open) is not listed.  gpu lists the files with a
 * replica on the GPU (st_size: the file's size, the replica's bytes).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_tier.h"
#include "ops_i.h"

static uint64_t tier_bytes(const struct qvl_inode *in, int tier)
{
	if (!S_ISREG(in->mode) || !in->blob || !in->nlink)
		return 0;
	if (tier == QVL_TIER_RAM)
		return qvl_blob_resident(in->blob);
	if (tier == QVL_TIER_NVME)
		return qvl_blob_disk_bytes(in->blob);
	return qvl_fs_gpu_bytes(in);
}

static fuse_ino_t link_ino(uint64_t file, int tier)
{
	return QVL_INO_CTL_LINK |
	       ((uint64_t)tier << QVL_INO_CTL_LINK_TIER_SHIFT) | file;
}

static void link_decode(fuse_ino_t ino, uint64_t *file, int *tier)
{
	uint64_t low = ino & ~QVL_INO_CTL_LINK;
	*tier = (int)(low >> QVL_INO_CTL_LINK_TIER_SHIFT);
	*file = low & ((1ull << QVL_INO_CTL_LINK_TIER_SHIFT) - 1);
}

/* The entry's name for file @ino named @base (not NUL-terminated). */
static void entry_name(uint64_t ino, const char *base, size_t baselen,
		       char name[NAME_MAX + 1])
{
	int n = snprintf(name, NAME_MAX + 1, "%" PRIu64 ":", ino);
	size_t room = NAME_MAX - (size_t)n;
	if (baselen > room)
		baselen = room;
	memcpy(name + n, base, baselen);
	name[(size_t)n + baselen] = '\0';
}

/*
 * The walk: every directory entry below the root, depth first, in each
 * directory's order; @visit sees the entry and its directory's path from
 * the root (@dir, @dirlen bytes, not terminated) and returns 0 to go on,
 * 1 to stop, or -errno.
 */
typedef int (*visit_fn)(void *arg, const struct qvl_dirent *de,
			const char *dir, size_t dirlen);

struct frame {
	const struct qvl_dirent *next;
	size_t pathlen;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * elem);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = c;
	return 0;
}

static int walk(struct qvl_fs *fs, visit_fn visit, void *arg)
{
	struct frame *stk = NULL;
	char *path = NULL;
	size_t depth = 0, cap = 0, pcap = 0;
	int rc = grow((void **)&stk, &cap, 1, sizeof(*stk));

	if (rc)
		return rc;
	stk[depth++] = (struct frame){ fs->root->dir->head, 0 };
	while (depth && !rc) {
		struct frame *f = &stk[depth - 1];
		const struct qvl_dirent *de = f->next;
		if (!de) {
			depth--;
			continue;
		}
		f->next = de->next;
		rc = visit(arg, de, path, f->pathlen);
		if (rc || !S_ISDIR(de->inode->mode) || !de->inode->dir ||
		    !de->inode->dir->head)
			continue;
		size_t at = f->pathlen, len = at + (at != 0) + de->namelen;
		rc = grow((void **)&path, &pcap, len + 1, 1);
		rc = rc ? rc : grow((void **)&stk, &cap, depth + 1, sizeof(*stk));
		if (rc)
			break;
		if (at)
			path[at++] = '/';
		memcpy(path + at, de->name, de->namelen);
		stk[depth++] = (struct frame){ de->inode->dir->head, len };
	}
	free(stk);
	free(path);
	return rc < 0 ? rc : 0;
}

/* Listing: the files with bytes in a tier, each once. */
struct found {
	uint64_t ino;
	size_t order; /* in the walk: the first name of a hard-linked file */
	const struct qvl_dirent *de;
};

struct list_ctx {
	int tier;
	struct found *v;
	size_t n, cap;
};

static int list_visit(void *arg, const struct qvl_dirent *de,
		      const char *dir, size_t dirlen)
{
	struct list_ctx *c = arg;
	(void)dir;
	(void)dirlen;
	if (!tier_bytes(de->inode, c->tier))
		return 0;
	int rc = grow((void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v));
	if (rc)
		return rc;
	c->v[c->n] = (struct found){ de->inode->ino, c->n, de };
	c->n++;
	return 0;
}

static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int qvl_ctl_tiers_list(struct qvl_fs *fs, int tier, qvl_ctl_add_fn add,
		       void *arg)
{
	struct list_ctx c = { .tier = tier };
	char name[NAME_MAX + 1];

	pthread_mutex_lock(&fs->lock);
	int rc = walk(fs, list_visit, &c);
	if (!rc && c.n) /* qsort wants a non-NULL base */
		qsort(c.v, c.n, sizeof(*c.v), found_cmp);
	for (size_t i = 0; !rc && i < c.n; i++) {
		if (i && c.v[i].ino == c.v[i - 1].ino)
			continue; /* another name of the same file */
		entry_name(c.v[i].ino, c.v[i].de->name, c.v[i].de->namelen,
			   name);
		rc = add(arg, name, link_ino(c.v[i].ino, tier), S_IFLNK);
	}
	pthread_mutex_unlock(&fs->lock);
	free(c.v);
	return rc;
}

/* Finding the first name of one file, with its path. */
struct find_ctx {
	uint64_t ino;
	const struct qvl_dirent *de;
	char *path; /* "../../../" + the path, malloc'd */
};

static int find_visit(void *arg, const struct qvl_dirent *de,
		      const char *dir, size_t dirlen)
{
	struct find_ctx *c = arg;
	if (de->inode->ino != c->ino)
		return 0;
	c->de = de;
	/* From .qvl/tiers/<tier>/ back up to the mount root. */
	if (asprintf(&c->path, "../../../%.*s%s%.*s", (int)dirlen,
		     dirlen ? dir : "", dirlen ? "/" : "", (int)de->namelen,
		     de->name) < 0) {
		c->path = NULL;
		return -ENOMEM;
	}
	return 1;
}

static void link_stat(const struct qvl_inode *in, int tier, uint64_t bytes,
		      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = link_ino(in->ino, tier);
	st->st_mode = S_IFLNK | 0777;
	st->st_nlink = 1;
	st->st_uid = in->uid;
	st->st_gid = in->gid;
	st->st_size = (off_t)bytes;
	st->st_blocks = (blkcnt_t)((bytes + 511) / 512);
	st->st_blksize = 4096;
	st->st_atim = in->atime;
	st->st_mtim = in->mtime;
	st->st_ctim = in->ctime;
}

/* The file an entry name or number stands for, if it has bytes in the
 * tier (under fs->lock); sets *@bytes. */
static struct qvl_inode *file_in_tier(struct qvl_fs *fs, uint64_t ino,
				      int tier, uint64_t *bytes)
{
	struct qvl_inode *in = ino >= QVL_INO_FIRST ? qvl_inode_get(fs, ino)
						    : NULL;
	*bytes = in ? tier_bytes(in, tier) : 0;
	return *bytes ? in : NULL;
}

int qvl_ctl_tiers_lookup(struct qvl_fs *fs, int tier, const char *name,
			 struct stat *st)
{
	char *end, want[NAME_MAX + 1];
	uint64_t bytes;
	int err = ENOENT;

	if (name[0] < '0' || name[0] > '9')
		return ENOENT;
	errno = 0;
	unsigned long long ino = strtoull(name, &end, 10);
	if (errno || *end != ':' || ino >> QVL_INO_CTL_LINK_TIER_SHIFT)
		return ENOENT;
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = file_in_tier(fs, ino, tier, &bytes);
	struct find_ctx c = { .ino = ino };
	if (in) {
		int rc = walk(fs, find_visit, &c);
		if (rc)
			err = -rc;
	}
	if (c.de) {
		entry_name(ino, c.de->name, c.de->namelen, want);
		if (strcmp(name, want) == 0) {
			link_stat(in, tier, bytes, st);
			err = 0;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	free(c.path);
	return err;
}

int qvl_ctl_tiers_stat(struct qvl_fs *fs, fuse_ino_t ino, struct stat *st)
{
	uint64_t file, bytes;
	int tier, err = ENOENT;

	link_decode(ino, &file, &tier);
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = file_in_tier(fs, file, tier, &bytes);
	if (in) {
		link_stat(in, tier, bytes, st);
		err = 0;
	}
	pthread_mutex_unlock(&fs->lock);
	return err;
}

int qvl_ctl_tiers_readlink(struct qvl_fs *fs, fuse_ino_t ino, char **out)
{
	uint64_t file, bytes;
	int tier, err = ENOENT;
	struct find_ctx c = { 0 };

	link_decode(ino, &file, &tier);
	c.ino = file;
	pthread_mutex_lock(&fs->lock);
	if (file_in_tier(fs, file, tier, &bytes)) {
		int rc = walk(fs, find_visit, &c);
		if (rc)
			err = -rc;
		else if (c.path)
			err = 0;
	}
	pthread_mutex_unlock(&fs->lock);
	*out = c.path;
	return err;
}

/*
 * qvl_manifest.h - a snapshot's manifest: the tree a `qvlctl push` sent
 * (names, types, modes, sizes, times, user.* xattrs) and, per file, the
 * key of each chunk's frame in the remote tier.  Encoded to one byte
 * string stored under qvl:m:<name> (qvl_remote.h).
 *
 * FORMAT (all integers little-endian)
 *
 *   "QVLMAN01"  u32 chunk_shift  u64 nentries
 *   per entry:  u8 type (QVL_MAN_*)  u32 mode (permission bits only)
 *               u64 size  i64 mtime_ns  u16 pathlen  path
 *               u16 nxattr, per xattr: u16 namelen name u32 vallen value
 *               LINK: u16 len target
 *               FILE: u64 nchunks, per chunk (idx ascending, holes left
 *                     out): u64 idx  16 bytes hash  u8 codec  u32 framelen
 *   u64 xxh3-64 of everything before it
 *
 * A path is relative to the snapshot's root: components separated by one
 * '/', none empty, "." or "..", none longer than 255 bytes, the whole at
 * most 4095; a directory comes before anything inside it.  Decoding checks
 * all of this, every length against what is left, the sum, chunk indices
 * against the file size and frame lengths against the chunk size, so any
 * byte string gives a manifest that is safe to create, or -EIO.
 *
 * Thread context: none; no I/O.  0 or a negative errno.
 */
#ifndef QVL_MANIFEST_H
#define QVL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "qvl_remote.h"

#define QVL_MAN_DIR 1
#define QVL_MAN_FILE 2
#define QVL_MAN_LINK 3

#define QVL_MAN_PATH_MAX 4095
#define QVL_MAN_NAME_MAX 255
#define QVL_MAN_XATTR_MAX 65536 /* bytes of one value */

struct qvl_man_chunk {
	uint64_t idx;
	struct qvl_rkey key;
	uint32_t len; /* frame bytes */
};

struct qvl_man_xattr {
	char *name;  /* NUL-terminated, e.g. "user.qvl.dtype" */
	void *value;
	uint32_t len;
};

struct qvl_man_entry {
	uint8_t type;    /* QVL_MAN_* */
	uint32_t mode;   /* permission bits (07777) */
	uint64_t size;   /* FILE: bytes; else 0 */
	int64_t mtime_ns;
	char *path;      /* NUL-terminated */
	char *link;      /* LINK: the target; else NULL */
	uint32_t nxattr;
	struct qvl_man_xattr *xattr;
	uint64_t nchunks;
	struct qvl_man_chunk *chunks;
};

struct qvl_manifest {
	unsigned chunk_shift;
	uint64_t n, cap;
	struct qvl_man_entry *e;
};

/* qvl_manifest_new() - an empty manifest for chunks of 1 << @chunk_shift. */
int qvl_manifest_new(unsigned chunk_shift, struct qvl_manifest **out);
void qvl_manifest_free(struct qvl_manifest *m);

/*
 * qvl_manifest_add() - append an entry: @path, @link are copied; the
 * returned entry (*@out) takes xattrs and chunks through the two calls
 * below, and stays valid until the next qvl_manifest_add() (the entry
 * array may move).  -EINVAL for a bad path, type, mode, size or link;
 * -ENOENT when the parent directory isn't in the manifest yet; -EEXIST
 * for a path already there.
 */
int qvl_manifest_add(struct qvl_manifest *m, uint8_t type, const char *path,
		     uint32_t mode, uint64_t size, int64_t mtime_ns,
		     const char *link, struct qvl_man_entry **out);
int qvl_manifest_add_xattr(struct qvl_man_entry *e, const char *name,
			   const void *value, uint32_t len);
int qvl_manifest_add_chunk(struct qvl_man_entry *e, uint64_t idx,
			   const struct qvl_rkey *key, uint32_t len);

/* qvl_manifest_encode() - the byte string (*@buf malloc'd, free() it). */
int qvl_manifest_encode(const struct qvl_manifest *m, void **buf,
			size_t *len);

/* qvl_manifest_decode() - parse and check @len bytes (see FORMAT). */
int qvl_manifest_decode(const void *buf, size_t len,
			struct qvl_manifest **out);

/* qvl_manifest_path_ok() - 1 when @path is a valid relative path. */
int qvl_manifest_path_ok(const char *path);

#endif /* QVL_MANIFEST_H */

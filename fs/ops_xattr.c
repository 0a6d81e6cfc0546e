/*
 * ops_xattr.c - extended attributes: the user.qvl.* contract, and every
 * other user.*, trusted.* and security.* name stored verbatim.
 *
 * A qvl value is validated completely before anything changes: a bad value
 * is EINVAL and the inode is as it was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "gpu_tier.h"
#include "ops_i.h"
#include "ttl.h"

enum qattr {
	QA_DTYPE, QA_SHAPE, QA_TIER, QA_PIN, QA_LIFETIME, QA_TTL, QA_PRIORITY,
	QA_ADVICE, QA_CODEC, QA_STORED, QA_CHECKSUM, QA_CUDA_IPC, QA_COUNT
};

static const struct {
	const char *name;
	uint32_t setbit; /* for rw hints: the QVL_HSET_* bit, 0 otherwise */
	unsigned readable : 1, writable : 1, on_dir : 1;
} qattrs[QA_COUNT] = {
	[QA_DTYPE] = { QVL_XATTR_DTYPE, QVL_HSET_DTYPE, 1, 1, 1 },
	[QA_SHAPE] = { QVL_XATTR_SHAPE, QVL_HSET_SHAPE, 1, 1, 0 },
	[QA_TIER] = { QVL_XATTR_TIER, 0, 1, 1, 0 },
	[QA_PIN] = { QVL_XATTR_PIN, QVL_HSET_PIN, 1, 1, 1 },
	[QA_LIFETIME] = { QVL_XATTR_LIFETIME, QVL_HSET_LIFETIME, 1, 1, 1 },
	[QA_TTL] = { QVL_XATTR_TTL, QVL_HSET_TTL, 1, 1, 1 },
	[QA_PRIORITY] = { QVL_XATTR_PRIORITY, QVL_HSET_PRIORITY, 1, 1, 1 },
	[QA_ADVICE] = { QVL_XATTR_ADVICE, QVL_HSET_ACCESS, 0, 1, 1 },
	[QA_CODEC] = { QVL_XATTR_CODEC, QVL_HSET_CODEC, 1, 1, 1 },
	[QA_STORED] = { QVL_XATTR_STORED, 0, 1, 0, 0 },
	[QA_CHECKSUM] = { QVL_XATTR_CHECKSUM, 0, 1, 0, 0 },
	[QA_CUDA_IPC] = { QVL_XATTR_CUDA_IPC, 0, 1, 0, 0 },
};

static int qattr_of(const char *name)
{
	for (int i = 0; i < QA_COUNT; i++)
		if (strcmp(name, qattrs[i].name) == 0)
			return i;
	return -1;
}

static int is_qvl(const char *name)
{
	return strncmp(name, QVL_XATTR_PREFIX, strlen(QVL_XATTR_PREFIX)) == 0;
}

static int stored_namespace(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
	       !strncmp(name, "security.", 9);
}

/* Would dtype @dt with the shape in @h describe a file of @size bytes? */
static int shape_fits(enum qvl_dtype dt, const uint64_t *dims, uint8_t ndims,
		      uint64_t size)
{
	uint64_t bytes;
	return qvl_shape_bytes(dt, dims, ndims, &bytes) == 0 && bytes == size;
}

/* Validate and apply one user.qvl.* value.  Returns 0 or a positive errno. */
static int qvl_set(struct qvl_fs *fs, struct qvl_inode *in, int qa,
		   const char *v, size_t len, int flags)
{
	struct qvl_hints *h = &in->hints;
	struct qvl_hints n = *h;
	int is_dir = S_ISDIR(in->mode);

	if (!qattrs[qa].writable)
		return EPERM;
	if (!S_ISREG(in->mode) && !(is_dir && qattrs[qa].on_dir))
		return EINVAL;
	if (qattrs[qa].setbit && qa != QA_ADVICE) {
		int was_set = !!(h->set & qattrs[qa].setbit);
		if ((flags & XATTR_CREATE) && was_set)
			return EEXIST;
		if ((flags & XATTR_REPLACE) && !was_set)
			return ENODATA;
	}
	int rc = 0;
	switch (qa) {
	case QA_DTYPE:
		rc = qvl_parse_dtype(v, len, &n.dtype);
		if (!rc && S_ISREG(in->mode) && (h->set & QVL_HSET_SHAPE) &&
		    in->size && /* an empty file's shape is pending */
		    !shape_fits(n.dtype, h->dims, h->ndims, in->size))
			rc = -EINVAL;
		break;
	case QA_SHAPE:
		rc = qvl_parse_shape(v, len, n.dims, &n.ndims);
		if (!rc && (h->set & QVL_HSET_DTYPE) &&
		    in->size && /* an empty file's shape is pending */
		    !shape_fits(h->dtype, n.dims, n.ndims, in->size))
			rc = -EINVAL;
		break;
	case QA_TIER: {
		enum qvl_tier_id t;
		rc = qvl_parse_tier(v, len, &t);
		if (rc)
			return EINVAL;
		if (t == QVL_TIER_GPU) /* ENODEV: no GPU tier here */
			return is_dir ? 0 : qvl_fs_gpu_place(fs, in);
		if (t == QVL_TIER_NVME && !fs->tm)
			return EOPNOTSUPP;
		if (is_dir)
			return 0;
		/* A replica on the GPU goes: the bytes' fastest place is
		 * where they are moved to (not while held there). */
		if ((rc = qvl_fs_gpu_unplace(fs, in)))
			return rc;
		/* Saying why it cannot move, rather than 0 and nothing. */
		if (t == QVL_TIER_NVME && h->pin == QVL_PIN_RAM)
			return EBUSY; /* pinned in RAM: unpin it first */
		if (t == QVL_TIER_NVME && h->lifetime != QVL_LIFE_PERSISTENT)
			return EINVAL; /* session, volatile: never stored */
		rc = t == QVL_TIER_NVME ? qvl_blob_evict(in->blob)
					: qvl_blob_load(in->blob, in->size);
		return -rc;
	}
	case QA_PIN:
		rc = qvl_parse_pin(v, len, &n.pin);
		if (!rc && n.pin == QVL_PIN_GPU && !fs->gpu)
			return ENODEV; /* no GPU tier in this build or mount */
		break;
	case QA_LIFETIME:
		rc = qvl_parse_lifetime(v, len, &n.lifetime);
		/* Frames already on the store stay valid until the file is
		 * gone (unmount, or the next mount after a crash): forgetting
		 * them here left clean chunks with no frame, which a return to
		 * persistent never wrote, and a deferred removal of the
		 * backing file would delete frames written after it. */
		break;
	case QA_TTL:
		rc = qvl_parse_ttl(v, len, &n.ttl);
		break;
	case QA_PRIORITY:
		rc = qvl_parse_priority(v, len, &n.priority);
		break;
	case QA_CODEC:
		rc = qvl_parse_codec(v, len, &n.codec);
		break;
	case QA_ADVICE: {
		enum qvl_advice a;
		rc = qvl_parse_advice(v, len, &a);
		if (rc)
			return EINVAL;
		/* willneed/dontneed move data now, as far as the budget and
		 * the store allow (a hint: running out is not an error).  The
		 * access pattern is remembered for the prefetcher. */
		if (a == QVL_ADV_SEQUENTIAL || a == QVL_ADV_RANDOM) {
			h->access = a;
			h->set |= QVL_HSET_ACCESS;
			qvl_inode_apply_policy(in); /* the readahead window */
		} else if (in->blob && a == QVL_ADV_WILLNEED) {
			qvl_blob_load(in->blob, in->size);
		} else if (in->blob && a == QVL_ADV_DONTNEED) {
			qvl_blob_evict(in->blob);
		}
		return 0;
	}
	default:
		return EPERM;
	}
	if (rc)
		return EINVAL;
	n.set |= qattrs[qa].setbit;
	int recode = S_ISREG(in->mode) &&
		     ((qa == QA_DTYPE && n.dtype != h->dtype) ||
		      (qa == QA_CODEC && n.codec != h->codec));
	struct qvl_hints was = *h;
	*h = n;
	qvl_inode_apply_policy(in);
	/* pin=gpu on a file: on the GPU now, or the pin is not taken. */
	if (qa == QA_PIN && n.pin == QVL_PIN_GPU && S_ISREG(in->mode) &&
	    (rc = qvl_fs_gpu_place(fs, in))) {
		*h = was;
		qvl_inode_apply_policy(in);
		return rc;
	}
	qvl_ttl_seen(fs, in);
	if (recode) /* frames on the store were coded for the old one */
		qvl_recode_add(fs, in);
	return 0; /* the caller stamps ctime and marks the row stale */
}

int qvl_xattr_apply(struct qvl_fs *fs, struct qvl_inode *in, const char *name,
		    const void *value, size_t size)
{
	int qa = is_qvl(name) ? qattr_of(name) : -1;
	int err;
	if ((is_qvl(name) && qa < 0) || !stored_namespace(name))
		return EOPNOTSUPP;
	if (qa >= 0)
		err = qvl_set(fs, in, qa, value, size, 0);
	else if (!(err = -qvl_xattr_set(in, name, value, size, 0)))
		qvl_persist_xattr(fs, in, name, value, size, 0);
	return err;
}

/* Does setting qvl attribute @qa to @v load the whole file?  (GPU
 * requests only with a GPU tier, @gpu.) */
static int loads_file(int qa, const char *v, size_t len, int gpu)
{
	enum qvl_tier_id t;
	enum qvl_pin p;
	enum qvl_advice a;
	return (qa == QA_TIER && !qvl_parse_tier(v, len, &t) &&
		t != QVL_TIER_NVME && (t != QVL_TIER_GPU || gpu)) ||
	       (qa == QA_PIN && !qvl_parse_pin(v, len, &p) &&
		p == QVL_PIN_GPU && gpu) ||
	       (qa == QA_ADVICE && !qvl_parse_advice(v, len, &a) &&
		a == QVL_ADV_WILLNEED);
}

static void qvl_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 const char *value, size_t size, int flags)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err = 0;

	qvl_count(fs, QVL_OP_SETXATTR);
	if (qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (qvl_is_ctl(ino)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (!strcmp(name, QVL_XATTR_PULL)) { /* a command, not a value */
		fuse_reply_err(req, qvl_remote_pull(fs, req, ino, value, size));
		return;
	}
	int qa = is_qvl(name) ? qattr_of(name) : -1;
	if (is_qvl(name) && qa < 0) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (!stored_namespace(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	/* What loads the whole file (tier=ram or gpu, pin=gpu, willneed)
	 * fetches it a window at a time without the lock first, as far as
	 * RAM has room: Redis or the disk answering holds up nobody else.
	 * (Best effort: the set fetches what is left, and says what went
	 * wrong.) */
	if (in && in->blob && S_ISREG(in->mode) &&
	    loads_file(qa, value, size, fs->gpu != NULL))
		qvl_fetch_unlocked(fs, ino, 0, in->size, QVL_FETCH_ALL, &in);
	if (!in)
		err = ENOENT;
	else if (qa >= 0)
		err = qvl_set(fs, in, qa, value, size, flags);
	else if (!(err = -qvl_xattr_set(in, name, value, size, flags)))
		qvl_persist_xattr(fs, in, name, value, size, 0);
	if (!err) {
		qvl_now(&in->ctime);
		qvl_persist_mark(fs, in);
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, err);
}

/* Where the bytes are: "ram", "nvme", "remote" or a split such as
 * "ram:25%,nvme:75%" by chunks (a chunk in RAM counts as RAM).  A share
 * is never shown as 0% or 100% while another tier holds any. */
static int format_tier(struct qvl_inode *in, char *buf, size_t cap)
{
	if (qvl_fs_gpu_on(in)) /* the fastest copy; stored says the rest */
		return snprintf(buf, cap, "gpu");
	static const char *const names[] = { "ram", "nvme", "remote" };
	uint64_t n[3], total;
	qvl_blob_residency(in->blob, &n[0], &n[1]);
	n[2] = qvl_blob_remote_only(in->blob);
	n[1] -= n[2];
	total = n[0] + n[1] + n[2];
	int parts = (n[0] > 0) + (n[1] > 0) + (n[2] > 0);
	if (parts <= 1)
		return snprintf(buf, cap, "%s",
				names[n[2] ? 2 : n[1] ? 1 : 0]);
	unsigned pct[3], sum = 0;
	int last = 0;
	for (int t = 0; t < 3; t++) {
		pct[t] = 0;
		if (!n[t])
			continue;
		pct[t] = (unsigned)((n[t] * 100 + total / 2) / total);
		pct[t] = pct[t] < 1 ? 1 : pct[t] > 98 ? 98 : pct[t];
		sum += pct[t];
		last = t;
	}
	/* Rounding: the last share takes what makes 100. */
	if (sum > 100)
		pct[last] -= sum - 100 < pct[last] ? sum - 100 : pct[last] - 1;
	else
		pct[last] += 100 - sum;
	int len = 0;
	for (int t = 0; t < 3; t++) {
		if (!n[t])
			continue;
		int k = snprintf(buf + len, cap - (size_t)len, "%s%s:%u%%",
				 len ? "," : "", names[t], pct[t]);
		if (k < 0 || (size_t)k >= cap - (size_t)len)
			return -ERANGE;
		len += k;
	}
	return len;
}

/* Format a readable qvl attribute into @buf; returns its length or -errno. */
static int qvl_get(struct qvl_fs *fs, struct qvl_inode *in, int qa,
		   char *buf, size_t cap)
{
	const struct qvl_hints *h = &in->hints;
	int is_reg = S_ISREG(in->mode);

	if (!qattrs[qa].readable)
		return -ENODATA;
	if (!is_reg && !(S_ISDIR(in->mode) && qattrs[qa].on_dir))
		return -ENODATA;
	switch (qa) {
	case QA_DTYPE:
		if (!(h->set & QVL_HSET_DTYPE))
			return -ENODATA;
		return snprintf(buf, cap, "%s", qvl_dtype_table[h->dtype].name);
	case QA_SHAPE:
		if (!(h->set & QVL_HSET_SHAPE))
			return -ENODATA;
		return qvl_format_shape(h->dims, h->ndims, buf, cap);
	case QA_TIER:
		return format_tier(in, buf, cap);
	case QA_PIN:
		return snprintf(buf, cap, "%s", qvl_pin_name(h->pin));
	case QA_LIFETIME:
		return snprintf(buf, cap, "%s", qvl_lifetime_name(h->lifetime));
	case QA_TTL:
		return snprintf(buf, cap, "%" PRIu64, h->ttl);
	case QA_PRIORITY:
		return snprintf(buf, cap, "%u", h->priority);
	case QA_CODEC:
		return snprintf(buf, cap, "%s", qvl_codec_name(h->codec));
	case QA_STORED: {
		uint64_t rb = qvl_blob_remote_bytes(in->blob, NULL);
		uint64_t gb = qvl_fs_gpu_bytes(in);
		int n = 0;
		if (qvl_fs_gpu_on(in))
			n = snprintf(buf, cap, "gpu:%" PRIu64 ",", gb);
		if (n >= 0 && (size_t)n < cap)
			n += snprintf(buf + n, cap - (size_t)n,
				      "ram:%" PRIu64 ",nvme:%" PRIu64,
				      qvl_blob_resident(in->blob),
				      qvl_blob_disk_bytes(in->blob));
		if (rb && n >= 0 && (size_t)n < cap)
			n += snprintf(buf + n, cap - (size_t)n,
				      ",remote:%" PRIu64, rb);
		return n;
	}
	case QA_CHECKSUM: {
		uint64_t v = qvl_blob_version(in->blob);
		if (!in->sum_valid || in->sum_version != v) {
			int rc = qvl_blob_checksum(in->blob, in->size, &in->sum);
			if (rc)
				return rc;
			in->sum_version = v;
			in->sum_valid = 1;
		}
		return snprintf(buf, cap, "%016" PRIx64, in->sum);
	}
	default: /* cuda_ipc */
		return qvl_fs_gpu_ipc_text(fs, in, buf, cap);
	}
}

static void reply_value(fuse_req_t req, const void *val, size_t len,
			size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, val, len);
}

static void qvl_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 size_t size)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	/* Holds every formatted qvl value: the longest is cuda_ipc (under
	 * 230 bytes), then a shape of eight 20-digit dims (167). */
	char small[256];
	void *val = small;
	int len = 0;

	qvl_count(fs, QVL_OP_GETXATTR);
	if (qvl_is_ctl(ino)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	int qa = is_qvl(name) ? qattr_of(name) : -1;
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	/* A checksum of a pulled file: what is only in Redis comes first,
	 * without the lock (the sum is taken under it). */
	if (in && qa == QA_CHECKSUM && in->blob &&
	    (!in->sum_valid || in->sum_version != qvl_blob_version(in->blob)) &&
	    qvl_blob_remote_only(in->blob))
		qvl_fetch_unlocked(fs, ino, 0, in->size, QVL_FETCH_REMOTE, &in);
	if (!in) {
		len = -ENOENT;
	} else if (qa == QA_CUDA_IPC && !qvl_fs_gpu_may_hand(req)) {
		len = -EACCES; /* the handle opens every file on the GPU */
	} else if (qa >= 0) {
		len = qvl_get(fs, in, qa, small, sizeof(small));
		if (len >= (int)sizeof(small))
			len = -EIO; /* cannot happen: see small's size */
	} else {
		struct qvl_xattr *x = qvl_xattr_find(in, name);
		if (!x) {
			len = -ENODATA;
		} else if (x->size <= sizeof(small)) {
			memcpy(small, x->value, x->size);
			len = (int)x->size;
		} else if ((val = malloc(x->size))) {
			memcpy(val, x->value, x->size);
			len = (int)x->size;
		} else {
			len = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	if (len < 0)
		fuse_reply_err(req, -len);
	else
		reply_value(req, val, (size_t)len, size);
	if (val != small)
		free(val);
}

/* Append @name and its NUL to the list being built; grows @buf. */
static int list_add(char **buf, size_t *len, size_t *cap, const char *name)
{
	size_t n = strlen(name) + 1;
	if (*len + n > *cap) {
		size_t c = (*cap ? *cap * 2 : 512) + n;
		char *b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, name, n);
	*len += n;
	return 0;
}

static void qvl_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	qvl_count(fs, QVL_OP_LISTXATTR);
	if (qvl_is_ctl(ino)) {
		reply_value(req, "", 0, size);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (!in)
		rc = -ENOENT;
	for (int qa = 0; in && !rc && qa < QA_COUNT; qa++) {
		/* Listed: the hints that were set (here, or inherited), which
		 * a copy tool can set again.  Computed attributes (stored,
		 * checksum, tier, cuda_ipc) and defaults answer getxattr by
		 * name only, as CephFS's virtual xattrs do: listed, rsync -X
		 * and cp --preserve=xattr would fail setting them. */
		if (qattrs[qa].setbit && qattrs[qa].readable &&
		    (in->hints.set & qattrs[qa].setbit))
			rc = list_add(&buf, &len, &cap, qattrs[qa].name);
	}
	for (struct qvl_xattr *x = in ? in->xattrs : NULL; x && !rc; x = x->next)
		rc = list_add(&buf, &len, &cap, x->name);
	pthread_mutex_unlock(&fs->lock);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		reply_value(req, buf, len, size);
	free(buf);
}

static int qvl_unset(struct qvl_inode *in, int qa)
{
	struct qvl_hints *h = &in->hints, def;
	if (!qattrs[qa].writable || !qattrs[qa].readable || !qattrs[qa].setbit)
		return EPERM;
	if (!(h->set & qattrs[qa].setbit))
		return ENODATA;
	qvl_hints_init(&def);
	switch (qa) {
	case QA_DTYPE: h->dtype = def.dtype; break;
	case QA_SHAPE: h->ndims = 0; break;
	case QA_PIN: h->pin = def.pin; break;
	case QA_LIFETIME: h->lifetime = def.lifetime; break;
	case QA_TTL: h->ttl = def.ttl; break;
	case QA_PRIORITY: h->priority = def.priority; break;
	case QA_CODEC: h->codec = def.codec; break;
	}
	h->set &= ~qattrs[qa].setbit;
	return 0;
}

static void qvl_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct qvl_fs *fs = qvl_req_fs(req);
	int err;

	qvl_count(fs, QVL_OP_REMOVEXATTR);
	if (qvl_fs_rdonly(fs)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (qvl_is_ctl(ino)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	int qa = is_qvl(name) ? qattr_of(name) : -1;
	pthread_mutex_lock(&fs->lock);
	struct qvl_inode *in = qvl_inode_get(fs, ino);
	if (!in)
		err = ENOENT;
	else if (is_qvl(name))
		err = qa < 0 ? ENODATA : qvl_unset(in, qa);
	else if (!(err = -qvl_xattr_remove(in, name)))
		qvl_persist_xattr(fs, in, name, NULL, 0, 1);
	if (!err) {
		qvl_now(&in->ctime);
		qvl_inode_apply_policy(in);
		qvl_persist_mark(fs, in);
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, err);
}

void qvl_ops_xattr(struct fuse_lowlevel_ops *ops)
{
	ops->setxattr = qvl_setxattr;
	ops->getxattr = qvl_getxattr;
	ops->listxattr = qvl_listxattr;
	ops->removexattr = qvl_removexattr;
}

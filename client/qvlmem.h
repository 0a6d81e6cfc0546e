/*
 * qvlmem.h - libqvlmem, the client library of qvlmemfs.
 *
 * A tensor on a qvlmemfs mount is an ordinary file of raw row-major bytes;
 * its dtype, shape and placement hints are extended attributes (see
 * qvl_abi.h).  libqvlmem makes the common cases one call: create a tensor
 * mapped writable, open one mapped with its dtype and shape read back, set
 * hints with typed values, ask where its bytes are, sync, close.
 *
 * Conventions (they hold for every function below unless it says otherwise):
 *
 *  - Results: 0 (or a non-negative count) on success, a negative errno on
 *    failure.  qvlmem_strerror() turns one into text.  The library never
 *    prints, never aborts, and keeps no global mutable state.
 *  - Validation first: a bad argument (unknown dtype, bad shape, hint value
 *    out of range, unknown flag) gives -EINVAL before any file is created,
 *    opened or changed.  The daemon validates again; its -EINVAL is passed
 *    through unchanged.
 *  - -EBADMSG means a file's attributes are malformed or disagree with its
 *    size (e.g. a shape whose byte size is not the file size).
 *  - -ENOTSUP / -ENODATA come from filesystems without user xattrs or files
 *    without the attribute asked for (a file not on qvlmemfs, usually).
 *  - Thread safety: a struct qvlmem_tensor may be used from many threads at
 *    once (accessors, hint setters, tier queries and sync are independent
 *    syscalls), except that qvlmem_close() must not race with any other use
 *    of the same tensor.  Path functions are safe from any thread.
 *  - Ownership: a tensor owns its file descriptor and its mapping; both end
 *    at qvlmem_close().  Pointers the caller passes are only read during
 *    the call and never kept.
 *
 * Link with `pkg-config --cflags --libs qvlmem`.  The library depends only
 * on libc and qvl_abi.h.
 */
#ifndef QVLMEM_H
#define QVLMEM_H

#include <stddef.h>
#include <stdint.h>

#include "qvl_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(QVLMEM_API)
#define QVLMEM_API __attribute__((visibility("default")))
#elif !defined(QVLMEM_API)
#define QVLMEM_API
#endif

#define QVLMEM_VERSION_MAJOR 0
#define QVLMEM_VERSION_MINOR 2
#define QVLMEM_VERSION_PATCH 0

/* qvlmem_version() - the library's version string, e.g. "0.1.0" (static). */
QVLMEM_API const char *qvlmem_version(void);

/* ------------------------------------------------------------------------ */
/* Hints: typed mirrors of the user.qvl.* values.  0 always means "unset".  */

enum qvlmem_pin {
	QVLMEM_PIN_UNSET = 0,
	QVLMEM_PIN_NONE, /* "none": may be demoted anywhere */
	QVLMEM_PIN_RAM,  /* "ram":  never below RAM */
	QVLMEM_PIN_GPU,  /* "gpu":  stays on the GPU */
	QVLMEM_PIN_COUNT
};

enum qvlmem_lifetime {
	QVLMEM_LIFETIME_UNSET = 0,
	QVLMEM_LIFETIME_PERSISTENT, /* survives remount (the daemon's default) */
	QVLMEM_LIFETIME_SESSION,    /* gone at unmount */
	QVLMEM_LIFETIME_VOLATILE,   /* may be dropped under memory pressure */
	QVLMEM_LIFETIME_COUNT
};

enum qvlmem_codec {
	QVLMEM_CODEC_UNSET = 0,
	QVLMEM_CODEC_AUTO,
	QVLMEM_CODEC_NONE,
	QVLMEM_CODEC_ZSTD,
	QVLMEM_CODEC_SHUFFLE_ZSTD,
	QVLMEM_CODEC_Q8_0,   /* lossy, opt-in */
	QVLMEM_CODEC_F8E4M3, /* lossy, opt-in */
	QVLMEM_CODEC_COUNT
};

enum qvlmem_advice {
	QVLMEM_ADVICE_UNSET = 0, /* not a valid argument; here for symmetry */
	QVLMEM_ADVICE_WILLNEED,  /* prefetch now */
	QVLMEM_ADVICE_DONTNEED,  /* demote now */
	QVLMEM_ADVICE_SEQUENTIAL,
	QVLMEM_ADVICE_RANDOM,
	QVLMEM_ADVICE_COUNT
};

/* Tiers, fastest first.  Also the index of the per-tier arrays below. */
enum qvlmem_tier {
	QVLMEM_TIER_GPU = 0,
	QVLMEM_TIER_RAM,
	QVLMEM_TIER_NVME,
	QVLMEM_TIER_COUNT
};

/* Which of the two numeric fields of struct qvlmem_hints apply. */
#define QVLMEM_HINT_TTL 0x1u
#define QVLMEM_HINT_PRIORITY 0x2u

/*
 * struct qvlmem_hints - placement hints, each optional.
 *
 * A zero-initialised struct sets nothing: the enum fields are applied when
 * non-zero, ttl and priority only when their bit is in @set (because 0 is a
 * meaningful value for both).
 */
struct qvlmem_hints {
	enum qvlmem_pin pin;
	enum qvlmem_lifetime lifetime;
	enum qvlmem_codec codec;
	unsigned set;      /* QVLMEM_HINT_TTL | QVLMEM_HINT_PRIORITY */
	uint64_t ttl;      /* seconds after last access; 0 = never collected */
	int priority;      /* 0..QVL_PRIORITY_MAX, higher stays longer */
};

/*
 * Names <-> values.  *_name() returns the xattr spelling (static string) or
 * NULL for UNSET/out-of-range values; *_from_name() returns the value or
 * UNSET (0) for an unknown name.  @len is the name's length (no NUL needed).
 */
QVLMEM_API const char *qvlmem_pin_name(enum qvlmem_pin v);
QVLMEM_API const char *qvlmem_lifetime_name(enum qvlmem_lifetime v);
QVLMEM_API const char *qvlmem_codec_name(enum qvlmem_codec v);
QVLMEM_API const char *qvlmem_advice_name(enum qvlmem_advice v);
QVLMEM_API const char *qvlmem_tier_name(enum qvlmem_tier v);
QVLMEM_API enum qvlmem_pin qvlmem_pin_from_name(const char *s, size_t len);
QVLMEM_API enum qvlmem_lifetime qvlmem_lifetime_from_name(const char *s, size_t len);
QVLMEM_API enum qvlmem_codec qvlmem_codec_from_name(const char *s, size_t len);

/*
 * qvlmem_shape_parse() - parse a user.qvl.shape value ("6144,2048").
 * @s, @len: the value (a trailing NUL or newline is ignored)
 * @dims:    receives up to QVL_MAX_DIMS dims
 * Returns the number of dims (1..QVL_MAX_DIMS), or -EINVAL when the value is
 * empty, has more than QVL_MAX_DIMS dims, an empty dim, anything but decimal
 * digits and commas, or a dim above UINT64_MAX.
 *
 * The empty value is a valid shape, a scalar (0 dims), but this function
 * has always refused it and callers count on that: check for it first, as
 * qvlmem_open() does (an empty value with only NULs or a newline is empty).
 */
QVLMEM_API int qvlmem_shape_parse(const char *s, size_t len,
				  uint64_t dims[QVL_MAX_DIMS]);

/*
 * qvlmem_shape_bytes() - bytes a tensor of @dt and this shape occupies.
 * Returns 0 and stores the size in *@bytes; -EINVAL when @dt is not a dtype,
 * @ndims is outside 0..QVL_MAX_DIMS, the element count is not a whole number
 * of @dt's blocks (q8_0, q4_0: multiples of 32), or the size overflows an
 * off_t.  A shape with a 0 dim has 0 bytes; 0 dims is a scalar, one element
 * (@dims may then be NULL; a block type has no scalar: -EINVAL).
 */
QVLMEM_API int qvlmem_shape_bytes(enum qvl_dtype dt, int ndims,
				  const uint64_t *dims, uint64_t *bytes);

/* ------------------------------------------------------------------------ */
/* Tensors.                                                                 */

struct qvlmem_tensor; /* opaque */

/* qvlmem_open() flags. */
#define QVLMEM_RDONLY 0x0   /* map PROT_READ */
#define QVLMEM_RDWR 0x1     /* map PROT_READ|PROT_WRITE (file opened O_RDWR) */
#define QVLMEM_POPULATE 0x2 /* fault the whole mapping in now (MAP_POPULATE) */

/*
 * qvlmem_create() - create a new tensor file and map it read-write.
 * @path:  the file; must not exist (O_CREAT|O_EXCL, mode 0666 & ~umask)
 * @dt:    its dtype
 * @ndims: 1..QVL_MAX_DIMS (a scalar: one dim of 1, then set
 *         user.qvl.shape to "" on qvlmem_fd(); 0 stays -EINVAL, as it
 *         always was)
 * @dims:  @ndims dims; a 0 dim makes an empty tensor
 * @hints: hints to set after dtype and shape, or NULL
 * @out:   receives the tensor, to be freed with qvlmem_close()
 *
 * Sizes the file (ftruncate), then sets user.qvl.dtype, user.qvl.shape and
 * the hints in that order (the order the daemon needs to check shape
 * against size), then maps it MAP_SHARED.  The new bytes read as zero.  An
 * empty tensor has no mapping: qvlmem_data() returns NULL.
 *
 * Returns 0; -EINVAL for a bad argument (nothing created); -EEXIST when
 * @path exists; any open/ftruncate/setxattr/mmap error, in which case the
 * file this call created is unlinked again and *@out is left untouched.
 */
QVLMEM_API int qvlmem_create(const char *path, enum qvl_dtype dt, int ndims,
			     const uint64_t *dims,
			     const struct qvlmem_hints *hints,
			     struct qvlmem_tensor **out);

/*
 * qvlmem_open() - open an existing tensor and map it.
 * @path:  the file (a regular file)
 * @flags: QVLMEM_RDONLY or QVLMEM_RDWR, optionally | QVLMEM_POPULATE
 * @out:   receives the tensor, to be freed with qvlmem_close()
 *
 * dtype and shape are read from the file's xattrs.  A file with neither
 * (any plain file) opens as u8 with one dim, its size.  A dtype without a
 * shape gives one dim of size / dtype size.  A shape without a dtype is u8.
 * An empty shape is a scalar: 0 dims, one element.
 * The whole file is mapped MAP_SHARED; an empty file has no mapping.
 *
 * Returns 0; -EINVAL for unknown flags; -EISDIR / -EINVAL for a directory /
 * other non-regular file; -EBADMSG when dtype or shape is malformed or does
 * not match the file size; any open/fstat/getxattr/mmap error.
 */
QVLMEM_API int qvlmem_open(const char *path, int flags,
			   struct qvlmem_tensor **out);

/*
 * qvlmem_close() - unmap, close and free a tensor.  NULL is a no-op.
 * Does not sync: call qvlmem_sync() first for durability.  The tensor is
 * freed whatever the result.  Returns 0, or close()'s error.
 */
QVLMEM_API int qvlmem_close(struct qvlmem_tensor *t);

/*
 * qvlmem_sync() - make the tensor's data durable: msync(MS_SYNC) of the
 * mapping, then fsync of the file (which also persists xattrs on the daemon
 * side).  Returns 0 or the failing call's -errno.
 */
QVLMEM_API int qvlmem_sync(struct qvlmem_tensor *t);

/*
 * Accessors: valid until qvlmem_close(); none fail on a valid tensor.
 * qvlmem_data():   the mapping (read-only unless created or opened RDWR);
 *                  NULL for an empty tensor.
 * qvlmem_size():   its size in bytes (the file size at open).
 * qvlmem_dtype():  its dtype.
 * qvlmem_ndims():  its number of dims, 0..QVL_MAX_DIMS (0: a scalar).
 * qvlmem_shape():  copies min(@max, ndims) dims into @dims; returns ndims.
 * qvlmem_nelems(): the product of the dims (1 for a scalar).
 * qvlmem_fd():     its file descriptor, owned by the tensor (do not close).
 */
QVLMEM_API void *qvlmem_data(const struct qvlmem_tensor *t);
QVLMEM_API size_t qvlmem_size(const struct qvlmem_tensor *t);
QVLMEM_API enum qvl_dtype qvlmem_dtype(const struct qvlmem_tensor *t);
QVLMEM_API int qvlmem_ndims(const struct qvlmem_tensor *t);
QVLMEM_API int qvlmem_shape(const struct qvlmem_tensor *t, uint64_t *dims,
			    int max);
QVLMEM_API uint64_t qvlmem_nelems(const struct qvlmem_tensor *t);
QVLMEM_API int qvlmem_fd(const struct qvlmem_tensor *t);

/* ------------------------------------------------------------------------ */
/* Hints and placement.  Each setter writes one xattr; the value is checked */
/* first (-EINVAL, nothing written).  Errors of fsetxattr pass through.    */

QVLMEM_API int qvlmem_set_pin(struct qvlmem_tensor *t, enum qvlmem_pin pin);
QVLMEM_API int qvlmem_set_lifetime(struct qvlmem_tensor *t,
				   enum qvlmem_lifetime lifetime);
QVLMEM_API int qvlmem_set_ttl(struct qvlmem_tensor *t, uint64_t seconds);
QVLMEM_API int qvlmem_set_priority(struct qvlmem_tensor *t, int priority);
QVLMEM_API int qvlmem_set_codec(struct qvlmem_tensor *t,
				enum qvlmem_codec codec);

/*
 * qvlmem_set_hints() / qvlmem_path_set_hints() - set every hint that @h
 * sets.  All values are checked before the first is written (-EINVAL,
 * nothing written).  They are written one xattr at a time in the order
 * pin, lifetime, ttl, priority, codec; if a write fails the earlier ones
 * stay.  The path form works on directories too (their hints are inherited
 * by what is created in them).
 */
QVLMEM_API int qvlmem_set_hints(struct qvlmem_tensor *t,
				const struct qvlmem_hints *h);
QVLMEM_API int qvlmem_path_set_hints(const char *path,
				     const struct qvlmem_hints *h);

/*
 * qvlmem_get_hints() / qvlmem_path_get_hints() - read the hints that are
 * set.  Attributes that are absent, or whose value this library version
 * does not know, leave their field unset.  Returns 0, or a getxattr error
 * other than -ENODATA (e.g. -ENOTSUP, -ENOENT).
 */
QVLMEM_API int qvlmem_get_hints(const struct qvlmem_tensor *t,
				struct qvlmem_hints *h);
QVLMEM_API int qvlmem_path_get_hints(const char *path, struct qvlmem_hints *h);

/*
 * qvlmem_advise() / qvlmem_path_advise() - tell the daemon what is coming
 * (user.qvl.advice).  -EINVAL for an out-of-range advice.
 */
QVLMEM_API int qvlmem_advise(struct qvlmem_tensor *t, enum qvlmem_advice a);
QVLMEM_API int qvlmem_path_advise(const char *path, enum qvlmem_advice a);

/*
 * qvlmem_move() / qvlmem_path_move() - move the bytes to @tier now (write
 * user.qvl.tier).  -EINVAL for an out-of-range tier; the daemon's error
 * (e.g. -ENOSPC, -ENODEV for an absent GPU) otherwise.
 */
QVLMEM_API int qvlmem_move(struct qvlmem_tensor *t, enum qvlmem_tier tier);
QVLMEM_API int qvlmem_path_move(const char *path, enum qvlmem_tier tier);

/*
 * qvlmem_tier() / qvlmem_path_tier() - where the bytes are now, as the
 * daemon says it: "ram", or "ram:25%,nvme:75%".
 * @buf, @len: receives the text, NUL-terminated
 * Returns its length (without the NUL); -ERANGE when @len is too small
 * (64 bytes is always enough); -ENODATA / -ENOTSUP off qvlmemfs.
 */
QVLMEM_API int qvlmem_tier(const struct qvlmem_tensor *t, char *buf,
			   size_t len);
QVLMEM_API int qvlmem_path_tier(const char *path, char *buf, size_t len);

/*
 * struct qvlmem_residency - a user.qvl.tier value, parsed: the percentage
 * of the file in each tier (they sum to 100 for a non-empty file the
 * daemon reports on).
 */
struct qvlmem_residency {
	unsigned pct[QVLMEM_TIER_COUNT];
};

/*
 * qvlmem_residency_parse() - parse "ram" (100%) or "ram:25%,nvme:75%".
 * Returns 0, or -EINVAL for an unknown tier name, a percentage above 100 or
 * anything else malformed.
 */
QVLMEM_API int qvlmem_residency_parse(const char *s, size_t len,
				      struct qvlmem_residency *r);

/* qvlmem_residency() - qvlmem_tier() and qvlmem_residency_parse() in one;
 * -EBADMSG when the daemon's value does not parse. */
QVLMEM_API int qvlmem_residency(const struct qvlmem_tensor *t,
				struct qvlmem_residency *r);

/* ------------------------------------------------------------------------ */
/* Mount statistics (MOUNT/.qvl/stats.json).                                */

struct qvlmem_tier_stats {
	int present;     /* the tier exists on this mount */
	uint64_t budget; /* bytes */
	uint64_t used;   /* bytes */
	uint64_t files;  /* files with bytes in this tier */
};

struct qvlmem_stats {
	char version[32]; /* the daemon's version, "" if absent */
	uint64_t chunk_size;
	uint64_t read_ahead_kb;
	struct qvlmem_tier_stats tier[QVLMEM_TIER_COUNT];
	uint64_t files, dirs, bytes;
};

/*
 * qvlmem_stats_parse() - parse the text of a stats.json.  Tolerant: keys may
 * come in any order, unknown keys and tiers are skipped, absent numbers
 * read as 0.  Returns 0; -EBADMSG when the text is not a JSON object or has
 * no "tiers" object.
 */
QVLMEM_API int qvlmem_stats_parse(const char *json, size_t len,
				  struct qvlmem_stats *st);

/*
 * qvlmem_mount_stats() - read and parse MOUNT/.qvl/stats.json.
 * Returns 0; -ENOENT when @mount has no .qvl/stats.json (not a qvlmemfs
 * mount); -EFBIG when the file exceeds 4 MiB; -ENOMEM; -EBADMSG as above;
 * open/read errors.
 */
QVLMEM_API int qvlmem_mount_stats(const char *mount, struct qvlmem_stats *st);

/* ------------------------------------------------------------------------ */

/*
 * qvlmem_strerror() - a static, thread-safe description of an error from
 * this library.  Takes -errno or errno; never returns NULL.
 */
QVLMEM_API const char *qvlmem_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* QVLMEM_H */

/*
 * qvl_abi.h - the public contract between qvlmemfs and its users.
 *
 * Everything a program needs to talk to a mounted qvlmemfs without linking
 * daemon code: the extended-attribute names, the values they accept, and the
 * dtype table (name -> element size).  The daemon and libqvlmem both include
 * this header; nothing in it allocates, prints or does I/O.
 *
 * A dtype is described by a block: `block_elems` elements stored in
 * `block_bytes` bytes.  Plain types have a block of one element; quantized
 * GGML-style types (q8_0, q4_0) store 32 elements with one f16 scale.
 * A tensor of N elements therefore occupies N / block_elems * block_bytes
 * bytes, and N must be a multiple of block_elems.
 *
 * The entries after q4_0 are the other GGUF (ggml) block types, named as
 * ggml names them (q4_1 ... q8_K, iq*, tq*, mxfp4), so that `qvlctl import`
 * can keep a GGUF tensor's bytes as they are.  The store knows nothing of
 * their insides: it codes them as plain bytes, and nothing re-quantizes
 * them.  Their block sizes are ggml's (sizeof(block_xxx), QK_K = 256).
 * New entries are only ever appended: the daemon's catalog stores the
 * index.
 */
#ifndef QVL_ABI_H
#define QVL_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#define QVL_ABI_VERSION 1

/* Extended attributes (all in the user. namespace). */
#define QVL_XATTR_PREFIX "user.qvl."
#define QVL_XATTR_DTYPE "user.qvl.dtype"       /* rw: a name from the dtype table */
#define QVL_XATTR_SHAPE "user.qvl.shape"       /* rw: "d0,d1,...", up to QVL_MAX_DIMS */
#define QVL_XATTR_TIER "user.qvl.tier"         /* rw: read "ram" or "ram:25%,nvme:75%"; write: move now */
#define QVL_XATTR_PIN "user.qvl.pin"           /* rw: gpu | ram | none */
#define QVL_XATTR_LIFETIME "user.qvl.lifetime" /* rw: persistent | session | volatile */
#define QVL_XATTR_TTL "user.qvl.ttl"           /* rw: seconds after last access, 0 = never */
#define QVL_XATTR_PRIORITY "user.qvl.priority" /* rw: 0..9, higher stays longer */
#define QVL_XATTR_ADVICE "user.qvl.advice"     /* w:  willneed | dontneed | sequential | random */
#define QVL_XATTR_CODEC "user.qvl.codec"       /* rw: auto | none | zstd | shuffle-zstd | q8_0 | f8e4m3 */
#define QVL_XATTR_STORED "user.qvl.stored"     /* r:  "ram:BYTES[,nvme:BYTES]" after compression */
#define QVL_XATTR_CHECKSUM "user.qvl.checksum" /* r:  content sum (qvlctl checksum), 16 hex */
#define QVL_XATTR_CUDA_IPC "user.qvl.cuda_ipc" /* r:  on the GPU tier only: see below */
#define QVL_XATTR_PULL "user.qvl.pull"         /* w:  on an empty directory: snapshot NAME from the remote tier */

/*
 * The GPU hand-off.  A file on the GPU tier is one block of the mount's
 * device arena.  user.qvl.cuda_ipc reads, for it,
 *
 *   "dev=0 handle=<128 hex digits> offset=N size=N arena=N"
 *
 * (ENODATA when the file is not on the GPU): the cudaIpcMemHandle_t of the
 * arena, and where in it the file's bytes are.  A consumer that keeps a
 * pointer must say so, or the replica may be evicted under it: it opens
 * the file and asks with QVL_IOC_CUDA_MAP on that descriptor (the same
 * facts, and the daemon counts it as a mapper until QVL_IOC_CUDA_UNMAP or
 * the descriptor's last close, a crash included).  While mapped, a write
 * refreshes the device bytes before it returns, and a change of size past
 * the file's block is EBUSY.  libqvlmem_cuda (qvlmem_cuda.h) does all this.
 */
struct qvl_cuda_ipc_info {
	int32_t dev;        /* CUDA device ordinal */
	uint32_t fake;      /* 1: the test device (no real handle) */
	uint64_t offset;    /* of the file's bytes in the arena */
	uint64_t size;      /* the file's size */
	uint64_t arena;     /* the arena's size */
	unsigned char handle[64]; /* cudaIpcMemHandle_t of the arena */
};
#define QVL_IOC_MAGIC 'Q'
#define QVL_IOC_CUDA_MAP _IOR(QVL_IOC_MAGIC, 0x21, struct qvl_cuda_ipc_info)
#define QVL_IOC_CUDA_UNMAP _IO(QVL_IOC_MAGIC, 0x22)

#define QVL_MAX_DIMS 8
#define QVL_PRIORITY_MAX 9
#define QVL_PRIORITY_DEFAULT 5

/* The name of the read-only control directory at the mount root. */
#define QVL_CTL_DIR ".qvl"

struct qvl_dtype_info {
	const char *name;
	uint16_t block_elems; /* elements per block */
	uint16_t block_bytes; /* bytes per block */
	uint8_t elem_bits;    /* width of one plain element, 0 for block types */
};

/* Indexed by enum qvl_dtype; QVL_DTYPE_NONE means "not set". */
enum qvl_dtype {
	QVL_DTYPE_NONE = 0,
	QVL_DTYPE_BF16,
	QVL_DTYPE_F16,
	QVL_DTYPE_F32,
	QVL_DTYPE_F64,
	QVL_DTYPE_I8,
	QVL_DTYPE_U8,
	QVL_DTYPE_I16,
	QVL_DTYPE_U16,
	QVL_DTYPE_I32,
	QVL_DTYPE_U32,
	QVL_DTYPE_I64,
	QVL_DTYPE_U64,
	QVL_DTYPE_BOOL,
	QVL_DTYPE_F8E4M3,
	QVL_DTYPE_F8E5M2,
	QVL_DTYPE_Q8_0,
	QVL_DTYPE_Q4_0,
	/* GGUF block types kept as bytes (see above). */
	QVL_DTYPE_Q4_1,
	QVL_DTYPE_Q5_0,
	QVL_DTYPE_Q5_1,
	QVL_DTYPE_Q8_1,
	QVL_DTYPE_Q2_K,
	QVL_DTYPE_Q3_K,
	QVL_DTYPE_Q4_K,
	QVL_DTYPE_Q5_K,
	QVL_DTYPE_Q6_K,
	QVL_DTYPE_Q8_K,
	QVL_DTYPE_IQ2_XXS,
	QVL_DTYPE_IQ2_XS,
	QVL_DTYPE_IQ3_XXS,
	QVL_DTYPE_IQ1_S,
	QVL_DTYPE_IQ4_NL,
	QVL_DTYPE_IQ3_S,
	QVL_DTYPE_IQ2_S,
	QVL_DTYPE_IQ4_XS,
	QVL_DTYPE_IQ1_M,
	QVL_DTYPE_TQ1_0,
	QVL_DTYPE_TQ2_0,
	QVL_DTYPE_MXFP4,
	QVL_DTYPE_COUNT
};

static const struct qvl_dtype_info qvl_dtype_table[QVL_DTYPE_COUNT] = {
	[QVL_DTYPE_NONE] = { "", 0, 0, 0 },
	[QVL_DTYPE_BF16] = { "bf16", 1, 2, 16 },
	[QVL_DTYPE_F16] = { "f16", 1, 2, 16 },
	[QVL_DTYPE_F32] = { "f32", 1, 4, 32 },
	[QVL_DTYPE_F64] = { "f64", 1, 8, 64 },
	[QVL_DTYPE_I8] = { "i8", 1, 1, 8 },
	[QVL_DTYPE_U8] = { "u8", 1, 1, 8 },
	[QVL_DTYPE_I16] = { "i16", 1, 2, 16 },
	[QVL_DTYPE_U16] = { "u16", 1, 2, 16 },
	[QVL_DTYPE_I32] = { "i32", 1, 4, 32 },
	[QVL_DTYPE_U32] = { "u32", 1, 4, 32 },
	[QVL_DTYPE_I64] = { "i64", 1, 8, 64 },
	[QVL_DTYPE_U64] = { "u64", 1, 8, 64 },
	[QVL_DTYPE_BOOL] = { "bool", 1, 1, 8 },
	[QVL_DTYPE_F8E4M3] = { "f8e4m3", 1, 1, 8 },
	[QVL_DTYPE_F8E5M2] = { "f8e5m2", 1, 1, 8 },
	[QVL_DTYPE_Q8_0] = { "q8_0", 32, 34, 0 },
	[QVL_DTYPE_Q4_0] = { "q4_0", 32, 18, 0 },
	[QVL_DTYPE_Q4_1] = { "q4_1", 32, 20, 0 },
	[QVL_DTYPE_Q5_0] = { "q5_0", 32, 22, 0 },
	[QVL_DTYPE_Q5_1] = { "q5_1", 32, 24, 0 },
	[QVL_DTYPE_Q8_1] = { "q8_1", 32, 36, 0 },
	[QVL_DTYPE_Q2_K] = { "q2_K", 256, 84, 0 },
	[QVL_DTYPE_Q3_K] = { "q3_K", 256, 110, 0 },
	[QVL_DTYPE_Q4_K] = { "q4_K", 256, 144, 0 },
	[QVL_DTYPE_Q5_K] = { "q5_K", 256, 176, 0 },
	[QVL_DTYPE_Q6_K] = { "q6_K", 256, 210, 0 },
	[QVL_DTYPE_Q8_K] = { "q8_K", 256, 292, 0 },
	[QVL_DTYPE_IQ2_XXS] = { "iq2_xxs", 256, 66, 0 },
	[QVL_DTYPE_IQ2_XS] = { "iq2_xs", 256, 74, 0 },
	[QVL_DTYPE_IQ3_XXS] = { "iq3_xxs", 256, 98, 0 },
	[QVL_DTYPE_IQ1_S] = { "iq1_s", 256, 50, 0 },
	[QVL_DTYPE_IQ4_NL] = { "iq4_nl", 32, 18, 0 },
	[QVL_DTYPE_IQ3_S] = { "iq3_s", 256, 110, 0 },
	[QVL_DTYPE_IQ2_S] = { "iq2_s", 256, 82, 0 },
	[QVL_DTYPE_IQ4_XS] = { "iq4_xs", 256, 136, 0 },
	[QVL_DTYPE_IQ1_M] = { "iq1_m", 256, 56, 0 },
	[QVL_DTYPE_TQ1_0] = { "tq1_0", 256, 54, 0 },
	[QVL_DTYPE_TQ2_0] = { "tq2_0", 256, 66, 0 },
	[QVL_DTYPE_MXFP4] = { "mxfp4", 32, 17, 0 },
};

/*
 * qvl_dtype_from_name() - look up a dtype by its name.
 * @name: bytes of the name, not necessarily NUL-terminated
 * @len:  their length
 * Returns the dtype, or QVL_DTYPE_NONE when the name is unknown.
 */
static inline enum qvl_dtype qvl_dtype_from_name(const char *name, size_t len)
{
	for (int i = 1; i < QVL_DTYPE_COUNT; i++) {
		const char *n = qvl_dtype_table[i].name;
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return (enum qvl_dtype)i;
	}
	return QVL_DTYPE_NONE;
}

/*
 * qvl_dtype_bytes() - bytes occupied by @nelems elements of @dt.
 * Returns 0 when @dt is unset or @nelems is not a whole number of blocks;
 * UINT64_MAX when the result would overflow.
 */
static inline uint64_t qvl_dtype_bytes(enum qvl_dtype dt, uint64_t nelems)
{
	if (dt <= QVL_DTYPE_NONE || dt >= QVL_DTYPE_COUNT)
		return 0;
	const struct qvl_dtype_info *d = &qvl_dtype_table[dt];
	if (nelems % d->block_elems)
		return 0;
	uint64_t blocks = nelems / d->block_elems;
	if (blocks > UINT64_MAX / d->block_bytes)
		return UINT64_MAX;
	return blocks * d->block_bytes;
}

#endif /* QVL_ABI_H */

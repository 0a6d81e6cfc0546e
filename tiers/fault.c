/*
 * fault.c - the store's fault injection (see qvl_fault.h).
 *
 * Operations are counted with atomics: frame I/O runs under the store's
 * lock, but fdatasync() runs outside it, on whichever thread flushes.  The
 * plan itself is written once, before the daemon starts serving.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvl_fault.h"

#define FAULT_PLANS 8

struct fault_plan {
	enum qvl_fault_op op;
	uint64_t first;	/* 1-based number of the first failing operation */
	uint64_t count;	/* 0: every one from first on */
	int err;	/* -errno, or 0 for a short transfer */
	int slow;	/* the operation goes through, late */
};

#define FAULT_SLOW_US 200000 /* how late a slow operation is */

static struct fault_plan plans[FAULT_PLANS];
static unsigned nplans;
static atomic_bool armed;
static atomic_uint_fast64_t seen[QVL_FAULT_OPS];
static atomic_uint_fast64_t injected;

static int parse_op(const char *s, size_t len, enum qvl_fault_op *op)
{
	static const char *const names[QVL_FAULT_OPS] = {
		[QVL_FAULT_READ] = "read",
		[QVL_FAULT_WRITE] = "write",
		[QVL_FAULT_FSYNC] = "fsync",
	};
	for (int i = 0; i < QVL_FAULT_OPS; i++) {
		if (strlen(names[i]) == len && !memcmp(names[i], s, len)) {
			*op = (enum qvl_fault_op)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_kind(const char *s, size_t len, int *err, int *slow)
{
	if (len == 4 && !memcmp(s, "slow", 4))
		*slow = 1;
	else if (len == 3 && !memcmp(s, "eio", 3))
		*err = -EIO;
	else if (len == 6 && !memcmp(s, "enospc", 6))
		*err = -ENOSPC;
	else if (len == 5 && !memcmp(s, "short", 5))
		*err = 0;
	else
		return -EINVAL;
	return 0;
}

/* A decimal number filling exactly s[0..len). */
static int parse_u64(const char *s, size_t len, uint64_t *v)
{
	char *end;
	if (!len || len > 19 || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	*v = strtoull(s, &end, 10);
	return end == s + len ? 0 : -EINVAL;
}

/* One "OP:N[:KIND[:COUNT]]" in s[0..len). */
static int parse_plan(const char *s, size_t len, struct fault_plan *p)
{
	const char *f[4];
	size_t fl[4];
	unsigned nf = 0;
	const char *end = s + len;
	while (nf < 4) {
		const char *c = memchr(s, ':', (size_t)(end - s));
		f[nf] = s;
		fl[nf++] = (size_t)((c ? c : end) - s);
		if (!c)
			break;
		s = c + 1;
	}
	if (nf < 2 || f[nf - 1] + fl[nf - 1] != end)
		return -EINVAL;
	*p = (struct fault_plan){ .err = -EIO, .count = 1 };
	if (parse_op(f[0], fl[0], &p->op) || parse_u64(f[1], fl[1], &p->first) ||
	    !p->first)
		return -EINVAL;
	if (nf > 2 && parse_kind(f[2], fl[2], &p->err, &p->slow))
		return -EINVAL;
	if (nf > 3 && parse_u64(f[3], fl[3], &p->count))
		return -EINVAL;
	if (p->op == QVL_FAULT_FSYNC && !p->err)
		return -EINVAL; /* a sync moves no bytes to shorten */
	return 0;
}

int qvl_fault_arm(const char *spec)
{
	struct fault_plan next[FAULT_PLANS];
	unsigned n = 0;

	atomic_store(&armed, false);
	nplans = 0;
	if (!spec || !*spec)
		return 0;
	if (spec[strlen(spec) - 1] == ',')
		return -EINVAL; /* an empty last plan */
	for (const char *s = spec; *s;) {
		const char *c = strchr(s, ',');
		size_t len = c ? (size_t)(c - s) : strlen(s);
		if (n == FAULT_PLANS || parse_plan(s, len, &next[n++]))
			return -EINVAL;
		s += len + (c != NULL);
	}
	memcpy(plans, next, n * sizeof(*next));
	nplans = n;
	for (int i = 0; i < QVL_FAULT_OPS; i++)
		atomic_store(&seen[i], 0);
	atomic_store(&armed, true);
	return 0;
}

bool qvl_fault_armed(void)
{
	return atomic_load_explicit(&armed, memory_order_relaxed);
}

int qvl_fault_io(enum qvl_fault_op op, int res)
{
	if (!qvl_fault_armed())
		return res;
	uint64_t nth = atomic_fetch_add(&seen[op], 1) + 1;
	for (unsigned i = 0; i < nplans; i++) {
		const struct fault_plan *p = &plans[i];
		if (p->op != op || nth < p->first ||
		    (p->count && nth - p->first >= p->count))
			continue;
		if (p->slow) {
			usleep(FAULT_SLOW_US);
			atomic_fetch_add(&injected, 1);
			return res;
		}
		if (!p->err) {
			/* Short: half of what moved, in whole 4 KiB (what
			 * a direct-I/O descriptor may move), so transfers of
			 * less than 8 KiB stay whole. */
			int part = (res / 2) & ~4095;
			if (part <= 0)
				return res;
			atomic_fetch_add(&injected, 1);
			return part;
		}
		atomic_fetch_add(&injected, 1);
		return p->err;
	}
	return res;
}

uint64_t qvl_fault_injected(void)
{
	return atomic_load(&injected);
}

/*
 * harness.h - the in-tree test harness: a handful of macros, no framework.
 *
 * A test program runs its cases with QVL_RUN(); a failed QVL_CHECK prints
 * where and why and marks the program failed, the case goes on.  main()
 * returns QVL_TEST_EXIT(): 0 when all passed, 1 when any failed.  A program
 * that cannot run here (no FUSE, not root) exits 77 (skip).
 */
#ifndef QVL_HARNESS_H
#define QVL_HARNESS_H

#include <stdio.h>
#include <string.h>

static int qvl_test_failures;
static int qvl_test_cases;

#define QVL_CHECK(cond)                                                       \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                             \
			qvl_test_failures++;                                  \
		}                                                             \
	} while (0)

/* Compare two integers and print both on failure. */
#define QVL_CHECK_EQ(a, b)                                                     \
	do {                                                                   \
		long long qa_ = (long long)(a), qb_ = (long long)(b);          \
		if (qa_ != qb_) {                                              \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, qa_, qb_);         \
			qvl_test_failures++;                                   \
		}                                                              \
	} while (0)

#define QVL_CHECK_STR(a, b)                                                   \
	do {                                                                  \
		const char *qa_ = (a), *qb_ = (b);                            \
		if (!qa_ || !qb_ || strcmp(qa_, qb_)) {                       \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, \
				__LINE__, qa_ ? qa_ : "(null)",               \
				qb_ ? qb_ : "(null)");                        \
			qvl_test_failures++;                                  \
		}                                                             \
	} while (0)

#define QVL_RUN(fn)                                                \
	do {                                                       \
		int before_ = qvl_test_failures;                   \
		qvl_test_cases++;                                  \
		fn();                                              \
		fprintf(stderr, "  %-40s %s\n", #fn,               \
			qvl_test_failures == before_ ? "ok" : "FAIL"); \
	} while (0)

#define QVL_TEST_EXIT() (qvl_test_failures ? 1 : 0)
#define QVL_TEST_SKIP 77

#endif /* QVL_HARNESS_H */

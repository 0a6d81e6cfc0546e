/*
 * tensor_example.c - libqvlmem in one page.
 *
 *   tensor_example PATH [ROWS COLS]
 *
 * Creates PATH as an f32 tensor of ROWS x COLS (default 1024 x 256), fills
 * it, sets hints, syncs, reopens it read-only (dtype and shape come back from
 * the file's xattrs), checks the sum and prints where its bytes are.  Works
 * on qvlmemfs and on any filesystem with user.* xattrs (tmpfs).  PATH must
 * not exist.
 */
#include <stdio.h>
#include <stdlib.h>

#include "qvlmem.h"

static int fail(const char *what, const char *path, int rc)
{
	fprintf(stderr, "tensor_example: %s %s: %s\n", what, path,
		qvlmem_strerror(rc));
	return 1;
}

int main(int argc, char **argv)
{
	struct qvlmem_hints hints = {
		.pin = QVLMEM_PIN_RAM,
		.lifetime = QVLMEM_LIFETIME_SESSION,
		.set = QVLMEM_HINT_PRIORITY,
		.priority = 7,
	};
	uint64_t dims[2] = { 1024, 256 }, got[QVL_MAX_DIMS];
	struct qvlmem_tensor *t;
	double sum = 0, want = 0;
	char tier[64];
	const float *r;
	float *w;
	int rc, nd;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: tensor_example PATH [ROWS COLS]\n");
		return 2;
	}
	if (argc == 4) {
		dims[0] = strtoull(argv[2], NULL, 10);
		dims[1] = strtoull(argv[3], NULL, 10);
	}

	rc = qvlmem_create(argv[1], QVL_DTYPE_F32, 2, dims, &hints, &t);
	if (rc)
		return fail("create", argv[1], rc);
	w = qvlmem_data(t); /* NULL for an empty tensor; nelems is then 0 */
	for (uint64_t i = 0; i < qvlmem_nelems(t); i++) {
		w[i] = (float)(i % 1000) * 0.25f;
		want += w[i];
	}
	rc = qvlmem_sync(t);
	if (rc)
		return fail("sync", argv[1], rc);
	qvlmem_close(t);

	rc = qvlmem_open(argv[1], QVLMEM_RDONLY, &t);
	if (rc)
		return fail("open", argv[1], rc);
	nd = qvlmem_shape(t, got, QVL_MAX_DIMS);
	r = qvlmem_data(t);
	for (uint64_t i = 0; i < qvlmem_nelems(t); i++)
		sum += r[i];
	printf("%s: %s", argv[1], qvl_dtype_table[qvlmem_dtype(t)].name);
	for (int i = 0; i < nd; i++)
		printf("%c%llu", i ? 'x' : ' ', (unsigned long long)got[i]);
	printf(", %zu bytes, sum %.1f (%s)\n", qvlmem_size(t), sum,
	       sum == want ? "ok" : "WRONG");

	rc = qvlmem_tier(t, tier, sizeof(tier));
	printf("tier: %s\n", rc >= 0 ? tier : qvlmem_strerror(rc));
	qvlmem_close(t);
	return sum == want ? 0 : 1;
}

/*
 * gen_tensors_main.c - write a synthetic tensor to stdout, for the demo
 * and for `qvlctl estimate`:
 *   gen_tensors KIND DTYPE NELEM [SEED] > file
 * KIND: weights | kv | act | zero;  DTYPE: bf16 | f16 | f32.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gen_tensors.h"

int main(int argc, char **argv)
{
	enum qvl_dtype dt;
	int kind = -1;
	size_t n;
	void *buf;

	if (argc < 4 || argc > 5)
		goto usage;
	for (int k = 0; k < QVL_GEN_KIND_COUNT; k++)
		if (!strcmp(argv[1], qvl_gen_kind_names[k]))
			kind = k;
	dt = qvl_dtype_from_name(argv[2], strlen(argv[2]));
	n = strtoull(argv[3], NULL, 0);
	if (kind < 0 || (dt != QVL_DTYPE_BF16 && dt != QVL_DTYPE_F16 &&
			 dt != QVL_DTYPE_F32))
		goto usage;
	buf = malloc(n * qvl_dtype_table[dt].block_bytes + 1);
	if (!buf)
		return 1;
	qvl_gen_tensor((enum qvl_gen_kind)kind, dt, buf, n,
		       argc == 5 ? strtoull(argv[4], NULL, 0) : 1);
	if (fwrite(buf, qvl_dtype_table[dt].block_bytes, n, stdout) != n)
		return 1;
	free(buf);
	return 0;
usage:
	fprintf(stderr, "usage: %s weights|kv|act|zero bf16|f16|f32 NELEM [SEED]\n",
		argv[0]);
	return 2;
}

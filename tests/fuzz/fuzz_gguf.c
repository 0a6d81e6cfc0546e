/*
 * fuzz_gguf.c - libFuzzer target for client/model_gguf.c: any byte string
 * is a GGUF file to parse, whole and as a header-only sidecar.  A parse
 * either fails with an error the contract allows, or gives tensors with
 * safe names, aligned offsets inside the input, and no two overlapping.
 *
 *   make fuzz-build && build/fuzz/fuzz_gguf -max_total_time=60
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qvl_model_mem mem = { data, size };
	struct qvl_model_src src = { .read = qvl_model_mem_read, .arg = &mem,
				     .size = size };

	for (unsigned flags = 0; flags <= QVL_MODEL_HEADER_ONLY; flags++) {
		struct qvl_model_error err = { 0 };
		struct qvl_model *m;
		int rc = qvl_model_gguf_parse(&src, flags, &m, &err);

		if (rc) {
			if (rc != -EBADMSG && rc != -EOVERFLOW && rc != -ENOTSUP &&
			    rc != -ENOMEM && rc != -EIO)
				abort();
			if (!err.msg[0])
				abort();
			continue;
		}
		if (m->kv_off != 24 || m->kv_end < m->kv_off ||
		    m->data_start % m->alignment || m->data_start < m->kv_end)
			abort();
		for (size_t i = 0; i < m->nt; i++) {
			const struct qvl_model_tensor *t = &m->t[i];

			if (qvl_model_name_check(t->name) ||
			    (t->offset - m->data_start) % m->alignment ||
			    t->offset < m->data_start ||
			    (!flags && t->offset + t->size > size))
				abort();
			for (size_t j = 0; j < i && m->nt <= 256; j++) {
				const struct qvl_model_tensor *u = &m->t[j];

				if (t->size && u->size && t->offset < u->offset + u->size &&
				    u->offset < t->offset + t->size)
					abort();
			}
		}
		qvl_model_free(m);
	}
	return 0;
}

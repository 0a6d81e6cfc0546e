/*
 * fuzz_safetensors.c - libFuzzer target for client/model_safetensors.c:
 * any byte string is a safetensors file (and a shard index) to parse.
 * A parse either fails with an error the contract allows, or gives
 * tensors that lie inside the input, tile its data section, have names
 * that are safe paths, and survive a trip through qvlctl's header writer.
 *
 *   make fuzz-build && build/fuzz/fuzz_safetensors -max_total_time=60
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "qvlctl_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rc(int rc, const struct qvl_model_error *err)
{
	if (rc != -EBADMSG && rc != -EOVERFLOW && rc != -ENOTSUP &&
	    rc != -ENOMEM)
		abort();
	if (!memchr(err->msg, '\0', sizeof(err->msg)) || !err->msg[0])
		abort();
}

static void rewrite(const struct qvl_model *m)
{
	struct qvl_model_tensor *t = malloc((m->nt ? m->nt : 1) * sizeof(*t));
	struct qvl_model_error err = { 0 };
	struct qvl_model *again;
	struct qvl_model_mem mem;
	struct qvl_model_src src = { .read = qvl_model_mem_read, .arg = &mem };
	char *hdr;
	size_t len;

	if (!t)
		return;
	memcpy(t, m->t, m->nt * sizeof(*t));
	if (qvlctl_st_header(t, m->nt, m->meta_len ? m->json + m->meta_off : NULL,
			     m->meta_len, &hdr, &len)) {
		free(t);
		return;
	}
	mem = (struct qvl_model_mem){ (const uint8_t *)hdr, len };
	src.size = len;
	if (qvl_model_safetensors_parse(&src, QVL_MODEL_HEADER_ONLY, &again, &err) ||
	    again->nt != m->nt)
		abort();
	for (size_t i = 0; i < m->nt; i++)
		if (strcmp(again->t[i].name, m->t[i].name) ||
		    again->t[i].size != m->t[i].size ||
		    again->t[i].dtype != m->t[i].dtype ||
		    again->t[i].ndims != m->t[i].ndims)
			abort();
	qvl_model_free(again);
	free(hdr);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qvl_model_mem mem = { data, size };
	struct qvl_model_src src = { .read = qvl_model_mem_read, .arg = &mem,
				     .size = size };
	struct qvl_model_error err = { 0 };
	struct qvl_model *m;
	char **files;
	size_t n;
	int rc;

	for (unsigned flags = 0; flags <= QVL_MODEL_HEADER_ONLY; flags++) {
		rc = qvl_model_safetensors_parse(&src, flags, &m, &err);
		if (rc) {
			check_rc(rc, &err);
			continue;
		}
		for (size_t i = 0; i < m->nt; i++) {
			const struct qvl_model_tensor *t = &m->t[i];

			if (qvl_model_name_check(t->name) ||
			    t->offset < m->data_start || t->offset > m->data_end ||
			    t->size > m->data_end - t->offset)
				abort();
			if (!flags && m->data_end != size)
				abort();
		}
		if (!flags)
			rewrite(m);
		qvl_model_free(m);
	}
	rc = qvl_model_index_parse((const char *)data, size, &files, &n, &err);
	if (rc == 0) {
		for (size_t i = 0; i < n; i++) {
			if (strchr(files[i], '/'))
				abort();
			free(files[i]);
		}
		free(files);
	} else if (rc != -EBADMSG && rc != -ENOMEM) {
		abort();
	}
	return 0;
}

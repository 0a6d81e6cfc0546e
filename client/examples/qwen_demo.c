/*
 * qwen_demo.c - write a few Qwen3-VL-2B-shaped tensors through libqvlmem.
 *
 *   qwen_demo DIR [LAYERS]
 *
 * Creates DIR/layers.N.{self_attn,mlp}.* weights for LAYERS decoder layers
 * (default 2), a vision patch embedding and one KV-cache block, as bf16 with
 * the real model's shapes (hidden 2048, MLP 6144, 16 query / 8 KV heads of
 * 128).  Weights are filled with N(0, 0.02)-like values, the KV block is
 * marked lifetime=session, the embedding pinned to RAM.  Prints one line
 * per tensor: name, shape, bytes, tier.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qvlmem.h"

struct spec {
	const char *name;
	int ndims;
	uint64_t dims[5];
};

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t next32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* bf16 of a roughly normal value: the sum of four uniforms, scaled. */
static uint16_t gauss_bf16(float sigma)
{
	float s = 0;
	for (int i = 0; i < 4; i++)
		s += (float)(next32() & 0xffff) / 65536.0f;
	float v = (s - 2.0f) * 1.732f * sigma;
	uint32_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return (uint16_t)((bits + 0x8000) >> 16); /* round to nearest */
}

static int make(const char *dir, const struct spec *s, float sigma,
		const struct qvlmem_hints *h)
{
	char path[4096], tier[64] = "?";
	struct qvlmem_tensor *t;
	snprintf(path, sizeof(path), "%s/%s", dir, s->name);
	int rc = qvlmem_create(path, QVL_DTYPE_BF16, s->ndims, s->dims, h, &t);
	if (rc) {
		fprintf(stderr, "qwen_demo: %s: %s\n", path, qvlmem_strerror(rc));
		return rc;
	}
	uint16_t *w = qvlmem_data(t);
	for (uint64_t i = 0; i < qvlmem_nelems(t); i++)
		w[i] = gauss_bf16(sigma);
	rc = qvlmem_sync(t);
	qvlmem_tier(t, tier, sizeof(tier));
	char shape[96] = "";
	for (int i = 0; i < s->ndims; i++)
		snprintf(shape + strlen(shape), sizeof(shape) - strlen(shape),
			 "%s%llu", i ? "x" : "", (unsigned long long)s->dims[i]);
	printf("  %-38s %-18s %10zu  %s\n", s->name, shape, qvlmem_size(t), tier);
	qvlmem_close(t);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [LAYERS]\n", argv[0]);
		return 2;
	}
	const char *dir = argv[1];
	int layers = argc > 2 ? atoi(argv[2]) : 2;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	static const struct spec layer[] = {
		{ "self_attn.q_proj.weight", 2, { 2048, 2048 } },
		{ "self_attn.k_proj.weight", 2, { 1024, 2048 } },
		{ "self_attn.v_proj.weight", 2, { 1024, 2048 } },
		{ "self_attn.o_proj.weight", 2, { 2048, 2048 } },
		{ "mlp.gate_proj.weight", 2, { 6144, 2048 } },
		{ "mlp.up_proj.weight", 2, { 6144, 2048 } },
		{ "mlp.down_proj.weight", 2, { 2048, 6144 } },
	};
	struct qvlmem_hints none = { 0 };
	struct qvlmem_hints pinned = { .pin = QVLMEM_PIN_RAM };
	struct qvlmem_hints kv = { .lifetime = QVLMEM_LIFETIME_SESSION,
				   .set = QVLMEM_HINT_PRIORITY, .priority = 9 };
	printf("  %-38s %-18s %10s  %s\n", "tensor", "shape", "bytes", "tier");
	struct spec patch = { "visual.patch_embed.proj.weight", 5,
			      { 1024, 3, 2, 16, 16 } };
	if (make(dir, &patch, 0.02f, &pinned))
		return 1;
	for (int l = 0; l < layers; l++) {
		for (size_t i = 0; i < sizeof(layer) / sizeof(layer[0]); i++) {
			char name[128];
			struct spec s = layer[i];
			snprintf(name, sizeof(name), "layers.%d.%s", l, s.name);
			s.name = name;
			if (make(dir, &s, 0.02f, &none))
				return 1;
		}
	}
	/* One KV-cache block: 8 KV heads x 4096 positions x 128. */
	struct spec kvs = { "kv.layers.0.k.block0", 3, { 8, 4096, 128 } };
	if (make(dir, &kvs, 1.0f, &kv))
		return 1;
	return 0;
}

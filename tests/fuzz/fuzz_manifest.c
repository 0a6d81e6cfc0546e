/*
 * fuzz_manifest.c - libFuzzer target for the snapshot manifest decoder
 * (remote/manifest.c): what `qvlctl pull` makes a daemon create comes
 * from Redis, so any byte string must decode to a safe manifest or fail
 * cleanly.
 *
 * Each input is decoded as it is; a manifest that decodes must encode to
 * the same bytes.  Then, so that mutations reach past the checksum, a
 * valid manifest shaped by the input's bytes is built, one of its bytes
 * is changed (chosen by the input) and its sum recomputed, and that is
 * decoded too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "qvl_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void roundtrip(const uint8_t *d, size_t n)
{
	struct qvl_manifest *m;
	void *buf;
	size_t len;
	if (qvl_manifest_decode(d, n, &m))
		return;
	if (qvl_manifest_encode(m, &buf, &len) || len != n ||
	    memcmp(buf, d, n))
		abort(); /* decoded, but not to what it says */
	free(buf);
	qvl_manifest_free(m);
}

/* A valid manifest whose shape the input's bytes choose. */
static int build(const uint8_t *d, size_t n, void **out, size_t *len)
{
	static const char *const paths[] = { "a", "a/b", "a/b/c.bin", "d.bin",
					     "a/e", "l" };
	struct qvl_manifest *m;
	struct qvl_man_entry *e;
	if (qvl_manifest_new(16, &m))
		return -1;
	for (size_t i = 0; i < 6 && i < n; i++) {
		uint8_t b = d[i];
		int dir = i == 0 || i == 1;
		int link = i == 5;
		uint8_t type = dir ? QVL_MAN_DIR : link ? QVL_MAN_LINK
							: QVL_MAN_FILE;
		uint64_t size = type == QVL_MAN_FILE ? (uint64_t)b * 1000 : 0;
		if (qvl_manifest_add(m, type, paths[i], 0644, size, b,
				     link ? "a/b/c.bin" : NULL, &e))
			break;
		if (b & 1)
			qvl_manifest_add_xattr(e, "user.qvl.dtype", "bf16", 4);
		for (uint64_t k = 0; type == QVL_MAN_FILE &&
				     k < (size + 65535) / 65536; k++) {
			struct qvl_rkey key = { .codec = (uint8_t)(b % 6) };
			key.hash[0] = (uint8_t)k;
			qvl_manifest_add_chunk(e, k, &key, 100 + b);
		}
	}
	int rc = qvl_manifest_encode(m, out, len);
	qvl_manifest_free(m);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	void *buf;
	size_t len;
	roundtrip(d, n);
	if (n < 8 || build(d, n, &buf, &len))
		return 0;
	uint8_t *p = buf;
	size_t at = ((size_t)d[6] << 8 | d[7]) % (len - 8);
	p[at] ^= n > 8 ? d[8] | 1 : 0x55;
	uint64_t sum = XXH3_64bits(p, len - 8);
	for (int i = 0; i < 8; i++)
		p[len - 8 + i] = (uint8_t)(sum >> (8 * i));
	roundtrip(p, len);
	free(buf);
	return 0;
}

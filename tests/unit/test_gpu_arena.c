/*
 * test_gpu_arena.c - the GPU tier's arena and staging ring on the test
 * device (cuda/gpu_fake.c: copies run on a thread per stream, each after
 * a delay), so what the ring schedules is what a GPU would see:
 *
 *  - uploads of many pieces through fewer staging buffers land byte-exact
 *    (a buffer handed out again before its copy ran would upload the next
 *    piece's bytes: the delay makes that certain if the ring allowed it);
 *  - the ring waits only when it has to (stage_waits), and copies on the
 *    two streams overlap (wall time well under the copies' sum);
 *  - blocks are contiguous, aligned, ENOSPC when full; bad ranges are
 *    EINVAL; no GPU and no test device is ENODEV with a reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "qvl_gpu.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct qvl_gpu *open_fake(uint64_t budget, size_t stage,
				 unsigned nstage, const char *delay_us)
{
	setenv("QVL_GPU_FAKE", "1", 1);
	setenv("QVL_GPU_FAKE_DELAY_US", delay_us, 1);
	struct qvl_gpu_config cfg = { .budget = budget, .stage_bytes = stage,
				      .stage_count = nstage };
	struct qvl_gpu *g = NULL;
	char why[256];
	int rc = qvl_gpu_open(&cfg, &g, why, sizeof(why));
	QVL_CHECK_EQ(rc, 0);
	if (rc)
		fprintf(stderr, "    open: %s\n", why);
	return g;
}


static void t_round_trip(void)
{
	struct qvl_gpu *g = open_fake(8u << 20, 64 << 10, 3, "200");
	if (!g)
		return;
	uint64_t s = 42;
	size_t len = 3u << 20;
	char *src = malloc(len), *back = malloc(len);
	for (size_t i = 0; i < len; i++)
		src[i] = (char)rnd(&s);
	uint64_t off;
	QVL_CHECK_EQ(qvl_gpu_alloc(g, len, &off), 0);
	QVL_CHECK_EQ(off % (4u << 20), 0); /* aligned to its block */
	/* Pieces of odd sizes, 3 buffers for 48+ pieces. */
	QVL_CHECK_EQ(qvl_gpu_upload(g, off, src, len, 65521), 0);
	memset(back, 0, len);
	QVL_CHECK_EQ(qvl_gpu_download(g, off, back, len), 0);
	QVL_CHECK(memcmp(src, back, len) == 0);
	struct qvl_gpu_stats st;
	qvl_gpu_stats(g, &st);
	QVL_CHECK(st.fake);
	QVL_CHECK_EQ(st.uploads, 1);
	QVL_CHECK_EQ(st.upload_bytes, len);
	QVL_CHECK(st.stage_waits > 0); /* more pieces than buffers */
	QVL_CHECK_EQ(st.arena.used, 4u << 20);
	qvl_gpu_free(g, off);
	qvl_gpu_stats(g, &st);
	QVL_CHECK_EQ(st.arena.used, 0);
	free(src);
	free(back);
	qvl_gpu_close(g);
}

/* Two streams: 8 copies of 20 ms each take about 80 ms, not 160. */
static void t_streams_overlap(void)
{
	struct qvl_gpu *g = open_fake(1u << 20, 4096, 4, "20000");
	if (!g)
		return;
	char src[8 * 4096];
	memset(src, 7, sizeof(src));
	double t0 = now_s();
	QVL_CHECK_EQ(qvl_gpu_upload(g, 0, src, sizeof(src), 4096), 0);
	double dt = now_s() - t0;
	QVL_CHECK(dt < 0.135);
	if (dt >= 0.135)
		fprintf(stderr, "    8 copies of 20 ms took %.0f ms\n", dt * 1e3);
	qvl_gpu_close(g);
}

static void t_full_and_bad(void)
{
	struct qvl_gpu *g = open_fake(4u << 20, 0, 0, "0");
	if (!g)
		return;
	uint64_t a, b, c;
	QVL_CHECK_EQ(qvl_gpu_alloc(g, 2u << 20, &a), 0);
	QVL_CHECK_EQ(qvl_gpu_alloc(g, (1u << 20) + 1, &b), 0); /* 2 MiB */
	QVL_CHECK(a != b);
	QVL_CHECK_EQ(qvl_gpu_alloc(g, 1, &c), -ENOSPC);
	QVL_CHECK_EQ(qvl_gpu_block_size(g, 5u << 20), 0); /* never fits */
	char buf[16] = { 0 };
	QVL_CHECK_EQ(qvl_gpu_download(g, 4u << 20, buf, 1), -EINVAL);
	QVL_CHECK_EQ(qvl_gpu_upload(g, (4u << 20) - 8, buf, 16, 16), -EINVAL);
	/* More than begun for: refused, nothing sent past the range. */
	struct qvl_gpu_up up;
	size_t cap;
	qvl_gpu_up_begin(g, &up, 0, 8);
	qvl_gpu_up_buf(&up, &cap);
	qvl_gpu_up_send(&up, 16);
	QVL_CHECK_EQ(qvl_gpu_up_end(&up), -EINVAL);
	char hex[2 * QVL_GPU_HANDLE_BYTES + 1];
	QVL_CHECK_EQ(qvl_gpu_ipc_handle(g, hex), 0);
	QVL_CHECK_EQ(strlen(hex), 128);
	qvl_gpu_close(g);
}

static void t_no_device(void)
{
	unsetenv("QVL_GPU_FAKE");
	struct qvl_gpu_config cfg = { .budget = 1u << 20 };
	struct qvl_gpu *g = (struct qvl_gpu *)&cfg;
	char why[256] = "";
	int rc = qvl_gpu_open(&cfg, &g, why, sizeof(why));
	/* No GPU on this machine (or no CUDA in this build): a reason. */
	if (rc == 0) {
		fprintf(stderr, "    a GPU is here: skipped\n");
		qvl_gpu_close(g);
		return;
	}
	QVL_CHECK_EQ(rc, -ENODEV);
	QVL_CHECK(g == NULL);
	QVL_CHECK(why[0] != '\0');
	/* Percent and budget both missing, or a bad ring: EINVAL. */
	setenv("QVL_GPU_FAKE", "1", 1);
	struct qvl_gpu_config bad = { .percent = 0 };
	QVL_CHECK_EQ(qvl_gpu_open(&bad, &g, why, sizeof(why)), -EINVAL);
	struct qvl_gpu_config ring = { .budget = 1u << 20, .stage_count = 1 };
	QVL_CHECK_EQ(qvl_gpu_open(&ring, &g, why, sizeof(why)), -EINVAL);
	/* N% of the test device's 1 GiB. */
	struct qvl_gpu_config pct = { .percent = 25 };
	QVL_CHECK_EQ(qvl_gpu_open(&pct, &g, why, sizeof(why)), 0);
	if (g) {
		struct qvl_gpu_stats st;
		qvl_gpu_stats(g, &st);
		QVL_CHECK_EQ(st.arena.size, 256u << 20);
		qvl_gpu_close(g);
	}
}

int main(void)
{
	QVL_RUN(t_round_trip);
	QVL_RUN(t_streams_overlap);
	QVL_RUN(t_full_and_bad);
	QVL_RUN(t_no_device);
	return QVL_TEST_EXIT();
}

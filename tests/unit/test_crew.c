/*
 * test_crew.c - the worker crew: every posted job runs once, on a worker
 * in range, and wait returns only after all of them; a full queue and a
 * crew of no threads run jobs on the caller; callers with batches of their
 * own run at once, each waiting for its own jobs only, which never run
 * under another caller's worker number.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crew.h"
#include "harness.h"

#define NJOBS 200 /* more than the queue holds */

struct batch {
	atomic_uint ran[NJOBS];
	atomic_uint bad_worker;
	unsigned size;
};

static void job(void *arg, unsigned j, unsigned w)
{
	struct batch *b = arg;
	volatile unsigned spin = 0; /* some work, so jobs overlap */
	for (unsigned i = 0; i < 2000; i++)
		spin++;
	if (w >= b->size)
		atomic_fetch_add(&b->bad_worker, 1);
	atomic_fetch_add(&b->ran[j], 1);
}

static void run_batches(unsigned threads)
{
	struct qvl_crew *crew;
	QVL_CHECK_EQ(qvl_crew_create(threads, &crew), 0);
	QVL_CHECK_EQ(qvl_crew_size(crew), threads + 1);
	static struct batch b;
	for (unsigned round = 0; round < 300; round++) {
		unsigned n = 1 + round % NJOBS;
		memset(&b, 0, sizeof(b));
		b.size = qvl_crew_size(crew);
		for (unsigned j = 0; j < n; j++)
			qvl_crew_post(crew, job, &b, j);
		qvl_crew_wait(crew);
		unsigned wrong = 0;
		for (unsigned j = 0; j < NJOBS; j++)
			wrong += atomic_load(&b.ran[j]) != (j < n);
		QVL_CHECK_EQ(wrong, 0);
		QVL_CHECK_EQ(atomic_load(&b.bad_worker), 0);
	}
	qvl_crew_wait(crew); /* nothing pending: returns at once */
	qvl_crew_destroy(crew);
}

static void t_no_threads(void) { run_batches(0); }
static void t_one_thread(void) { run_batches(1); }
static void t_many_threads(void) { run_batches(7); }

/* A daemon sets up, then forks: the child has none of the parent's
 * threads, and must still run every job and shut down. */
static int one_batch(struct qvl_crew *crew)
{
	static struct batch b;
	memset(&b, 0, sizeof(b));
	b.size = qvl_crew_size(crew);
	for (unsigned j = 0; j < NJOBS; j++)
		qvl_crew_post(crew, job, &b, j);
	qvl_crew_wait(crew);
	for (unsigned j = 0; j < NJOBS; j++)
		if (atomic_load(&b.ran[j]) != 1)
			return 1;
	return atomic_load(&b.bad_worker) != 0;
}

static void t_fork(void)
{
	struct qvl_crew *crew;
	QVL_CHECK_EQ(qvl_crew_create(2, &crew), 0);
	QVL_CHECK_EQ(one_batch(crew), 0); /* threads start in the parent */
	pid_t pid = fork();
	if (pid == 0) {
		int bad = one_batch(crew) || one_batch(crew);
		qvl_crew_destroy(crew);
		_exit(bad);
	}
	int status = -1;
	QVL_CHECK(pid > 0);
	QVL_CHECK_EQ(waitpid(pid, &status, 0), pid);
	QVL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	QVL_CHECK_EQ(one_batch(crew), 0);
	qvl_crew_destroy(crew);
}

/* Callers posting at the same time, each into its own batch. */
#define NCALLERS 3
#define BATCH_JOBS 40

struct caller {
	struct qvl_crew *crew;
	unsigned id, crew_size, rounds;
	atomic_uint ran[BATCH_JOBS];
	atomic_uint bad;
};

static void caller_job(void *arg, unsigned j, unsigned w)
{
	struct caller *c = arg;
	volatile unsigned spin = 0;
	for (unsigned i = 0; i < 500; i++)
		spin++;
	/* a crew thread, or this caller itself: never worker 0 (the
	 * default batch's caller) nor another caller's number */
	if (w == 0 || (w >= c->crew_size && w != c->crew_size + c->id))
		atomic_fetch_add(&c->bad, 1);
	atomic_fetch_add(&c->ran[j], 1);
}

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	struct qvl_crew_batch b;
	qvl_crew_batch_init(&b, c->crew, c->crew_size + c->id);
	for (unsigned r = 0; r < c->rounds; r++) {
		unsigned n = 1 + (r * 7 + c->id) % BATCH_JOBS;
		for (unsigned j = 0; j < BATCH_JOBS; j++)
			atomic_store(&c->ran[j], 0);
		for (unsigned j = 0; j < n; j++)
			qvl_crew_batch_post(&b, caller_job, c, j);
		qvl_crew_batch_wait(&b);
		for (unsigned j = 0; j < BATCH_JOBS; j++)
			if (atomic_load(&c->ran[j]) != (j < n))
				atomic_fetch_add(&c->bad, 1);
	}
	return NULL;
}

static void run_callers(unsigned threads)
{
	struct qvl_crew *crew;
	QVL_CHECK_EQ(qvl_crew_create(threads, &crew), 0);
	static struct caller cs[NCALLERS];
	pthread_t tid[NCALLERS];
	for (unsigned k = 0; k < NCALLERS; k++) {
		memset(&cs[k], 0, sizeof(cs[k]));
		cs[k] = (struct caller){ .crew = crew, .id = k,
					 .crew_size = qvl_crew_size(crew),
					 .rounds = 300 };
		QVL_CHECK_EQ(pthread_create(&tid[k], NULL, caller_main, &cs[k]),
			     0);
	}
	/* the default batch meanwhile, as worker 0 */
	unsigned bad_default = 0;
	for (unsigned round = 0; round < 100; round++)
		bad_default += one_batch(crew);
	for (unsigned k = 0; k < NCALLERS; k++) {
		QVL_CHECK_EQ(pthread_join(tid[k], NULL), 0);
		QVL_CHECK_EQ(atomic_load(&cs[k].bad), 0);
	}
	QVL_CHECK_EQ(bad_default, 0);
	qvl_crew_destroy(crew);
}

static void t_callers_no_threads(void) { run_callers(0); }
static void t_callers_one_thread(void) { run_callers(1); }
static void t_callers_many_threads(void) { run_callers(4); }

static void t_clamped(void)
{
	struct qvl_crew *crew;
	QVL_CHECK_EQ(qvl_crew_create(100, &crew), 0);
	QVL_CHECK(qvl_crew_size(crew) <= 8);
	qvl_crew_destroy(crew);
	qvl_crew_destroy(NULL);
	QVL_CHECK(qvl_crew_default_threads() <= 7);
}

int main(void)
{
	QVL_RUN(t_no_threads);
	QVL_RUN(t_one_thread);
	QVL_RUN(t_many_threads);
	QVL_RUN(t_fork);
	QVL_RUN(t_callers_no_threads);
	QVL_RUN(t_callers_one_thread);
	QVL_RUN(t_callers_many_threads);
	QVL_RUN(t_clamped);
	return QVL_TEST_EXIT();
}

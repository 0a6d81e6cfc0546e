/*
 * crew.c - worker threads for batches of independent jobs (see crew.h).
 *
 * A fixed ring of posted jobs under one mutex.  A batch is at most a few
 * dozen jobs of a millisecond each (decoding a chunk), so one lock and two
 * condition variables cost nothing next to the work; no job is ever
 * allocated.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "crew.h"

#define CREW_QUEUE 64
#define CREW_MAX_THREADS 7

struct crew_job {
	qvl_crew_fn *fn;
	void *arg;
	unsigned job;
	struct qvl_crew_batch *batch;
};

struct crew_thread {
	struct qvl_crew *crew;
	pthread_t tid;
	unsigned worker;
};

struct qvl_crew {
	/* The threads run in the process that started them: a daemon forks
	 * after setting up (fuse_daemonize), and a child has none of them.
	 * They start at the first job, in the process that posts it. */
	pid_t owner;   /* 0: not started */
	unsigned want; /* threads asked for */
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t idle; /* some batch's pending fell to 0 */
	struct crew_job q[CREW_QUEUE];
	unsigned head, count;
	int stop;
	/* What qvl_crew_post() and qvl_crew_wait() use: the batch of the one
	 * caller at a time that posts that way, as worker 0. */
	struct qvl_crew_batch dflt;
	unsigned nthreads;
	struct crew_thread t[CREW_MAX_THREADS];
};

/* Take the oldest queued job; the caller holds mu and count > 0. */
static struct crew_job take(struct qvl_crew *c)
{
	struct crew_job j = c->q[c->head];
	c->head = (c->head + 1) % CREW_QUEUE;
	c->count--;
	return j;
}

/* Take the oldest queued job of batch @b into *@j: 0 when none is queued.
 * The caller holds mu.  The ones behind it move up (a few dozen at most). */
static int take_of(struct qvl_crew *c, struct qvl_crew_batch *b,
		   struct crew_job *j)
{
	for (unsigned k = 0; k < c->count; k++) {
		if (c->q[(c->head + k) % CREW_QUEUE].batch != b)
			continue;
		*j = c->q[(c->head + k) % CREW_QUEUE];
		for (; k + 1 < c->count; k++)
			c->q[(c->head + k) % CREW_QUEUE] =
				c->q[(c->head + k + 1) % CREW_QUEUE];
		c->count--;
		return 1;
	}
	return 0;
}

/* A job of @b finished: the caller holds mu. */
static void finished(struct qvl_crew *c, struct qvl_crew_batch *b)
{
	if (--b->pending == 0)
		pthread_cond_broadcast(&c->idle);
}

static void *crew_main(void *arg)
{
	struct crew_thread *t = arg;
	struct qvl_crew *c = t->crew;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->count && !c->stop)
			pthread_cond_wait(&c->work, &c->mu);
		if (c->stop)
			break;
		struct crew_job j = take(c);
		pthread_mutex_unlock(&c->mu);
		j.fn(j.arg, j.job, t->worker);
		pthread_mutex_lock(&c->mu);
		finished(c, j.batch);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

unsigned qvl_crew_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 1)
		return 0;
	return n - 1 > CREW_MAX_THREADS ? CREW_MAX_THREADS : (unsigned)(n - 1);
}

/* Start the threads in this process (again, after a fork: the parent's
 * are not here, and its locks' state means nothing here). */
static void crew_start(struct qvl_crew *c)
{
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->work, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->head = c->count = 0;
	c->dflt.pending = 0;
	c->stop = 0;
	c->nthreads = 0;
	c->owner = getpid();
	for (unsigned i = 0; i < c->want; i++) {
		c->t[i] = (struct crew_thread){ .crew = c, .worker = i + 1 };
		if (pthread_create(&c->t[i].tid, NULL, crew_main, &c->t[i]))
			break; /* fewer threads: the caller does the rest */
		c->nthreads++;
	}
}

/* The crew's threads, started in this process: 1 if there are any. */
static int crew_ready(struct qvl_crew *c)
{
	if (!c->want)
		return 0;
	if (c->owner != getpid())
		crew_start(c);
	return c->nthreads > 0;
}

int qvl_crew_create(unsigned threads, struct qvl_crew **out)
{
	*out = NULL;
	struct qvl_crew *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->want = threads > CREW_MAX_THREADS ? CREW_MAX_THREADS : threads;
	qvl_crew_batch_init(&c->dflt, c, 0);
	*out = c;
	return 0;
}

void qvl_crew_destroy(struct qvl_crew *c)
{
	if (!c)
		return;
	if (c->owner == getpid()) {
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_broadcast(&c->work);
		pthread_mutex_unlock(&c->mu);
		for (unsigned i = 0; i < c->nthreads; i++)
			pthread_join(c->t[i].tid, NULL);
		pthread_cond_destroy(&c->idle);
		pthread_cond_destroy(&c->work);
		pthread_mutex_destroy(&c->mu);
	}
	free(c);
}

unsigned qvl_crew_size(const struct qvl_crew *c)
{
	return c->want + 1;
}

void qvl_crew_batch_init(struct qvl_crew_batch *b, struct qvl_crew *c,
			 unsigned worker)
{
	*b = (struct qvl_crew_batch){ .crew = c, .worker = worker };
}

void qvl_crew_batch_post(struct qvl_crew_batch *b, qvl_crew_fn *fn,
			 void *arg, unsigned job)
{
	struct qvl_crew *c = b->crew;
	if (!crew_ready(c)) {
		fn(arg, job, b->worker);
		return;
	}
	pthread_mutex_lock(&c->mu);
	if (c->count == CREW_QUEUE) {
		pthread_mutex_unlock(&c->mu);
		fn(arg, job, b->worker);
		return;
	}
	c->q[(c->head + c->count) % CREW_QUEUE] = (struct crew_job){
		.fn = fn, .arg = arg, .job = job, .batch = b };
	c->count++;
	b->pending++;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->mu);
}

void qvl_crew_batch_wait(struct qvl_crew_batch *b)
{
	struct qvl_crew *c = b->crew;
	struct crew_job j;
	if (c->owner != getpid() || !c->nthreads)
		return;
	pthread_mutex_lock(&c->mu);
	while (take_of(c, b, &j)) {
		pthread_mutex_unlock(&c->mu);
		j.fn(j.arg, j.job, b->worker);
		pthread_mutex_lock(&c->mu);
		finished(c, b);
	}
	while (b->pending)
		pthread_cond_wait(&c->idle, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

void qvl_crew_post(struct qvl_crew *c, qvl_crew_fn *fn, void *arg,
		   unsigned job)
{
	qvl_crew_batch_post(&c->dflt, fn, arg, job);
}

void qvl_crew_wait(struct qvl_crew *c)
{
	qvl_crew_batch_wait(&c->dflt);
}

void qvl_crew_run(struct qvl_crew *c, qvl_crew_fn *fn, void *arg, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		qvl_crew_post(c, fn, arg, i);
	if (n)
		fn(arg, 0, 0);
	qvl_crew_wait(c);
}

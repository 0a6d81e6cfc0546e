/*
 * crew.h - worker threads that run one batch of jobs beside their caller.
 *
 * The tier manager decodes and encodes chunks in batches (a readahead run,
 * an eviction batch); each chunk is independent, so a batch spreads over
 * the cores while the caller waits for it.  The caller runs jobs of its
 * batch itself while it waits.  A job touches only what its caller gave
 * it for that job: the caller reads the results after the wait, which
 * orders the memory both ways.
 *
 * Callers that post at the same time each use their own batch (struct
 * qvl_crew_batch) with a worker number of their own, beyond
 * qvl_crew_size() - 1: a job's worker number picks its scratch space, and
 * two threads must never share one.  qvl_crew_post() and qvl_crew_wait()
 * are the batch of one caller at a time (the tier manager's work lock),
 * as worker 0.
 */
#ifndef QVL_CREW_H
#define QVL_CREW_H

/* A job: @job is the number the caller posted, @worker which of the
 * qvl_crew_size() workers runs it (0 is the caller), for per-worker
 * scratch space. */
typedef void qvl_crew_fn(void *arg, unsigned job, unsigned worker);

struct qvl_crew;

/* A caller's jobs in flight: set up by qvl_crew_batch_init(); its fields
 * are the crew's. */
struct qvl_crew_batch {
	struct qvl_crew *crew;
	unsigned worker;  /* the caller's worker number while it waits */
	unsigned pending; /* posted, not finished */
};

/* qvl_crew_create() - a crew of @threads threads besides the caller (0: the
 * caller runs every job).  The threads start at the first job, in the
 * process that posts it (so a crew made before a daemon forks works in
 * the child); if they cannot start, the caller runs the jobs.  Returns 0
 * and sets *@out, or -ENOMEM. */
int qvl_crew_create(unsigned threads, struct qvl_crew **out);

/* qvl_crew_destroy() - stops and joins the threads; accepts NULL.  No job
 * may be pending. */
void qvl_crew_destroy(struct qvl_crew *crew);

/* qvl_crew_size() - workers, the caller included (threads + 1): the
 * worker numbers jobs may see. */
unsigned qvl_crew_size(const struct qvl_crew *crew);

/* qvl_crew_post() - run @fn(@arg, @job, worker) soon, on some worker.
 * Cannot fail: with the queue full the caller runs the job now. */
void qvl_crew_post(struct qvl_crew *crew, qvl_crew_fn *fn, void *arg,
		   unsigned job);

/* qvl_crew_wait() - run queued jobs on the caller too, and return when
 * every job posted so far by qvl_crew_post() has finished. */
void qvl_crew_wait(struct qvl_crew *crew);

/* qvl_crew_run() - jobs 0..@n-1 of @fn, and return when they (and every
 * job posted before) have finished: jobs 1.. are posted, job 0 runs on the
 * caller at once.  A batch of one never wakes a thread (an fsync's one
 * chunk: the hand-off cost more than the encoding). */
void qvl_crew_run(struct qvl_crew *crew, qvl_crew_fn *fn, void *arg,
		  unsigned n);

/* qvl_crew_batch_init() - an empty batch on @crew, whose caller runs its
 * jobs as worker @worker. */
void qvl_crew_batch_init(struct qvl_crew_batch *b, struct qvl_crew *crew,
			 unsigned worker);

/* qvl_crew_batch_post() - qvl_crew_post() into batch @b. */
void qvl_crew_batch_post(struct qvl_crew_batch *b, qvl_crew_fn *fn,
			 void *arg, unsigned job);

/* qvl_crew_batch_wait() - run @b's queued jobs on the caller too, and
 * return when every job posted to @b has finished; other batches' jobs
 * are not waited for. */
void qvl_crew_batch_wait(struct qvl_crew_batch *b);

/* qvl_crew_default_threads() - one thread per online core beyond the
 * caller's, at most 7. */
unsigned qvl_crew_default_threads(void);

#endif /* QVL_CREW_H */

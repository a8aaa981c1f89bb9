/* workers.h — a fixed pool of threads that runs jobs off the owner's thread
 * and hands the finished ones back through a queue the owner drains. Jobs
 * are intrusive (embed a workers_job), so submitting never allocates and
 * never fails. Every call but workers_free is thread-safe. */
#ifndef GLEAN_WORKERS_H
#define GLEAN_WORKERS_H

typedef struct workers workers;
typedef struct workers_job workers_job;

struct workers_job {
  void (*run)(workers_job *job);  /* called once, on a worker thread */
  workers_job *next;              /* the pool's while it holds the job */
};

/* Starts n threads (n <= 0: one per online CPU). After each job has run,
 * notify(ud) is called on that worker's thread, outside the pool's lock, so
 * the owner can wake up and take it. Returns NULL if no thread could start. */
workers *workers_new(int n, void (*notify)(void *ud), void *ud);

void workers_submit(workers *w, workers_job *job);

/* The threads started. */
int workers_count(const workers *w);

/* Removes and returns the jobs that have run, oldest first, linked through
 * next; NULL if none has. */
workers_job *workers_take(workers *w);

/* Lets running jobs finish, stops and joins the threads, and returns every
 * job submitted and not taken (run or not) for the owner to free. */
workers_job *workers_free(workers *w);

#endif

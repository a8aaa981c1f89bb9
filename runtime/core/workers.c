/* workers.c — thread pool with a finished-job queue (see workers.h). */
#include "workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct job_queue {
  workers_job *head, *tail;
} job_queue;

struct workers {
  pthread_mutex_t lock;
  pthread_cond_t wake;  /* signalled when a job is queued or the pool stops */
  job_queue todo, done;
  bool stop;
  void (*notify)(void *ud);
  void *ud;
  int nthreads;
  pthread_t *threads;
};

static void queue_push(job_queue *q, workers_job *job) {
  job->next = NULL;
  if (q->tail) q->tail->next = job;
  else q->head = job;
  q->tail = job;
}

static workers_job *queue_pop(job_queue *q) {
  workers_job *job = q->head;
  if (job) {
    q->head = job->next;
    if (!q->head) q->tail = NULL;
  }
  return job;
}

static void *workers_main(void *arg) {
  workers *w = arg;
  pthread_mutex_lock(&w->lock);
  while (!w->stop) {
    workers_job *job = queue_pop(&w->todo);
    if (!job) {
      pthread_cond_wait(&w->wake, &w->lock);
      continue;
    }
    pthread_mutex_unlock(&w->lock);
    job->run(job);
    pthread_mutex_lock(&w->lock);
    queue_push(&w->done, job);
    /* Notify without the lock: the owner may be calling workers_take. */
    pthread_mutex_unlock(&w->lock);
    w->notify(w->ud);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

workers *workers_new(int n, void (*notify)(void *ud), void *ud) {
  if (n <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = cpus > 0 ? (int)cpus : 1;
  }
  workers *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->threads = calloc((size_t)n, sizeof *w->threads);
  if (!w->threads) {
    free(w);
    return NULL;
  }
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->wake, NULL);
  w->notify = notify;
  w->ud = ud;
  /* Fewer threads than asked is still a working pool. */
  while (w->nthreads < n && pthread_create(&w->threads[w->nthreads], NULL, workers_main, w) == 0)
    w->nthreads++;
  if (w->nthreads == 0) {
    workers_free(w);
    return NULL;
  }
  return w;
}

void workers_submit(workers *w, workers_job *job) {
  pthread_mutex_lock(&w->lock);
  queue_push(&w->todo, job);
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->lock);
}

int workers_count(const workers *w) { return w->nthreads; }

workers_job *workers_take(workers *w) {
  pthread_mutex_lock(&w->lock);
  workers_job *jobs = w->done.head;
  w->done = (job_queue){NULL, NULL};
  pthread_mutex_unlock(&w->lock);
  return jobs;
}

workers_job *workers_free(workers *w) {
  pthread_mutex_lock(&w->lock);
  w->stop = true;
  pthread_cond_broadcast(&w->wake);
  pthread_mutex_unlock(&w->lock);
  for (int i = 0; i < w->nthreads; i++) pthread_join(w->threads[i], NULL);
  workers_job *jobs = w->done.head;
  if (jobs) w->done.tail->next = w->todo.head;
  else jobs = w->todo.head;
  pthread_cond_destroy(&w->wake);
  pthread_mutex_destroy(&w->lock);
  free(w->threads);
  free(w);
  return jobs;
}

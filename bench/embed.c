/* embed.c — extraction throughput through the embedding API (glean.h), for
 * scripts/bench: the pages given, repeated until MB megabytes, go through
 * glean_extract on THREADS threads, each with a runtime of its own (thread
 * k takes documents k, k + THREADS, ...). Prints one JSON line: documents,
 * bytes, records, failures, wall seconds, the threads' CPU seconds (which
 * other load on the machine does not inflate), the process's resident
 * memory (kB) when thread 0 was 10%, 50% and 100% through, and its peak.
 *
 *   embed_bench ADAPTER SITE_URL ROOT THREADS MB FILE...
 *
 * A FILE's URL is its path under ROOT appended to SITE_URL, index.html
 * standing for its folder (as examples/embed does). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "glean.h"

typedef struct page {
  char *url;
  char *bytes;
  size_t len;
} page;

typedef struct bench {
  const char *adapter;
  page *pages;
  size_t n_pages, documents;
  int threads;
  pthread_barrier_t start;
  long rss_kb[3];
} bench;

typedef struct worker {
  bench *b;
  int index;
  pthread_t thread;
  size_t documents, bytes, records, failures;
  double cpu_seconds;
} worker;

static double seconds_of(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int count_record(void *ud, const char *json, size_t len) {
  (void)json, (void)len;
  ((worker *)ud)->records++;
  return 0;
}

static void quiet(void *ud, glean_log_level level, const char *message) {
  (void)ud, (void)level, (void)message;
}

static void *work(void *arg) {
  worker *w = arg;
  bench *b = w->b;
  glean_runtime *rt = glean_new();
  if (!rt || glean_load_adapter(rt, b->adapter) != GLEAN_OK) {
    fprintf(stderr, "embed_bench: %s\n", rt ? glean_errmsg(rt) : "out of memory");
    exit(1);
  }
  glean_set_log(rt, quiet, NULL);
  glean_callbacks cb = {.record = count_record, .ud = w};
  size_t mine = (b->documents - (size_t)w->index + (size_t)b->threads - 1) / (size_t)b->threads;
  size_t checkpoints[3] = {mine / 10, mine / 2, mine}, next = 0;
  pthread_barrier_wait(&b->start);
  double cpu0 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
  for (size_t d = (size_t)w->index; d < b->documents; d += (size_t)b->threads) {
    const page *p = &b->pages[d % b->n_pages];
    if (glean_extract(rt, p->url, p->bytes, p->len, "text/html", &cb) != GLEAN_OK) w->failures++;
    w->documents++;
    w->bytes += p->len;
    while (w->index == 0 && next < 3 && w->documents >= checkpoints[next]) b->rss_kb[next++] = rss_kb();
  }
  w->cpu_seconds = seconds_of(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  pthread_barrier_wait(&b->start);
  glean_destroy(rt);
  return NULL;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *data = NULL;
  long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n + 1)) &&
      fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  if (data) *len = (size_t)n;
  return data;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fputs("usage: embed_bench ADAPTER SITE_URL ROOT THREADS MB FILE...\n", stderr);
    return 2;
  }
  bench b = {.adapter = argv[1], .threads = atoi(argv[4])};
  const char *site = argv[2], *root = argv[3];
  double mb = atof(argv[5]);
  if (b.threads < 1 || mb <= 0) return 2;
  b.n_pages = (size_t)(argc - 6);
  b.pages = calloc(b.n_pages, sizeof *b.pages);
  size_t total = 0;
  for (size_t i = 0; i < b.n_pages; i++) {
    const char *path = argv[6 + i];
    size_t root_len = strlen(root);
    if (strncmp(path, root, root_len) != 0) {
      fprintf(stderr, "embed_bench: %s is not under %s\n", path, root);
      return 2;
    }
    const char *rel = path + root_len;
    size_t rel_len = strlen(rel);
    if (rel_len >= 10 && strcmp(rel + rel_len - 10, "index.html") == 0) rel_len -= 10;
    size_t size = strlen(site) + rel_len + 2;
    b.pages[i].url = malloc(size);
    snprintf(b.pages[i].url, size, "%s%.*s", site, (int)rel_len, rel);
    b.pages[i].bytes = read_file(path, &b.pages[i].len);
    if (!b.pages[i].bytes) {
      fprintf(stderr, "embed_bench: cannot read %s\n", path);
      return 2;
    }
    total += b.pages[i].len;
  }
  /* Whole rounds of the pages, at least mb megabytes. */
  size_t rounds = (size_t)(mb * 1e6 / (double)total) + 1;
  b.documents = rounds * b.n_pages;

  worker *workers = calloc((size_t)b.threads, sizeof *workers);
  pthread_barrier_init(&b.start, NULL, (unsigned)b.threads + 1);
  for (int i = 0; i < b.threads; i++) {
    workers[i] = (worker){.b = &b, .index = i};
    pthread_create(&workers[i].thread, NULL, work, &workers[i]);
  }
  pthread_barrier_wait(&b.start);
  double t0 = seconds_of(CLOCK_MONOTONIC);
  pthread_barrier_wait(&b.start);
  double seconds = seconds_of(CLOCK_MONOTONIC) - t0, cpu_seconds = 0;
  size_t documents = 0, bytes = 0, records = 0, failures = 0;
  for (int i = 0; i < b.threads; i++) {
    pthread_join(workers[i].thread, NULL);
    documents += workers[i].documents;
    bytes += workers[i].bytes;
    records += workers[i].records;
    failures += workers[i].failures;
    cpu_seconds += workers[i].cpu_seconds;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"threads\":%d,\"documents\":%zu,\"bytes\":%zu,\"records\":%zu,\"failures\":%zu,\"seconds\":%.4f,"
         "\"cpu_seconds\":%.4f,\"rss_kb\":[%ld,%ld,%ld],\"peak_kb\":%ld}\n",
         b.threads, documents, bytes, records, failures, seconds, cpu_seconds, b.rss_kb[0], b.rss_kb[1], b.rss_kb[2],
         ru.ru_maxrss);
  for (size_t i = 0; i < b.n_pages; i++) {
    free(b.pages[i].url);
    free(b.pages[i].bytes);
  }
  free(b.pages);
  free(workers);
  pthread_barrier_destroy(&b.start);
  return failures ? 1 : 0;
}

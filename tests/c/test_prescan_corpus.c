/* The parse fast path on the 258 real pages of htmlparser-benchmark: each
 * page parsed in full and through the fast path (prescan's bodies in the
 * default and the always mode, naive and perturbed proposals) must give
 * identical trees (tests/fuzz/prescan_check.h). The pages are not
 * committed: scripts/bench fetches them (npm pack htmlparser-benchmark@1.1.3)
 * into build/bench/htmlparser-benchmark/package/files, or point
 * GLEAN_HTMLPARSER_BENCHMARK at a copy. Without them the test prints
 * "SKIPPED: ..." and passes. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "../fuzz/prescan_check.h"

static int corpus_open(char *dir, size_t len) {
  const char *env = getenv("GLEAN_HTMLPARSER_BENCHMARK");
  if (env && *env) {
    snprintf(dir, len, "%s", env);
    return access(dir, R_OK) == 0;
  }
  /* Next to this executable's build tree (BUILD/tests/test_prescan_corpus),
   * else the default build/ of the source tree (the working directory is tests/). */
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = '\0';
      snprintf(dir, len, "%s/../bench/htmlparser-benchmark/package/files", exe);
      if (access(dir, R_OK) == 0) return 1;
    }
  }
  snprintf(dir, len, "../build/bench/htmlparser-benchmark/package/files");
  return access(dir, R_OK) == 0;
}

static int corpus_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  char dir[PATH_MAX + 64];
  if (!corpus_open(dir, sizeof dir)) {
    printf("SKIPPED: htmlparser-benchmark pages not found (run scripts/bench once, or set "
           "GLEAN_HTMLPARSER_BENCHMARK to their directory)\n");
    return 0;
  }
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  if (!d) return check_summary();
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 5, ".html") != 0) continue;
    if (n == cap) names = realloc(names, (cap = cap ? cap * 2 : 256) * sizeof *names);
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, corpus_cmp);
  CHECK(n >= 258);

  check_totals autos = {0}, always = {0};
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    char path[PATH_MAX + 512];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) continue;
    buf page = BUF_INIT;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&page, chunk, got);
    fclose(f);
    failures += check_document(names[i], buf_str(&page), page.len, &autos, &always);
    buf_free(&page);
    free(names[i]);
  }
  free(names);
  CHECK(failures == 0);
  printf("htmlparser-benchmark: %zu pages, %zu differ\n", n, (size_t)failures);
  printf("  default: %zu in the fast path, %zu fell back, %zu of %zu bytes skipped (%.1f%%)\n", autos.used,
         autos.fell_back, autos.skipped, autos.bytes, autos.bytes ? 100.0 * (double)autos.skipped / (double)autos.bytes : 0);
  printf("  always:  %zu in the fast path, %zu fell back, %zu of %zu bytes skipped (%.1f%%)\n", always.used,
         always.fell_back, always.skipped, always.bytes,
         always.bytes ? 100.0 * (double)always.skipped / (double)always.bytes : 0);
  return check_summary();
}

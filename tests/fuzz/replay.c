/* replay.c — a fuzz target's check without libFuzzer: main() runs
 * LLVMFuzzerTestOneInput on each file named, or on each regular file of a
 * directory named (in name order). How the normal test run replays a
 * target's corpus (tests/fuzz/corpus/NAME: the seeds, and the inputs that
 * once found a bug). Fails if it finds no input at all. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  size_t cap = 4096, len = 0;
  char *data = malloc(cap);
  size_t n;
  while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) data = realloc(data, cap *= 2);
  }
  if (!data || ferror(f)) {
    fprintf(stderr, "%s: cannot read\n", path);
    exit(1);
  }
  fclose(f);
  /* The bytes alone, in a block of their own size, so that an overread is
   * caught (under ASan) as it would be when fuzzing. */
  char *exact = malloc(len ? len : 1);
  if (!exact) exit(1);
  memcpy(exact, data, len);
  free(data);
  fprintf(stderr, "replay: %s\n", path);
  LLVMFuzzerTestOneInput((const uint8_t *)exact, len);
  free(exact);
  return 1;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int replay_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    perror(dir);
    exit(1);
  }
  char **paths = NULL;
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char *path = malloc(strlen(dir) + strlen(e->d_name) + 2);
    char **grown = realloc(paths, (n + 1) * sizeof *paths);
    if (!path || !grown) exit(1);
    sprintf(path, "%s/%s", dir, e->d_name);
    paths = grown;
    paths[n++] = path;
  }
  closedir(d);
  qsort(paths, n, sizeof *paths, by_name);
  int count = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(paths[i], &st) == 0 && S_ISREG(st.st_mode)) count += replay_file(paths[i]);
    free(paths[i]);
  }
  free(paths);
  return count;
}

int main(int argc, char **argv) {
  int count = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      return 1;
    }
    count += S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);
  }
  printf("replayed %d inputs\n", count);
  return count > 0 ? 0 : 1;
}

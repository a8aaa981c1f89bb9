/* gumbo_raw.c — the peer for parse throughput: Gumbo with its default
 * options, as a program using it directly would parse (gumbo_parse, then
 * gumbo_destroy_output). Prints the CPU seconds of each pass over all files.
 *   gumbo_raw PASSES FILE... */
#include <gumbo.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fputs("usage: gumbo_raw PASSES FILE...\n", stderr);
    return 2;
  }
  int passes = atoi(argv[1]);
  int n = argc - 2;
  char **data = calloc((size_t)n, sizeof *data);
  size_t *len = calloc((size_t)n, sizeof *len);
  for (int i = 0; i < n; i++) {
    FILE *f = fopen(argv[i + 2], "rb");
    if (!f) { perror(argv[i + 2]); return 1; }
    fseek(f, 0, SEEK_END);
    len[i] = (size_t)ftell(f);
    rewind(f);
    data[i] = malloc(len[i] + 1);
    if (fread(data[i], 1, len[i], f) != len[i]) { perror(argv[i + 2]); return 1; }
    fclose(f);
  }
  for (int p = 0; p < passes; p++) {
    double t0 = cpu_now();
    for (int i = 0; i < n; i++) {
      GumboOutput *out = gumbo_parse_with_options(&kGumboDefaultOptions, data[i], len[i]);
      gumbo_destroy_output(&kGumboDefaultOptions, out);
    }
    printf("%.6f\n", cpu_now() - t0);
  }
  return 0;
}

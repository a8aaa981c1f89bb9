/* ingest.c — an ingest program embedding glean: reads the pages of a site
 * saved on disk, runs a site adapter on each, and writes the records as
 * JSON Lines. Built against the installed library (see Makefile).
 *
 *   ingest ADAPTER SITE_URL ROOT [PATH...]
 *
 * ROOT holds a copy of the site at SITE_URL: ROOT/a/b/index.html is the
 * page SITE_URL/a/b/, ROOT/x.html is SITE_URL/x.html. Each PATH (a file,
 * or a directory searched for *.html; default ROOT) must lie under ROOT.
 * Records go to stdout; pages that fail, to stderr with their URL. Pages no
 * rule of the adapter wants are skipped. Exit status: 0, 1 if a page
 * failed, 2 on a usage error.
 *
 *   ingest sites/coins2day.lua https://coins2day.com tests/fixtures/coins2day/site */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <glean.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct ingest {
  glean_runtime *rt;
  const char *site, *root;
  unsigned long pages, skipped, failed;
} ingest;

static int write_record(void *ud, const char *json, size_t len) {
  (void)ud;
  /* Refusing the record when stdout fails makes the page count as failed. */
  return fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF;
}

static void report_error(void *ud, const char *url, const char *message) {
  (void)ud;
  fprintf(stderr, "ingest: %s: %s\n", url, message);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  struct stat st;
  char *data = NULL;
  if (fstat(fileno(f), &st) == 0 && (data = malloc((size_t)st.st_size + 1)) &&
      (*len = fread(data, 1, (size_t)st.st_size, f)) != (size_t)st.st_size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  return data;
}

/* The page's URL: its path under the root, index.html standing for its
 * folder. */
static int page_url(const ingest *in, const char *path, char *url, size_t size) {
  size_t root = strlen(in->root);
  while (root > 1 && in->root[root - 1] == '/') root--;
  if (strncmp(path, in->root, root) != 0 || path[root] != '/') return -1;
  const char *rel = path + root + 1;
  size_t rel_len = strlen(rel);
  if (rel_len >= 10 && strcmp(rel + rel_len - 10, "index.html") == 0) rel_len -= 10;
  size_t site = strlen(in->site);
  while (site > 0 && in->site[site - 1] == '/') site--;
  int n = snprintf(url, size, "%.*s/%.*s", (int)site, in->site, (int)rel_len, rel);
  return n > 0 && (size_t)n < size ? 0 : -1;
}

static void ingest_file(ingest *in, const char *path) {
  char url[4096];
  if (page_url(in, path, url, sizeof url) != 0) {
    fprintf(stderr, "ingest: %s is not under %s\n", path, in->root);
    in->failed++;
    return;
  }
  size_t len;
  char *html = read_file(path, &len);
  if (!html) {
    fprintf(stderr, "ingest: cannot read %s: %s\n", path, strerror(errno));
    in->failed++;
    return;
  }
  glean_callbacks cb = {.record = write_record, .error = report_error};
  glean_status st = glean_extract(in->rt, url, html, len, "text/html", &cb);
  free(html);
  if (st == GLEAN_OK) in->pages++;
  else if (st == GLEAN_ENORULE) in->skipped++;
  else {
    in->failed++;
    if (st != GLEAN_EPAGE) fprintf(stderr, "ingest: %s: %s\n", url, glean_errmsg(in->rt));
  }
}

static int is_html(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0);
}

/* A file given by name is read whatever its name; in folders, *.html only,
 * in name order so that runs are alike. */
static void ingest_path(ingest *in, const char *path, int named) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "ingest: %s: %s\n", path, strerror(errno));
    in->failed++;
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (S_ISREG(st.st_mode) && (named || is_html(path))) ingest_file(in, path);
    return;
  }
  struct dirent **names;
  int n = scandir(path, &names, NULL, alphasort);
  if (n < 0) {
    fprintf(stderr, "ingest: %s: %s\n", path, strerror(errno));
    in->failed++;
    return;
  }
  for (int i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    if (name[0] != '.') {
      size_t size = strlen(path) + strlen(name) + 2;
      char *child = malloc(size);
      if (child) {
        snprintf(child, size, "%s/%s", path, name);
        ingest_path(in, child, 0);
        free(child);
      }
    }
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fputs("usage: ingest ADAPTER SITE_URL ROOT [PATH...]\n", stderr);
    return 2;
  }
  ingest in = {.site = argv[2], .root = argv[3]};
  in.rt = glean_new();
  if (!in.rt) {
    fputs("ingest: out of memory\n", stderr);
    return 1;
  }
  if (glean_load_adapter(in.rt, argv[1]) != GLEAN_OK) {
    fprintf(stderr, "ingest: %s\n", glean_errmsg(in.rt));
    glean_destroy(in.rt);
    return 2;
  }
  if (argc == 4) ingest_path(&in, in.root, 0);
  for (int i = 4; i < argc; i++) ingest_path(&in, argv[i], 1);
  fprintf(stderr, "ingest: %lu pages, %lu skipped (no rule), %lu failed; glean %s: %s\n", in.pages, in.skipped,
          in.failed, glean_version(), glean_stats(in.rt));
  glean_destroy(in.rt);
  return fflush(stdout) != 0 || in.failed ? 1 : 0;
}

/* fixtures.h — what the embedding API's tests share: the Coins2Day snapshot's
 * article pages (tests/fixtures/coins2day/site, named by the URLs of its
 * EXPECTED.jsonl) and a record collector. The tests run from the source
 * root. */
#ifndef GLEAN_TEST_FIXTURES_H
#define GLEAN_TEST_FIXTURES_H

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SITE "tests/fixtures/coins2day/site"
#define ORIGIN "https://coins2day.com"
#define ARTICLES 13

typedef struct fixture_page {
  char url[512];
  char *bytes;
  size_t len;
  cJSON *expected;  /* its line of EXPECTED.jsonl */
} fixture_page;

/* The whole file, NUL-terminated; NULL if it cannot be read. */
static char *fixture_read(const char *path, size_t *len) {
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
  if (!data) return NULL;
  data[n] = '\0';
  if (len) *len = (size_t)n;
  return data;
}

/* Reads the 13 article pages and their expected records; exits if the
 * fixtures are missing. */
static void fixture_articles(fixture_page pages[ARTICLES]) {
  char *expected = fixture_read(SITE "/EXPECTED.jsonl", NULL);
  if (!expected) {
    fprintf(stderr, "cannot read %s/EXPECTED.jsonl (run from the source root)\n", SITE);
    exit(2);
  }
  int n = 0;
  for (char *line = strtok(expected, "\n"); line && n < ARTICLES; line = strtok(NULL, "\n"), n++) {
    fixture_page *p = &pages[n];
    p->expected = cJSON_Parse(line);
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(p->expected, "url"));
    if (!url) exit(2);
    snprintf(p->url, sizeof p->url, "%s", url);
    char path[1024];
    snprintf(path, sizeof path, "%s%sindex.html", SITE, url + strlen(ORIGIN));
    p->bytes = fixture_read(path, &p->len);
    if (!p->bytes) {
      fprintf(stderr, "cannot read %s\n", path);
      exit(2);
    }
  }
  free(expected);
  if (n != ARTICLES) exit(2);
}

static void fixture_free(fixture_page pages[ARTICLES]) {
  for (int i = 0; i < ARTICLES; i++) {
    free(pages[i].bytes);
    cJSON_Delete(pages[i].expected);
  }
}

/* Records as a record callback receives them, one per line. */
typedef struct collected {
  char *text;
  size_t len, count;
  int refuse_after;  /* > 0: refuse the records after this many */
} collected;

static int collect_record(void *ud, const char *json, size_t len) {
  collected *c = ud;
  if (c->refuse_after > 0 && c->count >= (size_t)c->refuse_after) return 1;
  char *grown = realloc(c->text, c->len + len + 2);
  if (!grown) return 1;
  c->text = grown;
  memcpy(c->text + c->len, json, len);
  c->len += len;
  c->text[c->len++] = '\n';
  c->text[c->len] = '\0';
  c->count++;
  return 0;
}

static void collected_reset(collected *c) {
  free(c->text);
  memset(c, 0, sizeof *c);
}

#endif

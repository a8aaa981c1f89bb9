/* test_mem.c — the core's allocations made through the caller's allocator
 * (mem.h): a parse, a selector, a frontier and a buffer take all their
 * memory from it, give it all back, and fail cleanly when it refuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "buf.h"
#include "check.h"
#include "dom.h"
#include "frontier.h"
#include "select.h"

static char *repeat(const char *s, size_t n) {
  size_t len = strlen(s);
  char *out = malloc(len * n + 1);
  for (size_t i = 0; i < n; i++) memcpy(out + i * len, s, len);
  out[len * n] = '\0';
  return out;
}

static void test_parse(void) {
  char *page = repeat("<br>", 100000);
  size_t len = strlen(page);
  char err[256];
  budget b = {0};
  mem_allocator m = {budget_fn, &b};
  dom_options opts = {.mem = &m};

  /* Unbounded: the tree is all the allocator's, and so is its size. */
  dom_doc *d = dom_parse(page, len, &opts, err, sizeof err);
  CHECK(d != NULL);
  CHECK(b.held >= dom_size(d));
  CHECK(b.held > len * 10); /* Gumbo's nodes, not a copy of the input */
  size_t whole = b.peak;
  dom_free(d);
  CHECK(b.held == 0);

  /* A budget of a tenth: the parse stops where the budget ran out, with
   * everything given back, whichever allocation it was. */
  b = (budget){.limit = whole / 10};
  CHECK(dom_parse(page, len, &opts, err, sizeof err) == NULL);
  CHECK(strncmp(err, "not enough memory", 17) == 0);
  CHECK(b.refused > 0);
  CHECK(b.peak <= whole / 10);
  CHECK(b.held == 0);
  for (size_t limit = 64; limit < whole; limit = limit * 3 / 2) {
    b = (budget){.limit = limit};
    d = dom_parse(page, len, &opts, err, sizeof err);
    dom_free(d);
    CHECK(b.held == 0);
  }

  /* The same through the fast path (script bodies) and a re-encoding. */
  char *scripts = repeat("<script>var x = 1; /* a body long enough for the parse to take it out of Gumbo's way */</script><p>", 5000);
  b = (budget){0};
  d = dom_parse(scripts, strlen(scripts), &opts, err, sizeof err);
  CHECK(d && dom_stats(d).prescan_used);
  whole = b.peak;
  dom_free(d);
  CHECK(b.held == 0);
  b = (budget){.limit = whole / 2};
  CHECK(dom_parse(scripts, strlen(scripts), &opts, err, sizeof err) == NULL);
  CHECK(b.held == 0);
  dom_options latin1 = {.mem = &m, .charset = "ISO-8859-1"};
  b = (budget){.limit = len / 2};
  CHECK(dom_parse(page, len, &latin1, err, sizeof err) == NULL);
  CHECK(b.held == 0);
  free(scripts);
  free(page);
}

static void test_select(void) {
  char *css = repeat("p,", 30000);
  size_t len = strlen(css) - 1; /* no trailing comma */
  char err[256];
  budget b = {0};
  mem_allocator m = {budget_fn, &b};
  sel_list *s = sel_compile(css, len, &m, err, sizeof err);
  CHECK(s != NULL);
  CHECK(sel_size(s) > len);
  CHECK(b.held >= sel_size(s));
  size_t whole = b.peak;
  sel_free(s);
  CHECK(b.held == 0);
  b = (budget){.limit = whole / 3};
  CHECK(sel_compile(css, len, &m, err, sizeof err) == NULL);
  CHECK(b.held == 0);
  free(css);
}

static void test_frontier(void) {
  budget b = {0};
  mem_allocator m = {budget_fn, &b};
  frontier_options opts = {.max_depth = -1, .mem = &m};
  frontier *f = frontier_new(&opts);
  char url[64];
  for (int i = 0; i < 10000; i++) {
    snprintf(url, sizeof url, "http://x.test/%d", i);
    frontier_add(f, url, 0, 0);
  }
  CHECK(frontier_queued(f) == 10000);
  CHECK(b.held > 10000 * 16);
  frontier_free(f);
  CHECK(b.held == 0);

  b = (budget){.limit = 64 << 10};
  f = frontier_new(&opts);
  frontier_status st = FRONTIER_ADDED;
  int i = 0;
  while (st == FRONTIER_ADDED) {
    snprintf(url, sizeof url, "http://x.test/%d", i++);
    st = frontier_add(f, url, 0, 0);
  }
  CHECK(st == FRONTIER_NOMEM);
  CHECK(frontier_queued(f) == (size_t)i - 1); /* the refused one changed nothing */
  frontier_free(f);
  CHECK(b.held == 0);
}

static void test_buf(void) {
  budget b = {.limit = 1 << 20};
  mem_allocator m = {budget_fn, &b};
  buf out = BUF_WITH(&m);
  char chunk[4096];
  memset(chunk, 'x', sizeof chunk);
  for (int i = 0; i < 1024; i++) buf_append(&out, chunk, sizeof chunk);
  CHECK(out.failed);
  CHECK(b.peak <= 1 << 20);
  buf_free(&out);
  CHECK(b.held == 0);
  CHECK(out.mem == &m); /* a freed buf keeps its allocator */
}

int main(void) {
  test_parse();
  test_select();
  test_frontier();
  test_buf();
  return check_summary();
}

/* robots.c — robots.txt parsing and matching (see robots.h). One pass over
 * the lines keeps the rules of the groups that name the crawler and of the
 * "*" groups, tagged by which; the end of the parse keeps one kind. Rules
 * are stored percent-normalized, and paths are normalized the same way when
 * asked about, so both sides compare octet by octet. */
#include "robots.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "canon.h"

enum { ROBOTS_FOR_AGENT = 1, ROBOTS_FOR_STAR = 2 };

typedef struct robots_rule {
  size_t off, len;  /* pattern in r->text, without a final '$' */
  size_t weight;    /* length as written, '$' included: longest wins */
  bool allow, anchored;
  unsigned char who;  /* ROBOTS_FOR_* of the group(s) it came from */
} robots_rule;

struct robots {
  bool disallow_all;
  buf text;  /* patterns and sitemap URLs, each NUL-terminated */
  robots_rule *rules;
  size_t n_rules, cap_rules;
  double delay[3];  /* by ROBOTS_FOR_*; delay[0] is the answer */
  size_t *sitemaps;  /* offsets in text */
  size_t n_sitemaps, cap_sitemaps;
  bool failed;  /* out of memory while parsing */
};

static bool robots_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

/* The product token at the start of s: letters, '_' and '-'. */
static size_t robots_token(const char *s, size_t n) {
  size_t i = 0;
  for (; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-')) break;
  }
  return i;
}

static bool robots_key(const char *k, size_t n, const char *name) {
  return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

static void *robots_grow(void *arr, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return arr;
  size_t n = *cap ? *cap * 2 : 16;
  void *p = realloc(arr, n * size);
  if (p) *cap = n;
  return p;
}

/* Percent-normalizes s into out for comparison; a literal '*' or '$' in a
 * path is escaped so that only a rule's %2A or %24 matches it. */
static void robots_normalize_path(const char *s, size_t n, buf *out) {
  buf tmp = BUF_INIT;
  canon_escape(s, n, CANON_QUERY, &tmp);
  for (size_t i = 0; i < tmp.len; i++) {
    if (tmp.data[i] == '*') buf_puts(out, "%2A");
    else if (tmp.data[i] == '$') buf_puts(out, "%24");
    else buf_putc(out, tmp.data[i]);
  }
  if (tmp.failed) out->failed = true;
  buf_free(&tmp);
}

static void robots_add_rule(robots *r, bool allow, const char *v, size_t n, unsigned char who) {
  robots_rule *rules = robots_grow(r->rules, &r->cap_rules, r->n_rules + 1, sizeof *rules);
  if (!rules) { r->failed = true; return; }
  r->rules = rules;
  robots_rule *rule = &rules[r->n_rules];
  rule->allow = allow;
  rule->who = who;
  rule->anchored = v[n - 1] == '$';
  if (rule->anchored) n--;
  /* Only a final '$' anchors; elsewhere it stands for itself. */
  buf raw = BUF_INIT;
  for (size_t i = 0; i < n; i++)
    if (v[i] == '$') buf_puts(&raw, "%24");
    else buf_putc(&raw, v[i]);
  rule->off = r->text.len;
  canon_escape(buf_str(&raw), raw.len, CANON_QUERY, &r->text);
  rule->len = r->text.len - rule->off;
  rule->weight = rule->len + rule->anchored;
  buf_putc(&r->text, '\0');
  if (raw.failed || r->text.failed) r->failed = true;
  else r->n_rules++;
  buf_free(&raw);
}

static void robots_add_sitemap(robots *r, const char *v, size_t n) {
  size_t *s = robots_grow(r->sitemaps, &r->cap_sitemaps, r->n_sitemaps + 1, sizeof *s);
  if (!s) { r->failed = true; return; }
  r->sitemaps = s;
  s[r->n_sitemaps] = r->text.len;
  buf_append(&r->text, v, n);
  buf_putc(&r->text, '\0');
  if (r->text.failed) r->failed = true;
  else r->n_sitemaps++;
}

/* Seconds as "2", "0.5" or "1." ; -1 for anything else. */
static double robots_seconds(const char *v, size_t n) {
  double secs = 0, scale = 1;
  size_t digits = 0;
  bool point = false;
  for (size_t i = 0; i < n; i++) {
    if (v[i] == '.' && !point) {
      point = true;
    } else if (v[i] >= '0' && v[i] <= '9') {
      digits++;
      if (point) secs += (v[i] - '0') * (scale /= 10);
      else secs = secs * 10 + (v[i] - '0');
    } else {
      return -1;
    }
  }
  return digits && isfinite(secs) ? secs : -1;
}

typedef struct robots_parser {
  robots *r;
  const char *agent;     /* the crawler's product token */
  size_t agent_len;
  bool in_agents;        /* the last record was a User-agent line */
  unsigned char group;   /* ROBOTS_FOR_* of the current group; 0 before any */
  unsigned char found;   /* ROBOTS_FOR_* of all groups seen */
} robots_parser;

static void robots_line(robots_parser *p, const char *line, size_t n) {
  const char *hash = memchr(line, '#', n);
  if (hash) n = (size_t)(hash - line);
  const char *colon = memchr(line, ':', n);
  if (!colon) return;
  const char *k = line, *ke = colon, *v = colon + 1, *ve = line + n;
  while (k < ke && robots_space(*k)) k++;
  while (ke > k && robots_space(ke[-1])) ke--;
  while (v < ve && robots_space(*v)) v++;
  while (ve > v && robots_space(ve[-1])) ve--;
  size_t kn = (size_t)(ke - k), vn = (size_t)(ve - v);

  if (robots_key(k, kn, "user-agent")) {
    /* Consecutive User-agent lines share the group that follows them. */
    if (!p->in_agents) p->group = 0;
    p->in_agents = true;
    size_t t = robots_token(v, vn);
    if (vn == 1 && v[0] == '*') p->group |= ROBOTS_FOR_STAR;
    else if (t && t == p->agent_len && strncasecmp(v, p->agent, t) == 0) p->group |= ROBOTS_FOR_AGENT;
    p->found |= p->group;
  } else if (robots_key(k, kn, "allow") || robots_key(k, kn, "disallow")) {
    p->in_agents = false;
    /* An empty value is no rule: "Disallow:" allows everything. */
    if (p->group && vn) robots_add_rule(p->r, robots_key(k, kn, "allow"), v, vn, p->group);
  } else if (robots_key(k, kn, "crawl-delay")) {
    p->in_agents = false;
    double secs = robots_seconds(v, vn);
    for (int who = ROBOTS_FOR_AGENT; who <= ROBOTS_FOR_STAR; who++)
      if ((p->group & who) && secs > p->r->delay[who]) p->r->delay[who] = secs;
  } else if (robots_key(k, kn, "sitemap")) {
    if (vn) robots_add_sitemap(p->r, v, vn);  /* not part of any group */
  }
}

static robots *robots_new(void) {
  robots *r = calloc(1, sizeof *r);
  if (r) r->delay[0] = r->delay[ROBOTS_FOR_AGENT] = r->delay[ROBOTS_FOR_STAR] = -1;
  return r;
}

robots *robots_parse(const char *body, size_t len, const char *agent) {
  robots *r = robots_new();
  if (!r) return NULL;
  if (len > ROBOTS_MAX_BYTES) {
    bool cut = body[ROBOTS_MAX_BYTES] != '\n' && body[ROBOTS_MAX_BYTES] != '\r';
    len = ROBOTS_MAX_BYTES;
    while (cut && len && body[len - 1] != '\n' && body[len - 1] != '\r') len--;
  }
  size_t i = len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  robots_parser p = {r, agent ? agent : "", 0, false, 0, 0};
  p.agent_len = robots_token(p.agent, strlen(p.agent));
  while (i < len) {
    size_t j = i;
    while (j < len && body[j] != '\n' && body[j] != '\r') j++;
    robots_line(&p, body + i, j - i);
    i = j + 1;
  }
  /* The crawler's own groups replace the "*" ones entirely. */
  unsigned char keep = (p.found & ROBOTS_FOR_AGENT) ? ROBOTS_FOR_AGENT : ROBOTS_FOR_STAR;
  size_t n = 0;
  for (size_t k = 0; k < r->n_rules; k++)
    if (r->rules[k].who & keep) r->rules[n++] = r->rules[k];
  r->n_rules = n;
  r->delay[0] = r->delay[keep];
  if (r->failed) {
    robots_free(r);
    return NULL;
  }
  return r;
}

robots *robots_from_status(long status, const char *body, size_t len, const char *agent) {
  if (status >= 200 && status <= 299) return robots_parse(body, len, agent);
  robots *r = robots_new();
  if (r) r->disallow_all = !(status >= 300 && status <= 499);
  return r;
}

size_t robots_size(const robots *r) {
  return sizeof *r + r->text.cap + r->cap_rules * sizeof *r->rules + r->cap_sitemaps * sizeof *r->sitemaps;
}

void robots_free(robots *r) {
  if (!r) return;
  buf_free(&r->text);
  free(r->rules);
  free(r->sitemaps);
  free(r);
}

/* Does pattern p (with '*' wildcards) match a prefix of s, or all of s when
 * anchored? Greedy, backing up to the last '*' on a mismatch, which is
 * enough for patterns whose only operator is '*'. */
static bool robots_match(const char *p, size_t m, bool anchored, const char *s, size_t n) {
  size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
  for (;;) {
    if (pi == m && (!anchored || si == n)) return true;
    if (pi < m && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (pi < m && si < n && p[pi] == s[si]) {
      pi++;
      si++;
    } else if (star != SIZE_MAX && mark < n) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
}

bool robots_allowed(const robots *r, const char *path_and_query) {
  const char *path = *path_and_query ? path_and_query : "/";
  size_t plen = strcspn(path, "?");
  if (plen == 11 && strncmp(path, "/robots.txt", 11) == 0) return true;
  if (r->disallow_all) return false;
  if (!r->n_rules) return true;
  buf norm = BUF_INIT;
  robots_normalize_path(path, strlen(path), &norm);
  bool allowed = !norm.failed;
  size_t best = 0;
  bool matched = false;
  for (size_t i = 0; i < r->n_rules && !norm.failed; i++) {
    const robots_rule *rule = &r->rules[i];
    if (matched && (rule->weight < best || (rule->weight == best && (!rule->allow || allowed)))) continue;
    if (robots_match(r->text.data + rule->off, rule->len, rule->anchored, norm.data, norm.len)) {
      matched = true;
      best = rule->weight;
      allowed = rule->allow;
    }
  }
  buf_free(&norm);
  return allowed;
}

double robots_crawl_delay(const robots *r) { return r->delay[0]; }

size_t robots_sitemap_count(const robots *r) { return r->n_sitemaps; }

const char *robots_sitemap(const robots *r, size_t i) {
  return i < r->n_sitemaps ? r->text.data + r->sitemaps[i] : NULL;
}

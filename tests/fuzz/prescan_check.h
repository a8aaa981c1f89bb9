/* prescan_check.h — the differential check of the parse fast path, shared by
 * tests/c/test_prescan*.c and tests/fuzz/fuzz_prescan.c: a document parsed
 * in full (DOM_PRESCAN_OFF) and through the fast path must give the same
 * serialization (serialize_node of the document) and the same dump, which
 * also shows what serialization hides (node types, namespaces, attribute
 * namespaces, doctype and quirks mode, parse flags, parent links). The fast
 * path is driven by the prescan and also by bodies proposed wrongly on
 * purpose, which must fall back and still give the same tree. */
#ifndef GLEAN_PRESCAN_CHECK_H
#define GLEAN_PRESCAN_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dom.h"
#include "prescan.h"
#include "serialize.h"

static void check_dump_text(buf *out, const char *s) {
  for (; *s; s++) {
    if (*s == '\\') buf_puts(out, "\\\\");
    else if (*s == '\n') buf_puts(out, "\\n");
    else buf_putc(out, *s);
  }
}

static void check_dump_node(buf *out, const GumboNode *n, int depth) {
  char line[160];
  snprintf(line, sizeof line, "%*s%d f%x ", depth > 60 ? 60 : depth, "", (int)n->type, (unsigned)n->parse_flags);
  buf_puts(out, line);
  switch (n->type) {
    case GUMBO_NODE_DOCUMENT: {
      const GumboDocument *d = &n->v.document;
      snprintf(line, sizeof line, "doctype=%d quirks=%d ", d->has_doctype, (int)d->doc_type_quirks_mode);
      buf_puts(out, line);
      buf_puts(out, d->name ? d->name : "(null)");
      buf_puts(out, " | ");
      buf_puts(out, d->public_identifier ? d->public_identifier : "(null)");
      buf_puts(out, " | ");
      buf_puts(out, d->system_identifier ? d->system_identifier : "(null)");
      break;
    }
    case GUMBO_NODE_ELEMENT: case GUMBO_NODE_TEMPLATE: {
      const GumboElement *e = &n->v.element;
      snprintf(line, sizeof line, "ns%d tag%d <", (int)e->tag_namespace, (int)e->tag);
      buf_puts(out, line);
      buf_puts(out, dom_tag_name(n));
      buf_putc(out, '>');
      for (unsigned i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *a = e->attributes.data[i];
        snprintf(line, sizeof line, " a%d:", (int)a->attr_namespace);
        buf_puts(out, line);
        check_dump_text(out, a->name);
        buf_puts(out, "=\"");
        check_dump_text(out, a->value);
        buf_putc(out, '"');
      }
      break;
    }
    default:
      buf_putc(out, '"');
      check_dump_text(out, n->v.text.text);
      buf_putc(out, '"');
      break;
  }
  buf_putc(out, '\n');
}

/* Pre-order by parent links (documents may be deep). */
static void check_dump(const GumboNode *root, buf *out) {
  const GumboNode *n = root;
  int depth = 0;
  for (;;) {
    check_dump_node(out, n, depth);
    const GumboVector *kids = dom_children(n);
    if (kids) {
      for (unsigned i = 0; i < kids->length; i++) {
        const GumboNode *c = kids->data[i];
        if (c->parent != n || c->index_within_parent != i) buf_puts(out, "!! broken parent link\n");
      }
    }
    if (kids && kids->length) {
      n = kids->data[0];
      depth++;
      continue;
    }
    for (;;) {
      if (n == root) return;
      const GumboNode *parent = n->parent;
      const GumboVector *siblings = dom_children(parent);
      if (n->index_within_parent + 1 < siblings->length) {
        n = siblings->data[n->index_within_parent + 1];
        break;
      }
      n = parent;
      depth--;
    }
  }
}

/* Serialization, then the dump; or the refusal message. */
static void check_render(const dom_doc *d, const char *err, buf *out) {
  buf_reset(out);
  if (!d) {
    buf_puts(out, "refused: ");
    buf_puts(out, err);
    return;
  }
  serialize_node(dom_root(d), true, out);
  buf_puts(out, "\n----\n");
  buf_puts(out, dom_charset(d));
  buf_putc(out, '\n');
  check_dump(dom_root(d), out);
}

typedef struct check_totals {
  size_t docs, used, fell_back, bodies, bytes, skipped;
} check_totals;

/* Compares a full parse (want, rendered by the caller) with a fast-path
 * parse. Returns 0 when identical, else 1 with the first difference on
 * stderr, labelled. */
static int check_against(const char *label, const buf *want, const char *bytes, size_t len, dom_prescan_mode mode,
                         const prescan_body *proposed, size_t n, check_totals *totals) {
  char err[256] = "";
  dom_doc *d = proposed ? dom_parse_proposed(bytes, len, NULL, proposed, n, err, sizeof err)
                        : dom_parse_mode(bytes, len, NULL, mode, err, sizeof err);
  buf got = BUF_INIT;
  check_render(d, err, &got);
  if (d && totals) {
    dom_parse_stats st = dom_stats(d);
    totals->docs++;
    totals->used += st.prescan_used;
    totals->fell_back += st.fell_back;
    totals->bodies += st.bodies;
    totals->bytes += len;
    totals->skipped += st.bytes_skipped;
  }
  dom_free(d);
  int rc = 0;
  if (got.len != want->len || memcmp(buf_str(&got), buf_str(want), got.len) != 0) {
    const char *a = buf_str(want), *b = buf_str(&got);
    size_t i = 0;
    while (i < want->len && i < got.len && a[i] == b[i]) i++;
    size_t from = i > 80 ? i - 80 : 0;
    fprintf(stderr, "%s: trees differ at byte %zu\n  full: %.160s\n  fast: %.160s\n", label, i, a + from, b + from);
    rc = 1;
  }
  buf_free(&got);
  return rc;
}

/* ---- proposals that are wrong on purpose ------------------------------------ */

static uint64_t check_rand(uint64_t *state) {
  uint64_t x = (*state += UINT64_C(0x9E3779B97F4A7C15));
  x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
  return x ^ (x >> 31);
}

static int check_name_at(const char *p, const char *end, const char *name, size_t n) {
  if ((size_t)(end - p) < n + 1) return 0;
  for (size_t i = 0; i < n; i++)
    if ((p[i] | 0x20) != name[i]) return 0;
  char c = p[n];
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '/' || c == '>';
}

/* What a naive prescan would propose: after every "<script" or "<style"
 * (any context: comments, attributes, <svg>, <textarea>...) the bytes from
 * the next '>' to the next end tag, regardless of the tokenizer's state. */
static size_t check_naive(const char *text, size_t len, prescan_body *out, size_t cap) {
  const char *end = text + len, *p = text;
  size_t n = 0;
  while (n < cap && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
    p++;
    prescan_kind kind;
    const char *name;
    size_t nlen;
    if (check_name_at(p, end, "script", 6)) kind = PRESCAN_SCRIPT, name = "script", nlen = 6;
    else if (check_name_at(p, end, "style", 5)) kind = PRESCAN_STYLE, name = "style", nlen = 5;
    else continue;
    const char *gt = memchr(p, '>', (size_t)(end - p));
    if (!gt) break;
    const char *body = gt + 1, *stop = body;
    while (stop < end) {
      const char *lt = memchr(stop, '<', (size_t)(end - stop));
      if (!lt) {
        stop = end;
        break;
      }
      if (lt + 1 < end && lt[1] == '/' && check_name_at(lt + 2, end, name, nlen)) {
        stop = lt;
        break;
      }
      stop = lt + 1;
    }
    if (stop > body) out[n++] = (prescan_body){(size_t)(body - text), (size_t)(stop - body), kind};
    p = stop;
  }
  return n;
}

/* The prescan's own proposals, some moved by a byte or two, given the other
 * kind, dropped, or overlapping. */
static size_t check_perturbed(const char *text, size_t len, uint64_t seed, prescan_body *out, size_t cap) {
  prescan_result ps;
  prescan_scan(text, len, 1L << 30, 1, &ps);
  size_t n = 0;
  for (size_t i = 0; i < ps.n && n < cap; i++) {
    prescan_body b = ps.bodies[i];
    uint64_t r = check_rand(&seed);
    switch (r % 8) {
      case 4: b.start = b.start + (r >> 8) % 5 >= 2 ? b.start + (r >> 8) % 5 - 2 : 0; break;
      case 5: b.len = b.len + (r >> 8) % 5 >= 2 ? b.len + (r >> 8) % 5 - 2 : 0; break;
      case 6: b.kind = b.kind == PRESCAN_SCRIPT ? PRESCAN_STYLE : PRESCAN_SCRIPT; break;
      case 7: continue;
      default: break;
    }
    if (b.start > len) b.start = len;
    if (b.len > len - b.start) b.len = len - b.start;
    out[n++] = b;
  }
  prescan_free(&ps);
  return n;
}

/* Everything for one document; returns the number of differences. */
static int check_document(const char *label, const char *bytes, size_t len, check_totals *autos,
                          check_totals *always) {
  char err[256] = "";
  dom_doc *full = dom_parse_mode(bytes, len, NULL, DOM_PRESCAN_OFF, err, sizeof err);
  buf want = BUF_INIT;
  check_render(full, err, &want);
  int failures = 0;
  char what[300];
  snprintf(what, sizeof what, "%s (auto)", label);
  failures += check_against(what, &want, bytes, len, DOM_PRESCAN_AUTO, NULL, 0, autos);
  snprintf(what, sizeof what, "%s (always)", label);
  failures += check_against(what, &want, bytes, len, DOM_PRESCAN_ALWAYS, NULL, 0, always);

  /* Proposals are offsets into the text Gumbo parses, which is bytes only
   * for valid UTF-8 without a BOM; otherwise they are simply wrong ones. */
  size_t cap = 64;
  prescan_body *proposed = malloc(cap * sizeof *proposed);
  if (proposed) {
    size_t n = check_naive(bytes, len, proposed, cap);
    snprintf(what, sizeof what, "%s (naive proposals)", label);
    if (n) failures += check_against(what, &want, bytes, len, DOM_PRESCAN_ALWAYS, proposed, n, NULL);
    uint64_t seed = len;
    for (size_t i = 0; i < len; i++) seed = (seed ^ (unsigned char)bytes[i]) * UINT64_C(0x100000001B3);
    n = check_perturbed(bytes, len, seed, proposed, cap);
    snprintf(what, sizeof what, "%s (perturbed proposals)", label);
    if (n) failures += check_against(what, &want, bytes, len, DOM_PRESCAN_ALWAYS, proposed, n, NULL);
    free(proposed);
  }
  dom_free(full);
  buf_free(&want);
  return failures;
}

#endif

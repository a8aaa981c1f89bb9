/* ldom.c — documents and nodes for Lua: glean.html(), Document and Node
 * userdata, and the compiled-selector cache.
 *
 * Lifetimes: a Document owns the parsed tree. A Node is a small userdata
 * holding a GumboNode pointer whose user value is its Document, so the
 * tree outlives every reachable node. doc:close() (or <close>) frees the
 * tree early; nodes of a closed document raise an error instead of reading
 * freed memory. Nodes are made only when Lua asks for them: parsing copies
 * nothing into Lua up front. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dom.h"
#include "encoding.h"
#include "lglean.h"
#include "select.h"
#include "serialize.h"
#include "text.h"
#include "url.h"

#define LDOM_DOCUMENT "glean.Document"
#define LDOM_NODE "glean.Node"
#define LDOM_SELECTOR "glean.Selector"
#define LDOM_SELECTOR_CACHE "glean.selector_cache"
#define LDOM_SELECTOR_CACHE_SIZE "glean.selector_cache_size"
/* The cache's bounds, whatever the memory limit: entries, bytes of
 * compiled selectors, and the largest one it keeps. */
#define LDOM_SELECTOR_CACHE_MAX 1024
#define LDOM_SELECTOR_CACHE_BYTES ((size_t)4 << 20)
#define LDOM_SELECTOR_CACHE_ONE (LDOM_SELECTOR_CACHE_BYTES / 4)

typedef struct ldom_doc {
  dom_doc *dom;   /* NULL once closed */
  size_t charged; /* the tree's bytes, counted against the memory limit */
  char *url;      /* the document's URL, or NULL */
  char *base;     /* base URL for links: <base href> resolved, computed on first use */
  bool base_done;
} ldom_doc;

typedef struct ldom_node {
  GumboNode *node;
  ldom_doc *doc;
} ldom_node;

typedef struct ldom_selector {
  sel_list *sel;
} ldom_selector;

typedef struct ldom_cache_size {
  size_t count, bytes;
} ldom_cache_size;

/* ---- documents ------------------------------------------------------------ */

static void ldom_doc_release(lua_State *L, ldom_doc *d) {
  lglean_uncharge(L, d->charged);
  d->charged = 0;
  dom_free(d->dom);
  d->dom = NULL;
  free(d->url);
  d->url = NULL;
  free(d->base);
  d->base = NULL;
}

static ldom_doc *ldom_check_doc(lua_State *L, int idx) {
  ldom_doc *d = luaL_checkudata(L, idx, LDOM_DOCUMENT);
  if (!d->dom) luaL_error(L, "document is closed");
  return d;
}

static const char *ldom_opt_string(lua_State *L, int opts, const char *key) {
  const char *s = NULL;
  if (lua_getfield(L, opts, key) != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "bad option '%s' to 'html' (string expected, got %s)", key, luaL_typename(L, -1));
    s = lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  return s;
}

static lua_Integer ldom_opt_count(lua_State *L, int opts, const char *key) {
  lua_Integer n = 0;
  if (lua_getfield(L, opts, key) != LUA_TNIL) {
    int ok;
    n = lua_tointegerx(L, -1, &ok);
    if (!ok || n <= 0) luaL_error(L, "bad option '%s' to 'html' (positive integer expected)", key);
  }
  lua_pop(L, 1);
  return n;
}

ldom_doc *ldom_push_document(lua_State *L) {
  ldom_doc *d = lua_newuserdatauv(L, sizeof *d, 1);
  memset(d, 0, sizeof *d);
  luaL_setmetatable(L, LDOM_DOCUMENT);
  return d;
}

/* A tree parsed with the state's allocator was counted as it was made; one
 * parsed elsewhere (a fetch worker's, bounded by its max_bytes) is charged
 * now, in full. */
void ldom_set_document(lua_State *L, ldom_doc *d, dom_doc *dom, const char *url) {
  d->dom = dom; /* owned from here: freed by __gc even if what follows raises */
  size_t charge = mem_same(dom_allocator(dom), lglean_mem(L)) ? 0 : dom_size(dom);
  if (lglean_charge(L, charge) != 0) {
    ldom_doc_release(L, d);
    lua_pushliteral(L, "not enough memory");
    lua_error(L);
  }
  d->charged = charge;
  if (url && !(d->url = strdup(url))) luaL_error(L, "not enough memory");
}

/* dom_parse's message when it ran out of memory, the limit included. */
static bool ldom_nomem(const char *err) { return strncmp(err, "not enough memory", 17) == 0; }

/* Under a time limit, a parse is charged a step a byte before it starts
 * (one C call the budget cannot stop), and the bounds that keep it linear
 * in its input may not be raised: a max_depth in the millions makes Gumbo
 * quadratic. */
static void ldom_check_parse(lua_State *L, size_t len, const dom_options *opts) {
  if (!llimits_timed(L)) return;
  if (opts->max_bytes > DOM_DEFAULT_MAX_BYTES || opts->max_depth > DOM_DEFAULT_MAX_DEPTH ||
      opts->max_attributes > DOM_DEFAULT_MAX_ATTRIBUTES)
    luaL_error(L, "html: max_bytes, max_depth and max_attributes may not be raised over %d MB, %d and %d under a time "
               "limit (--time-limit 0 --time-limit-seconds 0 lift this)",
               (int)(DOM_DEFAULT_MAX_BYTES >> 20), DOM_DEFAULT_MAX_DEPTH, DOM_DEFAULT_MAX_ATTRIBUTES);
  llimits_spend(L, (lua_Integer)len);
}

/* glean.charset(label) -> the encoding's canonical name ("latin1" ->
 * "windows-1252"), or nil if the label is not one of the Encoding
 * Standard's. glean.html ignores a charset it does not know, as browsers
 * do an HTTP header's; a caller naming one checks it with this. */
static int ldom_charset(lua_State *L) {
  size_t len;
  const char *label = luaL_checklstring(L, 1, &len);
  const char *name = enc_lookup(label, len);
  if (name) lua_pushstring(L, name);
  else lua_pushnil(L);
  return 1;
}

/* glean.html(bytes [, opts]) -> Document */
static int ldom_html(lua_State *L) {
  size_t len;
  const char *bytes = luaL_checklstring(L, 1, &len);
  dom_options opts = {0};
  const char *url = NULL;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    url = ldom_opt_string(L, 2, "url");
    opts.charset = ldom_opt_string(L, 2, "charset");
    opts.max_bytes = (size_t)ldom_opt_count(L, 2, "max_bytes");
    lua_Integer depth = ldom_opt_count(L, 2, "max_depth");
    opts.max_depth = depth > 1 << 30 ? 1 << 30 : (int)depth;
    lua_Integer attributes = ldom_opt_count(L, 2, "max_attributes");
    opts.max_attributes = attributes > 1 << 30 ? 1 << 30 : (int)attributes;
  }
  ldom_check_parse(L, len, &opts);
  /* Made before the tree, so that no error can come between the tree's
   * making and its owner's. */
  ldom_doc *d = ldom_push_document(L);
  char err[256];
  opts.mem = lglean_mem(L);
  dom_doc *dom = dom_parse(bytes, len, &opts, err, sizeof err);
  if (!dom && ldom_nomem(err) && llimits_limited(L)) {
    /* Lua's collector does not see what trees hold: dropped documents may
     * be what stands in the way. Lua does the same for its own refusals. */
    lua_gc(L, LUA_GCCOLLECT);
    dom = dom_parse(bytes, len, &opts, err, sizeof err);
  }
  if (!dom) return luaL_error(L, "html: %s", err);
  ldom_set_document(L, d, dom, url);
  return 1;
}

static int ldom_doc_close(lua_State *L) {
  ldom_doc *d = luaL_checkudata(L, 1, LDOM_DOCUMENT);
  ldom_doc_release(L, d);
  return 0;
}

/* ---- nodes ---------------------------------------------------------------- */

/* Pushes the Node for n of the document at stack index doc_idx (a
 * Document userdata, or a Node whose user value is one). One element is
 * one Node while any reference to it lives, so that nodes work as table
 * keys and in sets: the Document's user value is a weak-valued table of its
 * nodes by element, made when the first is asked for. */
static void ldom_push_node(lua_State *L, GumboNode *n, ldom_doc *d, int doc_idx) {
  if (!n) {
    lua_pushnil(L);
    return;
  }
  doc_idx = lua_absindex(L, doc_idx);
  if (luaL_testudata(L, doc_idx, LDOM_DOCUMENT)) lua_pushvalue(L, doc_idx);
  else lua_getiuservalue(L, doc_idx, 1);
  int doc = lua_gettop(L);
  if (lua_getiuservalue(L, doc, 1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 4);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, doc, 1);
  }
  int nodes = lua_gettop(L);
  if (lua_rawgetp(L, nodes, n) == LUA_TNIL) {
    lua_pop(L, 1);
    ldom_node *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->node = n;
    u->doc = d;
    luaL_setmetatable(L, LDOM_NODE);
    lua_pushvalue(L, doc);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, nodes, n);
  }
  lua_replace(L, doc);
  lua_settop(L, doc);
}

/* Either a Node or a Document (meaning its document node) at idx. */
static GumboNode *ldom_check_target(lua_State *L, int idx, ldom_doc **doc) {
  ldom_node *u = luaL_testudata(L, idx, LDOM_NODE);
  if (u) {
    if (!u->doc->dom) luaL_error(L, "node of a closed document");
    *doc = u->doc;
    return u->node;
  }
  ldom_doc *d = luaL_testudata(L, idx, LDOM_DOCUMENT);
  if (!d) luaL_typeerror(L, idx, "glean node or document");
  if (!d->dom) luaL_error(L, "document is closed");
  *doc = d;
  return dom_root(d->dom);
}

static ldom_node *ldom_check_node(lua_State *L, int idx) {
  ldom_node *u = luaL_checkudata(L, idx, LDOM_NODE);
  if (!u->doc->dom) luaL_error(L, "node of a closed document");
  return u;
}

/* ---- selectors ------------------------------------------------------------ */

static int ldom_selector_gc(lua_State *L) {
  ldom_selector *s = luaL_checkudata(L, 1, LDOM_SELECTOR);
  sel_free(s->sel);
  s->sel = NULL;
  return 0;
}

/* Frees every cached selector now and starts an empty cache: the garbage
 * collector, which does not see their memory, might not free them for a
 * long time. No compiled selector is in use while one is being compiled. */
static void ldom_cache_clear(lua_State *L, ldom_cache_size *size) {
  lua_getfield(L, LUA_REGISTRYINDEX, LDOM_SELECTOR_CACHE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    ldom_selector *s = lua_touserdata(L, -1);
    sel_free(s->sel);
    s->sel = NULL;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LDOM_SELECTOR_CACHE);
  size->count = size->bytes = 0;
}

/* Compiled selectors are cached per Lua state by their text, within the
 * cache's bounds: a full cache is emptied, which keeps scripts that build
 * selectors dynamically from growing it without bound. A selector too big
 * to keep is freed when the calling function returns. Compiling and the
 * compiled selectors count against the memory limit (lglean_mem). */
static const sel_list *ldom_compile(lua_State *L, int idx) {
  size_t len;
  const char *css = luaL_checklstring(L, idx, &len);
  idx = lua_absindex(L, idx);
  lua_getfield(L, LUA_REGISTRYINDEX, LDOM_SELECTOR_CACHE);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    ldom_selector *s = lua_touserdata(L, -1);
    lua_pop(L, 2);
    return s->sel; /* still referenced by the cache table in the registry */
  }
  lua_pop(L, 2);
  ldom_selector *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->sel = NULL;
  luaL_setmetatable(L, LDOM_SELECTOR);
  char err[256];
  if (!(s->sel = sel_compile(css, len, lglean_mem(L), err, sizeof err)))
    return (luaL_error(L, "invalid selector \"%s\": %s", css, err), NULL);
  size_t bytes = sel_size(s->sel);
  if (bytes > LDOM_SELECTOR_CACHE_ONE) {
    lua_toclose(L, -1);
    return s->sel;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, LDOM_SELECTOR_CACHE_SIZE);
  ldom_cache_size *size = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (size->count >= LDOM_SELECTOR_CACHE_MAX || size->bytes + bytes > LDOM_SELECTOR_CACHE_BYTES)
    ldom_cache_clear(L, size);
  lua_getfield(L, LUA_REGISTRYINDEX, LDOM_SELECTOR_CACHE);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 2);
  size->count++;
  size->bytes += bytes;
  return s->sel;
}

typedef struct {
  lua_State *L;
  ldom_doc *doc;
  int doc_idx;
  lua_Integer n;
} ldom_collect;

static bool ldom_collect_one(GumboNode *el, void *ud) {
  ldom_collect *c = ud;
  ldom_push_node(c->L, el, c->doc, c->doc_idx);
  lua_rawseti(c->L, -2, ++c->n);
  return true;
}

static bool ldom_first_one(GumboNode *el, void *ud) {
  *(GumboNode **)ud = el;
  return false;
}

/* Matching in adapter code spends the call's time budget, a step of the
 * selector engine for an instruction: a selector such as ":has(~ b)" takes
 * time quadratic in the page, all inside one instruction. The engine asks
 * the call's clock (and whether it was interrupted) every SEL_STOP_STEPS
 * steps, so the seconds limit holds with no instruction limit too. Outside
 * adapter code there is no budget. */
typedef struct ldom_budget {
  sel_budget sel, *limit;  /* limit: &sel, or NULL for none */
  lua_Integer start;
} ldom_budget;

static bool ldom_budget_stop(void *L) { return llimits_expired(L); }

static void ldom_budget_begin(lua_State *L, ldom_budget *b) {
  b->start = llimits_left(L);
  b->sel = (sel_budget){b->start >= 0 ? (uint64_t)b->start : 0, ldom_budget_stop, L};
  b->limit = b->start >= 0 ? &b->sel : NULL;
}

/* Takes what matching spent off the budget; raises the time limit's error
 * if it ran out (the matching's answer is then incomplete). */
static void ldom_budget_end(lua_State *L, const ldom_budget *b) {
  if (b->limit) llimits_spend(L, b->sel.steps ? b->start - (lua_Integer)b->sel.steps : b->start);
}

/* target:select(css) -> array of elements in document order */
static int ldom_select(lua_State *L) {
  ldom_doc *d;
  GumboNode *root = ldom_check_target(L, 1, &d);
  const sel_list *sel = ldom_compile(L, 2);
  lua_newtable(L);
  ldom_collect c = {L, d, 1, 0};
  luaL_checkstack(L, 4, NULL);
  ldom_budget b;
  ldom_budget_begin(L, &b);
  sel_select(sel, root, ldom_collect_one, &c, b.limit);
  ldom_budget_end(L, &b);
  return 1;
}

/* target:select_one(css) -> first element or nil */
static int ldom_select_one(lua_State *L) {
  ldom_doc *d;
  GumboNode *root = ldom_check_target(L, 1, &d);
  const sel_list *sel = ldom_compile(L, 2);
  GumboNode *first = NULL;
  ldom_budget b;
  ldom_budget_begin(L, &b);
  sel_select(sel, root, ldom_first_one, &first, b.limit);
  ldom_budget_end(L, &b);
  ldom_push_node(L, first, d, 1);
  return 1;
}

static int ldom_matches(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  const sel_list *sel = ldom_compile(L, 2);
  ldom_budget b;
  ldom_budget_begin(L, &b);
  bool yes = sel_matches(sel, u->node, u->node, b.limit);
  ldom_budget_end(L, &b);
  lua_pushboolean(L, yes);
  return 1;
}

/* node:closest(css): the node itself or its nearest ancestor that matches */
static int ldom_closest(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  const sel_list *sel = ldom_compile(L, 2);
  GumboNode *n = u->node;
  ldom_budget b;
  ldom_budget_begin(L, &b);
  while (n && !sel_matches(sel, n, u->node, b.limit) && (!b.limit || b.sel.steps)) n = dom_parent_element(n);
  ldom_budget_end(L, &b);
  ldom_push_node(L, n, u->doc, 1);
  return 1;
}

/* ---- text, markup, attributes --------------------------------------------- */

/* The text's walk is charged a step a node (it can visit many to find
 * little text) and one each LGLEAN_STEP_BYTES bytes it copies. */

typedef enum { LDOM_TEXT_SQUASHED, LDOM_TEXT_RAW, LDOM_TEXT_READER } ldom_text_kind;

/* What a text leaves out: the elements matching a selector, matched in
 * the call's time budget (whose running out ends the walk). */
typedef struct ldom_skip {
  text_skip skip;
  const sel_list *sel;
  const GumboNode *scope;
  ldom_budget budget;
} ldom_skip;

static bool ldom_skip_match(const GumboNode *el, void *ud) {
  ldom_skip *s = ud;
  bool yes = sel_matches(s->sel, el, s->scope, s->budget.limit);
  if (s->budget.limit && !s->budget.sel.steps) s->skip.stop = true;
  return yes;
}

/* target:text([opts]) and its kin: the target's text of the kind asked,
 * with the options in the table at 2, if any: skip (a selector of what to
 * leave out), one_line (for the reader's text). Charges its walk after the
 * push, so that a budget run out frees the buffer first. */
static int ldom_text_of(lua_State *L, ldom_text_kind kind) {
  ldom_doc *d;
  GumboNode *n = ldom_check_target(L, 1, &d);
  int opts = lua_isnoneornil(L, 2) ? 0 : 2;
  ldom_skip skip = {{NULL, NULL, false}, NULL, n, {{0, NULL, NULL}, NULL, 0}};
  bool one_line = false;
  if (opts) {
    luaL_checktype(L, opts, LUA_TTABLE);
    if (lua_getfield(L, opts, "skip") != LUA_TNIL) {
      skip.sel = ldom_compile(L, lua_gettop(L));
      skip.skip = (text_skip){ldom_skip_match, &skip, false};
    }
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "one_line") != LUA_TNIL) {
      if (kind != LDOM_TEXT_READER) luaL_error(L, "bad option 'one_line' (inner_text's, not text's)");
      luaL_checktype(L, -1, LUA_TBOOLEAN);
      one_line = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
  }
  ldom_budget_begin(L, &skip.budget);
  buf b = BUF_WITH(lglean_mem(L));
  size_t visited = kind == LDOM_TEXT_READER ? text_inner(n, &skip.skip, one_line, &b) : text_content(n, &skip.skip, &b);
  size_t bytes = b.len;
  if (kind == LDOM_TEXT_SQUASHED && b.data) b.len = text_squash(b.data, b.len);
  lglean_push_buf(L, &b);
  if (skip.sel) ldom_budget_end(L, &skip.budget);
  llimits_spend(L, (lua_Integer)(visited + bytes / LGLEAN_STEP_BYTES));
  return 1;
}

/* target:text([opts]) -> textContent with white space collapsed and trimmed */
static int ldom_text(lua_State *L) { return ldom_text_of(L, LDOM_TEXT_SQUASHED); }

/* target:raw_text([opts]) -> textContent as is */
static int ldom_raw_text(lua_State *L) { return ldom_text_of(L, LDOM_TEXT_RAW); }

/* target:inner_text([opts]) -> the text as a reader sees it (text_inner) */
static int ldom_inner_text(lua_State *L) { return ldom_text_of(L, LDOM_TEXT_READER); }

/* node:own_text() -> the element's own text (its text children, not its
 * descendants'), white space collapsed and trimmed */
static int ldom_own_text(lua_State *L) {
  ldom_doc *d;
  GumboNode *n = ldom_check_target(L, 1, &d);
  const GumboVector *kids = dom_children(n);
  buf b = BUF_WITH(lglean_mem(L));
  for (unsigned i = 0; kids && i < kids->length; i++) {
    const GumboNode *c = kids->data[i];
    if (dom_is_text(c)) buf_puts(&b, c->v.text.text);
  }
  if (b.data) b.len = text_squash(b.data, b.len);
  lglean_push_buf(L, &b);
  llimits_spend(L, (lua_Integer)(kids ? kids->length : 0));
  return 1;
}

/* The node after n in document order within root's subtree, any type, not
 * entering template contents; NULL after the last. */
static GumboNode *ldom_next_node(GumboNode *n, const GumboNode *root) {
  const GumboVector *kids = n->type == GUMBO_NODE_TEMPLATE ? NULL : dom_children(n);
  if (kids && kids->length) return kids->data[0];
  for (; n != root && n->parent; n = n->parent) {
    const GumboVector *siblings = dom_children(n->parent);
    if (n->index_within_parent + 1 < siblings->length) return siblings->data[n->index_within_parent + 1];
    if (n->parent == root) return NULL;
  }
  return NULL;
}

static int ldom_text_nodes_next(lua_State *L) {
  ldom_doc *d;
  GumboNode *root = ldom_check_target(L, lua_upvalueindex(1), &d);
  GumboNode *n = lua_touserdata(L, lua_upvalueindex(2));
  lua_Integer steps = 0;
  do {
    n = ldom_next_node(n ? n : root, root);
    steps++;
  } while (n && !dom_is_text(n));
  llimits_spend(L, steps);
  lua_pushlightuserdata(L, n);
  lua_replace(L, lua_upvalueindex(2));
  if (!n) return 0;
  lua_pushstring(L, n->v.text.text);
  ldom_push_node(L, n->parent->type == GUMBO_NODE_DOCUMENT ? NULL : n->parent, d, lua_upvalueindex(1));
  return 2;
}

/* target:text_nodes() -> an iterator over the text nodes under target in
 * document order: each one's text, as is, and its parent element */
static int ldom_text_nodes(lua_State *L) {
  ldom_doc *d;
  ldom_check_target(L, 1, &d);
  lua_settop(L, 1);
  lua_pushlightuserdata(L, NULL);
  lua_pushcclosure(L, ldom_text_nodes_next, 2);
  return 1;
}

static int ldom_serialize(lua_State *L, bool outer) {
  ldom_doc *d;
  GumboNode *n = ldom_check_target(L, 1, &d);
  buf b = BUF_WITH(lglean_mem(L));
  serialize_node(n, outer, &b);
  lglean_push_buf(L, &b);
  return 1;
}

static int ldom_html_outer(lua_State *L) { return ldom_serialize(L, true); }
static int ldom_html_inner(lua_State *L) { return ldom_serialize(L, false); }

static int ldom_attr(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  const char *name = luaL_checkstring(L, 2);
  const GumboAttribute *a = dom_attr_find(u->node, name);
  if (a) lua_pushstring(L, a->value);
  else lua_pushnil(L);
  return 1;
}

/* node:attrs() -> {name = value, ...} */
static int ldom_attrs(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  const GumboVector *attrs = &u->node->v.element.attributes;
  char scratch[256];
  lua_createtable(L, 0, (int)attrs->length);
  for (size_t i = 0; i < attrs->length; i++) {
    const GumboAttribute *a = attrs->data[i];
    lua_pushstring(L, a->value);
    lua_setfield(L, -2, dom_attr_qname(a, scratch, sizeof scratch));
  }
  return 1;
}

static int ldom_tag(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  lua_pushstring(L, dom_tag_name(u->node));
  return 1;
}

/* The base URL for the document's links: the first <base href>, resolved
 * against the document URL, else the document URL. */
static const char *ldom_base(ldom_doc *d) {
  if (d->base_done) return d->base ? d->base : d->url;
  d->base_done = true;
  GumboNode *root = dom_root(d->dom);
  for (GumboNode *el = dom_next_element(root, root); el; el = dom_next_element(el, root)) {
    if (el->v.element.tag != GUMBO_TAG_BASE || el->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) continue;
    const GumboAttribute *href = dom_attr_find(el, "href");
    if (!href) continue;
    buf b = BUF_INIT;
    if (url_resolve(d->url, href->value, &b) == 0 && !b.failed) d->base = strdup(buf_str(&b));
    buf_free(&b);
    break;
  }
  return d->base ? d->base : d->url;
}

/* node:absurl([attr]) -> the attribute's value as an absolute URL, or nil.
 * attr defaults to href, or src for elements that have no href. */
static int ldom_absurl(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  const char *name = luaL_optstring(L, 2, NULL);
  const GumboAttribute *a = name ? dom_attr_find(u->node, name) : dom_attr_find(u->node, "href");
  if (!a && !name) a = dom_attr_find(u->node, "src");
  if (!a) {
    lua_pushnil(L);
    return 1;
  }
  buf b = BUF_WITH(lglean_mem(L));
  if (url_resolve(ldom_base(u->doc), a->value, &b) != 0) {
    buf_free(&b);
    lua_pushnil(L);
    return 1;
  }
  lglean_push_buf(L, &b);
  return 1;
}

/* ---- navigation ----------------------------------------------------------- */

static int ldom_parent(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  ldom_push_node(L, dom_parent_element(u->node), u->doc, 1);
  return 1;
}

static int ldom_next(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  ldom_push_node(L, dom_next_element_sibling(u->node), u->doc, 1);
  return 1;
}

static int ldom_prev(lua_State *L) {
  ldom_node *u = ldom_check_node(L, 1);
  ldom_push_node(L, dom_prev_element_sibling(u->node), u->doc, 1);
  return 1;
}

/* target:children() -> array of child elements */
static int ldom_children(lua_State *L) {
  ldom_doc *d;
  GumboNode *n = ldom_check_target(L, 1, &d);
  const GumboVector *kids = n->type == GUMBO_NODE_TEMPLATE ? NULL : dom_children(n);
  lua_newtable(L);
  lua_Integer i = 0;
  for (size_t k = 0; kids && k < kids->length; k++) {
    GumboNode *c = kids->data[k];
    if (!dom_is_element(c)) continue;
    ldom_push_node(L, c, d, 1);
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

/* doc:root() -> the <html> element */
static int ldom_root(lua_State *L) {
  ldom_doc *d = ldom_check_doc(L, 1);
  GumboNode *root = dom_root(d->dom);
  ldom_push_node(L, dom_next_element(root, root), d, 1);
  return 1;
}

static int ldom_node_tostring(lua_State *L) {
  ldom_node *u = luaL_checkudata(L, 1, LDOM_NODE);
  if (!u->doc->dom) lua_pushliteral(L, "glean.Node (closed)");
  else lua_pushfstring(L, "glean.Node <%s>", dom_tag_name(u->node));
  return 1;
}

static int ldom_doc_tostring(lua_State *L) {
  ldom_doc *d = luaL_checkudata(L, 1, LDOM_DOCUMENT);
  lua_pushfstring(L, "glean.Document (%s)", d->dom ? (d->url ? d->url : "no url") : "closed");
  return 1;
}

/* doc.url, doc.charset, then methods */
static int ldom_doc_index(lua_State *L) {
  ldom_doc *d = luaL_checkudata(L, 1, LDOM_DOCUMENT);
  const char *key = luaL_checkstring(L, 2);
  if (strcmp(key, "url") == 0) {
    lua_pushstring(L, d->url);
    return 1;
  }
  if (strcmp(key, "charset") == 0) {
    if (d->dom) lua_pushstring(L, dom_charset(d->dom));
    else lua_pushnil(L);
    return 1;
  }
  if (strcmp(key, "stats") == 0 && d->dom) {
    /* How the parse went: whether the raw-text fast path was taken. */
    dom_parse_stats st = dom_stats(d->dom);
    lua_createtable(L, 0, 4);
    lua_pushboolean(L, st.prescan_used), lua_setfield(L, -2, "prescan_used");
    lua_pushboolean(L, st.fell_back), lua_setfield(L, -2, "fell_back");
    lua_pushinteger(L, (lua_Integer)st.bytes_skipped), lua_setfield(L, -2, "bytes_skipped");
    lua_pushinteger(L, (lua_Integer)st.bodies), lua_setfield(L, -2, "bodies");
    return 1;
  }
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "methods");
  lua_getfield(L, -1, key);
  return 1;
}

static const luaL_Reg ldom_shared_methods[] = {
  {"select", ldom_select},
  {"select_one", ldom_select_one},
  {"text", ldom_text},
  {"raw_text", ldom_raw_text},
  {"inner_text", ldom_inner_text},
  {"text_nodes", ldom_text_nodes},
  {"html", ldom_html_outer},
  {"inner_html", ldom_html_inner},
  {"children", ldom_children},
  {NULL, NULL},
};

static const luaL_Reg ldom_node_methods[] = {
  {"own_text", ldom_own_text},
  {"attr", ldom_attr},
  {"attrs", ldom_attrs},
  {"tag", ldom_tag},
  {"matches", ldom_matches},
  {"closest", ldom_closest},
  {"absurl", ldom_absurl},
  {"parent", ldom_parent},
  {"next", ldom_next},
  {"prev", ldom_prev},
  {NULL, NULL},
};

static const luaL_Reg ldom_doc_methods[] = {
  {"root", ldom_root},
  {"close", ldom_doc_close},
  {NULL, NULL},
};

void ldom_open(lua_State *L) {
  luaL_newmetatable(L, LDOM_DOCUMENT);
  lua_newtable(L);
  luaL_setfuncs(L, ldom_shared_methods, 0);
  luaL_setfuncs(L, ldom_doc_methods, 0);
  lua_setfield(L, -2, "methods");
  lua_pushcfunction(L, ldom_doc_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ldom_doc_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, ldom_doc_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, ldom_doc_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  luaL_newmetatable(L, LDOM_NODE);
  lua_newtable(L);
  luaL_setfuncs(L, ldom_shared_methods, 0);
  luaL_setfuncs(L, ldom_node_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ldom_node_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  luaL_newmetatable(L, LDOM_SELECTOR);
  lua_pushcfunction(L, ldom_selector_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, ldom_selector_gc);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);

  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LDOM_SELECTOR_CACHE);
  ldom_cache_size *size = lua_newuserdatauv(L, sizeof *size, 0);
  size->count = size->bytes = 0;
  lua_setfield(L, LUA_REGISTRYINDEX, LDOM_SELECTOR_CACHE_SIZE);

  lua_pushcfunction(L, ldom_html);
  lua_setfield(L, -2, "html");
  lua_pushcfunction(L, ldom_charset);
  lua_setfield(L, -2, "charset");
}

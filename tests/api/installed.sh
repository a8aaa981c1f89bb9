#!/usr/bin/env bash
# installed.sh embed|lua BUILD_DIR — glean as installed: `cmake --install`
# into a temporary prefix, then
#   embed  examples/embed built there through pkg-config (against
#          libglean.so and libglean.a) and run over the Coins2Day snapshot:
#          its records are EXPECTED.jsonl's; libglean.so and libglean.a
#          define glean.h's names only (a host with its own buf_append links)
#   lua    a stock lua5.4, LUA_CPATH at the installed glean.so, requires
#          "glean" and crawls the snapshot with glean.crawl
# GLEAN_TEST_CFLAGS: flags the example needs to link with this build (the
# sanitizers'). Runs from the source root.
set -euo pipefail
what=$1 build=$2
site=tests/fixtures/coins2day/site
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null

# The records in file $1, whatever their order, against EXPECTED.jsonl.
same_records() {
  python3 - "$1" "$site/EXPECTED.jsonl" <<'PY'
import json, sys
got = sorted((json.loads(l) for l in open(sys.argv[1]) if l.strip()), key=lambda r: r["url"])
want = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
if got != want:
    print("records differ from EXPECTED.jsonl: %d got, %d expected" % (len(got), len(want)))
    for g, w in zip(got, want):
        if g != w:
            print("first difference:\n got  %s\n want %s" % (json.dumps(g), json.dumps(w)))
            break
    sys.exit(1)
print("%d records as expected" % len(got))
PY
}

case $what in
embed)
  test -f "$prefix/include/glean.h"
  "$prefix/bin/glean" --version
  lib=$(find "$prefix" -name 'libglean.so' -print -quit)
  exports=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -Ev '^(glean_[a-z_]+|luaopen_glean)$' || true)
  if [[ -n $exports ]]; then
    echo "libglean.so exports more than glean.h:" $exports
    exit 1
  fi
  # libglean.a defines the same names, and a host may have its own of
  # the library's internal ones.
  exports=$(nm -g --defined-only "$(dirname "$lib")/libglean.a" | awk 'NF == 3 {print $3}' |
    grep -Ev '^(glean_[a-z_]+|luaopen_glean)$' || true)
  if [[ -n $exports ]]; then
    echo "libglean.a defines more than glean.h:" $exports
    exit 1
  fi
  pc=$(find "$prefix" -name glean.pc -print -quit)
  cat >"$prefix/clash.c" <<'C'
#include <stdio.h>
#include "glean.h"
/* Names the library uses inside. */
int buf_append(void) { return 1; }
int url_resolve(void) { return 2; }
int dom_parse(void) { return 3; }
int main(void) {
  glean_runtime *rt = glean_new();
  printf("%s %d\n", glean_version(), rt && buf_append() + url_resolve() + dom_parse() == 6);
  glean_destroy(rt);
  return 0;
}
C
  GLEAN_DEPS=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --print-requires-private glean)
  # shellcheck disable=SC2046,SC2086
  cc -std=c11 ${GLEAN_TEST_CFLAGS:-} -I"$prefix/include" -o "$prefix/clash" "$prefix/clash.c" \
    "$(dirname "$lib")/libglean.a" $(pkg-config --libs $GLEAN_DEPS) -lpthread -lm
  "$prefix/clash" | grep -q ' 1$'
  cp -r examples/embed "$prefix/example"
  PKG_CONFIG_PATH=$(dirname "$pc") make -s -C "$prefix/example" \
    CFLAGS="-O1 -Wall -Wextra -Werror ${GLEAN_TEST_CFLAGS:-}" ingest ingest-static
  for prog in ingest ingest-static; do
    "$prefix/example/$prog" sites/coins2day.lua https://coins2day.com "$site" >"$prefix/$prog.jsonl"
    same_records "$prefix/$prog.jsonl"
  done
  # Files named one by one.
  "$prefix/example/ingest" sites/coins2day.lua https://coins2day.com/ "$site" \
    "$site/2017/08/04/alibaba-kering-lawsuit/index.html" "$site/index.html" >"$prefix/one.jsonl"
  test "$(wc -l <"$prefix/one.jsonl")" -eq 1
  grep -q '"url":"https://coins2day.com/2017/08/04/alibaba-kering-lawsuit/"' "$prefix/one.jsonl"
  ;;
lua)
  so=$(find "$prefix" -name glean.so -print -quit)
  PREFIX=$prefix LUA_CPATH="$(dirname "$so")/?.so" lua5.4 -e '
    local glean = require "glean"
    assert(package.searchpath("glean", package.cpath):find(os.getenv("PREFIX"), 1, true))
    local adapter = dofile("sites/coins2day.lua")
    glean.log.set_level("warn")
    local stats = glean.crawl(adapter, {mirrors = {"https://coins2day.com=tests/fixtures/coins2day/site"}, progress = 0})
    assert(stats.records == 13 and stats.failed == 0, glean.json.encode(stats))
  ' >"$prefix/lua.jsonl"
  same_records "$prefix/lua.jsonl"
  ;;
*)
  echo "usage: installed.sh embed|lua BUILD_DIR" >&2
  exit 2
  ;;
esac

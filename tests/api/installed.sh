#!/usr/bin/env bash
# installed.sh embed|lua BUILD_DIR — glean as installed: `cmake --install`
# into a temporary prefix, then
#   embed  examples/embed built there through pkg-config (against
#          libglean.so and libglean.a) and run over the Coins2Day snapshot:
#          its records are EXPECTED.jsonl's; libglean.so exports glean.h only
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
  pc=$(find "$prefix" -name glean.pc -print -quit)
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

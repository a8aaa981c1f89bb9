#!/bin/sh
# Builds the fast-path fuzz target (clang, libFuzzer, ASan, UBSan) into
# build-fuzz/ and runs it for a while.
#   tests/fuzz/run.sh [SECONDS]      default 60; exit status 1 on a finding
# The working corpus (build-fuzz/corpus) persists between runs; the
# committed seeds and findings are read, never written, by libFuzzer.
# A finding (a tree that differs, a sanitizer report) is copied into
# tests/fuzz/corpus/prescan/, which test_prescan replays: fix it, then
# commit the input with the fix.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${GLEAN_FUZZ_BUILD:-$ROOT/build-fuzz}
SEEDS=$ROOT/tests/fuzz/corpus/prescan
CC=${CC_FUZZ:-clang}
mkdir -p "$OUT/corpus" "$OUT/artifacts"

core=$ROOT/runtime/core
# shellcheck disable=SC2046
"$CC" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -I"$core" $(pkg-config --cflags gumbo) \
  "$ROOT/tests/fuzz/fuzz_prescan.c" "$core/dom.c" "$core/prescan.c" "$core/arena.c" "$core/buf.c" \
  "$core/encoding.c" "$core/serialize.c" $(pkg-config --libs gumbo) -o "$OUT/fuzz_prescan"

seconds=${1:-60}
status=0
"$OUT/fuzz_prescan" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict="$ROOT/tests/fuzz/prescan.dict" -artifact_prefix="$OUT/artifacts/" -print_final_stats=1 \
  "$OUT/corpus" "$SEEDS" || status=$?
found=0
for f in "$OUT"/artifacts/crash-* "$OUT"/artifacts/leak-* "$OUT"/artifacts/timeout-* "$OUT"/artifacts/oom-*; do
  [ -e "$f" ] || continue
  cp "$f" "$SEEDS/"
  echo "fuzz_prescan: finding kept as $SEEDS/$(basename "$f")" >&2
  rm -f "$f"
  found=1
done
if [ $status -ne 0 ] || [ $found -ne 0 ]; then exit 1; fi

#!/usr/bin/env bash
# The long libFuzzer run of te's parsers of untrusted text (RELIABILITY.md): builds
# ./build-asan (scripts/sanitize_build.sh) and runs every target of tests/fuzz/libfuzzer for
# TE_FUZZ_SECONDS seconds each (default 600), one after another, starting from the
# repository's seeds (tests/fuzz/corpus/<target>/) and the corpus earlier runs grew in
# build-asan/fuzz/<target>/. A crash, leak, hang (>10 s) or sanitizer report stops that
# target and leaves the input as build-asan/fuzz/crash-* (reproduce: build-asan/fuzz_<t> FILE).
#   bash scripts/fuzz_parsers.sh                 # 10 minutes per target
#   TE_FUZZ_SECONDS=3600 bash scripts/fuzz_parsers.sh tuning_log   # one target, an hour
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
ASAN_DIR="${TE_ASAN_BUILD_DIR:-build-asan}"
SECONDS_EACH="${TE_FUZZ_SECONDS:-600}"
bash scripts/sanitize_build.sh
source scripts/sanitizer_env.sh
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/libfuzzer/fuzz_*.cc; do t=$(basename "$src" .cc); targets+=("${t#fuzz_}"); done
fi
status=0
for t in "${targets[@]}"; do
  mkdir -p "$ASAN_DIR/fuzz/$t"
  echo "==> fuzz_$t for ${SECONDS_EACH}s"
  rc=0
  "$ASAN_DIR/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$ASAN_DIR/fuzz/crash-$t-" "$ASAN_DIR/fuzz/$t" "tests/fuzz/corpus/$t" \
    >"$ASAN_DIR/fuzz/$t.log" 2>&1 || rc=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|fuzz:)" "$ASAN_DIR/fuzz/$t.log" || true
  if [ "$rc" -ne 0 ]; then echo "fuzz_$t FAILED (rc $rc; see $ASAN_DIR/fuzz/$t.log)"; status=1; fi
done
exit $status

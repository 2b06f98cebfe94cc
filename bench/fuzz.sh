#!/usr/bin/env bash
# Fuzzes every parser that reads outside bytes (fuzz/fuzz_targets/: courier webhooks and
# answers, phone numbers, addresses, tracking codes) with cargo-fuzz (libFuzzer), each for
# FUZZ_SECONDS (600 by default), FUZZ_JOBS targets at a time (1 by default). Corpora stay in
# fuzz/corpus/<target> between runs; a crash fails the run with the input in
# fuzz/artifacts/<target>/ (make it a regression test next to the parser, then delete it).
# Prints one line per target (runs, corpus, outcome) and keeps them in bench/out/fuzz.txt.
# Usage: bench/fuzz.sh [target...]   (FUZZ_SECONDS=600 FUZZ_JOBS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS="${FUZZ_SECONDS:-600}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
# This machine has one stable toolchain and cargo-fuzz passes flags rustc keeps for nightly;
# RUSTC_BOOTSTRAP admits them. No sanitizer is needed for safe Rust: libFuzzer still catches
# panics, overflows and debug assertions (the fuzz build keeps them on).
export RUSTC_BOOTSTRAP=1
# The fuzz build is instrumented and goes to its own folder, never the service's.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/civicpost/fuzz-target}"
cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
cargo fuzz build --sanitizer none
export OUT=../bench/out; mkdir -p "$OUT"
: > "$OUT/fuzz.txt"
run_target() {
  local t=$1 log="$OUT/fuzz-$1.log" outcome runs corpus
  mkdir -p "corpus/$t"
  if cargo fuzz run --sanitizer none "$t" "corpus/$t" -- -max_total_time="$FUZZ_SECONDS" \
      -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    outcome="no crash"
  else
    outcome="CRASH: see bench/out/fuzz-$t.log and fuzz/artifacts/$t/"
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(find "corpus/$t" -type f | wc -l)
  printf '%-22s %5ss %12s runs %7s inputs  %s\n' "$t" "$FUZZ_SECONDS" "$runs" "$corpus" "$outcome" | tee -a "$OUT/fuzz.txt"
}
export -f run_target
printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_JOBS:-1}" -I{} bash -c 'run_target {}'
! grep -q CRASH "$OUT/fuzz.txt"

#!/usr/bin/env bash
# Fuzzes the parsers of outside input (fuzz/, target bodies in shared/src/fuzzing.rs), each for a bounded time.
# Not part of CI: CI replays the committed inputs on stable (shared/tests/fuzz_corpus.rs).
#
#   scripts/fuzz.sh [--time SECONDS] [--no-cmin] [target...]
#
#   --time SECONDS  how long each target runs (FUZZ_TIME, default 60)
#   --no-cmin       keep everything the run added to fuzz/corpus/<target>/ (default: minimise it to the inputs
#                   that add an edge, `cargo fuzz cmin`)
#   target...       webhook agent_request html_to_text markdown human_request idempotency_record (default: all)
#
# Needs a nightly toolchain and cargo-fuzz; both are installed when missing
# (`rustup toolchain install nightly --profile minimal`, `cargo install cargo-fuzz --locked`).
# Builds with debug assertions (overflow checks) and no sanitizer, which runs safe Rust twice as fast
# (FUZZ_SANITIZER=address to change that). Each run starts from, and adds to, fuzz/corpus/<target>/;
# a crash or timeout is saved under fuzz/artifacts/<target>/ and makes the script exit 1. Once fixed, move the
# input to fuzz/regressions/<target>/ (named after what it caught) so `cargo test` replays it for good.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT/fuzz"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }

ALL_TARGETS=(webhook agent_request html_to_text markdown human_request idempotency_record)
time_each="${FUZZ_TIME:-60}"
cmin=1
targets=()
while (($#)); do
  case "$1" in
    --time) time_each="${2:?--time needs a number of seconds}"; shift 2 ;;
    --no-cmin) cmin=0; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
      [[ " ${ALL_TARGETS[*]} " == *" $1 "* ]] || { echo "unknown target $1 (known: ${ALL_TARGETS[*]})" >&2; exit 2; }
      targets+=("$1"); shift ;;
  esac
done
[[ "$time_each" =~ ^[0-9]+$ && "$time_each" -gt 0 ]] || { echo "--time must be a whole number of seconds" >&2; exit 2; }
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "== installing the nightly toolchain (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# Per target: libFuzzer's limits. The text parsers get long inputs and a short timeout, so anything
# worse than linear shows up as a timeout rather than passing on short inputs.
limits() {
  case "$1" in
    human_request) echo "-max_len=65536 -timeout=2" ;;
    html_to_text | markdown) echo "-max_len=65536 -timeout=3" ;;
    *) echo "-max_len=16384 -timeout=5" ;;
  esac
}

sanitizer="${FUZZ_SANITIZER:-none}"
failed=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  log="artifacts/$target/last-run.log"
  echo "== $target: ${time_each} s (log: fuzz/$log)"
  # shellcheck disable=SC2046 # the limits are separate arguments
  if cargo +nightly fuzz run --sanitizer "$sanitizer" --debug-assertions "$target" "corpus/$target" -- \
    -max_total_time="$time_each" -rss_limit_mb=2048 -print_final_stats=1 $(limits "$target") >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
  fi
  # The figures libFuzzer prints at the end: executions, speed, peak memory, and what it kept.
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^Done [0-9]+ runs' "$log" |
    sed 's/^/   /' || true
  echo "   corpus: $(find "corpus/$target" -type f | wc -l) files; result: $status"
  if [[ $status == FAILED ]]; then
    grep -E '^(==[0-9]+== ERROR|SUMMARY|thread .* panicked|artifact_prefix|Test unit written)' "$log" | sed 's/^/   /' || true
  fi
  if ((cmin)) && [[ $status == ok ]]; then
    before=$(find "corpus/$target" -type f | wc -l)
    # Edges only (-use_counters=0): hit counts would keep thousands of near-duplicates in the repository.
    # shellcheck disable=SC2046 # the limits are separate arguments
    cargo +nightly fuzz cmin --sanitizer "$sanitizer" --debug-assertions "$target" "corpus/$target" -- \
      -use_counters=0 $(limits "$target") >"artifacts/$target/last-cmin.log" 2>&1 ||
      echo "   cmin failed; see fuzz/artifacts/$target/last-cmin.log"
    echo "   minimised: $before -> $(find "corpus/$target" -type f | wc -l) files"
  fi
done

if ((${#failed[@]})); then
  echo "== crashes or timeouts in: ${failed[*]} — the inputs are in fuzz/artifacts/<target>/" >&2
  echo "   reproduce: (cd fuzz && cargo +nightly fuzz run <target> artifacts/<target>/<file>)" >&2
  exit 1
fi
echo "== no crash or timeout"

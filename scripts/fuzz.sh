#!/usr/bin/env bash
# Builds the libFuzzer targets (address sanitizer on) and runs each for SECONDS (default 20), starting from the
# committed seed corpus in Tests/FuzzCorpus/<target>. New inputs go to .build-fuzz/corpus/<target>, crashes to
# .build-fuzz/artifacts/<target>/. Exits non-zero if any target crashes, leaks or hangs.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(xml-reader xml-documents auth-headers auth-query aws-chunked percent-decoding request-target policy-documents post-forms)
fi

swift build -c release --product martlet-fuzz --sanitize fuzzer --sanitize address \
  -Xswiftc -DFUZZING --scratch-path .build-fuzz
binary=.build-fuzz/release/martlet-fuzz

failed=()
for target in "${targets[@]}"; do
  corpus=.build-fuzz/corpus/$target
  artifacts=.build-fuzz/artifacts/$target/
  mkdir -p "$corpus" "$artifacts"
  log=.build-fuzz/fuzz-$target.log
  echo "fuzz: $target for ${seconds}s"
  if MARTLET_FUZZ_TARGET=$target "$binary" "$corpus" "Tests/FuzzCorpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts" > "$log" 2>&1; then
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
    echo "fuzz: $target passed: $runs executions, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz: $target FAILED; see $log and $artifacts"
    tail -40 "$log"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"

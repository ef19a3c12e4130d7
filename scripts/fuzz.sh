#!/usr/bin/env bash
# Builds the libFuzzer targets (address sanitizer on) and runs every target the binary names (martlet-fuzz --list),
# or the TARGETs given, in one of two modes:
#   scripts/fuzz.sh --smoke [TARGET...]    what `make test` runs: the same on every machine. Each target first
#       replays every committed input (the seeds in Tests/FuzzCorpus/<target>/ and the past findings in
#       Tests/FuzzRegressions/<target>/), then makes a fixed number of executions (-runs=SMOKE_RUNS, default
#       250000: three to four minutes for all targets on two cores) from a fixed seed (-seed=1) and a fresh working
#       corpus, so a failure is one the code brought, found again by anyone who runs it.
#   scripts/fuzz.sh SECONDS [TARGET...]    what `make fuzz` runs: random exploration for SECONDS per target.
#       New inputs go to .build-fuzz/corpus/<target>, crashes to .build-fuzz/artifacts/<target>/.
# A crash, leak, timeout or out-of-memory fails the run. Commit each crashing input to
# Tests/FuzzRegressions/<target>/ with the fix: the unit tests (FuzzReplayTests) replay it without sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-20}"
shift || true
smoke_runs="${SMOKE_RUNS:-250000}"
if [ "$mode" != "--smoke" ] && ! [[ "$mode" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh --smoke|SECONDS [TARGET...]" >&2
  exit 2
fi

# SwiftPM passes `-sanitize=fuzzer -sanitize=address` to swiftc as two flags, and the last one wins: the Swift
# modules got ASan but no coverage counters (only the C targets had them), so libFuzzer mutated blind. The combined
# flag after them gives the Swift code both; --sanitize still instruments the C targets and links libFuzzer.
swift build -c release --product martlet-fuzz --sanitize fuzzer --sanitize address \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --scratch-path .build-fuzz
binary=.build-fuzz/release/martlet-fuzz

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <("$binary" --list 2>/dev/null)
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: $binary --list named no targets" >&2
  exit 1
fi

# Swift seeds its hashing per process, so a Dictionary's order (and the paths code takes over it) would differ
# from run to run; fixed here so that a seeded run repeats exactly.
export SWIFT_DETERMINISTIC_HASHING=1
# Some paths depend on addresses (hashes of object identities); the smoke runs without address randomization where
# the system lets it (setarch -R; a container's seccomp filter may not), so that it repeats exactly there too.
norandom=()
if [ "$mode" = "--smoke" ] && setarch "$(uname -m)" -R true 2>/dev/null; then
  norandom=(setarch "$(uname -m)" -R)
fi
# Per input: libFuzzer's -timeout catches a hang; targets with their own time budget (json-reader) fail sooner.
common=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
failed=()
for target in "${targets[@]}"; do
  artifacts=.build-fuzz/artifacts/$target/
  mkdir -p "$artifacts"
  committed=()
  for folder in Tests/FuzzCorpus/$target Tests/FuzzRegressions/$target; do
    [ -d "$folder" ] && committed+=("$folder")
  done
  log=.build-fuzz/fuzz-$target.log
  : > "$log"
  if [ "$mode" = "--smoke" ]; then
    # A fresh working corpus each time: what earlier runs found must not change this run's path.
    corpus=.build-fuzz/smoke-corpus/$target
    rm -rf "$corpus"
    mkdir -p "$corpus"
    # The committed inputs as one list in name order (libFuzzer orders seeds by size, and a directory's listing
    # order, which decides among equal sizes, differs between file systems).
    seeds=.build-fuzz/smoke-seeds-$target.txt
    if [ ${#committed[@]} -gt 0 ]; then
      find "${committed[@]}" -type f | LC_ALL=C sort > "$seeds"
    else
      : > "$seeds"
    fi
    echo "fuzz: $target: replaying $(wc -l < "$seeds") committed inputs, then $smoke_runs runs from seed 1"
    run=(-runs=0)
    # -use_cmp=0: mutations drawn from the values the code compared would bring in addresses and clock readings,
    # which differ from run to run; -reload=0: no timed re-reading of the working corpus. Without them the same
    # seed gives the same executions.
    explore=(-seed=1 -runs="$smoke_runs" -use_cmp=0 -reload=0 -seed_inputs=@"$seeds")
  else
    corpus=.build-fuzz/corpus/$target
    mkdir -p "$corpus"
    echo "fuzz: $target for ${mode}s"
    run=()
    explore=(-max_total_time="$mode")
  fi
  ok=true
  if [ ${#run[@]} -gt 0 ] && [ ${#committed[@]} -gt 0 ]; then
    # -runs=0: each committed input executed once, nothing mutated.
    MARTLET_FUZZ_TARGET=$target "$binary" "${committed[@]}" "${run[@]}" "${common[@]}" \
      -artifact_prefix="$artifacts" >> "$log" 2>&1 || ok=false
  fi
  if $ok; then
    if [ "$mode" = "--smoke" ]; then
      MARTLET_FUZZ_TARGET=$target "${norandom[@]}" "$binary" "$corpus" "${explore[@]}" "${common[@]}" \
        -artifact_prefix="$artifacts" >> "$log" 2>&1 || ok=false
    else
      MARTLET_FUZZ_TARGET=$target "$binary" "$corpus" "${committed[@]}" "${explore[@]}" "${common[@]}" \
        -artifact_prefix="$artifacts" >> "$log" 2>&1 || ok=false
    fi
  fi
  if $ok; then
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+$' || echo "?")
    echo "fuzz: $target passed: $runs executions, corpus $(ls "$corpus" | wc -l) new inputs"
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
if [ "$mode" = "--smoke" ]; then
  echo "fuzz: all ${#targets[@]} targets replayed their committed inputs and ran $smoke_runs executions from seed 1"
else
  echo "fuzz: all ${#targets[@]} targets ran ${mode}s each without a finding"
fi

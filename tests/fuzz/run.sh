#!/usr/bin/env bash
# Fuzzes what plsim reads from files, with clang, libFuzzer, ASan and UBSan, in build/fuzz:
#   scenario   the scenario loader (tests/fuzz/scenario_fuzzer.cpp); corpus seeded with every scenario
#              file of the project, dictionary of the schema's keys;
#   run_state  checkpoint bytes restored into a run (tests/fuzz/run_state_fuzzer.cpp); corpus seeded
#              with real states of a small rollout run (written by the target itself).
# Each target runs SECONDS (default 30). Exits non-zero when an input crashes, leaks, times out or hits
# undefined behaviour; the input is then in build/fuzz/crashes/TARGET/. Longer campaigns:
#   tests/fuzz/run.sh 3600            # an hour each; the corpora in build/fuzz/corpus/ grow from run to run
#   tests/fuzz/run.sh 600 run_state   # one target
# Builds with PLSIM_BUILD_JOBS jobs (default 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario run_state)
build=build/fuzz

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPLSIM_BUILD_PYTHON=OFF \
  -DPLSIM_BUILD_TESTS=OFF -DPLSIM_BUILD_BENCH=OFF -DPLSIM_BUILD_FUZZ=ON -DPLSIM_SANITIZE=address,undefined >/dev/null
for target in "${targets[@]}"; do
  case "$target" in
    scenario|run_state) ;;
    *) echo "fuzz: unknown target $target (scenario, run_state)" >&2; exit 2 ;;
  esac
  cmake --build "$build" --target "plsim_${target}_fuzzer" --parallel "${PLSIM_BUILD_JOBS:-2}"
done

status=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target" crashes="$build/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  extra=()
  if [ "$target" = scenario ]; then
    cp scenarios/*.json scenarios/grants/*.json tests/python/data/*.json "$corpus/"
    /usr/bin/python3 tests/fuzz/make_dictionary.py scenarios/scenario.schema.json > "$build/scenario.dict"
    extra=(-dict="$build/scenario.dict" -max_len=65536)
  else
    extra=(-max_len=1048576)
  fi
  echo "fuzz: $seconds s of the $target target (ASan, UBSan), corpus $corpus"
  target_status=0
  PLSIM_FUZZ_SEEDS="$corpus" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/plsim_${target}_fuzzer" "$corpus" "${extra[@]}" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$build/$target.log" 2>&1 || target_status=$?
  grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|SUMMARY|stat::number_of_executed_units|Test unit written" \
    "$build/$target.log" || true
  if [ "$target_status" -ne 0 ]; then
    echo "fuzz: $target FAILED (exit $target_status); the input is in $crashes/, the log in $build/$target.log" >&2
    status=$target_status
  fi
done
exit "$status"

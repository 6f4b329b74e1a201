#!/usr/bin/env bash
# Fuzzes the scenario loader: builds tests/fuzz/scenario_fuzzer.cpp with clang, libFuzzer, ASan and
# UBSan in build/fuzz, seeds a corpus with every scenario file of the project, writes the dictionary of
# the schema's keys, and runs for SECONDS (default 60). Exits non-zero when an input crashes, leaks,
# times out or hits undefined behaviour; the input is then in build/fuzz/crashes/. Longer campaigns:
#   tests/fuzz/run.sh 3600          # an hour; the corpus in build/fuzz/corpus grows from run to run
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
build=build/fuzz

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPLSIM_BUILD_PYTHON=OFF \
  -DPLSIM_BUILD_TESTS=OFF -DPLSIM_BUILD_BENCH=OFF -DPLSIM_BUILD_FUZZ=ON -DPLSIM_SANITIZE=address,undefined >/dev/null
cmake --build "$build" --target plsim_scenario_fuzzer --parallel

mkdir -p "$build/corpus" "$build/crashes"
cp scenarios/*.json scenarios/grants/*.json tests/python/data/*.json "$build/corpus/"
/usr/bin/python3 tests/fuzz/make_dictionary.py scenarios/scenario.schema.json > "$build/scenario.dict"

echo "fuzz: $seconds s of the scenario loader (ASan, UBSan), corpus $build/corpus"
status=0
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$build/tests/fuzz/plsim_scenario_fuzzer" "$build/corpus" -dict="$build/scenario.dict" \
  -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$build/crashes/" >"$build/fuzz.log" 2>&1 || status=$?
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|SUMMARY|stat::number_of_executed_units|Test unit written" "$build/fuzz.log" || true
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED (exit $status); the input is in $build/crashes/, the log in $build/fuzz.log" >&2
fi
exit "$status"

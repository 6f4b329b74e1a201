#!/usr/bin/env bash
# Builds plsim_bench (Release, in build/bench, apart from the test and Python builds) and runs it;
# arguments go to plsim_bench, e.g. `bench/run.sh --threads 1,2 --repeats 5 --json build/bench/results.json`.
# Timings are only meaningful on an otherwise idle machine: the table's "others" column shows how many
# cores other processes took during the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPLSIM_BUILD_PYTHON=OFF \
  -DPLSIM_BUILD_TESTS=OFF -DPLSIM_BUILD_BENCH=ON >/dev/null
cmake --build build/bench --target plsim_bench >/dev/null
exec build/bench/bench/plsim_bench "$@"

#!/usr/bin/env bash
# Runs every test: the C++ suite (Catch2 through CTest) and the Python suite (pytest, against the
# package installed in .venv), then both again under ASan and UBSan (scripts/test-sanitizers.sh) and a
# 30-second fuzz of each file reader, the scenario loader and checkpoint bytes (tests/fuzz/run.sh).
# Rebuilds first, so the tests always see the current sources. `--quick` skips the sanitizer suites and the fuzz (for the edit-test loop);
# other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [ "${1:-}" = "--quick" ]; then
  quick=1
  shift
fi

cmake --build build/dev --parallel
.venv/bin/python -m pip install --no-index --no-build-isolation --no-deps --quiet .

ctest --test-dir build/dev --output-on-failure --parallel 2
PYDEVD_DISABLE_FILE_VALIDATION=1 .venv/bin/python -m pytest tests/python -q "$@"

if [ "$quick" = 0 ]; then
  ./scripts/test-sanitizers.sh "$@"
  tests/fuzz/run.sh 30
fi

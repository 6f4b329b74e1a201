#!/usr/bin/env bash
# Runs every test: the C++ suite (Catch2 through CTest) and the Python suite (pytest, against the
# package installed in .venv). Rebuilds both first, so the tests always see the current sources.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake --build build/dev --parallel
.venv/bin/python -m pip install --no-index --no-build-isolation --no-deps --quiet .

ctest --test-dir build/dev --output-on-failure --parallel 2
PYDEVD_DISABLE_FILE_VALIDATION=1 .venv/bin/python -m pytest tests/python -q "$@"

#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: installs the system packages, builds the engine, its
# C++ tests and benchmark, installs the plsim package into .venv, and runs national_baseline.
# Idempotent: run it again after any change. `--no-run` skips the final run (CI uses it).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

# The virtual environment sees Debian's numpy, pandas, ... (PyPI is not reachable here).
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install --no-index --no-build-isolation --no-deps --quiet .
PYDEVD_DISABLE_FILE_VALIDATION=1 .venv/bin/python -m ipykernel install --sys-prefix --name plsim --display-name "Python (plsim)" >/dev/null

# Engine library, Catch2 tests and benchmark, for scripts/test.sh and bench/.
cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DPLSIM_BUILD_PYTHON=OFF \
  -DPLSIM_BUILD_TESTS=ON -DPLSIM_BUILD_BENCH=ON >/dev/null
cmake --build build/dev --parallel

if [ "${1:-}" != "--no-run" ]; then
  .venv/bin/plsim run national_baseline --out runs/national_baseline --overwrite  # idempotent: replaces the last set-up run
fi

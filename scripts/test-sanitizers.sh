#!/usr/bin/env bash
# The C++ and Python suites under AddressSanitizer and UndefinedBehaviorSanitizer (g++): the engine,
# its tests and the Python module built with -fsanitize=address,undefined (Debug, so reports point at
# lines), in build/asan, build/python-asan and the virtual environment .venv-asan. Any memory error,
# leak in the C++ suite or undefined behaviour fails the suite. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-DCMAKE_BUILD_TYPE=Debug -DPLSIM_SANITIZE=address,undefined)

echo "sanitizers: C++ suite (ASan, UBSan)"
cmake -S . -B build/asan -G Ninja "${flags[@]}" -DPLSIM_BUILD_PYTHON=OFF -DPLSIM_BUILD_TESTS=ON \
  -DPLSIM_BUILD_BENCH=OFF >/dev/null
cmake --build build/asan --parallel
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan --output-on-failure --parallel 2

echo "sanitizers: Python suite (ASan, UBSan in plsim._core)"
if [ ! -x .venv-asan/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv-asan
fi
PLSIM_BUILD_DIR="$PWD/build/python-asan" PLSIM_CMAKE_ARGS="${flags[*]}" \
  .venv-asan/bin/python -m pip install --no-index --no-build-isolation --no-deps --quiet .
PYDEVD_DISABLE_FILE_VALIDATION=1 .venv-asan/bin/python -m ipykernel install --sys-prefix --name plsim \
  --display-name "Python (plsim, sanitizers)" >/dev/null
# The interpreter is not built with ASan, so its runtime comes first (LD_PRELOAD), and libstdc++ with
# it: ASan intercepts C++ throws only if libstdc++ is loaded when it starts (else every exception the
# module throws aborts). Python itself keeps memory until exit by design, so leaks are not reported
# here (the C++ suite checks them).
LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libstdc++.so)" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1 PYDEVD_DISABLE_FILE_VALIDATION=1 PLSIM_SANITIZERS=1 \
  .venv-asan/bin/python -m pytest tests/python -q -p no:cacheprovider "$@"

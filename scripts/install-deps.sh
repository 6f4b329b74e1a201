#!/usr/bin/env bash
# Installs every system dependency of plsim from Debian's apt. Idempotent: packages already present
# are skipped by apt, and nothing is fetched when all are installed.
set -euo pipefail

# jupyter-notebook: the notebook server README starts with plsim's kernel (.venv/bin/python -m notebook).
# python3-plotly: the interactive charts of plsim report, its plotly.js bundled into the page (offline);
# chromium: the report's test loads the page in a real browser.
packages=(
  cmake ninja-build g++ make git
  pybind11-dev libeigen3-dev libtbb-dev catch2 nlohmann-json3-dev librandom123-dev libcli11-dev
  python3-dev python3-venv python3-pip python3-setuptools python3-wheel
  python3-numpy python3-pandas python3-matplotlib python3-scipy python3-tqdm python3-jsonschema
  python3-pytest python3-nbformat python3-nbclient python3-ipykernel python3-dask python3-distributed
  python3-optuna python3-ipywidgets python3-hypothesis chromium clang libclang-rt-14-dev
  jupyter-notebook python3-plotly
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"

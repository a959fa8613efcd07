#!/usr/bin/env bash
# Installs the Debian packages dvs needs for one purpose (only those missing). Run as root on Debian 12.
#
#   install-deps.sh run    what `make run` uses: the compiler, cmake, the libraries the build links
#                          or its configure step requires, and the python3 packages `dvs report` imports
#   install-deps.sh test   the above plus what `make test` uses: the Python module and notebooks,
#                          the gate (valgrind), the fuzzers (clang, libFuzzer), RDMA (rdma-core), the
#                          VM lab (qemu), the web workload's peers (nginx, wrk, curl), Prometheus
#   install-deps.sh list run|test   print the packages of that purpose, one a line
#
# Prints one line when it installs something (the packages), nothing when all are present; apt's
# own output goes to stdout/stderr (make run sends it to its log file).
set -euo pipefail

# `make run`: build dvs_cli + dvsd (CMakeLists.txt requires gtest, gmock and benchmark at configure
# time too; libnng-dev and libzmq3-dev: the peer rows; libibverbs-dev:
# the rdma transport is always built), run `dvs run` (iproute2: the remote section's network namespaces; git: the run's
# commit in meta.json) and `dvs report` (python3 with numpy, pandas, matplotlib: dvs_analysis).
RUN_PKGS=(
  build-essential cmake g++ pkg-config make git
  libgtest-dev libgmock-dev libbenchmark-dev
  libfmt-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev liblz4-dev libsodium-dev prometheus-cpp-dev
  libnng-dev libzmq3-dev libibverbs-dev ibverbs-providers
  iproute2 procps util-linux
  python3 python3-numpy python3-pandas python3-matplotlib
)
# `make test` adds: the pybind11 module and its tests, the notebooks, perftest (the rdma
# baselines' cross-check), the gate, the fuzz targets, `dvs lab`, `dvs web` peers, the metrics tests.
TEST_PKGS=(
  pybind11-dev python3-dev python3-scipy jupyter-nbconvert python3-nbconvert python3-ipykernel python3-nbformat python3-nbclient
  perftest
  valgrind
  clang libfuzzer-14-dev
  qemu-system-x86 kmod cpio
  nginx wrk curl
  prometheus
)

usage() {
  echo "usage: $0 run|test | $0 list run|test" >&2
  exit 2
}

packages_for() {
  case "$1" in
    run) printf '%s\n' "${RUN_PKGS[@]}" ;;
    test) printf '%s\n' "${RUN_PKGS[@]}" "${TEST_PKGS[@]}" ;;
    *) usage ;;
  esac
}

[ $# -ge 1 ] || usage
if [ "$1" = list ]; then
  [ $# -eq 2 ] || usage
  case "$2" in run | test) ;; *) usage ;; esac
  packages_for "$2"
  exit 0
fi
[ $# -eq 1 ] || usage
case "$1" in run | test) ;; *) usage ;; esac
mapfile -t PKGS < <(packages_for "$1")

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "dvs: installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "dvs: need root to apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

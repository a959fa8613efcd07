#!/usr/bin/env bash
# Installs the Debian packages dvs needs (only those missing). Run as root on Debian 12.
set -euo pipefail
PKGS=(
  build-essential cmake g++ pkg-config make
  libgtest-dev libgmock-dev libbenchmark-dev
  libfmt-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev liblz4-dev
  iproute2 procps util-linux python3 valgrind curl wrk nginx
  qemu-system-x86 kmod cpio
  libibverbs-dev ibverbs-providers perftest
  libsodium-dev clang libfuzzer-14-dev
  libnng-dev libzmq3-dev
  prometheus-cpp-dev prometheus
  pybind11-dev python3-dev python3-numpy python3-pandas python3-matplotlib python3-scipy jupyter-nbconvert python3-nbconvert python3-ipykernel python3-nbformat python3-nbclient
)
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

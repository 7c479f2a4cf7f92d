#!/bin/bash
# Install what tunnelgw needs to build, test and run its lab on Debian 12 (bookworm).
# Idempotent: installs only the packages that are missing, and runs `apt-get update` only then.
# Non-interactive (no questions, works without a terminal). Needs root when something is missing.
#
# usage: tools/install-deps.sh [--check]     --check: only list what is missing (exit 1 if any)
set -euo pipefail

PACKAGES=(
  # build
  build-essential pkg-config meson ninja-build
  libdpdk-dev dpdk libipsec-mb-dev libyaml-cpp-dev libboost-program-options-dev
  nlohmann-json3-dev   # tunnelgw-ctl's JSON (header-only)
  libgtest-dev libbenchmark-dev
  # sanitizer build (clang + its ASan/UBSan runtime)
  clang libclang-rt-14-dev
  # scenario and end-to-end tests, lab
  python3-scapy python3-cryptography tshark tcpdump
  iproute2 ethtool iputils-ping netcat-openbsd procps
  user-mode-linux kmod   # kmod: modprobe inside the UML guest (its root is the host's /)
  openvswitch-switch     # gretap interop peer (userspace datapath, started by the test)
  # benchmarks (tools/bench.sh): testpmd and crypto-perf references, the plot
  dpdk-dev python3-matplotlib
)

missing=()
for p in "${PACKAGES[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: missing: ${missing[*]}"
[ "${1:-}" = --check ] && exit 1
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: must run as root to install them (sudo $0)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" ahead of time.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null
echo "install-deps: installed ${#missing[@]} package(s)"

#!/bin/bash
# How fast is this box: `sudo tools/bench.sh` (about 10 minutes on 2 CPUs; --quick: about 1).
#
#   1. tools/install-deps.sh       (skipped with --no-deps)
#   2. build-bench/: meson setup once (release), then build tunnelgw and tunnelgw-bench
#   3. bench/run_sweep.py          the standard sweep; any other option goes to it
#                                  (bench/run_sweep.py --help; docs/benchmarking.md)
# Writes a table on stdout, and out/bench/<time>/bench.json and bench.png.
#
# Bare metal (ports bound to vfio-pci, hugepages reserved, cabling in docs/benchmarking.md):
#   sudo tools/bench.sh --gw-ports 0000:03:00.0,0000:03:00.1 --gen-ports 0000:04:00.0,0000:04:00.1 \
#        --gw-lcores 0@2,1@3 --gen-lcores 0@4,1@5,2@6
# env: BUILD_DIR (default build-bench), JOBS (ninja -j, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
DEPS=1
args=()
for a in "$@"; do
  case $a in
    --no-deps) DEPS=0;;
    -h|--help) sed -n '2,14p' "$0"; exec /usr/bin/python3 bench/run_sweep.py --help;;
    *) args+=("$a");;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "bench.sh: DPDK processes and their sockets need root: sudo $0 $*" >&2
  exit 1
fi
[ $DEPS = 1 ] && tools/install-deps.sh
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  rm -rf "$BUILD_DIR"
  meson setup "$BUILD_DIR" --buildtype=release
fi
ninja -C "$BUILD_DIR" -j"${JOBS:-2}" bench/tunnelgw-bench src/tunnelgw
exec /usr/bin/python3 bench/run_sweep.py --tunnelgw "$BUILD_DIR/src/tunnelgw" \
  --bench "$BUILD_DIR/bench/tunnelgw-bench" "${args[@]}"

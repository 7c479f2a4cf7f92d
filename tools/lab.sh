#!/bin/bash
# The tunnelgw lab: `sudo tools/lab.sh`. Builds tunnelgw, then in network namespaces:
#
#   hostA ==veth== lan [tunnelgw] wan ==veth== [Linux GRE router, User-Mode Linux] ==veth== hostB
#   10.10.1.2        10.10.1.1  192.168.60.1    192.168.60.2  gre1 key 42  10.20.0.254   10.20.0.1
#
# hostA pings hostB continuously, through the GRE tunnel between tunnelgw and the Linux kernel.
# tunnelgw runs in the foreground with conf/lab.yaml and prints its counters every 5 s.
# Ctrl-C stops tunnelgw; the Linux guest, the ping and the namespaces are then removed.
#
# options: --no-deps  --no-build  --run-for SECONDS (stop by itself, e.g. for a smoke test)
#          --config FILE (default conf/lab.yaml; keep its ports, addresses and key 42)
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
DEPS=1; BUILD=1; RUN_FOR=""; CONFIG=conf/lab.yaml
while [ $# -gt 0 ]; do
  case $1 in
    --no-deps) DEPS=0;;
    --no-build) BUILD=0;;
    --run-for) RUN_FOR=$2; shift;;
    --config) CONFIG=$2; shift;;
    -h|--help) sed -n '2,13p' "$0"; exit 0;;
    *) echo "unknown option $1"; exit 2;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "the lab needs root (network namespaces): sudo $0"; exit 1; }
CONFIG=$(realpath "$CONFIG")
BUILD_DIR=${BUILD_DIR:-build}
TGW=$ROOT/$BUILD_DIR/src/tunnelgw

if [ $DEPS = 1 ]; then tools/install-deps.sh || exit 1; fi
if [ $BUILD = 1 ]; then
  [ -f "$BUILD_DIR/build.ninja" ] || meson setup "$BUILD_DIR" --buildtype=release || exit 1
  ninja -C "$BUILD_DIR" || exit 1
fi
[ -x "$TGW" ] || { echo "no tunnelgw at $TGW (build first)"; exit 1; }
"$TGW" --config "$CONFIG" --check-config >/dev/null || { echo "invalid config $CONFIG"; exit 1; }

. tests/e2e/lib.sh
topo_init lab
LOGDIR=$(mktemp -d /var/tmp/tgw-lab.XXXXXX)
PING_PID=""
cleanup() {
  trap - EXIT INT TERM
  echo
  log "lab: tearing down"
  [ -n "$PING_PID" ] && kill -INT "$PING_PID" 2>/dev/null && sleep 0.3
  topo_down
  rm -rf "$LOGDIR" /var/run/dpdk/tgwlab   # EAL files of conf/lab.yaml's --file-prefix
}
trap cleanup EXIT
trap 'exit 130' TERM
topo_reap_stale
topo_up

log "lab: booting the Linux GRE router (User-Mode Linux)"
uml_start "$LOGDIR" key,42
if ! uml_wait UML-READY 40; then
  echo "Linux guest did not come up:"; tail -20 "$LOGDIR/uml.log"; exit 1
fi
log "lab: Linux gre1 up: 192.168.60.2 -> 192.168.60.1 key 42, inner 10.88.0.2/30"

# hostA's ping of hostB starts once tunnelgw answers on its lan address (it starts below)
(
  until ip netns exec "$NS_A" ping -n -c 1 -W 1 10.10.1.1 >/dev/null 2>&1; do sleep 0.5; done
  exec ip netns exec "$NS_A" ping -n -i 1 10.20.0.1
) > >(trap '' INT; sed -u 's/^/[hostA ping hostB] /') 2>&1 &
PING_PID=$!

cat <<EOF
--------------------------------------------------------------------------------------------
 hostA (netns $NS_A) pings hostB 10.20.0.1 (netns $NS_B) through GRE key 42.
 More, from another terminal:
   sudo ip netns exec $NS_A ping 10.88.0.2       # Linux router's inner address
   sudo ip netns exec $NS_B ping 10.10.1.2       # hostB -> hostA
   sudo ip netns exec $NS_U tcpdump -ni uml0     # the GRE packets on the wire
 tunnelgw (netns $NS_GW) runs below with $(basename "$CONFIG"); Ctrl-C ends the lab.
--------------------------------------------------------------------------------------------
EOF
LCORE_ARGS=()
[ "$(nproc)" -ge 2 ] || LCORE_ARGS=(-- "--lcores=0@0,1@0")
RUN_ARGS=()
[ -n "$RUN_FOR" ] && RUN_ARGS=(--run-for "$RUN_FOR")
# A handler (not an ignore, which tunnelgw would inherit): Ctrl-C reaches tunnelgw, which
# stops cleanly, and this script then carries on to the clean-up.
trap 'true' INT
ip netns exec "$NS_GW" "$TGW" --config "$CONFIG" "${RUN_ARGS[@]}" "${LCORE_ARGS[@]}"
rc=$?
log "lab: tunnelgw exited with status $rc"
exit $rc

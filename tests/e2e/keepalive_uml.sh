#!/bin/bash
# End to end: tunnelgw's Cisco-style GRE keepalives against the Linux kernel's ip_gre (UML).
# Linux knows nothing of keepalives; it decapsulates the probe and routes the inner packet,
# which is addressed back to tunnelgw, so the tunnel must stay up while Linux runs, carry
# hostA -> hostB traffic, and go down within interval x (retries + 1) once the Linux box is gone.
# usage: keepalive_uml.sh --tunnelgw PATH [--out DIR]. Needs root. Exit 0 pass, 1 fail, 77 skip.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
TGW=""; OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --tunnelgw) TGW=$(realpath "$2"); shift 2;;
    --out) OUT=$2; shift 2;;
    *) echo "unknown argument $1"; exit 2;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
[ -x "$TGW" ] || { echo "FAIL: no tunnelgw binary at '$TGW'"; exit 1; }

W=${OUT:-/var/tmp}/e2e-ka-uml
rm -rf "$W"; mkdir -p "$W"
topo_init ka
GW_PID=""
cleanup() {
  [ -n "$GW_PID" ] && kill -9 "$GW_PID" 2>/dev/null
  uml_stop
  topo_down
  rm -rf "/var/run/dpdk/$TOPO_ID"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
topo_reap_stale
topo_up
RESULT=0
fail() { echo "FAIL e2e keepalive uml: $*"; RESULT=1; }

# 1. Linux first, so its first keepalive is answered. Linux reflects keepalives only with
#    accept_local on the tunnel (without it the probe is a martian: its source is Linux's own
#    address); docs/config-reference.md tells operators the same.
KA_ACCEPT_LOCAL=1 uml_start "$W" "key,42"
uml_wait UML-READY 40 || { fail "UML did not come up"; tail -20 "$W/uml.log"; exit 1; }

if [ "$(nproc)" -ge 2 ]; then LCORES=0@0,1@1; else LCORES=0@0,1@0; fi
cat > "$W/gw.yaml" <<YAML
eal: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$TOPO_ID", "--no-telemetry", "--lcores=$LCORES"]
workers: [1]
idle_backoff_us: 100
stats_interval: 0
ports:
  - {name: lan, device: "net_af_packet0,iface=gw-lan", mac: "$MAC_GW_LAN", addresses: ["10.10.1.1/24"]}
  - {name: wan, device: "net_af_packet1,iface=gw-wan", mac: "$MAC_GW_WAN", addresses: ["192.168.60.1/24"]}
tunnels:
  - name: gre-uml
    local: 192.168.60.1
    remote: 192.168.60.2
    key: 42
    addresses: ["10.88.0.1/30"]
    keepalive: {interval: 1, retries: 2}
routes:
  - {prefix: 10.20.0.0/24, tunnel: gre-uml}
YAML
ip netns exec "$NS_GW" "$TGW" --config "$W/gw.yaml" --run-for 60 --stats-json "$W/stats.json" \
  >"$W/tunnelgw.log" 2>&1 &
GW_PID=$!

# 2. Keepalives answered by Linux for a few seconds, and traffic through the tunnel meanwhile.
sleep 2
out=$(ip netns exec "$NS_A" ping -n -c 5 -i 0.5 -W 2 10.20.0.1 2>&1)
echo "$out" | grep -q ' 5 received' || fail "hostA -> hostB through the tunnel: $(echo "$out" | grep transmitted)"
sleep 3
grep -q "gre-uml is DOWN" "$W/tunnelgw.log" && fail "the tunnel went down while Linux answered"

# 3. The Linux box goes away: down within interval x (retries + 1) = 3 s, said once.
t0=$(date +%s%N)
uml_stop
down=""
for _ in $(seq 80); do
  grep -q "gre-uml is DOWN" "$W/tunnelgw.log" && { down=$(date +%s%N); break; }
  sleep 0.1
done
if [ -z "$down" ]; then
  fail "no DOWN within 8 s after Linux stopped"
else
  echo "tunnel DOWN $(( (down - t0) / 1000000 )) ms after the Linux peer was stopped"
fi
kill -INT "$GW_PID"; wait "$GW_PID"; GW_PID=""
/usr/bin/python3 - "$W/stats.json" <<'PY' || fail "keepalive counters"
import json, sys
t = json.load(open(sys.argv[1]))["tunnels"]["gre-uml"]
print("keepalives sent %d, answered %d, state %s" % (t["keepalives_tx"], t["keepalives_rx"], t["state"]))
sys.exit(0 if t["keepalives_rx"] >= 4 and t["state"] == "DOWN" else 1)
PY
[ "$(grep -c 'gre-uml is DOWN' "$W/tunnelgw.log")" = 1 ] || fail "want exactly one DOWN log line"
if [ $RESULT = 0 ]; then echo "PASS e2e keepalive uml"; rm -rf "$W"; else tail -20 "$W/tunnelgw.log"; fi
exit $RESULT

#!/bin/bash
# End-to-end Layer 2: tunnelgw bridges its LAN port into a gretap tunnel to Linux (User-Mode
# Linux ip_gre gretap), so hostA and Linux's gretap address share one subnet across GRE.
#
#   hostA 10.10.1.2/24 == gw-lan [tunnelgw: bridge domain {lan, gretap}] gw-wan == [UML:
#   gretap1 10.10.1.3/24]                  (namespaces and veths: lib.sh; uml/gretap_host.sh)
#
# Checks: ARP + ping both ways; a DHCP-style broadcast (scapy, UDP 68 -> 67 to
# 255.255.255.255) sent on one side is seen on the other, both ways; `tunnelgw-ctl macs`
# shows both hosts on the right members; the bridge counters and no gre-*/bd-* drops.
#
# usage: gretap_e2e.sh --tunnelgw PATH [--ctl PATH] [--variant plain|key-csum] [--out DIR]
# Needs root. Exit 0 pass, 1 fail, 77 skip (not root).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

TGW=""; CTL=""; VARIANT=plain; OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --tunnelgw) TGW=$(realpath "$2"); shift 2;;
    --ctl) CTL=$(realpath "$2"); shift 2;;
    --variant) VARIANT=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    *) echo "unknown argument $1"; exit 2;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "SKIP: the end-to-end tests need root (network namespaces)"; exit 77; }
[ -x "$TGW" ] || { echo "FAIL: no tunnelgw binary at '$TGW'"; exit 1; }
[ -n "$CTL" ] || CTL=$(dirname "$TGW")/tunnelgw-ctl
for t in /usr/bin/linux.uml tcpdump ethtool ping "$CTL"; do
  command -v "$t" >/dev/null || { echo "FAIL: $t missing (run tools/install-deps.sh)"; exit 1; }
done
case $VARIANT in
  plain)    UML_OPTS="";         TOPTS="";;
  key-csum) UML_OPTS=key,42,csum; TOPTS=$'key: 42\n    checksum: true';;
  *) echo "unknown variant $VARIANT"; exit 2;;
esac

W=${OUT:-/var/tmp}/e2e-gretap-$VARIANT
rm -rf "$W"; mkdir -p "$W"
topo_init l2
GW_PID=""; CAP_PIDS=""
cleanup() {
  [ -n "$GW_PID" ] && kill -INT "$GW_PID" 2>/dev/null
  for p in $CAP_PIDS; do kill "$p" 2>/dev/null; done
  topo_down
  rm -rf "/var/run/dpdk/$TOPO_ID"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
topo_reap_stale
topo_up
ip -n "$NS_A" route del default 2>/dev/null || true

if [ "$(nproc)" -ge 2 ]; then LCORES=0@0,1@1; else LCORES=0@0,1@0; fi
cat > "$W/gw.yaml" <<EOF
# e2e gretap $VARIANT: tunnelgw bridge domain <-> Linux gretap
eal: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$TOPO_ID", "--lcores=$LCORES"]
workers: [1]
idle_backoff_us: 100
stats_interval: 0
ports:
  - name: lan
    device: "net_af_packet0,iface=gw-lan"
    mac: "$MAC_GW_LAN"
  - name: wan
    device: "net_af_packet1,iface=gw-wan"
    mac: "$MAC_GW_WAN"
    addresses: ["192.168.60.1/24"]
tunnels:
  - name: tap-uml
    type: gretap
    local: 192.168.60.1
    remote: 192.168.60.2
    $TOPTS
bridge_domains:
  - name: stretch
    members: [{port: lan}, {tunnel: tap-uml}]
    mac_ageing: 300
EOF

fail() { echo "FAIL e2e gretap $VARIANT: $*"; RESULT=1; }
RESULT=0

ip netns exec "$NS_GW" "$TGW" --config "$W/gw.yaml" --run-for 120 --stats-json "$W/stats.json" \
  >"$W/tunnelgw.log" 2>&1 &
GW_PID=$!
for _ in $(seq 100); do grep -q "running:" "$W/tunnelgw.log" && break; sleep 0.1; done
grep -q "running:" "$W/tunnelgw.log" || { fail "tunnelgw did not start"; tail -20 "$W/tunnelgw.log"; exit 1; }
UML_ROLE=gretap_host.sh uml_start "$W" "$UML_OPTS"
uml_wait UML-READY 90 || { fail "UML did not come up"; tail -20 "$W/uml.log"; exit 1; }
log "tunnelgw and UML up ($VARIANT)"

# 1. ARP and ping across the stretched LAN: hostA -> Linux's gretap address in hostA's subnet
hping "$NS_A" 10.10.1.3 "hostA -> 10.10.1.3 (Linux gretap, same subnet)"
if ip -n "$NS_A" neigh show 10.10.1.3 | grep -q 02:00:00:20:00:03; then
  echo "ok   hostA resolved 10.10.1.3 by ARP across the tunnel"
else
  fail "hostA has no ARP entry for 10.10.1.3: $(ip -n "$NS_A" neigh show)"
fi

# 2. a DHCP-style broadcast each way (scapy): hostA's is seen by tcpdump inside Linux, Linux's
#    by tcpdump on hostA
ip netns exec "$NS_A" /usr/bin/python3 "$HERE/dhcp_probe.py" send ha0 "$MAC_A" 4242
uml_wait UML-DHCP-SEEN 10 && echo "ok   DHCP discover broadcast from hostA seen by Linux: $(grep -m1 '^UML-DHCP-SEEN' "$W/uml.log" | cut -c1-150)" \
  || fail "hostA's DHCP discover broadcast never reached Linux"
ip netns exec "$NS_A" tcpdump -i ha0 -U -n -c 1 -w "$W/dhcp-a.pcap" "udp dst port 67 and ether broadcast and not ether src $MAC_A" \
  >"$W/tcpdump-a.log" 2>&1 &
CAP_PID=$!; CAP_PIDS="$CAP_PID"
for _ in $(seq 50); do grep -q "listening on" "$W/tcpdump-a.log" && break; sleep 0.1; done
touch "$UML_CTL/send"
uml_wait UML-DHCP-SENT 30 || fail "Linux did not send its broadcast"
grep "^UML-PING" "$W/uml.log" | grep -q "UML-PING OK" && echo "ok   Linux -> hostA 10.10.1.2: $(grep -m1 '^UML-PING' "$W/uml.log")" \
  || fail "Linux -> hostA: $(grep -m1 '^UML-PING' "$W/uml.log")"
for _ in $(seq 30); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
kill "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; CAP_PIDS=""
if /usr/bin/python3 "$HERE/dhcp_probe.py" check "$W/dhcp-a.pcap" 4343
then echo "ok   DHCP discover broadcast from Linux seen on hostA's LAN"
else fail "Linux's DHCP discover broadcast not seen on hostA ($W/dhcp-a.pcap)"; fi

# 3. the MAC table as operators see it
ip netns exec "$NS_GW" "$CTL" --file-prefix "$TOPO_ID" macs >"$W/macs.txt" 2>&1 \
  || fail "tunnelgw-ctl macs failed: $(cat "$W/macs.txt")"
cat "$W/macs.txt"
grep -Eq "stretch +$MAC_A +lan " "$W/macs.txt" || fail "macs: hostA ($MAC_A) not on lan"
grep -Eq "stretch +02:00:00:20:00:03 +tap-uml " "$W/macs.txt" || fail "macs: Linux's gretap MAC not on tap-uml"
ip netns exec "$NS_GW" "$CTL" --file-prefix "$TOPO_ID" bridges >"$W/bridges.txt" 2>&1 \
  || fail "tunnelgw-ctl bridges failed: $(cat "$W/bridges.txt")"
cat "$W/bridges.txt"
grep -Eq "^stretch/tap-uml +tunnel +[1-9]" "$W/bridges.txt" || fail "bridges: no packets counted on stretch/tap-uml"

uml_stop
kill -INT "$GW_PID"; gw_rc=0; wait "$GW_PID" || gw_rc=$?; GW_PID=""
[ $gw_rc = 0 ] || fail "tunnelgw exit status $gw_rc after SIGINT"

# 4. tunnelgw's own account
/usr/bin/python3 "$HERE/check_l2_stats.py" "$W/stats.json" stretch tap-uml || fail "tunnelgw counters"

if [ $RESULT = 0 ]; then
  echo "PASS e2e gretap $VARIANT"
  rm -rf "$W"
else
  echo "--- tunnelgw log tail ($W/tunnelgw.log)"; tail -15 "$W/tunnelgw.log"
  echo "--- UML log tail"; tail -15 "$W/uml.log" 2>/dev/null
  echo "FAIL e2e gretap $VARIANT (files in $W)"
fi
exit $RESULT

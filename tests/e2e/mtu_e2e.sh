#!/bin/bash
# End-to-end MTU behaviour: tunnelgw <-> Linux ip_gre (key 42) in User-Mode Linux.
#
#   hostA ==veth== [tunnelgw] ==veth== [UML Linux, gre1] ==veth== hostB     (lib.sh; all MTUs 1500)
#
# The tunnel carries 1500 - 20 - 4 - 4 = 1472 bytes. Checked:
#   1. ping -M do -s 1445 (1473 bytes) from hostA gets ICMP frag needed with mtu 1472 from
#      tunnelgw; -s 1444 (1472 bytes) goes through and is answered.
#   2. oversized pings without DF arrive whole: -s 1460 and -s 1472 (1488 and 1500 bytes),
#      fragmented by tunnelgw before encapsulation and reassembled by hostB.
#      (Not larger: DPDK's af_packet PMD joins its socket to a fanout group with
#      PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles a host's own fragments before
#      tunnelgw sees them, and a datagram above the ~2 KB af_packet frame arrives truncated and
#      is dropped as ip-truncated. For the same reason Linux's outer fragments reach tunnelgw
#      already whole here: its own reassembly is covered by the scenario and unit tests.)
#   3. a 1 MB TCP transfer hostA -> hostB completes intact, and the MSS is clamped both ways:
#      the SYN reaching hostB and the SYN-ACK reaching hostA both carry MSS 1432 (1472 - 40).
# Then tunnelgw's counters: packets fragmented, SYNs clamped, no drop of any gre-* kind.
#
# usage: mtu_e2e.sh --tunnelgw PATH [--out DIR]      Needs root. Exit 0 pass, 1 fail, 77 skip.
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
[ "$(id -u)" = 0 ] || { echo "SKIP: the end-to-end tests need root (network namespaces)"; exit 77; }
[ -x "$TGW" ] || { echo "FAIL: no tunnelgw binary at '$TGW'"; exit 1; }
for t in /usr/bin/linux.uml tshark tcpdump ethtool ping; do
  command -v "$t" >/dev/null || { echo "FAIL: $t missing (run tools/install-deps.sh)"; exit 1; }
done

W=${OUT:-/var/tmp}/e2e-mtu
rm -rf "$W"; mkdir -p "$W"
topo_init mtu
GW_PID=""; CAPS=()
cleanup() {
  [ -n "$GW_PID" ] && kill -INT "$GW_PID" 2>/dev/null
  for p in "${CAPS[@]}"; do kill "$p" 2>/dev/null; done
  topo_down
  rm -rf "/var/run/dpdk/$TOPO_ID"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
topo_reap_stale
topo_up

if [ "$(nproc)" -ge 2 ]; then LCORES=0@0,1@1; else LCORES=0@0,1@0; fi
cat > "$W/gw.yaml" <<EOF
# e2e mtu: tunnelgw <-> Linux ip_gre (key 42); fragmentation and mss_clamp at their defaults
eal: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$TOPO_ID", "--no-telemetry", "--lcores=$LCORES"]
workers: [1]
idle_backoff_us: 100
stats_interval: 0
ports:
  - name: lan
    device: "net_af_packet0,iface=gw-lan"
    mac: "$MAC_GW_LAN"
    addresses: ["10.10.1.1/24"]
  - name: wan
    device: "net_af_packet1,iface=gw-wan"
    mac: "$MAC_GW_WAN"
    addresses: ["192.168.60.1/24"]
tunnels:
  - name: gre-uml
    local: 192.168.60.1
    remote: 192.168.60.2
    key: 42
    addresses: ["10.88.0.1/30"]
routes:
  - {prefix: 10.20.0.0/24, tunnel: gre-uml}
EOF

RESULT=0
fail() { echo "FAIL e2e mtu: $*"; RESULT=1; }
ok() { echo "ok   $*"; }

# SYNs as the far ends see them
capture() {  # NS IF NAME
  ip netns exec "$1" tcpdump -i "$2" -U -n -w "$W/$3.pcap" 'tcp[tcpflags] & tcp-syn != 0' >"$W/$3.log" 2>&1 &
  CAPS+=($!)
  for _ in $(seq 50); do grep -q "listening on" "$W/$3.log" && break; sleep 0.1; done
}
capture "$NS_A" ha0 syn-hostA
capture "$NS_B" hb0 syn-hostB
if [ -n "${MTU_E2E_DEBUG:-}" ]; then
  for x in "$NS_U uml0 underlay" "$NS_B hb0 hostB" "$NS_A ha0 hostA"; do
    set -- $x
    ip netns exec "$1" tcpdump -i "$2" -U -n -s 1600 -w "$W/all-$3.pcap" >/dev/null 2>&1 & CAPS+=($!)
  done
  sleep 1
fi

ip netns exec "$NS_GW" "$TGW" --config "$W/gw.yaml" --run-for 150 --stats-json "$W/stats.json" \
  >"$W/tunnelgw.log" 2>&1 &
GW_PID=$!
ready=0
for _ in $(seq 40); do
  kill -0 "$GW_PID" 2>/dev/null || break
  ip netns exec "$NS_A" ping -n -c 1 -W 0.5 10.10.1.1 >/dev/null 2>&1 && { ready=1; break; }
  sleep 0.25
done
[ $ready = 1 ] || { fail "tunnelgw did not answer ping on 10.10.1.1"; tail -20 "$W/tunnelgw.log"; exit 1; }
uml_start "$W" key,42 ""
uml_wait UML-READY 40 || { fail "UML did not come up"; tail -20 "$W/uml.log"; exit 1; }
log "tunnelgw and UML up"
# the first packet through waits for ARP on the far side
ip netns exec "$NS_A" ping -n -c 3 -i 0.3 -W 2 -w 10 10.20.0.1 >/dev/null 2>&1 || fail "no basic connectivity"

# 1. PMTU: DF at the boundary
out=$(ip netns exec "$NS_A" ping -n -M do -s 1445 -c 2 -i 0.3 -W 2 10.20.0.1 2>&1)
if echo "$out" | grep -qE "mtu ?= ?1472"; then ok "ping -M do -s 1445: $(echo "$out" | grep -m1 -E 'mtu ?= ?1472')"
else fail "ping -M do -s 1445 got no frag-needed with mtu 1472: $(echo "$out" | tail -3 | tr '\n' ' ')"; fi
if ip netns exec "$NS_A" ip route get 10.20.0.1 | grep -q "mtu 1472"; then ok "hostA learned PMTU 1472 for 10.20.0.1"
else fail "hostA route cache has no mtu 1472: $(ip netns exec "$NS_A" ip route get 10.20.0.1)"; fi
out=$(ip netns exec "$NS_A" ping -n -M do -s 1444 -c 3 -i 0.3 -W 2 -w 10 10.20.0.1 2>&1)
if echo "$out" | grep -qE ' 3 (packets )?received'; then ok "ping -M do -s 1444 (1472 bytes) answered"
else fail "ping -M do -s 1444: $(echo "$out" | grep 'packets transmitted')"; fi

# hostA now knows the path MTU and would fragment (or lower its MSS) itself: forget it
ip netns exec "$NS_A" ip route flush cache
if ip netns exec "$NS_A" ip route get 10.20.0.1 | grep -q "mtu 1472"; then fail "cannot flush hostA's PMTU cache"; fi

# 2. no DF: fragmented before encapsulation, reassembled by hostB, answered
for size in 1460 1472; do
  out=$(ip netns exec "$NS_A" ping -n -M dont -s $size -c 3 -i 0.3 -W 2 -w 10 10.20.0.1 2>&1)
  if echo "$out" | grep -qE ' 3 (packets )?received'; then ok "ping -M dont -s $size arrived whole and was answered"
  else fail "ping -M dont -s $size: $(echo "$out" | grep 'packets transmitted')"; fi
done

ip netns exec "$NS_A" ip route flush cache
# 3. TCP: 1 MB hostA -> hostB, checked byte for byte; SYNs captured at both ends
head -c 1000000 /dev/urandom > "$W/data.bin"
ip netns exec "$NS_B" /usr/bin/python3 - "$W/recv.bin" <<'EOF' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.20.0.1", 5001)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30)
with open(sys.argv[1], "wb") as f:
    while (b := c.recv(65536)):
        f.write(b)
EOF
SRV=$!
sleep 0.5
ip netns exec "$NS_A" timeout 30 /usr/bin/python3 - "$W/data.bin" <<'EOF' || fail "TCP client failed"
import socket, sys
c = socket.create_connection(("10.20.0.1", 5001), timeout=20)
c.sendall(open(sys.argv[1], "rb").read())
c.shutdown(socket.SHUT_WR)
c.recv(1)
c.close()
EOF
wait $SRV || fail "TCP server failed"
if cmp -s "$W/data.bin" "$W/recv.bin"; then ok "TCP: 1 MB hostA -> hostB intact"
else fail "TCP: received $(stat -c %s "$W/recv.bin" 2>/dev/null) bytes, not the 1000000 sent"; fi

uml_stop
kill -INT "$GW_PID"; gw_rc=0; wait "$GW_PID" || gw_rc=$?; GW_PID=""
[ $gw_rc = 0 ] || fail "tunnelgw exit status $gw_rc after SIGINT"
sleep 1
for p in "${CAPS[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; CAPS=()

mss() {  # PCAP FLAGS-FILTER: MSS values of the matching SYNs, one per line
  tshark -r "$1" -Y "$2 && tcp.port == 5001" -T fields -e tcp.options.mss_val 2>/dev/null | sort -u
}
syn_b=$(mss "$W/syn-hostB.pcap" "tcp.flags.syn == 1 && tcp.flags.ack == 0")
synack_a=$(mss "$W/syn-hostA.pcap" "tcp.flags.syn == 1 && tcp.flags.ack == 1")
syn_a=$(mss "$W/syn-hostA.pcap" "tcp.flags.syn == 1 && tcp.flags.ack == 0")
[ "$syn_a" = 1460 ] && ok "hostA sent its SYN with MSS 1460" || fail "hostA's SYN MSS '$syn_a', want 1460 (the test assumes a 1500 LAN)"
[ "$syn_b" = 1432 ] && ok "SYN reached hostB with MSS 1432 (clamped entering the tunnel)" || fail "SYN at hostB has MSS '$syn_b', want 1432"
[ "$synack_a" = 1432 ] && ok "SYN-ACK reached hostA with MSS 1432 (clamped leaving the tunnel)" || fail "SYN-ACK at hostA has MSS '$synack_a', want 1432"

/usr/bin/python3 - "$W/stats.json" <<'EOF' || fail "tunnelgw counters"
import json, sys
st = json.load(open(sys.argv[1]))
w, d = st["workers"], st["drops"]
print(f"counters: fragmented {w.get('fragmented')} into {w.get('fragments')}, mss_clamped "
      f"{w.get('mss_clamped')}, drops {({k: v for k, v in d.items() if v})}")
errs = []
if (w.get("fragmented") or 0) < 6: errs.append("want >= 6 packets fragmented (3 pings of 1460, 3 of 1472)")
if (w.get("mss_clamped") or 0) < 2: errs.append("want >= 2 SYNs clamped")
if not d.get("mtu-exceeded"): errs.append("the DF ping should count as mtu-exceeded")
errs += [f"drops[{k}] = {v}" for k, v in d.items() if v and (k.startswith("gre-") or k.startswith("frag"))]
for e in errs: print("  - " + e)
sys.exit(1 if errs else 0)
EOF

if [ $RESULT = 0 ]; then echo "PASS e2e mtu"; rm -rf "$W"
else echo "--- tunnelgw log tail"; tail -15 "$W/tunnelgw.log"; echo "FAIL e2e mtu (files in $W)"; fi
exit $RESULT

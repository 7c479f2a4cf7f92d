#!/bin/bash
# End-to-end: tunnelgw <-> Linux ip_gre (User-Mode Linux) in network namespaces.
#
#   hostA ==veth== [tunnelgw, af_packet ports] ==veth== [UML Linux, gre1] ==veth== hostB
#   (topology and addresses: lib.sh)
#
# Traffic, both ways through the tunnel:
#   hostA -> hostB (10.20.0.1), hostA -> UML inner (10.88.0.2), hostA -> tunnelgw inner (10.88.0.1),
#   hostB -> hostA (10.10.1.2), UML -> tunnelgw inner (10.88.0.1), UML (src 10.20.0.254) -> hostA,
#   one UDP datagram hostA -> hostB.
# Then tshark judges the underlay capture (check_capture.py) and tunnelgw's final counters are read.
#
# Variant ipv6: key 42, and the same pings over IPv6 too (IPv6 inside IPv4 GRE, ND on the LAN side).
#
# usage: gre_e2e.sh --tunnelgw PATH --variant key|csum|seq|csum-key-seq|ipv6 [--out DIR]
# Needs root. Exit 0 pass, 1 fail, 77 skip (not root).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

TGW=""; VARIANT=key; OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --tunnelgw) TGW=$(realpath "$2"); shift 2;;
    --variant) VARIANT=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    *) echo "unknown argument $1"; exit 2;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "SKIP: the end-to-end tests need root (network namespaces)"; exit 77; }
[ -x "$TGW" ] || { echo "FAIL: no tunnelgw binary at '$TGW'"; exit 1; }
for t in /usr/bin/linux.uml tshark tcpdump ethtool ping nc; do
  command -v "$t" >/dev/null || { echo "FAIL: $t missing (run tools/install-deps.sh)"; exit 1; }
done

# variant -> ip-link options for Linux, YAML for tunnelgw, expectations for the capture check
TOPO_V6=0
case $VARIANT in
  key)          UML_OPTS=key,42;          TOPTS="key: 42";        CHK=(--key 42);;
  csum)         UML_OPTS=csum;            TOPTS="checksum: true"; CHK=(--csum);;
  seq)          UML_OPTS=seq;             TOPTS="sequence: true"; CHK=(--seq);;
  csum-key-seq) UML_OPTS=key,42,csum,seq
                TOPTS=$'key: 42\n    checksum: true\n    sequence: true'; CHK=(--key 42 --csum --seq);;
  ipv6)         UML_OPTS=key,42;          TOPTS="key: 42";        CHK=(--key 42); TOPO_V6=1;;
  *) echo "unknown variant $VARIANT"; exit 2;;
esac

if [ "$TOPO_V6" = 1 ]; then
  LAN_ADDRS='"10.10.1.1/24", "2001:db8:a::1/64"'; TUN_ADDRS='"10.88.0.1/30", "2001:db8:88::1/64"'
  V6_ROUTE="  - {prefix: \"2001:db8:b::/64\", tunnel: gre-uml}"
  UML_PINGS="10.88.0.1,10.10.1.2/10.20.0.254,2001:db8:88::1,2001:db8:a::2/2001:db8:b::fe"
else
  LAN_ADDRS='"10.10.1.1/24"'; TUN_ADDRS='"10.88.0.1/30"'; V6_ROUTE=""
  UML_PINGS="10.88.0.1,10.10.1.2/10.20.0.254"
fi
UML_PING_COUNT=$(echo "$UML_PINGS" | tr , '\n' | wc -l)

W=${OUT:-/var/tmp}/e2e-gre-$VARIANT
rm -rf "$W"; mkdir -p "$W"
topo_init e2e
GW_PID=""; CAP_PID=""
cleanup() {
  [ -n "$GW_PID" ] && kill -INT "$GW_PID" 2>/dev/null
  [ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
  topo_down
  rm -rf "/var/run/dpdk/$TOPO_ID"   # the EAL's files for our --file-prefix (kept in memory)
}
trap cleanup EXIT
trap 'exit 1' INT TERM
topo_reap_stale
topo_up

if [ "$(nproc)" -ge 2 ]; then LCORES=0@0,1@1; else LCORES=0@0,1@0; fi
cat > "$W/gw.yaml" <<EOF
# e2e $VARIANT: tunnelgw <-> Linux ip_gre ($UML_OPTS)
eal: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$TOPO_ID", "--no-telemetry", "--lcores=$LCORES"]
workers: [1]
idle_backoff_us: 100
stats_interval: 2
ports:
  - name: lan
    device: "net_af_packet0,iface=gw-lan"
    mac: "$MAC_GW_LAN"
    addresses: [$LAN_ADDRS]
  - name: wan
    device: "net_af_packet1,iface=gw-wan"
    mac: "$MAC_GW_WAN"
    addresses: ["192.168.60.1/24"]
tunnels:
  - name: gre-uml
    local: 192.168.60.1
    remote: 192.168.60.2
    ttl: 64
    addresses: [$TUN_ADDRS]
    $TOPTS
routes:
  - {prefix: 10.20.0.0/24, tunnel: gre-uml}
$V6_ROUTE
EOF

fail() { echo "FAIL e2e gre $VARIANT: $*"; RESULT=1; }
RESULT=0

# 1. underlay capture on the Linux side of the wan veth
ip netns exec "$NS_U" tcpdump -i uml0 -U -n -w "$W/underlay.pcap" >"$W/tcpdump.log" 2>&1 &
CAP_PID=$!
for _ in $(seq 50); do grep -q "listening on" "$W/tcpdump.log" && break; sleep 0.1; done

# 2. tunnelgw, then wait until it answers ARP + ping on its lan address
ip netns exec "$NS_GW" "$TGW" --config "$W/gw.yaml" --run-for 120 --stats-json "$W/stats.json" \
  >"$W/tunnelgw.log" 2>&1 &
GW_PID=$!
ready=0
for _ in $(seq 40); do
  kill -0 "$GW_PID" 2>/dev/null || break
  ip netns exec "$NS_A" ping -n -c 1 -W 0.5 10.10.1.1 >/dev/null 2>&1 && { ready=1; break; }
  sleep 0.25
done
if [ $ready != 1 ]; then
  fail "tunnelgw did not answer ping on 10.10.1.1"; tail -20 "$W/tunnelgw.log"; exit 1
fi
log "tunnelgw up ($VARIANT)"

# 3. the Linux GRE router; it pings tunnelgw's inner address and hostA once gre1 is up
uml_start "$W" "$UML_OPTS" "$UML_PINGS"
uml_wait UML-READY 40 || { fail "UML did not come up"; tail -20 "$W/uml.log"; exit 1; }
log "UML up"

# 4. pings from the hosts, both directions
hping "$NS_A" 10.20.0.1 "hostA -> hostB through the tunnel"
hping "$NS_A" 10.88.0.2 "hostA -> Linux inner address"
hping "$NS_A" 10.88.0.1 "hostA -> tunnelgw inner address"
hping "$NS_B" 10.10.1.2 "hostB -> hostA through the tunnel"
if [ "$TOPO_V6" = 1 ]; then
  hping "$NS_A" 2001:db8:b::1 "hostA -> hostB through the tunnel, IPv6"
  hping "$NS_A" 2001:db8:88::2 "hostA -> Linux inner address, IPv6"
  hping "$NS_A" 2001:db8:88::1 "hostA -> tunnelgw inner address, IPv6"
  hping "$NS_B" 2001:db8:a::2 "hostB -> hostA through the tunnel, IPv6"
fi
# one UDP datagram: the capture check verifies inner UDP checksums too
echo udp-probe | ip netns exec "$NS_A" nc -u -w1 -p 5555 10.20.0.1 9999 2>/dev/null || true

uml_wait UML-PINGS-DONE 40 || fail "UML pings did not finish"
while read -r _ dst src res sum; do
  if [ "$res" = OK ]; then echo "ok   Linux -> $dst (from $src): $sum"; else fail "Linux -> $dst (from $src): $sum"; fi
done < <(grep "^UML-PING " "$W/uml.log")
n_ok=$(grep -c "^UML-PING .* OK" "$W/uml.log")
[ "$n_ok" = "$UML_PING_COUNT" ] || fail "Linux-side pings: $n_ok/$UML_PING_COUNT OK"
uml_stop

# 5. stop tunnelgw cleanly: SIGINT, exit status 0, final counters
kill -INT "$GW_PID"
gw_rc=0; wait "$GW_PID" || gw_rc=$?; GW_PID=""
[ $gw_rc = 0 ] || fail "tunnelgw exit status $gw_rc after SIGINT"
sleep 1  # let tcpdump drain the socket before it stops
kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; CAP_PID=""

# 6. the wire, judged by tshark
/usr/bin/python3 "$HERE/check_capture.py" "$W/underlay.pcap" --gw 192.168.60.1 --peer 192.168.60.2 \
  --min 10 "${CHK[@]}" || fail "underlay capture (see above; $W/underlay.pcap)"

# 7. tunnelgw's own account: traffic on the tunnel, no drop of any gre-* kind
/usr/bin/python3 - "$W/stats.json" <<'EOF' || fail "tunnelgw counters"
import json, sys
try:
    st = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    sys.exit(f"  - stats JSON unreadable: {e}")
t = st.get("tunnels", {}).get("gre-uml", {})
errs = [f"tunnels.gre-uml.{k} = {t.get(k)}, want >= 10" for k in ("rx_packets", "tx_packets") if (t.get(k) or 0) < 10]
errs += [f"drops[{k}] = {v}" for k, v in st.get("drops", {}).items() if v and k.startswith("gre-")]
print(f"counters: tunnel rx {t.get('rx_packets')} tx {t.get('tx_packets')}, "
      f"drops {({k: v for k, v in st.get('drops', {}).items() if v})}")
for e in errs:
    print("  - " + e)
sys.exit(1 if errs else 0)
EOF

if [ $RESULT = 0 ]; then
  echo "PASS e2e gre $VARIANT"
  rm -rf "$W"
else
  echo "--- tunnelgw log tail ($W/tunnelgw.log)"; tail -15 "$W/tunnelgw.log"
  echo "FAIL e2e gre $VARIANT (files in $W)"
fi
exit $RESULT

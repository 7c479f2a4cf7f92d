#!/bin/bash
# End-to-end Layer 2 against Open vSwitch's userspace gretap (netdev datapath, no kernel
# module): a bridge domain {lan, gretap} on tunnelgw, an OVS bridge {hostC port, gre0 (TEB)}.
#
#   hostA 10.77.0.1/24 == gw-lan [tunnelgw] gw-wan 192.168.61.1 ==== ovw-br [OVS br-phy
#   192.168.61.2]  [OVS br-int: gre0 remote 192.168.61.1 key 42] ovc-br ==== hostC 10.77.0.2/24
#
# Checks: ping both ways; a DHCP-style broadcast each way; no gre-*/bd-*/teb-* drops.
# Variants: key (key 42), csum (key 42 + checksum). (OVS 3.1 computes wrong checksums when
# csum and seq are combined: see the testbed notes; not tested together.)
#
# usage: gretap_ovs_e2e.sh --tunnelgw PATH [--variant key|csum] [--out DIR]
# Needs root. Exit 0 pass, 1 fail, 77 skip (not root or no Open vSwitch).
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
command -v ovs-vswitchd >/dev/null || { echo "SKIP: Open vSwitch is not installed"; exit 77; }
[ -x "$TGW" ] || { echo "FAIL: no tunnelgw binary at '$TGW'"; exit 1; }
case $VARIANT in
  key)  OVS_OPTS=(options:key=42);                     TOPTS="key: 42";;
  csum) OVS_OPTS=(options:key=42 options:csum=true);   TOPTS=$'key: 42\n    checksum: true';;
  *) echo "unknown variant $VARIANT"; exit 2;;
esac

W=${OUT:-/var/tmp}/e2e-gretap-ovs-$VARIANT
rm -rf "$W"; mkdir -p "$W"
ID="tgwovs-$$"
NS_A="$ID-a"; NS_GW="$ID-gw"; NS_O="$ID-ovs"; NS_C="$ID-c"
D=$(mktemp -d /var/tmp/tgw-ovs.XXXXXX)   # OVS database, sockets, logs, pid files
MAC_A=02:00:00:77:00:01; MAC_C=02:00:00:77:00:02
GW_PID=""; CAP_PID=""
VSCTL=(ip netns exec "$NS_O" ovs-vsctl --db="unix:$D/db.sock")
cleanup() {
  [ -n "$GW_PID" ] && kill -INT "$GW_PID" 2>/dev/null
  [ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
  local p
  for p in ovs-vswitchd ovsdb-server; do
    [ -f "$D/$p.pid" ] && kill "$(cat "$D/$p.pid")" 2>/dev/null
  done
  sleep 0.3
  for ns in "$NS_A" "$NS_GW" "$NS_O" "$NS_C"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "/var/run/dpdk/$ID" "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for ns in "$NS_A" "$NS_GW" "$NS_O" "$NS_C"; do
  ip netns add "$ns"; ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add ha0 netns "$NS_A" address $MAC_A type veth peer name gw-lan netns "$NS_GW"
ip link add gw-wan netns "$NS_GW" address 02:00:00:61:00:01 type veth peer name ovw-br netns "$NS_O"
ip link add hc0 netns "$NS_C" address $MAC_C type veth peer name ovc-br netns "$NS_O"
for p in "$NS_A ha0" "$NS_GW gw-lan" "$NS_GW gw-wan" "$NS_O ovw-br" "$NS_O ovc-br" "$NS_C hc0"; do
  set -- $p
  ip netns exec "$1" ethtool -K "$2" tx off rx off gso off tso off gro off >/dev/null 2>&1 || true
  ip -n "$1" link set "$2" up
done
ip -n "$NS_A" addr add 10.77.0.1/24 dev ha0
ip -n "$NS_C" addr add 10.77.0.2/24 dev hc0

# Open vSwitch, userspace datapath, private to this run
export OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D OVS_SYSCONFDIR=$D OVS_PKGDATADIR=/usr/share/openvswitch
ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ip netns exec "$NS_O" ovsdb-server "$D/conf.db" --remote="punix:$D/db.sock" --pidfile="$D/ovsdb-server.pid" \
  --unixctl="$D/ovsdb-server.ctl" --log-file="$D/ovsdb-server.log" --detach 2>/dev/null
"${VSCTL[@]}" --no-wait init
ip netns exec "$NS_O" ovs-vswitchd "unix:$D/db.sock" --pidfile="$D/ovs-vswitchd.pid" \
  --unixctl="$D/ovs-vswitchd.ctl" --log-file="$D/ovs-vswitchd.log" --detach 2>/dev/null
"${VSCTL[@]}" add-br br-phy -- set bridge br-phy datapath_type=netdev other_config:hwaddr=02:00:00:61:00:02
"${VSCTL[@]}" add-port br-phy ovw-br
ip -n "$NS_O" addr add 192.168.61.2/24 dev br-phy
ip -n "$NS_O" link set br-phy up
"${VSCTL[@]}" add-br br-int -- set bridge br-int datapath_type=netdev
"${VSCTL[@]}" add-port br-int ovc-br
"${VSCTL[@]}" add-port br-int gre0 -- set interface gre0 type=gre options:remote_ip=192.168.61.1 "${OVS_OPTS[@]}"

if [ "$(nproc)" -ge 2 ]; then LCORES=0@0,1@1; else LCORES=0@0,1@0; fi
cat > "$W/gw.yaml" <<EOF
# e2e gretap against OVS userspace ($VARIANT)
eal: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$ID", "--no-telemetry", "--lcores=$LCORES"]
workers: [1]
idle_backoff_us: 100
stats_interval: 0
ports:
  - name: lan
    device: "net_af_packet0,iface=gw-lan"
  - name: wan
    device: "net_af_packet1,iface=gw-wan"
    mac: "02:00:00:61:00:01"
    addresses: ["192.168.61.1/24"]
tunnels:
  - name: tap-ovs
    type: gretap
    local: 192.168.61.1
    remote: 192.168.61.2
    $TOPTS
bridge_domains:
  - name: stretch
    members: [{port: lan}, {tunnel: tap-ovs}]
EOF

fail() { echo "FAIL e2e gretap-ovs $VARIANT: $*"; RESULT=1; }
RESULT=0
ip netns exec "$NS_GW" "$TGW" --config "$W/gw.yaml" --run-for 120 --stats-json "$W/stats.json" \
  >"$W/tunnelgw.log" 2>&1 &
GW_PID=$!
for _ in $(seq 100); do grep -q "running:" "$W/tunnelgw.log" && break; sleep 0.1; done
grep -q "running:" "$W/tunnelgw.log" || { fail "tunnelgw did not start"; tail -20 "$W/tunnelgw.log"; exit 1; }
log "tunnelgw and OVS up ($VARIANT)"

# OVS resolves its tunnel's underlay neighbour (tunnelgw answers its ARP) on the first packet
# and drops that packet: warm up before counting.
ip netns exec "$NS_A" ping -n -c 2 -i 0.5 -W 1 10.77.0.2 >/dev/null 2>&1
hping "$NS_A" 10.77.0.2 "hostA -> hostC behind OVS (same subnet)"
hping "$NS_C" 10.77.0.1 "hostC -> hostA (same subnet)"

bcast() {  # FROM_NS FROM_IF FROM_MAC TO_NS TO_IF XID WHAT
  local cap="$W/dhcp-$6.pcap"
  ip netns exec "$4" tcpdump -i "$5" -U -n -c 1 -w "$cap" "udp dst port 67 and ether src $3" \
    >"$W/tcpdump-$6.log" 2>&1 &
  CAP_PID=$!
  for _ in $(seq 50); do grep -q "listening on" "$W/tcpdump-$6.log" && break; sleep 0.1; done
  ip netns exec "$1" /usr/bin/python3 "$HERE/dhcp_probe.py" send "$2" "$3" "$6"
  for _ in $(seq 30); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
  kill "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; CAP_PID=""
  if /usr/bin/python3 "$HERE/dhcp_probe.py" check "$cap" "$6"; then echo "ok   $7"
  else fail "$7: not seen ($cap)"; fi
}
bcast "$NS_A" ha0 "$MAC_A" "$NS_C" hc0 5151 "DHCP discover broadcast from hostA seen behind OVS"
bcast "$NS_C" hc0 "$MAC_C" "$NS_A" ha0 5252 "DHCP discover broadcast from hostC seen on hostA's LAN"

kill -INT "$GW_PID"; gw_rc=0; wait "$GW_PID" || gw_rc=$?; GW_PID=""
[ $gw_rc = 0 ] || fail "tunnelgw exit status $gw_rc after SIGINT"
/usr/bin/python3 "$HERE/check_l2_stats.py" "$W/stats.json" stretch tap-ovs || fail "tunnelgw counters"

if [ $RESULT = 0 ]; then
  echo "PASS e2e gretap-ovs $VARIANT"
  rm -rf "$W"
else
  echo "--- tunnelgw log tail ($W/tunnelgw.log)"; tail -15 "$W/tunnelgw.log"
  cp "$D"/ovs-vswitchd.log "$W/" 2>/dev/null
  echo "FAIL e2e gretap-ovs $VARIANT (files in $W)"
fi
exit $RESULT

# shellcheck shell=bash
# Network-namespace topology shared by the end-to-end tests (tests/e2e/) and the lab (tools/lab.sh).
#
#   netns $NS_A          netns $NS_GW              netns $NS_U                  netns $NS_B
#   hostA                tunnelgw (DPDK,           UML Linux GRE router         hostB
#                        af_packet ports)          (vec0, vec1 = raw sockets)
#   ha0 ============ gw-lan    gw-wan ============ uml0 ~vec0    vec1~ uml1 ============ hb0
#   10.10.1.2/24     lan 10.10.1.1/24              192.168.60.2/24  10.20.0.254/24    10.20.0.1/24
#                    wan 192.168.60.1/24 ~~~~~~~~~ gre1 10.88.0.2/30
#                    tunnel 10.88.0.1/30           route 10.10.1.0/24 dev gre1
# With TOPO_V6=1 also IPv6 (inner only; the underlay stays IPv4):
#   2001:db8:a::2/64  lan 2001:db8:a::1/64             gre1 2001:db8:88::2/64  2001:db8:b::fe/64  2001:db8:b::1/64
#                     tunnel 2001:db8:88::1/64         route 2001:db8:a::/64 dev gre1
#
# Namespace names carry the owning shell's PID (tgw<tag>-<pid>-<role>), so parallel and stale
# runs never collide; topo_reap_stale removes namespaces whose owner is gone.
# Callers: topo_init TAG; topo_up; ...; topo_down (from a trap).

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

MAC_A=02:00:00:00:01:02        # hostA
MAC_GW_LAN=02:00:00:00:01:01   # tunnelgw lan (also set in the YAML: the gateway programs it)
MAC_GW_WAN=02:00:00:00:02:01   # tunnelgw wan
MAC_B=02:00:00:20:00:01        # hostB

log() { echo "[$(date +%H:%M:%S)] $*"; }

# topo_init TAG: choose the namespace names for this run.
topo_init() {
  local tag=$1
  TOPO_ID="tgw${tag}-$$"
  NS_A="$TOPO_ID-a"; NS_GW="$TOPO_ID-gw"; NS_U="$TOPO_ID-uml"; NS_B="$TOPO_ID-b"
  UML_PID=""
}

# Remove namespaces (and the processes inside them) left by runs whose shell is gone.
topo_reap_stale() {
  local ns pid p
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^tgw[a-z0-9]*-[0-9]+-' || true); do
    pid=$(echo "$ns" | sed -E 's/^tgw[a-z0-9]*-([0-9]+)-.*/\1/')
    if ! kill -0 "$pid" 2>/dev/null; then
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null && echo "removed stale netns $ns"
    fi
  done
}

_veth_quiet() {  # NS IF [all]: up, no IPv6 noise, offloads off
  local ns=$1 ifc=$2
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1"
  # af_packet would otherwise hand DPDK / UML frames with partial checksums or GSO super-frames
  ip netns exec "$ns" ethtool -K "$ifc" tx off rx off gso off tso off gro off >/dev/null 2>&1 || true
  ip -n "$ns" link set "$ifc" up
}

topo_up() {
  local ns
  for ns in "$NS_A" "$NS_GW" "$NS_U" "$NS_B"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip link add ha0 netns "$NS_A" address $MAC_A type veth peer name gw-lan netns "$NS_GW" address $MAC_GW_LAN
  ip link add gw-wan netns "$NS_GW" address $MAC_GW_WAN type veth peer name uml0 netns "$NS_U"
  ip link add uml1 netns "$NS_U" type veth peer name hb0 netns "$NS_B" address $MAC_B
  _veth_quiet "$NS_GW" gw-lan; _veth_quiet "$NS_GW" gw-wan
  _veth_quiet "$NS_U" uml0;    _veth_quiet "$NS_U" uml1
  _veth_quiet "$NS_A" ha0;     _veth_quiet "$NS_B" hb0
  ip -n "$NS_A" addr add 10.10.1.2/24 dev ha0
  ip -n "$NS_A" route add default via 10.10.1.1
  ip -n "$NS_B" addr add 10.20.0.1/24 dev hb0
  ip -n "$NS_B" route add default via 10.20.0.254
  if [ "${TOPO_V6:-0}" = 1 ]; then
    ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.ha0.disable_ipv6=0
    ip netns exec "$NS_B" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.hb0.disable_ipv6=0
    ip -n "$NS_A" addr add 2001:db8:a::2/64 dev ha0 nodad
    ip -n "$NS_A" route add default via 2001:db8:a::1
    ip -n "$NS_B" addr add 2001:db8:b::1/64 dev hb0 nodad
    ip -n "$NS_B" route add default via 2001:db8:b::fe
  fi
}

topo_down() {
  uml_stop
  local ns p
  for ns in "$NS_A" "$NS_GW" "$NS_U" "$NS_B"; do
    [ -n "$ns" ] || continue
    # only our own leftovers live in these namespaces (pings, captures, a gateway still running)
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  done
  sleep 0.2
  for ns in "$NS_A" "$NS_GW" "$NS_U" "$NS_B"; do
    [ -n "$ns" ] || continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# uml_start LOGDIR GRE_OPTS [PINGS]: boot the UML GRE router in $NS_U, console to LOGDIR/uml.log.
# GRE_OPTS: comma-separated ip-link options (key,42,csum,seq). PINGS: see uml/gre_router.sh.
# UML_ROLE: another role script in uml/ (default gre_router.sh); UML_ENV: more VAR=value words.
uml_start() {
  local dir=$1 opts=$2 pings=${3:-}
  # The guest sees the host's / but mounts its own /tmp and /run: the control directory it
  # polls for "stop" must live elsewhere.
  UML_CTL=$(mktemp -d /var/tmp/tgw-uml.XXXXXX); mkdir -p "$UML_CTL/run"
  # setsid: the guest must not see the terminal's Ctrl-C; it is stopped through $UML_CTL/stop
  TMPDIR=/dev/shm setsid ip netns exec "$NS_U" timeout -k 5 "${UML_TIMEOUT:-900}" /usr/bin/linux.uml \
    mem=128M rootfstype=hostfs rootflags=/ ro quiet "ipv6.disable=$((1 - ${TOPO_V6:-0}))" V6="${TOPO_V6:-0}" \
    init="$E2E_LIB_DIR/uml/init.sh" ROLE="${UML_ROLE:-gre_router.sh}" CTL="$UML_CTL" TTL="${UML_TIMEOUT:-900}" \
    GRE_OPTS="$opts" PINGS="$pings" KA_ACCEPT_LOCAL="${KA_ACCEPT_LOCAL:-0}" ${UML_ENV:-} \
    vec0:transport=raw,ifname=uml0 vec1:transport=raw,ifname=uml1 \
    con=null con0=null,fd:1 uml_dir="$UML_CTL/run" umid=uml \
    </dev/null >"$dir/uml.log" 2>&1 &
  UML_PID=$!
  UML_LOG="$dir/uml.log"
}

# uml_wait WORD SECONDS: wait until the guest printed a line starting with WORD.
uml_wait() {
  local word=$1 t=$(( $2 * 10 ))
  while [ $t -gt 0 ]; do
    grep -q "^$word" "$UML_LOG" 2>/dev/null && return 0
    grep -q "^UML-ERROR" "$UML_LOG" 2>/dev/null && { grep "^UML-ERROR" "$UML_LOG"; return 1; }
    kill -0 "$UML_PID" 2>/dev/null || { echo "UML exited early"; return 1; }
    sleep 0.1; t=$((t - 1))
  done
  echo "timeout waiting for $word from UML"; return 1
}

uml_stop() {
  [ -n "${UML_PID:-}" ] || return 0
  touch "$UML_CTL/stop" 2>/dev/null || true
  local t=50
  while kill -0 "$UML_PID" 2>/dev/null && [ $t -gt 0 ]; do sleep 0.1; t=$((t - 1)); done
  if kill -0 "$UML_PID" 2>/dev/null; then
    kill "$UML_PID" 2>/dev/null; sleep 0.5; kill -9 "$UML_PID" 2>/dev/null || true
  fi
  wait "$UML_PID" 2>/dev/null || true
  rm -rf "$UML_CTL"
  UML_PID=""
}

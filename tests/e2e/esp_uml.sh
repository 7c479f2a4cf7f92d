#!/bin/bash
# End-to-end: tunnelgw's ESP <-> the Linux kernel's xfrm (User-Mode Linux), network namespaces.
#
#   hostA ==veth== [tunnelgw, af_packet ports] ==veth== [UML Linux, xfrm] ==veth== hostB
#   (topology and addresses: lib.sh; the Linux side: uml/esp_router.sh)
#
# Variants: gre-gcm, gre-cbc (GRE over ESP tunnel mode, GRE endpoints = ESP endpoints) and
# ip-gcm, ip-cbc (a plain ipsec tunnel for 10.20.0.0/24), AES-GCM-128 or AES-CBC-128 +
# HMAC-SHA-256-128. hostA and hostB ping each other across; then tshark decrypts and
# authenticates every ESP packet of the underlay capture in both directions and finds no
# cleartext, and tunnelgw's per-SA counters and drops are read.
#
# usage: esp_uml.sh --tunnelgw PATH --variant gre-gcm|gre-cbc|ip-gcm|ip-cbc [--out DIR]
# Needs root. Exit 0 pass, 1 fail, 77 skip (not root).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

TGW=""; VARIANT=gre-gcm; OUT=""
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
for t in /usr/bin/linux.uml tshark tcpdump ethtool ping; do
  command -v "$t" >/dev/null || { echo "FAIL: $t missing (run tools/install-deps.sh)"; exit 1; }
done
MODE=${VARIANT%%-*}; ALG=${VARIANT#*-}
case $MODE-$ALG in gre-gcm|gre-cbc|ip-gcm|ip-cbc) ;; *) echo "unknown variant $VARIANT"; exit 2;; esac

# TEST keys, the same as uml/esp_router.sh; tshark's esp_sa UAT lines for both directions.
G=192.168.60.1; L=192.168.60.2
if [ "$ALG" = gcm ]; then
  SA_OUT="{name: to-linux, spi: 0x1001, direction: out, mode: tunnel, encryption: aes-gcm-128, key: 0x000102030405060708090a0b0c0d0e0fa0a1a2a3}"
  SA_IN="{name: from-linux, spi: 0x1002, direction: in, mode: tunnel, encryption: aes-gcm-128, key: 0x404142434445464748494a4b4c4d4e4fb0b1b2b3, replay_window: 1024}"
  UAT=("\"IPv4\",\"$G\",\"$L\",\"0x00001001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x000102030405060708090a0b0c0d0e0fa0a1a2a3\",\"NULL\",\"\""
       "\"IPv4\",\"$L\",\"$G\",\"0x00001002\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x404142434445464748494a4b4c4d4e4fb0b1b2b3\",\"NULL\",\"\"")
else
  SA_OUT="{name: to-linux, spi: 0x2001, direction: out, mode: tunnel, encryption: aes-cbc-128, integrity: hmac-sha256-128, key: 0x101112131415161718191a1b1c1d1e1f, auth_key: 0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f}"
  SA_IN="{name: from-linux, spi: 0x2002, direction: in, mode: tunnel, encryption: aes-cbc-128, integrity: hmac-sha256-128, key: 0x505152535455565758595a5b5c5d5e5f, auth_key: 0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f}"
  UAT=("\"IPv4\",\"$G\",\"$L\",\"0x00002001\",\"AES-CBC [RFC3602]\",\"0x101112131415161718191a1b1c1d1e1f\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\""
       "\"IPv4\",\"$L\",\"$G\",\"0x00002002\",\"AES-CBC [RFC3602]\",\"0x505152535455565758595a5b5c5d5e5f\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\"")
fi
if [ "$MODE" = gre ]; then
  TUNNEL="  - {name: esp-uml, type: gre, local: $G, remote: $L, key: 42, ttl: 64, addresses: [\"10.88.0.1/30\"], protection: {out: to-linux, in: [from-linux]}}"
else
  TUNNEL="  - {name: esp-uml, type: ipsec, local: $G, remote: $L, protection: {out: to-linux, in: [from-linux]}}"
fi

W=${OUT:-/var/tmp}/e2e-esp-$VARIANT
rm -rf "$W"; mkdir -p "$W"
topo_init esp
GW_PID=""; CAP_PID=""
cleanup() {
  [ -n "$GW_PID" ] && kill -INT "$GW_PID" 2>/dev/null
  [ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
  topo_down
  rm -rf "/var/run/dpdk/$TOPO_ID"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
topo_reap_stale
topo_up

if [ "$(nproc)" -ge 2 ]; then LCORES=0@0,1@1; else LCORES=0@0,1@0; fi
cat > "$W/gw.yaml" <<EOF
# e2e esp $VARIANT: tunnelgw <-> Linux xfrm
eal: ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", "$TOPO_ID", "--no-telemetry", "--lcores=$LCORES"]
workers: [1]
idle_backoff_us: 100
stats_interval: 0
ports:
  - {name: lan, device: "net_af_packet0,iface=gw-lan", mac: "$MAC_GW_LAN", addresses: ["10.10.1.1/24"]}
  - {name: wan, device: "net_af_packet1,iface=gw-wan", mac: "$MAC_GW_WAN", addresses: ["$G/24"]}
security_associations:
  - $SA_OUT
  - $SA_IN
tunnels:
$TUNNEL
routes:
  - {prefix: 10.20.0.0/24, tunnel: esp-uml}
EOF

fail() { echo "FAIL e2e esp $VARIANT: $*"; RESULT=1; }
RESULT=0

ip netns exec "$NS_U" tcpdump -i uml0 -U -n -w "$W/underlay.pcap" >"$W/tcpdump.log" 2>&1 &
CAP_PID=$!
for _ in $(seq 50); do grep -q "listening on" "$W/tcpdump.log" && break; sleep 0.1; done

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

UML_ROLE=esp_router.sh UML_ENV="ESP_MODE=$MODE ESP_ALG=$ALG" uml_start "$W" "" ""
uml_wait UML-READY 40 || { fail "UML did not come up"; tail -20 "$W/uml.log"; exit 1; }
grep "^UML-ERROR" "$W/uml.log" && fail "the Linux side could not be set up"
log "UML up (xfrm $MODE $ALG)"

hping() {  # NS TARGET WHAT
  local out
  out=$(ip netns exec "$1" ping -n -c 3 -i 0.3 -W 2 -w 10 "$2" 2>&1)
  if echo "$out" | grep -qE ' 3 (packets )?received'; then
    echo "ok   $3: $(echo "$out" | grep 'packets transmitted')"
  else
    fail "$3: $(echo "$out" | grep 'packets transmitted')"
  fi
}
hping "$NS_A" 10.20.0.1 "hostA -> hostB across ESP"
hping "$NS_B" 10.10.1.2 "hostB -> hostA across ESP"
if [ "$MODE" = gre ]; then
  hping "$NS_A" 10.88.0.2 "hostA -> Linux GRE inner address"
  hping "$NS_A" 10.88.0.1 "hostA -> tunnelgw GRE inner address"
fi
uml_stop
grep "^UML-XFRM" "$W/uml.log" | sed 's/^/  /'

kill -INT "$GW_PID"
gw_rc=0; wait "$GW_PID" || gw_rc=$?; GW_PID=""
[ $gw_rc = 0 ] || fail "tunnelgw exit status $gw_rc after SIGINT"
sleep 1
kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; CAP_PID=""

# The wire: every IPv4 packet between the endpoints is ESP, and tshark authenticates each one
# with the SA of its direction (a wrong key still shows a payload: icv_good must be 1).
targs=(-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE)
for u in "${UAT[@]}"; do targs+=(-o "uat:esp_sa:$u"); done
tshark -r "$W/underlay.pcap" "${targs[@]}" -Y "ip" -T fields -E occurrence=f -e ip.src -e ip.proto -e esp.spi \
  -e esp.sequence -e esp.icv_good -e esp.icv_bad -e _ws.col.Info > "$W/tshark.txt" 2>/dev/null
/usr/bin/python3 - "$W/tshark.txt" "$G" "$L" <<'EOF' || fail "underlay capture ($W/underlay.pcap)"
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
g, l = sys.argv[2], sys.argv[3]
errs, n = [], {g: 0, l: 0}
for src, proto, spi, seq, good, bad, info in rows:
    if proto != "50":
        errs.append(f"not ESP on the underlay (cleartext): {src} proto {proto}: {info}")
        continue
    n[src] = n.get(src, 0) + 1
    if good != "1" or bad == "1":
        errs.append(f"ESP from {src} SPI {spi} seq {seq}: icv_good={good!r} icv_bad={bad!r}")
print(f"underlay: {n[g]} ESP packets from tunnelgw, {n[l]} from Linux, all authenticated by tshark" if not errs else "")
errs += [f"only {n[x]} ESP packets from {x}" for x in (g, l) if n[x] < 6]
for e in errs[:20]:
    print("  - " + e)
sys.exit(1 if errs else 0)
EOF

/usr/bin/python3 - "$W/stats.json" <<'EOF' || fail "tunnelgw counters"
import json, sys
st = json.load(open(sys.argv[1]))
sas, drops = st.get("sas", {}), {k: v for k, v in st.get("drops", {}).items() if v}
print("SAs: " + ", ".join(f"{k} {v.get('packets')} packets" for k, v in sas.items()) + f"; drops {drops}")
errs = [f"sas.{k}.packets = {sas.get(k, {}).get('packets')}, want >= 6" for k in ("to-linux", "from-linux")
        if (sas.get(k, {}).get("packets") or 0) < 6]
errs += [f"drops[{k}] = {v}" for k, v in drops.items() if k.startswith(("esp-", "sa-", "gre-"))]
for e in errs:
    print("  - " + e)
sys.exit(1 if errs else 0)
EOF

if [ $RESULT = 0 ]; then
  echo "PASS e2e esp $VARIANT"
  rm -rf "$W"
else
  echo "--- tunnelgw log tail ($W/tunnelgw.log)"; tail -15 "$W/tunnelgw.log"
  echo "--- UML log tail ($W/uml.log)"; tail -15 "$W/uml.log"
  echo "FAIL e2e esp $VARIANT (files in $W)"
fi
exit $RESULT

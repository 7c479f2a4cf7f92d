# shellcheck shell=sh
# UML role: a Linux router with an ip_gre tunnel (sourced by init.sh).
#
#   vec0 (underlay)  192.168.60.2/24  -- tunnelgw wan 192.168.60.1
#   gre1             local 192.168.60.2 remote 192.168.60.1 $GRE_OPTS, inner 10.88.0.2/30
#   vec1 (LAN B)     10.20.0.254/24   -- hostB 10.20.0.1
#   route 10.10.1.0/24 (tunnelgw's LAN, hostA) dev gre1
#   with V6=1 also: vec1 2001:db8:b::fe/64, gre1 2001:db8:88::2/64, route 2001:db8:a::/64 dev gre1
#
# Environment (from the UML command line; no spaces allowed there, so lists use commas):
#   GRE_OPTS   ip-link options for gre1, e.g. key,42,csum,seq
#   PINGS      optional probes to run once up: target[/source] list, e.g. 10.88.0.1,10.10.1.2/10.20.0.254
#   CTL        host directory: the guest waits for $CTL/stop before powering off
echo 1 > /proc/sys/net/ipv4/ip_forward
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
modprobe ip_gre || echo "UML-ERROR modprobe ip_gre failed"
for i in vec0 vec1; do
  # no offloads towards the raw socket: the wire sees only complete, checksummed frames
  ethtool -K $i tx off sg off tso off gso off gro off rx off >/dev/null 2>&1
done
ip link set vec0 address 02:00:00:60:00:02 up
ip addr add 192.168.60.2/24 dev vec0
ip link set vec1 address 02:00:00:20:00:fe up
ip addr add 10.20.0.254/24 dev vec1
# shellcheck disable=SC2046  # GRE_OPTS is a word list on purpose
ip link add gre1 type gre local 192.168.60.2 remote 192.168.60.1 ttl 64 $(echo "${GRE_OPTS:-}" | tr , ' ') \
  || echo "UML-ERROR ip link add gre1 failed"
ip addr add 10.88.0.2/30 dev gre1
ip link set gre1 up
# Cisco-style keepalives come back decapsulated with this box's own address as source: Linux
# drops them as martians unless the tunnel accepts local sources (KA_ACCEPT_LOCAL=1).
[ "${KA_ACCEPT_LOCAL:-0}" = 1 ] && sysctl -qw net.ipv4.conf.gre1.accept_local=1
ip route add 10.10.1.0/24 dev gre1
if [ "${V6:-0}" = 1 ]; then
  modprobe ipv6 2>/dev/null   # built in or a module, depending on the UML kernel
  sysctl -qw net.ipv6.conf.all.forwarding=1
  ip -6 addr add 2001:db8:b::fe/64 dev vec1 nodad
  ip -6 addr add 2001:db8:88::2/64 dev gre1 nodad
  ip -6 route add 2001:db8:a::/64 dev gre1
fi
ip -d link show gre1 | sed -n '1,3p'
echo "UML-READY"

# Probes from the guest's side, each reported as one line the host can grep:
#   UML-PING <target> <source|-> OK|FAIL <ping summary>
for p in $(echo "${PINGS:-}" | tr , ' '); do
  dst=${p%%/*}; src=-; case $p in */*) src=${p#*/};; esac
  if [ "$src" = - ]; then set -- ; else set -- -I "$src"; fi
  # the first echo may wait for ARP on the far side: allow a few tries
  out=$(ping -n -c 3 -i 0.3 -W 2 -w 8 "$@" "$dst" 2>&1)
  sum=$(echo "$out" | grep 'packets transmitted')
  got=$(echo "$sum" | sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p')
  if [ "${got:-0}" -ge 3 ]; then r=OK; else r=FAIL; fi
  echo "UML-PING $dst $src $r $sum"
done
echo "UML-PINGS-DONE"

# Wait for the host to say stop, giving up after TTL seconds. A lookup of a missing name may be
# cached by the guest (negative dentry), but a directory listing goes to the host every time.
n=0
# shellcheck disable=SC2010  # ls on purpose: see above
while ! ls "$CTL" | grep -qx stop && [ $n -lt $((${TTL:-600} * 5)) ]; do sleep 0.2; n=$((n + 1)); done

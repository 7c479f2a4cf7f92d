# shellcheck shell=sh
# UML role: a Linux bridge joining a gretap tunnel and a LAN port (sourced by init.sh), i.e. the
# far site of a stretched LAN:
#
#   vec0 (underlay)  192.168.60.2/24  -- tunnelgw wan 192.168.60.1
#   gretap1          local 192.168.60.2 remote 192.168.60.1 $GRE_OPTS  --+
#   vec1 (LAN B)     no address, hostB 10.10.1.3/24 behind it            --+-- br0 (no address)
#
# Environment: GRE_OPTS (ip-link options, commas for spaces), CTL (host directory; the guest
# powers off once $CTL/stop exists).
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
modprobe ip_gre || echo "UML-ERROR modprobe ip_gre failed"
modprobe bridge || echo "UML-ERROR modprobe bridge failed"
for i in vec0 vec1; do
  ethtool -K $i tx off tso off gso off rx off >/dev/null 2>&1
done
ip link set vec0 address 02:00:00:60:00:02 up
ip addr add 192.168.60.2/24 dev vec0
# shellcheck disable=SC2046  # GRE_OPTS is a word list on purpose
ip link add gretap1 type gretap local 192.168.60.2 remote 192.168.60.1 ttl 64 \
  $(echo "${GRE_OPTS:-}" | tr , ' ') || echo "UML-ERROR ip link add gretap1 failed"
ip link add br0 type bridge
ip link set br0 type bridge stp_state 0 forward_delay 0
ip link set gretap1 master br0
ip link set vec1 master br0
ip link set vec1 up
ip link set gretap1 up
ip link set br0 up
ip -d link show gretap1 | sed -n '1,3p'
echo "UML-READY"
n=0
# shellcheck disable=SC2010  # ls on purpose: a directory listing is never cached by the guest
while ! ls "$CTL" | grep -qx stop && [ $n -lt $((${TTL:-600} * 5)) ]; do
  [ $((n % 25)) = 0 ] && bridge fdb show br br0 2>/dev/null | grep -v permanent | sed 's/^/UML-FDB /'
  sleep 0.2; n=$((n + 1))
done

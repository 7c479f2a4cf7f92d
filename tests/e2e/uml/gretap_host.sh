# shellcheck shell=sh
# UML role: the far site of a stretched LAN as Linux sees it: a gretap device with an address
# in hostA's subnet (sourced by init.sh).
#
#   vec0 (underlay)  192.168.60.2/24  -- tunnelgw wan 192.168.60.1
#   gretap1          local 192.168.60.2 remote 192.168.60.1 $GRE_OPTS, 10.10.1.3/24
#
# (Not a Linux bridge with vec1: UML's raw transport reads its own transmitted frames back on
# a second socket, so a bridge there would learn every forwarded MAC on the wrong port.)
# Once up it listens for a DHCP discover (UDP to port 67) on gretap1, pings hostA 10.10.1.2,
# then broadcasts three DHCP discovers itself; each result is one console line:
#   UML-DHCP-SEEN <tcpdump line> | UML-PING OK|FAIL <summary> | UML-DHCP-SENT | UML-ERROR ...
# Environment: GRE_OPTS (ip-link options, commas for spaces), CTL (host directory; the guest
# powers off once $CTL/stop exists, or sends its broadcasts once $CTL/send exists).
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
modprobe ip_gre || echo "UML-ERROR modprobe ip_gre failed"
ethtool -K vec0 tx off tso off gso off rx off >/dev/null 2>&1
ip link set vec0 address 02:00:00:60:00:02 up
ip addr add 192.168.60.2/24 dev vec0
# shellcheck disable=SC2046  # GRE_OPTS is a word list on purpose
ip link add gretap1 type gretap local 192.168.60.2 remote 192.168.60.1 ttl 64 \
  $(echo "${GRE_OPTS:-}" | tr , ' ') || echo "UML-ERROR ip link add gretap1 failed"
ip link set gretap1 address 02:00:00:20:00:03 up
ip addr add 10.10.1.3/24 dev gretap1
(tcpdump -l -n -e -i gretap1 -c 1 'udp dst port 67 and ether broadcast' 2>/dev/null |
  sed -u 's/^/UML-DHCP-SEEN /') &
sleep 1
ip -d link show gretap1 | sed -n '1,3p'
echo "UML-READY"
n=0
# shellcheck disable=SC2010  # ls on purpose: a directory listing is never cached by the guest
while ! ls "$CTL" | grep -qx send && [ $n -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
out=$(ping -n -c 3 -i 0.3 -W 2 -w 8 10.10.1.2 2>&1)
sum=$(echo "$out" | grep 'packets transmitted')
got=$(echo "$sum" | sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p')
if [ "${got:-0}" -ge 3 ]; then echo "UML-PING OK $sum"; else echo "UML-PING FAIL $sum"; fi
# init.sh (in this directory) is $0; the probe is one level up, on the host's read-only /.
/usr/bin/python3 "$E2E_DIR/dhcp_probe.py" send gretap1 02:00:00:20:00:03 4343 \
  && echo "UML-DHCP-SENT" || echo "UML-ERROR scapy send failed"
n=0
# shellcheck disable=SC2010
while ! ls "$CTL" | grep -qx stop && [ $n -lt $((${TTL:-600} * 5)) ]; do sleep 0.2; n=$((n + 1)); done

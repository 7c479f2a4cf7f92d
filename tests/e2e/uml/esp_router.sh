# shellcheck shell=sh
# UML role: a Linux router whose traffic to tunnelgw is protected by the kernel's xfrm ESP
# (sourced by init.sh; the same addresses as gre_router.sh, see lib.sh).
#
#   vec0 (underlay)  192.168.60.2/24  -- tunnelgw wan 192.168.60.1 (the ESP endpoints)
#   vec1 (LAN B)     10.20.0.254/24   -- hostB 10.20.0.1
#   ESP_MODE=gre: gre1 local 192.168.60.2 remote 192.168.60.1 key 42, inner 10.88.0.2/30,
#                 route 10.10.1.0/24 dev gre1; xfrm protects proto gre between the endpoints
#                 (tunnel mode, GRE endpoints = ESP endpoints)
#   ESP_MODE=ip:  plain ESP tunnel mode for 10.20.0.0/24 <-> 10.10.1.0/24 (in, out and fwd)
#   ESP_ALG=gcm:  rfc4106(gcm(aes)) 128 + salt, ICV 16;  ESP_ALG=cbc: cbc(aes) 128 + hmac(sha256) 128
# SPIs and keys: tunnelgw -> Linux 0x1001 / 0x2001, Linux -> tunnelgw 0x1002 / 0x2002 (TEST keys,
# the same as esp_uml.sh writes into tunnelgw's YAML).
echo 1 > /proc/sys/net/ipv4/ip_forward
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
for m in esp4 xfrm_user gcm ghash-generic ctr seqiv echainiv authenc hmac sha256_generic cbc ip_gre; do
  modprobe $m 2>/dev/null
done
for i in vec0 vec1; do
  ethtool -K $i tx off tso off gso off rx off >/dev/null 2>&1
done
ip link set vec0 address 02:00:00:60:00:02 up
ip addr add 192.168.60.2/24 dev vec0
ip link set vec1 address 02:00:00:20:00:fe up
ip addr add 10.20.0.254/24 dev vec1
G=192.168.60.1; L=192.168.60.2
if [ "$ESP_ALG" = cbc ]; then
  ip xfrm state add src $G dst $L proto esp spi 0x2001 reqid 1 mode tunnel replay-window 64 \
     enc 'cbc(aes)' 0x101112131415161718191a1b1c1d1e1f \
     auth-trunc 'hmac(sha256)' 0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f 128 \
     || echo "UML-ERROR xfrm state in"
  ip xfrm state add src $L dst $G proto esp spi 0x2002 reqid 1 mode tunnel \
     enc 'cbc(aes)' 0x505152535455565758595a5b5c5d5e5f \
     auth-trunc 'hmac(sha256)' 0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f 128 \
     || echo "UML-ERROR xfrm state out"
else
  # RFC 4106: 16-byte AES key + 4-byte salt, ICV 128 bits
  ip xfrm state add src $G dst $L proto esp spi 0x1001 reqid 1 mode tunnel replay-window 64 \
     aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e0fa0a1a2a3 128 || echo "UML-ERROR xfrm state in"
  ip xfrm state add src $L dst $G proto esp spi 0x1002 reqid 1 mode tunnel \
     aead 'rfc4106(gcm(aes))' 0x404142434445464748494a4b4c4d4e4fb0b1b2b3 128 || echo "UML-ERROR xfrm state out"
fi
tmpl_in="tmpl src $G dst $L proto esp reqid 1 mode tunnel"
tmpl_out="tmpl src $L dst $G proto esp reqid 1 mode tunnel"
if [ "$ESP_MODE" = gre ]; then
  ip xfrm policy add src $G dst $L proto gre dir in $tmpl_in || echo "UML-ERROR xfrm policy in"
  ip xfrm policy add src $L dst $G proto gre dir out $tmpl_out || echo "UML-ERROR xfrm policy out"
  ip link add gre1 type gre local $L remote $G ttl 64 key 42 || echo "UML-ERROR ip link add gre1 failed"
  ip addr add 10.88.0.2/30 dev gre1
  ip link set gre1 up
  ip route add 10.10.1.0/24 dev gre1
else
  ip xfrm policy add src 10.10.1.0/24 dst 10.20.0.0/24 dir in $tmpl_in || echo "UML-ERROR xfrm policy in"
  ip xfrm policy add src 10.10.1.0/24 dst 10.20.0.0/24 dir fwd $tmpl_in || echo "UML-ERROR xfrm policy fwd"
  ip xfrm policy add src 10.20.0.0/24 dst 10.10.1.0/24 dir out $tmpl_out || echo "UML-ERROR xfrm policy out"
  ip route add 10.10.1.0/24 via $G dev vec0
fi
ip xfrm state | grep -E '^src|proto esp' | sed 's/^/xfrm: /'
echo "UML-READY"

# Wait for the host to say stop (see gre_router.sh), then report what the kernel counted.
n=0
# shellcheck disable=SC2010  # ls on purpose: a negative dentry may be cached, a listing is not
while ! ls "$CTL" | grep -qx stop && [ $n -lt $((${TTL:-600} * 5)) ]; do sleep 0.2; n=$((n + 1)); done
ip -s xfrm state | grep -E 'spi|bytes|replay|errors' | sed 's/^/UML-XFRM /'
grep -v -E "\s0$" /proc/net/xfrm_stat | sed 's/^/UML-XFRM-STAT /'

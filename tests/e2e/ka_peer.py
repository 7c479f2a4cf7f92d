#!/usr/bin/python3
"""Scapy GRE peer for the keepalive test: plays the far ends 192.168.60.2 and .3 on one
interface, answers ARP for them, reflects Cisco-style GRE keepalives (decapsulate and send the
inner packet back, as any GRE router does), and records every data packet per tunnel.
`--silent ADDR FROM TO`: between those seconds ADDR neither reflects nor... anything: a dead hub.
Writes a JSON timeline at the end: {"data": [[t, addr]...], "ka": [[t, addr, answered]...]}."""
import argparse, json, sys, time

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, GRE, IP, Ether, AsyncSniffer, conf, get_if_hwaddr, sendp  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--iface", required=True)
ap.add_argument("--addrs", nargs="+", required=True)
ap.add_argument("--silent", nargs=3, metavar=("ADDR", "FROM", "TO"))
ap.add_argument("--duration", type=float, required=True)
ap.add_argument("--out", required=True)
a = ap.parse_args()
conf.verb = 0
mac = get_if_hwaddr(a.iface)
t0 = time.time()
data, ka = [], []


def dead(addr, t):
    return a.silent and addr == a.silent[0] and float(a.silent[1]) <= t < float(a.silent[2])


def handle(p):
    t = time.time() - t0
    if Ether not in p or p[Ether].src == mac:
        return
    if ARP in p and p[ARP].op == 1 and p[ARP].pdst in a.addrs and not dead(p[ARP].pdst, t):
        sendp(Ether(src=mac, dst=p[Ether].src) / ARP(op=2, hwsrc=mac, psrc=p[ARP].pdst,
                                                      hwdst=p[ARP].hwsrc, pdst=p[ARP].psrc),
              iface=a.iface)
        return
    if IP not in p or p[IP].proto != 47 or p[IP].dst not in a.addrs or GRE not in p:
        return
    addr = p[IP].dst
    inner = p[GRE].payload
    if p[GRE].proto == 0x0800 and IP in inner and inner[IP].proto == 47:
        answered = not dead(addr, t)
        ka.append([round(t, 3), addr, answered])
        if answered:  # the inner packet is addressed back to the sender: route it there
            sendp(Ether(src=mac, dst=p[Ether].src) / inner[IP], iface=a.iface)
        return
    if not dead(addr, t):
        data.append([round(t, 3), addr])


sn = AsyncSniffer(iface=a.iface, prn=handle, store=False)
sn.start()
time.sleep(a.duration)
sn.stop()
json.dump({"data": data, "ka": ka}, open(a.out, "w"))
print("peer: %d data packets, %d keepalives" % (len(data), len(ka)))

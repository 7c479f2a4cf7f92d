#!/usr/bin/python3
"""A DHCP-style broadcast for the Layer 2 end-to-end tests: a DHCP discover from UDP 68 to
255.255.255.255:67 in an Ethernet broadcast, identified by its BOOTP xid.

usage: dhcp_probe.py send IFACE SRC_MAC XID      (three copies, 0.2 s apart)
       dhcp_probe.py check PCAP XID              exit 0 when the pcap holds that discover
"""
import logging
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import BOOTP, DHCP, IP, UDP, Ether, rdpcap, sendp  # noqa: E402


def main(a):
    if len(a) == 4 and a[0] == "send":
        ifc, mac, xid = a[1], a[2], int(a[3])
        p = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
             UDP(sport=68, dport=67) / BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")), xid=xid) /
             DHCP(options=[("message-type", "discover"), "end"]))
        sendp(p, iface=ifc, count=3, inter=0.2, verbose=False)
        return 0
    if len(a) == 3 and a[0] == "check":
        try:
            pk = rdpcap(a[1])
        except Exception:  # no capture file at all: nothing was seen
            return 1
        return 0 if any(BOOTP in p and p[BOOTP].xid == int(a[2]) for p in pk) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

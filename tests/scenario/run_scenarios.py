#!/usr/bin/python3
"""Packet scenarios through the real tunnelgw binary, on net_pcap ports.

For each scenario this writes the input pcap of each port, a config whose ports are
`net_pcap` devices (rx_pcap = our input, tx_pcap = what the gateway sent), runs

    tunnelgw --config C --exit-idle 500 --stats-json S -- <EAL args>

and then compares what the gateway sent, packet by packet and field by field, with packets
built independently with scapy, and checks the named drop counters in the JSON stats.
Fields the gateway is free to choose (outer IPv4 id, IPv6 flow label) are copied from the
actual packet before the comparison; every checksum is recomputed by scapy.

usage: run_scenarios.py --tunnelgw PATH [--out DIR] [--keep] [NAME-or-glob ...]
       run_scenarios.py --list
Exit status: 0 if all selected scenarios pass, 1 otherwise.
Env: TGW_LCORES overrides the EAL --lcores value (default: two CPUs we may run on, or one shared).
"""
import argparse
import fnmatch
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, GRE, ICMP, IP, UDP, Ether, IPv6, NoPayload, Padding, Raw,  # noqa: E402
                       ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       ICMPv6NDOptSrcLLAddr, conf, rdpcap, wrpcap)

conf.verb = 0

# --- the fixed topology of every scenario -------------------------------------------------
#   host 10.10.1.2 --- lan [tunnelgw] wan --- peer 192.168.60.2 (GRE endpoint)
LAN_MAC, WAN_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"
HOST_MAC, PEER_MAC = "02:00:00:00:01:02", "02:00:00:60:00:02"
LAN4, HOST4, LAN6, HOST6 = "10.10.1.1", "10.10.1.2", "2001:db8:1::1", "2001:db8:1::2"
WAN4, PEER4, WAN6, PEER6 = "192.168.60.1", "192.168.60.2", "2001:db8:60::1", "2001:db8:60::2"
FAR4, FAR6 = "10.20.0.5", "2001:db8:20::5"     # behind the peer, routed into gre-b
FAR4_V6T = "10.30.0.5"                           # routed into gre-6 (IPv6 outer)
TUN4_GW, TUN4_PEER = "10.88.0.1", "10.88.0.2"    # inner addresses on gre-b
GW_ADDRS = (LAN4, WAN4, TUN4_GW)                 # where an ICMP error may come from

GRE_B = {"name": "gre-b", "local": WAN4, "remote": PEER4, "ttl": 64, "addresses": ["10.88.0.1/30"]}
GRE_6 = {"name": "gre-6", "local": WAN6, "remote": PEER6, "ttl": 64, "addresses": ["10.89.0.1/30"]}
BASE_ROUTES = [
    {"prefix": "10.20.0.0/24", "tunnel": "gre-b"},
    {"prefix": "2001:db8:20::/64", "tunnel": "gre-b"},
    {"prefix": "10.66.0.0/16", "blackhole": True},
]
V6T_ROUTES = [{"prefix": "10.30.0.0/24", "tunnel": "gre-6"}]

OPTION_SETS = {  # name -> tunnel options; the same sets Linux ip_gre offers
    "plain": {},
    "key": {"key": 42},
    "csum": {"checksum": True},
    "seq": {"sequence": True},
    "csum-key-seq": {"checksum": True, "key": 42, "sequence": True},
}


def base_config(tunnels, routes, lan_in, lan_out, wan_in, wan_out, idle_backoff=10):
    return {
        "workers": [1],
        "idle_backoff_us": idle_backoff,
        "stats_interval": 0,
        "ports": [
            {"name": "lan", "device": f"net_pcap0,rx_pcap={lan_in},tx_pcap={lan_out}",
             "mac": LAN_MAC, "mtu": 1500, "addresses": [f"{LAN4}/24", f"{LAN6}/64"]},
            {"name": "wan", "device": f"net_pcap1,rx_pcap={wan_in},tx_pcap={wan_out}",
             "mac": WAN_MAC, "mtu": 1500, "addresses": [f"{WAN4}/24", f"{WAN6}/64"]},
        ],
        "neighbors": [
            {"port": "lan", "address": HOST4, "mac": HOST_MAC},
            {"port": "lan", "address": HOST6, "mac": HOST_MAC},
            {"port": "wan", "address": PEER4, "mac": PEER_MAC},
            {"port": "wan", "address": PEER6, "mac": PEER_MAC},
        ],
        "tunnels": tunnels,
        "routes": routes,
    }


# --- packet builders ----------------------------------------------------------------------
def from_host(inner):
    return Ether(src=HOST_MAC, dst=LAN_MAC) / inner


def from_peer(outer_ip, gre, inner):
    return Ether(src=PEER_MAC, dst=WAN_MAC) / outer_ip / gre / inner


def ip4(src, dst, ttl=64, tos=0, df=False, ident=0x1234):
    return IP(src=src, dst=dst, ttl=ttl, tos=tos, flags="DF" if df else 0, id=ident)


def echo4(src=HOST4, dst=FAR4, n=1, **kw):
    return ip4(src, dst, **kw) / ICMP(type=8, id=0x77, seq=n) / Raw(b"tunnelgw-scenario-%03d" % n)


def udp4(src=HOST4, dst=FAR4, n=1, **kw):
    return ip4(src, dst, **kw) / UDP(sport=40000 + n, dport=9999) / Raw(b"udp-%03d" % n * 3)


def echo6(src=HOST6, dst=FAR6, n=1, hlim=64):
    return IPv6(src=src, dst=dst, hlim=hlim) / ICMPv6EchoRequest(id=0x66, seq=n, data=b"v6-%03d" % n)


def gre(opts, seq=None, proto=0x0800, **kw):
    g = GRE(proto=proto, **kw)
    if opts.get("checksum"):
        g.chksum_present = 1
    if "key" in opts:
        g.key_present, g.key = 1, opts["key"]
    if opts.get("sequence"):
        g.seqnum_present, g.sequence_number = 1, seq
    return g


def routed(inner):
    """The inner packet as a router forwards it: TTL / hop limit one less, checksum redone."""
    p = inner.copy()
    if isinstance(p, IP):
        p.ttl -= 1
        p.chksum = None
    else:
        p.hlim -= 1
    return p


def gre_out(opts, inner, seq=None, outer_v6=False, ttl=64):
    """What tunnelgw must send on wan for `inner` (already routed) into a tunnel with `opts`."""
    if inner.__class__ is IP:
        tos, df, proto = inner.tos, bool(inner.flags.DF), 0x0800
    else:
        tos, df, proto = inner.tc, True, 0x86DD
    if outer_v6:
        outer = IPv6(src=WAN6, dst=PEER6, nh=47, hlim=ttl, tc=tos)
    else:  # DSCP and ECN copied (RFC 2983 uniform, RFC 6040 normal mode), DF copied
        outer = IP(src=WAN4, dst=PEER4, proto=47, ttl=ttl, tos=tos, flags="DF" if df else 0)
    return Ether(src=WAN_MAC, dst=PEER_MAC) / outer / gre(opts, seq, proto) / inner


def to_host(inner):
    return Ether(src=LAN_MAC, dst=HOST_MAC) / inner


# --- expectations -------------------------------------------------------------------------
OUTER_ID = (IP, 1, "id")        # the gateway numbers its own IPv4 headers
OUTER_FL = (IPv6, 1, "fl")      # and may choose an IPv6 flow label


@dataclass
class Exact:
    """The frame must equal `pkt` field by field, after copying the `ignore` fields from it."""
    pkt: object
    ignore: tuple = ()


@dataclass
class Loose:
    """`check(frame)` returns a list of problems (for packets the gateway composes itself)."""
    what: str
    check: Callable


@dataclass
class Scenario:
    name: str
    doc: str
    tunnels: list
    inputs: dict                      # port -> [frames]
    expect: dict                      # port -> [Exact | Loose]; ports not named must send nothing
    drops: dict = field(default_factory=dict)   # reason -> count; every other reason must be 0
    routes: list = None
    tunnel_counters: dict = field(default_factory=dict)  # tunnel -> {counter: value}


SCENARIOS = []


def scenario(*a, **kw):
    SCENARIOS.append(Scenario(*a, **kw))


def strip_padding(p):
    p = p.copy()
    pad = p.getlayer(Padding)
    if pad is not None:
        pad.underlayer.remove_payload()
    return p


def layers(p):
    out, cur = [], p
    while not isinstance(cur, (NoPayload, Padding)):
        out.append(cur)
        cur = cur.payload
    return out


def field_diff(want, got):
    """Field-by-field differences between two dissected frames, as readable lines."""
    errs = []
    wl, gl = layers(want), layers(got)
    for i, (w, g) in enumerate(zip(wl, gl)):
        if w.__class__ is not g.__class__:
            errs.append(f"layer {i}: want {w.__class__.__name__}, got {g.__class__.__name__}")
            return errs
        for f in w.fields_desc:
            if f.name == "load":
                continue
            wv, gv = w.getfieldval(f.name), g.getfieldval(f.name)
            if wv != gv:
                errs.append(f"{w.__class__.__name__}[{i}].{f.name}: want {f.i2repr(w, wv)}, "
                            f"got {f.i2repr(g, gv)}")
    if len(wl) != len(gl):
        errs.append("layers: want %s, got %s" % ("/".join(x.__class__.__name__ for x in wl),
                                                  "/".join(x.__class__.__name__ for x in gl)))
    if not errs and bytes(want) != bytes(got):
        errs.append("payload bytes differ: want %s, got %s" % (bytes(want).hex(), bytes(got).hex()))
    return errs


CSUM_FIELDS = {"IP": "chksum", "ICMP": "chksum", "UDP": "chksum", "TCP": "chksum", "GRE": "chksum",
               "ICMPv6EchoRequest": "cksum", "ICMPv6EchoReply": "cksum", "ICMPv6TimeExceeded": "cksum",
               "ICMPv6DestUnreach": "cksum", "ICMPv6PacketTooBig": "cksum", "ICMPv6ND_NA": "cksum"}


def checksum_errors(frame):
    """Recompute every checksum in the frame with scapy, independently of the expectations."""
    errs = []
    for i, l in enumerate(layers(frame)):
        name = l.__class__.__name__
        fname = CSUM_FIELDS.get(name)
        if not fname or (name == "GRE" and not l.chksum_present):
            continue  # (quoted headers in ICMP errors are IPerror etc.: not checked)
        c = frame.copy()
        c_layer = layers(c)[i]
        c_layer.setfieldval(fname, None)
        redo = layers(Ether(bytes(c)))[i]
        want, got = redo.getfieldval(fname), l.getfieldval(fname)
        if want != got:
            errs.append(f"{name}[{i}].{fname} invalid: 0x{got:04x}, correct 0x{want:04x}")
    return errs


def match(exp, frame):
    got = strip_padding(Ether(bytes(frame)))
    if isinstance(exp, Loose):
        return exp.check(got) + checksum_errors(got)
    want = exp.pkt.copy()
    for cls, nb, fname in exp.ignore:
        wl, gl = want.getlayer(cls, nb), got.getlayer(cls, nb)
        if wl is not None and gl is not None:
            wl.setfieldval(fname, gl.getfieldval(fname))
    want = Ether(bytes(want))
    return field_diff(want, got) + checksum_errors(got)


def icmp_error_check(port_src, dst, itype, code, quoted_dst, outer=None, extra=None):
    """ICMPv4 error composed by the gateway: addresses, type/code, and the quoted header."""
    def check(p):
        e = []
        ip = p.getlayer(IP, 2 if outer else 1)
        if outer:
            e += outer(p)
        if ip is None or ICMP not in ip:
            return e + [f"not an ICMP packet: {p.summary()}"]
        ic = ip[ICMP]
        if ip.src not in ((port_src,) if port_src else GW_ADDRS):
            e.append(f"ICMP source {ip.src}, want {port_src or ' or '.join(GW_ADDRS)}")
        if ip.dst != dst:
            e.append(f"ICMP destination {ip.dst}, want {dst}")
        if (ic.type, ic.code) != (itype, code):
            e.append(f"ICMP type/code {ic.type}/{ic.code}, want {itype}/{code}")
        q = ic.payload
        if q is None or q.__class__.__name__ != "IPerror" or q.dst != quoted_dst:
            e.append(f"quoted packet is not the offending one: {q.summary() if q else None}")
        elif len(bytes(q)) < 28:
            e.append(f"quoted only {len(bytes(q))} bytes, RFC 792 wants the header + 8 bytes")
        if extra:
            e += extra(ic)
        return e
    return check


def l2_check(src, dst):
    def check(p):
        return [] if (p.src, p.dst) == (src, dst) else [f"Ethernet {p.src} -> {p.dst}, want {src} -> {dst}"]
    return check


# --- the scenarios ------------------------------------------------------------------------
def define():
    # Encapsulation: LAN -> tunnel. Three packets: echo with DF, UDP with DSCP 46 + ECT(1), echo.
    for oname, opts in OPTION_SETS.items():
        ins = [echo4(n=1, df=True), udp4(n=2, tos=0xB9), echo4(n=3, ttl=200)]
        scenario(f"encap-{oname}",
                 f"IPv4 LAN -> GRE ({oname}): outer header, GRE flags/key, seq from 0, checksums, "
                 "inner TTL decremented",
                 [dict(GRE_B, **opts)],
                 {"lan": [from_host(p) for p in ins]},
                 {"wan": [Exact(gre_out(opts, routed(p), seq=i), (OUTER_ID,)) for i, p in enumerate(ins)]},
                 tunnel_counters={"gre-b": {"tx_packets": 3, "rx_packets": 0}})
    # Decapsulation: tunnel -> LAN, same option sets; sequence numbers start anywhere.
    for oname, opts in OPTION_SETS.items():
        ins = [echo4(FAR4, HOST4, n=1, df=True), udp4(FAR4, HOST4, n=2, tos=0x20), echo4(FAR4, HOST4, n=3)]
        scenario(f"decap-{oname}",
                 f"GRE ({oname}) -> IPv4 LAN: decapsulated, TTL decremented, checksum valid",
                 [dict(GRE_B, **opts)],
                 {"wan": [from_peer(ip4(PEER4, WAN4), gre(opts, 1000 + i), p) for i, p in enumerate(ins)]},
                 {"lan": [Exact(to_host(routed(p))) for p in ins]},
                 tunnel_counters={"gre-b": {"rx_packets": 3, "tx_packets": 0}})

    opts = {"key": 42}
    ins = [echo4(n=1, ttl=9)]
    scenario("encap-ttl-inherit", "tunnel ttl 0: the outer TTL is the inner one after forwarding",
             [dict(GRE_B, key=42, ttl=0)], {"lan": [from_host(p) for p in ins]},
             {"wan": [Exact(gre_out(opts, routed(p), ttl=8), (OUTER_ID,)) for p in ins]})

    # IPv6 inner over IPv4 outer, both ways.
    opts = {"key": 42, "checksum": True}
    ins = [echo6(n=1), echo6(n=2, hlim=3)]
    scenario("encap-ipv6-in-ipv4", "IPv6 LAN -> GRE over IPv4 (proto 0x86dd), hop limit decremented",
             [dict(GRE_B, **opts)], {"lan": [from_host(p) for p in ins]},
             {"wan": [Exact(gre_out(opts, routed(p)), (OUTER_ID,)) for p in ins]})
    ins = [echo6(FAR6, HOST6, n=1), echo6(FAR6, HOST6, n=2)]
    scenario("decap-ipv6-in-ipv4", "GRE over IPv4 carrying IPv6 -> IPv6 LAN",
             [dict(GRE_B, **opts)],
             {"wan": [from_peer(ip4(PEER4, WAN4), gre(opts, proto=0x86DD), p) for p in ins]},
             {"lan": [Exact(to_host(routed(p))) for p in ins]})

    # IPv4 inner over IPv6 outer, both ways.
    opts = {"key": 7, "sequence": True}
    ins = [echo4(dst=FAR4_V6T, n=1, tos=0x28), echo4(dst=FAR4_V6T, n=2)]
    scenario("encap-ipv4-in-ipv6", "IPv4 LAN -> GRE over IPv6: next header 47, hop limit, traffic class",
             [dict(GRE_6, **opts)], {"lan": [from_host(p) for p in ins]},
             {"wan": [Exact(gre_out(opts, routed(p), seq=i, outer_v6=True), (OUTER_FL,))
                      for i, p in enumerate(ins)]},
             routes=V6T_ROUTES, tunnel_counters={"gre-6": {"tx_packets": 2}})
    ins = [echo4(FAR4_V6T, HOST4, n=1), echo4(FAR4_V6T, HOST4, n=2)]
    scenario("decap-ipv4-in-ipv6", "GRE over IPv6 carrying IPv4 -> IPv4 LAN",
             [dict(GRE_6, **opts)],
             {"wan": [from_peer(IPv6(src=PEER6, dst=WAN6, nh=47), gre(opts, 5 + i), p) for i, p in enumerate(ins)]},
             {"lan": [Exact(to_host(routed(p))) for p in ins]},
             routes=V6T_ROUTES, tunnel_counters={"gre-6": {"rx_packets": 2}})

    # ECN on decapsulation (RFC 6040 section 4.2): outer CE marks an ECT inner packet; a Not-ECT
    # inner packet under an outer CE must be dropped.
    ect = echo4(FAR4, HOST4, n=1, tos=0x02)
    ce = ect.copy(); ce.tos = 0x03
    scenario("decap-ecn-ce", "outer CE -> inner ECT(0) becomes CE; inner Not-ECT dropped",
             [GRE_B],
             {"wan": [from_peer(ip4(PEER4, WAN4, tos=0x03), gre({}), ect),
                      from_peer(ip4(PEER4, WAN4, tos=0x03), gre({}), echo4(FAR4, HOST4, n=2))]},
             {"lan": [Exact(to_host(routed(ce)))]}, drops={"ecn-not-ect": 1})

    # RFC 2784 section 2.3: bits 6-12 of the flags word MUST be ignored on receipt.
    p = echo4(FAR4, HOST4, n=1)
    scenario("decap-reserved-6-12-ignored", "reserved bits 6-12 set: accepted (RFC 2784 §2.3)",
             [GRE_B],
             {"wan": [from_peer(ip4(PEER4, WAN4), GRE(proto=0x0800, recursion_control=1), p),
                      from_peer(ip4(PEER4, WAN4), GRE(proto=0x0800, flags=1), p)]},
             {"lan": [Exact(to_host(routed(p)))] * 2})

    # Gateway-originated answers: ARP, ICMP echo on the LAN and inside the tunnel.
    scenario("arp-reply", "ARP who-has the lan address -> reply with the configured MAC",
             [GRE_B],
             {"lan": [Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") /
                      ARP(op=1, hwsrc=HOST_MAC, psrc=HOST4, hwdst="00:00:00:00:00:00", pdst=LAN4)]},
             {"lan": [Exact(Ether(src=LAN_MAC, dst=HOST_MAC) /
                            ARP(op=2, hwsrc=LAN_MAC, psrc=LAN4, hwdst=HOST_MAC, pdst=HOST4))]})

    # RFC 4861: a multicast NS for the lan address -> solicited NA (router, override) with the
    # target link-layer address option
    scenario("nd-reply", "Neighbor Solicitation for the lan IPv6 address -> Neighbor Advertisement",
             [GRE_B],
             {"lan": [Ether(src=HOST_MAC, dst="33:33:ff:00:00:01") /
                      IPv6(src=HOST6, dst="ff02::1:ff00:1", hlim=255) /
                      ICMPv6ND_NS(tgt=LAN6) / ICMPv6NDOptSrcLLAddr(lladdr=HOST_MAC)]},
             {"lan": [Exact(Ether(src=LAN_MAC, dst=HOST_MAC) / IPv6(src=LAN6, dst=HOST6, hlim=255) /
                            ICMPv6ND_NA(R=1, S=1, O=1, tgt=LAN6) / ICMPv6NDOptDstLLAddr(lladdr=LAN_MAC))]})

    def echo_reply(src, dst, req, l2=None, outer=None):
        def check(p):
            e = (l2(p) if l2 else []) + (outer(p) if outer else [])
            ip = p.getlayer(IP, 2 if outer else 1)
            if ip is None or ICMP not in ip:
                return e + [f"not ICMP: {p.summary()}"]
            if (ip.src, ip.dst) != (src, dst):
                e.append(f"echo reply {ip.src} -> {ip.dst}, want {src} -> {dst}")
            ic = ip[ICMP]
            if (ic.type, ic.code, ic.id, ic.seq) != (0, 0, req[ICMP].id, req[ICMP].seq):
                e.append(f"ICMP {ic.type}/{ic.code} id {ic.id} seq {ic.seq}: want echo reply "
                         f"id {req[ICMP].id} seq {req[ICMP].seq}")
            if bytes(ic.payload) != bytes(req[ICMP].payload):
                e.append("echo reply payload differs from the request")
            return e
        return check

    req = echo4(HOST4, LAN4, n=7)
    scenario("icmp-echo-lan", "ping the lan address -> echo reply",
             [GRE_B], {"lan": [from_host(req)]},
             {"lan": [Loose("echo reply", echo_reply(LAN4, HOST4, req, l2_check(LAN_MAC, HOST_MAC)))]})

    def outer_gre(opts, seq=None):
        def check(p):
            e = l2_check(WAN_MAC, PEER_MAC)(p)
            o = p.getlayer(IP)
            if o is None or GRE not in p:
                return e + [f"not GRE: {p.summary()}"]
            if (o.src, o.dst, o.ttl) != (WAN4, PEER4, 64):
                e.append(f"outer {o.src} -> {o.dst} ttl {o.ttl}, want {WAN4} -> {PEER4} ttl 64")
            g = p[GRE]
            want = gre(opts, seq)
            for f in ("chksum_present", "key_present", "seqnum_present", "key", "sequence_number",
                      "version", "proto"):
                if want.getfieldval(f) is not None and g.getfieldval(f) != want.getfieldval(f):
                    e.append(f"GRE.{f}: want {want.getfieldval(f)}, got {g.getfieldval(f)}")
            return e
        return check

    opts = {"key": 42, "checksum": True, "sequence": True}
    req = echo4(TUN4_PEER, TUN4_GW, n=9)
    scenario("icmp-echo-tunnel", "ping the gateway's inner tunnel address through GRE -> reply in GRE",
             [dict(GRE_B, **opts)],
             {"wan": [from_peer(ip4(PEER4, WAN4), gre(opts, 50), req)]},
             {"wan": [Loose("echo reply in GRE", echo_reply(TUN4_GW, TUN4_PEER, req, outer=outer_gre(opts, 0)))]})

    # ICMP errors and forwarding drops.
    big = ip4(HOST4, FAR4, df=True) / UDP(sport=1, dport=2) / Raw(b"x" * (1500 - 28))

    def mtu_is(v):
        return lambda ic: [] if ic.nexthopmtu == v else [f"next-hop MTU {ic.nexthopmtu}, want {v}"]
    scenario("mtu-exceeded", "1500-byte DF packet into a keyed tunnel (MTU 1472) -> ICMP frag needed",
             [dict(GRE_B, key=42)],
             {"lan": [from_host(big)]},
             {"lan": [Loose("ICMP frag needed", icmp_error_check(None, HOST4, 3, 4, FAR4, extra=mtu_is(1472)))]},
             drops={"mtu-exceeded": 1})
    scenario("ttl-exceeded", "TTL 1 towards the tunnel -> dropped, ICMP time exceeded to the sender",
             [GRE_B], {"lan": [from_host(echo4(n=1, ttl=1))]},
             {"lan": [Loose("ICMP time exceeded", icmp_error_check(None, HOST4, 11, 0, FAR4))]},
             drops={"ttl-exceeded": 1})
    scenario("no-route", "no route (and no default) -> dropped, ICMP unreachable to the sender",
             [GRE_B], {"lan": [from_host(echo4(dst="172.16.5.5", n=1))]},
             {"lan": [Loose("ICMP unreachable", icmp_error_check(None, HOST4, 3, 0, "172.16.5.5"))]},
             drops={"no-route": 1})
    scenario("blackhole", "blackhole route -> dropped silently", [GRE_B],
             {"lan": [from_host(echo4(dst="10.66.3.4", n=1))]}, {}, drops={"blackhole": 1})
    bad = from_host(echo4(n=1))
    bad = Ether(bytes(bad)); bad[IP].chksum ^= 0x5555
    scenario("ip-bad-checksum", "IPv4 header checksum wrong -> dropped", [GRE_B],
             {"lan": [bad]}, {}, drops={"ip-bad-checksum": 1})

    req = echo4(FAR4, HOST4, n=1, ttl=1)
    scenario("decap-ttl-exceeded", "decapsulated packet with TTL 1 -> ICMP time exceeded back into the tunnel",
             [dict(GRE_B, key=42)], {"wan": [from_peer(ip4(PEER4, WAN4), gre({"key": 42}), req)]},
             {"wan": [Loose("ICMP time exceeded in GRE",
                            icmp_error_check(None, FAR4, 11, 0, HOST4, outer=outer_gre({"key": 42})))]},
             drops={"ttl-exceeded": 1})

    # Malformed or unwanted GRE: each dropped and counted under its reason, nothing forwarded.
    p = echo4(FAR4, HOST4, n=1)
    o = ip4(PEER4, WAN4)

    def neg(name, doc, tunnel, frames, reason, count=None):
        scenario(name, doc, [tunnel], {"wan": frames}, {}, drops={reason: count or len(frames)})

    neg("gre-version", "GRE version 1 (PPTP) -> gre-version", GRE_B,
        [from_peer(o, GRE(proto=0x0800, version=1), p)], "gre-version")
    neg("gre-reserved", "reserved bits 4-5 (strict source route, recursion) -> gre-reserved", GRE_B,
        [from_peer(o, GRE(proto=0x0800, strict_route_source=1), p),
         from_peer(o, GRE(proto=0x0800, recursion_control=4), p)], "gre-reserved")
    neg("gre-routing-bit", "routing bit (RFC 1701) -> gre-reserved", GRE_B,
        [from_peer(o, GRE(proto=0x0800, routing_present=1, offset=0), p)], "gre-reserved")
    bc = Ether(bytes(from_peer(o, GRE(proto=0x0800, chksum_present=1), p)))
    bc[GRE].chksum ^= 0x1111
    neg("gre-bad-checksum", "checksum present and wrong (tunnel with checksum) -> gre-bad-checksum",
        dict(GRE_B, checksum=True), [bc], "gre-bad-checksum")
    good = from_peer(o, GRE(proto=0x0800, chksum_present=1), p)
    scenario("gre-bad-checksum-plain", "a tunnel without checksum still verifies one that is present",
             [GRE_B], {"wan": [good, bc]}, {"lan": [Exact(to_host(routed(p)))]},
             drops={"gre-bad-checksum": 1}, tunnel_counters={"gre-b": {"rx_packets": 1, "rx_drops": 1}})
    # truncated: K bit set but the packet ends after the base header; and a 2-byte GRE header
    def cut(frame, n):  # the frame cut after n bytes of GRE, outer IPv4 length and checksum fixed
        b = bytes(frame)[:14 + 20 + n]
        ip = IP(b[14:34])
        ip.len, ip.chksum = 20 + n, None
        return Ether(b[:14] + bytes(ip) + b[34:])
    trunc = [cut(from_peer(o, GRE(proto=0x0800, key_present=1, key=42), b""), 4),
             cut(from_peer(o, GRE(proto=0x0800), b""), 2)]
    neg("gre-truncated", "GRE header cut short (key promised but absent; 2-byte header) -> gre-truncated",
        dict(GRE_B, key=42), trunc, "gre-truncated")
    neg("gre-unknown-key", "key 43 / no key on a key-42 tunnel -> gre-no-tunnel", dict(GRE_B, key=42),
        [from_peer(o, GRE(proto=0x0800, key_present=1, key=43), p),
         from_peer(o, GRE(proto=0x0800), p)], "gre-no-tunnel")
    neg("gre-wrong-source", "GRE from an address that is no tunnel's remote -> gre-no-tunnel", GRE_B,
        [from_peer(ip4("192.168.60.3", WAN4), GRE(proto=0x0800), p)], "gre-no-tunnel")
    neg("gre-csum-missing", "tunnel with checksum, packet without -> gre-csum-missing",
        dict(GRE_B, checksum=True), [from_peer(o, GRE(proto=0x0800), p)], "gre-csum-missing")
    neg("gre-seq-missing", "tunnel with sequence numbers, packet without -> gre-seq-missing",
        dict(GRE_B, sequence=True), [from_peer(o, GRE(proto=0x0800), p)], "gre-seq-missing")
    neg("gre-proto", "Ethernet (TEB 0x6558) on an L3 tunnel -> gre-proto", GRE_B,
        [from_peer(o, GRE(proto=0x6558), Ether(src=PEER_MAC, dst=HOST_MAC) / p)], "gre-proto")
    inner_bad = Raw(bytes(p)[:22])  # an IPv4 header promising more than is there
    neg("gre-inner-bad", "decapsulated packet is not valid IPv4 -> gre-inner-bad", GRE_B,
        [from_peer(o, GRE(proto=0x0800), inner_bad)], "gre-inner-bad")
    # Outer fragments are reassembled (mtu_scenario.py), except behind other IPv6 extension
    # headers, which rte_ip_frag does not handle.
    frag6 = IPv6(src=PEER6, dst=WAN6) / IPv6ExtHdrDestOpt() / IPv6ExtHdrFragment(nh=47, m=1)
    neg("outer-fragment", "GRE fragment behind another IPv6 extension header -> outer-fragment",
        GRE_6, [from_peer(frag6, GRE(proto=0x0800), p)], "outer-fragment")

    # sequence numbers: 10, 11, 11 (duplicate), 9 (old), 12 -> 10, 11, 12 delivered
    seq_opts = {"sequence": True}
    seqs = [10, 11, 11, 9, 12]
    ins = [echo4(FAR4, HOST4, n=s) for s in seqs]
    scenario("gre-seq-old", "sequence numbers not newer than the last accepted -> gre-seq-old",
             [dict(GRE_B, **seq_opts)],
             {"wan": [from_peer(o, gre(seq_opts, s), q) for s, q in zip(seqs, ins)]},
             {"lan": [Exact(to_host(routed(ins[i]))) for i in (0, 1, 4)]},
             drops={"gre-seq-old": 2}, tunnel_counters={"gre-b": {"rx_packets": 3, "rx_drops": 2}})


define()


# --- running one scenario -----------------------------------------------------------------
def write_pcap(path, frames):
    if frames:
        wrpcap(path, frames)
    else:  # a header only: libpcap refuses a zero-length file
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))


def lcores():
    if os.environ.get("TGW_LCORES"):
        return os.environ["TGW_LCORES"]
    cpus = sorted(os.sched_getaffinity(0))
    return f"0@{cpus[0]},1@{cpus[1 if len(cpus) > 1 else 0]}"


def eal_runtime_dir(prefix):
    """Where the EAL keeps its files for --file-prefix (memory-backed; it never removes them)."""
    base = "/var/run" if os.geteuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


def run_gateway(tgw, cfg_path, stats_path, prefix, log_path, timeout=60):
    eal = ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix, "--no-telemetry",
           f"--lcores={lcores()}"]
    cmd = [tgw, "--config", cfg_path, "--exit-idle", "500", "--stats-json", stats_path, "--"] + eal
    env = dict(os.environ)
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")  # say where, for a sanitizer build
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            rc = None
    shutil.rmtree(eal_runtime_dir(prefix), ignore_errors=True)
    return rc


def run_one(sc, tgw, outdir):
    d = os.path.join(outdir, sc.name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    files = {}
    for port in ("lan", "wan"):
        files[port] = (os.path.join(d, f"{port}_in.pcap"), os.path.join(d, f"{port}_out.pcap"))
        write_pcap(files[port][0], sc.inputs.get(port, []))
    names = {t["name"] for t in sc.tunnels}  # routes into tunnels this scenario doesn't have go
    routes = [r for r in BASE_ROUTES + (sc.routes or []) if r.get("tunnel", next(iter(names))) in names]
    cfg = base_config(sc.tunnels, routes, files["lan"][0], files["lan"][1], files["wan"][0], files["wan"][1])
    cfg_path = os.path.join(d, "config.yaml")
    with open(cfg_path, "w") as f:  # JSON is YAML
        f.write(f"# scenario {sc.name}: {sc.doc}\n")
        json.dump(cfg, f, indent=2)
        f.write("\n")
    stats_path = os.path.join(d, "stats.json")
    log_path = os.path.join(d, "tunnelgw.log")
    prefix = "tgwsc%d_%08x" % (os.getpid(), zlib.crc32(sc.name.encode()))
    rc = run_gateway(tgw, cfg_path, stats_path, prefix, log_path)

    errs = []
    if rc is None:
        return ["tunnelgw did not exit within 60 s (--exit-idle 500)"], d
    if rc != 0:
        errs.append(f"tunnelgw exit status {rc}")
    with open(log_path, errors="replace") as f:
        log = f.read()
    lines = log.strip().splitlines()
    sanitizer = False
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        at = [i for i, line in enumerate(lines) if marker in line]
        if at:
            sanitizer = True
            report = "\n".join("      | " + line for line in lines[at[0]:at[0] + 20])
            errs.append(f"sanitizer report in the log ({len(at)}x '{marker}'):\n{report}")
    if rc != 0 and not sanitizer:
        errs.append("log tail:\n" + "\n".join("      | " + line for line in lines[-15:]))
    if rc != 0:
        return errs, d

    for port in ("lan", "wan"):
        out = files[port][1]
        got = rdpcap(out) if os.path.exists(out) and os.path.getsize(out) >= 24 else []
        want = sc.expect.get(port, [])
        for i in range(max(len(want), len(got))):
            if i >= len(got):
                errs.append(f"{port} out #{i}: missing; want {describe(want[i])}")
            elif i >= len(want):
                errs.append(f"{port} out #{i}: unexpected {Ether(bytes(got[i])).summary()}")
            else:
                errs += [f"{port} out #{i}: {e}" for e in match(want[i], got[i])]

    try:
        with open(stats_path) as f:
            st = json.load(f)
    except (OSError, ValueError) as e:
        return errs + [f"stats JSON unreadable: {e}"], d
    drops = st.get("drops", {})
    for reason, n in sc.drops.items():
        if drops.get(reason, 0) != n:
            errs.append(f"drops[{reason}] = {drops.get(reason, 0)}, want {n}")
    for reason, n in drops.items():
        if n and reason not in sc.drops:
            errs.append(f"unexpected drops[{reason}] = {n}")
    ports = st.get("ports", {})
    for port in ("lan", "wan"):
        pc = ports.get(port)
        if pc is None:
            errs.append(f"stats: no port {port}")
            continue
        if pc.get("rx_packets") != len(sc.inputs.get(port, [])):
            errs.append(f"ports.{port}.rx_packets = {pc.get('rx_packets')}, "
                        f"want {len(sc.inputs.get(port, []))}")
        if pc.get("tx_packets") != len(sc.expect.get(port, [])):
            errs.append(f"ports.{port}.tx_packets = {pc.get('tx_packets')}, "
                        f"want {len(sc.expect.get(port, []))}")
    for tname, want in sc.tunnel_counters.items():
        tc = st.get("tunnels", {}).get(tname)
        if tc is None:
            errs.append(f"stats: no tunnel {tname}")
            continue
        for k, v in want.items():
            if tc.get(k) != v:
                errs.append(f"tunnels.{tname}.{k} = {tc.get(k)}, want {v}")
    return errs, d


def describe(exp):
    if isinstance(exp, Exact):
        return Ether(bytes(exp.pkt)).summary()
    return exp.what


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tunnelgw", help="path of the built tunnelgw binary")
    ap.add_argument("--out", help="work directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the files of passing scenarios too")
    ap.add_argument("--list", action="store_true", help="print the scenario names and exit")
    ap.add_argument("names", nargs="*", help="scenario names or globs (default: all)")
    a = ap.parse_args()
    if a.list:
        print("\n".join(s.name for s in SCENARIOS))
        return 0
    if not a.tunnelgw:
        ap.error("--tunnelgw is required")
    tgw = os.path.abspath(a.tunnelgw)
    sel = [s for s in SCENARIOS if not a.names or any(fnmatch.fnmatch(s.name, n) for n in a.names)]
    if not sel:
        print(f"no scenario matches {a.names}")
        return 1
    outdir = os.path.abspath(a.out) if a.out else tempfile.mkdtemp(prefix="tgw-scenario-")
    os.makedirs(outdir, exist_ok=True)
    failed = []
    for sc in sel:
        t0 = time.monotonic()
        errs, d = run_one(sc, tgw, outdir)
        dt = time.monotonic() - t0
        if errs:
            failed.append(sc.name)
            print(f"FAIL {sc.name} ({dt:.1f}s): {sc.doc}\n   files: {d}")
            for e in errs:
                print(f"   - {e}")
        else:
            print(f"PASS {sc.name} ({dt:.1f}s)")
            if not a.keep:
                shutil.rmtree(d, ignore_errors=True)
        sys.stdout.flush()
    print(f"scenarios: {len(sel) - len(failed)} passed, {len(failed)} failed")
    if not a.out and not failed and not a.keep:
        shutil.rmtree(outdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""MTU, fragmentation and MSS scenarios through the real tunnelgw binary (issue 7).

Same machinery as run_scenarios.py (its helpers are imported): pcap in -> tunnelgw on net_pcap
ports -> pcap out, compared field by field with packets scapy builds independently (scapy also
does the fragmenting and reassembling here), and every drop counter checked.

Boundaries (port MTU 1500): plain GRE 1476/1477, keyed 1472/1473, IPv6 inner 1476/1477; DF or
IPv6 above the MTU -> ICMP frag-needed / packet-too-big with the MTU; IPv4 without DF ->
fragmented before encapsulation; `fragmentation: off` / `outer`; outer fragments from the peer
reassembled (IPv4 and IPv6 outer, GRE and ESP); TCP MSS clamping both ways (auto, fixed, off);
outer DF set/clear and ECN.

usage: mtu_scenario.py --tunnelgw PATH [--out DIR] [--keep] [NAME-or-glob ...] | --list
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_scenarios as rs  # noqa: E402
from run_scenarios import (FAR4, FAR4_V6T, FAR6, GRE_6, GRE_B, HOST4, HOST6, LAN6, OUTER_FL,  # noqa: E402
                           OUTER_ID, PEER4, PEER6, V6T_ROUTES, WAN4, WAN6, Exact, Loose, from_host,
                           from_peer, gre, gre_out, icmp_error_check, ip4, routed, scenario, to_host)
from scapy.all import (ESP, ICMPv6PacketTooBig, IP, IPv6, IPv6ExtHdrFragment, Raw, TCP, UDP,  # noqa: E402
                       fragment, fragment6)

rs.SCENARIOS.clear()  # only ours: the runner's own are registered by run_scenarios.py

_checksum_errors = rs.checksum_errors


def checksum_errors(frame):
    """As the runner's, except the UDP/TCP checksum of a fragment: it covers the whole
    datagram, so only the receiver's reassembly can check it (field equality still applies)."""
    frag = any((isinstance(l, IP) and (l.flags.MF or l.frag)) or isinstance(l, IPv6ExtHdrFragment)
               for l in rs.layers(frame))
    return [e for e in _checksum_errors(frame) if not (frag and e.split("[")[0] in ("UDP", "TCP"))]


rs.checksum_errors = checksum_errors


def udp(size, src=HOST4, dst=FAR4, df=False, n=1):
    """An IPv4 UDP packet of exactly `size` bytes."""
    return ip4(src, dst, df=df, ident=0x4000 + n) / UDP(sport=5000 + n, dport=9) / Raw(b"m" * (size - 28))


def udp6(size, src=HOST6, dst=FAR6, n=1):
    return IPv6(src=src, dst=dst) / UDP(sport=6000 + n, dport=9) / Raw(b"s" * (size - 48))


def mtu_is(v):
    return lambda ic: [] if ic.nexthopmtu == v else [f"next-hop MTU {ic.nexthopmtu}, want {v}"]


def frag_needed(mtu, quoted=FAR4):
    return Loose(f"ICMP frag needed, MTU {mtu}", icmp_error_check(None, HOST4, 3, 4, quoted, extra=mtu_is(mtu)))


def too_big6(mtu):
    def check(p):
        e = []
        if ICMPv6PacketTooBig not in p:
            return [f"not ICMPv6 packet too big: {p.summary()}"]
        ip, ic = p[IPv6], p[ICMPv6PacketTooBig]
        if (ip.src, ip.dst) != (LAN6, HOST6):
            e.append(f"{ip.src} -> {ip.dst}, want {LAN6} -> {HOST6}")
        if ic.mtu != mtu:
            e.append(f"MTU {ic.mtu}, want {mtu}")
        q = ic.payload
        if q is None or getattr(q, "dst", None) != FAR6:
            e.append(f"quoted packet is not the offending one: {q.summary() if q else None}")
        return e
    return Loose(f"ICMPv6 packet too big, MTU {mtu}", check)


def inner_fragments(pkt, mtu):
    """What the gateway must put into the tunnel for a non-DF packet above `mtu`: the routed
    packet fragmented by scapy, data in multiples of 8 (RFC 791)."""
    r = routed(pkt)
    r = IP(bytes(r))
    return [IP(bytes(f)) for f in fragment(r, fragsize=(mtu - 20) // 8 * 8)]


def tcp_syn(src, dst, mss, flags="S", v6=False):
    l3 = IPv6(src=src, dst=dst) if v6 else ip4(src, dst, df=True)
    return l3 / TCP(sport=40001, dport=443, flags=flags, seq=1000, ack=2000 if "A" in flags else 0,
                    options=[("MSS", mss), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None),
                             ("WScale", 7)])


def define():
    # --- DF / IPv6 above the MTU: ICMP with the MTU; exactly the MTU passes ----------------
    for name, opts, mtu in (("plain", {}, 1476), ("key", {"key": 42}, 1472),
                            ("csum-key-seq", {"checksum": True, "key": 42, "sequence": True}, 1464)):
        fits, big = udp(mtu, df=True, n=1), udp(mtu + 1, df=True, n=2)
        scenario(f"mtu-df-{name}", f"GRE ({name}) over 1500: DF {mtu} encapsulated (1500 on the wire), "
                 f"DF {mtu + 1} -> ICMP frag needed carrying {mtu}",
                 [dict(GRE_B, **opts)], {"lan": [from_host(fits), from_host(big)]},
                 {"wan": [Exact(gre_out(opts, routed(fits), seq=0), (OUTER_ID,))],
                  "lan": [frag_needed(mtu)]},
                 drops={"mtu-exceeded": 1}, tunnel_counters={"gre-b": {"tx_packets": 1, "tx_drops": 1}})
    fits6, big6 = udp6(1476, n=1), udp6(1477, n=2)
    scenario("mtu-ipv6-inner", "IPv6 inner 1476 encapsulated; 1477 -> ICMPv6 packet too big 1476 "
             "(IPv6 is never fragmented on the path)",
             [GRE_B], {"lan": [from_host(fits6), from_host(big6)]},
             {"wan": [Exact(gre_out({}, routed(fits6)), (OUTER_ID,))], "lan": [too_big6(1476)]},
             drops={"mtu-exceeded": 1})
    p = udp(1401, df=True)
    scenario("mtu-configured", "tunnel mtu 1400 (below what fits): DF 1401 -> frag needed 1400",
             [dict(GRE_B, mtu=1400)], {"lan": [from_host(udp(1400, df=True)), from_host(p)]},
             {"wan": [Exact(gre_out({}, routed(udp(1400, df=True))), (OUTER_ID,))],
              "lan": [frag_needed(1400)]}, drops={"mtu-exceeded": 1})

    # --- no DF: fragmented before encapsulation (fragmentation: inner, the default) --------
    ins = [udp(1476, n=1), udp(1477, n=2), udp(3000, n=3)]
    want = [gre_out({}, routed(ins[0]))]
    for q in ins[1:]:
        want += [gre_out({}, f) for f in inner_fragments(q, 1476)]
    scenario("mtu-fragment-inner", "no DF: 1476 whole; 1477 -> 2 and 3000 -> 3 inner fragments, each "
             "its own GRE packet (the far end never reassembles outer packets)",
             [GRE_B], {"lan": [from_host(q) for q in ins]},
             {"wan": [Exact(w, (OUTER_ID,)) for w in want]},
             tunnel_counters={"gre-b": {"tx_packets": len(want), "tx_drops": 0}})
    ins = [udp(1472, n=1), udp(1473, n=2)]
    want = [gre_out({"key": 42}, routed(ins[0]))] + [gre_out({"key": 42}, f) for f in inner_fragments(ins[1], 1472)]
    scenario("mtu-fragment-inner-key", "keyed tunnel (1472): no-DF 1473 -> 2 fragments of at most 1472",
             [dict(GRE_B, key=42)], {"lan": [from_host(q) for q in ins]},
             {"wan": [Exact(w, (OUTER_ID,)) for w in want]})
    scenario("mtu-fragment-off", "fragmentation: off: no-DF 1477 dropped as mtu-exceeded, no ICMP",
             [dict(GRE_B, fragmentation="off")], {"lan": [from_host(udp(1477))]}, {},
             drops={"mtu-exceeded": 1})

    # --- fragmentation: outer: inner packets up to `mtu` travel whole, the outer is split ---
    whole = udp(1500, df=True, n=1)
    outer = gre_out({}, routed(whole))
    oip = IP(bytes(outer[IP]))
    oip.flags = 0  # RFC 4459 §3.1: we fragment our own outer packet, so it cannot carry DF
    frags = []
    for f in fragment(oip, fragsize=1480):
        f = IP(bytes(f))
        f.chksum = None  # redone after the gateway's id is copied in
        frags.append(rs.Ether(src=rs.WAN_MAC, dst=rs.PEER_MAC) / f)
    small = udp(1476, df=True, n=2)
    scenario("mtu-fragment-outer", "fragmentation: outer, mtu 1500: a DF 1500 packet leaves as two outer "
             "fragments (1500 + 44) without DF; 1476 is sent whole with DF; 1501 DF -> frag needed 1500",
             [dict(GRE_B, mtu=1500, fragmentation="outer")],
             {"lan": [from_host(whole), from_host(small), from_host(udp(1501, df=True, n=3))]},
             {"wan": [Exact(f, (OUTER_ID,)) for f in frags] + [Exact(gre_out({}, routed(small)), (OUTER_ID,))],
              "lan": [frag_needed(1500)]},
             drops={"mtu-exceeded": 1})

    whole6 = udp(1500, HOST4, FAR4_V6T, df=True, n=4)
    outer6 = gre_out({}, routed(whole6), outer_v6=True)
    o6 = outer6[IPv6]
    unfrag = IPv6(src=o6.src, dst=o6.dst, hlim=o6.hlim, tc=o6.tc, fl=0, nh=44)
    frags6 = [rs.Ether(src=rs.WAN_MAC, dst=rs.PEER_MAC) / IPv6(bytes(f))
              for f in fragment6(unfrag / IPv6ExtHdrFragment(nh=47, id=0) / o6.payload, 1500)]
    scenario("mtu-fragment-outer-ipv6", "fragmentation: outer over an IPv6 underlay: a 1500-byte inner "
             "packet leaves as two IPv6 fragments of at most 1500 (fragment header, RFC 8200 §4.5)",
             [dict(GRE_6, mtu=1500, fragmentation="outer")], {"lan": [from_host(whole6)]},
             {"wan": [Exact(f, (OUTER_FL, (IPv6ExtHdrFragment, 1, "id"))) for f in frags6]},
             routes=V6T_ROUTES)
    # small first: 1 + 8 x (3 + 1) puts a small packet right after the 32nd output
    burst = [udp(3000 if i % 2 else 100, n=10 + i) for i in range(80)]
    want = [gre_out({}, f) for q in burst
            for f in (inner_fragments(q, 1476) if len(q) > 1476 else [routed(q)])]
    scenario("mtu-fragment-burst", "40 no-DF 3000-byte packets between 40 small ones: 160 packets out "
             "of 80, more than a burst holds, all sent and in order",
             [GRE_B], {"lan": [from_host(q) for q in burst]},
             {"wan": [Exact(w, (OUTER_ID,)) for w in want]},
             tunnel_counters={"gre-b": {"tx_packets": 160, "tx_drops": 0}})

    # --- outer fragments from the peer: reassembled before GRE / ESP ------------------------
    inner = udp(1400, FAR4, HOST4)
    full = ip4(PEER4, WAN4, ident=0x777) / gre({}) / inner
    pieces = fragment(IP(bytes(full)), fragsize=800)
    scenario("mtu-reassemble-gre", "GRE from the peer in two outer fragments, second first -> "
             "reassembled, decapsulated, delivered once",
             [GRE_B], {"wan": [rs.Ether(src=rs.PEER_MAC, dst=rs.WAN_MAC) / f for f in reversed(pieces)]},
             {"lan": [Exact(to_host(routed(inner)))]},
             tunnel_counters={"gre-b": {"rx_packets": 1}})
    inner6 = udp(1300, FAR4_V6T, HOST4)
    full6 = IPv6(src=PEER6, dst=WAN6, nh=44) / IPv6ExtHdrFragment(nh=47, id=0x1234) / gre({}) / inner6
    pieces6 = fragment6(full6, 700)
    scenario("mtu-reassemble-gre-ipv6", "GRE over IPv6 from the peer in fragments -> reassembled",
             [GRE_6], {"wan": [rs.Ether(src=rs.PEER_MAC, dst=rs.WAN_MAC) / f for f in pieces6]},
             {"lan": [Exact(to_host(routed(inner6)))]}, routes=V6T_ROUTES,
             tunnel_counters={"gre-6": {"rx_packets": 1}})
    esp = ip4(PEER4, WAN4, ident=0x778) / ESP(spi=0x1001, seq=1) / Raw(b"e" * 1600)
    scenario("mtu-reassemble-esp", "ESP in outer fragments is reassembled before ESP processing "
             "(no SA: esp-no-sa once, not outer-fragment)",
             [GRE_B], {"wan": [rs.Ether(src=rs.PEER_MAC, dst=rs.WAN_MAC) / f
                               for f in fragment(IP(bytes(esp)), fragsize=1000)]},
             {}, drops={"esp-no-sa": 1})

    # --- TCP MSS clamping, both directions --------------------------------------------------
    def clamp_case(name, doc, tun, mss_out, mss6_out):
        syn = tcp_syn(HOST4, FAR4, 1460)
        synack = tcp_syn(FAR4, HOST4, 1460, "SA")
        syn6 = tcp_syn(HOST6, FAR6, 1440, v6=True)
        def with_mss(pkt, v):
            q = pkt.copy()
            q[TCP].options = [("MSS", v)] + q[TCP].options[1:]
            q[TCP].chksum = None
            return q
        scenario(name, doc, [tun],
                 {"lan": [from_host(syn), from_host(syn6)],
                  "wan": [from_peer(ip4(PEER4, WAN4), gre({}), synack)]},
                 {"wan": [Exact(gre_out({}, routed(with_mss(syn, mss_out))), (OUTER_ID,)),
                          Exact(gre_out({}, routed(with_mss(syn6, mss6_out))), (OUTER_ID,))],
                  "lan": [Exact(to_host(routed(with_mss(synack, mss_out))))]})
    clamp_case("mss-clamp-auto", "default mss_clamp auto: SYN in, SYN-ACK out of the tunnel -> MSS "
               "1436 (1476 - 40); IPv6 SYN -> 1416 (1476 - 60); TCP checksums redone", GRE_B, 1436, 1416)
    clamp_case("mss-clamp-fixed", "mss_clamp 1300: both directions, both families",
               dict(GRE_B, mss_clamp=1300), 1300, 1300)
    clamp_case("mss-clamp-off", "mss_clamp off: MSS untouched", dict(GRE_B, mss_clamp="off"), 1460, 1440)
    low = tcp_syn(HOST4, FAR4, 1200)
    scenario("mss-clamp-lower-kept", "an MSS already below the clamp is left alone",
             [GRE_B], {"lan": [from_host(low)]}, {"wan": [Exact(gre_out({}, routed(low)), (OUTER_ID,))]})

    # --- outer DF (set / clear) and ECN on encapsulation -------------------------------------
    def with_outer(frame, **kw):
        f = frame.copy()
        for k, v in kw.items():
            setattr(f[IP], k, v)
        f[IP].chksum = None
        return f
    nodf, df = udp(200, n=1), udp(200, df=True, n=2)
    scenario("df-set", "df: set: outer DF even when the inner packet has none",
             [dict(GRE_B, df="set")], {"lan": [from_host(nodf)]},
             {"wan": [Exact(with_outer(gre_out({}, routed(nodf)), flags="DF"), (OUTER_ID,))]})
    scenario("df-clear", "df: clear: no outer DF even when the inner packet has it",
             [dict(GRE_B, df="clear")], {"lan": [from_host(df)]},
             {"wan": [Exact(with_outer(gre_out({}, routed(df)), flags=0), (OUTER_ID,))]})
    ce = ip4(HOST4, FAR4, tos=0x03) / UDP(sport=7, dport=7) / Raw(b"ce")
    ect = ip4(FAR4, HOST4, tos=0x01) / UDP(sport=7, dport=7) / Raw(b"e1")
    scenario("ecn-encap-decap", "RFC 6040: inner CE copied to the outer header; outer ECT(0) over an "
             "ECT(1) inner leaves the inner ECN alone",
             [GRE_B], {"lan": [from_host(ce)], "wan": [from_peer(ip4(PEER4, WAN4, tos=0x02), gre({}), ect)]},
             {"wan": [Exact(gre_out({}, routed(ce)), (OUTER_ID,))], "lan": [Exact(to_host(routed(ect)))]})


define()

if __name__ == "__main__":
    sys.exit(rs.main())

#!/usr/bin/python3
"""Layer 2 (gretap + bridge domains) through the real tunnelgw binary on net_pcap ports.

Learning is asynchronous (workers -> learn ring -> the slow path writes the MAC table), so a
scenario is a list of phases: every port's rx_pcap is a FIFO, and each phase writes one batch
to every port, then pauses so the learner has run before the next phase's frames arrive. A
batch is padded to a multiple of 32 frames (the worker's RX burst) with frames every port drops
under a known reason, so a burst never waits inside net_pcap for the next phase.

Topology:  lan2 (whole port bridged) --+
           lan3 (L3 port, VLAN 100 bridged) --[tunnelgw]-- wan --- peers .2 (tap-b), .3 (tap-c)

usage: l2_scenario.py --tunnelgw PATH [--out DIR] [--keep] [NAME-or-glob ...] | --list
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
import threading
import time
import zlib
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_scenarios import (OUTER_ID, Exact, describe, eal_runtime_dir, lcores,  # noqa: E402
                           match)
from scapy.all import ARP, BOOTP, GRE, IP, UDP, Dot1Q, Ether, Raw, rdpcap  # noqa: E402

LAN2_MAC, LAN3_MAC, WAN_MAC = "02:00:00:00:02:02", "02:00:00:00:03:03", "02:00:00:00:0f:01"
PEER_MAC = {"tap-b": "02:00:00:60:00:02", "tap-c": "02:00:00:60:00:03", "tap-d": "02:00:00:60:00:04"}
WAN4 = "192.168.60.1"
PEER4 = {"tap-b": "192.168.60.2", "tap-c": "192.168.60.3", "tap-d": "192.168.60.4"}
HA, HB, HC, HX = "02:00:00:aa:00:01", "02:00:00:bb:00:01", "02:00:00:cc:00:01", "02:00:00:dd:00:99"
BCAST = "ff:ff:ff:ff:ff:ff"
PORTS = ("lan2", "lan3", "wan")
BATCH = 32

# Padding every port drops under a fixed reason: a multicast source on a bridged port, an
# unknown EtherType on an L3 port.
PAD_DROP = {"lan2": "bd-bad-src", "lan3": "l2-ethertype", "wan": "l2-ethertype"}


def pad_frame(port, i):
    if port == "lan2":
        return Ether(src="03:00:00:00:00:01", dst=BCAST, type=0x88B5) / Raw(b"pad%03d" % i)
    dst = LAN3_MAC if port == "lan3" else WAN_MAC
    return Ether(src="02:00:00:00:99:99", dst=dst, type=0x88B5) / Raw(b"pad%03d" % i)


def udp(src, dst, n, dst_ip="10.50.0.2"):
    return (Ether(src=src, dst=dst) / IP(src="10.50.0.1", dst=dst_ip, id=n) /
            UDP(sport=5000 + n, dport=7) / Raw(b"l2-%03d" % n * 4))


def arp_req(src, ip, target):
    return Ether(src=src, dst=BCAST) / ARP(op=1, hwsrc=src, psrc=ip, pdst=target)


def dhcp_discover(src):
    return (Ether(src=src, dst=BCAST) / IP(src="0.0.0.0", dst="255.255.255.255") /
            UDP(sport=68, dport=67) / BOOTP(chaddr=bytes.fromhex(src.replace(":", "")), xid=0x1234))


def gre_opts(opts):
    g = GRE(proto=0x6558)
    if opts.get("checksum"):
        g.chksum_present = 1
    if "key" in opts:
        g.key_present, g.key = 1, opts["key"]
    return g


def teb_in(tunnel, frame, opts=None):
    """A gretap frame from the peer of `tunnel` to the gateway."""
    return (Ether(src=PEER_MAC[tunnel], dst=WAN_MAC) / IP(src=PEER4[tunnel], dst=WAN4, ttl=64) /
            gre_opts(opts or {}) / frame)


def teb_out(tunnel, frame, opts=None):
    """What the gateway must send on wan for `frame` into `tunnel`: DSCP 0, DF clear, TTL 64."""
    return (Ether(src=WAN_MAC, dst=PEER_MAC[tunnel]) /
            IP(src=WAN4, dst=PEER4[tunnel], proto=47, ttl=64, tos=0, flags=0) /
            gre_opts(opts or {}) / frame)


def tagged(frame, vid):
    e = frame.copy()
    payload = e.payload
    e.remove_payload()
    e.type = 0x8100
    return e / Dot1Q(vlan=vid, type=frame.type) / payload


@dataclass
class Case:
    name: str
    doc: str
    domains: list
    phases: list                       # [{port: [frames]}], one pause between phases
    expect: dict                       # port -> [frames]; ports not named send nothing
    drops: dict = field(default_factory=dict)   # besides the padding
    bridges: dict = field(default_factory=dict)  # domain -> {counter: value}
    tunnel_opts: dict = field(default_factory=dict)  # tunnel -> options
    gaps: list = None                  # seconds before each phase after the first (default 0.3)


CASES = []


def case(*a, **kw):
    CASES.append(Case(*a, **kw))


def define():
    three = [{"name": "stretch", "members": [{"port": "lan2"}, {"tunnel": "tap-b"}, {"tunnel": "tap-c"}]}]
    arp = arp_req(HA, "10.50.0.1", "10.50.0.2")
    a2b, b2a = udp(HA, HB, 1), udp(HB, HA, 2)
    case("l2-learn-forward",
         "broadcast from lan2 floods to both tunnels; the reply from tap-b goes to lan2 only; then "
         "lan2 -> B goes into tap-b only (both MACs learned)",
         three,
         [{"lan2": [arp]}, {"wan": [teb_in("tap-b", b2a)]}, {"lan2": [a2b]}],
         {"wan": [teb_out("tap-b", arp), teb_out("tap-c", arp), teb_out("tap-b", a2b)],
          "lan2": [b2a]},
         bridges={"stretch": {"flooded": 1, "forwarded": 2, "unknown_unicast": 0, "macs": 2}})
    unk = udp(HA, HX, 3)
    case("l2-unknown-unicast-flood", "unicast to an unknown MAC is flooded to every other member",
         three, [{"lan2": [unk]}], {"wan": [teb_out("tap-b", unk), teb_out("tap-c", unk)]},
         bridges={"stretch": {"flooded": 1, "unknown_unicast": 1}})
    disc = dhcp_discover(HB)
    case("l2-broadcast-flood",
         "a DHCP discover (UDP 68 -> 67 broadcast) out of tap-b reaches lan2 and tap-c",
         three, [{"wan": [teb_in("tap-b", disc)]}], {"lan2": [disc], "wan": [teb_out("tap-c", disc)]},
         bridges={"stretch": {"flooded": 1, "flood_copies": 2}})
    bc = [arp_req(HA, "10.50.0.1", "10.50.0.%d" % (10 + i)) for i in range(5)]
    case("l2-flood-limit", "flood_limit_pps 1: one broadcast is flooded, four are dropped and counted",
         [dict(three[0], flood_limit_pps=1)], [{"lan2": bc}],
         {"wan": [teb_out("tap-b", bc[0]), teb_out("tap-c", bc[0])]},
         drops={"bd-flood-limit": 4})
    hb_arp = arp_req(HB, "10.50.0.2", "10.50.0.1")
    case("l2-ageing",
         "mac_ageing 2: B is learned and used, then after 3.5 s it has aged out and is flooded",
         [dict(three[0], mac_ageing=2)],
         [{"wan": [teb_in("tap-b", hb_arp)]}, {"lan2": [a2b]}, {"lan2": [a2b]}],
         {"lan2": [hb_arp],
          "wan": [teb_out("tap-c", hb_arp), teb_out("tap-b", a2b), teb_out("tap-b", a2b),
                  teb_out("tap-c", a2b)]},
         gaps=[0.3, 3.5])
    vdom = [{"name": "v100", "members": [{"port": "lan3", "vlan": 100}, {"tunnel": "tap-b"}]}]
    t_bc, t_other = tagged(arp, 100), tagged(udp(HA, BCAST, 4), 200)
    case("l2-vlan-map",
         "VLAN 100 of L3 port lan3 is bridged: its tag is stripped into the tunnel and added back "
         "out of it; VLAN 200 is not bridged (l2-vlan)",
         vdom, [{"lan3": [t_bc, t_other]}, {"wan": [teb_in("tap-b", b2a)]}],
         {"wan": [teb_out("tap-b", arp)], "lan3": [tagged(b2a, 100)]},
         drops={"l2-vlan": 1})
    pdom = [{"name": "pass", "members": [{"port": "lan2"}, {"tunnel": "tap-b"}]}]
    t300 = tagged(udp(HA, HB, 5), 300)
    case("l2-vlan-passthrough", "a whole bridged port carries tagged frames unchanged",
         pdom, [{"lan2": [t300]}, {"wan": [teb_in("tap-b", tagged(b2a, 300))]}],
         {"wan": [teb_out("tap-b", t300)], "lan2": [tagged(b2a, 300)]})
    p2p = [{"name": "pw", "mode": "point-to-point", "members": [{"port": "lan2"}, {"tunnel": "tap-b"}]}]
    case("l2-p2p", "point-to-point: lan2 <-> tap-b whatever the MACs, nothing learned",
         p2p, [{"lan2": [a2b, unk]}, {"wan": [teb_in("tap-b", b2a)]}, {"lan2": [a2b]}],
         {"wan": [teb_out("tap-b", a2b), teb_out("tap-b", unk), teb_out("tap-b", a2b)],
          "lan2": [b2a]},
         bridges={"pw": {"forwarded": 4, "flooded": 0, "learn_events": 0, "macs": 0}})
    opts = {"key": 7, "checksum": True}
    case("l2-teb-decap-options",
         "gretap with key and checksum: a peer's frame is decapsulated into lan2, and lan2's "
         "broadcast leaves with the key and a valid GRE checksum",
         pdom, [{"wan": [teb_in("tap-b", disc, opts)]}, {"lan2": [arp]}],
         {"lan2": [disc], "wan": [teb_out("tap-b", arp, opts)]}, tunnel_opts={"tap-b": opts})
    four = [{"name": "wide", "flood_limit_pps": 0,
             "members": [{"port": "lan2"}, {"tunnel": "tap-b"}, {"tunnel": "tap-c"}, {"tunnel": "tap-d"}]}]
    storm = [arp_req(HA, "10.50.0.1", "10.50.1.%d" % i) for i in range(32)]
    case("l2-flood-amplification",
         "a burst of 32 broadcasts into 3 tunnels: 96 copies, more than a vector holds, all sent "
         "in order",
         four, [{"lan2": storm}],
         {"wan": [teb_out(t, f) for f in storm for t in ("tap-b", "tap-c", "tap-d")]},
         bridges={"wide": {"flooded": 32, "flood_copies": 96}})
    short = teb_in("tap-b", Raw(b"0123456789"))
    case("l2-teb-short", "a gretap payload shorter than an Ethernet header is dropped (teb-short)",
         pdom, [{"wan": [short]}], {}, drops={"teb-short": 1})


def config(d, domains, tunnel_opts, prefix):
    dev = lambda i, p: f"net_pcap{i},rx_pcap={d}/{p}_in.fifo,tx_pcap={d}/{p}_out.pcap"  # noqa: E731
    return {
        "eal": ["--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix", prefix,
                f"--lcores={lcores()}"],
        "workers": [1], "idle_backoff_us": 10, "stats_interval": 0,
        "ports": [
            {"name": "lan2", "device": dev(0, "lan2"), "mac": LAN2_MAC},
            {"name": "lan3", "device": dev(1, "lan3"), "mac": LAN3_MAC, "addresses": ["10.10.3.1/24"]},
            {"name": "wan", "device": dev(2, "wan"), "mac": WAN_MAC, "addresses": [f"{WAN4}/24"]},
        ],
        "neighbors": [{"port": "wan", "address": PEER4[t], "mac": PEER_MAC[t]} for t in PEER4],
        "tunnels": [dict({"name": t, "type": "gretap", "local": WAN4, "remote": PEER4[t]},
                         **tunnel_opts.get(t, {}))
                    for t in PEER4 if any(m.get("tunnel") == t for dm in domains for m in dm["members"])],
        "bridge_domains": domains,
    }


def feeder(path, batches, events, done):
    """Writes the pcap header, then batch k after events[k] is set."""
    with open(path, "wb") as f:
        # The header now: the gateway's net_pcap reads it while the EAL starts.
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        f.flush()
        for k, batch in enumerate(batches):
            events[k].wait()
            for fr in batch:
                b = bytes(fr)
                f.write(struct.pack("<IIII", k, 0, len(b), len(b)) + b)
            f.flush()
        done.wait()


def run_case(c, tgw, outdir):
    d = os.path.join(outdir, c.name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    prefix = "tgwl2%d_%08x" % (os.getpid(), zlib.crc32(c.name.encode()))
    cfg_path, stats_path, log_path = (os.path.join(d, n) for n in ("config.yaml", "stats.json", "tunnelgw.log"))
    with open(cfg_path, "w") as f:
        f.write(f"# {c.name}: {c.doc}\n")
        json.dump(config(d, c.domains, c.tunnel_opts, prefix), f, indent=2)
    pads = {}
    batches = {p: [] for p in PORTS}
    for ph in c.phases:
        for p in PORTS:
            real = ph.get(p, [])
            n = max(BATCH, -(-len(real) // BATCH) * BATCH) - len(real)
            batches[p].append(list(real) + [pad_frame(p, i) for i in range(n)])
            bridged = any(m.get("port") == p and "vlan" not in m for dm in c.domains for m in dm["members"])
            reason = PAD_DROP[p] if bridged or p != "lan2" else "l2-ethertype"
            pads[reason] = pads.get(reason, 0) + n
    events = [threading.Event() for _ in c.phases]
    done = threading.Event()
    threads = []
    for p in PORTS:
        os.mkfifo(os.path.join(d, f"{p}_in.fifo"))
        t = threading.Thread(target=feeder, args=(os.path.join(d, f"{p}_in.fifo"), batches[p], events, done),
                             daemon=True)
        t.start()
        threads.append(t)
    gap_total = sum(c.gaps or [0.3] * (len(c.phases) - 1))
    cmd = [tgw, "--config", cfg_path, "--exit-idle", str(int(1000 + 1000 * max(c.gaps or [0.3]))),
           "--stats-json", stats_path]
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")  # say where, for a sanitizer build
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        # Phase 1 only once the workers run: before that every phase would queue up at once.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            with open(log_path, errors="replace") as f:
                if "running:" in f.read():
                    break
            time.sleep(0.05)
        for k in range(len(c.phases)):
            if k:
                time.sleep((c.gaps or [0.3] * len(c.phases))[k - 1])
            events[k].set()
        time.sleep(0.2)
        done.set()  # EOF on every port: the gateway goes idle and exits
        try:
            rc = proc.wait(timeout=60 + gap_total)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
    shutil.rmtree(eal_runtime_dir(prefix), ignore_errors=True)
    if rc != 0:
        with open(log_path, errors="replace") as f:
            tail = f.read().strip().splitlines()[-15:]
        return [f"tunnelgw exit status {rc}"] + ["   | " + line for line in tail], d
    errs = []
    with open(log_path, errors="replace") as f:
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in f.read():
                errs.append(f"sanitizer report in {log_path}: {marker}")
            f.seek(0)
    for p in PORTS:
        out = os.path.join(d, f"{p}_out.pcap")
        got = rdpcap(out) if os.path.exists(out) and os.path.getsize(out) >= 24 else []
        want = [Exact(x, (OUTER_ID,)) for x in c.expect.get(p, [])]
        for i in range(max(len(want), len(got))):
            if i >= len(got):
                errs.append(f"{p} out #{i}: missing; want {describe(want[i])}")
            elif i >= len(want):
                errs.append(f"{p} out #{i}: unexpected {Ether(bytes(got[i])).summary()}")
            else:
                errs += [f"{p} out #{i}: {e}" for e in match(want[i], got[i])]
    st = json.load(open(stats_path))
    want_drops = dict(pads)
    for k, v in c.drops.items():
        want_drops[k] = want_drops.get(k, 0) + v
    for reason, n in st["drops"].items():
        if n != want_drops.get(reason, 0):
            errs.append(f"drops[{reason}] = {n}, want {want_drops.get(reason, 0)}")
    for dom, want in c.bridges.items():
        got = st.get("bridges", {}).get(dom, {})
        for k, v in want.items():
            if got.get(k) != v:
                errs.append(f"bridges.{dom}.{k} = {got.get(k)}, want {v}")
    return errs, d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tunnelgw")
    ap.add_argument("--out")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    define()
    if a.list:
        print("\n".join(c.name for c in CASES))
        return 0
    if not a.tunnelgw:
        ap.error("--tunnelgw is required")
    sel = [c for c in CASES if not a.names or any(fnmatch.fnmatch(c.name, n) for n in a.names)]
    if not sel:
        print(f"no case matches {a.names}")
        return 1
    outdir = os.path.abspath(a.out) if a.out else tempfile.mkdtemp(prefix="tgw-l2-")
    os.makedirs(outdir, exist_ok=True)
    failed = 0
    for c in sel:
        t0 = time.monotonic()
        errs, d = run_case(c, os.path.abspath(a.tunnelgw), outdir)
        dt = time.monotonic() - t0
        if errs:
            failed += 1
            print(f"FAIL {c.name} ({dt:.1f}s): {c.doc}\n   files: {d}")
            for e in errs:
                print(f"   - {e}")
        else:
            print(f"PASS {c.name} ({dt:.1f}s)")
            if not a.keep:
                shutil.rmtree(d, ignore_errors=True)
        sys.stdout.flush()
    print(f"l2 scenarios: {len(sel) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

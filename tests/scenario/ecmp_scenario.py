#!/usr/bin/python3
"""ECMP through the real binary on net_pcap ports: 4 tunnels in one group (weights 1,1,1,1 and
a second run with 1,1,1,3), 8 000 flows with two packets each.

Checks on the output pcap: every flow's packets leave by one tunnel (stickiness), the flows
spread over the members in proportion to the weights, the per-tunnel ECMP counters add up,
and `tunnelgw --which-tunnel` names the tunnel each sampled flow really took.

usage: ecmp_scenario.py --tunnelgw PATH [--out DIR]      exit status 0 = pass
"""
import argparse, collections, json, os, shutil, subprocess, sys, tempfile

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import GRE, IP, UDP, Ether, PcapReader, PcapWriter  # noqa: E402

LAN_MAC, WAN_MAC, HOST_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01", "02:00:00:00:01:02"
FLOWS = 8000


def config(d, weights):
    hubs = [{"name": "hub%d" % i, "local": "192.168.60.1", "remote": "192.168.60.%d" % (2 + i)}
            for i in range(4)]
    return {
        "eal": ["--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix",
                "ecmp%d" % os.getpid(), "--lcores", os.environ.get("TGW_LCORES", "0@0,1@0")],
        "workers": [1], "idle_backoff_us": 100, "stats_interval": 0,
        "ports": [
            {"name": "lan", "mac": LAN_MAC, "addresses": ["10.10.1.1/24"],
             "device": "net_pcap0,rx_pcap=%s/lan_in.pcap,tx_pcap=%s/lan_out.pcap" % (d, d)},
            {"name": "wan", "mac": WAN_MAC, "addresses": ["192.168.60.1/24"],
             "device": "net_pcap1,rx_pcap=%s/wan_in.pcap,tx_pcap=%s/wan_out.pcap" % (d, d)}],
        "neighbors": [{"port": "wan", "address": "192.168.60.%d" % (2 + i),
                       "mac": "02:00:00:60:00:%02x" % (2 + i)} for i in range(4)],
        "tunnels": hubs,
        "groups": [{"name": "hubs", "members": [{"tunnel": h["name"], "weight": w}
                                                for h, w in zip(hubs, weights)]}],
        "routes": [{"prefix": "10.20.0.0/16", "group": "hubs"}],
    }


def flow_pkt(i):
    return (Ether(src=HOST_MAC, dst=LAN_MAC) /
            IP(src="10.10.1.2", dst="10.20.%d.%d" % (i // 250, 1 + i % 250)) /
            UDP(sport=10000 + i % 50000, dport=53) / (b"f%06d" % i))


def run(tgw, d, weights):
    os.makedirs(d, exist_ok=True)
    with PcapWriter(os.path.join(d, "lan_in.pcap")) as w:
        for rep in range(2):  # each flow twice, far apart in time
            for i in range(FLOWS):
                w.write(flow_pkt(i))
    PcapWriter(os.path.join(d, "wan_in.pcap")).close()
    cfg = os.path.join(d, "gw.yaml")
    json.dump(config(d, weights), open(cfg, "w"))  # JSON is YAML
    stats = os.path.join(d, "stats.json")
    r = subprocess.run([tgw, "--config", cfg, "--exit-idle", "700", "--stats-json", stats],
                       capture_output=True, text=True, timeout=120)
    shutil.rmtree("/var/run/dpdk/ecmp%d" % os.getpid(), ignore_errors=True)  # EAL runtime files
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        return ["tunnelgw exited %d" % r.returncode]
    errors = []
    via = {}
    per = collections.Counter()
    for p in PcapReader(os.path.join(d, "wan_out.pcap")):
        if GRE not in p or IP not in p[GRE]:
            errors.append("non-GRE frame on wan: " + p.summary())
            continue
        fid = int(bytes(p[GRE][UDP].payload)[1:7])
        t = p[IP].dst
        if via.setdefault(fid, t) != t:
            errors.append("flow %d left by %s and by %s" % (fid, via[fid], t))
        per[t] += 1
    if len(via) != FLOWS:
        errors.append("%d of %d flows came out" % (len(via), FLOWS))
    flows_per = collections.Counter(via.values())
    total_w = sum(weights)
    for i, w in enumerate(weights):
        want = FLOWS * w / total_w
        got = flows_per.get("192.168.60.%d" % (2 + i), 0)
        print("  hub%d weight %d: %5d flows (want %.0f, %+.1f%%)" % (i, w, got, want, 100 * (got - want) / want))
        if abs(got - want) > 0.1 * want:
            errors.append("hub%d has %d flows, want %.0f +-10%%" % (i, got, want))
    s = json.load(open(stats))
    hashed = sum(t["ecmp_packets"] for t in s["tunnels"].values())
    if hashed != 2 * FLOWS:
        errors.append("ECMP counters add up to %d, want %d" % (hashed, 2 * FLOWS))
    for i in range(0, FLOWS, FLOWS // 8):  # the offline answer matches the fast path
        p = flow_pkt(i)
        q = "10.10.1.2 %s udp %d 53" % (p[IP].dst, p[UDP].sport)
        out = subprocess.run([tgw, "--config", cfg, "--which-tunnel", q], capture_output=True,
                             text=True, timeout=60).stdout.strip()
        want = "hub%d" % (int(via.get(i, "0.0.0.0").split(".")[3]) - 2)
        if not out.startswith("tunnel %s " % want):
            errors.append("--which-tunnel for flow %d says %r, the packet took %s" % (i, out, want))
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tunnelgw", required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="ecmp")
    bad = []
    for name, weights in (("equal", [1, 1, 1, 1]), ("weighted", [1, 1, 1, 3])):
        print("ecmp %s %s" % (name, weights))
        errs = run(a.tunnelgw, os.path.join(out, name), weights)
        for e in errs[:20]:
            print("  FAIL", e)
        bad += errs
    print("PASS ecmp" if not bad else "FAIL ecmp (%d problems)" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

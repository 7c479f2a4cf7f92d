#!/usr/bin/python3
"""Single-worker throughput on net_pcap infinite_rx (replay from memory, TX dropped):
tunnelgw GRE encap and decap beside dpdk-testpmd macswap, same vdev, same lcores, same run.

usage: bench/pcap_bench.py --tunnelgw build/src/tunnelgw [--sizes 64 1420] [--seconds 5] [--json F]
A benchmark, not a test: it prints numbers and never asserts on them.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time
from scapy.all import Ether, IP, UDP, GRE, Raw, wrpcap

GW_MAC, PEER_MAC, HOST_MAC = "02:00:00:00:01:01", "02:00:00:60:00:02", "02:00:00:00:0a:01"
EAL = ["--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--lcores=0@0,1@1"]

CONFIG = """
eal: {eal}
workers: [1]
idle_backoff_us: 0
stats_interval: 0
ports:
  - name: p0
    device: "net_pcap0,rx_pcap={pcap},infinite_rx=1"
    mac: "{gw}"
    addresses: ["192.168.60.1/24", "10.10.1.1/24"]
neighbors:
  - {{port: p0, address: 192.168.60.2, mac: "{peer}"}}
  - {{port: p0, address: 10.10.1.2, mac: "{host}"}}
tunnels:
  - {{name: t0, local: 192.168.60.1, remote: 192.168.60.2, key: 42}}
routes:
  - {{prefix: 10.20.0.0/16, tunnel: t0}}
"""


def frames(kind, size, flows=256):
    out = []
    for i in range(flows):
        inner_dst = "10.20.%d.%d" % (i // 250, 1 + i % 250)
        if kind == "encap":
            p = Ether(src=HOST_MAC, dst=GW_MAC) / IP(src="10.10.1.2", dst=inner_dst) / UDP(sport=1024 + i, dport=9)
        else:
            inner = IP(src=inner_dst, dst="10.10.1.2") / UDP(sport=1024 + i, dport=9)
            p = (Ether(src=PEER_MAC, dst=GW_MAC) / IP(src="192.168.60.2", dst="192.168.60.1") /
                 GRE(key_present=1, key=42) / inner)
        pad = size - len(p)
        out.append(p / Raw(b"\0" * max(pad, 0)))
    return out


def run_tunnelgw(binary, pcap, seconds, tmp, tag):
    cfg = os.path.join(tmp, "gw.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(eal=json.dumps(EAL + ["--file-prefix", "bench" + tag]), pcap=pcap,
                              gw=GW_MAC, peer=PEER_MAC, host=HOST_MAC))
    js = os.path.join(tmp, "s.json")
    subprocess.run([binary, "--config", cfg, "--run-for", str(seconds), "--stats-json", js],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = json.load(open(js))
    rx = s["ports"]["p0"]["rx_packets"]
    tx = s["ports"]["p0"]["tx_packets"]
    drops = sum(s["drops"].values())
    w = s["workers"]
    return {"mpps": rx / s["uptime_s"] / 1e6, "tx_mpps": tx / s["uptime_s"] / 1e6,
            "cycles_per_pkt": w["busy_cycles"] / max(w["packets"], 1), "drops": drops}


def run_testpmd(pcap, seconds, tag):
    cmd = ["dpdk-testpmd"] + EAL + ["--file-prefix", "tpmd" + tag,
                                    "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
                                    "--", "-i", "--forward-mode=macswap", "--nb-cores=1",
                                    "--total-num-mbufs=16384"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    time.sleep(2)
    p.stdin.write("start\n"); p.stdin.flush()
    t0 = time.time(); time.sleep(seconds)
    p.stdin.write("stop\n"); p.stdin.flush()
    dt = time.time() - t0
    p.stdin.write("quit\n"); p.stdin.flush()
    out, _ = p.communicate(timeout=30)
    m = re.findall(r"RX-packets:\s+(\d+)", out)
    rx = int(m[-1]) if m else 0
    return {"mpps": rx / dt / 1e6}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tunnelgw", default="build/src/tunnelgw")
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 1420])
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in a.sizes:
            for kind in ("encap", "decap"):
                pcap = os.path.join(tmp, "%s%d.pcap" % (kind, size))
                wrpcap(pcap, frames(kind, size))
                tag = "%s%d" % (kind, size)
                ref = run_testpmd(pcap, a.seconds, tag)
                gw = run_tunnelgw(a.tunnelgw, pcap, a.seconds, tmp, tag)
                rows.append({"scenario": "gre-" + kind, "size": size, "tunnelgw_mpps": gw["mpps"],
                             "tunnelgw_tx_mpps": gw["tx_mpps"], "cycles_per_pkt": gw["cycles_per_pkt"],
                             "drops": gw["drops"], "macswap_mpps": ref["mpps"],
                             "ratio": gw["mpps"] / ref["mpps"] if ref["mpps"] else 0})
                r = rows[-1]
                print("%-10s %5d B  tunnelgw %6.2f Mpps (%5.0f cyc/pkt, drops %d)  macswap %6.2f Mpps  ratio %.2f"
                      % (r["scenario"], size, r["tunnelgw_mpps"], r["cycles_per_pkt"], r["drops"],
                         r["macswap_mpps"], r["ratio"]), flush=True)
    if a.json:
        json.dump({"cpu": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": "),
                   "rows": rows}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())

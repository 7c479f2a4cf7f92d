#!/usr/bin/python3
"""A short run of the benchmark sweep against the real binaries: tunnelgw on memif ports with
tunnelgw-bench on the other side, plus the single-process net_pcap mode. Checks the JSON is
complete and well formed, that traffic went through (non-zero), that nothing was lost,
misrouted or malformed at a low rate, that every member of a 4-tunnel ECMP group got packets,
and that ESP (AES-GCM-128 encrypt, GRE-over-ESP decrypt) goes through both modes: live, every
packet back, decrypted and valid; single process, every ESP frame in encrypted or decrypted and
sent, none dropped. Never asserts on a rate or a
time. Needs root (DPDK runtime dirs); exit 77 = skipped.

usage: smoke.py --tunnelgw build/src/tunnelgw --bench build/bench/tunnelgw-bench [--out DIR]
"""
import argparse, json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZES = ["64", "imix"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tunnelgw", required=True)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root")
        return 77
    for exe in (a.tunnelgw, a.bench):
        if not os.access(exe, os.X_OK):
            print("SKIP: %s not built" % exe)
            return 77
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    out = tempfile.mkdtemp(prefix="smoke-", dir=a.out)
    js = os.path.join(out, "bench.json")
    # 10 kpps: even a 20 ms stall of a shared CPU fits in a 1024-slot memif ring, so any loss
    # here is a real one.
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "run_sweep.py"), "--tunnelgw", a.tunnelgw,
           "--bench", a.bench, "--scenarios", "gre-encap,gre-decap,ecmp-encap,esp-encap,gre-esp-decap,gretap-encap,gretap-decap", "--sizes", ",".join(SIZES),
           "--repeat", "1", "--rate", "0.01", "--duration", "1", "--warmup", "0.1", "--no-refs",
           "--pcap-seconds", "0.5", "--instance", "smoke%d" % os.getpid(), "--out", out, "--json", js, "--png", os.path.join(out, "bench.png")]
    print(" ".join(cmd), flush=True)
    p = subprocess.run(cmd, timeout=240)
    errs = []
    if p.returncode != 0:
        errs.append("run_sweep.py exited %d" % p.returncode)
    try:
        with open(js) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        print("FAIL: no readable JSON: %s" % e)
        return 1

    m = res["machine"]
    for k in ("cpu_model", "cpu_flags", "cpus", "kernel", "dpdk_version", "tunnelgw_git"):
        if not m.get(k):
            errs.append("machine.%s missing" % k)
    for v in ("gre-encap", "gre-decap", "ecmp-encap", "esp-encap", "gre-esp-decap", "gretap-encap", "gretap-decap"):
        sc = res["scenarios"][v]
        if sc["status"] != "ok":
            errs.append("%s: status %s (%s)" % (v, sc["status"], sc.get("reason")))
            continue
        for size in SIZES:
            where = "%s %s" % (v, size)
            run = sc["sizes"][size]["runs"][0]
            if run["status"] != "ok":
                errs.append("%s: %s" % (where, run.get("error")))
                continue
            t = run["generator"]["fixed"]
            if not t["received"] > 0 or not t["forwarded_mpps"] > 0 or not t["forwarded_gbps"] > 0:
                errs.append("%s: nothing forwarded" % where)
            if t["lost"] or t["unsent"] or t["duplicates"] or t["wrong_port"] or any(t["invalid"].values()):
                errs.append("%s: lost %d unsent %d dup %d wrong port %d invalid %s" % (
                    where, t["lost"], t["unsent"], t["duplicates"], t["wrong_port"], t["invalid"]))
            if t["latency_us"]["samples"] != t["received"] or not t["latency_us"]["p50"] > 0:
                errs.append("%s: latency samples %s for %d packets" % (where, t["latency_us"], t["received"]))
            if v == "ecmp-encap" and not (len(t.get("member_packets", [])) == 4 and all(t["member_packets"])):
                errs.append("%s: not every ECMP member got packets: %s" % (where, t.get("member_packets")))
            w = run.get("gateway_stats", {}).get("workers", {})
            if not w.get("packets", 0) >= t["received"]:
                errs.append("%s: gateway counted %s packets, %d came back" % (where, w.get("packets"), t["received"]))
        if sc["sizes"]["64"]["summary"].get("fwd_mpps", {}).get("median", 0) <= 0:
            errs.append("%s: no median in the summary" % v)
    for v in ("tunnelgw-esp-encap", "tunnelgw-gre-esp-decap"):
        for size in SIZES:
            run = (res["single_process"].get(v, {}).get(size, {}).get("runs") or [{}])[0]
            st = run.get("gateway_stats", {})
            p0 = st.get("ports", {}).get("p0", {})
            sa = st.get("sas", {}).get("bench-out" if "encap" in v else "bench-in", {})
            if run.get("status") != "ok" or not run.get("rx_mpps", 0) > 0 or not p0.get("tx_packets"):
                errs.append("single process %s %s: no throughput (%s)" % (v, size, run.get("error")))
            elif run["drops"] or p0["tx_packets"] != p0["rx_packets"] or sa.get("packets") != p0["rx_packets"]:
                errs.append("single process %s %s: %d in, %d out, SA %s, drops %s" % (
                    v, size, p0["rx_packets"], p0["tx_packets"], sa.get("packets"),
                    {k: x for k, x in st.get("drops", {}).items() if x}))
    for v in ("tunnelgw-gre-encap", "tunnelgw-gre-decap"):
        s = res["single_process"].get(v, {}).get("64", {}).get("summary", {})
        if s.get("rx_mpps", {}).get("median", 0) <= 0:
            errs.append("single process %s: no throughput" % v)
    png = os.path.join(out, "bench.png")
    if not os.path.exists(png) or open(png, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
        errs.append("no PNG")
    for e in errs:
        print("FAIL: " + e)
    print("%s (results in %s)" % ("FAILED" if errs else "ok", out))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())

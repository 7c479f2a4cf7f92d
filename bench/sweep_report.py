"""Reporting half of bench/run_sweep.py: machine description, medians and spread, the table,
the PNG. Pure functions over the result dictionary, so a saved bench.json can be re-rendered:
  /usr/bin/python3 bench/sweep_report.py out/bench/<time>/bench.json [plot.png]
"""
import json, os, re, statistics, subprocess, sys

SPREAD_WARN = 10.0  # percent: (max - min) / median of the runs
IMIX_LABEL = "imix"


def _run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _cpus(lcores):
    """CPUs named by an EAL --lcores string: '0@0,1@1', '0-3', '1@(2,3)'."""
    cpus = set()
    for item in re.findall(r"[^,()]+@\([^)]*\)|[^,]+", lcores or ""):
        part = item.split("@")[-1].strip("()")
        for r in re.split(r"[ ,]+", part):
            if "-" in r:
                lo, hi = r.split("-")
                cpus.update(range(int(lo), int(hi) + 1))
            elif r.isdigit():
                cpus.add(int(r))
    return cpus


def machine(a, root):
    info = open("/proc/cpuinfo").read()
    meminfo = open("/proc/meminfo").read()
    model = re.search(r"model name\s*:\s*(.*)", info)
    flags = re.search(r"^flags\s*:\s*(.*)$", info, re.M)
    rev = _run(["git", "-C", root, "rev-parse", "HEAD"])
    dirty = bool(_run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"]))
    ncpu = os.cpu_count() or 0
    shared = bool(_cpus(a.gw_lcores) & _cpus(a.gen_lcores)) or ncpu <= 2
    m = {
        "cpu_model": model.group(1).strip() if model else "?",
        "cpu_flags": flags.group(1).split() if flags else [],
        "cpus": ncpu,
        "hypervisor": bool(flags and "hypervisor" in flags.group(1).split()),
        "kernel": os.uname().release,
        "kernel_cmdline": open("/proc/cmdline").read().strip(),
        "hugepages_total": int((re.search(r"HugePages_Total:\s*(\d+)", meminfo) or [0, 0])[1]),
        "dpdk_version": _run(["pkg-config", "--modversion", "libdpdk"]) or
        _run(["dpkg-query", "-W", "-f", "${Version}", "dpdk"]),
        "tunnelgw_version": _run([a.tunnelgw, "--version"]),
        "tunnelgw_git": (rev + ("-dirty" if dirty else "")) if rev else "?",
        "gw_lcores": a.gw_lcores, "gen_lcores": a.gen_lcores,
        "mode": "bare metal" if a.gw_ports else "lab (net_memif between processes)",
        "cores_shared": shared,
    }
    if ncpu <= 2:
        m["note"] = "%d CPUs: generator and gateway share cores, numbers are a floor" % ncpu
    elif shared:
        m["note"] = "generator and gateway share CPUs (%s / %s): numbers are a floor" % (a.gw_lcores, a.gen_lcores)
    return m


def machine_banner(m):
    s = "tunnelgw benchmark on %s (%d CPUs%s), kernel %s, DPDK %s, tunnelgw %s" % (
        m["cpu_model"], m["cpus"], ", VM" if m["hypervisor"] else "", m["kernel"], m["dpdk_version"],
        m["tunnelgw_git"][:12] + ("-dirty" if m["tunnelgw_git"].endswith("-dirty") else ""))
    return s + ("\n" + m["note"] if m.get("note") else "")


# ---- per-run figures ------------------------------------------------------------------

def _main_trial(g):
    """The trial that gives the headline rate: the flood, or the fixed-rate trial (--rate)."""
    return g.get("max") or g.get("fixed")


def run_figures(r):
    """Flatten one generator run (+ gateway counters) into named numbers."""
    g = r.get("generator")
    if r.get("status") != "ok" or not g:
        return None
    t = _main_trial(g)
    f = {"fwd_mpps": t["forwarded_mpps"], "fwd_gbps": t["forwarded_gbps"], "fwd_l1_gbps": t["forwarded_l1_gbps"],
         "offered_mpps": t["offered_mpps"], "loss": t["loss_ratio"], "invalid": sum(t["invalid"].values()),
         "wrong_port": t["wrong_port"]}
    lat = t["latency_us"]
    ndr = g.get("ndr")
    if ndr:
        f["ndr_mpps"] = ndr["mpps"]
        f["ndr_l1_gbps"] = ndr["l1_gbps"]
        if ndr.get("result"):
            lat = ndr["result"]["latency_us"]
    f.update({"lat_p50": lat["p50"], "lat_p99": lat["p99"], "lat_p999": lat["p999"]})
    if t.get("member_packets"):  # ECMP: the least loaded member's share over the fair share
        mp = t["member_packets"]
        f["ecmp_min_share"] = min(mp) * len(mp) / max(sum(mp), 1)
    if "gw_cycles_per_pkt" in t:
        f["cycles_per_pkt"], f["cycles_source"] = t["gw_cycles_per_pkt"], "telemetry, flood trial"
    elif r.get("gateway_stats"):
        w = r["gateway_stats"]["workers"]
        if w["packets"]:
            f["cycles_per_pkt"], f["cycles_source"] = w["busy_cycles"] / w["packets"], "--stats-json, whole run"
    return f


def _stats(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    med = statistics.median(vals)
    return {"median": med, "min": min(vals), "max": max(vals), "n": len(vals),
            "spread_pct": (max(vals) - min(vals)) / med * 100 if med else 0.0}


def summarize(runs):
    figs = [run_figures(r) for r in runs]
    ok = [f for f in figs if f]
    s = {"ok": len(ok), "failed": len(runs) - len(ok),
         "errors": [r.get("error", "") for r in runs if r.get("status") != "ok"],
         "others_cpu_pct_max": max([r.get("others_cpu_pct", 0) for r in runs] or [0])}
    for k in ("fwd_mpps", "fwd_gbps", "fwd_l1_gbps", "offered_mpps", "loss", "ndr_mpps", "ndr_l1_gbps",
              "lat_p50", "lat_p99", "lat_p999", "cycles_per_pkt", "invalid", "wrong_port", "ecmp_min_share"):
        st = _stats([f.get(k) for f in ok])
        if st:
            s[k] = st
    src = [f["cycles_source"] for f in ok if "cycles_source" in f]
    if src:
        s["cycles_source"] = src[0]
    return s


def summarize_pcap(runs):
    ok = [r for r in runs if r.get("status") == "ok"]
    s = {"ok": len(ok), "failed": len(runs) - len(ok),
         "others_cpu_pct_max": max([r.get("others_cpu_pct", 0) for r in runs] or [0])}
    for k in ("rx_mpps", "tx_mpps", "cycles_per_pkt", "drops"):
        st = _stats([r.get(k) for r in ok])
        if st:
            s[k] = st
    return s


def brief(r):
    f = run_figures(r)
    if not f:
        return "ERROR " + (r.get("error") or "?").splitlines()[0]
    s = "forwarded %.3f Mpps (loss %.3f%%)" % (f["fwd_mpps"], f["loss"] * 100)
    if "ndr_mpps" in f:
        s += ", NDR %.3f Mpps" % f["ndr_mpps"]
    s += ", p50 %.1f us" % f["lat_p50"]
    return s + (", %.0f cyc/pkt" % f["cycles_per_pkt"] if "cycles_per_pkt" in f else "")


def brief_pcap(r):
    if r.get("status") != "ok":
        return "ERROR " + (r.get("error") or "?").splitlines()[0]
    return "%.3f Mpps" % r["rx_mpps"] + (", %.0f cyc/pkt" % r["cycles_per_pkt"] if "cycles_per_pkt" in r else "") + \
        (", %d DROPPED" % r["drops"] if r.get("drops") else "")


# ---- table ----------------------------------------------------------------------------

def _med(s, k):
    v = (s or {}).get(k)
    return v["median"] if v else None


def _fmt(v, f="%.3f"):
    return "-" if v is None else f % v


def _ratio(x, y):
    return "-" if not x or not y else "%.2f" % (x / y)


def table(res, sizes):
    m, lines, warns = res["machine"], [], []
    refs, sp = res.get("references", {}), res.get("single_process", {})
    lines.append(machine_banner(m))
    lines.append("")
    lines.append("Two processes (%s): generator -> tunnelgw -> generator" % m["mode"])
    hdr = "%-19s %5s %9s %8s %9s %9s %8s %21s %8s %12s %6s %6s" % (
        "scenario", "size", "fwd Mpps", "fwd Gbps", "L1 Gbps", "NDR Mpps", "loss@max", "lat p50/p99/p99.9 us",
        "cyc/pkt", "spread f/NDR", "/io", "/mswap")
    lines += [hdr, "-" * len(hdr)]
    for v, sc in res["scenarios"].items():
        if sc["status"] != "ok":
            lines.append("%-19s %s" % (v, sc["reason"]))
            continue
        for size in sizes:
            e = sc["sizes"].get(size)
            if not e:
                continue
            s = e["summary"]
            if not s["ok"]:
                lines.append("%-19s %5s  all runs failed: %s" % (v, size, (s["errors"] or ["?"])[0].splitlines()[0]))
                continue
            fwd = _med(s, "fwd_mpps")
            io = _med(refs.get("testpmd-io-memif", {}).get(size, {}).get("summary"), "fwd_mpps")
            ms = _med(refs.get("testpmd-macswap-memif", {}).get(size, {}).get("summary"), "fwd_mpps")
            spreads = [("max forwarding rate", s["fwd_mpps"]["spread_pct"])]
            if s.get("ndr_mpps"):
                spreads.append(("NDR", s["ndr_mpps"]["spread_pct"]))
            spread_txt = "/".join("%.0f%%" % x for _, x in spreads)
            lat = "%s/%s/%s" % (_fmt(_med(s, "lat_p50"), "%.1f"), _fmt(_med(s, "lat_p99"), "%.0f"),
                                _fmt(_med(s, "lat_p999"), "%.0f"))
            lines.append("%-19s %5s %9s %8s %9s %9s %7s%% %21s %8s %12s %6s %6s" % (
                v, size, _fmt(fwd), _fmt(_med(s, "fwd_gbps"), "%.2f"), _fmt(_med(s, "fwd_l1_gbps"), "%.2f"),
                _fmt(_med(s, "ndr_mpps")), _fmt((_med(s, "loss") or 0) * 100, "%.3f"), lat,
                _fmt(_med(s, "cycles_per_pkt"), "%.0f"), spread_txt, _ratio(fwd, io), _ratio(fwd, ms)))
            if s["failed"]:
                warns.append("WARNING: %s %s B: %d of %d runs failed: %s" % (
                    v, size, s["failed"], s["failed"] + s["ok"], s["errors"][0].splitlines()[0]))
            for what, x in spreads:
                if x > SPREAD_WARN and s["ok"] > 1:
                    warns.append("WARNING: %s %s B: %s spread %.0f%% over %d runs (> %.0f%%): the machine was "
                                 "busy, its (virtual) CPUs stall, or the trials are too short"
                                 % (v, size, what, x, s["ok"], SPREAD_WARN))
            if s.get("others_cpu_pct_max", 0) > 10:
                warns.append("WARNING: %s %s B: other processes used up to %.0f%% of the CPUs during these runs"
                             % (v, size, s["others_cpu_pct_max"]))
            if s.get("ecmp_min_share") and s["ecmp_min_share"]["min"] < 0.5:
                warns.append("WARNING: %s %s B: an ECMP member got %.0f%% of its fair share of the packets"
                             % (v, size, s["ecmp_min_share"]["min"] * 100))
            if _med(s, "invalid") or _med(s, "wrong_port"):
                warns.append("WARNING: %s %s B: invalid or misrouted packets came back (see the JSON)" % (v, size))
    for key, per in refs.items():
        for size in sizes:
            s = per.get(size, {}).get("summary")
            if s and s["ok"]:
                lines.append("%-19s %5s %9s %8s %9s %9s %7s%%" % (
                    "ref " + key.replace("testpmd-", "").replace("-memif", " (memif)"), size, _fmt(_med(s, "fwd_mpps")),
                    _fmt(_med(s, "fwd_gbps"), "%.2f"), _fmt(_med(s, "fwd_l1_gbps"), "%.2f"),
                    _fmt(_med(s, "ndr_mpps")), _fmt((_med(s, "loss") or 0) * 100, "%.3f")))
    cyc = [sc["sizes"][z]["summary"].get("cycles_source") for sc in res["scenarios"].values()
           for z in sc.get("sizes", {}) if sc["sizes"][z]["summary"].get("cycles_source")]
    lines.append("fwd = forwarded at flood (max forwarding rate); NDR = RFC 2544 search, loss <= %g; "
                 "latency at the NDR rate; cyc/pkt: %s; /io, /mswap: fwd over testpmd on the same memif ports"
                 % (res["settings"]["loss_threshold"], cyc[0] if cyc else "-"))

    if sp:
        lines += ["", "Single process (net_pcap infinite_rx=1, TX dropped): Mpps received and processed"]
        keys = list(sp)
        hdr = "%5s " % "size" + " ".join("%17s" % k.replace("tunnelgw-", "tgw ") for k in keys) + \
            "".join("  %s/io" % k.replace("tunnelgw-", "") for k in keys if k.startswith("tunnelgw"))
        lines += [hdr, "-" * len(hdr)]
        io = sp.get("testpmd-io", {})
        for size in sizes:
            row = "%5s " % size
            vals = {}
            for k in keys:
                s = sp[k].get(size, {}).get("summary")
                vals[k] = _med(s, "rx_mpps")
                c = _med(s, "cycles_per_pkt")
                row += " %17s" % (_fmt(vals[k]) + (" (%4.0f cyc)" % c if c else ""))
                st = (s or {}).get("rx_mpps")
                if st and st["n"] > 1 and st["spread_pct"] > SPREAD_WARN:
                    warns.append("WARNING: single-process %s %s B: spread %.0f%%" % (k, size, st["spread_pct"]))
            iov = _med(io.get(size, {}).get("summary"), "rx_mpps")
            for k in keys:
                if k.startswith("tunnelgw"):
                    row += "  %*s" % (len(k.replace("tunnelgw-", "")) + 3, _ratio(vals[k], iov))
            lines.append(row)

    comp = res.get("composite")
    if comp:
        lines += ["", "ESP vs the composite limit 1/(1/io + 1/crypto) (single process, one worker; io = testpmd io "
                  "on the same net_pcap setup, crypto = dpdk-test-crypto-perf AES-GCM-128 Mops at the frame size)",
                  "%-15s %5s %9s %9s %9s %9s %7s" % ("scenario", "size", "tgw Mpps", "io Mpps", "crypto", "limit",
                                                      "ratio")]
        for v, per in comp.items():
            for size, r in per.items():
                lines.append("%-15s %5s %9s %9s %9s %9s %7s" % (
                    v, size, _fmt(r.get("tunnelgw_mpps")), _fmt(r.get("io_mpps")), _fmt(r.get("crypto_mops")),
                    _fmt(r.get("limit_mpps")), _fmt(r.get("ratio"), "%.2fx")))
        lines.append("tgw Mpps = packets the gateway sent (encrypted or decrypted); goal (issue 3): ratio >= 0.85")
        for v, per in sp.items():
            for size, e in per.items():
                if _med(e.get("summary"), "drops"):
                    warns.append("WARNING: single-process %s %s B: the gateway dropped packets (see the JSON)"
                                 % (v, size))
    for key, op in (("crypto", "encrypt"), ("crypto_decrypt", "decrypt")):
        c = res.get(key)
        if c and c.get("status") == "ok":
            lines += ["", "ESP ceiling: dpdk-test-crypto-perf AES-GCM-128 %s, crypto_aesni_mb, 1 lcore" % op,
                      "%5s %8s %8s %10s" % ("size", "Mops", "Gbps", "cyc/buf")]
            for size, r in c["sizes"].items():
                lines.append("%5s %8.3f %8.2f %10.0f" % (size, r["mops"], r["gbps"], r["cycles_per_buf"]))
        elif c:
            warns.append("WARNING: dpdk-test-crypto-perf %s failed: %s" % (
                op, c.get("error", "?").strip().splitlines()[-1:]))
    if m.get("others_cpu_pct_before", 0) > 10:
        warns.insert(0, "WARNING: before the sweep, other processes already used %.0f%% of the CPUs"
                     % m["others_cpu_pct_before"])
    if m.get("note"):
        lines += ["", m["note"]]
    return "\n".join(lines + ([""] + warns if warns else []))


def composite(res, sizes):
    """Per ESP variant and numeric size: tunnelgw single-process Mpps beside the composite limit
    1/(1/io + 1/crypto) of one worker that must both move the packet (testpmd io on the same
    net_pcap setup) and run AES-GCM-128 on it (dpdk-test-crypto-perf, encrypt for the encap
    variants, decrypt for the decap ones, at the frame size)."""
    sp, out = res.get("single_process", {}), {}
    io = sp.get("testpmd-io", {})
    for k, per in sp.items():
        v = k.replace("tunnelgw-", "")
        if not k.startswith("tunnelgw-") or "esp" not in v:
            continue
        cr = res.get("crypto_decrypt" if v.endswith("decap") else "crypto") or {}
        for size in sizes:
            if not size.isdigit():
                continue
            # Forwarded (sent) packets: a drop inside the gateway (policy, auth) must not count.
            t = _med(per.get(size, {}).get("summary"), "tx_mpps")
            i = _med(io.get(size, {}).get("summary"), "rx_mpps")
            c = (cr.get("sizes") or {}).get(size, {}).get("mops")
            r = {"tunnelgw_mpps": t, "io_mpps": i, "crypto_mops": c,
                 "crypto_op": "decrypt" if v.endswith("decap") else "encrypt"}
            if i and c:
                r["limit_mpps"] = 1 / (1 / i + 1 / c)
                if t:
                    r["ratio"] = t / r["limit_mpps"]
            out.setdefault(v, {})[size] = r
    return out


# ---- plot -----------------------------------------------------------------------------

def _xy(per, sizes, key, imix_x):
    """Numeric sizes as a line; IMIX as a separate point at its mean frame size."""
    xs, ys, imix = [], [], None
    for size in sizes:
        s = per.get(size, {}).get("summary")
        v = _med(s, key)
        if v is None:
            continue
        if size == IMIX_LABEL:
            imix = (imix_x, v)
        else:
            xs.append(int(size))
            ys.append(v)
    return xs, ys, imix


def plot(res, sizes, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no PNG: python3-matplotlib is missing (tools/install-deps.sh installs it)"
    imix_x = 4148 / 12  # mean of 7:4:1 x 64/570/1420
    panels = [p for p in ("memif", "pcap", "crypto") if
              (p == "memif" and any(sc["sizes"] for sc in res["scenarios"].values())) or
              (p == "pcap" and res.get("single_process")) or
              (p == "crypto" and (res.get("crypto") or {}).get("status") == "ok")]
    if not panels:
        return "no PNG: nothing was measured"
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5.2), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ticks = sorted(int(z) for z in sizes if z.isdigit())
    for ax, p in zip(axes[0], panels):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("frame size, bytes (IMIX at its mean, star)")
        ax.grid(True, which="both", alpha=0.3)
        if p == "memif":
            ax.set_title("Two processes: forwarded Mpps (solid: flood, dashed: NDR)")
            for i, (v, sc) in enumerate((v, sc) for v, sc in res["scenarios"].items() if sc["sizes"]):
                col = colors[i % len(colors)]
                for key, ls in (("fwd_mpps", "-"), ("ndr_mpps", "--")):
                    xs, ys, imix = _xy(sc["sizes"], sizes, key, imix_x)
                    lo = [sc["sizes"][str(x)]["summary"].get(key, {}).get("min", y) for x, y in zip(xs, ys)]
                    hi = [sc["sizes"][str(x)]["summary"].get(key, {}).get("max", y) for x, y in zip(xs, ys)]
                    ax.errorbar(xs, ys, yerr=[[y - a for y, a in zip(ys, lo)], [b - y for y, b in zip(ys, hi)]],
                                color=col, ls=ls, marker="o", capsize=3, label=v + (" NDR" if ls == "--" else ""))
                    if imix:
                        ax.plot(*imix, marker="*", ms=12, color=col, ls="none")
            for j, (key, per) in enumerate(res.get("references", {}).items()):
                xs, ys, imix = _xy(per, sizes, "fwd_mpps", imix_x)
                ax.plot(xs, ys, color="gray", ls=[":", "-."][j % 2], lw=2, label=key + " (ceiling)")
        elif p == "pcap":
            ax.set_title("Single process, net_pcap infinite_rx: Mpps")
            for i, (k, per) in enumerate(res["single_process"].items()):
                xs, ys, imix = _xy(per, sizes, "rx_mpps", imix_x)
                ref = k.startswith("testpmd")
                col = "gray" if ref else colors[i % len(colors)]
                ax.plot(xs, ys, color=col, ls=(":" if "io" in k else "-.") if ref else "-", marker="" if ref else "o", lw=2 if ref else 1.5,
                        label=k + (" (ceiling)" if ref else ""))
                if imix:
                    ax.plot(*imix, marker="*", ms=12, color=col, ls="none")
            # The ESP ceilings: 1/(1/io + 1/crypto), one line per crypto direction.
            for op, ls in (("encrypt", "--"), ("decrypt", (0, (1, 3)))):
                lim = sorted({int(z): r["limit_mpps"] for per in (res.get("composite") or {}).values()
                              for z, r in per.items() if r.get("crypto_op") == op and r.get("limit_mpps")}.items())
                if lim:
                    ax.plot([x for x, _ in lim], [y for _, y in lim], color="black", ls=ls, lw=1.2,
                            label="ESP limit 1/(1/io+1/%s) (ceiling)" % op)
        else:
            ax.set_title("ESP ceiling: AES-GCM-128 on crypto_aesni_mb, Mops")
            for key, op, ls in (("crypto", "encrypt", "-."), ("crypto_decrypt", "decrypt", ":")):
                c = res.get(key) or {}
                if c.get("status") != "ok":
                    continue
                cs = sorted((int(k), v["mops"]) for k, v in c["sizes"].items())
                ax.plot([x for x, _ in cs], [y for _, y in cs], color="gray", ls=ls, marker="s",
                        label="crypto-perf " + op)
        ax.set_ylabel("Mpps")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
    m = res["machine"]
    noise = max([r.get("others_cpu_pct", 0) for sc in res["scenarios"].values() for e in sc["sizes"].values()
                 for r in e["runs"]] + [0])
    fig.suptitle("tunnelgw %s on %s, %d CPUs, DPDK %s%s%s" % (
        m["tunnelgw_git"][:12], m["cpu_model"], m["cpus"], m["dpdk_version"],
        " - " + m["note"] if m.get("note") else "",
        " - other processes used up to %.0f%% of the CPUs during the runs" % noise if noise > 10 else ""),
        fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        r = json.load(f)
    sz = list(dict.fromkeys(s for sc in list(r["scenarios"].values()) for s in sc.get("sizes", {}))) or \
        list(dict.fromkeys(s for per in r.get("single_process", {}).values() for s in per))
    print(table(r, sz))
    if len(sys.argv) > 2:
        print(plot(r, sz, sys.argv[2]) or sys.argv[2])

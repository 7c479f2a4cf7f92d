#!/usr/bin/python3
"""The standard tunnelgw benchmark sweep: `sudo tools/bench.sh` (which builds, then runs this).

For each scenario x frame size, N times (default 3): start tunnelgw on a generated config,
run tunnelgw-bench against it (flood trial = max forwarding rate, then an RFC 2544 search for
the highest rate with loss <= threshold, latency at that rate), stop tunnelgw, keep its
counters. In the same invocation, the references on the same vdevs and lcores:
  - dpdk-testpmd io and macswap between the two memif ports (the generator is unchanged),
  - single-process: tunnelgw and dpdk-testpmd io/macswap on net_pcap infinite_rx=1 (TX
    dropped): no generator and no second process, so no shared CPU on the data path,
  - dpdk-test-crypto-perf AES-GCM-128 on crypto_aesni_mb (the ceiling for the ESP scenarios).
Prints a table (tunnelgw as ratios to the references), writes a JSON file with every figure
and the machine description, and a PNG plot. docs/benchmarking.md explains every number.

A benchmark, not a test: it never asserts on a figure. Every DPDK process it starts is bounded
in time (--run-for, timeouts) and stopped by its own pid.
"""
import argparse, fcntl, json, os, re, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep_report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "tgw-bench"  # memif sockets /run/NAME-lan.sock and -wan.sock, EAL file prefixes NAME-gw, ...
LAN_MAC, WAN_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"
A_MAC, B_MAC = "02:00:00:00:0a:01", "02:00:00:60:00:02"
SIZES = ["64", "128", "256", "512", "1024", "1420", "imix"]

# Sweep variants -> generator scenario + GRE options (the gateway's tunnels get the same;
# members > 1: that many tunnels in one ECMP group; esp: the tunnel is protected by an SA pair,
# "ipsec" = plain ESP tunnel mode, "gre" = GRE over ESP).
VARIANTS = {
    "gre-encap": ("gre-encap", dict(key=42, csum=False, seq=False)),
    "gre-decap": ("gre-decap", dict(key=42, csum=False, seq=False)),
    "gre-encap-csum-seq": ("gre-encap", dict(key=42, csum=True, seq=True)),
    "gre-decap-csum-seq": ("gre-decap", dict(key=42, csum=True, seq=True)),
    "esp-encap": ("esp-encap", dict(key=42, csum=False, seq=False, esp="ipsec")),
    "esp-decap": ("esp-decap", dict(key=42, csum=False, seq=False, esp="ipsec")),
    "gre-esp-encap": ("gre-esp-encap", dict(key=42, csum=False, seq=False, esp="gre")),
    "gre-esp-decap": ("gre-esp-decap", dict(key=42, csum=False, seq=False, esp="gre")),
    "ecmp-encap": ("ecmp-encap", dict(key=42, csum=False, seq=False, members=4)),
    "gretap-encap": ("gretap-encap", dict(key=42, csum=False, seq=False, l2=True)),
    "gretap-decap": ("gretap-decap", dict(key=42, csum=False, seq=False, l2=True)),
}
DEFAULT_VARIANTS = ["gre-encap", "gre-decap", "esp-encap", "esp-decap", "gre-esp-encap", "gre-esp-decap",
                    "ecmp-encap"]
# Benchmark keys (public on purpose). The gateway's inbound SA is what tunnelgw-bench encrypts
# the decrypt scenarios' frames with; it runs with replay_window: 0 because net_pcap
# infinite_rx replays the same sequence numbers over and over (RFC 4303 section 3.4.3 allows a
# receiver to disable anti-replay).
ESP_OUT_SPI, ESP_OUT_KEY = 0x2001, "000102030405060708090a0b0c0d0e0f10111213"
ESP_IN_SPI, ESP_IN_KEY = 0x2002, "2b7e151628aed2a6abf7158809cf4f3cdeadbeef"


def log(msg):
    print(msg, flush=True)


class Proc:
    """A child DPDK process with its output in a file; stopped by its own pid only."""

    def __init__(self, cmd, logpath, stdin=False):
        self.cmd, self.logpath = cmd, logpath
        self.logf = open(logpath, "w")
        self.p = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT, text=True,
                                  stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
        RUNNING.add(self)

    def output(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def wait_for(self, pattern, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if re.search(pattern, self.output()):
                return True
            if self.p.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def stop(self, sig=signal.SIGINT, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        RUNNING.discard(self)
        self.logf.close()
        return self.p.returncode

    def tail(self, n=15):
        return "\n".join(self.output().splitlines()[-n:])


RUNNING = set()


class CpuMeter:
    """CPU used by processes other than this driver and its children since the last reset, in %
    of all CPUs. Our DPDK processes busy-poll, so anything else running steals from them: that
    is the noise a run was measured under (another user's test suite, a compiler)."""

    def __init__(self):
        self.ncpu, self.hz = os.cpu_count() or 1, os.sysconf("SC_CLK_TCK")
        self.reset()

    def _read(self):
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        t = os.times()  # children's times count once reaped: every step waits for its processes
        return sum(v), v[3] + v[4], t.user + t.system + t.children_user + t.children_system, time.time()

    def reset(self):
        self.s = self._read()

    def others_pct(self):
        (t1, i1, o1, w1), (t0, i0, o0, w0) = self._read(), self.s
        busy = ((t1 - t0) - (i1 - i0)) / self.hz
        return max(0.0, (busy - (o1 - o0)) / max((w1 - w0) * self.ncpu, 1e-6) * 100)


def stop_all(*_):
    for p in list(RUNNING):
        p.stop(signal.SIGKILL, 5)
    sys.exit(130)


# ---- configuration of the gateway -------------------------------------------------------

def gw_yaml(eal, ports, gre, mbufs=16383):
    """ports: [(name, device, mac, [addresses])]; one tunnel (or an ECMP group of them), routes
    into and out of it. The generator's B port answers for every tunnel remote."""
    y = ["# written by bench/run_sweep.py", "eal: %s" % json.dumps(eal), "workers: [1]",
         "idle_backoff_us: 0        # busy poll: a benchmark", "stats_interval: 0",
         "mbufs: %d" % mbufs, "ports:"]
    l2 = gre.get("l2", False)  # gretap: the LAN port is bridged whole, so it has no address
    for name, dev, mac, addrs in ports:
        y += ["  - name: %s" % name, '    device: "%s"' % dev, '    mac: "%s"' % mac,
              "    addresses: %s" % json.dumps([] if l2 and name == ports[0][0] else addrs)]
    lan, wan = ports[0][0], ports[-1][0]
    if l2:
        y += ["neighbors:", '  - {port: %s, address: 192.168.60.2, mac: "%s"}' % (wan, B_MAC),
              "tunnels:",
              "  - {name: bench, type: gretap, local: 192.168.60.1, remote: 192.168.60.2, key: %d, "
              "checksum: %s, sequence: %s}" % (gre["key"], str(gre["csum"]).lower(), str(gre["seq"]).lower()),
              "bridge_domains:",
              "  - {name: bench, members: [{port: %s}, {tunnel: bench}], flood_limit_pps: 0}" % lan]
        return "\n".join(y) + "\n"
    n = gre.get("members", 1)
    names = ["bench"] if n == 1 else ["bench%d" % i for i in range(n)]
    y += ["neighbors:", '  - {port: %s, address: 10.10.1.2, mac: "%s"}' % (lan, A_MAC)]
    y += ['  - {port: %s, address: 192.168.60.%d, mac: "%s"}' % (wan, 2 + i, B_MAC) for i in range(n)]
    esp = gre.get("esp")
    if esp:
        y += ["security_associations:",
              "  - {name: bench-out, spi: %d, direction: out, encryption: aes-gcm-128, key: 0x%s}"
              % (ESP_OUT_SPI, ESP_OUT_KEY),
              "  - {name: bench-in, spi: %d, direction: in, encryption: aes-gcm-128, key: 0x%s, "
              "replay_window: 0}   # replayed traffic" % (ESP_IN_SPI, ESP_IN_KEY)]
    prot = ", protection: {out: bench-out, in: [bench-in]}" if esp else ""
    y += ["tunnels:"]
    if esp == "ipsec":
        y += ["  - {name: bench, type: ipsec, local: 192.168.60.1, remote: 192.168.60.2%s}" % prot]
    else:
        y += ["  - {name: %s, local: 192.168.60.1, remote: 192.168.60.%d, key: %d, checksum: %s, sequence: %s%s}"
              % (t, 2 + i, gre["key"], str(gre["csum"]).lower(), str(gre["seq"]).lower(), prot)
              for i, t in enumerate(names)]
    if n > 1:
        y += ["groups:", "  - {name: bench, members: %s}" % json.dumps(names)]
    y += ["routes:",
          "  - {prefix: 10.20.0.0/16, %s: bench}      # encap: inner destinations" % ("group" if n > 1 else "tunnel"),
          "  - {prefix: 10.30.0.0/16, via: 10.10.1.2}     # decap: inner destinations"]
    return "\n".join(y) + "\n"


class Bench:
    def __init__(self, a, out):
        self.a, self.out = a, out
        self.tmp = tempfile.mkdtemp(prefix="tgw-bench-")
        self.step, self.total, self.t0 = 0, 0, time.time()
        # --instance: a second sweep (another build dir's tests) gets its own sockets and prefixes
        self.name = NAME + ("-" + a.instance if a.instance else "")
        self.sock_lan, self.sock_wan = "/run/%s-lan.sock" % self.name, "/run/%s-wan.sock" % self.name
        gw_prefix, gen_prefix = self.prefix("gw"), self.prefix("gen")
        self.meter = CpuMeter()
        self.gw_eal = ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", gw_prefix,
                       "--lcores", a.gw_lcores] + a.gw_eal.split()
        self.gen_eal = ["--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix",
                        gen_prefix, "--lcores", a.gen_lcores, "--log-level", "lib.eal:warning"] + a.gen_eal.split()
        if a.gw_ports:  # bare metal: PCI ports, hugepages
            self.gw_eal = ["--file-prefix", gw_prefix, "--lcores", a.gw_lcores] + a.gw_eal.split()
            self.gen_eal = ["--file-prefix", gen_prefix, "--lcores", a.gen_lcores] + a.gen_eal.split()

    def prefix(self, what):
        return "%s-%s" % (self.name, what)

    def prefixes(self):
        return [self.prefix(w) for w in ("gw", "gw-pcap", "gen", "tpmd", "tpmd-pcap", "crypto")]

    def measured(self, rec):
        """Called with each step's record: notes how busy the rest of the machine was."""
        rec["others_cpu_pct"] = round(self.meter.others_pct(), 1)
        self.meter.reset()
        return rec

    def progress(self, what, rec=None):
        if rec and rec.get("others_cpu_pct", 0) > 10:
            what += "  [other processes used %.0f%% of the CPUs]" % rec["others_cpu_pct"]
        self.step += 1
        el = time.time() - self.t0
        eta = el / self.step * (self.total - self.step) if self.step > 1 else 0
        log("[%3d/%d %3dm%02ds, ~%dm%02ds left] %s" % (self.step, self.total, el // 60, el % 60,
                                                   eta // 60, eta % 60, what))

    def path(self, name):
        return os.path.join(self.tmp, name)

    # -- generator invocation --
    def gen_cmd(self, scenario, size, gre, json_out, telemetry=None):
        a = self.a
        port_a = a.gen_ports.split(",")[0] if a.gen_ports else \
            "net_memif0,role=client,socket=%s,id=0" % self.sock_lan
        port_b = a.gen_ports.split(",")[1] if a.gen_ports else \
            "net_memif1,role=client,socket=%s,id=0" % self.sock_wan
        cmd = [a.bench, "--scenario", scenario, "--size", size, "--flows", str(a.flows),
               "--port-a", port_a, "--port-b", port_b, "--json", json_out,
               "--gw-mac-a", LAN_MAC, "--gw-mac-b", WAN_MAC, "--warmup", str(a.warmup)]
        if gre:
            cmd += ["--gre-key", str(gre["key"])] + (["--gre-csum"] if gre["csum"] else []) + \
                   (["--gre-seq"] if gre["seq"] else []) + ["--ecmp-members", str(gre.get("members", 1))]
            if gre.get("esp"):
                cmd += ["--esp-spi", str(ESP_IN_SPI), "--esp-key", ESP_IN_KEY,
                        "--esp-rx-spi", str(ESP_OUT_SPI), "--esp-rx-key", ESP_OUT_KEY]
        if a.rate:
            cmd += ["--rate", str(a.rate), "--duration", str(a.duration)]
        else:
            cmd += ["--duration", str(a.duration), "--search", "--search-trial", str(a.search_trial),
                    "--search-trials", str(a.search_trials), "--loss-threshold", str(a.loss_threshold)]
        if telemetry:
            cmd += ["--gw-telemetry", telemetry]
        return cmd + ["--"] + self.gen_eal

    def gen_timeout(self):
        a = self.a
        return 30 + a.warmup + a.duration + (0 if a.rate else a.search_trials * (a.search_trial + 0.2))

    def run_gen(self, cmd, tag):
        logpath = self.path(tag + ".gen.log")
        with open(logpath, "w") as lf:
            lf.write("# " + " ".join(cmd) + "\n")  # to rerun by hand (or on another host)
            lf.flush()
            try:
                rc = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, timeout=self.gen_timeout()).returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        js = cmd[cmd.index("--json") + 1]
        res = None
        if os.path.exists(js):
            with open(js) as f:
                res = json.load(f)
            os.unlink(js)
        if rc != 0 or not res or res.get("status") != "ok":
            with open(logpath) as f:
                tail = "\n".join(f.read().splitlines()[-8:])
            return None, "generator exit %s:\n%s" % (rc, tail)
        return res, None

    # -- tunnelgw on memif (or real ports) with the generator --
    def gateway_run(self, variant, size, rep):
        gen_scn, gre = VARIANTS[variant]
        tag = "%s-%s-%d" % (variant, size, rep)
        if self.a.gw_ports:
            lan_dev, wan_dev = self.a.gw_ports.split(",")
        else:
            lan_dev = "net_memif0,role=server,socket=%s,id=0" % self.sock_lan
            wan_dev = "net_memif1,role=server,socket=%s,id=0" % self.sock_wan
        cfg = self.path(tag + ".yaml")
        with open(cfg, "w") as f:
            f.write(gw_yaml(self.gw_eal, [("lan", lan_dev, LAN_MAC, ["10.10.1.1/24"]),
                                          ("wan", wan_dev, WAN_MAC, ["192.168.60.1/24"])], gre))
        stats = self.path(tag + ".stats.json")
        bound = self.gen_timeout() + 30
        gw = Proc([self.a.tunnelgw, "--config", cfg, "--run-for", str(bound), "--stats-json", stats,
                   "--stats-interval", "0", "--idle-backoff", "0"], self.path(tag + ".gw.log"))
        try:
            if not gw.wait_for(r"running:", 30):
                return {"status": "error", "error": "tunnelgw did not start:\n" + gw.tail()}
            tel = "/var/run/dpdk/%s/dpdk_telemetry.v2" % self.prefix("gw")
            res, err = self.run_gen(self.gen_cmd(gen_scn, size, gre, self.path(tag + ".json"),
                                                 tel if os.path.exists(tel) else None), tag)
        finally:
            gw_rc = gw.stop()
        rec = {"status": "ok" if res else "error", "generator": res, "gateway_exit": gw_rc}
        if err:
            rec["error"] = err
        if os.path.exists(stats):
            with open(stats) as f:
                rec["gateway_stats"] = json.load(f)
        else:
            rec["gateway_error"] = "no --stats-json (exit %s):\n%s" % (gw_rc, gw.tail(5))
        return rec

    # -- testpmd between the memif ports, same generator (scenario l2-fwd) --
    def testpmd_memif(self, mode, size):
        tag = "testpmd-%s-%s" % (mode, size)
        cmd = [self.a.testpmd, "--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix",
               self.prefix("tpmd"), "--lcores", self.a.gw_lcores,
               "--vdev", "net_memif0,role=server,socket=%s,id=0" % self.sock_lan,
               "--vdev", "net_memif1,role=server,socket=%s,id=0" % self.sock_wan,
               "--", "-i", "--forward-mode=" + mode, "--nb-cores=1", "--total-num-mbufs=16384"]
        tp = Proc(cmd, self.path(tag + ".log"), stdin=True)
        try:
            if not tp.wait_for(r"testpmd>", 30):
                return {"status": "error", "error": "testpmd did not start:\n" + tp.tail()}
            tp.send("start")
            res, err = self.run_gen(self.gen_cmd("l2-fwd", size, None, self.path(tag + ".json")), tag)
            tp.send("stop")
            tp.send("quit")
            tp.p.stdin.close()
            tp.p.wait(20)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            pass
        finally:
            tp.stop()
        return {"status": "ok", "generator": res} if res else {"status": "error", "error": err}

    # -- single process: net_pcap infinite_rx, TX dropped --
    def pcap_file(self, variant, size):
        gen_scn, gre = VARIANTS[variant]
        path = self.path("%s-%s.pcap" % (variant, size))
        if not os.path.exists(path):
            # One MAC on the single port: the frames for both directions go to it.
            cmd = [self.a.bench, "--scenario", gen_scn, "--size", size, "--flows", str(self.a.flows),
                   "--gw-mac-a", LAN_MAC, "--gw-mac-b", LAN_MAC, "--write-pcap", path,
                   "--pcap-count", "1200", "--gre-key", str(gre["key"])] + (["--gre-csum"] if gre["csum"] else []) + \
                (["--esp-spi", str(ESP_IN_SPI), "--esp-key", ESP_IN_KEY] if gre.get("esp") else [])
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return path

    def gateway_pcap(self, variant, size, rep):
        gre = VARIANTS[variant][1]
        tag = "pcap-%s-%s-%d" % (variant, size, rep)
        pcap = self.pcap_file(variant, size)
        cfg = self.path(tag + ".yaml")
        eal = [x if x != self.prefix("gw") else self.prefix("gw-pcap") for x in self.gw_eal]
        with open(cfg, "w") as f:
            f.write(gw_yaml(eal + ["--no-telemetry"],
                            [("p0", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, LAN_MAC,
                              ["10.10.1.1/24", "192.168.60.1/24"])], gre))
        stats = self.path(tag + ".stats.json")
        try:
            subprocess.run([self.a.tunnelgw, "--config", cfg, "--run-for", str(self.a.pcap_seconds),
                            "--stats-json", stats, "--stats-interval", "0", "--idle-backoff", "0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=self.a.pcap_seconds + 30)
            with open(stats) as f:
                s = json.load(f)
        except (subprocess.TimeoutExpired, OSError, ValueError) as e:
            return {"status": "error", "error": str(e)}
        p0, w = s["ports"]["p0"], s["workers"]
        up = s["uptime_s"]
        return {"status": "ok", "rx_mpps": p0["rx_packets"] / up / 1e6, "tx_mpps": p0["tx_packets"] / up / 1e6,
                "cycles_per_pkt": w["busy_cycles"] / max(w["packets"], 1),
                "drops": sum(s["drops"].values()), "gateway_stats": s}

    def testpmd_pcap(self, mode, size):
        pcap = self.pcap_file("gre-encap", size)
        tag = "testpmd-pcap-%s-%s" % (mode, size)
        cmd = [self.a.testpmd, "--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix",
               self.prefix("tpmd-pcap"), "--lcores", self.a.gw_lcores,
               "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
               "--", "-i", "--forward-mode=" + mode, "--nb-cores=1", "--total-num-mbufs=16384"]
        tp = Proc(cmd, self.path(tag + ".log"), stdin=True)
        try:
            if not tp.wait_for(r"testpmd>", 30):
                return {"status": "error", "error": "testpmd did not start:\n" + tp.tail()}
            tp.send("start")
            t0 = time.time()
            time.sleep(self.a.pcap_seconds)
            tp.send("stop")
            dt = time.time() - t0
            tp.send("quit")  # testpmd's stdout is block-buffered into the log: read it after exit
            tp.p.stdin.close()
            tp.p.wait(20)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            pass
        finally:
            tp.stop()
        m = re.findall(r"RX-packets:\s+(\d+)", tp.output())
        if not m:
            return {"status": "error", "error": "no testpmd statistics"}
        return {"status": "ok", "rx_mpps": int(m[-1]) / dt / 1e6}

    # -- crypto ceiling for the ESP scenarios --
    def crypto_perf(self, sizes, op="encrypt"):
        cmd = [self.a.crypto_perf, "--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix",
               self.prefix("crypto"), "--lcores", self.a.gw_lcores, "--vdev", "crypto_aesni_mb",
               "--", "--devtype", "crypto_aesni_mb", "--ptest", "throughput", "--optype", "aead",
               "--aead-algo", "aes-gcm", "--aead-op", op, "--aead-key-sz", "16", "--aead-iv-sz", "12",
               "--aead-aad-sz", "8", "--digest-sz", "16", "--burst-sz", "32", "--csv-friendly",
               "--total-ops", str(self.a.crypto_ops), "--buffer-sz", ",".join(sizes)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
        except (subprocess.TimeoutExpired, OSError) as e:
            return {"status": "error", "error": str(e)}
        rows = {}
        for line in out.splitlines():
            f = line.split(",")
            if len(f) == 10 and f[0].strip().isdigit():
                rows[f[1]] = {"mops": float(f[7]), "gbps": float(f[8]), "cycles_per_buf": float(f[9])}
        return {"status": "ok" if rows else "error", "sizes": rows,
                "command": " ".join(cmd), **({} if rows else {"error": out[-800:]})}


def prefix_in_use(prefix):
    """A live DPDK primary holds a lock on its runtime config file: a leftover process from
    an interrupted run would fight ours for the memif sockets and the CPUs."""
    path = "/var/run/dpdk/%s/config" % prefix
    try:
        with open(path, "r+b") as f:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(f, fcntl.LOCK_UN)
    except OSError:
        return os.path.exists(path)
    return False


def scenario_table(bench):
    out = subprocess.run([bench, "--list-scenarios"], capture_output=True, text=True, check=True).stdout
    return {s["name"]: s for s in json.loads(out)}


def check_config(a, variant):
    """Does this tunnelgw build accept the config the variant needs? (validation only, no EAL)"""
    gre = VARIANTS[variant][1]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(gw_yaml(["--no-huge"], [("lan", "net_null0", LAN_MAC, ["10.10.1.1/24"]),
                                         ("wan", "net_null1", WAN_MAC, ["192.168.60.1/24"])], gre))
    r = subprocess.run([a.tunnelgw, "--config", f.name, "--check-config"], capture_output=True, text=True)
    os.unlink(f.name)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["rejected"])[0]


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    b = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build-bench"))
    ap.add_argument("--tunnelgw", default=os.path.join(b, "src", "tunnelgw"))
    ap.add_argument("--bench", default=os.path.join(b, "bench", "tunnelgw-bench"))
    ap.add_argument("--testpmd", default="dpdk-testpmd")
    ap.add_argument("--crypto-perf", default="dpdk-test-crypto-perf")
    ap.add_argument("--quick", action="store_true", help="~1 minute: 3 sizes, 1 repeat, short trials")
    ap.add_argument("--scenarios", default=",".join(DEFAULT_VARIANTS), help="of: " + ", ".join(VARIANTS))
    ap.add_argument("--sizes", default=",".join(SIZES), help="frame sizes incl. FCS, and/or imix")
    ap.add_argument("--repeat", type=int, default=3, help="runs per scenario and size (median, spread)")
    ap.add_argument("--flows", type=int, default=1024)
    ap.add_argument("--duration", type=float, default=1.0, help="seconds of the flood trial")
    ap.add_argument("--search-trial", type=float, default=0.4, help="seconds per RFC 2544 search trial")
    ap.add_argument("--search-trials", type=int, default=6)
    ap.add_argument("--loss-threshold", type=float, default=0.001,
                    help="a search trial passes with loss <= this fraction (0 = RFC 2544 zero loss)")
    ap.add_argument("--warmup", type=float, default=0.2)
    ap.add_argument("--rate", type=float, default=0, help="Mpps: one fixed-rate trial instead of flood+search")
    ap.add_argument("--pcap-seconds", type=float, default=2.0, help="single-process run length")
    ap.add_argument("--crypto-ops", type=int, default=3000000)
    ap.add_argument("--no-refs", action="store_true", help="skip the testpmd and crypto references")
    ap.add_argument("--no-pcap", action="store_true", help="skip the single-process net_pcap mode")
    ap.add_argument("--no-memif", action="store_true", help="skip the two-process (generator) mode")
    ap.add_argument("--gw-lcores", default="0@0,1@1", help="EAL --lcores of tunnelgw (and testpmd)")
    ap.add_argument("--gen-lcores", default="0@0", help="EAL --lcores of the generator")
    ap.add_argument("--gw-eal", default="", help="extra EAL arguments for tunnelgw")
    ap.add_argument("--gen-eal", default="", help="extra EAL arguments for the generator")
    ap.add_argument("--gw-ports", help="bare metal: LAN,WAN devices of tunnelgw (PCI addresses)")
    ap.add_argument("--gen-ports", help="bare metal: A,B devices of the generator, cabled A-LAN, B-WAN")
    ap.add_argument("--instance", default="", help="name suffix for memif sockets and EAL prefixes, so "
                    "two sweeps can run at once (they share the CPUs: for tests, not for figures)")
    ap.add_argument("--out", help="output directory (default out/bench/<time>)")
    ap.add_argument("--json", help="JSON path (default <out>/bench.json)")
    ap.add_argument("--png", help="plot path (default <out>/bench.png)")
    a = ap.parse_args(argv)
    if a.quick:
        if a.sizes == ",".join(SIZES):
            a.sizes = "64,1420,imix"
        a.repeat, a.duration, a.search_trial, a.search_trials = 1, 0.5, 0.25, 5
        a.pcap_seconds, a.crypto_ops, a.warmup = 1.0, 1000000, 0.1
    if bool(a.gw_ports) != bool(a.gen_ports):
        ap.error("--gw-ports and --gen-ports go together (bare metal)")
    if a.gw_ports:
        a.no_pcap = True  # the single-process mode is a lab figure
    return a


def main(argv):
    a = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_all)
    for exe in (a.tunnelgw, a.bench):
        if not os.access(exe, os.X_OK):
            sys.exit("missing %s: build first (tools/bench.sh does)" % exe)
    out = a.out or os.path.join(ROOT, "out", "bench", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    b = Bench(a, out)
    busy = [p for p in b.prefixes() if prefix_in_use(p)]
    if busy:
        sys.exit("a DPDK process with file prefix %s is still running (an interrupted sweep, or another "
                 "sweep: give it --instance NAME): stop it first" % ", ".join(busy))
    machine = sweep_report.machine(a, ROOT)
    time.sleep(1)  # nothing of ours runs yet: how busy is the machine by itself?
    machine["others_cpu_pct_before"] = round(b.meter.others_pct(), 1)
    b.meter.reset()
    log(sweep_report.machine_banner(machine))
    table = scenario_table(a.bench)
    variants = [v.strip() for v in a.scenarios.split(",") if v.strip()]
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit("unknown scenario(s) %s; known: %s" % (unknown, ", ".join(VARIANTS)))

    res = {"machine": machine, "settings": vars(a), "scenarios": {}, "references": {},
           "single_process": {}, "crypto": None, "logs": b.tmp}
    runnable = []
    for v in variants:
        gen = table.get(VARIANTS[v][0])
        why = None if gen and gen["supported"] else (gen or {}).get("reason", "unknown to tunnelgw-bench")
        if not why:
            why = check_config(a, v)
            why = "not supported by this gateway build (%s)" % why if why else None
        res["scenarios"][v] = {"summary": gen["summary"] if gen else "", "status": "unsupported" if why else "ok",
                               "reason": why, "sizes": {}}
        if why:
            log("%-20s %s" % (v, why))
        else:
            runnable.append(v)
    seq_variants = [v for v in runnable if VARIANTS[v][1]["seq"]]
    memif = not a.no_memif
    memif_refs = memif and not a.no_refs and not a.gw_ports  # testpmd on memif: a lab reference
    # Single process has one port for both sides: a bridged (gretap) LAN port cannot share it
    # with the underlay's addresses, so the L2 variants are measured on memif only.
    pcap_vs = [] if a.no_pcap else [v for v in runnable if v not in seq_variants
                                    and not (VARIANTS[v][1] or {}).get("l2")]
    b.total = (len(runnable) * len(sizes) * a.repeat if memif else 0) + \
        (2 * len(sizes) if memif_refs else 0) + len(pcap_vs) * len(sizes) * a.repeat + \
        (2 * len(sizes) if pcap_vs and not a.no_refs else 0) + (0 if a.no_refs else 2)

    if memif:
        for v in runnable:
            for size in sizes:
                runs = []
                for rep in range(a.repeat):
                    r = b.measured(b.gateway_run(v, size, rep))
                    runs.append(r)
                    b.progress("%s %s B run %d/%d: %s" % (v, size, rep + 1, a.repeat, sweep_report.brief(r)), r)
                res["scenarios"][v]["sizes"][size] = {"runs": runs, "summary": sweep_report.summarize(runs)}
        if memif_refs:
            for mode in ("io", "macswap"):
                key = "testpmd-%s-memif" % mode
                res["references"][key] = {}
                for size in sizes:
                    r = b.measured(b.testpmd_memif(mode, size))
                    b.progress("%s %s B: %s" % (key, size, sweep_report.brief(r)), r)
                    res["references"][key][size] = {"runs": [r], "summary": sweep_report.summarize([r])}
    if pcap_vs:
        for v in pcap_vs:
            res["single_process"]["tunnelgw-" + v] = {}
            for size in sizes:
                runs = []
                for rep in range(a.repeat):
                    runs.append(b.measured(b.gateway_pcap(v, size, rep)))
                    b.progress("single-process tunnelgw %s %s B run %d/%d: %s" % (
                        v, size, rep + 1, a.repeat, sweep_report.brief_pcap(runs[-1])), runs[-1])
                res["single_process"]["tunnelgw-" + v][size] = {"runs": runs, "summary": sweep_report.summarize_pcap(runs)}
        if not a.no_refs:
            for mode in ("io", "macswap"):
                key = "testpmd-%s" % mode
                res["single_process"][key] = {}
                for size in sizes:
                    r = b.measured(b.testpmd_pcap(mode, size))
                    b.progress("single-process %s %s B: %s" % (key, size, sweep_report.brief_pcap(r)), r)
                    res["single_process"][key][size] = {"runs": [r], "summary": sweep_report.summarize_pcap([r])}
    if not a.no_refs:
        csizes = [s for s in sizes if s.isdigit()]
        res["crypto"] = b.crypto_perf(csizes) if csizes else None
        b.progress("dpdk-test-crypto-perf AES-GCM-128 encrypt: %s" % (res["crypto"] or {}).get("status"))
        res["crypto_decrypt"] = b.crypto_perf(csizes, "decrypt") if csizes else None
        b.progress("dpdk-test-crypto-perf AES-GCM-128 decrypt: %s" % (res["crypto_decrypt"] or {}).get("status"))
        res["composite"] = sweep_report.composite(res, sizes)

    res["elapsed_s"] = time.time() - b.t0
    print()
    print(sweep_report.table(res, sizes))
    jpath = a.json or os.path.join(out, "bench.json")
    with open(jpath, "w") as f:
        json.dump(res, f, indent=1)
    png = a.png or os.path.join(out, "bench.png")
    err = sweep_report.plot(res, sizes, png)
    log("\nJSON: %s\nPNG:  %s\nlogs: %s  (%.0f s)" % (jpath, err or png, b.tmp, res["elapsed_s"]))
    # Exit 1 when a run failed (not when a number is low: this is a benchmark, not a test).
    failed = sum(e["summary"]["failed"] for sc in res["scenarios"].values() for e in sc["sizes"].values()) + \
        sum(e["summary"]["failed"] for per in list(res["single_process"].values()) + list(res["references"].values())
            for e in per.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

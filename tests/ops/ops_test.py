#!/usr/bin/python3
"""Operator interfaces of a running tunnelgw, tested against the real binary on net_pcap ports.

  ctl      tunnelgw-ctl tables and --json (with paging: 300 tunnels), dpdk-telemetry.py,
           GET /metrics (series and values), the HTTP server's limits, ctl's errors
  reload   reload under load: two tunnels forwarding an infinite_rx pcap; a reload that changes
           only the second tunnel must not cost the first a packet; invalid reloads (SIGHUP and
           tunnelgw-ctl) keep the old config forwarding and report the errors
  dumpcap  dpdk-dumpcap captures packets from the gateway's port (needs hugepages: the test
           reserves some and gives them back; exit 77 = skipped when it cannot)

usage: ops_test.py --tunnelgw BIN --ctl BIN --out DIR TEST
Exit status: 0 pass, 1 fail, 77 skip. Each test takes under 30 s.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
LAN_MAC = "02:00:00:00:01:01"
WAN_MAC = "02:00:00:00:02:01"
HOST_A_MAC = "02:00:00:00:0a:01"


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# ---- packets and pcaps (no scapy needed) ----------------------------------------------------

def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def ip_sum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(dst_ip, src_ip="10.10.1.2", size=100):
    payload = bytes(size - 14 - 20 - 8)
    udp = struct.pack("!HHHH", 1234, 5678, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                      socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    hdr = hdr[:10] + struct.pack("!H", ip_sum(hdr)) + hdr[12:]
    return mac_bytes(LAN_MAC) + mac_bytes(HOST_A_MAC) + b"\x08\x00" + hdr + udp


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)) + fr)


def pcapng_packets(path):
    """The packets (Enhanced Packet Blocks) of a pcapng file, as bytes."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        if blen < 12 or off + blen > len(data):
            break
        if btype == 6:
            caplen = struct.unpack_from("<I", data, off + 20)[0]
            out.append(data[off + 28:off + 28 + caplen])
        off += blen
    return out


# ---- the gateway ----------------------------------------------------------------------------

def lcores():
    if os.environ.get("TGW_LCORES"):
        return os.environ["TGW_LCORES"]
    cpus = sorted(os.sched_getaffinity(0))
    return f"0@{cpus[0]},1@{cpus[1 if len(cpus) > 1 else 0]}"


def runtime_dir(prefix):
    base = os.environ.get("RUNTIME_DIRECTORY") or (
        "/var/run" if os.geteuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp"))
    return os.path.join(base, "dpdk", prefix)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    def __init__(self, args, name, cfg, huge=False, extra=()):
        self.args = args
        self.dir = os.path.join(args.out, name)
        self.prefix = "tgwops%d%s" % (os.getpid(), name)
        self.cfg_path = os.path.join(self.dir, "gw.yaml")
        self.log_path = os.path.join(self.dir, "tunnelgw.log")
        self.stats_path = os.path.join(self.dir, "stats.json")
        # Telemetry stays on (no --no-telemetry): it is what is tested.
        eal = ["--no-pci", "--file-prefix", self.prefix, f"--lcores={lcores()}"]
        eal = (["-m", "256"] if huge else ["--no-huge", "-m", "256"]) + eal
        cfg = dict(cfg, eal=eal)
        self.write_config(cfg)
        self.cmd = [args.tunnelgw, "--config", self.cfg_path, "--run-for", "60",
                    "--stats-json", self.stats_path, *extra]
        self.proc = None

    def write_config(self, cfg, text=None):
        with open(self.cfg_path, "w") as f:  # JSON is YAML
            f.write(text if text is not None else json.dumps(cfg, indent=1) + "\n")

    def start(self):
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Fail(f"tunnelgw exited with {self.proc.returncode} at start:\n{self.log_tail()}")
            rc, _, _ = self.ctl("info")
            if rc == 0:
                return
            time.sleep(0.2)
        raise Fail("tunnelgw-ctl info did not succeed within 15 s of start:\n" + self.log_tail())

    def ctl(self, *a, timeout=30):
        p = subprocess.run([self.args.ctl, "--file-prefix", self.prefix, *a],
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def ctl_json(self, *a):
        rc, out, err = self.ctl(*a, "--json")
        check(rc == 0, f"tunnelgw-ctl {' '.join(a)} --json: exit {rc}: {err.strip()}")
        return json.loads(out)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_tail(self, n=15):
        return "\n".join("    | " + l for l in self.log().strip().splitlines()[-n:])

    def stop(self, expect_rc=0):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise Fail("tunnelgw did not stop within 15 s of SIGTERM")
        finally:
            self.logf.close()
        check(rc == expect_rc, f"tunnelgw exit status {rc}, expected {expect_rc}:\n{self.log_tail()}")

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(runtime_dir(self.prefix), ignore_errors=True)  # the EAL leaves it behind
        for m in hugetlbfs_mounts():
            for f in glob.glob(os.path.join(m, self.prefix + "*")):
                os.unlink(f)


def base_config(d, lan_rx, infinite=False, tx="files", tunnels=None, routes=None):
    """lan/wan on net_pcap. tx="null" sends to /dev/null (load tests: no file grows)."""
    def out(name):
        return "/dev/null" if tx == "null" else os.path.join(d, name)
    empty = os.path.join(d, "e.pcap")
    write_pcap(empty, [])
    lan = f"net_pcap0,rx_pcap={lan_rx},tx_pcap={out('lan_out.pcap')}"
    if infinite:
        lan += ",infinite_rx=1"
    return {
        "workers": [1],
        "idle_backoff_us": 100,
        "stats_interval": 0,
        "ports": [
            {"name": "lan", "device": lan, "mac": LAN_MAC, "addresses": ["10.10.1.1/24"]},
            {"name": "wan", "device": f"net_pcap1,rx_pcap={empty},tx_pcap={out('wan_out.pcap')}",
             "mac": WAN_MAC, "addresses": ["192.168.60.1/24"]},
        ],
        "neighbors": [
            {"port": "lan", "address": "10.10.1.2", "mac": HOST_A_MAC},
            {"port": "wan", "address": "192.168.60.2", "mac": "02:00:00:60:00:02"},
            {"port": "wan", "address": "192.168.60.3", "mac": "02:00:00:60:00:03"},
        ],
        "tunnels": tunnels if tunnels is not None else [
            {"name": "t1", "local": "192.168.60.1", "remote": "192.168.60.2", "key": 42,
             "addresses": ["10.88.0.1/30"]},
            {"name": "t2", "local": "192.168.60.1", "remote": "192.168.60.3", "key": 43},
        ],
        "routes": routes if routes is not None else [
            {"prefix": "10.20.0.0/24", "tunnel": "t1"},
            {"prefix": "10.30.0.0/24", "tunnel": "t2"},
        ],
    }


def hugetlbfs_mounts():
    with open("/proc/mounts") as f:
        return [l.split()[1] for l in f if l.split()[2:3] == ["hugetlbfs"]]


def metrics(port, path="/metrics"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def parse_metrics(text):
    """{series: value}, checking the exposition format on the way."""
    series, typed = {}, set()
    lbl = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{' + lbl + r'(?:,' + lbl + r')*\})? '
                        r'(-?[0-9.]+(?:e[+-]?[0-9]+)?)$')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            check(kind in ("counter", "gauge"), f"bad TYPE line: {line}")
            typed.add(name)
            continue
        if line.startswith("# HELP ") or not line:
            continue
        m = sample.match(line)
        check(m, f"malformed sample line: {line!r}")
        check(m.group(1) in typed, f"sample before its # TYPE line: {line}")
        series[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return series


def raw_http(port, data, read_timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    return b"".join(chunks).decode(errors="replace")


# ---- tests ----------------------------------------------------------------------------------

def test_ctl(args):
    d = os.path.join(args.out, "ctl")
    os.makedirs(d, exist_ok=True)
    # 300 tunnels and routes: more than one telemetry reply holds, so ctl must page.
    fill_t = [{"name": f"fill{i}", "local": "192.168.60.1", "remote": "192.168.60.4", "key": 1000 + i}
              for i in range(298)]
    fill_r = [{"prefix": f"10.{100 + i // 250}.{i % 250}.0/24", "tunnel": f"fill{i}"} for i in range(298)]
    base = base_config(d, os.path.join(d, "lan_in.pcap"))
    tunnels, routes = base["tunnels"] + fill_t, base["routes"] + fill_r
    frames = [udp_frame("10.20.0.5")] * 10 + [udp_frame("10.30.0.5")] * 4 + [udp_frame("10.99.0.1")] * 3
    write_pcap(os.path.join(d, "lan_in.pcap"), frames)
    mport = free_port()
    cfg = base_config(d, os.path.join(d, "lan_in.pcap"), tunnels=tunnels, routes=routes)
    cfg["operations"] = {"metrics_listen": f"127.0.0.1:{mport}"}
    gw = Gateway(args, "ctl", cfg)
    try:
        gw.start()
        deadline = time.time() + 10  # the 17 frames are read once, then the ports are idle
        while gw.ctl_json("stats")["packets"] < 17 and time.time() < deadline:
            time.sleep(0.2)

        rc, out, err = gw.ctl("info")
        check(rc == 0, f"ctl info: {err}")
        info = dict(l.split(":", 1) for l in out.splitlines())
        info = {k.strip(): v.strip() for k, v in info.items()}
        check(info.get("tunnels") == "300" and info.get("generation") == "1", f"ctl info table: {out}")
        check(info.get("file prefix") == gw.prefix, f"ctl info file prefix: {out}")
        j = gw.ctl_json("info")
        check(j["pid"] == gw.proc.pid and j["version"] and j["routes"] == 300, f"info --json: {j}")
        check(j["metrics_listen"] == f"127.0.0.1:{mport}", f"info metrics_listen: {j}")

        ports = {p["name"]: p for p in gw.ctl_json("ports")}
        check(ports["lan"]["rx_packets"] == 17, f"lan rx_packets: {ports['lan']}")
        check(ports["wan"]["tx_packets"] == 14, f"wan tx_packets (10 + 4 encapsulated): {ports['wan']}")
        check(ports["lan"]["device"] == "net_pcap0", f"device shows only the name: {ports['lan']}")
        rc, out, _ = gw.ctl("ports")
        rows = out.splitlines()
        check(rows[0].split()[:3] == ["PORT", "DEVICE", "LINK"] and len(rows) == 3, f"ports table: {out}")
        check(rows[1].split()[0] == "lan" and "17" in rows[1].split(), f"ports table lan row: {rows[1]}")

        tun = gw.ctl_json("tunnels")
        check(len(tun) == 300, f"tunnels --json: {len(tun)} rows, expected 300 (paging)")
        byname = {t["name"]: t for t in tun}
        check(byname["t1"]["tx_packets"] == 10 and byname["t2"]["tx_packets"] == 4,
              f"tunnel tx_packets: {byname['t1']} {byname['t2']}")
        check(byname["t1"]["gre_key"] == "42" and byname["t1"]["mtu"] == 1472, f"t1: {byname['t1']}")
        check(byname["t1"]["tx_drops"] == 0 and byname["fill297"]["remote"] == "192.168.60.4",
              f"rows: {byname['t1']} {byname['fill297']}")
        rc, out, _ = gw.ctl("tunnels")
        rows = out.splitlines()
        check(rc == 0 and len(rows) == 301 and rows[0].split()[0] == "TUNNEL", f"tunnels table: {len(rows)} lines")
        t1 = next(r.split() for r in rows if r.startswith("t1 "))
        check(t1[1:5] == ["192.168.60.1", "192.168.60.2", "42", "1472"], f"t1 row: {t1}")
        first = json.loads(gw.ctl("raw", "/tunnelgw/tunnels")[1])
        check(0 < first["count"] < 300 and first["next"] == first["count"] and first["total"] == 300,
              f"first page: count {first.get('count')} next {first.get('next')}")
        second = json.loads(gw.ctl("raw", f"/tunnelgw/tunnels,{first['next']}")[1])
        check(second["start"] == first["next"] and second["name"][0] == tun[first["next"]]["name"],
              "second page does not continue the first")

        rts = gw.ctl_json("routes")
        check(len(rts) == 300 and {"prefix": "10.20.0.0/24", "target": "tunnel t1"} in rts,
              f"routes --json: {len(rts)} rows, {rts[:2]}")
        nb = gw.ctl_json("neighbours")
        check({"port": "wan", "address": "192.168.60.2", "mac": "02:00:00:60:00:02", "state": "static"} in nb,
              f"neighbours: {nb}")
        drops = {x["reason"]: x["packets"] for x in gw.ctl_json("drops", "--all")}
        check(drops.get("no-route") == 3 and sum(drops.values()) == 3, f"drops: {drops}")
        rc, out, _ = gw.ctl("drops")
        check(rc == 0 and out.splitlines()[1].split()[:2] == ["no-route", "3"], f"drops table: {out}")
        st = gw.ctl_json("stats")
        check(st["packets"] >= 17 and st["workers"] == 1 and st["tsc_hz"] > 0, f"stats: {st}")
        check("icmp_errors_tx" in gw.ctl_json("slowpath"), "slowpath lacks icmp_errors_tx")

        # dpdk-telemetry.py, the stock client, reads the same commands.
        tp = subprocess.run(["dpdk-telemetry.py", "-f", gw.prefix], input="/tunnelgw/tunnels\n/tunnelgw/info\n",
                            capture_output=True, text=True, timeout=20)
        lines = [json.loads(l) for l in tp.stdout.splitlines() if l.startswith("{")]
        check(len(lines) == 2 and "t1" in lines[0]["/tunnelgw/tunnels"]["name"],
              f"dpdk-telemetry.py: rc {tp.returncode}, {tp.stdout[:300]} {tp.stderr[:300]}")
        check(lines[1]["/tunnelgw/info"]["generation"] == 1, "dpdk-telemetry.py /tunnelgw/info")

        status, ctype, body = metrics(mport)
        check(status == 200 and ctype.startswith("text/plain; version=0.0.4"), f"/metrics: {status} {ctype}")
        m = parse_metrics(body)
        want = {'tunnelgw_port_rx_packets_total{port="lan"}': 17,
                'tunnelgw_port_tx_packets_total{port="wan"}': 14,
                'tunnelgw_tunnel_tx_packets_total{tunnel="t1"}': 10,
                'tunnelgw_tunnel_tx_packets_total{tunnel="t2"}': 4,
                'tunnelgw_tunnel_tx_dropped_total{tunnel="t1"}': 0,
                'tunnelgw_drops_total{reason="no-route"}': 3,
                'tunnelgw_drops_total{reason="gre-no-tunnel"}': 0,
                'tunnelgw_config_generation': 1, 'tunnelgw_tunnels': 300, 'tunnelgw_workers': 1,
                'tunnelgw_port_up{port="lan"}': 1}
        for k, v in want.items():
            check(m.get(k) == v, f"/metrics {k} = {m.get(k)}, expected {v}")
        check(m["tunnelgw_worker_packets_total"] >= 17 and m["tunnelgw_uptime_seconds"] > 0,
              "worker packets / uptime")
        check(sum(1 for k in m if k.startswith("tunnelgw_tunnel_rx_packets_total{")) == 300, "per-tunnel series")
        check(m['tunnelgw_slowpath_events_total{event="icmp_errors_tx"}'] >= 0, "slow path series")

        # The HTTP server's limits: every bad request gets its status, none stops the server.
        check(raw_http(mport, b"HEAD /metrics HTTP/1.0\r\n\r\n").endswith("\r\n\r\n"), "HEAD has a body")
        for req, code in ((b"GET /nope HTTP/1.0\r\n\r\n", "404"), (b"POST /metrics HTTP/1.0\r\n\r\n", "405"),
                          (b"garbage\r\n\r\n", "400"), (b"GET /metrics HTTP/2.0\r\n\r\n", "505"),
                          (b"GET /metrics HTTP/1.0\r\nX: " + b"a" * 9000 + b"\r\n\r\n", "431")):
            r = raw_http(mport, req)
            check(r.startswith("HTTP/1.0 " + code), f"{req[:30]!r}: {r[:40]!r}, expected {code}")
        idle = socket.create_connection(("127.0.0.1", mport))  # says nothing: times out after 2 s
        t0 = time.time()
        status, _, _ = metrics(mport)
        check(status == 200 and time.time() - t0 < 5, "a silent client held the server")
        idle.close()
        for text in (body, json.dumps(gw.ctl_json("ports")), json.dumps(gw.ctl_json("info"))):
            check("rx_pcap" not in text and "tx_pcap" not in text, "device arguments leaked into an output")

        # ctl's errors: one line, exit 1 (2 for usage).
        rc, out, err = gw.ctl("raw", "/tunnelgw/nope")
        check(rc == 1 and "unknown command" in err, f"raw unknown: {rc} {err}")
        p = subprocess.run([args.ctl, "--file-prefix", "tgwops-none", "info"], capture_output=True, text=True)
        check(p.returncode == 1 and "not running" in p.stderr and p.stderr.count("\n") == 1,
              f"not running: {p.returncode} {p.stderr!r}")
        p = subprocess.run([args.ctl, "frobnicate"], capture_output=True, text=True)
        check(p.returncode == 2, f"unknown subcommand: exit {p.returncode}")
        gw.stop()
        rc, _, err = gw.ctl("info")
        check(rc == 1 and "not running" in err, f"ctl after stop: {rc} {err!r}")
    finally:
        gw.cleanup()


def test_reload(args):
    d = os.path.join(args.out, "reload")
    os.makedirs(d, exist_ok=True)
    load = os.path.join(d, "load.pcap")
    write_pcap(load, [udp_frame("10.20.0.5"), udp_frame("10.30.0.5")] * 32)
    cfg = base_config(d, load, infinite=True, tx="null")
    mport = free_port()
    cfg["operations"] = {"metrics_listen": f"127.0.0.1:{mport}"}
    gw = Gateway(args, "reload", cfg)

    def sample():
        t = {x["name"]: x for x in gw.ctl_json("tunnels")}
        drops = sum(x["packets"] for x in gw.ctl_json("drops", "--all"))
        return t, drops

    def generation():
        return gw.ctl_json("info")["generation"]

    def watch_t1(seconds, what):
        """t1 must keep forwarding with no drop anywhere, sampled every 0.25 s."""
        last, _ = sample()
        end = time.time() + seconds
        while time.time() < end:
            time.sleep(0.25)
            t, drops = sample()
            check(t["t1"]["tx_packets"] > last["t1"]["tx_packets"],
                  f"{what}: t1 stopped forwarding ({last['t1']['tx_packets']} -> {t['t1']['tx_packets']})")
            check(t["t1"]["tx_drops"] == 0 and t["t1"]["rx_drops"] == 0, f"{what}: t1 drops {t['t1']}")
            check(drops == 0, f"{what}: {drops} packets dropped: {gw.ctl_json('drops')}")
            last = t
        return last

    try:
        gw.start()
        watch_t1(1.0, "before reload")

        # Only t2 changes (key and TTL); t1 is untouched and must not lose a packet.
        cfg2 = json.loads(json.dumps(cfg))
        cfg2["tunnels"][1].update(key=44, ttl=32)
        gw.write_config(cfg2)
        gw.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while generation() != 2:
            check(time.time() < deadline, "SIGHUP reload not applied within 10 s:\n" + gw.log_tail())
            time.sleep(0.1)
        t = watch_t1(1.5, "after changing t2")
        check(t["t2"]["gre_key"] == "44" and t["t2"]["ttl"] == 32, f"t2 not reloaded: {t['t2']}")
        t2a = t["t2"]["tx_packets"]
        time.sleep(0.3)
        check(sample()[0]["t2"]["tx_packets"] > t2a, "t2 stopped forwarding after its reload")

        rc, out, err = gw.ctl("reload")
        check(rc == 0 and "reload applied: configuration generation 3" in out, f"ctl reload: {rc} {out} {err}")

        # Invalid file: SIGHUP and ctl both keep generation 3 forwarding and say why.
        bad = json.loads(json.dumps(cfg2))
        bad["tunnels"][1]["remote"] = "192.168.60.300"
        bad["tunnels"][0]["colour"] = "blue"
        gw.write_config(bad)
        gw.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "reload rejected" not in gw.log():
            check(time.time() < deadline, "no 'reload rejected' in the log after SIGHUP:\n" + gw.log_tail())
            time.sleep(0.1)
        check("tunnels[1].remote" in gw.log() and generation() == 3, "SIGHUP with errors: log or generation")
        watch_t1(0.75, "after a rejected SIGHUP")
        rc, out, err = gw.ctl("reload")
        check(rc == 1 and "reload rejected: 2 error(s)" in err and "tunnels[1].remote" in err
              and "colour" in err, f"ctl reload of a bad file: {rc} {err!r}")
        rc, out, _ = gw.ctl("reload", "--json")
        j = json.loads(out)
        check(rc == 1 and j["status"] == "rejected" and j["error_count"] == 2 and j["generation"] == 3,
              f"ctl reload --json: {j}")
        check(any("192.168.60.300" in e for e in j["errors"]), f"errors: {j['errors']}")
        watch_t1(0.75, "after a rejected ctl reload")
        m = parse_metrics(metrics(mport)[2])
        check(m["tunnelgw_config_generation"] == 3, "metrics generation after reloads")
        gw.stop()
        # Every packet read from the LAN went into a tunnel: nothing lost across three reloads.
        with open(gw.stats_path) as f:
            s = json.load(f)
        rx = s["ports"]["lan"]["rx_packets"]
        tx = s["tunnels"]["t1"]["tx_packets"] + s["tunnels"]["t2"]["tx_packets"]
        check(rx == tx and sum(s["drops"].values()) == 0, f"lan rx {rx} != tunnels tx {tx}, drops "
              f"{ {k: v for k, v in s['drops'].items() if v} }")
        print(f"reload: {rx} packets in, {tx} encapsulated, 0 dropped, 3 reloads + 2 rejected")
    finally:
        gw.cleanup()


def meminfo(key):
    with open("/proc/meminfo") as f:
        for l in f:
            if l.startswith(key + ":"):
                return int(l.split()[1])
    return 0


def test_dumpcap(args):
    if shutil.which("dpdk-dumpcap") is None:
        print("SKIP: dpdk-dumpcap not installed (package dpdk-dev)")
        return SKIP
    if meminfo("Hugepagesize") != 2048:
        print("SKIP: default hugepage size is not 2 MB")
        return SKIP
    # dpdk-dumpcap is a DPDK secondary process: it maps the gateway's memory, which only works
    # with hugepages (not --no-huge). Reserve what is missing; give it back afterwards.
    need = 160
    nr_path = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    mounted, raised_from = None, None
    d = os.path.join(args.out, "dumpcap")
    os.makedirs(d, exist_ok=True)
    gw, short = None, None
    try:
        if meminfo("HugePages_Free") < need:
            try:
                with open(nr_path) as f:
                    raised_from = int(f.read())
                with open(nr_path, "w") as f:
                    f.write(str(raised_from + need - meminfo("HugePages_Free")))
            except OSError as e:
                print(f"SKIP: cannot reserve hugepages ({e}); dpdk-dumpcap needs them")
                return SKIP
            if meminfo("HugePages_Free") < need:
                print(f"SKIP: only {meminfo('HugePages_Free')} free 2 MB hugepages, {need} needed")
                return SKIP
        if not hugetlbfs_mounts():
            mounted = os.path.join(d, "hugetlbfs")
            os.makedirs(mounted, exist_ok=True)
            if subprocess.run(["mount", "-t", "hugetlbfs", "nodev", mounted]).returncode != 0:
                mounted = None
                print("SKIP: no hugetlbfs mounted and cannot mount one")
                return SKIP
        # dpdk-dumpcap, a secondary process, re-creates every vdev of the gateway from its
        # arguments. In DPDK 22.11 that crashes it for a net_pcap port with infinite_rx=1, and
        # fails for arguments longer than a short field (long pcap paths). So the load comes
        # from net_null (64-byte frames the gateway drops as not for its MAC: traffic to
        # capture all the same), and the pcaps live in a short temporary directory.
        short = tempfile.mkdtemp(prefix="tgwdc", dir="/tmp")
        cfg = base_config(short, os.path.join(short, "e.pcap"), tx="null")
        cfg["ports"][0]["device"] = "net_null0"
        cfg["mbufs"] = 4095
        gw = Gateway(args, "dumpcap", cfg, huge=True)
        gw.start()
        out = os.path.join(d, "capture.pcapng")
        p = subprocess.run(["dpdk-dumpcap", f"--file-prefix={gw.prefix}", "-i", "net_null0", "-c", "5",
                            "-q", "-w", out], capture_output=True, text=True, timeout=25)
        check(p.returncode == 0, f"dpdk-dumpcap exit {p.returncode}: {p.stderr.strip()[-800:]}")
        pkts = pcapng_packets(out)
        check(len(pkts) >= 5 and all(len(x) == 64 for x in pkts),
              f"{len(pkts)} packets captured ({[len(x) for x in pkts[:5]]} bytes), expected 5 of 64 bytes")
        rx = {x["name"]: x for x in gw.ctl_json("ports")}["lan"]["rx_packets"]
        check(rx > 0, "the lan port received nothing")
        check(gw.ctl_json("info")["generation"] == 1, "gateway unwell after the capture")
        gw.stop()
        print(f"dumpcap: {len(pkts)} packets captured on port lan (net_null0)")
    finally:
        if gw:
            gw.cleanup()
        if short:
            shutil.rmtree(short, ignore_errors=True)
        if mounted:
            subprocess.run(["umount", mounted])
        if raised_from is not None:
            with open(nr_path, "w") as f:
                f.write(str(raised_from))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tunnelgw", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("test", choices=["ctl", "reload", "dumpcap"])
    args = ap.parse_args()
    for b in (args.tunnelgw, args.ctl):
        if not os.access(b, os.X_OK):
            print(f"FAIL: {b} is not an executable (build it first)")
            return 1
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    try:
        rc = {"ctl": test_ctl, "reload": test_reload, "dumpcap": test_dumpcap}[args.test](args)
    except Fail as e:
        print(f"FAIL: {args.test}: {e}")
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"FAIL: {args.test}: {e}")
        return 1
    if rc == SKIP:
        return SKIP
    print(f"PASS: {args.test} ({time.time() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

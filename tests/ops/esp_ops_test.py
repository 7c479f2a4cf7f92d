#!/usr/bin/python3
"""Operator interfaces and hot reload of a running tunnelgw with ESP SAs (real binary, net_pcap).

  esp-ctl     an SA pair on a GRE-over-ESP tunnel: `tunnelgw-ctl sas` (table and --json),
              /tunnelgw/sas through dpdk-telemetry.py, the protection columns of `tunnels`,
              per-SA Prometheus series (packets, bytes, auth failures, replay drops, bad
              trailers, lifetime state), `tunnelgw-ctl stages` and the tunnelgw_stage_* series;
              no key byte in any ctl, telemetry, metrics or log output
  esp-reload  under load through a protected tunnel and an untouched plain GRE tunnel, reloads
              that (a) add an inbound SA (rekey), (b) remove the old inbound SA, (c) change an
              unrelated route: zero loss on the plain tunnel, and the outbound SA's sequence
              numbers on the wire run 1, 2, 3, ... with no gap and no restart across the reloads

usage: esp_ops_test.py --tunnelgw BIN --ctl BIN --out DIR TEST
Exit status: 0 pass, 1 fail. Each test takes under 30 s.
"""
import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_test import (Fail, Gateway, base_config, check, free_port, metrics,  # noqa: E402
                      parse_metrics, udp_frame, write_pcap, LAN_MAC, WAN_MAC)

# 16-byte AES-GCM-128 keys + 4-byte salts (RFC 4106 section 8.1), as the YAML writes them.
KEY_OUT = "000102030405060708090a0b0c0d0e0fa0a1a2a3"
KEY_IN = "404142434445464748494a4b4c4d4e4fb0b1b2b3"
KEY_IN2 = "606162636465666768696a6b6c6d6e6fc0c1c2c3"
GW, PEER = "192.168.60.1", "192.168.60.2"


def secrets():
    """Every way a key could leak: whole, key part, salt part, upper case."""
    out = []
    for k in (KEY_OUT, KEY_IN, KEY_IN2):
        out += [k, k[:32], k[8:24], k.upper()[:32]]
    return out


def no_secret(text, where):
    for s in secrets():
        check(s not in text and s not in text.replace(":", "").replace(" ", ""),
              f"key material ({s[:8]}...) appears in {where}")


def sa(name, spi, direction, key, **kw):
    d = {"name": name, "spi": spi, "direction": direction, "encryption": "aes-gcm-128", "key": "0x" + key}
    d.update(kw)
    return d


def esp_in_frames():
    """GRE over ESP from the peer for SA in1 (SPI 0x1002): 6 good packets (seq 1..6), one
    duplicate of seq 3 (replay), one with a flipped ICV byte (seq 7: auth failure)."""
    from scapy.all import Ether, IP, UDP, GRE, Raw
    from scapy.layers.ipsec import SecurityAssociation, ESP
    k = bytes.fromhex(KEY_IN)
    sa_in = SecurityAssociation(ESP, spi=0x1002, crypt_algo="AES-GCM", crypt_key=k,
                                tunnel_header=IP(src=PEER, dst=GW))
    frames = []
    for seq in range(1, 8):
        inner = IP(src="10.20.0.9", dst="10.10.1.2") / UDP(sport=7, dport=9) / Raw(b"x" * 40)
        gre = IP(src=PEER, dst=GW, ttl=64) / GRE(key_present=1, key=42, proto=0x0800) / inner
        e = sa_in.encrypt(IP(bytes(gre)), seq_num=seq)
        b = bytes(Ether(dst=WAN_MAC, src="02:00:00:60:00:02") / e)
        if seq == 7:
            b = b[:-1] + bytes([b[-1] ^ 0x55])
        frames.append(b)
    return frames[:6] + [frames[2], frames[6]]


def test_esp_ctl(args):
    d = os.path.join(args.out, "esp-ctl")
    os.makedirs(d, exist_ok=True)
    lan_in, wan_in = os.path.join(d, "lan_in.pcap"), os.path.join(d, "wan_in.pcap")
    write_pcap(lan_in, [udp_frame("10.20.0.5")] * 10 + [udp_frame("10.30.0.5")] * 4)
    write_pcap(wan_in, esp_in_frames())
    cfg = base_config(d, lan_in)
    cfg["ports"][1]["device"] = f"net_pcap1,rx_pcap={wan_in},tx_pcap={os.path.join(d, 'wan_out.pcap')}"
    cfg["tunnels"][0]["protection"] = {"out": "out1", "in": ["in1"]}
    cfg["security_associations"] = [
        sa("out1", 0x1001, "out", KEY_OUT, mode="tunnel",
           lifetime={"soft": {"seconds": 3000}, "hard": {"seconds": 3600}}),
        sa("in1", 0x1002, "in", KEY_IN, replay_window=64),
    ]
    mport = free_port()
    cfg["operations"] = {"metrics_listen": f"127.0.0.1:{mport}", "stage_sample": 1}
    gw = Gateway(args, "esp-ctl", cfg)
    try:
        gw.start()
        deadline = time.time() + 10  # 14 + 8 frames are read once
        while gw.ctl_json("stats")["packets"] < 22 and time.time() < deadline:
            time.sleep(0.2)

        sas = {x["name"]: x for x in gw.ctl_json("sas")}
        check(set(sas) == {"out1", "in1"}, f"sas --json: {list(sas)}")
        o, i = sas["out1"], sas["in1"]
        check(o["spi"] == 0x1001 and o["direction"] == "out" and o["tunnel"] == "t1"
              and o["encryption"] == "aes-gcm-128" and o["mode"] == "tunnel", f"out1: {o}")
        check(o["local"] == GW and o["remote"] == PEER and o["state"] == "ok", f"out1: {o}")
        # bytes: the GRE packet ESP protects (86 inner + 20 outer IP + 8 GRE with key).
        check(o["packets"] == 10 and o["bytes"] == 10 * (86 + 28) and o["hard_seconds"] == 3600
              and o["soft_seconds"] == 3000, f"out1 counters / lifetime: {o}")
        check(i["direction"] == "in" and i["replay_window"] == 64 and i["packets"] == 6
              and i["replay"] == 1 and i["auth_failed"] == 1 and i["bad_trailer"] == 0,
              f"in1 counters (6 good, 1 replay, 1 bad ICV): {i}")
        for x in (o, i):
            check(not any("key" in k or "salt" in k for k in x), f"a key-ish field in sas: {list(x)}")

        rc, out, err = gw.ctl("sas")
        rows = out.splitlines()
        check(rc == 0 and rows[0].split()[:4] == ["SA", "SPI", "DIR", "TUNNEL"] and len(rows) == 3,
              f"sas table: {rc} {out} {err}")
        row = next(r.split() for r in rows if r.startswith("out1 "))
        check(row[1:5] == ["0x00001001", "out", "t1", "aes-gcm-128"] and "ok" in row, f"out1 row: {row}")

        tun = {t["name"]: t for t in gw.ctl_json("tunnels")}
        check(tun["t1"]["protected"] == 1 and tun["t1"]["sa_out"] == "out1" and tun["t1"]["sa_in"] == "in1",
              f"t1 protection: {tun['t1']}")
        check(tun["t2"]["protected"] == 0 and tun["t2"]["sa_out"] == "", f"t2 protection: {tun['t2']}")
        check(tun["t1"]["rx_packets"] == 6, f"t1 decapsulated the 6 good ESP packets: {tun['t1']}")
        rc, out, _ = gw.ctl("tunnels")
        t1row = next(r for r in out.splitlines() if r.startswith("t1 "))
        check(t1row.rstrip().endswith("out1 / in1"), f"tunnels table ESP column: {t1row!r}")

        drops = {x["reason"]: x["packets"] for x in gw.ctl_json("drops")}
        check(drops == {"esp-replay": 1, "esp-auth-failed": 1}, f"drops: {drops}")

        stages = {x["stage"]: x for x in gw.ctl_json("stages")}
        for st in ("ingress", "route", "local_in", "esp_in", "gre_decap", "gre_encap", "esp_out",
                   "egress", "tx"):
            check(st in stages and stages[st]["packets"] > 0 and stages[st]["cycles"] > 0
                  and stages[st]["cycles_per_packet"] > 0, f"stage {st}: {stages.get(st)}")
        check(stages["esp_out"]["packets"] == 10, f"esp_out sampled every run: {stages['esp_out']}")
        check(stages["esp_in"]["packets"] == 8, f"esp_in saw the 8 ESP packets: {stages['esp_in']}")
        rc, out, _ = gw.ctl("stages")
        check(rc == 0 and out.splitlines()[0].split()[:2] == ["STAGE", "CYCLES/PKT"], f"stages table: {out}")

        tp = subprocess.run(["dpdk-telemetry.py", "-f", gw.prefix], input="/tunnelgw/sas\n/tunnelgw/stages\n",
                            capture_output=True, text=True, timeout=20)
        lines = [json.loads(l) for l in tp.stdout.splitlines() if l.startswith("{")]
        check(len(lines) == 2 and lines[0]["/tunnelgw/sas"]["name"] == ["out1", "in1"]
              and "esp_out" in lines[1]["/tunnelgw/stages"]["stage"],
              f"dpdk-telemetry.py: rc {tp.returncode}, {tp.stdout[:300]} {tp.stderr[:300]}")

        body = metrics(mport)[2]
        m = parse_metrics(body)
        lo = 'sa="out1",direction="out",tunnel="t1"'
        li = 'sa="in1",direction="in",tunnel="t1"'
        want = {f"tunnelgw_sa_packets_total{{{lo}}}": 10, f"tunnelgw_sa_packets_total{{{li}}}": 6,
                f"tunnelgw_sa_bytes_total{{{lo}}}": 1140, f"tunnelgw_sa_auth_failures_total{{{li}}}": 1,
                f"tunnelgw_sa_replay_drops_total{{{li}}}": 1, f"tunnelgw_sa_bad_trailer_total{{{li}}}": 0,
                f"tunnelgw_sa_lifetime_state{{{lo}}}": 0, f"tunnelgw_sa_lifetime_state{{{li}}}": 0,
                "tunnelgw_stage_sample_interval": 1}
        for k, v in want.items():
            check(m.get(k) == v, f"/metrics {k} = {m.get(k)}, expected {v}")
        check(m['tunnelgw_stage_cycles_total{stage="esp_out"}'] > 0
              and m['tunnelgw_stage_packets_total{stage="esp_out"}'] == 10, "stage series")

        # Nothing key-derived anywhere an operator (or a log collector) can read.
        texts = {"/metrics": body, "gateway log": gw.log()}
        for cmd in ("sas", "tunnels", "info", "stats", "drops", "stages"):
            texts[f"ctl {cmd}"] = gw.ctl(cmd)[1]
            texts[f"ctl {cmd} --json"] = gw.ctl(cmd, "--json")[1]
        for cmd in ("/tunnelgw/sas", "/tunnelgw/tunnels", "/tunnelgw/info"):
            texts[f"raw {cmd}"] = gw.ctl("raw", cmd)[1]
        for where, text in texts.items():
            no_secret(text, where)
        gw.stop()
        with open(gw.stats_path) as f:
            text = f.read()
        no_secret(text, "--stats-json")
        s = json.loads(text)
        check(s["sas"]["out1"]["packets"] == 10 and s["stages"]["esp_out"]["packets"] == 10,
              f"stats json: {s['sas']} {s['stages']['esp_out']}")
        no_secret(gw.log(), "gateway log after stop")
        print("esp-ctl: sas / tunnels / stages / metrics / telemetry checked, no key material in "
              f"{len(texts) + 1} outputs")
    finally:
        gw.cleanup()


def esp_seqs(path, spi):
    """Sequence numbers of the ESP packets with `spi` in an Ethernet pcap, in file order."""
    seqs = []
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        p = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(p) >= 42 and p[12:14] == b"\x08\x00" and p[23] == 50:
            ihl = (p[14] & 15) * 4
            s, q = struct.unpack_from("!II", p, 14 + ihl)
            if s == spi:
                seqs.append(q)
    return seqs


def test_esp_reload(args):
    d = os.path.join(args.out, "esp-reload")
    os.makedirs(d, exist_ok=True)
    load = os.path.join(d, "load.pcap")
    # 127 packets for the plain tunnel t1 to 1 for the protected hub1: the ESP output is kept
    # in a file (to read its sequence numbers) and stays near 20 MB at 2.5 Mpps.
    write_pcap(load, [udp_frame("10.20.0.5")] * 127 + [udp_frame("10.40.0.5")])
    esp_out = os.path.join(d, "wan2_out.pcap")
    cfg = base_config(d, load, infinite=True, tx="null",
                      tunnels=[{"name": "t1", "local": GW, "remote": PEER, "key": 42},
                               {"name": "hub1", "local": "192.168.70.1", "remote": "192.168.70.2",
                                "protection": {"out": "out1", "in": ["in1"]}}],
                      routes=[{"prefix": "10.20.0.0/24", "tunnel": "t1"},
                              {"prefix": "10.40.0.0/24", "tunnel": "hub1"}])
    cfg["ports"].append({"name": "wan2", "device": f"net_pcap2,rx_pcap={os.path.join(d, 'e.pcap')},"
                         f"tx_pcap={esp_out}", "mac": "02:00:00:00:03:01", "addresses": ["192.168.70.1/24"]})
    cfg["neighbors"].append({"port": "wan2", "address": "192.168.70.2", "mac": "02:00:00:70:00:02"})
    cfg["security_associations"] = [sa("out1", 0x1001, "out", KEY_OUT),
                                    sa("in1", 0x1002, "in", KEY_IN)]
    gw = Gateway(args, "esp-reload", cfg)

    def sample():
        t = {x["name"]: x for x in gw.ctl_json("tunnels")}
        s = {x["name"]: x for x in gw.ctl_json("sas")}
        drops = {x["reason"]: x["packets"] for x in gw.ctl_json("drops")}
        return t, s, drops

    def watch(seconds, what):
        """t1 and out1 keep going, no drop anywhere, no counter goes back."""
        last_t, last_s, _ = sample()
        end = time.time() + seconds
        while time.time() < end:
            time.sleep(0.25)
            t, s, drops = sample()
            check(t["t1"]["tx_packets"] > last_t["t1"]["tx_packets"], f"{what}: t1 stopped forwarding")
            check(s["out1"]["packets"] > last_s["out1"]["packets"],
                  f"{what}: out1 stopped or restarted ({last_s['out1']['packets']} -> {s['out1']['packets']})")
            check(t["hub1"]["tx_packets"] >= last_t["hub1"]["tx_packets"], f"{what}: hub1 counters reset")
            check(s["out1"]["age_s"] >= last_s["out1"]["age_s"], f"{what}: out1 was re-created")
            check(not drops, f"{what}: drops {drops}")
            last_t, last_s = t, s
        return last_t, last_s

    def reload(new_cfg, gen, what):
        gw.write_config(new_cfg)
        rc, out, err = gw.ctl("reload")
        check(rc == 0 and f"configuration generation {gen}" in out, f"{what}: ctl reload: {rc} {out} {err}")
        return watch(1.0, what)

    try:
        gw.start()
        watch(1.2, "before reloads")
        # (a) rekey: a new inbound SA next to the old one.
        cfg_a = json.loads(json.dumps(cfg))
        cfg_a["security_associations"].append(sa("in2", 0x1003, "in", KEY_IN2))
        cfg_a["tunnels"][1]["protection"]["in"] = ["in1", "in2"]
        _, s = reload(cfg_a, 2, "(a) add inbound SA in2")
        check(set(s) == {"out1", "in1", "in2"}, f"(a) sas: {list(s)}")
        # (b) the old inbound SA goes.
        cfg_b = json.loads(json.dumps(cfg_a))
        cfg_b["security_associations"] = [x for x in cfg_b["security_associations"] if x["name"] != "in1"]
        cfg_b["tunnels"][1]["protection"]["in"] = ["in2"]
        _, s = reload(cfg_b, 3, "(b) remove inbound SA in1")
        check(set(s) == {"out1", "in2"}, f"(b) sas: {list(s)}")
        # (c) an unrelated route.
        cfg_c = json.loads(json.dumps(cfg_b))
        cfg_c["routes"].append({"prefix": "10.50.0.0/24", "tunnel": "t1"})
        reload(cfg_c, 4, "(c) add an unrelated route")
        check(gw.ctl_json("info")["routes"] == 3, "(c) route not applied")
        gw.stop()

        with open(gw.stats_path) as f:
            st = json.load(f)
        rx = st["ports"]["lan"]["rx_packets"]
        t1, hub1 = st["tunnels"]["t1"]["tx_packets"], st["tunnels"]["hub1"]["tx_packets"]
        out1 = st["sas"]["out1"]["packets"]
        check(sum(st["drops"].values()) == 0, f"drops: { {k: v for k, v in st['drops'].items() if v} }")
        check(rx == t1 + out1, f"lan rx {rx} != t1 tx {t1} + out1 {out1}: packets lost")
        seqs = esp_seqs(esp_out, 0x1001)
        check(len(seqs) == out1 == st["ports"]["wan2"]["tx_packets"],
              f"{len(seqs)} ESP packets on the wire, out1 counted {out1}")
        brk = next((i for i, q in enumerate(seqs) if q != i + 1), None)
        check(seqs and brk is None, f"outbound sequence numbers are not 1..N: at packet {brk} "
              f"seq {seqs[brk] if brk is not None else '-'} follows {seqs[brk - 1] if brk else '-'}")
        print(f"esp-reload: {rx} packets in, t1 {t1}, hub1 {hub1} (out1 seq 1..{seqs[-1]} unbroken), "
              "0 dropped, 3 reloads")
    finally:
        gw.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tunnelgw", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("test", choices=["esp-ctl", "esp-reload"])
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    try:
        {"esp-ctl": test_esp_ctl, "esp-reload": test_esp_reload}[args.test](args)
    except (Fail, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {args.test}: {e}")
        return 1
    print(f"PASS: {args.test} ({time.time() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

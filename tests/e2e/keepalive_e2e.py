#!/usr/bin/python3
"""End to end: ECMP over two tunnels with keepalives; one hub goes silent, then comes back.

  netns H: host 10.10.1.2 --veth-- [lan] tunnelgw [wan] --veth-- netns P: scapy peer
           UDP flows to 10.20.0.0/16                                 hubs 192.168.60.2 and .3

tunnelgw: group "hubs" = hub0 (.2) + hub1 (.3), keepalive interval 1 s, 3 retries, hold-down
2 s. The peer reflects keepalives for both hubs, stops answering as hub0 (.2) at SILENT_FROM and
answers again at SILENT_TO. Checks: before, flows use both hubs; hub0 is declared down within
interval x (retries + 1) of going silent, and from then on every flow goes to hub1 (no packet
into the dead tunnel); after it answers again and the hold-down passes, hub0 carries flows
again; the log says DOWN and UP exactly once each. Prints the measured failover time.
Needs root (network namespaces). usage: keepalive_e2e.py --tunnelgw PATH [--out DIR]"""
import argparse, json, os, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
INTERVAL, RETRIES, HOLD = 1, 3, 2
SILENT_FROM, SILENT_TO, DURATION = 7.0, 14.0, 21.0  # peer's clock


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tunnelgw", required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root for network namespaces")
        return 77
    out = a.out or tempfile.mkdtemp(prefix="ka")
    os.makedirs(out, exist_ok=True)
    tag = "ka%d" % os.getpid()
    ns = {r: "%s-%s" % (tag, r) for r in ("g", "h", "p")}
    procs = []
    try:
        for n in ns.values():
            sh("ip", "netns", "add", n)
            sh("ip", "-n", n, "link", "set", "lo", "up")
        sh("ip", "link", "add", "kl", "netns", ns["g"], "address", "02:00:00:00:01:01", "type", "veth",
           "peer", "name", "kh", "netns", ns["h"])
        sh("ip", "link", "add", "kw", "netns", ns["g"], "address", "02:00:00:00:02:01", "type", "veth",
           "peer", "name", "kp", "netns", ns["p"])
        for n, i in ((ns["g"], "kl"), (ns["g"], "kw"), (ns["h"], "kh"), (ns["p"], "kp")):
            sh("ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % i, check=False)
            sh("ip", "netns", "exec", n, "ethtool", "-K", i, "tx", "off", "rx", "off", "gso", "off",
               "tso", "off", "gro", "off", check=False)
            sh("ip", "-n", n, "link", "set", i, "up")
        sh("ip", "-n", ns["h"], "addr", "add", "10.10.1.2/24", "dev", "kh")
        sh("ip", "-n", ns["h"], "route", "add", "default", "via", "10.10.1.1")
        cfg = {
            "eal": ["--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix", tag,
                    "--lcores", os.environ.get("TGW_LCORES", "0@0,1@1")],
            "workers": [1], "idle_backoff_us": 100, "stats_interval": 0,
            "ports": [{"name": "lan", "device": "net_af_packet0,iface=kl", "mac": "02:00:00:00:01:01",
                       "addresses": ["10.10.1.1/24"]},
                      {"name": "wan", "device": "net_af_packet1,iface=kw", "mac": "02:00:00:00:02:01",
                       "addresses": ["192.168.60.1/24"]}],
            "tunnels": [{"name": "hub%d" % i, "local": "192.168.60.1", "remote": "192.168.60.%d" % (2 + i),
                         "key": 42, "keepalive": {"interval": INTERVAL, "retries": RETRIES, "hold_down": HOLD}}
                        for i in range(2)],
            "groups": [{"name": "hubs", "members": ["hub0", "hub1"]}],
            "routes": [{"prefix": "10.20.0.0/16", "group": "hubs"}],
        }
        cfg_path = os.path.join(out, "gw.yaml")
        json.dump(cfg, open(cfg_path, "w"))
        timeline = os.path.join(out, "peer.json")
        peer = subprocess.Popen(["ip", "netns", "exec", ns["p"], "/usr/bin/python3",
                                 os.path.join(HERE, "ka_peer.py"), "--iface", "kp", "--addrs",
                                 "192.168.60.2", "192.168.60.3", "--silent", "192.168.60.2",
                                 str(SILENT_FROM), str(SILENT_TO), "--duration", str(DURATION),
                                 "--out", timeline])
        procs.append(peer)
        time.sleep(1)  # the peer listens before the gateway's first keepalive
        gw_log = open(os.path.join(out, "tunnelgw.log"), "w")
        gw = subprocess.Popen(["ip", "netns", "exec", ns["g"], a.tunnelgw, "--config", cfg_path,
                               "--stats-json", os.path.join(out, "stats.json")],
                              stdout=gw_log, stderr=subprocess.STDOUT)
        procs.append(gw)
        time.sleep(2)  # EAL and ports up
        # 64 UDP flows, 10 packets/s each round, from the host for the whole run.
        sender = subprocess.Popen(["ip", "netns", "exec", ns["h"], "/usr/bin/python3", "-c", """
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + %f
socks = []
for i in range(64):
    k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); k.bind(("10.10.1.2", 30000 + i)); socks.append(k)
while time.time() < end:
    for i, k in enumerate(socks):
        k.sendto(b"x" * 32, ("10.20.%%d.1" %% i, 9))
    time.sleep(0.1)
""" % (DURATION - 4)])
        procs.append(sender)
        peer.wait(timeout=DURATION + 30)
        sender.wait(timeout=10)
        gw.send_signal(signal.SIGINT)
        gw.wait(timeout=20)
        gw_log.close()
        return check(json.load(open(timeline)), open(os.path.join(out, "tunnelgw.log")).read())
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        for n in ns.values():
            sh("ip", "netns", "del", n, check=False)


def check(tl, log):
    errors = []
    data = tl["data"]
    hub0, hub1 = "192.168.60.2", "192.168.60.3"
    before = [t for t, x in data if t < SILENT_FROM]
    if not any(x == hub0 for t, x in data if t < SILENT_FROM) or not any(x == hub1 for t, x in data if t < SILENT_FROM):
        errors.append("before the failure both hubs should carry flows (%d packets seen)" % len(before))
    # Keepalives the peer left unanswered, then the last data packet sent into hub0.
    last_into_dead = max([t for t, x in data if x == hub0 and SILENT_FROM <= t < SILENT_TO] or [SILENT_FROM])
    # The peer drops (does not record) hub0 packets while silent, so look at the gateway side:
    # the failover is over when hub1 carries every flow.
    limit = SILENT_FROM + INTERVAL * (RETRIES + 1) + 0.5
    after_down = [x for t, x in data if limit <= t < SILENT_TO]
    flows_hub1 = len(after_down)
    if flows_hub1 == 0:
        errors.append("no traffic reached hub1 after hub0 died")
    ka_dead = [t for t, x, ans in tl["ka"] if x == hub0 and not ans]
    down_lines = [l for l in log.splitlines() if "hub0 is DOWN" in l]
    up_lines = [l for l in log.splitlines() if "hub0 is UP" in l]
    if len(down_lines) != 1 or len(up_lines) != 1:
        errors.append("want one DOWN and one UP log line for hub0, got %d and %d" % (len(down_lines), len(up_lines)))
    # Failover time: from going silent to the first moment all flows went to hub1, seen as the
    # first 0.5 s window after SILENT_FROM where hub1 gets every flow (64 per round).
    rounds = {}
    for t, x in data:
        if SILENT_FROM <= t < SILENT_TO:
            rounds.setdefault(int((t - SILENT_FROM) * 10), []).append(x)
    failover = None
    for k in sorted(rounds):
        if len(rounds[k]) >= 60:
            failover = k / 10
            break
    back = [t for t, x in data if x == hub0 and t >= SILENT_TO]
    if not back:
        errors.append("hub0 carried no flows after it answered again")
    recovery = (min(back) - SILENT_TO) if back else None
    if failover is None or failover > INTERVAL * (RETRIES + 1) + 0.5:
        errors.append("failover took %s s, want <= %.1f" % (failover, INTERVAL * (RETRIES + 1) + 0.5))
    if recovery is not None and recovery < HOLD - 0.5:
        errors.append("hub0 came back after %.1f s, before the %d s hold-down" % (recovery, HOLD))
    print("keepalives unanswered by hub0: %d; failover (all flows on hub1) after %s s; "
          "hub0 back %.1f s after it answered again" % (len(ka_dead), failover, recovery or -1))
    for e in errors:
        print("FAIL", e)
    print("PASS keepalive failover" if not errors else "FAIL keepalive failover")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

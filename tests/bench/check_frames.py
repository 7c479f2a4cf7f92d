#!/usr/bin/python3
"""tunnelgw-bench's frames, dissected by tshark (a parser that shares no code with us): IP
checksums good (outer and inner), GRE flags, key, sequence and checksum as configured, frame
lengths as the size convention says, distinct 5-tuples, our stamp at the start of the UDP
payload, nothing malformed. The generator writes the frames with --write-pcap (no EAL; the
ESP decrypt scenarios start one to encrypt with the gateway's crypto code): tshark decrypts
those with the SA's key and must find every ICV good (a wrong key still shows a payload, so the
ICV status is what is checked), sequence numbers 1, 2, 3, ... and our stamped packet inside.

usage: check_frames.py --bench build/bench/tunnelgw-bench [--out DIR]     exit 77 = skipped
"""
import argparse, os, shutil, subprocess, sys, tempfile

LAN_MAC, WAN_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"
FIELDS = ["frame.len", "eth.dst", "ip.src", "ip.dst", "ip.checksum.status", "ip.proto", "gre.flags.checksum",
          "gre.flags.key", "gre.flags.sequence_number", "gre.key", "gre.sequence_number", "gre.checksum.status",
          "gre.proto", "udp.srcport", "udp.dstport", "data.data"]
IMIX = [64, 570, 64, 64, 1420, 64, 570, 64, 64, 570, 64, 570]

# (scenario, size, generator options, GRE expected: None for plain, else (key or None, csum, seq))
CASES = [
    ("gre-encap", "imix", [], None),
    ("gre-encap", "64", [], None),
    ("gre-decap", "imix", ["--gre-key", "42"], (42, False, False)),
    ("gre-decap", "64", ["--gre-key", "7", "--gre-csum", "--gre-seq"], (7, True, True)),
    ("gre-decap", "1420", ["--gre-key", "-1", "--gre-csum"], (None, True, False)),
]
COUNT = 24


def dissect(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-T", "fields",
                          "-E", "occurrence=a", "-E", "aggregator=,"] + sum((["-e", f] for f in FIELDS), []),
                         capture_output=True, text=True, check=True).stdout
    return [dict(zip(FIELDS, line.split("\t"))) for line in out.splitlines()]


def malformed(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "_ws.malformed or _ws.expert.severity >= 8388608"],
                         capture_output=True, text=True, check=True).stdout
    return len(out.splitlines())


def check_case(bench, tmp, scenario, size, opts, gre):
    pcap = os.path.join(tmp, "%s-%s-%s.pcap" % (scenario, size, "-".join(o.strip("-") for o in opts)))
    subprocess.run([bench, "--scenario", scenario, "--size", size, "--flows", str(COUNT), "--write-pcap", pcap,
                    "--pcap-count", str(COUNT)] + opts, check=True, capture_output=True)
    rows, errs = dissect(pcap), []
    if len(rows) != COUNT:
        return ["%d frames dissected, %d written" % (len(rows), COUNT)]
    if malformed(pcap):
        errs.append("tshark reports malformed frames or errors")
    sizes = IMIX if size == "imix" else [int(size)]
    gre_len = 0 if gre is None else 4 + 4 * sum([gre[0] is not None, gre[1], gre[2]])
    tuples = set()
    for i, r in enumerate(rows):
        where = "frame %d" % (i + 1)
        want_len = sizes[i % len(sizes)] - 4 + (0 if gre is None else 20 + gre_len)
        if int(r["frame.len"]) != want_len:
            errs.append("%s: length %s, expected %d" % (where, r["frame.len"], want_len))
        if set(r["ip.checksum.status"].split(",")) != {"1"}:
            errs.append("%s: IP checksum status %s (1 = good)" % (where, r["ip.checksum.status"]))
        if r["eth.dst"] != (LAN_MAC if gre is None else WAN_MAC):
            errs.append("%s: destination MAC %s" % (where, r["eth.dst"]))
        if r["udp.dstport"] != "9" or not r["data.data"].startswith("6774"):
            errs.append("%s: not our UDP payload stamp (port %s, data %s)" % (where, r["udp.dstport"], r["data.data"][:8]))
        tuples.add((r["ip.src"].split(",")[-1], r["ip.dst"].split(",")[-1], r["udp.srcport"]))
        if gre is None:
            if r["ip.proto"] != "17" or r["gre.proto"]:
                errs.append("%s: expected plain IPv4/UDP, got proto %s" % (where, r["ip.proto"]))
            continue
        key, csum, seq = gre
        if r["ip.proto"] != "47,17" or r["gre.proto"] != "0x0800":
            errs.append("%s: expected IPv4/GRE/IPv4/UDP, got %s %s" % (where, r["ip.proto"], r["gre.proto"]))
        if r["ip.src"].split(",")[0] != "192.168.60.2" or r["ip.dst"].split(",")[0] != "192.168.60.1":
            errs.append("%s: outer addresses %s -> %s" % (where, r["ip.src"], r["ip.dst"]))
        flags = (r["gre.flags.key"], r["gre.flags.checksum"], r["gre.flags.sequence_number"])
        if flags != tuple("1" if x else "0" for x in (key is not None, csum, seq)):
            errs.append("%s: GRE K,C,S flags %s" % (where, ",".join(flags)))
        if key is not None and int(r["gre.key"] or "-1", 0) != key:
            errs.append("%s: GRE key %s, expected %d" % (where, r["gre.key"], key))
        if csum and r["gre.checksum.status"] != "1":
            errs.append("%s: GRE checksum status %s (1 = good)" % (where, r["gre.checksum.status"]))
        if seq and int(r["gre.sequence_number"]) != i:
            errs.append("%s: GRE sequence %s, expected %d" % (where, r["gre.sequence_number"], i))
    if len(tuples) != COUNT:
        errs.append("%d distinct 5-tuples in %d frames of %d flows" % (len(tuples), COUNT, COUNT))
    return errs


ESP_KEY = "2b7e151628aed2a6abf7158809cf4f3cdeadbeef"  # tunnelgw-bench's default --esp-key
ESP_FIELDS = ["esp.spi", "esp.sequence", "esp.icv_good", "esp.icv_bad", "ip.proto", "ip.src", "ip.dst", "gre.key",
              "udp.dstport", "data.data"]
# (scenario, size, GRE inside ESP)
ESP_CASES = [("esp-decap", "64", False), ("gre-esp-decap", "1420", True), ("gre-esp-decap", "imix", True)]


def check_esp_case(bench, tmp, scenario, size, gre):
    pcap = os.path.join(tmp, "%s-%s.pcap" % (scenario, size))
    subprocess.run([bench, "--scenario", scenario, "--size", size, "--flows", str(COUNT), "--write-pcap", pcap,
                    "--pcap-count", str(COUNT)], check=True, capture_output=True)
    sa = ('"IPv4","192.168.60.2","192.168.60.1","0x00002002","AES-GCM with 16 octet ICV [RFC4106]",'
          '"0x%s","NULL",""' % ESP_KEY)
    out = subprocess.run(["tshark", "-r", pcap, "-o", "esp.enable_encryption_decode:TRUE",
                          "-o", "esp.enable_authentication_check:TRUE", "-o", "uat:esp_sa:" + sa, "-T", "fields",
                          "-E", "occurrence=a", "-E", "aggregator=,"] + sum((["-e", f] for f in ESP_FIELDS), []),
                         capture_output=True, text=True, check=True).stdout
    rows = [dict(zip(ESP_FIELDS, line.split("\t"))) for line in out.splitlines()]
    if len(rows) != COUNT:
        return ["%d frames dissected, %d written" % (len(rows), COUNT)]
    errs = []
    for i, r in enumerate(rows):
        where = "frame %d" % (i + 1)
        if r["esp.spi"] != "0x00002002" or int(r["esp.sequence"] or "0") != i + 1:
            errs.append("%s: SPI %s sequence %s, expected 0x00002002 and %d" % (where, r["esp.spi"],
                                                                               r["esp.sequence"], i + 1))
        if r["esp.icv_good"] != "1" or r["esp.icv_bad"] == "1":
            errs.append("%s: ICV good %s bad %s" % (where, r["esp.icv_good"], r["esp.icv_bad"]))
        want_proto = "50,47,17" if gre else "50,17"  # outer ESP, (GRE,) inner UDP
        if r["ip.proto"] != want_proto or (gre and int(r["gre.key"] or "0", 0) != 42):
            errs.append("%s: inside ESP: IP protocols %s, GRE key %s" % (where, r["ip.proto"], r["gre.key"]))
        if r["udp.dstport"] != "9" or not r["data.data"].startswith("6774"):
            errs.append("%s: not our stamped UDP packet inside (port %s)" % (where, r["udp.dstport"]))
        # The packet inside comes from behind the peer (10.20/16: the gateway's inbound policy
        # wants a source it routes back into the tunnel) for the LAN (10.30/16).
        src, dst = r["ip.src"].split(",")[-1], r["ip.dst"].split(",")[-1]
        if not (src.startswith("10.20.") and dst.startswith("10.30.")):
            errs.append("%s: inner %s -> %s, expected 10.20/16 -> 10.30/16" % (where, src, dst))
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    if not os.access(a.bench, os.X_OK):
        print("SKIP: %s not built (-Dbench=false?)" % a.bench)
        return 77
    if not shutil.which("tshark"):
        print("SKIP: tshark missing (tools/install-deps.sh)")
        return 77
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=a.out)
    failed = 0
    for scenario, size, opts, gre in CASES:
        errs = check_case(a.bench, tmp, scenario, size, opts, gre)
        print("%-4s %s %s %s" % ("ok" if not errs else "FAIL", scenario, size, " ".join(opts)))
        for e in errs[:10]:
            print("     " + e)
        failed += bool(errs)
    for scenario, size, gre in ESP_CASES:
        errs = check_esp_case(a.bench, tmp, scenario, size, gre)
        print("%-4s %s %s (decrypted by tshark)" % ("ok" if not errs else "FAIL", scenario, size))
        for e in errs[:10]:
            print("     " + e)
        failed += bool(errs)
    if not failed:
        shutil.rmtree(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

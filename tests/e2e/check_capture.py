#!/usr/bin/python3
"""Judge an underlay capture of a GRE tunnel with tshark (an independent dissector).

Every GRE packet between --gw and --peer must carry exactly the options the tunnel was
configured with: key (value), checksum (tshark: status good), sequence numbers (consecutive
in each direction; the gateway's first one is 0). Outer IPv4 header checksums and the
checksums of the inner ICMP/UDP packets must not be bad, and each direction must carry at
least --min packets.

usage: check_capture.py PCAP --gw IP --peer IP [--key N] [--csum] [--seq] [--min N]
Exit 0 when everything holds; 1 with one line per problem otherwise.
"""
import argparse
import subprocess
import sys

FIELDS = ["frame.number", "ip.src", "ip.dst", "ip.checksum.status", "gre.flags.checksum",
          "gre.flags.key", "gre.flags.sequence_number", "gre.flags.version", "gre.checksum.status",
          "gre.key", "gre.sequence_number", "gre.proto", "icmp.checksum.status", "udp.checksum.status",
          "_ws.col.Info"]


def tshark_rows(pcap):
    cmd = ["tshark", "-n", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
           "-Y", "gre", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        vals = line.split("\t")
        yield dict(zip(FIELDS, vals + [""] * (len(FIELDS) - len(vals))))


def truthy(v):
    return v in ("1", "True", "true")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pcap")
    ap.add_argument("--gw", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--key", type=int)
    ap.add_argument("--csum", action="store_true")
    ap.add_argument("--seq", action="store_true")
    ap.add_argument("--min", type=int, default=1, help="GRE packets wanted in each direction")
    a = ap.parse_args()

    errs, count, seqs = [], {"gw->peer": 0, "peer->gw": 0}, {"gw->peer": [], "peer->gw": []}
    for r in tshark_rows(a.pcap):
        src, dst = r["ip.src"].split(","), r["ip.dst"].split(",")
        if (src[0], dst[0]) == (a.gw, a.peer):
            d = "gw->peer"
        elif (src[0], dst[0]) == (a.peer, a.gw):
            d = "peer->gw"
        else:
            continue
        count[d] += 1
        n = f"frame {r['frame.number']} ({d}, {r['_ws.col.Info']})"
        if truthy(r["gre.flags.checksum"]) != a.csum:
            errs.append(f"{n}: checksum bit {r['gre.flags.checksum']}, want {int(a.csum)}")
        if a.csum and r["gre.checksum.status"] != "1":
            errs.append(f"{n}: GRE checksum status {r['gre.checksum.status']} (1 = good)")
        if truthy(r["gre.flags.key"]) != (a.key is not None):
            errs.append(f"{n}: key bit {r['gre.flags.key']}, want {int(a.key is not None)}")
        elif a.key is not None and int(r["gre.key"], 0) != a.key:
            errs.append(f"{n}: key {r['gre.key']}, want {a.key}")
        if truthy(r["gre.flags.sequence_number"]) != a.seq:
            errs.append(f"{n}: sequence bit {r['gre.flags.sequence_number']}, want {int(a.seq)}")
        elif a.seq:
            seqs[d].append(int(r["gre.sequence_number"], 0))
        if r["gre.flags.version"] not in ("0", "0x0", "0x00"):
            errs.append(f"{n}: GRE version {r['gre.flags.version']}")
        if int(r["gre.proto"] or "0", 0) not in (0x0800, 0x86DD):
            errs.append(f"{n}: GRE protocol {r['gre.proto']}, want IPv4 or IPv6")
        for f in ("ip.checksum.status", "icmp.checksum.status", "udp.checksum.status"):
            if "0" in r[f].split(","):  # 0 bad, 1 good, 2 unverified (e.g. quoted in an ICMP error)
                errs.append(f"{n}: {f} {r[f]} (0 = bad)")
    for d, c in count.items():
        if c < a.min:
            errs.append(f"{d}: {c} GRE packets, want at least {a.min}")
        if a.seq and seqs[d]:
            s = seqs[d]
            gaps = [(x, y) for x, y in zip(s, s[1:]) if y != (x + 1) & 0xFFFFFFFF]
            if gaps:
                errs.append(f"{d}: sequence numbers not consecutive at {gaps[:5]}")
            if d == "gw->peer" and s[0] != 0:
                errs.append(f"{d}: first sequence number {s[0]}, want 0")
    seq_info = "".join(f", {d} seq {s[0]}..{s[-1]}" for d, s in seqs.items() if s)
    print(f"capture: gw->peer {count['gw->peer']} GRE packets, peer->gw {count['peer->gw']}{seq_info}")
    for e in errs[:40]:
        print("  - " + e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())

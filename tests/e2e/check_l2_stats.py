#!/usr/bin/python3
"""tunnelgw's own account after a Layer 2 end-to-end run: the bridge domain forwarded, flooded
and learned, the gretap tunnel carried traffic both ways, and nothing was dropped as gre-*,
bd-* or teb-*. Minimums only: the tests never depend on exact background traffic.

usage: check_l2_stats.py STATS_JSON DOMAIN TUNNEL    exit 0 = fine
"""
import json
import sys


def main(path, domain, tunnel):
    st = json.load(open(path))
    b = st.get("bridges", {}).get(domain, {})
    t = st.get("tunnels", {}).get(tunnel, {})
    errs = [f"bridges.{domain}.{k} = {b.get(k)}, want >= {n}" for k, n in
            (("forwarded", 10), ("flooded", 4), ("learn_events", 2), ("macs", 2)) if (b.get(k) or 0) < n]
    errs += [f"tunnels.{tunnel}.{k} = {t.get(k)}, want >= 6" for k in ("rx_packets", "tx_packets")
             if (t.get(k) or 0) < 6]
    errs += [f"drops[{k}] = {v}" for k, v in st.get("drops", {}).items()
             if v and k.startswith(("gre-", "bd-", "teb-"))]
    print(f"counters: bridge {b}, tunnel rx {t.get('rx_packets')} tx {t.get('tx_packets')}, "
          f"drops {({k: v for k, v in st.get('drops', {}).items() if v})}")
    for e in errs:
        print("  - " + e)
    return 1 if errs else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))

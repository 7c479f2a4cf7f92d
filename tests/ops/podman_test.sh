#!/bin/bash
# The container image: build docker/Dockerfile with podman, then run the gateway inside it on
# net_null and net_pcap ports (no NIC, no hugepages, no extra privileges) and talk to it with
# tunnelgw-ctl inside the same container.
#
# usage: tests/ops/podman_test.sh SOURCE_DIR OUT_DIR
# Needs root. Installs podman (and buildah, debootstrap, runc) with apt-get when missing; exits
# 77 (meson: skipped) only when podman cannot be installed. No registry is needed: the
# debian:bookworm base is built locally by docker/make-base.sh when absent.
# The build takes a few minutes on two cores (apt inside the build + a full compile); later
# runs reuse podman's layer cache.
set -u
SRC=$(cd "${1:?usage: podman_test.sh SOURCE_DIR OUT_DIR}" && pwd)
OUT=${2:?usage: podman_test.sh SOURCE_DIR OUT_DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
IMAGE=localhost/tunnelgw:test
NAME=tgw-podman-test-$$
export CONTAINERS_CONF=$SRC/docker/containers.conf

fail() { echo "FAIL: podman: $*"; exit 1; }
skip() { echo "SKIP: podman: $*"; exit 77; }

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
  [ "$(id -u)" = 0 ] || skip "podman is not installed and installing it needs root"
  echo "installing podman buildah debootstrap runc"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    podman buildah debootstrap runc </dev/null >"$OUT/apt.log" 2>&1 ||
    skip "podman is not installable here (apt-get failed; see $OUT/apt.log)"
fi
[ "$(id -u)" = 0 ] || skip "podman needs root on this kind of host (see docker/README.md)"

cleanup() { podman rm -f "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$SRC/docker/make-base.sh" "$OUT/base" || fail "cannot build the debian:bookworm base image"

echo "building $IMAGE (log: $OUT/build.log)"
t0=$(date +%s)
# The build stage is tagged too, so that pruning the layers earlier runs left behind keeps its
# apt layer as cache for the next run.
podman build --target build -t localhost/tunnelgw-build:test -f "$SRC/docker/Dockerfile" "$SRC" \
  >"$OUT/build.log" 2>&1 &&
  podman build -t "$IMAGE" -f "$SRC/docker/Dockerfile" "$SRC" >>"$OUT/build.log" 2>&1 ||
  { tail -30 "$OUT/build.log"; fail "podman build failed"; }
podman image prune -f >/dev/null 2>&1 || true
echo "built in $(( $(date +%s) - t0 )) s; size $(podman image inspect "$IMAGE" --format '{{.Size}}') bytes"

# Runtime stage: no compiler, no -dev packages.
podman run --rm --entrypoint sh "$IMAGE" -c \
  'for p in g++ libdpdk-dev libyaml-cpp-dev; do dpkg -s $p >/dev/null 2>&1 && echo "$p"; done' \
  >"$OUT/devpkgs.txt" 2>&1
[ ! -s "$OUT/devpkgs.txt" ] || fail "build packages in the runtime image: $(cat "$OUT/devpkgs.txt")"

# Every shipped example validates inside the image.
for f in $(cd "$SRC/conf/examples" && ls *.yaml); do
  podman run --rm "$IMAGE" --config "/usr/share/tunnelgw/examples/$f" --check-config >>"$OUT/check.log" 2>&1 ||
    { cat "$OUT/check.log"; fail "--check-config $f failed in the image"; }
done

# A gateway on net_null (lan) and net_pcap (wan, writing a capture to the mounted directory).
cat >"$OUT/gw.yaml" <<'EOF'
eal: ["--no-huge", "-m", "256", "--no-pci", "--lcores=0@0,1@0"]
workers: [1]
idle_backoff_us: 200
stats_interval: 0
ports:
  - {name: lan, device: "net_null0", addresses: ["10.10.1.1/24"]}
  - {name: wan, device: "net_pcap0,rx_pcap=/data/empty.pcap,tx_pcap=/data/wan_out.pcap", addresses: ["192.168.60.1/24"]}
tunnels:
  - {name: hub, local: 192.168.60.1, remote: 192.168.60.2, key: 7}
routes:
  - {prefix: 10.20.0.0/24, tunnel: hub}
operations:
  metrics_listen: "127.0.0.1:9469"
EOF
# an empty pcap (global header only) for the wan port's RX
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$OUT/empty.pcap"
rm -f "$OUT/wan_out.pcap" "$OUT/stats.json"

podman run -d --name "$NAME" -v "$OUT:/data:Z" "$IMAGE" \
  --config /data/gw.yaml --run-for 8 --stats-json /data/stats.json >/dev/null ||
  fail "podman run failed"
ok=0
for _ in $(seq 1 40); do
  if podman exec "$NAME" tunnelgw-ctl info >"$OUT/ctl-info.txt" 2>&1; then ok=1; break; fi
  sleep 0.25
done
[ $ok = 1 ] || { podman logs "$NAME" | tail -20; fail "tunnelgw-ctl info inside the container: $(cat "$OUT/ctl-info.txt")"; }
grep -q '^tunnels: *1$' "$OUT/ctl-info.txt" || fail "ctl info: $(cat "$OUT/ctl-info.txt")"
podman exec "$NAME" tunnelgw-ctl tunnels --json >"$OUT/ctl-tunnels.json" 2>&1 || fail "ctl tunnels"
grep -q '"name": "hub"' "$OUT/ctl-tunnels.json" || fail "ctl tunnels: $(cat "$OUT/ctl-tunnels.json")"
rc=$(podman wait "$NAME")
podman logs "$NAME" >"$OUT/gateway.log" 2>&1
[ "$rc" = 0 ] || { tail -20 "$OUT/gateway.log"; fail "tunnelgw exited with $rc inside the container"; }
grep -q '"rx_packets":[1-9]' "$OUT/stats.json" || fail "no packets counted: $(cat "$OUT/stats.json")"
[ -s "$OUT/wan_out.pcap" ] || fail "the net_pcap port wrote nothing to the mounted directory"
echo "PASS: podman: image built, examples valid, gateway ran in the container (ctl and counters checked)"

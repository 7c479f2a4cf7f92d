#!/bin/sh
# Builds a local debian:bookworm image with debootstrap and imports it into podman, so that
# `FROM debian:bookworm` in docker/Dockerfile resolves on a host that cannot reach a container
# registry. Packages come from the mirror this host's apt already uses.
#
# usage: docker/make-base.sh [WORKDIR]     (root; needs debootstrap and podman; ~30 s)
# Skips the work when localhost/debian:bookworm already exists (FORCE=1 rebuilds it).
set -eu
W=${1:-/tmp/tunnelgw-base}
if [ "${FORCE:-0}" != 1 ] && podman image exists localhost/debian:bookworm; then
  echo "debian:bookworm already present"
  exit 0
fi
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ]; then
  MIRROR=$(awk '/^URIs:/{print $2; exit}' "$src")
  SECMIRROR=$(awk '/^URIs:/{u=$2} /^Suites:.*-security/{print u; exit}' "$src")
else  # one-line format
  MIRROR=$(awk '$1=="deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list)
  SECMIRROR=$(awk '$1=="deb" && $3 ~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
[ -n "${MIRROR:-}" ] || { echo "make-base: no Debian mirror found in $src or /etc/apt/sources.list" >&2; exit 1; }
R=$W/rootfs
rm -rf "$R"; mkdir -p "$W"
echo "make-base: debootstrap bookworm from $MIRROR (log: $W/debootstrap.log)"
debootstrap --variant=minbase bookworm "$R" "$MIRROR" >"$W/debootstrap.log" 2>&1 || {
  tail -20 "$W/debootstrap.log" >&2; exit 1; }
rm -f "$R/etc/apt/sources.list"
cat > "$R/etc/apt/sources.list.d/debian.sources" <<EOS
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${SECMIRROR:-$MIRROR}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
echo 'Acquire::Languages "none";' > "$R/etc/apt/apt.conf.d/no-languages"
# No service may start inside an image build.
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb "$R"/tmp/*
: > "$R/etc/resolv.conf"
tar -C "$R" --numeric-owner -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' - localhost/debian:bookworm >/dev/null
podman tag localhost/debian:bookworm docker.io/library/debian:bookworm
rm -rf "$R"
echo "make-base: debian:bookworm imported"

#!/bin/bash
# Build tunnelgw and run every test: `sudo tools/test.sh` (CI: `bash tools/test.sh` as root).
#
#   1. tools/install-deps.sh                        (root; skipped with --no-deps or when not root)
#   2. build/      release build (meson + ninja)
#      build-san/  clang, -Db_sanitize=address,undefined
#   3. meson test -C build      all suites: unit, scenario (pcap packets through the binary),
#                               e2e (netns + User-Mode Linux ip_gre; needs root, else skipped)
#      meson test -C build-san  unit and scenario suites
#   4. one closing line "N passed, N failed, N skipped"; exit status 1 on any failure.
#
# options: --no-deps  --no-san (skip the sanitizer build)  --suite S (only suite S; repeatable)
# env:     BUILD_DIR, SAN_BUILD_DIR (default build, build-san)
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD_DIR=${BUILD_DIR:-build}
SAN_BUILD_DIR=${SAN_BUILD_DIR:-build-san}
DEPS=1; SAN=1; SUITES=()
while [ $# -gt 0 ]; do
  case $1 in
    --no-deps) DEPS=0;;
    --no-san) SAN=0;;
    --suite) SUITES+=("$2"); shift;;
    -h|--help) sed -n '2,15p' "$0"; exit 0;;
    *) echo "unknown option $1"; exit 2;;
  esac
  shift
done

T0=$(date +%s)
step() { echo; echo "=== [$(( $(date +%s) - T0 ))s] $*"; }
BUILD_FAILS=0
RESULTS=()     # testlog.json files to count

if [ $DEPS = 1 ]; then
  step "dependencies"
  if [ "$(id -u)" = 0 ]; then
    tools/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }
  else
    echo "not root: not installing packages; the e2e tests will be skipped (use sudo)"
    tools/install-deps.sh --check || true
  fi
fi

# build DIR [meson setup options...]: configure once, then ninja; returns non-zero on failure
build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    rm -rf "$dir"
    meson setup "$dir" "$@" || return 1
  fi
  ninja -C "$dir" || return 1
}

# run_tests DIR SUITE...: meson test, keeping its JSON log for the closing count
run_tests() {
  local dir=$1; shift
  local args=(--print-errorlogs --no-rebuild --logbase "testlog-$(basename "$dir")")
  local s
  for s in "$@"; do args+=(--suite "$s"); done
  rm -f "$dir/meson-logs/testlog-$(basename "$dir").json"
  meson test -C "$dir" "${args[@]}"
  RESULTS+=("$dir/meson-logs/testlog-$(basename "$dir").json")
}

step "release build ($BUILD_DIR)"
if build "$BUILD_DIR" --buildtype=release; then
  step "tests: release build"
  run_tests "$BUILD_DIR" "${SUITES[@]}"
else
  echo "BUILD FAILED: $BUILD_DIR"; BUILD_FAILS=$((BUILD_FAILS + 1))
fi

if [ $SAN = 1 ]; then
  step "sanitizer build ($SAN_BUILD_DIR: clang, address + undefined)"
  if CC=clang CXX=clang++ build "$SAN_BUILD_DIR" --buildtype=debugoptimized \
       -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false; then
    san_suites=()
    if [ ${#SUITES[@]} -eq 0 ]; then san_suites=(unit scenario)
    else for s in "${SUITES[@]}"; do [ "$s" = e2e ] || san_suites+=("$s"); done; fi
    if [ ${#san_suites[@]} -gt 0 ]; then
      step "tests: sanitizer build (${san_suites[*]})"
      # UBSan: any report fails the test (meson adds halt_on_error for ASan and UBSan)
      run_tests "$SAN_BUILD_DIR" "${san_suites[@]}"
    fi
  else
    echo "BUILD FAILED: $SAN_BUILD_DIR"; BUILD_FAILS=$((BUILD_FAILS + 1))
  fi
fi

step "summary"
/usr/bin/python3 - "$(( $(date +%s) - T0 ))" "$BUILD_FAILS" "${RESULTS[@]}" <<'EOF'
import json, os, sys
seconds, build_fails = int(sys.argv[1]), int(sys.argv[2])
passed = failed = skipped = 0
for path in sys.argv[3:]:
    name = os.path.basename(os.path.dirname(os.path.dirname(path)))
    if not os.path.exists(path):
        print(f"{name}: no test log (meson test did not run)")
        failed += 1
        continue
    bad = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            res = r.get("result")
            if res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res == "SKIP":
                skipped += 1
            else:
                failed += 1
                bad.append(f"{r.get('name')} ({res})")
    for b in bad:
        print(f"{name}: FAILED {b}")
if build_fails:
    print(f"{build_fails} build(s) failed")
failed += build_fails
print(f"total time {seconds}s")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
EOF

#!/bin/sh
# Re-records the gallery's JMeter results: for each examples/walls/<case>
# with a plan.jmx, serve the case's emulator.yaml on a free loopback port,
# run the plan with Debian's JMeter 2.13 through the shared launcher, and
# keep its JTL as <case>/results.jtl.
#
#   examples/walls/record-jtl.sh [CASE...]
#
# Needs jmeter, jmeter-http and groovy (apt-get install -y
# --no-install-recommends jmeter jmeter-http groovy) and
# RUN_JMETER (default /work/shared/tools/jmeter/run-jmeter.sh, a launcher
# that lets 2.13 load plans: see its README).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
RUN_JMETER=${RUN_JMETER:-/work/shared/tools/jmeter/run-jmeter.sh}
tmp=$(mktemp -d)
emu=
cleanup() {
  [ -n "$emu" ] && kill "$emu" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
(cd "$root" && go build -o "$tmp/floodgate" ./cmd/floodgate)
if [ $# -eq 0 ]; then
  set -- $(cd "$here" && ls -d */ | tr -d / )
fi
for c in "$@"; do
  dir=$here/$c
  [ -f "$dir/plan.jmx" ] || continue
  "$tmp/floodgate" emulate --addr 127.0.0.1:0 --config "$dir/emulator.yaml" >"$tmp/emu.out" 2>"$tmp/emu.err" &
  emu=$!
  for _ in $(seq 50); do
    grep -q '^listening on' "$tmp/emu.out" && break
    sleep 0.1
  done
  port=$(sed -n 's#^listening on http://127.0.0.1:\([0-9]*\).*#\1#p' "$tmp/emu.out")
  [ -n "$port" ] || { echo "record-jtl: the emulator for $c did not start" >&2; cat "$tmp/emu.err" >&2; exit 1; }
  args=$(cat "$dir/jmeter.args" 2>/dev/null || true)
  # shellcheck disable=SC2086
  "$RUN_JMETER" "$dir/plan.jmx" "$tmp/$c" -Jport="$port" $args
  cp "$tmp/$c/plan.jtl" "$dir/results.jtl"
  kill "$emu"
  wait "$emu" 2>/dev/null || true
  emu=
  echo "record-jtl: $c → $dir/results.jtl ($(($(wc -l <"$dir/results.jtl") - 1)) samples)"
done

#!/usr/bin/env bash
# The README's first command: build floodgate, start the emulator on a free
# loopback port with minute-long limit windows scaled down 50×, run the
# bot-burst example against it, print the summary and where the results are.
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${FLOODGATE_DEMO_TIME_SCALE:-0.02}
mkdir -p bin
echo "==> building bin/floodgate"
go build -o bin/floodgate ./cmd/floodgate

log=$(mktemp -d)
bin/floodgate emulate --addr 127.0.0.1:0 --time-scale "$scale" >"$log/emulator.out" 2>"$log/emulator.err" &
emu=$!
trap 'kill "$emu" 2>/dev/null || true; wait "$emu" 2>/dev/null || true' EXIT

# Wait (bounded) for the emulator to say where it listens.
url=""
for _ in $(seq 100); do
	url=$(sed -n 's/^listening on //p' "$log/emulator.out" | head -n1)
	[ -n "$url" ] && break
	kill -0 "$emu" 2>/dev/null || { cat "$log/emulator.err" >&2; exit 1; }
	sleep 0.1
done
[ -n "$url" ] || { echo "emulator did not start; its log:" >&2; cat "$log/emulator.err" >&2; exit 1; }
echo "==> emulator at $url (time scale $scale: the 300 requests / 60 s limit plays out in $(awk "BEGIN{print 60*$scale}") s windows)"

echo "==> floodgate run examples/bot-burst.yaml --target $url"
status=0
bin/floodgate run examples/bot-burst.yaml --target "$url" --progress 2s "$@" || status=$?
exit "$status"

#!/usr/bin/env bash
# The README's first command: build floodgate, start the emulator on a free
# loopback port with minute-long limit windows scaled down 50×, and run the
# forum's bot burst against it twice: with retries off, to show the wall
# (examples/bot-burst-wall.yaml), then with floodgate's default retry
# policy and shared gate, to show the same load surviving it
# (examples/bot-burst.yaml). Each prints its summary and diagnosis and
# writes a results dir with an HTML report.
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

# Extra arguments go to both runs (e.g. --progress 5s).
echo
echo "==> 1/2 the wall: 5,000 messages from 100 bots, retries off"
echo "==> floodgate run examples/bot-burst-wall.yaml --target $url"
status=0
bin/floodgate run examples/bot-burst-wall.yaml --target "$url" --progress 2s "$@" || status=$?
[ "$status" -eq 0 ] || exit "$status"

echo
echo "==> 2/2 the same load surviving it: retries honour Retry-After behind a shared gate"
echo "==> floodgate run examples/bot-burst.yaml --target $url"
bin/floodgate run examples/bot-burst.yaml --target "$url" --progress 2s "$@" || status=$?
exit "$status"

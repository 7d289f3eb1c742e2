#!/usr/bin/env bash
# Re-create the report screenshots under docs/: a rate limit (make demo's
# wall, examples/bot-burst-wall.yaml), a concurrency cap (an open ramp into
# examples/emulator/cap-429.yaml's 10 in flight) and the bulk export storm
# (examples/bulk-export-storm.yaml), each run against its own emulator on a
# free loopback port, rendered by headless Chromium. About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

browser=""
for b in chromium chromium-browser google-chrome google-chrome-stable; do
	command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
[ -n "$browser" ] || { echo "headless Chromium not found: sudo apt-get install -y chromium" >&2; exit 1; }

mkdir -p bin
go build -o bin/floodgate ./cmd/floodgate
tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# emulate NAME ARGS...: start an emulator, set $url to its address.
emulate() {
	local name=$1
	shift
	bin/floodgate emulate --addr 127.0.0.1:0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	url=""
	for _ in $(seq 100); do
		url=$(sed -n 's/^listening on //p' "$tmp/$name.out" | head -n1)
		[ -n "$url" ] && return 0
		sleep 0.1
	done
	echo "emulator $name did not start:" >&2
	cat "$tmp/$name.err" >&2
	exit 1
}

# shot NAME PLAN: run PLAN against $url and screenshot its report.
shot() {
	local name=$1 plan=$2
	echo "==> $name: floodgate run $plan"
	# From the plan's own dir when it is not in the repo, so that the
	# report names it without a temporary path.
	local dir=.
	case $plan in "$tmp"/*) dir=$tmp plan=${plan#"$tmp"/} ;; esac
	(cd "$dir" && "$root/bin/floodgate" run "$plan" --target "$url" --out "$tmp/$name" --progress 5s --seed 1) >"$tmp/$name.log" 2>&1 || true
	grep '^diagnosis:' "$tmp/$name.log" || true
	"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$tmp/chromium-$name" \
		--window-size=1400,2400 --screenshot="docs/report-$name.png" "file://$tmp/$name/report.html" >/dev/null 2>&1
	echo "    docs/report-$name.png"
}

emulate rate --time-scale 0.02
shot rate-limit examples/bot-burst-wall.yaml

# The cap alone: the token limit raised out of its way.
cat examples/emulator/cap-429.yaml >"$tmp/cap.yaml"
printf '\nlimits:\n  token: {requests: 100000, window: 60s}\n' >>"$tmp/cap.yaml"
emulate cap --config "$tmp/cap.yaml"
cat >"$tmp/cap-ramp.yaml" <<'PLAN'
# Conversation creates arriving at 10/s rising to 120/s, retries off,
# into a cap of 10 in flight (each takes ~150 ms).
name: cap-ramp
target: http://127.0.0.1:8080
auth:
  oauth2:
    token_url: /oauth/token
    client_id: ${GC_CLIENT_ID:-floodgate-demo-client}
    client_secret: ${GC_CLIENT_SECRET:-floodgate-demo-secret}
retry: off
scenarios:
  ramp:
    executor:
      open: {start_rate: 10/s, stages: [{target: 120/s, duration: 20s}], max_vus: 200}
    steps:
      - name: create_conversation
        request:
          method: POST
          path: /api/v2/conversations/messages/agentless
          json: {fromAddress: "+13175550000", toAddress: "+13175551234", toAddressMessengerType: sms, textBody: hi}
          expect: [200]
PLAN
shot concurrency-cap "$tmp/cap-ramp.yaml"

emulate storm --time-scale 0.01
shot storm examples/bulk-export-storm.yaml

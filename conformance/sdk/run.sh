#!/usr/bin/env bash
# Runs the official Genesys Cloud JavaScript SDK against `floodgate emulate`:
# builds floodgate, starts three emulators on free loopback ports (emulator.yaml
# for sdk.test.js, emulator-jobs.yaml with short job timings for the
# recordings, analytics and notifications tests, emulator-catalog.yaml for
# the sampled catalogue test), installs the SDK with
# `npm ci` when node_modules is missing or older than package-lock.json, runs
# `node --test`, and always stops the emulators. Exits non-zero on any
# failure, including an unreachable npm registry.
#
#   bash conformance/sdk/run.sh                        # every test file
#   bash conformance/sdk/run.sh recordings.test.js     # some of them
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tests=("$@")
[ "${#tests[@]}" -gt 0 ] || tests=(sdk.test.js recordings.test.js analytics.test.js notifications.test.js catalog.test.js)

fail() {
	echo "conformance/sdk: $*" >&2
	exit 1
}

for tool in go node npm; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "node $(node -v) is too old: need >= 20"

tmp=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		# The emulator drains in-flight requests for up to 5 s.
		for _ in $(seq 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The SDK, pinned by package-lock.json. A stamp records which lock file
# node_modules was installed from; `npm ci` deletes node_modules first.
stamp="$here/node_modules/.floodgate-lock.sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	echo "conformance/sdk: npm ci"
	(cd "$here" && npm ci --no-audit --no-fund) || fail "npm ci failed (is the npm registry reachable?)"
	echo "$want" >"$stamp"
fi

# 2. The emulators, on ports the kernel picks.
echo "conformance/sdk: go build ./cmd/floodgate"
(cd "$root" && go build -o "$tmp/floodgate" ./cmd/floodgate) || fail "go build failed"

# start NAME CONFIG starts an emulator, logging to $tmp/NAME.{out,log}, and
# waits for its `listening on http://ADDR` line; the address is left in $url.
start() {
	local name=$1 config=$2 pid
	mkdir -p "$tmp/$name-export"
	# The files exist before the loop below reads them: the background
	# child opens its redirections only once it runs.
	: >"$tmp/$name.out"
	: >"$tmp/$name.log"
	"$tmp/floodgate" emulate --addr 127.0.0.1:0 --config "$config" --export-dir "$tmp/$name-export" \
		>"$tmp/$name.out" 2>"$tmp/$name.log" &
	pid=$!
	pids+=("$pid")
	url=
	for _ in $(seq 100); do # up to 10 s
		url=$(sed -n 's|^listening on \(http://.*\)$|\1|p' "$tmp/$name.out" || true)
		[ -n "$url" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		cat "$tmp/$name.out" "$tmp/$name.log" >&2
		fail "the $name emulator ($config) did not start"
	fi
	echo "conformance/sdk: $name emulator at $url"
}
start main "$here/emulator.yaml"
main_url=$url
start jobs "$here/emulator-jobs.yaml"
jobs_url=$url
start catalog "$here/emulator-catalog.yaml"
catalog_url=$url

# 3. The tests. HOME is empty so that no ~/.genesyscloudjavascript/config
# changes the SDK's settings; loopback never goes through a proxy.
mkdir "$tmp/home"
status=0
(
	cd "$here"
	export HOME="$tmp/home" FLOODGATE_URL="$main_url" FLOODGATE_JOBS_URL="$jobs_url" FLOODGATE_JOBS_EXPORT_DIR="$tmp/jobs-export" FLOODGATE_CATALOG_URL="$catalog_url"
	export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
	export GC_CLIENT_ID=floodgate-demo-client GC_CLIENT_SECRET=floodgate-demo-secret
	# The files run side by side (each in its own process): they mostly
	# wait out emulator delays, and use separate emulators or tokens.
	node --test --test-reporter=spec --test-concurrency="${#tests[@]}" "${tests[@]}"
) || status=$?
if [ "$status" -ne 0 ]; then
	for name in main jobs catalog; do
		echo "conformance/sdk: tests failed; $name emulator log:" >&2
		tail -n 30 "$tmp/$name.log" >&2
	done
fi
exit "$status"

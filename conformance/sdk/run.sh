#!/usr/bin/env bash
# Runs the official Genesys Cloud JavaScript SDK against `floodgate emulate`:
# builds floodgate, starts the emulator on a free loopback port with
# emulator.yaml, installs the SDK with `npm ci` when node_modules is missing
# or older than package-lock.json, runs `node --test`, and always stops the
# emulator. Exits non-zero on any failure, including an unreachable npm
# registry.
#
#   bash conformance/sdk/run.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

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
emu_pid=
cleanup() {
	if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
		kill -TERM "$emu_pid" 2>/dev/null || true
		# The emulator drains in-flight requests for up to 5 s.
		for _ in $(seq 60); do
			kill -0 "$emu_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$emu_pid" 2>/dev/null || true
		wait "$emu_pid" 2>/dev/null || true
	fi
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

# 2. The emulator, on a port the kernel picks.
echo "conformance/sdk: go build ./cmd/floodgate"
(cd "$root" && go build -o "$tmp/floodgate" ./cmd/floodgate) || fail "go build failed"
"$tmp/floodgate" emulate --addr 127.0.0.1:0 --config "$here/emulator.yaml" \
	>"$tmp/emulator.out" 2>"$tmp/emulator.log" &
emu_pid=$!

url=
for _ in $(seq 100); do # up to 10 s
	url=$(sed -n 's|^listening on \(http://.*\)$|\1|p' "$tmp/emulator.out")
	[ -n "$url" ] && break
	kill -0 "$emu_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$url" ]; then
	cat "$tmp/emulator.out" "$tmp/emulator.log" >&2
	fail "the emulator did not start"
fi
echo "conformance/sdk: emulator at $url"

# 3. The tests. HOME is empty so that no ~/.genesyscloudjavascript/config
# changes the SDK's settings; loopback never goes through a proxy.
mkdir "$tmp/home"
status=0
(
	cd "$here"
	export HOME="$tmp/home" FLOODGATE_URL="$url"
	export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
	export GC_CLIENT_ID=floodgate-demo-client GC_CLIENT_SECRET=floodgate-demo-secret
	node --test --test-reporter=spec sdk.test.js
) || status=$?
if [ "$status" -ne 0 ]; then
	echo "conformance/sdk: tests failed; emulator log:" >&2
	tail -n 50 "$tmp/emulator.log" >&2
fi
exit "$status"

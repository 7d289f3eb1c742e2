#!/usr/bin/env bash
# The whole test suite: vet, gofmt, the Go tests with the race detector
# (against a real Redis this script starts), and the conformance test
# against the official JavaScript SDK. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { # need CMD PACKAGE: install PACKAGE from Debian when CMD is missing
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "==> installing $2 (for $1)"
	if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
}

cleanup() {
	if [ -n "${redis_pid_file:-}" ] && [ -f "$redis_pid_file" ]; then
		kill "$(cat "$redis_pid_file")" 2>/dev/null || true
	fi
	[ -n "${tmp:-}" ] && rm -rf "$tmp"
}
trap cleanup EXIT
tmp=$(mktemp -d)

echo "==> go vet"
go vet ./...
echo "==> gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi

# A real Redis on a free loopback port for the shared-limit tests.
if [ -z "${FLOODGATE_REDIS_ADDR:-}" ]; then
	need redis-server redis-server
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis_pid_file="$tmp/redis.pid"
	redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
		--daemonize yes --pidfile "$redis_pid_file" --logfile "$tmp/redis.log"
	for _ in $(seq 50); do
		redis-cli -p "$port" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start:" >&2; cat "$tmp/redis.log" >&2; exit 1; }
	export FLOODGATE_REDIS_ADDR="127.0.0.1:$port"
	echo "==> redis-server on $FLOODGATE_REDIS_ADDR"
fi

# The HTML report's browser test needs Chromium; in CI it must run, not skip.
if [ "${CI:-}" = true ]; then
	need chromium chromium
fi

# The HTTP/1.1 conformance matrix (internal/h1) runs both transports
# against a real nginx, which the test starts on a free loopback port.
need nginx nginx

echo "==> go test -race"
go test -race -timeout 15m ./...
# The Kubernetes manifests' check is a module of its own (deploy/k8s), so
# that the main one does not require k8s.io for one test.
echo "==> go vet and go test: deploy/k8s"
(cd deploy/k8s && go vet ./... && go test -count=1 ./...)
# Measurements the race detector would distort (it enlarges stack frames):
# the memory a VU holds while it waits for a response.
echo "==> go test (without -race): VU stack size"
go test -count=1 -run '^TestVUStacksWhileWaiting$' ./internal/engine
# The HTTP/1.1 transport's raw system calls (recvfrom, sendto) are what
# the binary runs; with the race detector it uses syscall.Read and Write.
echo "==> go test (without -race): the HTTP/1.1 transport's system calls"
go test -count=1 ./internal/h1

if [ -f conformance/sdk/run.sh ]; then
	echo "==> SDK conformance"
	need node nodejs
	need npm npm
	bash conformance/sdk/run.sh
fi

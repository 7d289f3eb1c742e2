#!/usr/bin/env bash
# The whole test suite: vet, the Go tests with the race detector, and the
# conformance test against the official JavaScript SDK. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> go vet"
go vet ./...
echo "==> gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi
echo "==> go test -race"
go test -race -timeout 10m ./...
if [ -f conformance/sdk/run.sh ]; then
	echo "==> SDK conformance"
	bash conformance/sdk/run.sh
fi

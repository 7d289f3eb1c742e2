# floodgate — the README's two commands are `make demo` and `make test`.
GO ?= go

.PHONY: demo test check build vet bench clean

## demo: build floodgate, start the emulator, run examples/bot-burst.yaml against it
demo:
	./scripts/demo.sh

## test: the whole test suite, as CI runs it
test:
	./scripts/test.sh

## check: the inner loop, fast and hermetic: vet, gofmt and the short
## tests, without the race detector, offline (no apt, npm or module
## downloads: GOPROXY=off). Tests whose tools are missing skip; `make test`
## is what CI runs.
check:
	GOPROXY=off GOFLAGS=-mod=readonly $(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi
	GOPROXY=off GOFLAGS=-mod=readonly $(GO) test -short -count=1 ./...

## build: build bin/floodgate
build:
	$(GO) build -o bin/floodgate ./cmd/floodgate

vet:
	$(GO) vet ./...

## bench: compare floodgate with wrk and hey against nginx on loopback (see bench/README.md)
bench:
	./bench/run.sh

clean:
	rm -rf bin results

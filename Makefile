# floodgate — the README's two commands are `make demo` and `make test`.
GO ?= go

.PHONY: demo test build vet bench clean

## demo: build floodgate, start the emulator, run examples/bot-burst.yaml against it
demo:
	./scripts/demo.sh

## test: the whole test suite, as CI runs it
test:
	./scripts/test.sh

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

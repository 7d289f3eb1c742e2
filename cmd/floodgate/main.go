// Command floodgate load-tests integrations with rate-limited APIs and
// emulates the Genesys Cloud Platform API offline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/floodgate-dev/floodgate/internal/cli"
	"golang.org/x/term"
)

func main() {
	atLeastTwoProcs()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	env := &cli.Env{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.LookupEnv,
		IsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		Interrupts: sig,
	}
	err := cli.Main(context.Background(), env, os.Args[1:])
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "floodgate:", err)
	}
	os.Exit(cli.ExitCode(err))
}

// atLeastTwoProcs runs Go code on two threads even where Go would use one
// (a single CPU, or a process pinned to one core), unless GOMAXPROCS says
// otherwise. With one, Go looks for network readiness only when it has
// nothing else to run, or every 10 ms: a generator that falls behind
// (after a GC or a stall of its core) has goroutines to run all the
// time, so responses wait milliseconds to be read, which needs more
// connections, and it falls further behind. With two, the idle one waits
// on the network and hands responses over at once. On one core the two
// take turns; measured against nginx, a closed 50-VU load runs as fast,
// and an open 20,000/s load that dropped arrivals in 5 runs of 6 held
// its rate in 6 of 6 (bench/README.md).
func atLeastTwoProcs() {
	if _, set := os.LookupEnv("GOMAXPROCS"); !set && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
}

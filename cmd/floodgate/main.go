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
	"syscall"

	"github.com/floodgate-dev/floodgate/internal/cli"
	"golang.org/x/term"
)

func main() {
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

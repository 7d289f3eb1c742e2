package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/plan"
	"github.com/floodgate-dev/floodgate/internal/probe"
)

func init() {
	register("probe", "discover an endpoint's rate limit (count, window, key, Retry-After) within a request budget", runProbe)
}

const probeUsage = `Usage: floodgate probe URL [flags]

Sends a bounded, escalating sequence of requests to URL — and nowhere else
but its token URL — to discover its rate limit: the count per window, the
window (from rate-limit headers where present, else timed), whether the
quota comes back at once or gradually, what it is kept per (token, client
or shared: give a second credential set to tell) and how Retry-After
behaves. It never sends more than --max-requests requests nor runs longer
than --max-time, whether or not the server ever limits.

Credentials come from the environment only:
  OAuth2 client credentials: --token-url URL (absolute, or a path on URL's
    host) with the client id and secret in $GC_CLIENT_ID and
    $GC_CLIENT_SECRET (or the variables --client-id-env/--client-secret-env name)
  static bearer token: --bearer-env NAME
  a second set: --second-client-id-env/--second-client-secret-env (same
    token URL) or --second-bearer-env

Example, against the emulator:
  floodgate probe http://127.0.0.1:8080/api/v2/tokens/me --token-url /oauth/token -o probe.json`

type headerFlags []client.HeaderField

func (h *headerFlags) String() string { return fmt.Sprint(*h) }

func (h *headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want 'Name: value', got %q", v)
	}
	*h = append(*h, client.HeaderField{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	return nil
}

func runProbe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "probe", probeUsage)
	method := fs.String("method", "GET", "HTTP `method`")
	var headers headerFlags
	fs.Var(&headers, "header", "request header `'Name: value'` (repeatable)")
	body := fs.String("body", "", "request `body` (send Content-Type with --header)")
	tokenURL := fs.String("token-url", "", "OAuth2 client-credentials token `URL`")
	idEnv := fs.String("client-id-env", "GC_CLIENT_ID", "environment `variable` holding the client id")
	secretEnv := fs.String("client-secret-env", "GC_CLIENT_SECRET", "environment `variable` holding the client secret")
	bearerEnv := fs.String("bearer-env", "", "environment `variable` holding a static bearer token")
	id2Env := fs.String("second-client-id-env", "", "environment `variable` holding a second client id")
	secret2Env := fs.String("second-client-secret-env", "", "environment `variable` holding the second client's secret")
	bearer2Env := fs.String("second-bearer-env", "", "environment `variable` holding a second bearer token")
	maxReq := fs.Int("max-requests", probe.DefaultMaxRequests, "never send more than `N` requests")
	maxTime := fs.Duration("max-time", probe.DefaultMaxTime, "stop after this `duration`")
	conc := fs.Int("concurrency", probe.DefaultConcurrency, "at most `N` requests in flight")
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "per-request `timeout`")
	out := fs.String("o", "", "write the result as JSON to `FILE`")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return withCode(ExitUsage, errors.New("probe: want exactly one URL"))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	getenv := func(flagName, name string) (string, error) {
		v, ok := env.Getenv(name)
		if !ok || v == "" {
			return "", withCode(ExitUsage, fmt.Errorf("probe: --%s: environment variable %s is not set", flagName, name))
		}
		return v, nil
	}
	cfg := probe.Config{URL: pos[0], Method: *method, Header: headers, MaxRequests: *maxReq, MaxTime: *maxTime,
		Concurrency: *conc, Timeout: *timeout}
	if *body != "" {
		cfg.Body = []byte(*body)
	}
	if *maxReq <= 0 || *maxTime <= 0 || *conc <= 0 {
		return withCode(ExitUsage, errors.New("probe: --max-requests, --max-time and --concurrency must be > 0"))
	}
	switch {
	case *bearerEnv != "":
		tok, err := getenv("bearer-env", *bearerEnv)
		if err != nil {
			return err
		}
		cfg.Auth = &plan.Auth{Bearer: &plan.Bearer{Token: plan.NewSecret(tok)}}
	case *tokenURL != "":
		id, err := getenv("client-id-env", *idEnv)
		if err != nil {
			return err
		}
		secret, err := getenv("client-secret-env", *secretEnv)
		if err != nil {
			return err
		}
		cfg.Auth = &plan.Auth{OAuth2: &plan.OAuth2{TokenURL: *tokenURL, ClientID: id, ClientSecret: plan.NewSecret(secret)}}
	case set["client-id-env"] || set["client-secret-env"]:
		return withCode(ExitUsage, errors.New("probe: --client-id-env/--client-secret-env need --token-url"))
	}
	switch {
	case *bearer2Env != "":
		tok, err := getenv("second-bearer-env", *bearer2Env)
		if err != nil {
			return err
		}
		cfg.Second = &plan.Auth{Bearer: &plan.Bearer{Token: plan.NewSecret(tok)}}
	case *id2Env != "":
		if *tokenURL == "" || *secret2Env == "" {
			return withCode(ExitUsage, errors.New("probe: --second-client-id-env needs --token-url and --second-client-secret-env"))
		}
		id, err := getenv("second-client-id-env", *id2Env)
		if err != nil {
			return err
		}
		secret, err := getenv("second-client-secret-env", *secret2Env)
		if err != nil {
			return err
		}
		cfg.Second = &plan.Auth{OAuth2: &plan.OAuth2{TokenURL: *tokenURL, ClientID: id, ClientSecret: plan.NewSecret(secret)}}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-env.Interrupts:
			fmt.Fprintln(env.Stderr, "\ninterrupt: stopping the probe")
			cancel()
		case <-ctx.Done():
		}
	}()
	res, err := probe.Run(ctx, cfg, probe.WithLog(func(format string, args ...any) {
		fmt.Fprintf(env.Stderr, "probe: "+format+"\n", args...)
	}))
	if err != nil {
		if errors.Is(err, probe.ErrConfig) {
			return withCode(ExitUsage, err)
		}
		return err
	}
	probe.WriteText(env.Stdout, res)
	if *out != "" {
		j, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		if err := os.WriteFile(*out, append(j, '\n'), 0o644); err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		fmt.Fprintf(env.Stdout, "result: %s\n", *out)
	}
	return nil
}

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/emulator/ratelimit"
	"github.com/redis/go-redis/v9"
)

func init() {
	register("emulate", "serve the Genesys Cloud API emulator on localhost", runEmulate)
}

const emulateUsage = `
Usage: floodgate emulate [--addr 127.0.0.1:8080] [--config FILE] [--time-scale F] [--seed N] [--export-dir DIR]

Serves the Genesys Cloud Platform API emulator until interrupted. Without
--config it serves the built-in genesys-cloud profile: one org and the demo
OAuth client floodgate-demo-client / floodgate-demo-secret (export them as
GC_CLIENT_ID / GC_CLIENT_SECRET for the example plans). EXPORT recording
jobs write to --export-dir (default: the config's export_dir, else a new
temporary directory, printed at start).
Once it listens it prints "listening on http://ADDR" on stdout.`

func runEmulate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "emulate", emulateUsage)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on (port 0 picks a free one)")
	cfgPath := fs.String("config", "", "emulator config `file` (YAML); default: the built-in genesys-cloud profile")
	scale := fs.Float64("time-scale", 0, "multiply every timing (windows, Retry-After, token lifetime, latency, job timing, lags, heartbeats) by `F` (e.g. 0.01); overrides the config")
	seed := fs.Int64("seed", 0, "seed of the fault injector's random source (0 means the default, 1); overrides the config")
	exportDir := fs.String("export-dir", "", "`directory` EXPORT recording jobs write to; overrides the config's export_dir (default: a new temporary directory)")
	redisAddr := fs.String("redis-addr", "", "share rate-limit windows and concurrency caps with other replicas through Redis at `host:port` (comma-separated for a Redis Cluster)")
	redisPrefix := fs.String("redis-prefix", "floodgate", "prefix of the emulator's Redis keys")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return withCode(ExitUsage, fmt.Errorf("emulate: unexpected argument %q", pos[0]))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return withCode(ExitUsage, fmt.Errorf("emulate: --log-level: %w", err))
	}
	hopts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(env.Stderr, hopts))
	case "json":
		logger = slog.New(slog.NewJSONHandler(env.Stderr, hopts))
	default:
		return withCode(ExitUsage, fmt.Errorf("emulate: --log-format %q: want text or json", *logFormat))
	}

	cfg := emulator.DefaultConfig()
	if *cfgPath != "" {
		if cfg, err = emulator.LoadConfig(*cfgPath); err != nil {
			return withCode(ExitUsage, err)
		}
	}
	if set["time-scale"] {
		if !(*scale > 0) {
			return withCode(ExitUsage, fmt.Errorf("emulate: --time-scale must be > 0, got %v", *scale))
		}
		cfg.TimeScale = *scale
	}
	if set["seed"] {
		cfg.Seed = *seed
	}
	if set["export-dir"] {
		if *exportDir == "" {
			return withCode(ExitUsage, errors.New("emulate: --export-dir must not be empty"))
		}
		cfg.ExportDir = *exportDir
	}
	if cfg.ExportDir == "" {
		dir, err := os.MkdirTemp("", "floodgate-export-")
		if err != nil {
			return fmt.Errorf("emulate: export dir: %w", err)
		}
		cfg.ExportDir = dir
	}
	eopts := []emulator.Option{emulator.WithLogger(logger)}
	if *redisAddr != "" {
		rc := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: strings.Split(*redisAddr, ",")})
		defer rc.Close()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := rc.Ping(pctx).Err()
		cancel()
		if err != nil {
			return fmt.Errorf("emulate: redis at %s: %w", *redisAddr, err)
		}
		rl := ratelimit.NewRedis(rc, *redisPrefix)
		// A slot outlives a replica that died holding it by at most a
		// minute (scaled like every other timing).
		lease := time.Duration(float64(time.Minute) * cfg.TimeScale)
		eopts = append(eopts, emulator.WithLimiter(rl), emulator.WithSlots(rl, max(lease, time.Second)))
		logger.Info("sharing limits through redis", "addr", *redisAddr, "prefix", *redisPrefix)
	}
	srv, err := emulator.New(cfg, eopts...)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("emulate: %w", err)
	}

	fmt.Fprintf(env.Stdout, "profile %s, time scale %g, seed %d\n", cfg.Profile, cfg.TimeScale, cfg.Seed)
	for _, o := range cfg.Orgs {
		for _, c := range o.Clients {
			if c.ID == emulator.DemoClientID && c.Secret == emulator.DemoClientSecret {
				fmt.Fprintf(env.Stdout, "demo client: GC_CLIENT_ID=%s GC_CLIENT_SECRET=%s (org %s)\n", c.ID, c.Secret, o.ID)
			} else {
				// Configured secrets are never printed.
				fmt.Fprintf(env.Stdout, "client: %s (org %s, permissions %s)\n", c.ID, o.ID, strings.Join(c.Permissions, ","))
			}
		}
	}
	fmt.Fprintf(env.Stdout, "recording exports: %s\n", cfg.ExportDir)
	fmt.Fprintf(env.Stdout, "listening on http://%s\n", ln.Addr())
	logger.Info("emulator started", "addr", ln.Addr().String(), "config", cfg.File(), "time_scale", cfg.TimeScale)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-env.Interrupts:
			logger.Info("interrupted; shutting down")
			cancel()
		case <-ctx.Done():
		}
	}()
	// An interrupt is the normal way to stop a server: exit 0.
	return srv.Serve(ctx, ln)
}

// Package emulator holds the Genesys Cloud Platform API emulator's server:
// it wires the resource packages (auth, conversations, recordings,
// analytics, notifications, and catalog for every other route of the
// platform API) behind one request pipeline that adds
// correlation ids, bearer authentication, rate limits, permission checks,
// body limits, concurrency caps, faults and metrics, and serves the
// notification WebSocket, an admin API under /_floodgate/ and Prometheus
// metrics on /metrics (client_golang, one registry per server). Resources
// publish notification events on an in-process bus (package events);
// while Serve runs, a background loop advances recording jobs and expires
// notification channels.
//
// Start one on a random port (engine tests do this):
//
//	srv, err := emulator.New(emulator.DefaultConfig())
//	url, err := srv.Start(ctx, "127.0.0.1:0") // serves until ctx is done
//
// The built-in profile has one org and the demo client DemoClientID /
// DemoClientSecret with every permission. Config comes from package config
// (LoadConfig for a YAML file); Options inject a clock, a logger, a
// limiter backend, a sleep hook for injected latency, a conversation
// store and an export sink. Every choice made where the platform is
// undocumented is listed in README.md beside this file.
package emulator

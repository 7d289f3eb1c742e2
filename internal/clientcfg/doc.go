// Package clientcfg turns a plan's retry and auth settings into the
// client's own configuration (client.Policy, client.AuthConfig), so that
// package client knows nothing of plans. The engine, probe and lint all
// read a plan's settings through it, and so agree on what they mean.
package clientcfg

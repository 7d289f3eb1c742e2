// Package config holds the emulator's configuration: its types, the
// built-in genesys-cloud profile (Default), a strict YAML loader that
// reports every problem with file:line:col and a suggested fix, and the
// validation shared by the YAML file and the admin API's live JSON config.
//
// Durations are written like Go durations ("60s", "250ms"). Every duration
// and window in a Config is in platform time: the server multiplies them by
// TimeScale when it applies them.
package config

// Package catalog holds the catalogue of the platform API's operations and
// models, generated from the official JavaScript SDK (see gen/) and embedded,
// and the generic resource that answers every catalogued route: a bounded
// in-memory entity store per collection, deterministic synthetic bodies for
// entities nobody created, request-body type checks against the models, and
// the platform's paging envelope on list routes.
package catalog

//go:generate go run ./gen -sdk ../../../conformance/sdk/node_modules/purecloud-platform-client-v2 -out catalog.json.gz

package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/emulator/catalog"
)

// BuiltinFamilies are the default endpoint families of the server's routes;
// limits, caps and faults may name them without declaring them.
var BuiltinFamilies = []string{"oauth", "tokens", "conversations", "recordings", "analytics", "notifications", "unknown"}

// Per values of FamilyRate.
var perValues = []string{"token", "client", "org"}

// Dist values of Latency.
var distValues = []string{"fixed", "uniform", "lognormal"}

type validator struct {
	file string
	pos  map[string]Pos
	errs []error
}

func (v *validator) bad(field, msg, fix string) {
	v.errs = append(v.errs, &Problem{File: v.file, Pos: v.lookup(field), Field: field, Msg: msg, Fix: fix})
}

// lookup finds field's position, or its nearest parent's.
func (v *validator) lookup(field string) Pos {
	for f := field; f != ""; {
		if p, ok := v.pos[f]; ok {
			return p
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return Pos{}
}

func (c *Config) problem(field, msg, fix string) error {
	v := validator{file: c.file, pos: c.pos}
	v.bad(field, msg, fix)
	return v.errs[0]
}

// Pos returns the position of field (e.g. "limits.token.requests") in the
// file the config came from, or the zero Pos.
func (c *Config) Pos(field string) Pos {
	v := validator{pos: c.pos}
	return v.lookup(field)
}

// Validate checks c and returns every problem joined, each with its
// position when c came from a file.
func (c *Config) Validate() error {
	v := &validator{file: c.file, pos: c.pos}
	if c.Profile != DefaultProfile {
		v.bad("profile", fmt.Sprintf("unknown profile %q", c.Profile), `use "genesys-cloud" or remove the key`)
	}
	if !(c.TimeScale > 0) || math.IsInf(c.TimeScale, 0) {
		v.bad("time_scale", fmt.Sprintf("time_scale must be > 0, got %v", c.TimeScale), "use 1 for real time or e.g. 0.01 for 100x faster")
	}
	if c.RequestBytesMax <= 0 {
		v.bad("request_bytes_max", "must be > 0", "the platform's value is 512000")
	}
	if c.Tokens.Max <= 0 {
		v.bad("tokens.max", "must be > 0", "e.g. 100000")
	}
	if c.Conversations.Max <= 0 {
		v.bad("conversations.max", "must be > 0", "e.g. 100000")
	}
	if c.Conversations.ActiveFor <= 0 {
		v.bad("conversations.active_for", "must be > 0", `e.g. "10m"`)
	}
	if c.Conversations.MessageWindow < 0 {
		v.bad("conversations.message_window", "must be >= 0", `e.g. "24h"`)
	}
	if c.Catalog.MaxEntities <= 0 {
		v.bad("catalog.max_entities", "must be > 0", "e.g. 100000")
	}
	c.validateSeed(v)
	c.validateResources(v)
	orgIDs, clientIDs := map[string]bool{}, map[string]bool{}
	for i, o := range c.Orgs {
		f := fmt.Sprintf("orgs[%d]", i)
		if o.ID == "" {
			v.bad(f+".id", "org id is required", "give the org a unique id, e.g. a UUID")
		} else if orgIDs[o.ID] {
			v.bad(f+".id", fmt.Sprintf("duplicate org id %q", o.ID), "give each org a unique id")
		}
		orgIDs[o.ID] = true
		if len(o.Clients) == 0 {
			v.bad(f+".clients", "org has no OAuth clients", "add at least one client with id, secret and permissions")
		}
		for j, cl := range o.Clients {
			cf := fmt.Sprintf("%s.clients[%d]", f, j)
			if cl.ID == "" {
				v.bad(cf+".id", "client id is required", "give the client a unique id")
			} else if clientIDs[cl.ID] {
				v.bad(cf+".id", fmt.Sprintf("duplicate client id %q", cl.ID), "client ids are unique across orgs")
			}
			clientIDs[cl.ID] = true
			if cl.Secret == "" {
				v.bad(cf+".secret", "client secret is required", "set secret, or secret_file to read it from a file")
			}
			for k, p := range cl.Permissions {
				if err := checkPermission(p); err != "" {
					v.bad(fmt.Sprintf("%s.permissions[%d]", cf, k), fmt.Sprintf("%q: %s", p, err), `write domain:entity:action, each part a name or "*", e.g. "conversation:*:*"`)
				}
			}
			if cl.TokenLifetime <= 0 || cl.TokenLifetime > MaxTokenLifetime {
				v.bad(cf+".token_lifetime", fmt.Sprintf("token_lifetime %s is outside (0, 48h]", cl.TokenLifetime),
					`the platform allows 5m to 48h, default 24h; to shorten every timing at once use time_scale`)
			}
		}
	}
	c.Live.validate(v)
	return errors.Join(v.errs...)
}

func (c *Config) validateResources(v *validator) {
	positive := func(field string, n int, fix string) {
		if n <= 0 {
			v.bad(field, fmt.Sprintf("must be > 0, got %d", n), fix)
		}
	}
	positiveDur := func(field string, d Duration, fix string) {
		if d <= 0 {
			v.bad(field, fmt.Sprintf("must be > 0, got %s", d), fix)
		}
	}
	prob := func(field string, p float64) {
		if !(p >= 0 && p <= 1) {
			v.bad(field, fmt.Sprintf("probability %v is outside [0, 1]", p), "e.g. 0.01 for 1%")
		}
	}
	r := c.Recordings
	positive("recordings.max_jobs", r.MaxJobs, "e.g. 1000")
	positive("recordings.active_jobs_per_org", r.ActiveJobsPerOrg, "the platform's value is 2")
	if s := r.ActiveJobsAnswer.Status; s < 400 || s > 599 {
		v.bad("recordings.active_jobs_answer.status", fmt.Sprintf("status %d is not an error status", s), "use 429 (too.many.requests) or 400 (bad.request)")
	}
	positiveDur("recordings.ready_after", r.ReadyAfter, `e.g. "30s"`)
	positiveDur("recordings.export_time", r.ExportTime, `e.g. "500ms"`)
	prob("recordings.failure_probability", r.FailureProbability)
	if r.MatchLag < 0 {
		v.bad("recordings.match_lag", "must be >= 0", `e.g. "0s"; the platform says up to "48h"`)
	}
	a := c.Analytics
	if a.IngestionLag < 0 {
		v.bad("analytics.ingestion_lag", "must be >= 0", `e.g. "5s"`)
	}
	if a.JobDataLag < 0 {
		v.bad("analytics.job_data_lag", "must be >= 0", `e.g. "1h"; the platform says up to "24h"`)
	}
	positive("analytics.max_jobs", a.MaxJobs, "e.g. 1000")
	positiveDur("analytics.job_queued_for", a.JobQueuedFor, `e.g. "1s"`)
	positiveDur("analytics.job_runs_for", a.JobRunsFor, `e.g. "5s"`)
	positiveDur("analytics.job_results_ttl", a.JobResultsTTL, `e.g. "24h"`)
	prob("analytics.job_failure_probability", a.JobFailureProbability)
	n := c.Notifications
	positive("notifications.channels_per_client", n.ChannelsPerClient, "the platform's value is 20")
	positive("notifications.topics_per_channel", n.TopicsPerChannel, "the platform's value is 1000")
	positiveDur("notifications.channel_lifetime", n.ChannelLifetime, `the platform's value is "24h"`)
	positiveDur("notifications.heartbeat_interval", n.HeartbeatInterval, `the platform's value is about "30s"`)
	positive("notifications.queue_size", n.QueueSize, "e.g. 1000")
}

// Validate checks a live configuration (as received by the admin API).
// Problems name fields but carry no positions.
func (l *Live) Validate() error {
	v := &validator{}
	l.validate(v)
	return errors.Join(v.errs...)
}

// ApplyDefaults fills unset fields of l as Load does.
func (l *Live) ApplyDefaults() { l.applyDefaults() }

func (l *Live) validate(v *validator) {
	fams := map[string]bool{}
	for _, f := range BuiltinFamilies {
		fams[f] = true
	}
	for _, f := range catalogFamilies() {
		fams[f] = true
	}
	declared := map[string]bool{}
	for i, f := range l.Families {
		ff := fmt.Sprintf("families[%d]", i)
		if f.Name == "" {
			v.bad(ff+".name", "family name is required", "name the family, e.g. conversations-messages")
		} else if declared[f.Name] {
			v.bad(ff+".name", fmt.Sprintf("duplicate family %q", f.Name), "give each family a unique name")
		}
		declared[f.Name], fams[f.Name] = true, true
		if len(f.Paths) == 0 {
			v.bad(ff+".paths", "family has no paths", `list route patterns such as "/api/v2/conversations/messages/*" or "POST /api/v2/conversations/calls"`)
		}
		for j, p := range f.Paths {
			if _, _, err := ParsePathPattern(p); err != nil {
				v.bad(fmt.Sprintf("%s.paths[%d]", ff, j), err.Error(), `write "[METHOD ]/path", with {name} for any segment and a trailing * for any rest`)
			}
		}
	}
	famFix := "declare it under families or use one of: " + strings.Join(BuiltinFamilies, ", ") +
		"; catalogued routes' families are their path's first segment after /api/v2 (users, routing, …)"
	checkRate := func(f string, r *Rate) {
		if r == nil {
			return
		}
		if r.Requests <= 0 {
			v.bad(f+".requests", fmt.Sprintf("requests must be > 0, got %d", r.Requests), "the platform's per-token value is 300")
		}
		if r.Window <= 0 {
			v.bad(f+".window", "window must be > 0", `e.g. "60s"`)
		}
	}
	if l.Limits.Token == nil {
		v.bad("limits.token", "the per-token limit is required", "requests: 300, window: 60s")
	}
	checkRate("limits.token", l.Limits.Token)
	checkRate("limits.client", l.Limits.Client)
	checkRate("limits.org", l.Limits.Org)
	for i, fr := range l.Limits.Families {
		f := fmt.Sprintf("limits.families[%d]", i)
		if !fams[fr.Family] {
			v.bad(f+".family", fmt.Sprintf("unknown family %q", fr.Family), famFix)
		}
		if !contains(perValues, fr.Per) {
			v.bad(f+".per", fmt.Sprintf("unknown per %q", fr.Per), "use token, client or org")
		}
		checkRate(f, &Rate{Requests: fr.Requests, Window: fr.Window})
	}
	capped := map[string]bool{}
	for i, cp := range l.Caps {
		f := fmt.Sprintf("caps[%d]", i)
		if !fams[cp.Family] {
			v.bad(f+".family", fmt.Sprintf("unknown family %q", cp.Family), famFix)
		} else if capped[cp.Family] {
			v.bad(f+".family", fmt.Sprintf("family %q already has a cap", cp.Family), "keep one cap per family")
		}
		capped[cp.Family] = true
		if cp.MaxInFlight <= 0 {
			v.bad(f+".max_in_flight", "must be > 0", "the number of requests allowed in flight at once")
		}
		if cp.Status < 400 || cp.Status > 599 {
			v.bad(f+".status", fmt.Sprintf("status %d is not an error status", cp.Status), "use 429 (too.many.requests) or 403 (not.authorized), or any 4xx/5xx")
		}
		if cp.RetryAfter < 0 {
			v.bad(f+".retry_after", "must be >= 0", `e.g. "1s"`)
		}
	}
	validateRules(v, l, fams, famFix)
	for i, ft := range l.Faults {
		f := fmt.Sprintf("faults[%d]", i)
		switch {
		case (ft.Family == "") == (ft.Route == ""):
			v.bad(f, "set exactly one of family and route", `e.g. family: conversations, or route: "GET /api/v2/conversations/{conversationId}"`)
		case ft.Family != "" && !fams[ft.Family]:
			v.bad(f+".family", fmt.Sprintf("unknown family %q", ft.Family), famFix)
		case ft.Route != "":
			m, p, err := ParsePathPattern(ft.Route)
			if err != nil || m == "" || strings.Contains(p, "*") {
				v.bad(f+".route", fmt.Sprintf("%q is not a route", ft.Route), `write "METHOD /path" as served, e.g. "GET /api/v2/conversations/{conversationId}"`)
			}
		}
		if ft.Latency == nil && len(ft.Errors) == 0 && ft.Saturation == nil {
			v.bad(f, "fault does nothing", "add latency, errors or saturation")
		}
		if lt := ft.Latency; lt != nil {
			validateLatency(v, f+".latency", lt)
		}
		sum := 0.0
		for j, e := range ft.Errors {
			ef := fmt.Sprintf("%s.errors[%d]", f, j)
			if e.Status < 400 || e.Status > 599 {
				v.bad(ef+".status", fmt.Sprintf("status %d is not an error status", e.Status), "use a 4xx or 5xx status, e.g. 503")
			}
			if !(e.Probability >= 0 && e.Probability <= 1) {
				v.bad(ef+".probability", fmt.Sprintf("probability %v is outside [0, 1]", e.Probability), "e.g. 0.05 for 5%")
			}
			sum += e.Probability
		}
		if sum > 1+1e-9 {
			v.bad(f+".errors", fmt.Sprintf("probabilities add up to %.4g > 1", sum), "lower them so they sum to at most 1")
		}
		if s := ft.Saturation; s != nil {
			if s.Knee < 0 {
				v.bad(f+".saturation.knee", "must be >= 0", "the in-flight count above which latency grows")
			}
			if s.PerRequest < 0 {
				v.bad(f+".saturation.per_request", "must be >= 0", `e.g. "5ms"`)
			}
			if s.HardLimit < 0 || (s.HardLimit > 0 && s.HardLimit <= s.Knee) {
				v.bad(f+".saturation.hard_limit", "must be 0 (none) or above knee", "e.g. knee: 20, hard_limit: 100")
			}
		}
	}
}

// catalogFamilies are the families of the catalogued routes (see
// catalog.Family), accepted like the built-in ones.
func catalogFamilies() []string {
	c, err := catalog.Default()
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, op := range c.Ops {
		if f := catalog.Family(op.Path); !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func validateRules(v *validator, l *Live, fams map[string]bool, famFix string) {
	unknown := func(f, val string) {
		if val != "" && val != UnknownSynthesize && val != UnknownNotFound {
			v.bad(f, fmt.Sprintf("unknown value %q", val), "use synthesize or not_found")
		}
	}
	unknown("unknown_entities", l.UnknownEntities)
	for i, r := range l.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		switch {
		case (r.Family == "") == (r.Route == ""):
			v.bad(f, "set exactly one of family and route", `e.g. family: users, or route: "GET /api/v2/users/{userId}"`)
		case r.Family != "" && !fams[r.Family]:
			v.bad(f+".family", fmt.Sprintf("unknown family %q", r.Family), famFix)
		case r.Route != "":
			m, p, err := ParsePathPattern(r.Route)
			if err != nil || m == "" || strings.Contains(p, "*") {
				v.bad(f+".route", fmt.Sprintf("%q is not a route", r.Route), `write "METHOD /path" as served, e.g. "GET /api/v2/users/{userId}"`)
			}
		}
		unknown(f+".unknown_entities", r.UnknownEntities)
		if r.Status == 0 && r.UnknownEntities == "" {
			v.bad(f, "rule does nothing", "set status (and body) for a canned answer, or unknown_entities")
		}
		if r.Status != 0 && (r.Status < 200 || r.Status > 599) {
			v.bad(f+".status", fmt.Sprintf("status %d is not an HTTP status", r.Status), "e.g. 200, 404 or 503")
		}
		if r.Body != "" {
			if r.Status == 0 {
				v.bad(f+".body", "body without status", "set status too")
			}
			if !json.Valid([]byte(r.Body)) {
				v.bad(f+".body", "body is not JSON", `write it as a JSON string, e.g. body: '{"id": "x"}'`)
			}
		}
	}
}

func validateLatency(v *validator, f string, lt *Latency) {
	switch lt.Dist {
	case "fixed":
		if lt.Value <= 0 {
			v.bad(f+".value", "fixed latency needs value > 0", `e.g. value: "100ms"`)
		}
	case "uniform":
		if lt.Min < 0 || lt.Max <= lt.Min {
			v.bad(f+".max", "uniform latency needs 0 <= min < max", `e.g. min: "10ms", max: "50ms"`)
		}
	case "lognormal":
		byQuantiles := lt.Median > 0 || lt.P99 > 0
		byParams := lt.Mu != nil || lt.Sigma != nil
		switch {
		case byQuantiles && byParams:
			v.bad(f, "give either median and p99, or mu and sigma", "remove one pair")
		case byQuantiles:
			if lt.Median <= 0 || lt.P99 < lt.Median {
				v.bad(f+".p99", "lognormal needs 0 < median <= p99", `e.g. median: "80ms", p99: "400ms"`)
			}
		case byParams:
			if lt.Mu == nil || lt.Sigma == nil || *lt.Sigma < 0 {
				v.bad(f+".sigma", "lognormal needs mu and sigma >= 0 (of ln(latency in ms))", "e.g. mu: 4.4, sigma: 0.7")
			}
		default:
			v.bad(f, "lognormal latency needs median and p99, or mu and sigma", `e.g. median: "80ms", p99: "400ms"`)
		}
	default:
		v.bad(f+".dist", fmt.Sprintf("unknown dist %q", lt.Dist), "use "+strings.Join(distValues, ", "))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkPermission returns "" if p is a valid permission pattern.
func checkPermission(p string) string {
	parts := strings.Split(p, ":")
	if len(parts) != 3 {
		return "want three parts separated by ':'"
	}
	for _, s := range parts {
		if s == "" {
			return "empty part"
		}
		if strings.Contains(s, "*") && s != "*" {
			return "a wildcard must be a whole part"
		}
	}
	return ""
}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// ParsePathPattern splits a family path or fault route "[METHOD ]PATH" and
// checks it.
func ParsePathPattern(s string) (method, path string, err error) {
	path = strings.TrimSpace(s)
	if m, rest, ok := strings.Cut(path, " "); ok {
		if !contains(methods, m) {
			return "", "", fmt.Errorf("unknown method %q", m)
		}
		method, path = m, strings.TrimSpace(rest)
	}
	if !strings.HasPrefix(path, "/") {
		return "", "", fmt.Errorf("path %q must start with /", path)
	}
	if i := strings.Index(path, "*"); i >= 0 && i != len(path)-1 {
		return "", "", fmt.Errorf("path %q: * is allowed only at the end", path)
	}
	return method, path, nil
}

// MatchRoute reports whether a family path pattern (see Family.Paths)
// matches the route with the given method and ServeMux path template.
func MatchRoute(pattern, method, template string) bool {
	pm, pp, err := ParsePathPattern(pattern)
	if err != nil {
		return false
	}
	if pm != "" && pm != method {
		return false
	}
	prefix := strings.HasSuffix(pp, "*")
	pp = strings.TrimSuffix(pp, "*")
	ps := strings.Split(pp, "/")
	ts := strings.Split(template, "/")
	if prefix {
		// "/a/b/*" and "/a/b*" both match /a/b/… ; the last pattern
		// segment is a prefix of the template's segment.
		if len(ts) < len(ps) {
			return false
		}
		for i, s := range ps {
			if i == len(ps)-1 {
				return strings.HasPrefix(ts[i], s) || isWild(s)
			}
			if !segMatch(s, ts[i]) {
				return false
			}
		}
		return true
	}
	if len(ps) != len(ts) {
		return false
	}
	for i := range ps {
		if !segMatch(ps[i], ts[i]) {
			return false
		}
	}
	return true
}

func isWild(s string) bool { return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") }

func segMatch(p, t string) bool { return isWild(p) || p == t || (isWild(t) && isWild(p)) }

// validateSeed checks catalog.seed: known collections, counts that fit
// the store for every org.
func (c *Config) validateSeed(v *validator) {
	cat, err := catalog.Default()
	if err != nil || len(c.Catalog.Seed) == 0 {
		return
	}
	known := cat.Collections()
	total := 0
	for _, name := range slices.Sorted(maps.Keys(c.Catalog.Seed)) {
		f := "catalog.seed." + name
		coll := strings.TrimPrefix(catalog.CollectionPath(name), "/api/v2/")
		if !slices.Contains(known, coll) {
			fix := "name one by its path after /api/v2, e.g. users, routing/queues, presencedefinitions, groups"
			if s := closest(coll, known); s != "" {
				fix = fmt.Sprintf("did you mean %q? ", s) + fix
			}
			v.bad(f, fmt.Sprintf("%q is not a catalogued collection entities can be created in and listed", name), fix)
			continue
		}
		n := c.Catalog.Seed[name]
		if n < 0 {
			v.bad(f, fmt.Sprintf("must be >= 0, got %d", n), "e.g. 25; 0 seeds none")
		}
		total += max(n, 0)
	}
	orgs := max(len(c.Orgs), 1)
	if c.Catalog.MaxEntities > 0 && total*orgs > c.Catalog.MaxEntities {
		v.bad("catalog.seed", fmt.Sprintf("%d seeded entities per org × %d orgs exceed catalog.max_entities (%d)", total, orgs, c.Catalog.MaxEntities),
			"seed fewer or raise catalog.max_entities")
	}
}

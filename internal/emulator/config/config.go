package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/catalog"
)

// Well-known credentials of the built-in demo client. They are public on
// purpose so example plans can use them (GC_CLIENT_ID / GC_CLIENT_SECRET);
// never grant them on anything reachable from outside localhost.
const (
	DemoOrgID        = "f100d9a7-e000-4000-8000-000000000001"
	DemoOrgName      = "floodgate-demo"
	DemoClientID     = "floodgate-demo-client"
	DemoClientSecret = "floodgate-demo-secret"
)

// Platform defaults (reference §1–§2) and the emulator's own defaults for
// what the platform does not document (see internal/emulator/README.md).
const (
	DefaultProfile          = "genesys-cloud"
	DefaultRequests         = 300
	DefaultWindow           = Duration(60 * time.Second)
	DefaultRequestBytesMax  = 512000
	DefaultTokenLifetime    = Duration(86400 * time.Second)
	MaxTokenLifetime        = Duration(172800 * time.Second)
	DefaultTokensMax        = 100000
	DefaultConversationsMax = 100000
	DefaultActiveFor        = Duration(10 * time.Minute)
	DefaultMessageWindow    = Duration(24 * time.Hour)
	DefaultSeed             = 1
	DefaultCatalogEntities  = 100000

	// Recording bulk jobs (reference §5; timings are the emulator's).
	DefaultRecordingJobsMax        = 1000
	DefaultActiveRecordingJobs     = 2 // per org, PENDING or PROCESSING (documented)
	DefaultRecordingJobReadyAfter  = Duration(30 * time.Second)
	DefaultRecordingExportTime     = Duration(500 * time.Millisecond)
	DefaultActiveJobsAnswerStatus  = 429
	DefaultAnalyticsIngestionLag   = Duration(5 * time.Second)
	DefaultAnalyticsJobDataLag     = Duration(time.Hour)
	DefaultAnalyticsJobsMax        = 1000
	DefaultAnalyticsJobQueuedFor   = Duration(time.Second)
	DefaultAnalyticsJobRunsFor     = Duration(5 * time.Second)
	DefaultAnalyticsJobResultsTTL  = Duration(24 * time.Hour)
	DefaultChannelsPerClient       = 20   // documented
	DefaultTopicsPerChannel        = 1000 // documented
	DefaultChannelLifetime         = Duration(24 * time.Hour)
	DefaultHeartbeatInterval       = Duration(30 * time.Second)
	DefaultNotificationQueueSize   = 1000
	DefaultActiveJobsAnswerMessage = "The organization already has the maximum number of recording jobs in PENDING or PROCESSING state; wait until one is READY or finished."
)

// Config is a whole emulator configuration. Build one with Default, Load or
// Parse; New in package emulator validates it again.
type Config struct {
	// Profile names the API being emulated; only "genesys-cloud".
	Profile string `yaml:"profile" json:"profile"`
	// TimeScale multiplies every window, Retry-After, token lifetime,
	// latency and conversation lifetime. 1 is real time; 0.01 turns 60 s
	// windows into 600 ms.
	TimeScale float64 `yaml:"time_scale" json:"time_scale"`
	// Seed seeds the fault injector's random source.
	Seed int64 `yaml:"seed" json:"seed"`
	// RequestBytesMax is the platform's request.bytes.max: larger request
	// bodies get 413 request.entity.too.large.
	RequestBytesMax int64 `yaml:"request_bytes_max" json:"request_bytes_max"`
	// Orgs and their OAuth clients. Empty means the built-in demo org.
	Orgs []Org `yaml:"orgs" json:"orgs"`
	// Tokens bounds the token store.
	Tokens Tokens `yaml:"tokens" json:"tokens"`
	// Conversations bounds and times the conversation store.
	Conversations Conversations `yaml:"conversations" json:"conversations"`
	// ExportDir is the directory EXPORT recording jobs write to, laid out
	// like the platform's S3 export. Empty means a temporary directory
	// created at start. --export-dir overrides it.
	ExportDir string `yaml:"export_dir" json:"export_dir"`
	// Recordings bounds and times recording bulk jobs.
	Recordings Recordings `yaml:"recordings" json:"recordings"`
	// Analytics times the conversation details query and its async jobs.
	Analytics Analytics `yaml:"analytics" json:"analytics"`
	// Notifications bounds and times notification channels.
	Notifications Notifications `yaml:"notifications" json:"notifications"`
	// Catalog bounds the generic layer that answers every catalogued route.
	Catalog Catalog `yaml:"catalog" json:"catalog"`
	// Live is the part of the configuration the admin API can read and
	// replace while the server runs.
	Live `yaml:",inline"`

	file string
	pos  map[string]Pos
}

// Live is the runtime-replaceable part of a Config: endpoint families,
// rate limits, concurrency caps and faults.
type Live struct {
	Families []Family `yaml:"families" json:"families"`
	Limits   Limits   `yaml:"limits" json:"limits"`
	Caps     []Cap    `yaml:"caps" json:"caps"`
	Faults   []Fault  `yaml:"faults" json:"faults"`
	// UnknownEntities says what a catalogued GET, PUT, PATCH or DELETE of
	// an entity nobody created answers: "synthesize" (default) a
	// deterministic body of the route's model, or "not_found" 404.
	UnknownEntities string `yaml:"unknown_entities" json:"unknown_entities"`
	// Routes overrides answers per route or family: a canned answer, or
	// how unknown entities are answered.
	Routes []RouteRule `yaml:"routes" json:"routes,omitempty"`
}

// Unknown-entity answers.
const (
	UnknownSynthesize = "synthesize"
	UnknownNotFound   = "not_found"
)

// Catalog bounds the generic store behind the catalogued routes.
type Catalog struct {
	// MaxEntities is how many created (or deleted) entities are kept, all
	// orgs and collections together; one more forgets the oldest.
	MaxEntities int `yaml:"max_entities" json:"max_entities"`
	// Seed is how many deterministic entities each org starts with (and
	// gets again on reset), per collection ("users", "routing/queues"; see
	// catalog.Collections). Unset means catalog.DefaultSeed; {} none.
	Seed map[string]int `yaml:"seed" json:"seed"`
}

// RouteRule changes how a route, or every route of a family, answers.
// Exactly one of Family and Route is set; a route rule beats a family
// rule, and the first rule of each kind wins.
type RouteRule struct {
	Family string `yaml:"family" json:"family,omitempty"`
	// Route is a route pattern exactly as served, e.g.
	// "GET /api/v2/users/{userId}".
	Route string `yaml:"route" json:"route,omitempty"`
	// Status, when set, is a canned answer: every request that passes
	// auth, limits, caps and faults gets Status and Body.
	Status int `yaml:"status" json:"status,omitempty"`
	// Body is the canned answer's JSON body ("" for none).
	Body string `yaml:"body" json:"body,omitempty"`
	// UnknownEntities overrides the top-level unknown_entities.
	UnknownEntities string `yaml:"unknown_entities" json:"unknown_entities,omitempty"`
}

// Org is one organization.
type Org struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	Clients []Client `yaml:"clients" json:"clients"`
}

// Client is one OAuth client-credentials client.
type Client struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	// Secret or SecretFile (read at load time, trailing newline trimmed,
	// relative to the config file) gives the client secret.
	Secret     string `yaml:"secret" json:"-"`
	SecretFile string `yaml:"secret_file" json:"secret_file,omitempty"`
	// Permissions granted, as domain:entity:action; each part may be "*".
	Permissions []string `yaml:"permissions" json:"permissions"`
	// TokenLifetime is the access tokens' lifetime (platform default 24h,
	// max 48h).
	TokenLifetime Duration `yaml:"token_lifetime" json:"token_lifetime"`
}

// Tokens bounds the token store.
type Tokens struct {
	// Max tokens kept; issuing one more forgets the oldest, which then
	// answers 401 bad.credentials.
	Max int `yaml:"max" json:"max"`
}

// Conversations bounds and times the in-memory conversation store.
type Conversations struct {
	// Max conversations stored; adding one more evicts the oldest.
	Max int `yaml:"max" json:"max"`
	// ActiveFor is how long a conversation stays connected before the
	// emulator disconnects it.
	ActiveFor Duration `yaml:"active_for" json:"active_for"`
	// MessageWindow is the messaging "conversation window": how long after
	// disconnecting a message conversation still blocks (or, with
	// useExistingConversation, is reused by) POST /api/v2/conversations/messages.
	MessageWindow Duration `yaml:"message_window" json:"message_window"`
	// OpenMessagingQueue, when set, is the queue id open-messaging
	// conversations are routed to: they then publish the queue's
	// conversation topics (v2.routing.queues.{id}.conversations[.messages]).
	// Empty: they are routed nowhere and publish nothing.
	OpenMessagingQueue string `yaml:"open_messaging_queue_id" json:"open_messaging_queue_id"`
}

// Recordings bounds and times recording bulk jobs (POST /api/v2/recording/jobs).
type Recordings struct {
	// MaxJobs is how many jobs the emulator keeps; creating one more
	// forgets the oldest finished one, or is refused when none is.
	MaxJobs int `yaml:"max_jobs" json:"max_jobs"`
	// ActiveJobsPerOrg is the platform's cap on jobs in PENDING or
	// PROCESSING state per org (2).
	ActiveJobsPerOrg int `yaml:"active_jobs_per_org" json:"active_jobs_per_org"`
	// ActiveJobsAnswer is the answer above that cap (the platform does not
	// document it); default 429 too.many.requests.
	ActiveJobsAnswer Answer `yaml:"active_jobs_answer" json:"active_jobs_answer"`
	// ReadyAfter is how long a job stays PENDING before it is READY.
	ReadyAfter Duration `yaml:"ready_after" json:"ready_after"`
	// ExportTime is how long one recording takes once the job is
	// PROCESSING.
	ExportTime Duration `yaml:"export_time" json:"export_time"`
	// FailureProbability is the chance that one recording fails (drawn
	// from a source seeded by seed); failures are listed at
	// .../failedrecordings.
	FailureProbability float64 `yaml:"failure_probability" json:"failure_probability"`
	// MatchLag is how long after its start a conversation can be matched
	// by a job (the platform says up to 48 h; default 0).
	MatchLag Duration `yaml:"match_lag" json:"match_lag"`
}

// Answer is an error answer: status, code and message.
type Answer struct {
	Status  int    `yaml:"status" json:"status"`
	Code    string `yaml:"code" json:"code"`
	Message string `yaml:"message" json:"message"`
	// RetryAfter adds Retry-After: the time until the org's first active
	// job stops counting (a PENDING job is READY, a PROCESSING one
	// done). Inferred: the platform documents no Retry-After here.
	RetryAfter bool `yaml:"retry_after" json:"retry_after,omitempty"`
}

// Analytics times the conversation details query and its async jobs.
type Analytics struct {
	// IngestionLag is how long after its start a conversation appears in
	// POST /api/v2/analytics/conversations/details/query.
	IngestionLag Duration `yaml:"ingestion_lag" json:"ingestion_lag"`
	// JobDataLag is how far behind the present an async job's data is:
	// dataAvailabilityDate is now minus this.
	JobDataLag Duration `yaml:"job_data_lag" json:"job_data_lag"`
	// MaxJobs is how many async jobs the emulator keeps; creating one more
	// forgets the oldest finished one, or is refused when none is.
	MaxJobs int `yaml:"max_jobs" json:"max_jobs"`
	// JobQueuedFor and JobRunsFor are how long a job is QUEUED, then
	// PENDING, before it is FULFILLED.
	JobQueuedFor Duration `yaml:"job_queued_for" json:"job_queued_for"`
	JobRunsFor   Duration `yaml:"job_runs_for" json:"job_runs_for"`
	// JobFailureProbability is the chance that a job ends FAILED (seeded).
	JobFailureProbability float64 `yaml:"job_failure_probability" json:"job_failure_probability"`
	// JobResultsTTL is how long after completion a job's results are kept
	// before it is EXPIRED.
	JobResultsTTL Duration `yaml:"job_results_ttl" json:"job_results_ttl"`
}

// Notifications bounds and times notification channels.
type Notifications struct {
	// ChannelsPerClient is the platform's 20 channels per user and app;
	// one more evicts the least recently used (unconnected first).
	ChannelsPerClient int `yaml:"channels_per_client" json:"channels_per_client"`
	// TopicsPerChannel is the platform's 1,000 topics per channel; more
	// answer 400.
	TopicsPerChannel int `yaml:"topics_per_channel" json:"topics_per_channel"`
	// ChannelLifetime is how long a channel lives after it was created or
	// last subscribed (platform: 24 h).
	ChannelLifetime Duration `yaml:"channel_lifetime" json:"channel_lifetime"`
	// HeartbeatInterval is how often a socket gets a channel.metadata
	// heartbeat (platform: about 30 s).
	HeartbeatInterval Duration `yaml:"heartbeat_interval" json:"heartbeat_interval"`
	// QueueSize is how many events wait for one socket; further events are
	// dropped (the platform gives no delivery guarantee).
	QueueSize int `yaml:"queue_size" json:"queue_size"`
}

// Family is a named group of routes sharing limits, caps and faults.
type Family struct {
	Name string `yaml:"name" json:"name"`
	// Paths lists route patterns, each "[METHOD ]PATH". PATH matches a
	// route's template segment by segment; "{x}" matches any segment; a
	// trailing "*" matches any rest. A route belongs to the first family
	// that matches it.
	Paths []string `yaml:"paths" json:"paths"`
}

// Limits are the rate limits. Each counts requests in fixed windows.
type Limits struct {
	// Token is the per-token limit (platform: 300 per 60 s).
	Token *Rate `yaml:"token" json:"token"`
	// Client and Org, when set, also limit every client and every org.
	Client *Rate `yaml:"client" json:"client,omitempty"`
	Org    *Rate `yaml:"org" json:"org,omitempty"`
	// Families adds limits on endpoint families.
	Families []FamilyRate `yaml:"families" json:"families,omitempty"`
}

// Rate is a fixed-window limit: Requests per Window.
type Rate struct {
	Requests int      `yaml:"requests" json:"requests"`
	Window   Duration `yaml:"window" json:"window"`
}

// FamilyRate limits one family, counted per token, client or org.
type FamilyRate struct {
	Family   string   `yaml:"family" json:"family"`
	Per      string   `yaml:"per" json:"per"`
	Requests int      `yaml:"requests" json:"requests"`
	Window   Duration `yaml:"window" json:"window"`
}

// Cap bounds a family's in-flight requests and says how to answer above it.
type Cap struct {
	Family      string `yaml:"family" json:"family"`
	MaxInFlight int    `yaml:"max_in_flight" json:"max_in_flight"`
	// Status, Code and Message of the answer; default 429
	// too.many.requests and the catalogue message.
	Status  int    `yaml:"status" json:"status"`
	Code    string `yaml:"code" json:"code"`
	Message string `yaml:"message" json:"message"`
	// RetryAfter, when set, is sent as Retry-After (scaled, whole seconds).
	RetryAfter Duration `yaml:"retry_after" json:"retry_after,omitempty"`
}

// Fault injects latency, errors and saturation on a family or a route.
// Exactly one of Family and Route is set; a route rule beats a family rule.
type Fault struct {
	Family string `yaml:"family" json:"family,omitempty"`
	// Route is a route pattern exactly as served, e.g.
	// "GET /api/v2/conversations/{conversationId}".
	Route      string       `yaml:"route" json:"route,omitempty"`
	Latency    *Latency     `yaml:"latency" json:"latency,omitempty"`
	Errors     []ErrorFault `yaml:"errors" json:"errors,omitempty"`
	Saturation *Saturation  `yaml:"saturation" json:"saturation,omitempty"`
}

// Latency is a latency distribution added before the handler runs.
//
//	fixed:     value
//	uniform:   min, max
//	lognormal: median and p99, or mu and sigma (of ln(latency in ms))
type Latency struct {
	Dist   string   `yaml:"dist" json:"dist"`
	Value  Duration `yaml:"value" json:"value,omitempty"`
	Min    Duration `yaml:"min" json:"min,omitempty"`
	Max    Duration `yaml:"max" json:"max,omitempty"`
	Median Duration `yaml:"median" json:"median,omitempty"`
	P99    Duration `yaml:"p99" json:"p99,omitempty"`
	Mu     *float64 `yaml:"mu" json:"mu,omitempty"`
	Sigma  *float64 `yaml:"sigma" json:"sigma,omitempty"`
}

// ErrorFault answers Status/Code/Message with Probability instead of
// serving the request.
type ErrorFault struct {
	Status      int     `yaml:"status" json:"status"`
	Code        string  `yaml:"code" json:"code"`
	Message     string  `yaml:"message" json:"message,omitempty"`
	Probability float64 `yaml:"probability" json:"probability"`
}

// Saturation models a server slowing under load: with n requests in flight
// on the whole server, each request waits (n-Knee)*PerRequest extra when
// n > Knee, and above HardLimit (if > 0) is answered 503
// service.unavailable.
type Saturation struct {
	Knee       int      `yaml:"knee" json:"knee"`
	PerRequest Duration `yaml:"per_request" json:"per_request"`
	HardLimit  int      `yaml:"hard_limit" json:"hard_limit,omitempty"`
}

// Duration is a time.Duration written as "60s" in YAML and JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string such as "60s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string like \"60s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Pos is a 1-based line and column in a config file.
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Default returns the built-in genesys-cloud profile: one org with the demo
// client (all permissions, 24 h tokens), 300 requests per token per 60 s,
// request.bytes.max 512000, no caps or faults.
func Default() Config {
	c := Config{}
	c.applyDefaults()
	return c
}

// DemoOrg returns the built-in demo org with its demo client.
func DemoOrg() Org {
	return Org{ID: DemoOrgID, Name: DemoOrgName, Clients: []Client{{
		ID: DemoClientID, Name: "floodgate demo client", Secret: DemoClientSecret,
		Permissions: []string{"*:*:*"}, TokenLifetime: DefaultTokenLifetime,
	}}}
}

// ApplyDefaults fills every unset field with its default, as Load does.
func (c *Config) ApplyDefaults() { c.applyDefaults() }

func (c *Config) applyDefaults() {
	if c.Profile == "" {
		c.Profile = DefaultProfile
	}
	if c.TimeScale == 0 {
		c.TimeScale = 1
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.RequestBytesMax == 0 {
		c.RequestBytesMax = DefaultRequestBytesMax
	}
	if len(c.Orgs) == 0 {
		c.Orgs = []Org{DemoOrg()}
	}
	for i := range c.Orgs {
		for j := range c.Orgs[i].Clients {
			cl := &c.Orgs[i].Clients[j]
			if cl.TokenLifetime == 0 {
				cl.TokenLifetime = DefaultTokenLifetime
			}
			if cl.Name == "" {
				cl.Name = cl.ID
			}
		}
	}
	if c.Tokens.Max == 0 {
		c.Tokens.Max = DefaultTokensMax
	}
	if c.Conversations.Max == 0 {
		c.Conversations.Max = DefaultConversationsMax
	}
	if c.Conversations.ActiveFor == 0 {
		c.Conversations.ActiveFor = DefaultActiveFor
	}
	if c.Conversations.MessageWindow == 0 {
		c.Conversations.MessageWindow = DefaultMessageWindow
	}
	setInt(&c.Catalog.MaxEntities, DefaultCatalogEntities)
	if c.Catalog.Seed == nil {
		c.Catalog.Seed = maps.Clone(catalog.DefaultSeed)
	}
	r := &c.Recordings
	setInt(&r.MaxJobs, DefaultRecordingJobsMax)
	setInt(&r.ActiveJobsPerOrg, DefaultActiveRecordingJobs)
	setInt(&r.ActiveJobsAnswer.Status, DefaultActiveJobsAnswerStatus)
	if r.ActiveJobsAnswer.Code == "" {
		r.ActiveJobsAnswer.Code = defaultCode(r.ActiveJobsAnswer.Status)
	}
	if r.ActiveJobsAnswer.Message == "" {
		r.ActiveJobsAnswer.Message = DefaultActiveJobsAnswerMessage
	}
	setDur(&r.ReadyAfter, DefaultRecordingJobReadyAfter)
	setDur(&r.ExportTime, DefaultRecordingExportTime)
	a := &c.Analytics
	setDur(&a.IngestionLag, DefaultAnalyticsIngestionLag)
	setDur(&a.JobDataLag, DefaultAnalyticsJobDataLag)
	setInt(&a.MaxJobs, DefaultAnalyticsJobsMax)
	setDur(&a.JobQueuedFor, DefaultAnalyticsJobQueuedFor)
	setDur(&a.JobRunsFor, DefaultAnalyticsJobRunsFor)
	setDur(&a.JobResultsTTL, DefaultAnalyticsJobResultsTTL)
	n := &c.Notifications
	setInt(&n.ChannelsPerClient, DefaultChannelsPerClient)
	setInt(&n.TopicsPerChannel, DefaultTopicsPerChannel)
	setDur(&n.ChannelLifetime, DefaultChannelLifetime)
	setDur(&n.HeartbeatInterval, DefaultHeartbeatInterval)
	setInt(&n.QueueSize, DefaultNotificationQueueSize)
	c.Live.applyDefaults()
}

func setInt(p *int, d int) {
	if *p == 0 {
		*p = d
	}
}

func setDur(p *Duration, d Duration) {
	if *p == 0 {
		*p = d
	}
}

func (l *Live) applyDefaults() {
	if l.UnknownEntities == "" {
		l.UnknownEntities = UnknownSynthesize
	}
	if l.Limits.Token == nil {
		l.Limits.Token = &Rate{Requests: DefaultRequests, Window: DefaultWindow}
	}
	for i := range l.Limits.Families {
		if l.Limits.Families[i].Per == "" {
			l.Limits.Families[i].Per = "token"
		}
	}
	for i := range l.Caps {
		cp := &l.Caps[i]
		if cp.Status == 0 {
			cp.Status = 429
		}
		if cp.Code == "" {
			cp.Code = defaultCode(cp.Status)
		}
	}
	for i := range l.Faults {
		for j := range l.Faults[i].Errors {
			e := &l.Faults[i].Errors[j]
			if e.Code == "" {
				e.Code = defaultCode(e.Status)
			}
		}
	}
}

// File returns the path the config was loaded from ("" for Default or
// Parse without a name).
func (c *Config) File() string { return c.file }

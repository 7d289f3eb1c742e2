package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// refused answers like a port with nothing listening.
func refused() error {
	return &client.ClassError{Class: metrics.Connect, Err: syscall.ECONNREFUSED}
}

func TestUnreachableTarget(t *testing.T) {
	t.Parallel()
	down := func(context.Context, *client.Request, *client.Response) error { return refused() }
	var calls atomic.Int64
	cases := []struct {
		name  string
		u     plan.Unreachable
		serve func(ctx context.Context, req *client.Request, resp *client.Response) error
		// want: the run stops at stopAt with an *UnreachableError, or
		// runs its whole minute without one (stopAt 0).
		stopAt time.Duration
		never  bool
	}{
		{"down from the start", plan.DefaultUnreachable, down, 500 * time.Millisecond, false},
		{"a count of 5", plan.Unreachable{After: 5}, down, 50 * time.Millisecond, false},
		// Off: the run goes on to its end, and it is the user's to judge.
		{"abort off", plan.Unreachable{}, down, 0, false},
		{"one answer in ten", plan.DefaultUnreachable, func(_ context.Context, req *client.Request, resp *client.Response) error {
			if calls.Add(1)%10 == 0 {
				resp.Status = 200
				return nil
			}
			return refused()
		}, 0, false},
		{"down after the first seconds", plan.DefaultUnreachable, func(_ context.Context, req *client.Request, resp *client.Response) error {
			if time.Since(epoch) > 20*time.Second {
				return refused()
			}
			resp.Status = 200
			return nil
		}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 100, Per: time.Second}, Duration: time.Minute, MaxVUs: 10, Granularity: time.Millisecond}})
				p.Retry = &plan.Retry{Off: true}
				p.Unreachable = c.u
				e, err := New(p, WithTransport(transportFunc(c.serve)))
				if err != nil {
					t.Fatal(err)
				}
				err = e.Run(context.Background())
				took := e.Ended().Sub(e.Started())
				var ue *UnreachableError
				switch {
				case c.stopAt > 0:
					if !errors.As(err, &ue) || !errors.Is(err, ErrUnreachable) || ue.Never || took > c.stopAt {
						t.Fatalf("Run = %v after %v; want an UnreachableError within %v", err, took, c.stopAt)
					}
					if ue.Target != p.Target || !strings.Contains(err.Error(), "connection refused") || ue.Failures != int64(c.u.After) {
						t.Errorf("error %q: want the target, the cause and %d failures", err, c.u.After)
					}
					if !e.Unreachable() {
						t.Error("Unreachable() = false")
					}
				case c.u.After == 0:
					if err != nil || took < 59*time.Second {
						t.Fatalf("Run = %v after %v; want the whole minute, no error", err, took)
					}
				default:
					if err != nil || took < 59*time.Second {
						t.Fatalf("Run = %v after %v; want the whole minute: the target answers", err, took)
					}
				}
			})
		})
	}
}

// epoch is where every synctest bubble's clock starts.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// A run too short to reach the count, whose target never answered, still
// fails.
func TestNeverAnsweredFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 1, Iterations: 3}})
		p.Retry = &plan.Retry{Off: true}
		p.Unreachable = plan.DefaultUnreachable
		e, err := New(p, WithTransport(transportFunc(func(context.Context, *client.Request, *client.Response) error { return refused() })))
		if err != nil {
			t.Fatal(err)
		}
		err = e.Run(context.Background())
		var ue *UnreachableError
		if !errors.As(err, &ue) || !ue.Never || ue.Failures != 3 || !strings.Contains(err.Error(), "none of the run's 3 attempts") {
			t.Fatalf("Run = %v, want an UnreachableError for 3 attempts none answered", err)
		}
		if total, consecutive, first := e.ConnectFailures(); total != 3 || consecutive != 3 || !errors.Is(first, syscall.ECONNREFUSED) {
			t.Errorf("ConnectFailures = %d, %d, %v", total, consecutive, first)
		}
	})
}

// A token endpoint refusing the client stops the scenario at once with an
// AuthError that names the token URL and the answer, never the secret;
// nothing reaches the target.
func TestRefusedCredentialsStopTheScenario(t *testing.T) {
	t.Parallel()
	for _, answer := range []struct {
		status     int
		body, want string
	}{
		{401, `{"error":"invalid_client","error_description":"authentication failed"}`, "401 invalid_client"},
		{400, `{"error":"invalid_grant"}`, "400 invalid_grant"},
	} {
		t.Run(answer.want, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				tokenCalls := 0
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					tokenCalls++
					mu.Unlock()
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(answer.status)
					_, _ = w.Write([]byte(answer.body))
				})
				const secret = "do-not-show-me"
				p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 20, RampUp: 10 * time.Second, Iterations: 100}})
				p.Auth = &plan.Auth{OAuth2: &plan.OAuth2{TokenURL: "/oauth/token", ClientID: "bot", ClientSecret: plan.NewSecret(secret)}}
				tr := fixed(200, time.Millisecond)
				e, err := New(p, WithTransport(tr), WithTokenTransport(client.HandlerRoundTripper{Handler: h}))
				if err != nil {
					t.Fatal(err)
				}
				err = e.Run(context.Background())
				var ae *AuthError
				if !errors.As(err, &ae) || !errors.Is(err, client.ErrCredentialsRefused) {
					t.Fatalf("Run = %v, want an AuthError", err)
				}
				msg := err.Error()
				if ae.TokenURL != "http://127.0.0.1:1/oauth/token" || !strings.Contains(msg, ae.TokenURL) || !strings.Contains(msg, answer.want) || strings.Contains(msg, secret) {
					t.Errorf("error %q: want the token URL and %q, and no secret", msg, answer.want)
				}
				s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
				if tr.calls.Load() != 0 || s.Errors["auth"] == 0 || s.Requests > 20 {
					t.Errorf("target calls %d, requests %d, errors %v: want none sent, a few auth failures", tr.calls.Load(), s.Requests, s.Errors)
				}
				if d := e.Ended().Sub(e.Started()); d >= time.Second {
					t.Errorf("the run took %v after the refusal; want it stopped at once", d)
				}
			})
		})
	}
}

// Ctrl-C while a huge closed scenario starts its VUs stops starting them:
// the run does not first make every VU.
func TestStopDuringVUStartUp(t *testing.T) {
	t.Parallel()
	const vus = 1_000_000
	p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: vus, Iterations: 1}})
	var once sync.Once
	var e *Engine
	stopped := make(chan struct{})
	tr := transportFunc(func(_ context.Context, _ *client.Request, resp *client.Response) error {
		once.Do(func() {
			go func() { e.Stop(); close(stopped) }()
		})
		resp.Status = 200
		return nil
	})
	e, err := New(p, WithTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-stopped
	if made := e.scens[0].flow.vus.Load(); made >= vus {
		t.Errorf("%d VUs made after Stop at the first request; want start-up cut short", made)
	}
	if !e.Interrupted() || e.Aborted() {
		t.Errorf("interrupted %v aborted %v: want interrupted, nothing cut off", e.Interrupted(), e.Aborted())
	}
}

// An arrival rate far beyond the process ends on time: what it cannot
// send is counted offered and dropped in bulk rather than one by one.
func TestArrivalsBeyondTheProcessEndOnTime(t *testing.T) {
	t.Parallel()
	p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 1e9, Per: time.Second}, Duration: time.Second, MaxVUs: 4, Granularity: time.Millisecond}})
	e, err := New(p, WithTransport(fixed(200, 0)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a hang guard, not a measure: the fixed loop takes ~2 s
		e.Stop()
		e.Stop()
		t.Fatal("a 1 s run at 1e9/s was still running after a minute")
	}
	if err != nil {
		t.Fatal(err)
	}
	s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
	if s.Offered != 1e9 || s.Dropped != s.Offered-s.Started || s.Started == 0 {
		t.Errorf("offered %d dropped %d started %d: want all 1e9 offered, the unsent dropped", s.Offered, s.Dropped, s.Started)
	}
}

// Ctrl-C while a segment waits for its shared start (--start-at) ends
// the wait: nothing runs.
func TestStopWhileWaitingForTheStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 2, Iterations: 3}})
		tr := fixed(200, time.Millisecond)
		e, err := New(p, WithTransport(tr), WithStartAt(time.Now().Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- e.Run(context.Background()) }()
		time.Sleep(time.Minute)
		e.Stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(epoch); waited != time.Minute || tr.calls.Load() != 0 || !e.Interrupted() {
			t.Errorf("Run returned after %v with %d requests, interrupted %v: want at the Stop, none sent", waited, tr.calls.Load(), e.Interrupted())
		}
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A token endpoint that cannot be connected to is named as such, not the
// target, which may be up.
func TestUnreachableTokenEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 100, Per: time.Second}, Duration: time.Minute, MaxVUs: 10, Granularity: time.Millisecond}})
		p.Auth = &plan.Auth{OAuth2: &plan.OAuth2{TokenURL: "http://127.0.0.1:9/oauth/token", ClientID: "bot", ClientSecret: plan.NewSecret("a-longer-secret")}}
		p.Unreachable = plan.DefaultUnreachable
		down := roundTripperFunc(func(*http.Request) (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		})
		tr := fixed(200, time.Millisecond)
		e, err := New(p, WithTransport(tr), WithTokenTransport(down))
		if err != nil {
			t.Fatal(err)
		}
		err = e.Run(context.Background())
		var ue *UnreachableError
		if !errors.As(err, &ue) || ue.What != "token endpoint" || ue.Target != "http://127.0.0.1:9/oauth/token" || tr.calls.Load() != 0 {
			s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
			t.Fatalf("Run = %v (%d sent to the target, errors %v, failures %v); want the token endpoint named unreachable", err, tr.calls.Load(), s.Errors, e.Failures())
		}
	})
}

// Aborted says requests were cut off only when some were in flight: a
// run whose VUs were all thinking when the grace ran out, or at the
// second Stop, was interrupted, not aborted.
func TestAbortedOnlyWithRequestsInFlight(t *testing.T) {
	t.Parallel()
	for _, second := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 3, Duration: time.Hour}})
			p.Scenarios[0].Steps = append(p.Scenarios[0].Steps, &plan.Step{Name: "think", Think: &plan.Think{Min: time.Hour, Max: time.Hour}})
			p.Grace = 10 * time.Second
			e, err := New(p, WithTransport(fixed(200, time.Millisecond)))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error)
			go func() { done <- e.Run(context.Background()) }()
			time.Sleep(time.Second) // every VU thinking
			e.Stop()
			if second {
				time.Sleep(time.Second)
				e.Stop()
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if !e.Interrupted() || e.Aborted() {
				t.Errorf("second Stop %v: interrupted %v aborted %v; want interrupted, not aborted: nothing was in flight", second, e.Interrupted(), e.Aborted())
			}
		})
	}
}

// blackhole is a transport whose connections never complete, as to a
// target that drops SYNs: Warm waits until its context ends.
type blackhole struct{ fakeTransport }

func (b *blackhole) Warm(ctx context.Context, _ string, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}

// Warming connections to a target that never answers ends at a Stop, and
// within an attempt's timeout without one.
func TestWarmingEndsAtStopAndTimeout(t *testing.T) {
	t.Parallel()
	for _, stop := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 10, Per: time.Second}, Duration: time.Second, MaxVUs: 4, Granularity: time.Millisecond}})
			tr := &blackhole{fakeTransport: *fixed(200, 0)}
			e, err := New(p, WithTransport(tr))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error)
			t0 := time.Now()
			go func() { done <- e.Run(context.Background()) }()
			if stop {
				time.Sleep(time.Second)
				e.Stop()
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			took := time.Since(t0)
			switch {
			case stop && took != time.Second:
				t.Errorf("Run returned %v after the start, want at the Stop (1s)", took)
			case !stop && (took < p.Defaults.Timeout || took > p.Defaults.Timeout+time.Second):
				t.Errorf("Run returned after %v, want the warming's %v and the 1 s run", took, p.Defaults.Timeout)
			}
		})
	}
}

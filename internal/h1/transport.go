package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// Transport speaks HTTP/1.1 over plain TCP with persistent connections,
// and nothing else: it is the hot path for http:// targets (https goes
// through client.StdTransport, which also speaks HTTP/2). See the
// package documentation for why it exists.
//
// It never retries a request on its own, with one exception net/http
// also makes: a request sent on a reused idle connection that the server
// closed (the write fails, or EOF/reset arrives before any response
// byte) is sent once more on a new connection, when it is idempotent or
// could not have been written. An idle connection the server is seen to
// have closed is not used at all (closedByPeer).
//
// Transport is safe for concurrent use.
type Transport struct {
	maxConns    int
	headerBytes int
	idleTimeout time.Duration
	dialer      net.Dialer
	bufs        sync.Pool // *[]byte, headerBytes long
	states      sync.Pool // *reqState

	mu    sync.Mutex
	hosts map[string]*hostPool
}

// New returns a transport that opens at most maxConns
// connections per host (callers beyond that wait for one, within their
// deadline). headerBytes (0: 8192) bounds a response's status line and
// headers; it is also the size of the read buffers it pools.
func New(maxConns, headerBytes int) *Transport {
	if maxConns < 1 {
		maxConns = 1
	}
	if headerBytes <= 0 {
		headerBytes = 8192
	}
	t := &Transport{
		maxConns:    maxConns,
		headerBytes: headerBytes,
		// Servers close idle keep-alive connections (nginx after 75 s,
		// many load balancers after 60 s); one idle longer than this is
		// closed rather than raced against the server's close.
		idleTimeout: 50 * time.Second,
		dialer:      net.Dialer{KeepAlive: 30 * time.Second},
		hosts:       make(map[string]*hostPool),
	}
	t.bufs.New = func() any { b := make([]byte, t.headerBytes); return &b }
	t.states.New = func() any { return new(reqState) }
	return t
}

// maxDials bounds the connections being dialled at once to a host (256
// at 100 ms of round trip still opens 2,560 a second): each dial runs on
// a goroutine whose stack grows to 8-16 KiB.
const maxDials = 256

// dialTimeout bounds a dial no request's deadline bounds.
const dialTimeout = 30 * time.Second

// reqState is what one request needs between RoundTrip's steps: it keeps
// RoundTrip's own frame small, and that frame is on a VU's stack while
// it waits for the response, at 10,000 VUs once each. States are pooled
// by the transport (Response carries none), and each keeps the last
// request it built, which a VU sends over and over.
type reqState struct {
	wbuf []byte
	// host caches the last host looked up.
	hostKey string
	host    *hostPool
	// What wbuf was built from, when it may be sent again as it is:
	// checking a request is the same costs a fraction of building and
	// validating it again. Only requests without a body: a caller may
	// rewrite a body in place.
	builtURL, builtMethod string
	builtHeader           []client.HeaderField
	built                 bool

	// This request's.
	head          *respHead // the Response's
	method        string
	share         bool // req.ShareConns
	resendable    bool // req.Idempotent(): may go again if its connection was stale
	polled        bool // waits on the shared poller (set by arm)
	now, deadline time.Time
	conn          *conn
	written       bool  // the whole request was written
	got           int64 // response bytes read
}

// RoundTrip implements client.Transport.
func (t *Transport) RoundTrip(ctx context.Context, req *client.Request, resp *client.Response) error {
	st := t.states.Get().(*reqState)
	err := t.roundTrip(ctx, st, req, resp)
	st.head, st.conn = nil, nil
	t.states.Put(st)
	return err
}

func (t *Transport) roundTrip(ctx context.Context, st *reqState, req *client.Request, resp *client.Response) error {
	if err := t.prepare(ctx, st, req, resp); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := t.exchange(ctx, st, resp, attempt)
		if err == nil {
			return nil
		}
		if !t.retryStale(ctx, st, req, attempt, err) {
			return t.failed(ctx, st, resp, err)
		}
	}
}

// prepare resets resp and st for req and writes the request message
// into st.wbuf.
//
//go:noinline
func (t *Transport) prepare(ctx context.Context, st *reqState, req *client.Request, resp *client.Response) error {
	resp.Status, resp.BytesIn, resp.BytesOut, resp.Latency, resp.Start = 0, 0, 0, 0, time.Time{}
	resp.Body = resp.Body[:0]
	if err := ctx.Err(); err != nil {
		return &client.ClassError{Class: metrics.Timeout, Err: err}
	}
	hd, ok := resp.Head().(*respHead) // this transport's from the last response, reused
	if !ok {
		hd = newHead()
		resp.SetHead(hd)
	}
	hd.block, hd.fields, hd.names, hd.known = hd.block[:0], hd.fields[:0], 0, 0
	st.head = hd
	st.conn, st.written, st.got = nil, false, 0

	if !st.built || len(req.Body) > 0 || req.URL != st.builtURL || req.Method != st.builtMethod || !sameHeader(req.Header, st.builtHeader) {
		if err := t.build(st, req); err != nil {
			return err
		}
	}
	st.method, st.share, st.resendable = req.Method, req.ShareConns, req.Idempotent()
	if st.method == "" {
		st.method = "GET"
	}
	st.now = time.Now()
	st.deadline = st.now.Add(time.Hour)
	if req.Timeout > 0 {
		st.deadline = st.now.Add(req.Timeout)
	}
	if d, ok := ctx.Deadline(); ok && d.Before(st.deadline) {
		st.deadline = d
	}
	return nil
}

// build writes req's message into st.wbuf and looks up its host.
func (t *Transport) build(st *reqState, req *client.Request) error {
	st.built = false
	hostport, target, err := splitHTTPURL(req.URL)
	if err != nil {
		return &client.ClassError{Class: metrics.Other, Err: err}
	}
	if st.host == nil || st.hostKey != hostport {
		st.host, st.hostKey = t.host(hostport), hostport
	}
	if cap(st.wbuf) > 64<<10 { // don't keep a large body's buffer for the VU's life
		st.wbuf = nil
	}
	if st.wbuf, err = appendRequest(st.wbuf[:0], req, hostport, target); err != nil {
		return &client.ClassError{Class: metrics.Other, Err: err}
	}
	if len(req.Body) == 0 {
		st.builtURL, st.builtMethod = req.URL, req.Method
		st.builtHeader = append(st.builtHeader[:0], req.Header...)
		st.built = true
	}
	return nil
}

// sameHeader reports whether a and b hold the same fields in order.
func sameHeader(a, b []client.HeaderField) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// exchange sends st.wbuf on a connection and reads the response.
func (t *Transport) exchange(ctx context.Context, st *reqState, resp *client.Response, attempt int) error {
	c, waited, err := st.host.get(ctx, st.now, st.deadline, attempt > 0, st.share, !st.resendable)
	if err != nil {
		return err
	}
	st.conn = c
	start, err := t.arm(ctx, c, st, waited)
	if err != nil {
		return err
	}
	bp, n, err := c.writeRead(&t.bufs, st)
	if err != nil {
		return err
	}
	return t.finish(c, st, resp, bp, n, start)
}

// staleCheckIdle is how long a connection must have sat idle before a
// request that could be resent looks whether the peer closed it. The
// look is a system call, which a busy connection would pay on every
// request, and a server ends an idle connection after its idle timeout,
// not within a millisecond of its last response (nor sends an unasked-
// for 408 then); if it did close it, the request goes again on a new
// connection (retryStale). Requests that could not be resent always
// look.
const staleCheckIdle = time.Millisecond

// A connection's deadline may fire a little earlier than a request
// asked: a deadline set by an earlier request is kept when the new one is
// at most slack later, which spares the two timer updates of
// SetDeadline (and their locks) on most requests of a busy connection.
// The slack is 1/1024 of the request's time left (16 ms of the default
// 16 s timeout), at least minDeadlineSlack and at most maxDeadlineSlack:
// a fixed 1 ms was too little to spare most updates (bench/HISTORY.md).
const (
	minDeadlineSlack = time.Millisecond
	maxDeadlineSlack = 50 * time.Millisecond
)

// arm makes ctx's end and st.deadline end what c does, and returns when
// the send begins.
//
//go:noinline
func (t *Transport) arm(ctx context.Context, c *conn, st *reqState, waited bool) (time.Time, error) {
	if err := c.watch(ctx); err != nil {
		return time.Time{}, err
	}
	slack := min(max(st.deadline.Sub(st.now)/1024, minDeadlineSlack), maxDeadlineSlack)
	if st.polled = c.pollMode(st.share); st.polled {
		if d := st.deadline.Sub(c.pdeadline); d < 0 || d > slack {
			c.pdeadline = st.deadline
			c.pollDeadline(st.deadline)
		}
	} else if d := st.deadline.Sub(c.deadline); d < 0 || d > slack {
		c.deadline = st.deadline
		if err := c.nc.SetDeadline(st.deadline); err != nil {
			return time.Time{}, err
		}
	}
	if waited { // for a connection: latency starts at the send
		return time.Now(), nil
	}
	return st.now, nil
}

// finish parses the response whose first n bytes are in *bp, returns
// the buffer and the connection, and fills resp.
//
//go:noinline
func (t *Transport) finish(c *conn, st *reqState, resp *client.Response, bp *[]byte, n int, start time.Time) error {
	rd := reader{src: c.source(st.polled), buf: *bp, w: n, headMax: int64(t.headerBytes)}
	res, body, err := parseResponse(&rd, st.method, st.head, resp.Body[:0], client.MaxBodyBytes)
	t.bufs.Put(bp)
	resp.Body = body
	st.got = rd.n
	resp.BytesIn = rd.n
	resp.BytesOut = int64(len(st.wbuf))
	end := time.Now()
	resp.Start, resp.Latency = start, end.Sub(start)
	if err != nil {
		return err
	}
	if rd.r != rd.w { // bytes past the response: nothing asked for them
		res.keepAlive = false
	}
	resp.Status = res.status
	st.conn = nil
	if c.idle() && res.keepAlive {
		c.idleSince = end
		st.host.release(c, end, resp.Latency)
	} else {
		st.host.discard(c)
	}
	return nil
}

// retryStale reports whether err is a reused connection the server had
// closed while it sat idle, and the request may go again on a new one
// (the server cannot have acted on it). It discards the connection.
//
//go:noinline
func (t *Transport) retryStale(ctx context.Context, st *reqState, req *client.Request, attempt int, err error) bool {
	c := st.conn
	if c == nil {
		return false
	}
	st.conn = nil
	st.host.discard(c)
	return c.reused && attempt == 0 && st.got == 0 && ctx.Err() == nil && isStale(err) &&
		(!st.written || req.Idempotent())
}

// failed ends a RoundTrip that got no response.
//
//go:noinline
func (t *Transport) failed(ctx context.Context, st *reqState, resp *client.Response, err error) error {
	if c := st.conn; c != nil {
		st.conn = nil
		st.host.discard(c)
	}
	if resp.Latency == 0 {
		resp.Latency = time.Since(st.now)
	}
	resp.Status, resp.Body = 0, resp.Body[:0]
	if st.written {
		resp.BytesOut = int64(len(st.wbuf))
	}
	return t.classify(ctx, err)
}

// equalFold reports whether a and b are equal ignoring ASCII case.
func equalFold[T string | []byte](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if string(a) == b { // the usual case, and a memequal
		return true
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

func isStale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (t *Transport) classify(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &client.ClassError{Class: metrics.Timeout, Err: fmt.Errorf("%w (%v)", ctxErr, err)}
	}
	var pe *ProtocolError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, errConnWait):
		return &client.ClassError{Class: metrics.Timeout, Err: err}
	case errors.As(err, &pe), errors.Is(err, errHeaderTooLarge), errors.Is(err, errBodyTooLarge):
		return &client.ClassError{Class: metrics.Other, Err: err}
	case isStale(err):
		return &client.ClassError{Class: metrics.Reset, Err: err}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		if opErr.Timeout() {
			return &client.ClassError{Class: metrics.Timeout, Err: err}
		}
		return &client.ClassError{Class: metrics.Connect, Err: err}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &client.ClassError{Class: metrics.Connect, Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &client.ClassError{Class: metrics.Timeout, Err: err}
	}
	return &client.ClassError{Class: metrics.Other, Err: err}
}

// Warm opens up to n connections to the host of url ahead of the first
// requests, so that a schedule that starts at full rate does not start
// by dialling for every request (see dialIfNeededLocked). It returns the
// first dial's error, if any.
func (t *Transport) Warm(ctx context.Context, url string, n int) error {
	hostport, _, err := splitHTTPURL(url)
	if err != nil {
		return err
	}
	h := t.host(hostport)
	h.mu.Lock()
	n = min(n, h.max-h.open)
	h.open += max(n, 0)
	h.mu.Unlock()
	errs := make(chan error, max(n, 0))
	for range n {
		go func() {
			began := time.Now()
			nc, err := t.dialer.DialContext(ctx, "tcp", hostport)
			took := time.Since(began)
			var c *conn
			if err == nil {
				c = &conn{nc: nc, idleSince: time.Now()}
				if err = c.init(); err != nil {
					nc.Close()
				}
			}
			h.mu.Lock()
			if err != nil {
				h.open--
			} else {
				h.dialAvg = ewma(h.dialAvg, took)
				h.idle = append(h.idle, c)
			}
			h.mu.Unlock()
			errs <- err
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// CloseIdleConnections closes the connections no request is using.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	hosts := make([]*hostPool, 0, len(t.hosts))
	for _, h := range t.hosts {
		hosts = append(hosts, h)
	}
	t.mu.Unlock()
	for _, h := range hosts {
		h.mu.Lock()
		idle := h.idle
		h.idle = nil
		h.open -= len(idle)
		h.mu.Unlock()
		for _, c := range idle {
			c.close()
		}
	}
}

func (t *Transport) host(hostport string) *hostPool {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.hosts[hostport]
	if h == nil {
		h = &hostPool{addr: hostport, t: t, max: t.maxConns}
		t.hosts[hostport] = h
	}
	return h
}

// hostPool pools the connections to one host:port, as net/http's
// Transport does. A request takes an idle connection; when there is none
// it waits, and a dial starts for it when fewer than max connections are
// open and fewer than maxDials are being dialled. Whichever comes first
// serves it: a connection another request releases, or the new one (the
// other then joins the pool). So a burst of requests opens as many
// connections as are in flight at once, not one per request of the
// burst, and the generator's core is not spent dialling while requests
// wait: dials for every arrival during a stall make the stall longer.
type hostPool struct {
	addr string
	t    *Transport
	max  int

	mu      sync.Mutex
	idle    []*conn // most recently used last
	open    int     // connections open or being dialled
	dialing int
	waiters []*connWaiter // oldest first
	eager   int           // waiters without ShareConns
	// Moving averages of a request's time on a connection and of a
	// dial's (see dialIfNeededLocked).
	busyAvg, dialAvg time.Duration
}

// connWaiter is a request waiting for a connection.
type connWaiter struct {
	ch    chan connResult // buffered: one result
	since time.Time
	share bool // client.Request.ShareConns
}

type connResult struct {
	c   *conn
	err error
}

var waiterPool = sync.Pool{New: func() any { return &connWaiter{ch: make(chan connResult, 1)} }}

var errConnWait = errors.New("no connection became free before the request's deadline (all max_vus connections busy, or being dialled)")

// get returns a connection for a request due to end by deadline, and
// whether it had to wait for one (its send starts later than now).
// fresh skips the idle ones. An idle connection the peer has closed is
// never handed out (closedByPeer); check makes it look even at a
// connection used a moment ago, for a request that cannot be resent.
func (h *hostPool) get(ctx context.Context, now, deadline time.Time, fresh, share, check bool) (*conn, bool, error) {
	h.mu.Lock()
	for !fresh && len(h.idle) > 0 {
		c := h.idle[len(h.idle)-1]
		h.idle[len(h.idle)-1] = nil
		h.idle = h.idle[:len(h.idle)-1]
		h.mu.Unlock()
		if c.killed.Load() || now.Sub(c.idleSince) > h.t.idleTimeout || c.closedByPeer(now, check) {
			c.close()
			h.mu.Lock()
			h.open--
			continue
		}
		c.reused = true
		return c, false, nil
	}
	w := waiterPool.Get().(*connWaiter)
	w.since, w.share = now, share
	if !share {
		h.eager++
	}
	h.waiters = append(h.waiters, w)
	h.dialIfNeededLocked(now, deadline)
	h.mu.Unlock()

	r := h.await(ctx, w, deadline)
	waiterPool.Put(w)
	return r.c, true, r.err
}

// await waits for w's connection until deadline. It is a function of its
// own, and waits on ctx alone until a connection may be a while: every
// VU of a closed model waits here once, at the start, and a VU's stack
// keeps the depth it reached (a timer and a select nest deep enough to
// double it, 40 MB more at 10,000 VUs).
//
//go:noinline
func (h *hostPool) await(ctx context.Context, w *connWaiter, deadline time.Time) connResult {
	select {
	case r := <-w.ch:
		return r
	default:
	}
	return h.awaitTimed(ctx, w, deadline)
}

//go:noinline
func (h *hostPool) awaitTimed(ctx context.Context, w *connWaiter, deadline time.Time) (r connResult) {
	gaveUp := false
	timer := time.NewTimer(time.Until(deadline))
	select {
	case r = <-w.ch:
	case <-timer.C:
		r.err, gaveUp = errConnWait, true
	case <-ctx.Done():
		r.err, gaveUp = ctx.Err(), true
	}
	timer.Stop()
	if gaveUp && !h.leave(w) {
		// Served as it gave up: pass on what it was given.
		if got := <-w.ch; got.c != nil {
			h.put(got.c)
		}
	}
	return r
}

// leave removes w from the waiters; false if it was served already.
func (h *hostPool) leave(w *connWaiter) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, x := range h.waiters {
		if x == w {
			h.waiters = append(h.waiters[:i], h.waiters[i+1:]...)
			h.dequeued(w)
			return true
		}
	}
	return false
}

// dialIfNeededLocked starts a dial for a waiting request, within the
// bounds on connections and on dials under way (maxDials, and the number
// of connections established, at least 4: dials double each round rather
// than jump to one per waiting request). For requests that share
// connections (client.Request.ShareConns), not when the busy connections are
// expected to serve them sooner: the oldest has not yet waited as long as
// a dial takes, or the connections, each freeing up once per request's
// time on it, will free up for all of them within a dial's time.
//
// A dial costs the generator several requests' CPU. After a stall (GC,
// a busy core, a descheduled VM) hundreds of requests are due at once;
// dialling for each of them saturated the core, every response then
// waited to be noticed (in Go's poller up to 10 ms while the core is
// busy; see poll_linux.go), which took more connections, and the queue
// grew to thousands of them (bench/HISTORY.md). Served by the
// connections already open, such a backlog drains in milliseconds.
func (h *hostPool) dialIfNeededLocked(now, deadline time.Time) {
	if len(h.waiters) <= h.dialing || h.open >= h.max {
		return
	}
	established := h.open - h.dialing
	if h.dialing >= min(maxDials, max(4, established)) {
		return
	}
	if busy := established - len(h.idle); busy > 0 && h.eager <= h.dialing {
		if now.Sub(h.waiters[0].since) < max(h.dialAvg, minDialWait) {
			return // a connection may yet free up sooner than one is dialled
		}
		// Releases to expect while a dial runs, busy connections each
		// freeing up once per busyAvg: if they cover the requests waiting
		// beyond the dials under way, a dial would not serve one sooner.
		if h.busyAvg > 0 && float64(len(h.waiters)-h.dialing) <= float64(busy)*float64(max(h.dialAvg, minDialWait))/float64(h.busyAvg) {
			return
		}
	}
	h.open++
	h.dialing++
	go h.dial(deadline)
}

// minDialWait is the least a request waits for a connection to free up
// before one is dialled for it, when some are open.
const minDialWait = 100 * time.Microsecond

// ewma moves avg an eighth of the way to d.
func ewma(avg, d time.Duration) time.Duration {
	if avg == 0 {
		return d
	}
	return avg + (d-avg)/8
}

// dequeued accounts for w leaving the waiters.
func (h *hostPool) dequeued(w *connWaiter) {
	if !w.share {
		h.eager--
	}
}

// oldestLocked takes the oldest waiter off the queue (nil if none).
func (h *hostPool) oldestLocked() *connWaiter {
	if len(h.waiters) == 0 {
		return nil
	}
	w := h.waiters[0]
	h.waiters[0] = nil
	h.waiters = h.waiters[1:]
	h.dequeued(w)
	return w
}

// serveLocked hands c to the oldest waiter, or pools it.
func (h *hostPool) serveLocked(c *conn) {
	if w := h.oldestLocked(); w != nil {
		w.ch <- connResult{c: c}
		return
	}
	h.idle = append(h.idle, c)
}

// release returns c after a request that held it for busy, ending at end.
func (h *hostPool) release(c *conn, end time.Time, busy time.Duration) {
	c.reused = true
	h.mu.Lock()
	h.busyAvg = ewma(h.busyAvg, busy)
	h.serveLocked(c)
	h.dialIfNeededLocked(end, end.Add(dialTimeout))
	h.mu.Unlock()
}

// put returns c, free for another request.
func (h *hostPool) put(c *conn) {
	c.reused = true
	h.mu.Lock()
	h.serveLocked(c)
	h.mu.Unlock()
}

// discard closes c; a waiting request may get a new connection instead.
func (h *hostPool) discard(c *conn) {
	c.close()
	h.mu.Lock()
	h.open--
	now := time.Now()
	h.dialIfNeededLocked(now, now.Add(dialTimeout))
	h.mu.Unlock()
}

// dial connects, on a goroutine of its own (dialling goes deep enough to
// double a VU's stack, which it would keep for the whole run), and hands
// the connection, or the error, to the oldest waiter.
func (h *hostPool) dial(deadline time.Time) {
	began := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	nc, err := h.t.dialer.DialContext(ctx, "tcp", h.addr)
	var c *conn
	if err == nil {
		// A new connection is as fresh as an idle one just released.
		c = &conn{nc: nc, idleSince: time.Now()}
		if err = c.init(); err != nil {
			nc.Close()
		}
	}
	took := time.Since(began)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dialing--
	if err != nil {
		h.open--
		if w := h.oldestLocked(); w != nil {
			w.ch <- connResult{err: err}
		}
		now := time.Now()
		h.dialIfNeededLocked(now, now.Add(dialTimeout)) // the others try their own
		return
	}
	h.dialAvg = ewma(h.dialAvg, took)
	h.serveLocked(c)
	now := time.Now()
	h.dialIfNeededLocked(now, now.Add(dialTimeout))
}

// conn is one connection; one request uses it at a time.
type conn struct {
	nc        net.Conn
	raw       syscall.RawConn
	deadline  time.Time
	idleSince time.Time
	reused    bool
	rd        rawIO // unix only

	// On Linux, a request that shares connections (open and batch
	// arrivals) waits on the shared poller (poll_linux.go), which
	// wakes it through wake, as do the deadline's timer (pdeadline) and
	// the end of the request's context. pl is set while c is registered
	// with it; nil elsewhere.
	pl        *poller
	fd        int
	wake      chan struct{}
	timer     *time.Timer
	pdeadline time.Time
	entry     *pollEntry // c's entry in pl's table

	// killed is set when the context of the request using c ends; c is
	// then closed rather than reused.
	killed atomic.Bool
	busy   atomic.Bool // a request is using c
	// The context c watches: registered once and kept across requests
	// while they use the same one (a VU's requests mostly do), rather
	// than registered and dropped around every request. Only the
	// goroutine using c changes them, under mu; cancelled reads them
	// under mu.
	mu        sync.Mutex
	watching  <-chan struct{}
	stopWatch func() bool
}

// watch makes ctx's end abort what c is doing, and marks c busy. It
// fails when ctx has already ended.
//
// c stops watching the previous request's context before it counts as
// busy: a step that cancels its own context as it ends (a poll) would
// otherwise, run at that moment, abort the VU's next request on c.
func (c *conn) watch(ctx context.Context) error {
	if done := ctx.Done(); done != c.watching {
		c.mu.Lock()
		if c.stopWatch != nil {
			c.stopWatch() // if it already runs, it finds c watching another
		}
		c.watching, c.stopWatch = done, nil
		if done != nil {
			c.stopWatch = context.AfterFunc(ctx, func() { c.cancelled(done) })
		}
		c.mu.Unlock()
	}
	c.busy.Store(true)
	// ctx may have ended just before busy was set, when cancelled would
	// have left c alone: look again now that it is.
	return ctx.Err()
}

// cancelled runs when the context c watched as done ends. Only a request
// under that very context is aborted: one that ended earlier may have
// handed c to a request under another.
func (c *conn) cancelled(done <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watching == done && c.busy.Load() {
		c.killed.Store(true)
		c.nc.SetDeadline(time.Unix(1, 0))
		c.notify() // a wait on the shared poller
	}
}

// idle marks c free of requests; it reports whether c may be reused.
func (c *conn) idle() bool {
	c.busy.Store(false)
	return !c.killed.Load()
}

func (c *conn) close() {
	c.mu.Lock()
	if c.stopWatch != nil {
		c.stopWatch()
	}
	c.watching, c.stopWatch = nil, nil
	c.mu.Unlock()
	c.pollClose()
	c.nc.Close()
}

// splitHTTPURL splits an absolute http URL into host:port (port 80 when
// absent) and the request target (path and query, "/" when empty).
func splitHTTPURL(u string) (hostport, target string, err error) {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		if len(u) >= 7 && strings.EqualFold(u[:7], "http://") {
			rest = u[7:]
		} else {
			return "", "", fmt.Errorf("%q: this transport speaks http:// only", u)
		}
	}
	i := 0
	for i < len(rest) && rest[i] != '/' && rest[i] != '?' && rest[i] != '#' {
		i++
	}
	if i == len(rest) {
		i = -1
	}
	host := rest
	target = "/"
	if i >= 0 {
		host = rest[:i]
		target = rest[i:]
		if target[0] == '?' {
			target = "/" + target // allocates; rare
		}
		if j := strings.IndexByte(target, '#'); j >= 0 {
			target = target[:j]
			if target == "" {
				target = "/"
			}
		}
	}
	if host == "" {
		return "", "", fmt.Errorf("%q: no host", u)
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c <= ' ' || c == 0x7f {
			return "", "", fmt.Errorf("%q: the host has a space or control character", u)
		}
	}
	if strings.IndexByte(host, '@') >= 0 {
		return "", "", fmt.Errorf("%q: credentials in the URL are not sent; use the plan's auth", u)
	}
	hostport = host
	if !hasPort(host) {
		hostport = host + ":80" // allocates; targets usually name a port
	}
	return hostport, target, nil
}

func hasPort(host string) bool {
	i := strings.LastIndexByte(host, ':')
	return i >= 0 && i > strings.LastIndexByte(host, ']')
}

// appendRequest appends req's HTTP/1.1 request message to b.
func appendRequest(b []byte, req *client.Request, hostport, target string) ([]byte, error) {
	method := req.Method
	if method == "" {
		method = "GET"
	}
	for i := 0; i < len(method); i++ {
		if !IsTokenChar(method[i]) {
			return b, fmt.Errorf("method %q is not a token", method)
		}
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c == 0x7f {
			return b, fmt.Errorf("request target %q has a space or control character: percent-encode it", target)
		}
	}
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, target...)
	b = append(b, " HTTP/1.1\r\n"...)
	hasHost, hasUA := false, false
	for _, f := range req.Header {
		switch {
		case equalFold(f.Name, "Host"):
			hasHost = true
		case equalFold(f.Name, "User-Agent"):
			hasUA = true
		case equalFold(f.Name, "Content-Length"), equalFold(f.Name, "Transfer-Encoding"):
			continue // the framing is ours, from the body (net/http drops both too)
		}
		if f.Name == "" {
			return b, errors.New("a header has an empty name")
		}
		for i := 0; i < len(f.Name); i++ {
			if !IsTokenChar(f.Name[i]) {
				return b, fmt.Errorf("header name %q is not a token", f.Name)
			}
		}
		for i := 0; i < len(f.Value); i++ {
			if c := f.Value[i]; c == '\r' || c == '\n' || c == 0 {
				return b, fmt.Errorf("header %s: value has a line break or NUL", f.Name)
			}
		}
		b = append(b, f.Name...)
		b = append(b, ": "...)
		b = append(b, f.Value...)
		b = append(b, "\r\n"...)
	}
	if !hasHost {
		b = append(b, "Host: "...)
		b = append(b, strings.TrimSuffix(hostport, ":80")...)
		b = append(b, "\r\n"...)
	}
	if !hasUA {
		b = append(b, "User-Agent: floodgate\r\n"...)
	}
	if len(req.Body) > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(req.Body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, req.Body...), nil
}

// writeReadPlain and readPlain read the response's first bytes with
// net.Conn.Read, where there is no readiness API (conn_other.go) or the
// connection is not a socket: the buffer is held while waiting.
func writeReadPlain(c *conn, pool *sync.Pool, st *reqState) (*[]byte, int, error) {
	if _, err := c.nc.Write(st.wbuf); err != nil {
		return nil, 0, err
	}
	st.written = true
	return readPlain(c, pool)
}

func readPlain(c *conn, pool *sync.Pool) (*[]byte, int, error) {
	bp := pool.Get().(*[]byte)
	n, err := c.nc.Read(*bp)
	if n > 0 {
		return bp, n, nil
	}
	pool.Put(bp)
	if err == nil {
		err = errors.New("read returned nothing")
	}
	return nil, 0, err
}

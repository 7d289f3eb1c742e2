//go:build linux

package h1

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
	"weak"

	"golang.org/x/sys/unix"
)

// The h1 connections wait for their responses on an epoll instance of
// their own rather than in Go's network poller, because of when Go looks
// at the network: when a P runs out of goroutines to run, and otherwise
// only every 10 ms (sysmon). A generator that falls behind (a stall: GC,
// a descheduled VM, the hypervisor taking the core) has a backlog of
// arrivals to send, so its run queue never empties, and every response
// then waits up to 10 ms to be noticed. Each connection serves at most
// one request per 10 ms, 200 of them at most 20,000/s: an open model
// asked that much never catches up, dials for more connections, which
// cost more CPU per request, and drops arrivals by the thousand
// (bench/HISTORY.md, session 4).
//
// So a goroutine about to wait for a response first polls this epoll
// instance itself, at most once per pollEvery across the process, and
// wakes the connections whose responses have come: while the generator
// is busy, responses are noticed within about pollEvery, not 10 ms. When
// it is idle, Go's poller (which watches the epoll instance's own file
// descriptor) wakes a goroutine that polls it, as it would wake a
// connection's. (The polls while busy come from requests: a core kept
// busy by other work, an in-process server say, still leaves responses
// to Go's poller's 10 ms.)
type poller struct {
	epfd int
	// last is when the last poll began, in ns since pollEpoch.
	last atomic.Int64
	mu   sync.Mutex // held while polling, and guards evs
	evs  [128]unix.EpollEvent
	// conns maps a file descriptor to its connection. It is replaced,
	// never changed in place, when it grows (under grow). The pointers
	// are weak: a connection no one closed is collected, and its file
	// (and so its registration) closed, as it would be without a poller.
	conns atomic.Pointer[[]atomic.Pointer[pollEntry]]
	grow  sync.Mutex
	file  *os.File // epfd, as Go's poller watches it
}

// pollEvery is the least time between two polls by goroutines about to
// wait: a system call per pollEvery at most, and responses noticed that
// much later at worst while the generator is busy.
const pollEvery = 100 * time.Microsecond

var (
	pollEpoch  = time.Now()
	pollerOnce sync.Once
	thePoller  *poller // nil when epoll could not be set up: Go's poller is used
)

// PollsArrivals reports whether t's requests that share connections
// (open and batch arrivals) wait on the shared poller, which notices
// responses while the process is busy; if not, they wait in Go's poller.
// It starts the shared poller, as their first request would.
func (t *Transport) PollsArrivals() bool { return sharedPoller() != nil }

// sharedPoller returns the process's poller, starting it on first use.
func sharedPoller() *poller {
	pollerOnce.Do(func() {
		p, err := newPoller(true)
		if err == nil {
			thePoller = p
		}
	})
	return thePoller
}

// newPoller sets up an epoll instance; with idle, Go's poller watches it
// (tests leave that out to see what kick does alone).
func newPoller(idle bool) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	// Non-blocking, so that os.NewFile hands it to Go's poller.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	p := &poller{epfd: epfd, file: os.NewFile(uintptr(epfd), "floodgate-epoll")}
	empty := make([]atomic.Pointer[pollEntry], 0)
	p.conns.Store(&empty)
	if !idle {
		return p, nil
	}
	if err := p.watch(); err != nil {
		p.file.Close()
		return nil, err
	}
	return p, nil
}

// watch starts the goroutine that polls p whenever Go's poller finds the
// epoll instance readable (for the life of the process), and checks
// that it does: an eventfd registered with p and written once must wake
// it. Were that chain broken, a connection would wait forever when the
// generator is idle; newPoller fails instead, and Go's poller is used.
func (p *poller) watch() error {
	raw, err := p.file.SyscallConn()
	if err != nil {
		return err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	defer unix.Close(efd)
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(efd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	defer unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, efd, nil)

	polled, woken, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	checking := true // under p.mu: efd is open and not yet read
	defer func() {
		p.mu.Lock()
		checking = false
		p.mu.Unlock()
	}()
	go func() {
		calls, check := 0, [8]byte{}
		ended <- raw.Read(func(uintptr) bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.last.Store(int64(time.Since(pollEpoch)))
			p.pollLocked()
			if calls++; calls == 1 {
				close(polled)
			} else if checking {
				if n, _ := unix.Read(efd, check[:]); n == len(check) {
					checking = false
					close(woken)
				}
			}
			return false // wait again
		})
	}()
	select {
	case <-polled:
	case err := <-ended:
		return err
	}
	one := [8]byte{1}
	if _, err := unix.Write(efd, one[:]); err != nil {
		return os.NewSyscallError("write", err)
	}
	select {
	case <-woken:
		return nil
	case err := <-ended:
		return fmt.Errorf("waiting on the epoll instance: %w", err)
	case <-time.After(5 * time.Second):
		return errors.New("Go's poller did not report the epoll instance readable")
	}
}

// add registers c (its fd set), edge-triggered: every arrival of data
// wakes c once.
func (p *poller) add(c *conn) error {
	wp := weak.Make(c)
	c.entry = &wp
	p.grow.Lock()
	tab := *p.conns.Load()
	if c.fd >= len(tab) {
		bigger := make([]atomic.Pointer[pollEntry], max(2*len(tab), c.fd+1, 64))
		for i := range tab {
			bigger[i].Store(tab[i].Load())
		}
		tab = bigger
		p.conns.Store(&tab)
	}
	tab[c.fd].Store(c.entry)
	p.grow.Unlock()
	// Registered only once c is in the table: a poll looks the table up
	// after its events, so it finds c for any event of c's.
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(c.fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.forget(c)
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// remove unregisters c, before its fd is closed (and may be reused).
func (p *poller) remove(c *conn) {
	unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	p.forget(c)
}

func (p *poller) forget(c *conn) {
	p.grow.Lock()
	tab := *p.conns.Load()
	tab[c.fd].CompareAndSwap(c.entry, nil)
	p.grow.Unlock()
}

// kick polls unless some goroutine did within pollEvery, or is polling.
func (p *poller) kick() {
	now := int64(time.Since(pollEpoch))
	if now-p.last.Load() < int64(pollEvery) || !p.mu.TryLock() {
		return
	}
	p.last.Store(now)
	p.pollLocked()
	p.mu.Unlock()
}

// pollLocked wakes the connections with news, without waiting for any.
func (p *poller) pollLocked() {
	for {
		// epoll_pwait with a zero timeout cannot block: a raw system
		// call, as for sysRead. (arm64 has no epoll_wait.)
		n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd),
			uintptr(unsafe.Pointer(&p.evs[0])), uintptr(len(p.evs)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || n == 0 {
			return
		}
		tab := *p.conns.Load()
		for i := range int(n) {
			if fd := int(p.evs[i].Fd); fd < len(tab) {
				if wp := tab[fd].Load(); wp != nil {
					if c := wp.Value(); c != nil {
						c.notify()
					}
				}
			}
		}
		if int(n) < len(p.evs) {
			return
		}
	}
}

// pollMode readies c for a request that waits on the shared poller
// (want) or in Go's, and reports whether it is the shared poller's. A
// connection registers when a request first wants it, and leaves when a
// request does not: Go's poller costs closed-model requests less
// (bench/HISTORY.md), and a closed VU's next request waits for
// its response, so no backlog of arrivals keeps the core busy.
func (c *conn) pollMode(want bool) bool {
	if want && c.pl == nil {
		c.pollWith(sharedPoller())
	} else if !want && c.pl != nil {
		c.pollClose()
	}
	return c.pl != nil
}

// pollWith registers c with p; c keeps Go's poller if that fails.
func (c *conn) pollWith(p *poller) {
	if p == nil || c.raw == nil {
		return
	}
	fd := -1
	if err := c.raw.Control(func(s uintptr) { fd = int(s) }); err != nil || fd < 0 {
		return
	}
	c.fd = fd
	if p.add(c) == nil {
		c.pl = p
	}
}

// pollPrepare readies c for the shared poller, as it is made: wake is
// set once, before c serves a request, as the goroutines that wake it (a
// poll, a timer, a context's end) read it without a lock.
func (c *conn) pollPrepare() { c.wake = make(chan struct{}, 1) }

// notify wakes c's request, if it waits on the shared poller, or the
// next such wait.
func (c *conn) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// pollDeadline makes c's waits fail from dl on (a request always has a
// deadline: its timeout, or an hour).
func (c *conn) pollDeadline(dl time.Time) {
	if c.timer == nil {
		c.timer = time.AfterFunc(time.Until(dl), c.notify)
		return
	}
	c.timer.Reset(time.Until(dl))
}

// pollClose unregisters c: before its fd closes, or for Go's poller.
func (c *conn) pollClose() {
	if c.pl == nil {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.pdeadline = time.Time{} // the timer is set again on return
	c.pl.remove(c)
	c.pl = nil
}

// writeReadPolled is writeRead on c's own poller: it writes the request
// and waits for the first bytes of the response.
func (c *conn) writeReadPolled(pool *sync.Pool, st *reqState) (*[]byte, int, error) {
	// A wake-up left from the previous response would only cost a read.
	select {
	case <-c.wake:
	default:
	}
	for wrote := 0; wrote < len(st.wbuf); {
		n, err := sysWrite(c.fd, st.wbuf[wrote:])
		if n > 0 {
			wrote += n
		}
		switch err {
		case nil, syscall.EINTR:
			continue
		case syscall.EAGAIN: // the send buffer is full: a large request
			// net.Conn's deadline now differs from c.deadline: a zero
			// c.deadline makes the next request in Go's poller set it.
			c.deadline = time.Time{}
			if err := c.nc.SetWriteDeadline(c.pdeadline); err != nil {
				return nil, 0, err
			}
			if _, err := c.nc.Write(st.wbuf[wrote:]); err != nil {
				return nil, 0, err
			}
			wrote = len(st.wbuf)
		default:
			return nil, 0, os.NewSyscallError("write", err)
		}
	}
	st.written = true
	// The response cannot have come yet: wait for it rather than read
	// for nothing. The buffer is taken only to read.
	err := c.await(false)
	for err == nil {
		bp := pool.Get().(*[]byte)
		n, rerr := c.readOnce(*bp)
		if rerr == nil {
			return bp, n, nil
		}
		pool.Put(bp)
		if rerr != syscall.EAGAIN {
			return nil, 0, rerr
		}
		err = c.await(true)
	}
	return nil, 0, err
}

// readOnce reads into p: EAGAIN when there is nothing to read.
func (c *conn) readOnce(p []byte) (int, error) {
	for {
		n, err := sysRead(c.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, err
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// await waits for news of c: data, the deadline, the request's end.
// again says a wait found nothing to read: then the deadline is looked
// at (its timer may have been what woke c).
func (c *conn) await(again bool) error {
	if c.killed.Load() || again && !time.Now().Before(c.pdeadline) {
		return os.ErrDeadlineExceeded
	}
	c.pl.kick()
	<-c.wake
	if c.killed.Load() {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// source is what a response is read from: c.nc, or, for a request on
// the shared poller, a reader that waits on it.
func (c *conn) source(polled bool) io.Reader {
	if polled {
		return polledReader{c}
	}
	return c.nc
}

// polledReader reads the rest of a response from a polled connection.
type polledReader struct{ c *conn }

func (r polledReader) Read(p []byte) (int, error) {
	for {
		n, err := r.c.readOnce(p)
		if err != syscall.EAGAIN {
			return n, err
		}
		if err := r.c.await(true); err != nil {
			return 0, err
		}
	}
}

// pollEntry is a connection's entry in a poller's table.
type pollEntry = weak.Pointer[conn]

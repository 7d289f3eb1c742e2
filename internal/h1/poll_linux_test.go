//go:build linux

package h1

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// socketPair returns a registered-ready connection (as the transport's
// conn) and the peer that plays the server.
func socketPair(t *testing.T) (*conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	netConn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		nc, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}
	c := &conn{nc: netConn(fds[0])}
	return c, netConn(fds[1])
}

// privatePair is socketPair's connection registered with a poller of
// its own that Go's poller does not watch: only kick polls it.
func privatePair(t *testing.T) (*poller, *conn, net.Conn) {
	t.Helper()
	p, err := newPoller(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.file.Close() })
	c, peer := socketPair(t)
	if err := c.init(); err != nil {
		t.Fatal(err)
	}
	c.pollWith(p)
	if c.pl != p {
		t.Fatal("the connection did not register")
	}
	return p, c, peer
}

func woken(c *conn) bool {
	select {
	case <-c.wake:
		return true
	default:
		return false
	}
}

// TestPollerKickWakesConnections: a goroutine's kick alone (no Go poller
// watching the epoll instance) wakes a connection whose response has
// come, and only once pollEvery has passed since the last poll.
func TestPollerKickWakesConnections(t *testing.T) {
	p, c, peer := privatePair(t)
	defer c.close()

	p.last.Store(int64(time.Since(pollEpoch)) + int64(time.Hour)) // polled "just now"
	p.kick()
	if woken(c) {
		t.Fatal("woken with nothing to read")
	}
	if _, err := peer.Write([]byte("HTTP/1.1 200 OK\r\n")); err != nil {
		t.Fatal(err)
	}
	p.kick()
	if woken(c) {
		t.Fatal("a kick within pollEvery of the last poll polled")
	}
	p.last.Store(0)
	p.kick()
	if !woken(c) {
		t.Fatal("a kick did not wake the connection its data came to")
	}
	// Edge-triggered: no news, no second wake.
	p.last.Store(0)
	p.kick()
	if woken(c) {
		t.Fatal("woken twice for one arrival")
	}
}

// TestPollerForgetsClosedConnections: after close, the connection's fd
// no longer wakes it, even if the number is reused.
func TestPollerForgetsClosedConnections(t *testing.T) {
	p, c, peer := privatePair(t)
	entry := c.entry
	c.pollClose()
	if c.pl != nil {
		t.Fatal("still registered")
	}
	if _, err := peer.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	p.last.Store(0)
	p.kick()
	if woken(c) {
		t.Fatal("a removed connection was woken")
	}
	if tab := *p.conns.Load(); entry == nil || tab[c.fd].Load() != nil {
		t.Fatal("the table still holds the removed connection")
	}
}

// TestPollerWakesWhenIdle: with nothing else running, Go's poller
// watching the epoll instance wakes the connection (no kick).
func TestPollerWakesWhenIdle(t *testing.T) {
	c, peer := socketPair(t)
	if err := c.init(); err != nil {
		t.Fatal(err)
	}
	if !c.pollMode(true) {
		t.Fatal("not on the shared poller")
	}
	defer c.close()
	if _, err := peer.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.wake:
	case <-time.After(h1TestBound):
		t.Fatalf("not woken within %v", h1TestBound)
	}
}

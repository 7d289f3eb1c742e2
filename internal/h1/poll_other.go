//go:build !linux

package h1

import (
	"io"
	"sync"
	"time"
)

// poller is Linux's (poll_linux.go); elsewhere connections wait in
// Go's network poller: pollMode says no, and pl stays nil.
type (
	poller    struct{}
	pollEntry struct{}
)

// PollsArrivals reports false: arrivals wait in Go's poller here.
func (t *Transport) PollsArrivals() bool { return false }

func (c *h1Conn) pollMode(bool) bool     { return false }
func (c *h1Conn) pollPrepare()           {}
func (c *h1Conn) pollClose()             {}
func (c *h1Conn) pollDeadline(time.Time) {}
func (c *h1Conn) notify()                {}
func (c *h1Conn) source(bool) io.Reader  { return c.nc }
func (c *h1Conn) writeReadPolled(*sync.Pool, *h1State) (*[]byte, int, error) {
	panic("floodgate: no poller on this system")
}

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

func (c *conn) pollMode(bool) bool     { return false }
func (c *conn) pollPrepare()           {}
func (c *conn) pollClose()             {}
func (c *conn) pollDeadline(time.Time) {}
func (c *conn) notify()                {}
func (c *conn) source(bool) io.Reader  { return c.nc }
func (c *conn) writeReadPolled(*sync.Pool, *reqState) (*[]byte, int, error) {
	panic("floodgate: no poller on this system")
}

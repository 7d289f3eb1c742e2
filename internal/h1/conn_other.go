//go:build !unix

package h1

import (
	"sync"
	"time"
)

func (c *h1Conn) init() error { return nil }

// writeRead writes st.wbuf and reads the first bytes of the response into
// a pooled buffer. Without a readiness API the buffer is held while
// waiting.
func (c *h1Conn) writeRead(pool *sync.Pool, st *h1State) (*[]byte, int, error) {
	return writeReadPlain(c, pool, st)
}

type rawIO struct{}

// closedByPeer has no non-blocking peek here: a request on a connection
// the server closed fails, and goes again when it may (retryStale).
func (c *h1Conn) closedByPeer(time.Time, bool) bool { return false }

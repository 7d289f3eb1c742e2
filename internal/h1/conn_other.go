//go:build !unix

package h1

import (
	"sync"
	"time"
)

func (c *conn) init() error { return nil }

// writeRead writes st.wbuf and reads the first bytes of the response into
// a pooled buffer. Without a readiness API the buffer is held while
// waiting.
func (c *conn) writeRead(pool *sync.Pool, st *reqState) (*[]byte, int, error) {
	return writeReadPlain(c, pool, st)
}

type rawIO struct{}

// closedByPeer has no non-blocking peek here: a request on a connection
// the server closed fails, and goes again when it may (retryStale).
func (c *conn) closedByPeer(time.Time, bool) bool { return false }

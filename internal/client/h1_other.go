//go:build !unix

package client

import (
	"errors"
	"sync"
)

func (c *h1Conn) init() error { return nil }

// writeRead writes st.wbuf and reads the first bytes of the response into
// a pooled buffer. Without a readiness API the buffer is held while
// waiting.
func (c *h1Conn) writeRead(pool *sync.Pool, st *h1State) (*[]byte, int, error) {
	if _, err := c.nc.Write(st.wbuf); err != nil {
		return nil, 0, err
	}
	st.written = true
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

type rawIO struct{}

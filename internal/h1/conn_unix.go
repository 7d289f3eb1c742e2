//go:build unix

package h1

import (
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

func (c *conn) init() error {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	c.raw = raw
	if err := raw.Control(func(fd uintptr) { c.fd = int(fd) }); err != nil {
		return err
	}
	c.rd.fn = c.rd.run
	c.pollPrepare()
	return nil
}

// closedByPeer reports whether idle c must not carry a request: the
// peer closed it (EOF, or a reset, waiting in the socket) or sent bytes
// no request asked for (a 408 before closing, say). Once a request's
// bytes are written, a server that may have acted on them cannot be
// told apart from one that never saw them, so this is looked at before
// writing: a recv(2) with MSG_PEEK that does not block. It is skipped,
// unless always, for a connection idle under staleCheckIdle that the
// shared poller has no news of.
func (c *conn) closedByPeer(now time.Time, always bool) bool {
	if c.raw == nil {
		return false
	}
	if !always && now.Sub(c.idleSince) < staleCheckIdle {
		select {
		case <-c.wake: // news while idle (only a polled connection has any)
		default:
			return false
		}
	}
	var b [1]byte
	for {
		n, err := sysPeek(c.fd, b[:])
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // nothing waiting: still open
		}
		return err != nil || n >= 0 // an error, EOF (0) or unasked-for bytes
	}
}

// writeRead writes st.wbuf and reads the first bytes of the response,
// in one RawConn.Read: its callback writes the request on its first call
// and reads on the next, once the socket is readable. That spares the
// read that would find nothing (the response cannot be there yet) and
// net.Conn's write path: one system call and about a microsecond a
// request. The read buffer is taken from pool only when there is
// something to read, so a request waiting for its response holds none.
// It returns the buffer and the bytes read (at least one); st.written
// tells whether the whole request went out.
//
// The write must happen inside the callback: RawConn.Read clears the
// socket's readiness before its first call, so a response that arrived
// after a write made outside and before that call would never wake it.
func (c *conn) writeRead(pool *sync.Pool, st *reqState) (*[]byte, int, error) {
	if st.polled {
		return c.writeReadPolled(pool, st)
	}
	if c.raw == nil {
		return writeReadPlain(c, pool, st)
	}
	r := &c.rd
	r.pool, r.wbuf, r.wrote, r.werr = pool, st.wbuf, 0, nil
	err := c.raw.Read(r.fn)
	wrote, werr := r.wrote, r.werr
	r.wbuf = nil
	if err == nil && werr == syscall.EAGAIN { // the send buffer is full: a large request
		r.take() // nothing was read
		if _, err := c.nc.Write(st.wbuf[wrote:]); err != nil {
			return nil, 0, err
		}
		st.written = true
		return c.readReady(pool)
	}
	st.written = wrote == len(st.wbuf)
	if err == nil && werr != nil {
		r.take()
		return nil, 0, os.NewSyscallError("write", werr)
	}
	return r.result(err)
}

// readReady reads the first bytes of a response, taking the buffer from
// pool only once the socket is readable.
func (c *conn) readReady(pool *sync.Pool) (*[]byte, int, error) {
	if c.raw == nil {
		return readPlain(c, pool)
	}
	r := &c.rd
	r.pool, r.wbuf = pool, nil
	return r.result(c.raw.Read(r.fn))
}

// rawIO is the callback RawConn.Read runs and what it did; it lives in
// the connection (fn is bound once) so that a round trip allocates
// nothing.
type rawIO struct {
	fn   func(fd uintptr) bool
	pool *sync.Pool
	// The request still to write (nil: none), and how that went.
	wbuf  []byte
	wrote int
	werr  error
	// What the read got.
	bp  *[]byte
	n   int
	err error
}

func (r *rawIO) run(fd uintptr) bool {
	if r.wbuf != nil {
		for r.wrote < len(r.wbuf) {
			n, err := sysWrite(int(fd), r.wbuf[r.wrote:])
			if n > 0 {
				r.wrote += n
			}
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				r.werr = err
				return true // EAGAIN included: writeRead finishes the write
			}
		}
		r.wbuf = nil
		return false // sent: wait for the answer, without a buffer
	}
	r.bp = r.pool.Get().(*[]byte)
	for {
		r.n, r.err = sysRead(int(fd), *r.bp)
		if r.err != syscall.EINTR {
			break
		}
	}
	if r.err == syscall.EAGAIN {
		r.pool.Put(r.bp)
		r.bp = nil
		return false // not readable yet: wait in the netpoller, bufferless
	}
	return true
}

// take returns and clears what the read got.
func (r *rawIO) take() (bp *[]byte, n int, err error) {
	bp, n, err = r.bp, r.n, r.err
	r.bp, r.n, r.err, r.pool = nil, 0, nil, nil
	return bp, n, err
}

// result turns the read's outcome (err: RawConn.Read's own) into a
// buffer holding at least one byte, or an error.
func (r *rawIO) result(err error) (*[]byte, int, error) {
	pool := r.pool
	bp, n, rerr := r.take()
	if err == nil && rerr != nil {
		err = os.NewSyscallError("read", rerr)
	}
	if err == nil && n <= 0 {
		err = io.EOF
	}
	if err != nil {
		if bp != nil {
			pool.Put(bp)
		}
		return nil, 0, err
	}
	return bp, n, nil
}

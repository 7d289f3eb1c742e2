package notifications

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
)

// MaxFrameBytes bounds one client WebSocket frame's payload: the emulator's
// own bound (clients send only {"message":"ping"}); the platform documents
// none. A frame header claiming more closes the socket at once, before any
// of the payload is awaited: the library's read limit only counts bytes
// that arrive, so a client could otherwise hold a reader forever.
const MaxFrameBytes = 64 << 10

var errFrameTooLarge = errors.New("notifications: client frame over 64 KiB")

// guardedWriter hands the WebSocket library a hijacked connection whose
// reads pass through a frameGuard.
type guardedWriter struct {
	http.ResponseWriter
	guard *frameGuard
}

func (g *guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := g.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("notifications: connection cannot be hijacked")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The library reads the connection itself once it has drained the
	// reader returned here, so the guard wraps the connection: what the
	// server had buffered, then everything after.
	b, _ := brw.Reader.Peek(brw.Reader.Buffered())
	g.guard = &frameGuard{r: io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn), max: MaxFrameBytes}
	gc := &guardedConn{Conn: conn, guard: g.guard}
	return gc, bufio.NewReadWriter(bufio.NewReader(gc), brw.Writer), nil
}

// guardedConn is a connection whose reads pass through a frameGuard.
type guardedConn struct {
	net.Conn
	guard *frameGuard
}

func (c *guardedConn) Read(p []byte) (int, error) { return c.guard.Read(p) }

// frameGuard follows the frames of a client's byte stream (RFC 6455 §5.2)
// and fails the read in which a header claims a payload over max.
type frameGuard struct {
	r       io.Reader
	max     uint64
	hdr     [14]byte
	hn      int    // header bytes seen
	need    int    // header length once known (0: not yet)
	payload uint64 // payload bytes still to pass
	err     error
}

func (g *frameGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i := 0; i < n; {
		if g.payload > 0 {
			k := uint64(n - i)
			if k > g.payload {
				k = g.payload
			}
			g.payload -= k
			i += int(k)
			continue
		}
		g.hdr[g.hn] = p[i]
		g.hn++
		i++
		if g.hn == 2 {
			g.need = 2
			switch g.hdr[1] & 0x7f {
			case 126:
				g.need += 2
			case 127:
				g.need += 8
			}
			if g.hdr[1]&0x80 != 0 {
				g.need += 4 // masking key
			}
		}
		if g.hn < 2 || g.hn < g.need {
			continue
		}
		length := uint64(g.hdr[1] & 0x7f)
		switch length {
		case 126:
			length = uint64(binary.BigEndian.Uint16(g.hdr[2:4]))
		case 127:
			length = binary.BigEndian.Uint64(g.hdr[2:10])
		}
		if length > g.max {
			g.err = errFrameTooLarge
			return 0, g.err
		}
		g.payload, g.hn, g.need = length, 0, 0
	}
	return n, err
}

// tooLarge reports whether the guard cut the stream.
func (g *frameGuard) tooLarge() bool { return g != nil && errors.Is(g.err, errFrameTooLarge) }

package h1

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/floodgate-dev/floodgate/internal/client"
)

// This file reads HTTP/1.x responses (RFC 9112) for Transport. Its
// rules follow net/http's where RFC 9112 leaves room, and
// FuzzH1ParseResponse checks it against http.ReadResponse.

// reader buffers reads from src in buf, which it does not own: the
// transport lends it a pooled buffer for one response.
type reader struct {
	src  io.Reader
	buf  []byte
	r, w int
	// n counts bytes consumed from src (status line to last body byte).
	n int64
	// headMax bounds a response's header section, interim responses
	// and trailers included (0: only by buf's size), as net/http's
	// MaxResponseHeaderBytes does: a line is bounded by buf, and without
	// this the lines of one section would not be.
	headMax int64
}

// section fails with errHeaderTooLarge when more than b.headMax bytes
// have been consumed since start.
func (b *reader) section(start int64) error {
	if b.headMax > 0 && b.n-start > b.headMax {
		return headerTooLarge(b.headMax)
	}
	return nil
}

// fill reads more into buf after compacting it; it fails with
// errHeaderTooLarge when buf is full of unconsumed bytes.
func (b *reader) fill() error {
	if b.r > 0 {
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	if b.w == len(b.buf) {
		return headerTooLarge(int64(len(b.buf)))
	}
	for range 100 {
		n, err := b.src.Read(b.buf[b.w:])
		b.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// line returns the next line without its line ending (LF or CRLF), and
// the bytes it spanned, reading more as needed. The line aliases buf and
// is valid until the next read.
func (b *reader) line() (line []byte, err error) {
	scanned := 0 // bytes after b.r searched already
	for {
		if j := bytes.IndexByte(b.buf[b.r+scanned:b.w], '\n'); j >= 0 {
			end := b.r + scanned + j
			line = b.buf[b.r:end]
			b.n += int64(end + 1 - b.r)
			b.r = end + 1
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			return line, nil
		}
		scanned = b.w - b.r
		if err := b.fill(); err != nil {
			if err == io.EOF && b.w > b.r {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// readFull copies exactly len(p) bytes: buffered ones first, the rest
// straight from src.
func (b *reader) readFull(p []byte) error {
	k := copy(p, b.buf[b.r:b.w])
	b.r += k
	b.n += int64(k)
	if k == len(p) {
		return nil
	}
	m, err := io.ReadFull(b.src, p[k:])
	b.n += int64(m)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

var (
	errHeaderTooLarge = errors.New("response header section is larger than defaults.response_header_bytes (status line, fields and any interim responses or trailers): raise it")
	errBodyTooLarge   = fmt.Errorf("response body larger than %d MiB", client.MaxBodyBytes>>20)
)

// headerTooLarge is errHeaderTooLarge with the bound that was hit.
func headerTooLarge(limit int64) error {
	return fmt.Errorf("%w (%d bytes)", errHeaderTooLarge, limit)
}

// fieldRef indexes one header field in respHead.block.
type fieldRef struct {
	name, nameEnd, val, valEnd uint32
	kind                       uint8 // 1 + the index in knownNames, 0 for other names
}

// respHead holds the final response's header fields, copied out of the
// borrowed read buffer so that they outlive it.
type respHead struct {
	block  []byte
	fields []fieldRef
	// names has a bit set for each field name's nameBit: most lookups
	// are of names a response does not have, and the bit answers them
	// without a scan.
	names  uint64
	known  uint32                   // see knownKind
	viewFn func(name string) string // view, bound once
}

// nameBit hashes a field name's length and its first and last letters,
// case-insensitively, to one of 64 bits.
func nameBit[T string | []byte](name T) uint64 {
	if len(name) == 0 {
		return 1
	}
	h := uint(len(name))*31 + uint(name[0]|0x20)*7 + uint(name[len(name)-1]|0x20)
	return 1 << (h & 63)
}

// newHead returns an empty head, its view bound once (a method value
// made per response would allocate).
func newHead() *respHead {
	h := new(respHead)
	h.viewFn = h.view
	return h
}

// Get returns the first value of the field name, as a copy: it
// implements client.Head.
func (h *respHead) Get(name string) string {
	return string(h.value(name))
}

// RateLimit implements client.RateLimitHead: a response without any of
// the fields skips the lookups, and the values are read in place.
func (h *respHead) RateLimit(now time.Time) client.RateLimit {
	if h.known&knownRateLimit == 0 {
		return client.RateLimit{}
	}
	return client.ParseRateLimit(h.viewFn, now)
}

// Values returns copies of every value of the field name: it implements
// client.ValuesHead.
func (h *respHead) Values(name string) []string {
	if h.names&nameBit(name) == 0 {
		return nil
	}
	var out []string
	for _, f := range h.fields {
		if int(f.nameEnd-f.name) == len(name) && equalFold(h.block[f.name:f.nameEnd], name) {
			out = append(out, string(h.block[f.val:f.valEnd]))
		}
	}
	return out
}

// value returns the first value of the field name, aliasing h.block.
func (h *respHead) value(name string) []byte {
	if h.names&nameBit(name) == 0 {
		return nil
	}
	for _, f := range h.fields {
		if int(f.nameEnd-f.name) == len(name) && equalFold(h.block[f.name:f.nameEnd], name) {
			return h.block[f.val:f.valEnd]
		}
	}
	return nil
}

// view is get without the copy: the string aliases h.block, which the
// next response parsed into h overwrites. Only for a caller that keeps
// none of it: client.ParseRateLimit reads numbers out of the values, and so a
// Genesys response's three inin-ratelimit values cost no allocations.
func (h *respHead) view(name string) string {
	v := h.value(name)
	if len(v) == 0 {
		return ""
	}
	return unsafe.String(&v[0], len(v))
}

// parsed is what parseResponse found out about the exchange.
type parsed struct {
	status int
	// keepAlive: the connection can carry another request.
	keepAlive bool
}

// ProtocolError is a response that breaks HTTP/1.1's syntax.
type ProtocolError struct{ What string }

func (e *ProtocolError) Error() string { return "malformed HTTP response: " + e.What }

func protoErr(format string, args ...any) error {
	return &ProtocolError{fmt.Sprintf(format, args...)}
}

// parseResponse reads one response to a request with method from b:
// the status line and headers into head, the body appended to body[:0]
// (at most maxBody bytes, or errBodyTooLarge). Informational (1xx)
// responses other than 101 are skipped, as net/http does.
func parseResponse(b *reader, method string, head *respHead, body []byte, maxBody int) (res parsed, bodyOut []byte, err error) {
	var minor int
	start := b.n
	for {
		line, err := b.line()
		if err != nil {
			return res, body[:0], err
		}
		minor, res.status, err = parseStatusLine(line)
		if err != nil {
			return res, body[:0], err
		}
		if err := parseHeader(b, head, start); err != nil {
			return res, body[:0], err
		}
		if res.status >= 200 || res.status == 101 {
			break
		}
	}
	fr, err := readFraming(head, minor)
	if err != nil {
		return res, body[:0], err
	}
	res.keepAlive = !fr.close && (minor >= 1 || fr.keepAlive)
	if res.status == 101 {
		res.keepAlive = false
	}
	noBody := method == "HEAD" || res.status == 204 || res.status == 304 || res.status < 200
	body = body[:0]
	switch {
	case noBody:
		return res, body, nil
	case fr.te:
		if fr.hasCL { // RFC 9112 §6.3: TE wins, and the connection must close
			res.keepAlive = false
		}
		if !fr.chunked {
			res.keepAlive = false
			body, err = readToEOF(b, body, maxBody)
			return res, body, err
		}
		body, err = readChunked(b, body, maxBody)
		return res, body, err
	case fr.hasCL:
		if fr.cl > int64(maxBody) {
			return res, body, errBodyTooLarge
		}
		body = grow(body, int(fr.cl))
		err = b.readFull(body)
		return res, body, err
	default:
		res.keepAlive = false
		body, err = readToEOF(b, body, maxBody)
		return res, body, err
	}
}

// parseStatusLine parses an HTTP/1.x status line.
func parseStatusLine(line []byte) (minor, status int, err error) {
	// HTTP/1.1 200 OK   (the reason phrase may be empty or missing)
	if len(line) < 12 || string(line[:5]) != "HTTP/" || line[6] != '.' || line[8] != ' ' ||
		!isDigit(line[5]) || !isDigit(line[7]) || (len(line) > 12 && line[12] != ' ') {
		return 0, 0, protoErr("status line %q", clip(line))
	}
	if line[5] != '1' {
		return 0, 0, protoErr("HTTP version %q (only HTTP/1.x is spoken here)", line[:8])
	}
	for _, c := range line[9:12] {
		if !isDigit(c) {
			return 0, 0, protoErr("status code %q", line[9:12])
		}
		status = status*10 + int(c-'0')
	}
	if status < 100 {
		return 0, 0, protoErr("status code %q", line[9:12])
	}
	return int(line[7] - '0'), status, nil
}

// parseHeader reads header fields up to the empty line into head,
// replacing what it held; the section began at b.n == start.
func parseHeader(b *reader, head *respHead, start int64) error {
	head.block, head.fields, head.names, head.known = head.block[:0], head.fields[:0], 0, 0
	for {
		if err := b.section(start); err != nil {
			return err
		}
		if line, colon, v0, v1, ok := b.field(); ok {
			head.add(line, colon, v0, v1)
			continue
		}
		// Everything else, errors included, takes the general path: the
		// empty line, obs-fold, a line not all read yet.
		line, err := b.line()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			return b.section(start)
		}
		if line[0] == ' ' || line[0] == '\t' { // obs-fold: continues the previous value
			if len(head.fields) == 0 {
				return protoErr("header continuation line before any field")
			}
			f := &head.fields[len(head.fields)-1]
			v := trimOWS(line)
			if err := checkValue(v, head.block[f.name:f.nameEnd]); err != nil {
				return err
			}
			if len(v) > 0 {
				head.block = head.block[:f.valEnd]
				if f.valEnd > f.val {
					head.block = append(head.block, ' ')
				}
				head.block = append(head.block, v...)
				f.valEnd = uint32(len(head.block))
			}
			continue
		}
		colon := 0
		for colon < len(line) && IsTokenChar(line[colon]) {
			colon++
		}
		switch {
		case colon == len(line) || colon == 0 && line[0] == ':':
			return protoErr("header line %q", clip(line))
		case line[colon] != ':':
			return protoErr("header name %q", clip(line[:bytes.IndexByte(line, ':')+1]))
		}
		name := line[:colon]
		v0, v1 := colon+1, len(line)
		for v0 < v1 && (line[v0] == ' ' || line[v0] == '\t') {
			v0++
		}
		for v1 > v0 && (line[v1-1] == ' ' || line[v1-1] == '\t') {
			v1--
		}
		if err := checkValue(line[v0:v1], name); err != nil {
			return err
		}
		head.add(line, colon, v0, v1)
	}
}

// add copies the field line (name, colon, value: line[v0:v1]) into h.
func (h *respHead) add(line []byte, colon, v0, v1 int) {
	base := uint32(len(h.block))
	h.block = append(h.block, line...) // one copy: name, colon, value
	name := line[:colon]
	kind := knownKind(name)
	h.fields = append(h.fields, fieldRef{name: base, nameEnd: base + uint32(colon),
		val: base + uint32(v0), valEnd: base + uint32(v1), kind: kind})
	h.names |= nameBit(name)
	if kind != 0 {
		h.known |= 1 << (kind - 1)
	}
}

// field is parseHeader's fast path: one pass over an ordinary field line
// that is wholly buffered, where line and checkValue would make three.
// It consumes the line and returns it without its line ending, with the
// colon's index and the value's bounds (OWS-trimmed), as parseHeader's
// general path would. ok is false, and nothing consumed, for anything
// else (the empty line, obs-fold, a line still arriving, a malformed
// one): the general path then parses the line, or says what is wrong.
func (b *reader) field() (line []byte, colon, v0, v1 int, ok bool) {
	p := b.buf[b.r:b.w]
	for colon+4 <= len(p) && tokenBytes[p[colon]]&tokenBytes[p[colon+1]]&tokenBytes[p[colon+2]]&tokenBytes[p[colon+3]] != 0 {
		colon += 4
	}
	for colon < len(p) && tokenBytes[p[colon]] != 0 {
		colon++
	}
	if colon == 0 || colon == len(p) || p[colon] != ':' {
		return nil, 0, 0, 0, false
	}
	v0 = colon + 1
	for v0 < len(p) && (p[v0] == ' ' || p[v0] == '\t') {
		v0++
	}
	end := v0 // the line ending's first byte
	for {
		end += ctlIndex(p[end:])
		if end >= len(p) {
			return nil, 0, 0, 0, false
		}
		if p[end] != '\t' {
			break
		}
		end++
	}
	next := end + 1 // the next line's first byte
	switch {
	case p[end] == '\n':
	case p[end] == '\r' && next < len(p) && p[next] == '\n':
		next++
	default: // another control character, or a CR whose LF is to come
		return nil, 0, 0, 0, false
	}
	v1 = end
	for v1 > v0 && (p[v1-1] == ' ' || p[v1-1] == '\t') {
		v1--
	}
	b.r += next
	b.n += int64(next)
	return p[:end], colon, v0, v1, true
}

// IsTokenChar reports whether c may appear in an HTTP token (RFC 9110
// §5.6.2): a method, a field name, a transfer coding.
func IsTokenChar(c byte) bool { return tokenBytes[c] != 0 }

// tokenBytes holds 1 for the token characters and 0 for the others:
// field ANDs four bytes at a time.
var tokenBytes = func() (t [256]uint8) {
	for c := range t {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0 {
			t[c] = 1
		}
	}
	return t
}()

// trimOWS trims optional whitespace (SP, HTAB) from both ends of s.
func trimOWS(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isToken reports whether s is all token characters.
func isToken(s []byte) bool {
	for _, c := range s {
		if tokenBytes[c] == 0 {
			return false
		}
	}
	return true
}

// ctlIndex returns the index of p's first control character (a byte
// below 0x20, or DEL), or len(p); eight bytes at a time.
func ctlIndex(p []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(p); i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		// A byte's high bit is set in m where the byte is below 0x20
		// (x - 0x20 borrows) or is DEL (x ^ 0x7f is zero). A borrow can
		// mark bytes above a marked one too, never below: the lowest
		// mark is exact.
		y := x ^ 0x7f*ones
		m := (x-0x20*ones)&^x&highs | (y-ones)&^y&highs
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return i
		}
	}
	return len(p)
}

// Header names the transport and client.ParseRateLimit read, each with a kind
// (1 + its index) and a bit in respHead.known, set when the response has
// the field. A response
// without any rate-limit field then skips client.ParseRateLimit's dozen lookups.
const (
	knownConnection = 1 << iota
	knownContentLength
	knownTransferEncoding
	knownRateLimitFirst // the rate-limit names follow
)

var knownNames = append([]string{"Connection", "Content-Length", "Transfer-Encoding"}, client.RateLimitFields()...)

// knownRateLimit has the bits of every name client.ParseRateLimit reads.
const knownRateLimit = ^uint32(knownRateLimitFirst - 1)

// knownByLen indexes knownNames by length, for knownKind.
var knownByLen = func() (t [32][]uint8) {
	for i, n := range knownNames {
		t[len(n)] = append(t[len(n)], uint8(i))
	}
	return t
}()

// knownKind returns 1 + name's index in knownNames, 0 for other names.
func knownKind(name []byte) uint8 {
	if len(name) >= len(knownByLen) {
		return 0
	}
	for _, i := range knownByLen[len(name)] {
		if equalFold(name, knownNames[i]) {
			return i + 1
		}
	}
	return 0
}

// checkValue refuses control characters (CR, NUL, DEL…) in the value of
// the field name.
func checkValue(val, name []byte) error {
	for _, c := range val {
		if ctlChars[c] {
			return protoErr("control character in header %q", name)
		}
	}
	return nil
}

// ctlChars are the bytes a field value may not hold.
var ctlChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c < ' ' && c != '\t' || c == 0x7f
	}
	return t
}()

// framing is what the header fields say about the connection and the
// body's length.
type framing struct {
	close, keepAlive bool // Connection tokens
	te, chunked      bool // a Transfer-Encoding, and chunked is its last coding
	hasCL            bool
	cl               int64
}

// readFraming scans head once, without allocating (this runs for every
// response).
func readFraming(head *respHead, minor int) (fr framing, err error) {
	if head.known&(knownConnection|knownContentLength|knownTransferEncoding) == 0 {
		return fr, nil
	}
	for _, f := range head.fields {
		v := head.block[f.val:f.valEnd]
		switch f.kind {
		case 1 + 0: // Connection
			switch { // the usual values, whole
			case equalFold(v, "keep-alive"):
				fr.keepAlive = true
				continue
			case equalFold(v, "close"):
				fr.close = true
				continue
			}
			for tok, rest := nextToken(v); tok != nil; tok, rest = nextToken(rest) {
				switch {
				case equalFold(tok, "close"):
					fr.close = true
				case equalFold(tok, "keep-alive"):
					fr.keepAlive = true
				}
			}
		case 1 + 2: // Transfer-Encoding, ignored in HTTP/1.0 as net/http does
			if minor == 0 {
				continue
			}
			// A list of transfer-codings, each a token and any parameters
			// (RFC 9112 §6.1); an obs-fold is a space by now (§5.2). Any
			// other value ("chunked chunked") leaves the body's length
			// unknowable, and is refused as net/http refuses it.
			for tok, rest := nextToken(v); tok != nil; tok, rest = nextToken(rest) {
				coding := tok
				if i := bytes.IndexByte(coding, ';'); i >= 0 {
					coding = trimOWS(coding[:i])
				}
				if len(coding) == 0 || !isToken(coding) {
					return fr, protoErr("Transfer-Encoding %q", clip(v))
				}
				fr.te = true
				fr.chunked = equalFold(coding, "chunked")
			}
		case 1 + 1: // Content-Length
			if m, perr := parseDecimal(v); perr == nil && (!fr.hasCL || m == fr.cl) { // the usual value: one number
				fr.cl, fr.hasCL = m, true
				continue
			}
			if tok, _ := nextToken(v); tok == nil { // empty: invalid, not absent
				return fr, protoErr("Content-Length %q", clip(v))
			}
			for tok, rest := nextToken(v); tok != nil; tok, rest = nextToken(rest) {
				m, perr := parseDecimal(tok)
				if perr != nil {
					return fr, protoErr("Content-Length %q", clip(v))
				}
				if fr.hasCL && m != fr.cl {
					return fr, protoErr("conflicting Content-Length values")
				}
				fr.cl, fr.hasCL = m, true
			}
		}
	}
	return fr, nil
}

// nextToken returns the first non-empty, OWS-trimmed element of the
// comma-separated list v, and the rest; tok is nil when none is left.
func nextToken(v []byte) (tok, rest []byte) {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		if i < 0 {
			tok, v = v, nil
		} else {
			tok, v = v[:i], v[i+1:]
		}
		if tok = trimOWS(tok); len(tok) > 0 {
			return tok, v
		}
	}
	return nil, nil
}

func parseDecimal(s []byte) (int64, error) {
	if len(s) == 0 || len(s) > 18 {
		return 0, strconv.ErrRange
	}
	var n int64
	for _, c := range s {
		if !isDigit(c) {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func readChunked(b *reader, body []byte, maxBody int) ([]byte, error) {
	for {
		line, err := b.line()
		if err != nil {
			return body, unexpected(err)
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 { // chunk extensions are ignored
			line = line[:i]
		}
		line = trimOWS(line)
		size, ok := parseHex(line)
		if !ok {
			return body, protoErr("chunk size %q", clip(line))
		}
		if size == 0 {
			break
		}
		if size > int64(maxBody-len(body)) {
			return body, errBodyTooLarge
		}
		n := len(body)
		body = grow(body, n+int(size))
		if err := b.readFull(body[n:]); err != nil {
			return body, err
		}
		line, err = b.line()
		if err != nil {
			return body, unexpected(err)
		}
		if len(line) != 0 {
			return body, protoErr("chunk data not followed by CRLF")
		}
	}
	for start := b.n; ; { // trailer section, up to the empty line
		if err := b.section(start); err != nil {
			return body, err
		}
		line, err := b.line()
		if err != nil {
			return body, unexpected(err)
		}
		if len(line) == 0 {
			return body, b.section(start)
		}
	}
}

func readToEOF(b *reader, body []byte, maxBody int) ([]byte, error) {
	body = append(body, b.buf[b.r:b.w]...)
	b.n += int64(b.w - b.r)
	b.r = b.w
	for len(body) <= maxBody {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)]
		}
		n, err := b.src.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		b.n += int64(n)
		if err == io.EOF {
			return body, nil
		}
		if err != nil {
			return body, err
		}
	}
	return body, errBodyTooLarge
}

func parseHex(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range s {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// grow returns b resized to n, reallocating only when cap is short.
func grow(b []byte, n int) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	return append(b[:cap(b)], make([]byte, n-cap(b))...)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// clip shortens s for an error message.
func clip(s []byte) string {
	if len(s) > 64 {
		return string(s[:64]) + "…"
	}
	return string(s)
}

package notifications

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// clientFrame returns a masked client frame header claiming n payload bytes,
// followed by the payload given.
func clientFrame(n uint64, payload []byte) []byte {
	b := []byte{0x81}
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	b = append(b, 1, 2, 3, 4) // masking key
	return append(b, payload...)
}

func TestFrameGuard(t *testing.T) {
	t.Parallel()
	small := bytes.Repeat([]byte{'x'}, 125)
	mid := bytes.Repeat([]byte{'y'}, 70_000)
	for _, tc := range []struct {
		name    string
		stream  []byte
		max     uint64
		cutAt   int // bytes that pass before the error; -1: no error
		oneByte bool
	}{
		{"small frames pass", append(clientFrame(125, small), clientFrame(5, small[:5])...), 1024, -1, false},
		{"byte by byte", append(clientFrame(125, small), clientFrame(5, small[:5])...), 1024, -1, true},
		{"16-bit length at the bound", clientFrame(1024, mid[:1024]), 1024, -1, true},
		{"16-bit length over", clientFrame(1025, mid[:10]), 1024, 0, false},
		{"64-bit length over", clientFrame(1<<40, nil), MaxFrameBytes, 0, false},
		{"payload bytes that look like a header are skipped", clientFrame(10, []byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 1024, -1, true},
		{"second frame over, byte by byte", append(clientFrame(5, small[:5]), clientFrame(70_000, mid[:3])...), MaxFrameBytes, 11, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r io.Reader = bytes.NewReader(tc.stream)
			if tc.oneByte {
				r = iotest.OneByteReader(r)
			}
			g := &frameGuard{r: r, max: tc.max}
			got, err := io.ReadAll(g)
			if tc.cutAt < 0 {
				if err != nil || !bytes.Equal(got, tc.stream) || g.tooLarge() {
					t.Fatalf("read %d of %d bytes, err %v", len(got), len(tc.stream), err)
				}
				return
			}
			if !errors.Is(err, errFrameTooLarge) || !g.tooLarge() {
				t.Fatalf("err = %v, want errFrameTooLarge", err)
			}
			// Byte by byte, the bytes before the offending header pass;
			// a bulk read fails as a whole.
			if tc.oneByte && len(got) < tc.cutAt {
				t.Errorf("passed %d bytes, want at least %d", len(got), tc.cutAt)
			}
		})
	}
}

// FuzzFrameGuard: over any byte stream, read in chunks of any size, the
// guard passes a prefix of the stream unchanged, and cuts it only at a
// header claiming more than max.
func FuzzFrameGuard(f *testing.F) {
	f.Add(clientFrame(5, []byte("hello")), uint8(1))
	f.Add(append(clientFrame(3, []byte("abc")), clientFrame(70_000, nil)...), uint8(2))
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, uint8(3))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		g := &frameGuard{r: &chunkReader{b: stream, n: int(chunk%16) + 1}, max: 1024}
		got, err := io.ReadAll(g)
		if !bytes.HasPrefix(stream, got) {
			t.Fatalf("passed bytes are not a prefix of the stream")
		}
		if err != nil && !errors.Is(err, errFrameTooLarge) {
			t.Fatalf("err %v", err)
		}
		if err == nil && len(got) != len(stream) {
			t.Fatalf("stopped at %d of %d without an error", len(got), len(stream))
		}
	})
}

type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(r.n, len(p), len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

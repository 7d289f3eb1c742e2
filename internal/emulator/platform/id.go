package platform

import (
	"math/rand/v2"
	"time"
)

// NewID returns a random version-4 UUID string. It draws from the
// runtime's per-thread ChaCha8 generator: cheap (one allocation, no lock,
// no syscall) and unpredictable enough for ids, but not for secrets.
func NewID() string {
	var u [16]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(s[:])
}

// TimeFormat is the platform's timestamp layout: ISO-8601 UTC with
// milliseconds, e.g. 2024-05-01T12:00:00.000Z.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime formats t in TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

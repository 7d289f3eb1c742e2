package metrics

// Class classifies the outcome of one attempt or logical request.
// The zero Class is OK.
type Class uint8

const (
	OK      Class = iota // a response with an expected status
	Status               // a response with an unexpected status
	Connect              // could not connect (refused, DNS, unreachable)
	Timeout              // the attempt's timeout or a deadline passed
	TLS                  // TLS handshake or certificate failure
	Reset                // connection reset or closed mid-exchange
	Other                // any other transport or client error
	Budget               // failed fast: the retry budget was exhausted
	Auth                 // the token endpoint refused the credentials; nothing was sent
	numClasses
)

var classNames = [numClasses]string{"ok", "status", "connect", "timeout", "tls", "reset", "other", "budget", "auth"}

// String returns the class's stable name, as used in results files.
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "unknown"
}

// ParseClass returns the Class named s.
func ParseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if n == s {
			return Class(i), true
		}
	}
	return 0, false
}

// Classes lists every class in order.
func Classes() []Class {
	cs := make([]Class, numClasses)
	for i := range cs {
		cs[i] = Class(i)
	}
	return cs
}

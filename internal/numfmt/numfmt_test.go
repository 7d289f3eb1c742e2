package numfmt

import "testing"

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Count(0), "0"}, {Count(12), "12"}, {Count(999), "999"}, {Count(1000), "1,000"}, {Count(5000), "5,000"},
		{Count(-1234567), "-1,234,567"}, {Count(123456789012), "123,456,789,012"},
		{Rate(312.4), "312/s"}, {Rate(12345.6), "12,346/s"}, {Rate(100), "100/s"}, {Rate(16.66), "16.7/s"},
		{Rate(10), "10.0/s"}, {Rate(0.5), "0.50/s"}, {Rate(0), "0.00/s"},
		{Seconds(9000), "2.5 h"}, {Seconds(1000), "16.7 min"}, {Seconds(120), "2.0 min"}, {Seconds(8), "8.0 s"},
		{Seconds(1), "1.0 s"}, {Seconds(0.45), "450 ms"}, {Seconds(0), "0 ms"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

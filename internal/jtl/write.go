package jtl

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// WriteCSV writes samples as a CSV JTL with JMeter 5's default columns
// and header line, readable by JMeter's own report generator and by Read.
// Latency, Connect, URL and IdleTime are written as JMeter would when
// unknown (0 or empty).
func WriteCSV(w io.Writer, samples []Sample) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvFields); err != nil {
		return fmt.Errorf("jtl: %w", err)
	}
	rec := make([]string, len(csvFields))
	for _, s := range samples {
		code := s.Code
		if code == "" && s.Status != 0 {
			code = strconv.Itoa(s.Status)
		}
		rec[0] = strconv.FormatInt(s.Start.UnixMilli(), 10)
		rec[1] = strconv.FormatInt(s.Elapsed.Milliseconds(), 10)
		rec[2] = s.Label
		rec[3] = code
		rec[4] = s.Message
		rec[5] = s.Thread
		rec[6] = "text"
		rec[7] = strconv.FormatBool(s.Success)
		rec[8] = s.Failure
		rec[9] = strconv.FormatInt(s.Bytes, 10)
		rec[10] = strconv.FormatInt(s.SentBytes, 10)
		rec[11] = strconv.Itoa(max(s.GrpThreads, 0))
		rec[12] = strconv.Itoa(max(s.AllThreads, 0))
		rec[13] = s.URL
		rec[14] = strconv.FormatInt(s.Latency.Milliseconds(), 10)
		rec[15] = "0"
		rec[16] = strconv.FormatInt(s.Connect.Milliseconds(), 10)
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("jtl: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("jtl: %w", err)
	}
	return nil
}

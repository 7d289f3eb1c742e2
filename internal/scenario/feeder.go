package scenario

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
)

// Feeder modes and what happens when rows run out.
const (
	// Sequential hands rows out in file order, one shared cursor for all
	// the scenario's VUs in this process.
	Sequential = "sequential"
	// Random draws a row for each iteration; it never runs out.
	Random = "random"
	// Unique hands each row to one iteration only, in the whole run:
	// with --segment i/n, segment i takes rows i, i+n, i+2n...
	Unique = "unique"

	// Stop ends the scenario when rows run out: no new iterations start.
	Stop = "stop"
	// Recycle starts again from the first row.
	Recycle = "recycle"
)

// Modes and OnExhaust list the accepted values, for messages.
var (
	Modes     = []string{Sequential, Random, Unique}
	OnExhaust = []string{Stop, Recycle}
)

// ErrExhausted is returned by Feeder.Next when the rows have run out and
// the feeder does not recycle.
var ErrExhausted = errors.New("scenario: data rows exhausted")

// CSVError is a problem in a data file; Line and Col are 1-based (Col 0
// when unknown).
type CSVError struct {
	Line, Col int
	Msg       string
}

func (e *CSVError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// maxDataRows bounds a data file, which is held in memory.
const maxDataRows = 10_000_000

// ReadCSV reads a data file: a header row naming the columns (each a
// variable name, unique), then one row per record with as many fields.
// Fields may be quoted as in RFC 4180.
func ReadCSV(r io.Reader) (columns []string, rows [][]string, err error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, &CSVError{1, 0, "the file is empty; give a header row naming the columns, then rows"}
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	seen := map[string]int{}
	for i, c := range header {
		c = strings.TrimSpace(strings.TrimPrefix(c, "\ufeff"))
		if !validName(c) {
			return nil, nil, &CSVError{1, i + 1, fmt.Sprintf("column %d is named %q; header names are variable names (letters, digits and _)", i+1, c)}
		}
		if j, ok := seen[c]; ok {
			return nil, nil, &CSVError{1, i + 1, fmt.Sprintf("column %q appears twice (columns %d and %d); rename one", c, j+1, i+1)}
		}
		seen[c] = i
		header[i] = c
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, csvError(err)
		}
		if len(rows) == maxDataRows {
			line, _ := cr.FieldPos(0)
			return nil, nil, &CSVError{line, 0, fmt.Sprintf("more than %d rows; split the file", maxDataRows)}
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 {
		return nil, nil, &CSVError{2, 0, "the file has a header but no rows; add at least one row"}
	}
	return header, rows, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = "wrong number of fields; every row has as many as the header"
		}
		return &CSVError{pe.Line, pe.Column, msg}
	}
	return err
}

// Feeder hands out data rows to iterations. It is safe for concurrent use.
type Feeder struct {
	rows    [][]string
	mode    string
	recycle bool

	mu   sync.Mutex
	next int
}

// NewFeeder returns a feeder over rows. For Unique with segment i of n
// (1 ≤ i ≤ n; n ≤ 1 for the whole run) it keeps only this segment's
// rows. onExhaust is Stop or Recycle; Random ignores it.
func NewFeeder(rows [][]string, mode, onExhaust string, segI, segN int) *Feeder {
	if mode == Unique && segN > 1 {
		var own [][]string
		for k := segI - 1; k < len(rows); k += segN {
			own = append(own, rows[k])
		}
		rows = own
	}
	return &Feeder{rows: rows, mode: mode, recycle: onExhaust == Recycle}
}

// Next returns the row for a new iteration; rng is used in Random mode.
// It returns ErrExhausted when rows ran out and the feeder stops.
func (f *Feeder) Next(rng *rand.Rand) ([]string, error) {
	if len(f.rows) == 0 {
		return nil, ErrExhausted
	}
	if f.mode == Random {
		return f.rows[rng.IntN(len(f.rows))], nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next == len(f.rows) {
		if !f.recycle {
			return nil, ErrExhausted
		}
		f.next = 0
	}
	row := f.rows[f.next]
	f.next++
	return row, nil
}

// Len is the number of rows this feeder hands out per pass.
func (f *Feeder) Len() int { return len(f.rows) }

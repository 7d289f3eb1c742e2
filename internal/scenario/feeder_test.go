package scenario

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

const usersCSV = "user,region\nann,eu\nbob,us\n\"c, d\",\"a \"\"q\"\"\"\n"

func TestReadCSV(t *testing.T) {
	t.Parallel()
	cols, rows, err := ReadCSV(strings.NewReader("\ufeff" + usersCSV))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cols, ",") != "user,region" || len(rows) != 3 || rows[2][0] != "c, d" || rows[2][1] != `a "q"` {
		t.Errorf("cols %q rows %q", cols, rows)
	}
}

func TestReadCSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"empty", "", 1, "the file is empty"},
		{"header only", "a,b\n", 2, "no rows"},
		{"bad column name", "user,first name\nx,y\n", 1, `named "first name"`},
		{"duplicate column", "a,b,a\n1,2,3\n", 1, `"a" appears twice`},
		{"short row", "a,b\n1,2\n3\n", 3, "wrong number of fields"},
		{"bad quote", "a\n\"x\n", 2, "quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ReadCSV(strings.NewReader(tt.src))
			var ce *CSVError
			if !errors.As(err, &ce) || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("ReadCSV = %v, want line %d containing %q", err, tt.line, tt.msg)
			}
		})
	}
}

func rowsOf(n int) [][]string {
	var out [][]string
	for i := range n {
		out = append(out, []string{string(rune('a' + i))})
	}
	return out
}

func take(f *Feeder, n int) (string, error) {
	var b strings.Builder
	rng := rand.New(rand.NewPCG(1, 1))
	for range n {
		row, err := f.Next(rng)
		if err != nil {
			return b.String(), err
		}
		b.WriteString(row[0])
	}
	return b.String(), nil
}

func TestFeederModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		mode, exhaust string
		segI, segN, n int
		want          string
		wantExhausted bool
	}{
		{"sequential recycles", Sequential, Recycle, 0, 0, 7, "abcabca", false},
		{"sequential stops", Sequential, Stop, 0, 0, 5, "abc", true},
		{"unique stops", Unique, Stop, 0, 0, 4, "abc", true},
		{"unique segment 1 of 2", Unique, Stop, 1, 2, 3, "ac", true},
		{"unique segment 2 of 2", Unique, Stop, 2, 2, 3, "b", true},
		{"sequential ignores segments", Sequential, Recycle, 2, 2, 4, "abca", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewFeeder(rowsOf(3), tt.mode, tt.exhaust, tt.segI, tt.segN)
			got, err := take(f, tt.n)
			if got != tt.want || errors.Is(err, ErrExhausted) != tt.wantExhausted {
				t.Errorf("rows %q, err %v; want %q, exhausted %v", got, err, tt.want, tt.wantExhausted)
			}
		})
	}
}

func TestFeederRandomNeverRunsOut(t *testing.T) {
	t.Parallel()
	f := NewFeeder(rowsOf(3), Random, "", 0, 0)
	got, err := take(f, 300)
	if err != nil || len(got) != 300 {
		t.Fatalf("%d rows, %v", len(got), err)
	}
	for _, c := range "abc" {
		if !strings.ContainsRune(got, c) {
			t.Errorf("row %c never drawn", c)
		}
	}
	again, _ := take(NewFeeder(rowsOf(3), Random, "", 0, 0), 300)
	if again != got {
		t.Errorf("the same seed drew other rows")
	}
}

// TestFeederUniqueAcrossGoroutines: every row goes to exactly one taker.
func TestFeederUniqueAcrossGoroutines(t *testing.T) {
	t.Parallel()
	const rows = 1000
	f := NewFeeder(rowsOf(rows), Unique, Stop, 0, 0)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				row, err := f.Next(nil)
				if err != nil {
					return
				}
				mu.Lock()
				seen[row[0]]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != rows {
		t.Fatalf("%d distinct rows handed out, want %d", len(seen), rows)
	}
	for r, n := range seen {
		if n != 1 {
			t.Fatalf("row %q handed out %d times", r, n)
		}
	}
}

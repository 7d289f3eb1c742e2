package jmx

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

var httpSamplerRE = regexp.MustCompile(`testclass="HTTPSampler(Proxy|2)?"`)

// TestCorpus converts every .jmx file under $FG_JMX_CORPUS (public plans
// gathered locally, not committed) and reports how many of those with HTTP
// samplers convert. Every output must parse, and no conversion may panic
// or hang.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("FG_JMX_CORPUS")
	if dir == "" {
		t.Skip("FG_JMX_CORPUS is not set")
	}
	var files []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(strings.ToLower(p), ".jmx") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	var withHTTP, converted, dataMissing int
	reasons := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		hasHTTP := httpSamplerRE.Match(data)
		done := make(chan struct{})
		var res *Result
		var cerr error
		go func() {
			defer close(done)
			defer func() {
				if r := recover(); r != nil {
					cerr = fmt.Errorf("PANIC: %v", r)
				}
			}()
			res, cerr = Convert(bytes.NewReader(data), WithFile(f))
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: hangs", f)
		}
		if cerr != nil && strings.HasPrefix(cerr.Error(), "PANIC") {
			t.Errorf("%s: %v", f, cerr)
			continue
		}
		if hasHTTP {
			withHTTP++
		}
		if cerr != nil {
			if hasHTTP {
				msg := cerr.Error()
				if errors.Is(cerr, ErrNothingToConvert) {
					msg = "nothing to convert"
				}
				reasons[msg]++
				if os.Getenv("FG_JMX_VERBOSE") != "" {
					t.Logf("REFUSED %s: %v", filepath.Base(f), cerr)
				}
			}
			continue
		}
		getenv := func(k string) (string, bool) { v, ok := res.Required[k]; return v, ok }
		if _, err := plan.Parse(strings.TrimSuffix(f, ".jmx")+".yaml", res.YAML, getenv); err != nil {
			if !strings.Contains(err.Error(), "data file") {
				t.Errorf("%s: the output does not parse: %v", filepath.Base(f), err)
				continue
			}
			dataMissing++
		}
		if hasHTTP {
			converted++
		}
	}
	t.Logf("%d outputs name a data file that is not here", dataMissing)
	t.Logf("%d files, %d with HTTP samplers, %d of them convert (%.0f%%)", len(files), withHTTP, converted, 100*float64(converted)/float64(max(withHTTP, 1)))
	for r, n := range reasons {
		t.Logf("%3d × %s", n, r)
	}
}

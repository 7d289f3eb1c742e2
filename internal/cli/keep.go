package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// checkpointEvery is how often a run replaces its progress.json: what a
// SIGKILL can lose.
const checkpointEvery = 2 * time.Second

// keeper writes a run's results while it runs, so that whatever ends it
// (SIGKILL, an OOM kill, a drained node) leaves what it measured: each
// second's bucket is appended to timeseries.jsonl, and a progress.json
// checkpoint is replaced every checkpointEvery. A failed write is
// reported on warn once, at once, and again by close.
type keeper struct {
	dir      string
	series   *metrics.SeriesWriter
	snapshot func(now time.Time) *metrics.Results
	warn     io.Writer
	buckets  chan metrics.Bucket
	done     chan struct{}

	once sync.Once
	err  error // the first failure; read after done
}

// startKeeper starts keeping dir, which PrepareDir has checked, with a
// first checkpoint. snapshot returns the results so far (summary and
// histograms).
func startKeeper(dir string, warn io.Writer, snapshot func(time.Time) *metrics.Results) (*keeper, error) {
	sw, err := metrics.CreateSeries(dir)
	if err != nil {
		return nil, err
	}
	// A first, empty checkpoint: a run killed in its first seconds then
	// leaves a dir that reads as what it is, even over an earlier run's.
	if err := metrics.WriteProgress(dir, snapshot(time.Now())); err != nil {
		sw.Close()
		return nil, err
	}
	k := &keeper{dir: dir, series: sw, snapshot: snapshot, warn: warn,
		buckets: make(chan metrics.Bucket, 64), done: make(chan struct{})}
	go k.run()
	return k, nil
}

// tick hands over one second's bucket; called from the engine's reporter.
func (k *keeper) tick(b metrics.Bucket) { k.buckets <- b }

func (k *keeper) run() {
	defer close(k.done)
	last := time.Now()
	for b := range k.buckets {
		k.fail(k.series.Append(&b))
		if now := time.Now(); now.Sub(last) >= checkpointEvery && k.err == nil {
			last = now
			k.fail(metrics.WriteProgress(k.dir, k.snapshot(now)))
		}
	}
}

func (k *keeper) fail(err error) {
	if err == nil || k.err != nil {
		return
	}
	k.err = err
	fmt.Fprintf(k.warn, "floodgate: results: %v; the run goes on, but what it measures may not be kept\n", err)
}

// close stops keeping after the last bucket and returns the first failure.
// It may be called more than once.
func (k *keeper) close() error {
	k.once.Do(func() {
		close(k.buckets)
		<-k.done
		if err := k.series.Close(); err != nil && k.err == nil {
			k.err = err
		}
	})
	return k.err
}

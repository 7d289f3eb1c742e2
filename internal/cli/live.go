package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/floodgate-dev/floodgate/internal/livemetrics"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// liveServer serves a run's Prometheus metrics while it goes.
type liveServer struct {
	exp      *livemetrics.Exporter
	inflight func() int64
	srv      *http.Server
	addr     string
}

func newLiveServer(p *plan.Plan) *liveServer {
	var steps []metrics.StepKey
	for _, sc := range p.Scenarios {
		for _, st := range sc.Steps {
			steps = append(steps, metrics.StepKey{Scenario: sc.Name, Step: st.Name})
		}
	}
	l := &liveServer{}
	l.exp = livemetrics.New(steps, func() int64 {
		if l.inflight == nil {
			return 0
		}
		return l.inflight()
	})
	return l
}

func (l *liveServer) start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--metrics-addr: %w", err)
	}
	l.addr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/metrics", l.exp.Handler())
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go l.srv.Serve(ln)
	return nil
}

func (l *liveServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.srv.Shutdown(ctx)
}

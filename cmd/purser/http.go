package main

// The node's HTTP side: /metrics (Prometheus), /healthz (the process is
// up) and /readyz (the node answers requests and its journal stream is
// reachable through its own NATS connection).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// newRegistry is a registry of the node's own (not the global) collectors,
// plus the Go runtime's and the process's.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// readiness answers /readyz. It is not ready until set is called, which
// serve does once the node answers requests.
type readiness struct {
	streams []string // the journal, then the snapshot store's
	nc      atomic.Pointer[nats.Conn]
}

func (r *readiness) set(nc *nats.Conn) { r.nc.Store(nc) }

// check asks JetStream for the node's streams (the journal and the
// snapshot store): a round trip that fails when the connection is down,
// JetStream is unavailable or a stream is gone — each a reason a write
// would fail.
func (r *readiness) check(ctx context.Context) error {
	nc := r.nc.Load()
	if nc == nil {
		return errors.New("starting: the node does not answer requests yet")
	}
	if !nc.IsConnected() {
		return fmt.Errorf("not connected to NATS (%s)", nc.Status())
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	for _, st := range r.streams {
		if _, err := js.Stream(ctx, st); err != nil {
			return fmt.Errorf("stream %s: %w", st, err)
		}
	}
	return nil
}

func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	if err := r.check(ctx); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func serveHTTP(addr string, reg *prometheus.Registry, ready *readiness, log *zap.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.Handle("/readyz", ready)
	// Profiles for operators chasing latency; the listener is loopback by
	// default, like the metrics.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http-listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", zap.Error(err))
		}
	}()
	log.Info("metrics and health on http://"+ln.Addr().String(), zap.Strings("paths", []string{"/metrics", "/healthz", "/readyz"}))
	return srv, nil
}

package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/purser-dev/purser/transport/client"
	"github.com/purser-dev/purser/transport/wire"
)

// run is one scenario in progress.
type run struct {
	cfg     Config
	ctx     context.Context // cancelled only on interrupt: in-flight work finishes after Duration
	seed    uint64
	runID   string
	ids     atomic.Uint64
	led     *ledger
	rec     *recorder
	conns   []*nats.Conn
	clients []*client.Client

	echoSubject string
	keySubjects []string // journal-echo's, one a key
}

// Run drives one scenario against the Purser deployment at cfg.URL, then
// (unless NoAudit) audits every wallet it touched. A failed audit is not
// an error: it is in the Result (Audit.Passed false). An error means the
// run could not be carried out.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("no NATS URL")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &run{cfg: cfg, ctx: ctx, seed: cfg.Seed, rec: newRecorder()}
	if r.seed == 0 {
		r.seed = rand.Uint64()
	}
	// The run id keeps wallets and request ids of different runs apart on
	// the same deployment; it comes from the clock, not the seed, so a
	// repeated seed does not collide with the first run's idempotency keys.
	r.runID = fmt.Sprintf("lt%x", uint32(time.Now().UnixNano()^int64(r.seed)))
	defer r.close()
	for range cfg.Conns {
		nc, err := nats.Connect(cfg.URL, append([]nats.Option{nats.Name("purser-loadtest"), nats.MaxReconnects(-1)}, cfg.NATSOptions...)...)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", cfg.URL, err)
		}
		r.conns = append(r.conns, nc)
		r.clients = append(r.clients, client.New(nc, client.WithPrefix(cfg.Prefix), client.WithTimeout(cfg.Timeout)))
	}
	switch cfg.Scenario {
	case "echo":
		if err := r.startEcho(); err != nil {
			return nil, err
		}
	case "journal-echo":
		if err := r.findJournalEcho(); err != nil {
			return nil, err
		}
	}
	if err := r.setup(); err != nil {
		return nil, err
	}
	started := time.Now()
	elapsed := r.load()
	res := r.result(started, elapsed)
	if !cfg.NoAudit {
		res.Audit = r.finish()
	}
	return res, nil
}

func (r *run) close() {
	for _, nc := range r.conns {
		nc.Close()
	}
}

// echoBody is what the floors' requests carry: about the size of a
// msgpack reserve request.
var echoBody = []byte(`{"id":"lt0000000-0000000","amount":500,"ttl_ms":60000}`)

// startEcho subscribes the floor's responder on a connection of its own,
// so the echo path is client → server → responder → server → client, the
// same hops as a Purser request minus the node's work.
func (r *run) startEcho() error {
	nc, err := nats.Connect(r.cfg.URL, append([]nats.Option{nats.Name("purser-loadtest-echo")}, r.cfg.NATSOptions...)...)
	if err != nil {
		return err
	}
	r.conns = append(r.conns, nc) // closed with the others; not used by workers
	r.echoSubject = "purser-loadtest.echo." + r.runID
	if _, err := nc.Subscribe(r.echoSubject, func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		return err
	}
	return nc.Flush()
}

// ErrNoJournalEcho: the node does not serve the journal echo. A suite
// skips that floor; asked for alone, it is an error.
var ErrNoJournalEcho = errors.New("the journal echo needs `purser serve --bench-journal-echo`")

// findJournalEcho names the journal echo's keys, Wallets of them, and
// checks that the node serves it: only a node started with
// `--bench-journal-echo` does.
func (r *run) findJournalEcho() error {
	subjects, err := wire.NewSubjects(r.cfg.Prefix)
	if err != nil {
		return err
	}
	r.keySubjects = make([]string, r.cfg.Wallets)
	for i := range r.keySubjects {
		r.keySubjects[i] = subjects.JournalEcho(fmt.Sprintf("%s-k%d", r.runID, i))
	}
	m, err := r.conns[0].Request(r.keySubjects[0], echoBody, r.cfg.Timeout)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("nothing answers %s: %w", r.keySubjects[0], ErrNoJournalEcho)
	case err != nil:
		return fmt.Errorf("journal echo: %w", err)
	case !bytes.Equal(m.Data, echoBody):
		return fmt.Errorf("journal echo: %s", m.Data)
	}
	return nil
}

// setup creates the wallets with their first grant, 64 at a time.
func (r *run) setup() error {
	names := make([]string, r.cfg.Wallets)
	for i := range names {
		names[i] = fmt.Sprintf("%s-w%d", r.runID, i)
	}
	if floor(r.cfg.Scenario) {
		names = nil
	}
	r.led = newLedger(names)
	setupRec := newRecorder() // setup latencies are not the run's
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for g := range min(64, len(names)) {
		wg.Go(func() {
			w := r.worker(uint64(g)<<32, setupRec)
			for i := next.Add(1) - 1; i < int64(len(names)); i = next.Add(1) - 1 {
				w.grant(r.led.wallets[i], r.cfg.Credits, time.Now())
			}
		})
	}
	wg.Wait()
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if len(r.led.found) > 0 {
		return fmt.Errorf("could not create the wallets: %v", r.led.found[0])
	}
	return nil
}

// load runs the scenario for Duration, closed or open loop, and returns
// how long it took until the last unit finished.
func (r *run) load() time.Duration {
	start := time.Now()
	deadline := start.Add(r.cfg.Duration)
	stop := r.showProgress(start)
	defer stop()
	u := r.unit()
	var wg sync.WaitGroup
	if r.cfg.Rate == 0 {
		for i := range r.cfg.Clients {
			wg.Go(func() {
				w := r.worker(uint64(i), r.rec)
				w.crew = new(crew)
				defer w.crew.stop()
				for time.Now().Before(deadline) && r.ctx.Err() == nil {
					u(w, uint64(i), time.Now())
				}
			})
		}
	} else {
		r.openLoop(u, start, deadline, &wg)
	}
	wg.Wait()
	return time.Since(start)
}

// openLoop starts one unit per arrival at Rate per second. Arrival n is
// due at start + n/Rate whatever happened before it: when the node falls
// behind, arrivals queue (up to MaxOutstanding in flight) and their
// latency, measured from the due time, shows it — no coordinated omission.
func (r *run) openLoop(u unit, start, deadline time.Time, wg *sync.WaitGroup) {
	outstanding := make(chan struct{}, r.cfg.MaxOutstanding)
	for n := uint64(0); ; n++ {
		due := start.Add(time.Duration(float64(n) / r.cfg.Rate * float64(time.Second)))
		if !due.Before(deadline) || r.ctx.Err() != nil {
			return
		}
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
				return
			}
		}
		select {
		case outstanding <- struct{}{}:
		case <-r.ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-outstanding }()
			u(r.worker(n, r.rec), n, due)
		})
	}
}

// showProgress prints elapsed, rate over the last interval, p99 so far of
// the scenario's main op and errors, until the returned stop is called.
func (r *run) showProgress(start time.Time) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	op := "reserve"
	if floor(r.cfg.Scenario) {
		op = r.cfg.Scenario
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		var last int64
		lastAt := start
		for {
			select {
			case <-done:
				if r.cfg.ProgressTTY {
					fmt.Fprintln(r.cfg.Progress)
				}
				return
			case now := <-t.C:
				n, errs, p99 := r.rec.progress(op)
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				last, lastAt = n, now
				end := "\n"
				if r.cfg.ProgressTTY {
					end = "\x1b[K"
					fmt.Fprint(r.cfg.Progress, "\r")
				}
				fmt.Fprintf(r.cfg.Progress, "%s %5.1fs  %9d ops  %8.0f ops/s  %s p99 %7.3f ms  errors %d%s",
					r.cfg.Scenario, now.Sub(start).Seconds(), n, rate, op, float64(p99)/float64(time.Millisecond), errs, end)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

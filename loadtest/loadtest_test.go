package loadtest

// These tests prove two things against a real in-process node (embedded
// JetStream on a temp dir, every append durable before its reply): every scenario, run for
// a second, passes its own audit; and the audit is not vacuous — one debit
// from outside the load tester fails it and names the wallet.

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/purser-dev/purser/transport/client"
	"github.com/purser-dev/purser/transport/node"
)

// startNode runs one node for the test, the journal echo on, and returns
// its NATS URL.
func startNode(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	n, err := node.Start(ctx, node.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", JournalEcho: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(ctx) })
	return n.ClientURL()
}

// small is a one-second run of scenario, sized for a race-enabled CI box.
func small(url, scenario string) Config {
	return Config{URL: url, Scenario: scenario, Duration: time.Second, Clients: 8, Wallets: 8, Width: 20,
		Conns: 2, OrphanTTL: 300 * time.Millisecond, Credits: 20_000, Seed: 42}
}

func TestScenariosPassTheirAudit(t *testing.T) {
	url := startNode(t)
	for _, sc := range Scenarios() {
		t.Run(sc, func(t *testing.T) {
			res, err := Run(t.Context(), small(url, sc))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			WriteText(&out, res)
			t.Log("\n" + out.String())
			if res.Total == 0 {
				t.Fatal("no request was answered")
			}
			if floor(sc) {
				if res.Audit != nil {
					t.Fatalf("%s has nothing to audit", sc)
				}
				if o := res.Op(sc); o.Count == 0 || o.Errors != 0 {
					t.Fatalf("%s: %d answered, %d errors", sc, o.Count, o.Errors)
				}
				return
			}
			if !res.Audit.Passed {
				t.Fatalf("audit failed: %v", res.Audit.First)
			}
			if res.Audit.Acknowledged == 0 || res.Audit.HistoryRows == 0 {
				t.Fatalf("audit checked nothing: %+v", res.Audit)
			}
			if (sc == "orphans" || sc == "burst-reserve") && res.Audit.Orphans == 0 {
				t.Fatalf("%s left no orphan", sc)
			}
		})
	}
}

// A node started without the journal echo makes that scenario an error
// that says what to do, not a run of timeouts.
func TestJournalEchoNeedsTheNodesFlag(t *testing.T) {
	ctx := context.Background()
	n, err := node.Start(ctx, node.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(ctx)
	_, err = Run(t.Context(), small(n.ClientURL(), "journal-echo"))
	if err == nil || !strings.Contains(err.Error(), "--bench-journal-echo") {
		t.Fatalf("got %v, want an error naming --bench-journal-echo", err)
	}
}

// Tight wallets must actually run dry, settle over their holds and go
// into debt, then be refilled: otherwise those paths went unaudited.
func TestWalletsRunDryAndIntoDebt(t *testing.T) {
	url := startNode(t)
	for _, sc := range []string{"burst", "mixed"} {
		cfg := small(url, sc)
		cfg.Wallets, cfg.Clients, cfg.Credits = 2, 4, 5_000
		res, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Audit.Passed {
			t.Fatalf("%s: audit failed: %v", sc, res.Audit.First)
		}
		d := res.Decisions
		if d["insufficient_credits"] == 0 || res.Op("grant").Count == 0 || d["settle:overage"] == 0 {
			t.Errorf("%s: wallets never ran dry or over a hold: decisions %v, grants %d", sc, d, res.Op("grant").Count)
		}
		if sc == "mixed" && d["settle:debt"]+d["debit:debt"] == 0 {
			t.Errorf("mixed: no wallet went into debt: %v", d)
		}
	}
}

// An open-loop run keeps its arrival rate and passes its audit.
func TestOpenLoop(t *testing.T) {
	url := startNode(t)
	cfg := small(url, "uniform")
	cfg.Rate = 300
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Loop != "open" || !res.Audit.Passed {
		t.Fatalf("loop %s, audit %+v", res.Loop, res.Audit)
	}
	if n := res.Op("reserve").Count; n < 250 || n > 300 {
		t.Fatalf("%d reserves at 300/s for 1s", n)
	}
}

// outsider is a client of the node at url that the load tester knows
// nothing of: what it changes, the audit must find.
func outsider(t *testing.T, url string) *client.Client {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return client.New(nc)
}

func TestAuditCatchesAnOutsideDebit(t *testing.T) {
	url := startNode(t)
	outsider := outsider(t, url)
	var victim string
	cfg := small(url, "uniform")
	cfg.BeforeAudit = func(ctx context.Context, wallets []string) {
		victim = wallets[len(wallets)/2]
		if _, err := outsider.Debit(ctx, victim, client.DebitRequest{ID: "outside-1", Amount: 7}); err != nil {
			t.Error(err)
		}
	}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Audit.Passed {
		t.Fatal("the audit passed a wallet debited from outside")
	}
	idNamed := false
	for _, d := range res.Audit.First {
		idNamed = idNamed || d.Got == "outside-1"
	}
	if !discrepancyKinds(t, res, victim)["balance"] || !idNamed {
		t.Fatalf("the audit should name the balance and the outside request: %v", res.Audit.First)
	}
	js, err := json.Marshal(res)
	if err != nil || !bytes.Contains(js, []byte(victim)) {
		t.Fatalf("--json report does not name %s: %v", victim, err)
	}
}

// A hold placed from outside is a leak the load tester did not cause: the
// audit must see it held, counted and unacknowledged.
func TestAuditCatchesAnOutsideHold(t *testing.T) {
	url := startNode(t)
	outsider := outsider(t, url)
	var victim string
	cfg := small(url, "stream")
	cfg.BeforeAudit = func(ctx context.Context, wallets []string) {
		victim = wallets[0]
		r, err := outsider.Reserve(ctx, victim, client.ReserveRequest{ID: "outside-hold", Amount: 1})
		if err != nil || !r.Allowed {
			t.Errorf("outside reserve: %+v %v", r, err)
		}
	}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	whats := discrepancyKinds(t, res, victim)
	if res.Audit.Passed || !whats["held"] || !whats["open"] {
		t.Fatalf("the audit should report held and open holds on %s: %v", victim, res.Audit.First)
	}
}

// Credits forfeited from outside must fail the balance, not be counted as
// a term of the equation: the workloads never forfeit anything.
func TestAuditCatchesAnOutsideRevoke(t *testing.T) {
	url := startNode(t)
	outsider := outsider(t, url)
	var victim string
	cfg := small(url, "uniform")
	cfg.BeforeAudit = func(ctx context.Context, wallets []string) {
		for _, w := range wallets {
			b, err := outsider.Balance(ctx, w)
			if err != nil {
				t.Error(err)
				return
			}
			for _, g := range b.Grants {
				if g.Remaining > 0 {
					victim = w
					r, err := outsider.Revoke(ctx, w, client.RevokeRequest{ID: "outside-revoke", GrantID: g.ID})
					if err != nil || r.Forfeited == 0 {
						t.Errorf("outside revoke: %+v %v", r, err)
					}
					return
				}
			}
		}
		t.Error("no grant with credits left to revoke")
	}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	whats := discrepancyKinds(t, res, victim)
	forfeiture := slices.ContainsFunc(res.Audit.First, func(d Discrepancy) bool {
		return strings.HasPrefix(d.What, "Σ grant_expired + revoked")
	})
	if res.Audit.Passed || !whats["balance"] || !forfeiture {
		t.Fatalf("the audit should report the balance and the forfeiture on %s: %v", victim, res.Audit.First)
	}
}

// A request whose retries are all refused overloaded is still of unknown
// outcome, and one refused with a code a correct node never sends is
// wrong: each is a discrepancy, never silently dropped.
func TestResolveReportsWhatStaysUnresolved(t *testing.T) {
	r := &run{led: newLedger([]string{"w"})}
	refuse := func(code string) func(context.Context) error {
		return func(context.Context) error { return &client.Error{Code: code} }
	}
	r.led.unknown(pending{wallet: "w", op: "settle", id: "busy", retry: refuse("overloaded")})
	r.led.unknown(pending{wallet: "w", op: "release", id: "odd", retry: refuse("idempotency_conflict")})
	r.led.unknown(pending{wallet: "w", op: "debit", id: "fine", retry: func(context.Context) error { return nil }})
	if n := r.resolve(t.Context()); n != 3 {
		t.Fatalf("resolved %d, want 3", n)
	}
	var whats []string
	for _, d := range r.led.found {
		whats = append(whats, d.What)
	}
	want := []string{"settle busy never answered", "release odd refused on retry"}
	if !slices.Equal(whats, want) {
		t.Fatalf("discrepancies %q, want %q", whats, want)
	}
}

// discrepancyKinds is the first word of each discrepancy the audit found;
// any on another wallet than victim fails the test.
func discrepancyKinds(t *testing.T, res *Result, victim string) map[string]bool {
	t.Helper()
	whats := map[string]bool{}
	for _, d := range res.Audit.First {
		if d.Wallet != victim {
			t.Errorf("discrepancy on a wallet nobody tampered with: %s", d)
		}
		whats[strings.Fields(d.What)[0]] = true
	}
	return whats
}

package client_test

// The typed client against a real node (embedded JetStream, random port):
// every op round-trips in msgpack, codes arrive as typed errors, and a
// request nobody answers reports ErrNoNode with a hint.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/purser-dev/purser/transport/client"
	"github.com/purser-dev/purser/transport/node"
)

func TestClientAgainstANode(t *testing.T) {
	c, nc := clientOnANode(t)
	ctx := context.Background()

	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	g, err := c.Grant(ctx, "acme", client.GrantRequest{ID: "g1", Amount: 1000, Kind: "promotional", ExpiresAt: &exp})
	if err != nil || g.Grant.Priority != 10 || !g.Grant.ExpiresAt.Equal(exp) || g.Balance != 1000 {
		t.Fatalf("grant: %+v %v", g, err)
	}
	r, err := c.Reserve(ctx, "acme", client.ReserveRequest{ID: "r1", Amount: 400, OnExpiry: "capture"})
	if err != nil || !r.Allowed || r.HoldID != "r1" || r.Available != 600 || r.ExpiresAt.IsZero() {
		t.Fatalf("reserve: %+v %v", r, err)
	}
	if ck, err := c.Check(ctx, "acme", client.CheckRequest{Amount: 700}); err != nil || ck.Allowed || ck.Reason != "insufficient_credits" {
		t.Fatalf("check: %+v %v", ck, err)
	}
	if e, err := c.Extend(ctx, "acme", client.ExtendRequest{ID: "e1", HoldID: "r1", TTLms: 60_000, Amount: 500}); err != nil || e.Amount != 500 {
		t.Fatalf("extend: %+v %v", e, err)
	}
	p, err := c.Settle(ctx, "acme", client.SettleRequest{ID: "p1", HoldID: "r1", Actual: 100, Partial: true})
	if err != nil || p.Consumed != 100 || p.Held != 400 {
		t.Fatalf("partial settle: %+v %v", p, err)
	}
	s, err := c.Settle(ctx, "acme", client.SettleRequest{ID: "s1", HoldID: "r1", Actual: 300})
	if err != nil || s.Released != 100 || len(s.Allocations) != 1 || s.Allocations[0].Grant != "g1" {
		t.Fatalf("settle: %+v %v", s, err)
	}
	if _, err := c.Settle(ctx, "acme", client.SettleRequest{ID: "s2", HoldID: "r1", Actual: 1}); !errors.Is(err, client.ErrHoldClosed) {
		t.Fatalf("settle of a closed hold: want ErrHoldClosed, got %v", err)
	}
	if d, err := c.Debit(ctx, "acme", client.DebitRequest{ID: "d1", Amount: 50}); err != nil || d.Balance != 550 {
		t.Fatalf("debit: %+v %v", d, err)
	}
	c.Reserve(ctx, "acme", client.ReserveRequest{ID: "r2", Amount: 10})
	if rl, err := c.Release(ctx, "acme", client.ReleaseRequest{ID: "l1", HoldID: "r2"}); err != nil || rl.Released != 10 {
		t.Fatalf("release: %+v %v", rl, err)
	}
	pct := int64(10)
	if cf, err := c.Configure(ctx, "acme", client.ConfigureRequest{ID: "c1", Mode: "optimistic", OverdraftPercent: &pct}); err != nil ||
		cf.Mode != "optimistic" || cf.OverdraftPercent == nil || *cf.OverdraftPercent != 10 {
		t.Fatalf("configure: %+v %v", cf, err)
	}
	if rv, err := c.Revoke(ctx, "acme", client.RevokeRequest{ID: "v1", GrantID: "g1"}); err != nil || rv.Forfeited != 550 {
		t.Fatalf("revoke: %+v %v", rv, err)
	}
	b, err := c.Balance(ctx, "acme")
	if err != nil || b.Mode != "optimistic" || b.Balance != 0 || b.Holds != 0 {
		t.Fatalf("balance: %+v %v", b, err)
	}
	h, err := c.History(ctx, "acme", client.HistoryRequest{Limit: 2})
	if err != nil || len(h.Entries) != 2 || h.Entries[0].Type != "granted" || h.NextSeq != 2 {
		t.Fatalf("history: %+v %v", h, err)
	}
	if _, err := c.Balance(ctx, "nobody"); !errors.Is(err, client.ErrWalletNotFound) {
		t.Fatalf("unknown wallet: %v", err)
	}
	quiet := client.New(nc, client.WithPrefix("elsewhere"), client.WithRetries(1, time.Millisecond))
	if _, err := quiet.Balance(ctx, "acme"); !errors.Is(err, client.ErrNoNode) {
		t.Fatalf("no responders: want ErrNoNode, got %v", err)
	}
}

// clientOnANode starts a node (embedded JetStream, random port, temp dir)
// and returns a client connected to it.
func clientOnANode(t *testing.T) (*client.Client, *nats.Conn) {
	t.Helper()
	n, err := node.Start(context.Background(), node.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	nc, err := nats.Connect(n.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return client.New(nc), nc
}

package main

// /readyz is 200 only once the node answers requests and its journal
// stream exists; /metrics exposes the named series after some traffic.

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/purser-dev/purser/transport/journal"
)

// startNATS runs an in-process NATS server (JetStream on a temp dir when
// js) on a random port and returns its URL.
func startNATS(t *testing.T, js bool) string {
	return startNATSWith(t, &natsserver.Options{JetStream: js})
}

// startNATSWith starts a NATS server with opts (users, say) on a random
// loopback port and a temp dir, for the rest of the test.
func startNATSWith(t *testing.T, opts *natsserver.Options) string {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs, opts.StoreDir = "127.0.0.1", natsserver.RANDOM_PORT, true, true, t.TempDir()
	s, err := natsserver.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

func startBareNATS(t *testing.T) string { return startNATS(t, false) }

func readyz(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	return rec.Code, rec.Body.String()
}

func TestReadyzOnlyOnceTheNodeAnswersAndTheStreamExists(t *testing.T) {
	url := startNATS(t, true)
	nc := dial(t, url)
	r := &readiness{streams: []string{journal.DefaultStream, "OBJ_SNAPS"}}

	if code, body := readyz(t, r); code != http.StatusServiceUnavailable || !strings.Contains(body, "starting") {
		t.Fatalf("before the node answers: %d %q", code, body)
	}
	r.set(nc)
	if code, body := readyz(t, r); code != http.StatusServiceUnavailable || !strings.Contains(body, "PURSER_JOURNAL") {
		t.Fatalf("without the journal stream: %d %q", code, body)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: journal.DefaultStream, Subjects: []string{"x.>"}}); err != nil {
		t.Fatal(err)
	}
	if code, body := readyz(t, r); code != http.StatusServiceUnavailable || !strings.Contains(body, "OBJ_SNAPS") {
		t.Fatalf("without the snapshot stream: %d %q", code, body)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OBJ_SNAPS", Subjects: []string{"y.>"}}); err != nil {
		t.Fatal(err)
	}
	if code, body := readyz(t, r); code != http.StatusOK {
		t.Fatalf("with the stream: %d %q", code, body)
	}
	nc.Close()
	if code, _ := readyz(t, r); code != http.StatusServiceUnavailable {
		t.Fatalf("after the connection closed: %d", code)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeExposesHealthReadinessAndMetrics(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	srv := startServe(t, t.TempDir(), "--http-listen", addr)
	base := "http://" + addr
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	// serve prints "serving on" only after the node answers requests.
	if code, body := httpGet(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz after serving: %d %s", code, body)
	}

	cli(t, srv.url, "wallet", "grant", "acme", "1000", "--id", "g1").want(t, 0)
	cli(t, srv.url, "reserve", "acme", "400", "--id", "r1").want(t, 0)
	cli(t, srv.url, "reserve", "acme", "400", "--id", "r2", "--ttl", "1ms").want(t, 0)
	cli(t, srv.url, "reserve", "acme", "5000", "--id", "r3").want(t, exitDenied)
	cli(t, srv.url, "settle", "acme", "r1", "500", "--id", "s1").want(t, 0)
	cli(t, srv.url, "debit", "acme", "5000", "--id", "d1").want(t, 0)
	cli(t, srv.url, "release", "acme", "nope", "--id", "x").want(t, exitError)

	// The 1ms hold expires within a second, with no request touching it.
	// Poll /metrics (short interval, clear deadline) until it says so.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var body string
poll:
	for {
		_, body = httpGet(t, base+"/metrics")
		if strings.Contains(body, `purser_holds_expired_total{on_expiry="release"} 1`) {
			break
		}
		select {
		case <-tick.C:
		case <-deadline:
			break poll
		}
	}
	for _, want := range []string{
		`purser_requests_total{decision="allowed",op="reserve",reason=""} 2`,
		`purser_requests_total{decision="denied",op="reserve",reason="insufficient_credits"} 1`,
		`purser_requests_total{decision="error",op="release",reason="hold_not_found"} 1`,
		`purser_request_duration_seconds_count{op="settle"} 1`,
		`purser_request_duration_seconds_bucket{op="reserve",le=`,
		`purser_batch_size_bucket{le="1"}`,
		`purser_mailbox_depth_bucket{le="0"}`,
		`purser_journal_append_duration_seconds_count`,
		`purser_journal_events_total`,
		`purser_live_wallets 1`,
		`purser_open_holds 0`,
		`purser_holds_expired_total{on_expiry="release"} 1`,
		`purser_overage_credits_total 100`,
		`purser_debt_created_credits_total`,
		`purser_panics_total 0`,
		`purser_ids_forgotten_young_total 0`,
		`purser_activation_replayed_events_count{source="journal"} 1`,
		`purser_activation_duration_seconds_count{source="journal"} 1`,
		`purser_snapshots_saved_total`,
		`purser_snapshots_rejected_total 0`,
		`purser_snapshot_save_seconds_total`,
		`purser_snapshot_bytes_total`,
		`purser_snapshot_segments_written_total 0`,
		`purser_snapshot_id_rows_referenced_total 0`,
		`purser_journal_read_requests_total`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

// A user who may not publish to the journal's subjects, or to the snapshot
// buckets, gets an error that says so at once: not a minute of "no route
// to the stream", nor a node whose every snapshot put is denied.
func TestServeWithoutPublishPermissionsSaysSo(t *testing.T) {
	for _, tc := range []struct{ deny, want string }{
		{"purser.journal.>", "may not publish to the journal's subjects"},
		{"$KV.PURSER_SNAPSHOTS.>", "may not publish to the snapshot buckets"},
		{"$O.PURSER_SNAPSHOTS_LARGE.>", "may not publish to the snapshot buckets"},
	} {
		url := startNATSWith(t, &natsserver.Options{JetStream: true, Users: []*natsserver.User{{
			Username: "ops", Password: "s3cret",
			Permissions: &natsserver.Permissions{Publish: &natsserver.SubjectPermission{Allow: []string{">"}, Deny: []string{tc.deny}}},
		}}})
		out, err := purserCmd("serve", "--nats-url", url, "--user", "ops", "--password", "s3cret", "--http-listen", "",
			"--log-level", "warn").CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "ermissions") {
			t.Fatalf("serve without publish rights on %s: %v\n%s", tc.deny, err, out)
		}
	}
}

// With --nats-url (or NATS_URL) the embedded server's settings are moot:
// serve says which of those it was given, so a NATS_URL left in the
// environment does not silently turn a data dir into nothing.
func TestServeSaysWhichEmbeddedSettingsNATSURLVoids(t *testing.T) {
	url := startNATSWith(t, &natsserver.Options{JetStream: true})
	cmd := purserCmd("serve", "--nats-url", url, "--data-dir", t.TempDir(), "--http-listen", "", "--log-level", "warn")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stderr)
	var said []string
	for lines.Scan() {
		said = append(said, lines.Text())
		if strings.Contains(lines.Text(), " serving on ") {
			break
		}
	}
	all := strings.Join(said, "\n")
	if !strings.Contains(all, "the embedded server's settings do nothing") || !strings.Contains(all, "--data-dir") {
		t.Fatalf("no warning naming --data-dir:\n%s", all)
	}
}

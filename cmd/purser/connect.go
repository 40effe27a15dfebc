package main

// How the client commands reach a node: NATS connection options shared with
// `purser serve`, and the typed client on top. Errors are rewritten into
// what an operator can act on (is the node running? which URL?).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/purser-dev/purser/transport/client"
)

const defaultNATSURL = "nats://127.0.0.1:4222"

// natsFlags are the ways to authenticate to NATS; serve and the client
// commands take the same ones.
type natsFlags struct {
	creds, nkey, user, password string
	tlsCA, tlsCert, tlsKey      string
}

func (n *natsFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&n.creds, "creds", "", "NATS credentials file (JWT + nkey seed)")
	fl.StringVar(&n.nkey, "nkey", "", "NATS nkey seed file")
	fl.StringVar(&n.user, "user", "", "NATS user")
	fl.StringVar(&n.password, "password", "", "NATS password (prefer PURSER_PASSWORD to a flag)")
	fl.StringVar(&n.tlsCA, "tls-ca", "", "CA certificate that signed the NATS server's certificate")
	fl.StringVar(&n.tlsCert, "tls-cert", "", "client certificate for NATS (with --tls-key)")
	fl.StringVar(&n.tlsKey, "tls-key", "", "client key for NATS (with --tls-cert)")
}

func (n natsFlags) options() ([]nats.Option, error) {
	var o []nats.Option
	if n.creds != "" {
		o = append(o, nats.UserCredentials(n.creds))
	}
	if n.nkey != "" {
		opt, err := nats.NkeyOptionFromSeed(n.nkey)
		if err != nil {
			return nil, usageError{fmt.Errorf("--nkey %s: %w", n.nkey, err)}
		}
		o = append(o, opt)
	}
	if n.user != "" {
		o = append(o, nats.UserInfo(n.user, n.password))
	}
	if n.tlsCA != "" {
		o = append(o, nats.RootCAs(n.tlsCA))
	}
	if (n.tlsCert == "") != (n.tlsKey == "") {
		return nil, usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	if n.tlsCert != "" {
		o = append(o, nats.ClientCert(n.tlsCert, n.tlsKey))
	}
	return o, nil
}

// clientFlags are the flags of every command that talks to a node.
type clientFlags struct {
	natsFlags
	url     string
	prefix  string
	timeout time.Duration
	json    bool
}

func (c *clientFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = defaultNATSURL
	}
	fl.StringVar(&c.url, "nats-url", url, "NATS server(s) of the Purser deployment (default from NATS_URL)")
	fl.StringVar(&c.prefix, "prefix", "purser", "subject prefix of the API")
	fl.DurationVar(&c.timeout, "timeout", 5*time.Second, "how long to wait for each attempt's reply")
	fl.BoolVar(&c.json, "json", false, "print the reply as JSON (for scripts)")
	c.natsFlags.register(fl)
}

// session is a connected client plus what its error messages need.
type session struct {
	nc     *nats.Conn
	c      *client.Client
	flags  *clientFlags
	out    *printer
	cancel context.CancelFunc
	ctx    context.Context
}

// connect dials NATS and returns a session; close it when done.
func (c *clientFlags) connect(cmd *cobra.Command) (*session, error) {
	if c.timeout <= 0 {
		return nil, usageError{errors.New("--timeout must be positive")}
	}
	opts, err := c.options()
	if err != nil {
		return nil, err
	}
	opts = append(opts, nats.Name("purser-cli"), nats.Timeout(c.timeout), nats.NoReconnect())
	nc, err := nats.Connect(c.url, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to NATS at %s: %w — is `purser serve` running? (set --nats-url or NATS_URL)",
			c.url, err)
	}
	// The client retries overloaded/not_owner/timeouts 3 times with the same
	// id; the whole command is bounded by all attempts plus their backoff.
	ctx, cancel := context.WithTimeout(cmd.Context(), 4*c.timeout+time.Second)
	return &session{nc: nc, c: client.New(nc, client.WithPrefix(c.prefix), client.WithTimeout(c.timeout)),
		flags: c, out: newPrinter(cmd.OutOrStdout(), c.json), ctx: ctx, cancel: cancel}, nil
}

func (s *session) close() {
	s.cancel()
	s.nc.Close()
}

// fail turns a client error into the command's error: in --json mode the
// error object goes to stdout too, so a script reads one JSON document
// whatever happened.
func (s *session) fail(admin bool, err error) error {
	var ce *client.Error
	switch {
	case errors.As(err, &ce):
		if s.out.json {
			_ = s.out.writeJSON(map[string]any{"error": ce})
			return reportedError{ce}
		}
		return ce
	case errors.Is(err, client.ErrNoNode):
		subj := s.flags.prefix + ".v1.>"
		if admin {
			subj = s.flags.prefix + ".admin.v1.>"
		}
		return fmt.Errorf("no Purser node answered on %s at %s — is `purser serve` running?", subj, s.nc.ConnectedUrl())
	case errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no reply within %s from a Purser node at %s (raise --timeout?): %w",
			s.flags.timeout, s.nc.ConnectedUrl(), err)
	}
	return err
}

// newID is a request id for a command given no --id: unique enough that two
// operators never collide, short enough to type back in a retry.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "cli-" + hex.EncodeToString(b[:])
}

// idFlag registers --id; resolve it with requestID.
func idFlag(cmd *cobra.Command, id *string) {
	cmd.Flags().StringVar(id, "id", "", "request id (idempotency key); default a new unique id, printed so you can retry with it")
}

func requestID(id string) string {
	if id == "" {
		return newID()
	}
	return id
}

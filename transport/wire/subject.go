package wire

import (
	"errors"
	"strings"

	"github.com/purser-dev/purser/actors"
)

// Op is an operation of the wire API, named by a subject token (SPEC §8).
type Op uint8

const (
	OpInvalid Op = iota
	OpReserve
	OpCheck
	OpSettle
	OpRelease
	OpExtend
	OpDebit
	OpBalance
	OpGrant
	OpRevoke
	OpConfigure
	OpHistory
	opCount
)

var opNames = [opCount]string{
	OpInvalid:   "",
	OpReserve:   "reserve",
	OpCheck:     "check",
	OpSettle:    "settle",
	OpRelease:   "release",
	OpExtend:    "extend",
	OpDebit:     "debit",
	OpBalance:   "balance",
	OpGrant:     "grant",
	OpRevoke:    "revoke",
	OpConfigure: "configure",
	OpHistory:   "history",
}

// String is the op's subject token.
func (o Op) String() string {
	if o < opCount {
		return opNames[o]
	}
	return ""
}

// Admin reports whether the op lives under <prefix>.admin.v1 rather than
// <prefix>.v1: the split lets operators grant the two to different users.
func (o Op) Admin() bool { return o >= OpGrant && o <= OpHistory }

// opByName is a switch rather than a map lookup so that parsing a subject
// never allocates (the compiler does not copy a string switched on).
func opByName(s string) Op {
	switch s {
	case "reserve":
		return OpReserve
	case "check":
		return OpCheck
	case "settle":
		return OpSettle
	case "release":
		return OpRelease
	case "extend":
		return OpExtend
	case "debit":
		return OpDebit
	case "balance":
		return OpBalance
	case "grant":
		return OpGrant
	case "revoke":
		return OpRevoke
	case "configure":
		return OpConfigure
	case "history":
		return OpHistory
	}
	return OpInvalid
}

// DefaultPrefix is the subject prefix when none is configured.
const DefaultPrefix = "purser"

// MaxWalletLength bounds the <wallet> token (SPEC §8).
const MaxWalletLength = 128

// Subjects parses and builds the subjects of one node's prefix.
// The zero value uses DefaultPrefix.
type Subjects struct {
	prefix string // without the trailing dot; "" means DefaultPrefix
}

// NewSubjects checks prefix: one or more non-empty NATS tokens joined by
// dots, with no wildcards or whitespace. "" means DefaultPrefix.
func NewSubjects(prefix string) (Subjects, error) {
	if prefix == "" {
		return Subjects{}, nil
	}
	for tok := range strings.SplitSeq(prefix, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
			return Subjects{}, errors.New("wire: prefix must be dot-separated non-empty tokens without wildcards or whitespace, got " + prefix)
		}
	}
	return Subjects{prefix: prefix}, nil
}

// Prefix is the configured prefix.
func (s Subjects) Prefix() string {
	if s.prefix == "" {
		return DefaultPrefix
	}
	return s.prefix
}

// RuntimeWildcard is the subscription subject of the runtime ops; the node
// answers every subject under it, unknown ops included (with an error).
func (s Subjects) RuntimeWildcard() string { return s.Prefix() + ".v1.>" }

// AdminWildcard is the subscription subject of the admin ops.
func (s Subjects) AdminWildcard() string { return s.Prefix() + ".admin.v1.>" }

// JournalEcho is the subject on which a node started with
// `--bench-journal-echo` answers for key: the load test's second floor
// (transport/node/journalecho.go). Not part of the API.
func (s Subjects) JournalEcho(key string) string { return s.Prefix() + ".bench.v1.journal-echo." + key }

// JournalEchoError starts every reply of the journal echo that could not
// journal its request.
const JournalEchoError = "journal-echo error: "

// Subject builds the subject of op on wallet (clients, tests).
func (s Subjects) Subject(op Op, wallet string) string {
	if op.Admin() {
		return s.Prefix() + ".admin.v1." + op.String() + "." + wallet
	}
	return s.Prefix() + ".v1." + op.String() + "." + wallet
}

// Route is what a subject addresses. Wallet is a substring of the subject,
// so parsing allocates nothing on success.
type Route struct {
	Op     Op
	Wallet string
}

// Parse splits subject into op and wallet. A subject that is not under the
// prefix, names an unknown op, puts an op on the wrong path (admin vs
// runtime) or has a missing or extra token is invalid_request; a <wallet>
// token outside [A-Za-z0-9_-]{1,128} is invalid_wallet.
func (s Subjects) Parse(subject string) (Route, *actors.Error) {
	rest, ok := strings.CutPrefix(subject, s.Prefix())
	if !ok || rest == "" || rest[0] != '.' {
		return Route{}, badSubject(subject, "is not under "+s.Prefix())
	}
	rest = rest[1:]
	admin := false
	if r, ok := strings.CutPrefix(rest, "admin."); ok {
		admin, rest = true, r
	}
	rest, ok = strings.CutPrefix(rest, "v1.")
	if !ok {
		return Route{}, badSubject(subject, "has no v1 version token")
	}
	name, wallet, ok := strings.Cut(rest, ".")
	if !ok || wallet == "" {
		return Route{}, badSubject(subject, "has no <wallet> token")
	}
	op := opByName(name)
	switch {
	case op == OpInvalid:
		return Route{}, badSubject(subject, "names no op "+quote(name))
	case op.Admin() && !admin:
		return Route{}, badSubject(subject, "uses the runtime path for the admin op "+name+
			" (use "+s.Subject(op, "<wallet>")+")")
	case !op.Admin() && admin:
		return Route{}, badSubject(subject, "uses the admin path for the runtime op "+name+
			" (use "+s.Subject(op, "<wallet>")+")")
	case strings.IndexByte(wallet, '.') >= 0:
		return Route{}, badSubject(subject, "has tokens after <wallet>")
	case !ValidWallet(wallet):
		return Route{}, &actors.Error{Code: actors.ErrInvalidWallet,
			Message: "wallet must match [A-Za-z0-9_-]{1,128}, got " + quote(wallet)}
	}
	return Route{Op: op, Wallet: wallet}, nil
}

// ValidWallet reports whether w is a well-formed <wallet> token.
func ValidWallet(w string) bool {
	if len(w) == 0 || len(w) > MaxWalletLength {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func badSubject(subject, why string) *actors.Error {
	return &actors.Error{Code: actors.ErrInvalidRequest, Message: "subject " + quote(subject) + " " + why}
}

package wire

import (
	"strings"
	"testing"

	"github.com/purser-dev/purser/actors"
)

// These tests prove that every subject of SPEC §8 parses to its op and
// wallet, that each malformed subject gets the code the contract names,
// and that parsing a good subject allocates nothing.

func TestParseSubject(t *testing.T) {
	def := Subjects{}
	dotted, err := NewSubjects("acme.billing")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("w", 128)
	tests := []struct {
		s       Subjects
		subject string
		op      Op
		wallet  string
		code    actors.Code
	}{
		{def, "purser.v1.reserve.acme", OpReserve, "acme", actors.OK},
		{def, "purser.v1.check.acme", OpCheck, "acme", actors.OK},
		{def, "purser.v1.settle.A-b_9", OpSettle, "A-b_9", actors.OK},
		{def, "purser.v1.release.acme", OpRelease, "acme", actors.OK},
		{def, "purser.v1.extend.acme", OpExtend, "acme", actors.OK},
		{def, "purser.v1.debit.acme", OpDebit, "acme", actors.OK},
		{def, "purser.v1.balance." + long, OpBalance, long, actors.OK},
		{def, "purser.admin.v1.grant.acme", OpGrant, "acme", actors.OK},
		{def, "purser.admin.v1.revoke.acme", OpRevoke, "acme", actors.OK},
		{def, "purser.admin.v1.configure.acme", OpConfigure, "acme", actors.OK},
		{def, "purser.admin.v1.history.acme", OpHistory, "acme", actors.OK},
		{dotted, "acme.billing.v1.reserve.w1", OpReserve, "w1", actors.OK},
		{dotted, "acme.billing.admin.v1.grant.w1", OpGrant, "w1", actors.OK},

		{def, "purser.v1.reserve." + long + "w", 0, "", actors.ErrInvalidWallet},
		{def, "purser.v1.reserve.ac$me", 0, "", actors.ErrInvalidWallet},
		{def, "purser.v1.reserve.acmé", 0, "", actors.ErrInvalidWallet},
		{def, "purser.v1.reserve.*", 0, "", actors.ErrInvalidWallet},
		{def, "purser.v1.nope.acme", 0, "", actors.ErrInvalidRequest},
		{def, "purser.v1.grant.acme", 0, "", actors.ErrInvalidRequest},         // admin op, runtime path
		{def, "purser.admin.v1.reserve.acme", 0, "", actors.ErrInvalidRequest}, // runtime op, admin path
		{def, "purser.v1.reserve", 0, "", actors.ErrInvalidRequest},
		{def, "purser.v1.reserve.", 0, "", actors.ErrInvalidRequest},
		{def, "purser.v1.reserve.acme.extra", 0, "", actors.ErrInvalidRequest},
		{def, "purser.v2.reserve.acme", 0, "", actors.ErrInvalidRequest},
		{def, "purser.admin.reserve.acme", 0, "", actors.ErrInvalidRequest},
		{def, "purser", 0, "", actors.ErrInvalidRequest},
		{def, "purserx.v1.reserve.acme", 0, "", actors.ErrInvalidRequest},
		{def, "other.v1.reserve.acme", 0, "", actors.ErrInvalidRequest},
		{dotted, "purser.v1.reserve.acme", 0, "", actors.ErrInvalidRequest},
		{dotted, "acme.v1.reserve.acme", 0, "", actors.ErrInvalidRequest},
	}
	for _, tt := range tests {
		r, err := tt.s.Parse(tt.subject)
		if tt.code != actors.OK {
			if err == nil || err.Code != tt.code {
				t.Errorf("Parse(%q) = %+v, %v; want %s", tt.subject, r, err, tt.code)
			}
			continue
		}
		if err != nil || r.Op != tt.op || r.Wallet != tt.wallet {
			t.Errorf("Parse(%q) = %+v, %v; want %s %s", tt.subject, r, err, tt.op, tt.wallet)
		}
		if got := tt.s.Subject(r.Op, r.Wallet); got != tt.subject {
			t.Errorf("Subject(%s, %s) = %q, want %q", r.Op, r.Wallet, got, tt.subject)
		}
	}
}

func TestNewSubjects(t *testing.T) {
	for _, p := range []string{"a..b", ".a", "a.", "a.*", "a.>", "a b"} {
		if _, err := NewSubjects(p); err == nil {
			t.Errorf("NewSubjects(%q) accepted", p)
		}
	}
	s, err := NewSubjects("x.y")
	if err != nil || s.RuntimeWildcard() != "x.y.v1.>" || s.AdminWildcard() != "x.y.admin.v1.>" {
		t.Errorf("NewSubjects(x.y) = %v %q %q", err, s.RuntimeWildcard(), s.AdminWildcard())
	}
	if (Subjects{}).RuntimeWildcard() != "purser.v1.>" {
		t.Error("the zero Subjects does not use the default prefix")
	}
}

func TestParseSubjectAllocatesNothing(t *testing.T) {
	s := Subjects{}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Parse("purser.v1.reserve.acme-corp_1"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %v times per call", allocs)
	}
}

func TestStatus(t *testing.T) {
	want := map[actors.Code]int{
		actors.ErrInvalidRequest: 400, actors.ErrInvalidWallet: 400, actors.ErrInvalidAmount: 400,
		actors.ErrAmountOverflow: 422, actors.ErrWalletNotFound: 404, actors.ErrHoldNotFound: 404,
		actors.ErrHoldClosed: 409, actors.ErrGrantNotFound: 404, actors.ErrIdempotencyConflict: 409,
		actors.ErrPayloadTooLarge: 413, actors.ErrLimitExceeded: 422, actors.ErrOverloaded: 429,
		actors.ErrUnavailable: 503, actors.ErrNotOwner: 503,
	}
	// Every code the core defines must have a deliberate status: a new
	// code falling through to 500 would fail here.
	for c := actors.ErrInvalidRequest; c.String() != "unknown"; c++ {
		if Status(c) != want[c] {
			t.Errorf("Status(%s) = %d, want %d", c, Status(c), want[c])
		}
	}
	h := ErrorHeaders(&actors.Error{Code: actors.ErrHoldClosed, Message: "hold h1 is closed"})
	if h[HeaderError][0] != "hold h1 is closed" || h[HeaderErrorCode][0] != "409" {
		t.Errorf("ErrorHeaders = %v", h)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		body, ct string
		want     Encoding
	}{
		{`{"a":1}`, "", JSON},
		{" \n\t{}", "", JSON},
		{"", "", Msgpack},
		{"\x81\xa2id", "", Msgpack},
		{"\x80", "application/json", JSON},
		{"", "Application/JSON; charset=utf-8", JSON},
		{"\x80", "application/msgpack", Msgpack},
		{" x", "", Msgpack},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.body), tt.ct); got != tt.want {
			t.Errorf("Detect(%q, %q) = %s, want %s", tt.body, tt.ct, got, tt.want)
		}
	}
}

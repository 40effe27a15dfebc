package wire

import (
	"math"
	"time"

	"github.com/purser-dev/purser/actors"
)

// field is a request field name of SPEC §8. Decoding maps each key to a
// field once, then checks it against the op's set and reads its value by
// kind, so the rules (types, codes, duplicates) live in one place for both
// encodings.
type field uint8

const (
	fNone field = iota
	fID
	fAmount
	fTTL
	fOnExpiry
	fPrincipal
	fFeature
	fMeta
	fHoldID
	fActual
	fFinal
	fKind
	fPriority
	fEffectiveAt
	fExpiresAt
	fGrantID
	fMode
	fOverdraftLimit
	fOverdraftPercent
	fDefaultTTL
	fSuspended
	fPolicies
	fFeatures
	fAfterSeq
	fLimit
	fieldCount
)

// kind says how a field's value is read and which code a bad one gets.
type kind uint8

const (
	kString kind = iota
	kAmount      // an int64; anything else is invalid_amount (SPEC §1)
	kInt         // an int64; anything else is invalid_request
	kBool
	kTime     // RFC 3339 string, or a msgpack timestamp
	kMeta     // object of string → string
	kPolicies // object of principal path → policy (governance.go)
	kFeatures // object of feature name → feature (governance.go)
)

var fieldSpecs = [fieldCount]struct {
	name string
	kind kind
}{
	fID:               {"id", kString},
	fAmount:           {"amount", kAmount},
	fTTL:              {"ttl_ms", kInt},
	fOnExpiry:         {"on_expiry", kString},
	fPrincipal:        {"principal", kString},
	fFeature:          {"feature", kString},
	fMeta:             {"meta", kMeta},
	fHoldID:           {"hold_id", kString},
	fActual:           {"actual", kAmount},
	fFinal:            {"final", kBool},
	fKind:             {"kind", kString},
	fPriority:         {"priority", kInt},
	fEffectiveAt:      {"effective_at", kTime},
	fExpiresAt:        {"expires_at", kTime},
	fGrantID:          {"grant_id", kString},
	fMode:             {"mode", kString},
	fOverdraftLimit:   {"overdraft_limit", kAmount},
	fOverdraftPercent: {"overdraft_percent", kInt},
	fDefaultTTL:       {"default_ttl_ms", kInt},
	fSuspended:        {"suspended", kBool},
	fPolicies:         {"policies", kPolicies},
	fFeatures:         {"features", kFeatures},
	fAfterSeq:         {"after_seq", kInt},
	fLimit:            {"limit", kInt},
}

// fieldByName is a switch so that a []byte key converted in the call does
// not allocate.
func fieldByName(k string) field {
	switch k {
	case "id":
		return fID
	case "amount":
		return fAmount
	case "ttl_ms":
		return fTTL
	case "on_expiry":
		return fOnExpiry
	case "principal":
		return fPrincipal
	case "feature":
		return fFeature
	case "meta":
		return fMeta
	case "hold_id":
		return fHoldID
	case "actual":
		return fActual
	case "final":
		return fFinal
	case "kind":
		return fKind
	case "priority":
		return fPriority
	case "effective_at":
		return fEffectiveAt
	case "expires_at":
		return fExpiresAt
	case "grant_id":
		return fGrantID
	case "mode":
		return fMode
	case "overdraft_limit":
		return fOverdraftLimit
	case "overdraft_percent":
		return fOverdraftPercent
	case "default_ttl_ms":
		return fDefaultTTL
	case "suspended":
		return fSuspended
	case "policies":
		return fPolicies
	case "features":
		return fFeatures
	case "after_seq":
		return fAfterSeq
	case "limit":
		return fLimit
	}
	return fNone
}

type fieldSet uint32

func setOf(fs ...field) fieldSet {
	var s fieldSet
	for _, f := range fs {
		s |= 1 << f
	}
	return s
}

func (s fieldSet) has(f field) bool { return s&(1<<f) != 0 }

// opFields are the fields each op accepts (SPEC §8 request column). check
// takes no id: it changes nothing, so there is nothing to make idempotent.
var opFields = [opCount]fieldSet{
	OpReserve:   setOf(fID, fAmount, fTTL, fOnExpiry, fPrincipal, fFeature, fMeta),
	OpCheck:     setOf(fAmount, fTTL, fOnExpiry, fPrincipal, fFeature, fMeta),
	OpSettle:    setOf(fID, fHoldID, fActual, fFinal),
	OpRelease:   setOf(fID, fHoldID),
	OpExtend:    setOf(fID, fHoldID, fTTL, fAmount),
	OpDebit:     setOf(fID, fAmount, fPrincipal, fFeature, fMeta),
	OpBalance:   0,
	OpGrant:     setOf(fID, fAmount, fKind, fPriority, fEffectiveAt, fExpiresAt, fMeta),
	OpRevoke:    setOf(fID, fGrantID),
	OpConfigure: setOf(fID, fMode, fOverdraftLimit, fOverdraftPercent, fDefaultTTL, fSuspended, fPolicies, fFeatures),
	OpHistory:   setOf(fAfterSeq, fLimit),
}

// numClass says what a number-shaped read found, so that the caller (who
// knows the field) picks the code: a source knows syntax, not policy.
type numClass uint8

const (
	numInt      numClass = iota // an integer that fits int64
	numFraction                 // a float, or a JSON number with '.' or an exponent
	numOverflow                 // an integer outside int64
	numNotNum                   // a string, bool, null, object or array
)

// source reads one request object, key by key. jsonSource and mpSource
// implement it. Methods return *actors.Error only for malformed input
// (invalid_request); type mismatches come back as results so that the
// field's kind decides the code.
type source interface {
	// next returns the next key, or ok=false after the last one.
	next() (key []byte, ok bool, err *actors.Error)
	str() (s string, isStr bool, err *actors.Error)
	integer() (int64, numClass, *actors.Error)
	boolean() (b bool, isBool bool, err *actors.Error)
	timestamp() (t time.Time, isTime bool, err *actors.Error)
	meta() (m actors.Meta, isMeta bool, err *actors.Error)
	// object reads a nested object, calling each with every key while the
	// source stands on its value (which each must read); isObj is false,
	// with nothing read, when the value is no object.
	object(each func(key string) *actors.Error) (isObj bool, err *actors.Error)
	// array reads a nested array likewise, each reading one element.
	array(each func() *actors.Error) (isArr bool, err *actors.Error)
	// end checks that nothing follows the object.
	end() *actors.Error
}

// values holds every field any op takes; the op picks its own.
type values struct {
	seen                      fieldSet
	id, holdID, grantID, kind string
	principal, feature        string
	onExpiry, mode            string
	amount, actual            int64
	ttl, priority             int64
	overdraftLimit, percent   int64
	defaultTTL                int64
	afterSeq, limit           int64
	final, suspended          bool
	effectiveAt, expiresAt    time.Time
	meta                      actors.Meta
	policies                  map[string]actors.Policy
	features                  map[string]actors.Feature
}

// read fills v from s, accepting only op's fields.
func (v *values) read(op Op, s source) *actors.Error {
	for {
		k, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			return s.end()
		}
		f := fieldByName(string(k))
		if f == fNone || !opFields[op].has(f) {
			return invalidRequest("unknown field " + quote(string(k)) + " for " + op.String())
		}
		if v.seen.has(f) {
			return invalidRequest("field " + fieldSpecs[f].name + " is given twice")
		}
		v.seen |= 1 << f
		if err := v.readValue(f, s); err != nil {
			return err
		}
	}
}

func (v *values) readValue(f field, s source) *actors.Error {
	name := fieldSpecs[f].name
	switch fieldSpecs[f].kind {
	case kString:
		str, ok, err := s.str()
		if err != nil {
			return err
		}
		if !ok {
			return invalidRequest(name + " must be a string")
		}
		*v.strField(f) = str
	case kAmount, kInt:
		n, class, err := s.integer()
		if err != nil {
			return err
		}
		if class != numInt {
			return badNumber(f, class)
		}
		*v.intField(f) = n
	case kBool:
		b, ok, err := s.boolean()
		if err != nil {
			return err
		}
		if !ok {
			return invalidRequest(name + " must be true or false")
		}
		if f == fFinal {
			v.final = b
		} else {
			v.suspended = b
		}
	case kTime:
		t, ok, err := s.timestamp()
		if err != nil {
			return err
		}
		if !ok {
			return invalidRequest(name + " must be an RFC 3339 time (or a msgpack timestamp)")
		}
		// The core keeps times as unix nanoseconds with 0 meaning
		// "absent": a time it cannot represent, or the epoch itself, would
		// silently change meaning there.
		if !t.After(minTime) || t.After(maxTime) {
			return invalidRequest(name + " must be after 1970-01-01T00:00:00Z and before 2262-04-11")
		}
		if f == fEffectiveAt {
			v.effectiveAt = t
		} else {
			v.expiresAt = t
		}
	case kMeta:
		m, ok, err := s.meta()
		if err != nil {
			return err
		}
		if !ok {
			return invalidRequest(metaShape)
		}
		v.meta = m
	case kPolicies:
		return v.readPolicies(s)
	case kFeatures:
		return v.readFeatures(s)
	}
	return nil
}

// parseTime reads a time written as a string, in either encoding: RFC 3339
// (fractional seconds allowed), returned in UTC.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

const metaShape = "meta must be an object of string keys to string values"

// The range of times the core can hold: positive int64 unix nanoseconds.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, math.MaxInt64)
)

// badNumber words the refusal of a non-integer: amounts get invalid_amount
// whatever was wrong with them (SPEC §1), other integers invalid_request.
func badNumber(f field, class numClass) *actors.Error {
	name := fieldSpecs[f].name
	why := " must be an integer"
	if class == numOverflow {
		why = " must fit a signed 64-bit integer"
	}
	if fieldSpecs[f].kind == kAmount {
		return invalidAmount(name + why + " (a count of the smallest credit unit)")
	}
	return invalidRequest(name + why)
}

func (v *values) strField(f field) *string {
	switch f {
	case fID:
		return &v.id
	case fHoldID:
		return &v.holdID
	case fGrantID:
		return &v.grantID
	case fKind:
		return &v.kind
	case fPrincipal:
		return &v.principal
	case fFeature:
		return &v.feature
	case fOnExpiry:
		return &v.onExpiry
	case fMode:
		return &v.mode
	}
	panic("wire: no string field " + fieldSpecs[f].name)
}

func (v *values) intField(f field) *int64 {
	switch f {
	case fAmount:
		return &v.amount
	case fActual:
		return &v.actual
	case fTTL:
		return &v.ttl
	case fPriority:
		return &v.priority
	case fOverdraftLimit:
		return &v.overdraftLimit
	case fOverdraftPercent:
		return &v.percent
	case fDefaultTTL:
		return &v.defaultTTL
	case fAfterSeq:
		return &v.afterSeq
	case fLimit:
		return &v.limit
	}
	panic("wire: no integer field " + fieldSpecs[f].name)
}

package actors

// DecodeEvents against the library on batches written in every form the
// library reads, not only the one the encoder writes: a struct as a map in
// any key order with repeated, unknown and nil keys, as nil, as an empty or
// a full array, or the "Head" key; integers in every width that holds them;
// strings as str or bin; maps after an ext header; nil anywhere; and now
// and then something neither should accept. Byte-level fuzzing
// (FuzzDecodeEvents) rarely builds such batches whole; this writes them
// from the event types themselves, so a new field is covered without
// touching the test.

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/purser-dev/purser/actors/mpack"
)

func TestDecodeEventsMatchesLibraryOnAnyForm(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 4).Draw(t, "events")
		b := mpack.AppendArrayLen(nil, 2*n)
		for range n {
			kind := rapid.IntRange(int(kindGrantCreated), int(kindConfigured)).Draw(t, "kind")
			if wrong(t) {
				kind = rapid.SampledFrom([]int{0, int(kindConfigured) + 1, 0x100 + kind}).Draw(t, "odd kind")
			}
			b = anyInt(t, b, int64(kind))
			if e := newEvent(uint8(kind)); e != nil {
				b = anyForm(t, b, reflect.TypeOf(e).Elem(), 0)
			}
		}
		fast, err := DecodeEvents(b)
		slow, slowErr := decodeEventsReflect(b)
		if (err == nil) != (slowErr == nil) {
			t.Fatalf("on %x\nDecodeEvents: %v; the library: %v", b, err, slowErr)
		}
		if err == nil && !reflect.DeepEqual(unbuffered(fast), unbuffered(slow)) {
			t.Fatalf("on %x\nDecodeEvents gave\n%s\nthe library\n%s", b, showEvents(fast), showEvents(slow))
		}
	})
}

// wrong: the rare value of a type its field does not hold (rapid draws
// small numbers most often: a number in the middle is rare).
func wrong(t *rapid.T) bool { return rapid.IntRange(0, 999).Draw(t, "wrong") == 500 }

// anyForm writes a value of typ in any form the library reads into it.
func anyForm(t *rapid.T, b []byte, typ reflect.Type, depth int) []byte {
	if wrong(t) || depth > 8 {
		return anyValue(t, b, depth)
	}
	if typ.Kind() != reflect.Struct && typ.Kind() != reflect.Array && rapid.IntRange(0, 19).Draw(t, "nil") == 0 {
		return append(b, 0xc0)
	}
	switch typ.Kind() {
	case reflect.Int64:
		return anyInt(t, b, rapid.Int64().Draw(t, "int"))
	case reflect.Uint8, reflect.Uint64:
		return anyInt(t, b, int64(genU64(t, "uint")))
	case reflect.Bool:
		return append(b, rapid.SampledFrom([]byte{0xc0, 0xc2, 0xc3}).Draw(t, "bool"))
	case reflect.String:
		return anyStr(t, b, rapid.StringMatching(`[a-z]{0,3}`).Draw(t, "str"))
	case reflect.Array:
		if rapid.IntRange(0, 4).Draw(t, "nil array") == 0 {
			return append(b, 0xc0) // keeps the array as it is
		}
		n := rapid.IntRange(0, typ.Len()).Draw(t, "array len")
		return anyList(t, b, n, typ.Elem(), depth)
	case reflect.Slice:
		return anyList(t, b, rapid.IntRange(0, 3).Draw(t, "list len"), typ.Elem(), depth)
	case reflect.Map:
		if rapid.IntRange(0, 9).Draw(t, "ext") == 0 {
			b = append(b, rapid.SampledFrom([][]byte{{0xd4, 7}, {0xc7, 3, 7}, {0xc8, 0, 3, 7}}).Draw(t, "ext header")...)
		}
		n := rapid.IntRange(0, 3).Draw(t, "map len")
		b = anyLen(t, b, n, 0x80, 0xde, 0xdf)
		for range n {
			b = anyStr(t, b, rapid.SampledFrom([]string{"", "k", "l"}).Draw(t, "map key"))
			b = anyForm(t, b, typ.Elem(), depth+1)
		}
		return b
	case reflect.Pointer:
		return anyForm(t, b, typ.Elem(), depth+1)
	case reflect.Struct:
		return anyStruct(t, b, typ, depth)
	}
	panic("no form for " + typ.String())
}

// structFields are typ's msgpack keys in field order (the array form) and
// their types, Head's inlined.
func structFields(typ reflect.Type) (keys []string, types []reflect.Type, head bool) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			k, ts, _ := structFields(f.Type)
			keys, types, head = append(keys, k...), append(types, ts...), true
			continue
		}
		if tag := f.Tag.Get("msgpack"); f.IsExported() && tag != "-" {
			keys, types = append(keys, strings.Split(tag, ",")[0]), append(types, f.Type)
		}
	}
	return keys, types, head
}

func anyStruct(t *rapid.T, b []byte, typ reflect.Type, depth int) []byte {
	keys, types, head := structFields(typ)
	switch form := rapid.IntRange(0, 39).Draw(t, "struct form"); {
	case form == 0:
		return append(b, 0xc0)
	case form == 1:
		return anyLen(t, b, 0, 0x90, 0xdc, 0xdd)
	case form == 2 && wrong(t):
		return anyList(t, b, len(keys)+1, nil, depth)
	case form <= 4:
		b = anyLen(t, b, len(keys), 0x90, 0xdc, 0xdd)
		for _, ft := range types {
			b = anyForm(t, b, ft, depth+1)
		}
		return b
	}
	n := rapid.IntRange(0, len(keys)+3).Draw(t, "entries")
	b = anyLen(t, b, n, 0x80, 0xde, 0xdf)
	for range n {
		switch i := rapid.IntRange(-2, len(keys)-1).Draw(t, "key"); {
		case i >= 0:
			b = anyForm(t, anyStr(t, b, keys[i]), types[i], depth+1)
		case i == -1 && head:
			b = anyForm(t, anyStr(t, b, "Head"), reflect.TypeFor[Head](), depth+1)
		default:
			key := rapid.SampledFrom([]string{"", "zz", "S", "head"}).Draw(t, "unknown key")
			b = anyValue(t, anyStr(t, b, key), depth+1)
		}
	}
	return b
}

func anyList(t *rapid.T, b []byte, n int, elem reflect.Type, depth int) []byte {
	b = anyLen(t, b, n, 0x90, 0xdc, 0xdd)
	for range n {
		if elem == nil {
			b = anyValue(t, b, depth+1)
		} else {
			b = anyForm(t, b, elem, depth+1)
		}
	}
	return b
}

// anyValue writes any msgpack value: what an unknown key may hold.
func anyValue(t *rapid.T, b []byte, depth int) []byte {
	if wrong(t) {
		return append(b, 0xc1) // never used: neither decoder reads it
	}
	switch rapid.IntRange(0, 6).Draw(t, "any") {
	case 1:
		return anyStr(t, b, rapid.String().Draw(t, "str"))
	case 2:
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(rapid.Float64().Draw(t, "float")))
	case 3:
		return append(b, rapid.SampledFrom([]byte{0xc0, 0xc2, 0xc3}).Draw(t, "constant"))
	case 4:
		return append(b, rapid.SampledFrom([][]byte{{0xd4, 1, 2}, {0xc7, 2, 1, 0, 0}, {0xd6, 9, 1, 2, 3, 4}}).Draw(t, "ext")...)
	case 5:
		if depth < 8 {
			return anyList(t, b, rapid.IntRange(0, 3).Draw(t, "len"), nil, depth)
		}
	case 6:
		if depth < 8 {
			b = anyLen(t, b, 1, 0x80, 0xde, 0xdf)
			return anyValue(t, anyValue(t, b, depth+1), depth+1)
		}
	}
	return anyInt(t, b, rapid.Int64().Draw(t, "int"))
}

// anyInt writes v in any integer form that holds it.
func anyInt(t *rapid.T, b []byte, v int64) []byte {
	var forms []func() []byte
	if v >= -32 && v <= 127 {
		forms = append(forms, func() []byte { return append(b, byte(v)) })
	}
	for _, w := range []struct {
		code       byte
		bytes      int
		lo, hi     int64
		isUnsigned bool
	}{
		{0xcc, 1, 0, math.MaxUint8, true}, {0xcd, 2, 0, math.MaxUint16, true}, {0xce, 4, 0, math.MaxUint32, true},
		{0xd0, 1, math.MinInt8, math.MaxInt8, false}, {0xd1, 2, math.MinInt16, math.MaxInt16, false},
		{0xd2, 4, math.MinInt32, math.MaxInt32, false}, {0xcf, 8, math.MinInt64, math.MaxInt64, true},
		{0xd3, 8, math.MinInt64, math.MaxInt64, false},
	} {
		if v >= w.lo && v <= w.hi {
			forms = append(forms, func() []byte {
				var n [8]byte
				binary.BigEndian.PutUint64(n[:], uint64(v))
				return append(append(b, w.code), n[8-w.bytes:]...)
			})
		}
	}
	return rapid.SampledFrom(forms).Draw(t, "int form")()
}

// anyStr writes s as a str or bin of any length form.
func anyStr(t *rapid.T, b []byte, s string) []byte {
	var forms [][]byte
	if len(s) < 32 {
		forms = append(forms, []byte{0xa0 | byte(len(s))})
	}
	if len(s) <= math.MaxUint8 {
		forms = append(forms, []byte{0xd9, byte(len(s))}, []byte{0xc4, byte(len(s))})
	}
	n16 := binary.BigEndian.AppendUint16(nil, uint16(len(s)))
	n32 := binary.BigEndian.AppendUint32(nil, uint32(len(s)))
	forms = append(forms, append([]byte{0xda}, n16...), append([]byte{0xc5}, n16...),
		append([]byte{0xdb}, n32...), append([]byte{0xc6}, n32...))
	return append(append(b, rapid.SampledFrom(forms).Draw(t, "str form")...), s...)
}

// anyLen writes an array or map header for n in any form that holds it.
func anyLen(t *rapid.T, b []byte, n int, fix, b16, b32 byte) []byte {
	switch form := rapid.IntRange(0, 5).Draw(t, "len form"); {
	case form == 0:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	case form == 1:
		return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
	case n < 16:
		return append(b, fix|byte(n))
	}
	return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
}

// TestDecoderKeysAreTheTags: each decoder's key list (a key's index is its
// case in the decoder) is the struct's msgpack tags in field order.
func TestDecoderKeysAreTheTags(t *testing.T) {
	for keys, v := range map[*[]string]any{
		&headKeys: Head{}, &allocationKeys: Allocation{}, &answerKeys: Answer{},
		&grantCreatedKeys: GrantCreated{}, &grantActivatedKeys: GrantActivated{}, &debtRepaidKeys: DebtRepaid{},
		&holdPlacedKeys: HoldPlaced{}, &authorizedKeys: Authorized{}, &holdExtendedKeys: HoldExtended{},
		&settledKeys: Settled{}, &releasedKeys: Released{}, &holdExpiredKeys: HoldExpired{},
		&debitedKeys: Debited{}, &grantExpiredKeys: GrantExpired{}, &revokedKeys: Revoked{},
		&configuredKeys: Configured{}, &settingsKeys: Settings{}, &governanceKeys: Governance{},
		&policyKeys: Policy{}, &capKeys: Cap{}, &rateKeys: Rate{}, &featureKeys: Feature{},
		&featureLimitKeys: FeatureLimit{},
	} {
		typ := reflect.TypeOf(v)
		if want, _, _ := structFields(typ); strings.Join(*keys, " ") != strings.Join(want, " ") {
			t.Errorf("%s: decoder keys %v, tags %v", typ.Name(), *keys, want)
		}
	}
}

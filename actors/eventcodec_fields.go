package actors

// Each struct's msgpack tags in field order (Head's inlined first): a
// field's index here is its case in the struct's decoder, and its position
// in the array form of the struct (see open).
var (
	headKeys           = []string{"s", "t"}
	allocationKeys     = []string{"g", "a"}
	answerKeys         = []string{"i", "o", "h", "n", "a", "gv"}
	grantCreatedKeys   = []string{"s", "t", "g", "k", "p", "m", "e", "x", "md", "r"}
	grantActivatedKeys = []string{"s", "t", "g"}
	debtRepaidKeys     = []string{"s", "t", "a"}
	holdPlacedKeys     = []string{"s", "t", "h", "m", "x", "oe", "pr", "f", "md", "a", "r"}
	authorizedKeys     = []string{"s", "t", "m", "pr", "f", "r"}
	holdExtendedKeys   = []string{"s", "t", "h", "x", "a", "r"}
	settledKeys        = []string{"s", "t", "h", "fh", "ff", "d", "rt", "c", "l", "pr", "f", "r"}
	releasedKeys       = []string{"s", "t", "h", "rt", "r"}
	holdExpiredKeys    = []string{"s", "t", "h", "c", "rt"}
	debitedKeys        = []string{"s", "t", "m", "ff", "d", "pr", "f", "md", "r"}
	grantExpiredKeys   = []string{"s", "t", "g", "m", "c"}
	revokedKeys        = []string{"s", "t", "g", "m", "c", "r"}
	configuredKeys     = []string{"s", "t", "st", "gv", "r", "rs"}
	settingsKeys       = []string{"mo", "ol", "op", "ps", "tt", "su"}
	governanceKeys     = []string{"p", "f"}
	policyKeys         = []string{"c", "r"}
	capKeys            = []string{"w", "l"}
	rateKeys           = []string{"w", "r", "c"}
	featureKeys        = []string{"e", "l"}
	featureLimitKeys   = []string{"w", "a"}
)

// event decodes one event of kind (nil: no such kind).
func (r *evReader) event(kind uint8) Event {
	switch kind {
	case kindGrantCreated:
		return r.grantCreated()
	case kindGrantActivated:
		return r.grantActivated()
	case kindDebtRepaid:
		return r.debtRepaid()
	case kindHoldPlaced:
		return r.holdPlaced()
	case kindAuthorized:
		return r.authorized()
	case kindHoldExtended:
		return r.holdExtended()
	case kindSettled:
		return r.settled()
	case kindReleased:
		return r.released()
	case kindHoldExpired:
		return r.holdExpired()
	case kindDebited:
		return r.debited()
	case kindGrantExpired:
		return r.grantExpired()
	case kindRevoked:
		return r.revoked()
	case kindConfigured:
		return r.configured()
	}
	return nil
}

// An event's decoder starts from a new event, so open's zero needs no
// action there.

func (r *evReader) grantCreated() Event {
	e := new(GrantCreated)
	for it := r.open(grantCreatedKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Grant = r.str()
		case 3:
			e.Kind = r.str()
		case 4:
			e.Priority = r.int()
		case 5:
			e.Amount = r.int()
		case 6:
			e.EffectiveAt = r.int()
		case 7:
			e.ExpiresAt = r.int()
		case 8:
			r.meta(&e.Meta)
		case 9:
			r.answer(&e.Answer)
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) grantActivated() Event {
	e := new(GrantActivated)
	for it := r.open(grantActivatedKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Grant = r.str()
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) debtRepaid() Event {
	e := new(DebtRepaid)
	for it := r.open(debtRepaidKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			r.allocs(&e.Allocations, nil)
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) holdPlaced() Event {
	e := new(HoldPlaced)
	for it := r.open(holdPlacedKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Hold = r.str()
		case 3:
			e.Amount = r.int()
		case 4:
			e.ExpiresAt = r.int()
		case 5:
			e.OnExpiry = OnExpiry(r.uint())
		case 6:
			e.Principal = r.str()
		case 7:
			e.Feature = r.str()
		case 8:
			r.meta(&e.Meta)
		case 9:
			r.allocs(&e.Earmarks, e.buf[:])
		case 10:
			r.answer(&e.Answer)
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) authorized() Event {
	e := new(Authorized)
	for it := r.open(authorizedKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Amount = r.int()
		case 3:
			e.Principal = r.str()
		case 4:
			e.Feature = r.str()
		case 5:
			r.answer(&e.Answer)
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) holdExtended() Event {
	e := new(HoldExtended)
	for it := r.open(holdExtendedKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Hold = r.str()
		case 3:
			e.ExpiresAt = r.int()
		case 4:
			r.allocs(&e.Earmarks, nil)
		case 5:
			r.answer(&e.Answer)
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) settled() Event {
	e := new(Settled)
	for it := r.open(settledKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Hold = r.str()
		case 3:
			// The three lists' windows of buf, as Decide cuts them.
			r.allocs(&e.FromHold, e.buf[0:2:2])
		case 4:
			r.allocs(&e.FromFree, e.buf[4:6:6])
		case 5:
			e.DebtAdded = r.int()
		case 6:
			r.allocs(&e.Returned, e.buf[2:4:4])
		case 7:
			e.Closes = r.bool()
		case 8:
			e.Late = r.bool()
		case 9:
			e.Principal = r.str()
		case 10:
			e.Feature = r.str()
		case 11:
			r.answer(&e.Answer)
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) released() Event {
	e := new(Released)
	for it := r.open(releasedKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Hold = r.str()
		case 3:
			r.allocs(&e.Returned, e.buf[:])
		case 4:
			r.answer(&e.Answer)
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) holdExpired() Event {
	e := new(HoldExpired)
	for it := r.open(holdExpiredKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Hold = r.str()
		case 3:
			e.Capture = r.bool()
		case 4:
			r.allocs(&e.Returned, e.buf[:])
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) debited() Event {
	e := new(Debited)
	for it := r.open(debitedKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Amount = r.int()
		case 3:
			r.allocs(&e.FromFree, nil)
		case 4:
			e.DebtAdded = r.int()
		case 5:
			e.Principal = r.str()
		case 6:
			e.Feature = r.str()
		case 7:
			r.meta(&e.Meta)
		case 8:
			r.answer(&e.Answer)
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) grantExpired() Event {
	e := new(GrantExpired)
	for it := r.open(grantExpiredKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Grant = r.str()
		case 3:
			e.Amount = r.int()
		case 4:
			e.Closes = r.bool()
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) revoked() Event {
	e := new(Revoked)
	for it := r.open(revokedKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			e.Grant = r.str()
		case 3:
			e.Amount = r.int()
		case 4:
			e.Closes = r.bool()
		case 5:
			r.answer(&e.Answer)
		default:
			r.skip()
		}
	}
	return e
}

// headField decodes s or t, or "Head" (the embedded struct whole).
func (r *evReader) headField(h *Head, f int) {
	switch f {
	case 0:
		h.Seq = r.uint()
	case 1:
		h.At = r.int()
	case fieldHead:
		it := r.open(headKeys, false)
		if it.zero {
			*h = Head{}
		}
		for r.field(&it) {
			r.headField(h, it.f)
		}
	default:
		r.skip()
	}
}

func (r *evReader) answer(a *Answer) {
	it := r.open(answerKeys, false)
	if it.zero {
		*a = Answer{}
	}
	for r.field(&it) {
		switch it.f {
		case 0:
			a.ID = r.str()
		case 1:
			a.Op = opCode(r.uint())
		case 2:
			a.Hash = r.uint()
		case 3:
			r.figures(&a.N)
		case 4:
			r.allocs(&a.Allocs, nil)
		case 5:
			r.governance(&a.Gov)
		default:
			r.skip()
		}
	}
}

// figures decodes a fixed array: nil leaves it as it is, a shorter array
// sets its first elements.
func (r *evReader) figures(n *[8]int64) {
	l := r.arrayLen()
	if l > len(n) {
		r.Failf("an array of %d values for [%d]int64", l, len(n))
	}
	for i := 0; i < l && r.Err == nil; i++ {
		n[i] = r.int()
	}
}

func (r *evReader) allocs(s *[]Allocation, spare []Allocation) {
	list(r, s, spare, r.allocation)
}

func (r *evReader) allocation(a *Allocation) {
	it := r.open(allocationKeys, false)
	if it.zero {
		*a = Allocation{}
	}
	for r.field(&it) {
		switch it.f {
		case 0:
			a.Grant = r.str()
		case 1:
			a.Amount = r.int()
		default:
			r.skip()
		}
	}
}

func (r *evReader) meta(m *Meta) {
	mapOf(r, (*map[string]string)(m), r.str)
}

// mapOf decodes into *m as the library does: nil makes it nil, entries are
// added to the map it holds (a repeated key), each value decoded anew.
func mapOf[V any](r *evReader, m *map[string]V, val func() V) {
	n := r.mapLen()
	switch {
	case r.Err != nil:
		return
	case n < 0:
		*m = nil
		return
	case *m == nil:
		// Sized by what is read, not by the header: a map costs far more
		// than the two bytes per entry the length check allows.
		*m = make(map[string]V, min(n, 16))
	}
	for range n {
		k := r.str()
		v := val() // by value: a pointer to v would move it to the heap
		if r.Err != nil {
			return
		}
		(*m)[k] = v
	}
}

package actors

// Configured and the governance it carries are decoded by hand like every
// other event (though written by the library, see appendEvent): its lists
// and maps take lengths from the batch like any other, and a hostile one
// must not allocate.

func (r *evReader) configured() Event {
	e := new(Configured)
	for it := r.open(configuredKeys, true); r.field(&it); {
		switch it.f {
		case 0, 1, fieldHead:
			r.headField(&e.Head, it.f)
		case 2:
			r.settings(&e.Settings)
		case 3:
			r.governance(&e.Governance)
		case 4:
			r.answer(&e.Answer)
		case 5:
			e.RescaleRates = r.bool()
		default:
			r.skip()
		}
	}
	return e
}

func (r *evReader) settings(s *Settings) {
	it := r.open(settingsKeys, false)
	if it.zero {
		*s = Settings{}
	}
	for r.field(&it) {
		switch it.f {
		case 0:
			s.Mode = Mode(r.uint())
		case 1:
			s.OverdraftLimit = r.int()
		case 2:
			s.OverdraftPercent = r.int()
		case 3:
			s.PercentSet = r.bool()
		case 4:
			s.DefaultTTLms = r.int()
		case 5:
			s.Suspended = r.bool()
		default:
			r.skip()
		}
	}
}

// pointer decodes a *T as the library does: nil makes it nil; anything
// else is decoded into the T it points to, new if it was nil.
func pointer[T any](r *evReader, p **T, elem func(*T)) {
	if r.peekNil() {
		r.Off++
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	elem(*p)
}

func (r *evReader) governance(g **Governance) {
	pointer(r, g, func(g *Governance) {
		it := r.open(governanceKeys, false)
		if it.zero {
			*g = Governance{}
		}
		for r.field(&it) {
			switch it.f {
			case 0:
				mapOf(r, &g.Policies, func() (p Policy) { r.policy(&p); return p })
			case 1:
				mapOf(r, &g.Features, func() (f Feature) { r.feature(&f); return f })
			default:
				r.skip()
			}
		}
	})
}

func (r *evReader) policy(p *Policy) {
	it := r.open(policyKeys, false)
	if it.zero {
		*p = Policy{}
	}
	for r.field(&it) {
		switch it.f {
		case 0:
			list(r, &p.Caps, nil, r.capOf)
		case 1:
			list(r, &p.Rates, nil, r.rate)
		default:
			r.skip()
		}
	}
}

func (r *evReader) capOf(c *Cap) {
	it := r.open(capKeys, false)
	if it.zero {
		*c = Cap{}
	}
	for r.field(&it) {
		switch it.f {
		case 0:
			c.Window = Window(r.uint())
		case 1:
			c.Limit = r.int()
		default:
			r.skip()
		}
	}
}

func (r *evReader) rate(t *Rate) {
	it := r.open(rateKeys, false)
	if it.zero {
		*t = Rate{}
	}
	for r.field(&it) {
		switch it.f {
		case 0:
			t.Window = Window(r.uint())
		case 1:
			t.Requests = r.int()
		case 2:
			t.Credits = r.int()
		default:
			r.skip()
		}
	}
}

func (r *evReader) feature(f *Feature) {
	it := r.open(featureKeys, false)
	if it.zero {
		*f = Feature{}
	}
	for r.field(&it) {
		switch it.f {
		case 0:
			f.Enabled = r.bool()
		case 1:
			pointer(r, &f.Limit, r.featureLimit)
		default:
			r.skip()
		}
	}
}

func (r *evReader) featureLimit(l *FeatureLimit) {
	it := r.open(featureLimitKeys, false)
	if it.zero {
		*l = FeatureLimit{}
	}
	for r.field(&it) {
		switch it.f {
		case 0:
			l.Window = Window(r.uint())
		case 1:
			l.Amount = r.int()
		default:
			r.skip()
		}
	}
}

package actors

// Snapshot images over random command histories (rapid shrinks a failure
// to a short history). For a history cut at a random point:
//   - restoring the cut's image gives a wallet whose whole state (derived
//     structures included) equals the original's, and whose own image is
//     the same;
//   - the original and the restored wallet, fed the same further commands,
//     give the same replies and the same events;
//   - both end equal to a replay of every event from the start.

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// imgGen draws commands from small pools of ids, so retries, conflicts,
// closed holds and id eviction all happen often.
type imgGen struct {
	now    time.Time
	grants []string
	holds  []string
}

var imgStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func (g *imgGen) id(t *rapid.T) string {
	return fmt.Sprintf("r%d", rapid.IntRange(0, 40).Draw(t, "id"))
}

func (g *imgGen) pick(t *rapid.T, xs []string, label string) string {
	if len(xs) == 0 || rapid.IntRange(0, 9).Draw(t, label+"_new") == 0 {
		return g.id(t)
	}
	return xs[rapid.IntRange(0, len(xs)-1).Draw(t, label)]
}

func (g *imgGen) advance(t *rapid.T) {
	switch rapid.IntRange(0, 9).Draw(t, "clock") {
	case 0:
		g.now = g.now.Add(time.Duration(rapid.IntRange(1, 180).Draw(t, "minutes")) * time.Minute)
	case 1, 2, 3:
		g.now = g.now.Add(time.Duration(rapid.IntRange(1, 90).Draw(t, "seconds")) * time.Second)
	}
}

func (g *imgGen) command(t *rapid.T) Command {
	amount := func(label string) int64 { return rapid.Int64Range(1, 500).Draw(t, label) }
	ttl := func() int64 { return rapid.Int64Range(1, 120).Draw(t, "ttl_s") * 1000 }
	principal := rapid.SampledFrom([]string{"", "team:a", "team:a/user:b"}).Draw(t, "principal")
	switch rapid.IntRange(0, 11).Draw(t, "op") {
	case 0, 1:
		c := Grant{ID: g.id(t), Amount: amount("grant"),
			Kind: rapid.SampledFrom([]string{"promotional", "paid", "included"}).Draw(t, "kind")}
		if rapid.Bool().Draw(t, "pending") {
			c.EffectiveAt = g.now.Add(time.Duration(rapid.IntRange(1, 300).Draw(t, "eff_s")) * time.Second)
		}
		if rapid.Bool().Draw(t, "expiring") {
			c.ExpiresAt = g.now.Add(time.Duration(rapid.IntRange(301, 900).Draw(t, "exp_s")) * time.Second)
		}
		if rapid.IntRange(0, 4).Draw(t, "meta") == 0 {
			c.Meta = Meta{"k": "v"}
		}
		g.grants = append(g.grants, c.ID)
		return c
	case 2, 3, 4:
		c := Reserve{ID: g.id(t), Amount: amount("reserve"), TTLms: ttl(), Principal: principal}
		if rapid.Bool().Draw(t, "feature") {
			c.Feature = "chat"
		}
		if rapid.IntRange(0, 3).Draw(t, "capture") == 0 {
			c.OnExpiry = ExpireCapture
		}
		g.holds = append(g.holds, c.ID)
		return c
	case 5, 6:
		return Settle{ID: g.id(t), HoldID: g.pick(t, g.holds, "settle"), Actual: rapid.Int64Range(0, 600).Draw(t, "actual"),
			Final: rapid.IntRange(0, 3).Draw(t, "partial") != 0}
	case 7:
		return Release{ID: g.id(t), HoldID: g.pick(t, g.holds, "release")}
	case 8:
		c := Extend{ID: g.id(t), HoldID: g.pick(t, g.holds, "extend"), TTLms: ttl()}
		if rapid.Bool().Draw(t, "raise") {
			c.Amount = amount("extend")
		}
		return c
	case 9:
		return Debit{ID: g.id(t), Amount: amount("debit"), Principal: principal}
	case 10:
		if rapid.Bool().Draw(t, "revoke") {
			return Revoke{ID: g.id(t), GrantID: g.pick(t, g.grants, "revoke")}
		}
		mode := rapid.SampledFrom([]Mode{Strict, Optimistic}).Draw(t, "mode")
		limit := rapid.Int64Range(0, 300).Draw(t, "overdraft")
		c := Configure{ID: g.id(t), Mode: &mode, OverdraftLimit: &limit}
		if rapid.Bool().Draw(t, "governed") { // windows and buckets must survive an image
			c.Policies = map[string]Policy{"team:a": {Caps: []Cap{{Window: WindowMinute, Limit: 2000}},
				Rates: []Rate{{Window: WindowSecond, Requests: 3, Credits: 900}}}}
			c.Features = map[string]Feature{"chat": {Enabled: true, Limit: &FeatureLimit{Window: WindowHour, Amount: 5000}}}
		}
		return c
	}
	return Tick{}
}

// sortedImage orders an image's holds by id: their order is free.
func sortedImage(img *Image) *Image {
	c := *img
	c.Holds = slices.Clone(img.Holds)
	slices.SortFunc(c.Holds, func(a, b HoldImage) int { return strings.Compare(a.ID, b.ID) })
	return &c
}

type stepResult struct {
	evs   []Event
	reply Reply
	err   *Error
}

func step(w *Wallet, cmd Command, now time.Time) stepResult {
	evs, r, err := w.Execute(cmd, now, nil)
	return stepResult{evs, r, err}
}

func TestImageRestoresTheSameWallet(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		limits := DefaultLimits()
		limits.MaxRememberedIDs = rapid.IntRange(1, 30).Draw(rt, "max_ids")
		limits.IDRetention = time.Duration(rapid.IntRange(1, 60).Draw(rt, "retention_min")) * time.Minute
		g := &imgGen{now: imgStart}
		type timed struct {
			cmd Command
			now time.Time
		}
		n := rapid.IntRange(1, 120).Draw(rt, "steps")
		cmds := make([]timed, n)
		for i := range cmds {
			g.advance(rt)
			cmds[i] = timed{g.command(rt), g.now}
		}
		cut := rapid.IntRange(0, n).Draw(rt, "cut")

		orig := NewWallet("w1", limits)
		var all []Event
		for _, c := range cmds[:cut] {
			all = append(all, step(orig, c.cmd, c.now).evs...)
		}
		img := orig.Image(7)
		// Holds come in heap order; restoring must not depend on it.
		shuffled := *img
		shuffled.Holds = slices.Clone(img.Holds)
		slices.Reverse(shuffled.Holds)
		// The oldest ids may come as columns (snapshot format v3), after
		// rows already evicted.
		if rapid.Bool().Draw(rt, "columns") {
			shuffled = *frozenImage(rt, &shuffled, rapid.IntRange(0, len(img.IDs)).Draw(rt, "frozen"),
				rapid.IntRange(0, 3).Draw(rt, "evicted"))
		}
		restored, pos, err := FromImage(&shuffled, limits)
		if err != nil {
			rt.Fatalf("FromImage: %v", err)
		}
		if pos != 7 {
			rt.Fatalf("position %d, want 7", pos)
		}
		if err := checkInvariants(restored); err != nil {
			rt.Fatalf("restored wallet: %v", err)
		}
		if d := diffSnaps(snapshot(restored), snapshot(orig)); d != "" {
			rt.Fatalf("restored state differs: %s", d)
		}
		if again := restored.Image(7); !reflect.DeepEqual(flatImage(rt, again), flatImage(rt, img)) {
			rt.Fatalf("the restored wallet's image differs from the one it came from")
		}
		for i, c := range cmds[cut:] {
			a, b := step(orig, c.cmd, c.now), step(restored, c.cmd, c.now)
			if !reflect.DeepEqual(a, b) {
				rt.Fatalf("command %d after the cut (%s): original %+v, restored %+v", cut+i, c.cmd.Op(), a, b)
			}
			all = append(all, a.evs...)
		}
		replay := NewWallet("w1", limits)
		for _, e := range all {
			replay.Apply(e)
		}
		// A restored wallet's image (columns shared, part evicted, hold
		// statuses changed) restores the same wallet again.
		again, _, err := FromImage(restored.Image(8), limits)
		if err != nil {
			rt.Fatalf("FromImage of the restored wallet's image: %v", err)
		}
		if d := diffSnaps(snapshot(again), snapshot(replay)); d != "" {
			rt.Fatalf("restored twice differs from a full replay: %s", d)
		}
		if d := diffSnaps(snapshot(restored), snapshot(replay)); d != "" {
			rt.Fatalf("restored and continued differs from a full replay: %s", d)
		}
		if d := diffSnaps(snapshot(orig), snapshot(replay)); d != "" {
			rt.Fatalf("original differs from a full replay: %s", d)
		}
	})
}

// TestFromImageRefusesBrokenImages: an image is checked, not trusted; every
// broken invariant is ErrBadImage, never a panic or a wrong wallet.
func TestFromImageRefusesBrokenImages(t *testing.T) {
	limits := DefaultLimits()
	w := NewWallet("w1", limits)
	now := imgStart
	for _, c := range []Command{
		Grant{ID: "g1", Amount: 100, Kind: "paid"},
		Grant{ID: "g2", Amount: 50, Kind: "promotional", ExpiresAt: now.Add(time.Hour)},
		Reserve{ID: "h1", Amount: 70, TTLms: 60_000},
		Debit{ID: "d1", Amount: 5},
	} {
		if _, _, err := w.Execute(c, now, nil); err != nil {
			t.Fatalf("%s: %v", c.Op(), err)
		}
	}
	good := w.Image(3)
	if _, _, err := FromImage(good, limits); err != nil {
		t.Fatalf("a good image: %v", err)
	}
	deep := func() *Image {
		c := *good
		c.Grants = slices.Clone(good.Grants)
		c.Holds = slices.Clone(good.Holds)
		c.IDs = slices.Clone(good.IDs)
		return &c
	}
	other := limits
	other.MaxRememberedIDs = 10
	for name, spoil := range map[string]func(*Image){
		"position 0":         func(i *Image) { i.Pos = 0 },
		"free sum":           func(i *Image) { i.Free++ },
		"held sum":           func(i *Image) { i.Held-- },
		"negative debt":      func(i *Image) { i.Debt = -1 },
		"duplicate grant":    func(i *Image) { i.Grants = append(i.Grants, i.Grants[0]) },
		"grant state":        func(i *Image) { i.Grants[0].State = 9 },
		"earmark > grant":    func(i *Image) { i.Grants[0].Earmarked = i.Grants[0].Remaining + 1 },
		"unknown grant":      func(i *Image) { i.Holds[0].Earmarks = []Allocation{{Grant: "nope", Amount: 70}} },
		"hold not earmarked": func(i *Image) { i.Holds[0].Amount++ },
		"hold answer":        func(i *Image) { i.Holds[0].Answer.ID = "other" },
		"duplicate hold":     func(i *Image) { i.Holds = append(i.Holds, i.Holds[0]) },
		"id order":           func(i *Image) { i.IDs[0].At = i.IDs[len(i.IDs)-1].At + 1 },
		"id status open":     func(i *Image) { i.IDs[0].Hold = uint8(holdOpen) },
		"empty id":           func(i *Image) { i.IDs[0].Answer.ID = "" },
		"limits":             func(i *Image) { i.MaxRememberedIDs = other.MaxRememberedIDs },
		"mode":               func(i *Image) { i.Settings.Mode = 7 },
	} {
		img := deep()
		spoil(img)
		if _, _, err := FromImage(img, limits); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The same ids as columns (snapshot format v3): accepted as they are,
	// refused when any shape or order check fails.
	if _, _, err := FromImage(frozenImage(t, good, len(good.IDs), 1), limits); err != nil {
		t.Fatalf("good columns: %v", err)
	}
	for name, spoil := range map[string]func(*Image, *IDColumns){
		"first past the end":   func(_ *Image, c *IDColumns) { c.First = c.Len() + 1 },
		"negative first":       func(_ *Image, c *IDColumns) { c.First = -1 },
		"id ends out of order": func(_ *Image, c *IDColumns) { c.IDEnds[1] = c.IDEnds[0] - 1 },
		"answer ends":          func(_ *Image, c *IDColumns) { c.AnswerEnds[2] = c.AnswerEnds[1] - 1 },
		"ends past the bytes":  func(_ *Image, c *IDColumns) { c.IDEnds[c.Len()-1]++ },
		"short column":         func(_ *Image, c *IDColumns) { c.At = c.At[:1] },
		"empty id":             func(_ *Image, c *IDColumns) { c.IDEnds[1] = c.IDEnds[0] },
		"no op":                func(_ *Image, c *IDColumns) { c.Op[2] = uint8(opNone) },
		"status open":          func(_ *Image, c *IDColumns) { c.Hold[1] = uint8(holdOpen) },
		"time order":           func(_ *Image, c *IDColumns) { c.At[1] = c.At[2] + 1 },
		"records before":       func(i *Image, c *IDColumns) { i.IDs = []RecordImage{good.IDs[0]}; i.IDs[0].At = c.At[1] - 1 },
		"no answer decoder":    func(_ *Image, c *IDColumns) { c.DecodeAnswer = nil },
	} {
		img := frozenImage(t, good, len(good.IDs), 1)
		spoil(img, img.IDCols)
		if _, _, err := FromImage(img, limits); err == nil {
			t.Errorf("columns, %s: accepted", name)
		}
	}
	if _, _, err := FromImage(nil, limits); err == nil {
		t.Error("nil image accepted")
	}
}

// TestImageCoversEveryWalletField fails when the wallet gains state the
// image does not carry: add it to Image, Wallet.Image, FromImage and the
// snapshot format (a new format version once v1 is released), then here.
func TestImageCoversEveryWalletField(t *testing.T) {
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[Wallet]():   "id limits exists seq clock settings debt free held total spentOriginal grants order timers holds holdSlab expiries ids gov",
		reflect.TypeFor[grant]():    "id kind priority amount remaining earmarked effectiveAt expiresAt state meta timer inOrder",
		reflect.TypeFor[hold]():     "rec amount expiresAt gen entries slot onExpiry nmarks principal feature marks more",                  // gen, entries, slot: not state
		reflect.TypeFor[record]():   "hold pos h at answer",                                                                                // h, pos: where it is, not state
		reflect.TypeFor[idTable]():  "byID queue head evictedYoung sink memo ahead aheadGen prefetchAny slab allocs frozen epoch enqueued", // sink, memo, ahead(Gen), prefetchAny, slab, allocs, epoch, enqueued: not state; frozen: IDCols
		reflect.TypeFor[Answer]():   "ID Op Hash N Allocs Gov Attr",
		reflect.TypeFor[Settings](): "Mode OverdraftLimit OverdraftPercent PercentSet DefaultTTLms Suspended",
	} {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s has fields %v; the image knows %q", typ, got, want)
		}
	}
}

// A lazy image's rows read the queued records in place; they are the
// rows of the copied image, and keep the hold status they had when it was
// taken after a late settle closes a lapsed hold.
func TestLazyImageRowsAreTheImage(t *testing.T) {
	w := NewWallet("lazy", DefaultLimits())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := func(c Command) {
		t.Helper()
		if _, _, err := w.Execute(c, now, nil); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
	}
	run(Grant{ID: "g", Amount: 1_000_000, Kind: "paid"})
	for i := range 40 {
		id := "r" + strconv.Itoa(i)
		run(Reserve{ID: id, Amount: 10, TTLms: 1000})
		if i%2 == 0 {
			run(Settle{ID: "s" + id, HoldID: id, Actual: 5, Final: true})
		}
	}
	now = now.Add(2 * time.Second) // the odd holds lapse
	run(Debit{ID: "d", Amount: 1})
	lazy, full := w.lazyImage(1), w.Image(1)
	rows, want := lazy.IDRows(), full.IDRows()
	if lazy.IDs != nil || rows.Len() != want.Len() || rows.Len() == 0 {
		t.Fatalf("lazy image: %d IDs, %d rows; the image has %d", len(lazy.IDs), rows.Len(), want.Len())
	}
	lapsed := ""
	for i := range rows.Len() {
		if !reflect.DeepEqual(*rows.Answer(i), *want.Answer(i)) || rows.At(i) != want.At(i) || rows.Hold(i) != want.Hold(i) {
			t.Fatalf("row %d: lazy %+v at %d hold %d, image %+v at %d hold %d", i,
				*rows.Answer(i), rows.At(i), rows.Hold(i), *want.Answer(i), want.At(i), want.Hold(i))
		}
		if rows.Hold(i) == IDHoldLapsed {
			lapsed = rows.Answer(i).ID
		}
	}
	if lapsed == "" {
		t.Fatal("no lapsed hold among the rows")
	}
	run(Settle{ID: "late", HoldID: lapsed, Actual: 3, Final: true})
	for i := range rows.Len() {
		if rows.Answer(i).ID == lapsed && rows.Hold(i) != IDHoldLapsed {
			t.Fatalf("the lazy image's %s changed to %d after it was taken", lapsed, rows.Hold(i))
		}
	}
	lazy.fill()
	if !reflect.DeepEqual(lazy.IDs, full.IDs) || lazy.IDRows().Len() != len(full.IDs) {
		t.Fatal("the filled lazy image differs from the image taken with it")
	}
}

// A lazy image's rows say which id table they are in and how many records
// that table had queued and dropped before them (IDRows.Origin): the same
// table keeps its epoch and counts evictions; a restored wallet is
// another table, numbered from the records it was restored with.
func TestLazyImageOriginNumbersQueuedRecords(t *testing.T) {
	limits := DefaultLimits()
	limits.MaxRememberedIDs = 10
	w := NewWallet("origin", limits)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	debits := 0
	debit := func(w *Wallet) {
		t.Helper()
		debits++
		if _, _, err := w.Execute(Debit{ID: "d" + strconv.Itoa(debits), Amount: 1}, now, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.Execute(Grant{ID: "g", Amount: 1000, Kind: "paid"}, now, nil); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		debit(w) // with the grant: 5 ids queued
	}
	e1, f1, ok1 := w.lazyImage(1).IDRows().Origin()
	for range 10 {
		debit(w) // 15 queued, 5 evicted
	}
	rows := w.lazyImage(2).IDRows()
	e2, f2, ok2 := rows.Origin()
	if !ok1 || !ok2 || e1 != e2 || f1 != 0 || f2 != 5 || rows.Answer(0).ID != "d5" {
		t.Fatalf("origins (%d, %d, %v) then (%d, %d, %v), first row %s: want one epoch, 0 then 5, d5",
			e1, f1, ok1, e2, f2, ok2, rows.Answer(0).ID)
	}
	full := w.Image(2)
	if _, _, ok := full.IDRows().Origin(); ok {
		t.Fatal("a copied image's rows claim an id table")
	}
	restored, _, err := FromImage(full, limits)
	if err != nil {
		t.Fatal(err)
	}
	e3, f3, _ := restored.lazyImage(2).IDRows().Origin()
	debit(restored)
	e4, f4, _ := restored.lazyImage(3).IDRows().Origin()
	if e3 == e1 || e4 != e3 || f3 != 0 || f4 != 1 {
		t.Fatalf("restored: origins (%d, %d) then (%d, %d); want a new epoch, 0 then 1", e3, f3, e4, f4)
	}
}

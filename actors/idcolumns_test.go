package actors

import (
	"slices"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// fatalf is what these helpers need of a *testing.T or a *rapid.T.
type fatalf interface {
	Helper()
	Fatalf(string, ...any)
}

// answerRest is what the test codec keeps of an answer in a column (the
// snapshot package has its own, positional one).
type answerRest struct {
	Hash   uint64
	N      [8]int64
	Allocs []Allocation
	Gov    *Governance
	Attr   *Attribution
}

func decodeTestAnswer(b []byte, a *Answer) error {
	var r answerRest
	if err := msgpack.Unmarshal(b, &r); err != nil {
		return err
	}
	a.Hash, a.N, a.Allocs, a.Gov, a.Attr = r.Hash, r.N, r.Allocs, r.Gov, r.Attr
	return nil
}

// columnsOf puts rs in columns after evicted rows (copies of rs's first
// records; their contents must not matter).
func columnsOf(t fatalf, rs []RecordImage, evicted int) *IDColumns {
	t.Helper()
	c := &IDColumns{First: evicted, DecodeAnswer: decodeTestAnswer}
	rows := slices.Concat(rs[:min(evicted, len(rs))], make([]RecordImage, max(0, evicted-len(rs))), rs)
	for i, r := range rows {
		if i < evicted && r.Answer.ID == "" {
			r.Answer.ID = "gone"
		}
		c.IDs = append(c.IDs, r.Answer.ID...)
		c.IDEnds = append(c.IDEnds, uint32(len(c.IDs)))
		c.At = append(c.At, r.At)
		c.Hold = append(c.Hold, r.Hold)
		c.Op = append(c.Op, uint8(r.Answer.Op))
		b, err := msgpack.Marshal(answerRest{r.Answer.Hash, r.Answer.N, r.Answer.Allocs, r.Answer.Gov, r.Answer.Attr})
		if err != nil {
			t.Fatalf("%v", err)
		}
		c.Answers = append(c.Answers, b...)
		c.AnswerEnds = append(c.AnswerEnds, uint32(len(c.Answers)))
	}
	return c
}

// flatImage is img with its columns decoded into IDs, sorted as
// sortedImage does, so images of either shape compare.
func flatImage(t fatalf, img *Image) *Image {
	t.Helper()
	c := *sortedImage(img)
	rs, err := img.Records()
	if err != nil {
		t.Fatalf("records: %v", err)
	}
	c.IDs, c.IDCols = rs, nil
	if len(c.IDs) == 0 {
		c.IDs = nil
	}
	for i := range c.IDs {
		if len(c.IDs[i].Answer.Allocs) == 0 {
			c.IDs[i].Answer.Allocs = nil
		}
	}
	return &c
}

// frozenImage moves the oldest k of img's ids into columns after evicted
// dead rows, as a v3 snapshot decodes.
func frozenImage(t fatalf, img *Image, k, evicted int) *Image {
	t.Helper()
	c := *img
	k = min(k, len(img.IDs))
	c.IDCols = columnsOf(t, img.IDs[:k], evicted)
	c.IDs = img.IDs[k:]
	return &c
}

// TestRestoreDecodesNoFrozenAnswer: restoring reads no frozen answer, even
// for an open hold whose id a frozen record also has (an id reused after
// its retention): one that does not decode cannot fail or panic a restore,
// and the hold's own record answers for the id.
func TestRestoreDecodesNoFrozenAnswer(t *testing.T) {
	limits := DefaultLimits()
	w := NewWallet("w1", limits)
	now := imgStart
	for _, c := range []Command{Grant{ID: "g1", Amount: 100, Kind: "paid"}, Reserve{ID: "h1", Amount: 70, TTLms: 60_000}} {
		if _, _, err := w.Execute(c, now, nil); err != nil {
			t.Fatalf("%s: %v", c.Op(), err)
		}
	}
	img := w.Image(2)
	old := RecordImage{Answer: Answer{ID: "h1", Op: opDebit}, At: img.IDs[0].At - 1}
	c := columnsOf(t, []RecordImage{old}, 0)
	c.Answers[0] = 0xc1 // no msgpack value starts so
	img.IDCols = c
	restored, _, err := FromImage(img, limits)
	if err != nil {
		t.Fatalf("FromImage: %v", err)
	}
	evs, r, e := restored.Execute(Reserve{ID: "h1", Amount: 70, TTLms: 60_000}, now, nil)
	if e != nil || len(evs) != 0 || !r.(ReserveReply).Allowed {
		t.Fatalf("the retry of the open hold's reserve: %+v, %v, %d events", r, e, len(evs))
	}
}

// A store's answer decoder that panics is an undecodable answer: the
// lookup's batch fails with errFrozenAnswer (the actor then skips the
// snapshot), not with an ordinary panic that would rebuild from it again.
func TestAPanickingAnswerDecoderIsAnUndecodableAnswer(t *testing.T) {
	c := columnsOf(t, []RecordImage{{Answer: Answer{ID: "r1", Op: opDebit}, At: 1}}, 0)
	c.DecodeAnswer = func([]byte, *Answer) error { panic("boom") }
	if _, err := c.record(0); err == nil {
		t.Fatal("a panicking decoder gave no error")
	}
	f := newFrozenIDs(c)
	defer func() {
		if _, ok := recover().(errFrozenAnswer); !ok {
			t.Fatal("not reported as an undecodable frozen answer")
		}
	}()
	var r record
	f.record(0, &r)
}

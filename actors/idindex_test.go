package actors

import (
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// TestIDIndexAgainstAMap runs random sets, replacements and removals on a
// small pool of ids (so probe runs collide, wrap and shift) against a Go map.
func TestIDIndexAgainstAMap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		x := newIDIndex(rapid.IntRange(0, 40).Draw(rt, "hint"))
		model := map[string]*record{}
		var all []*record
		ids := rapid.IntRange(1, 200).Draw(rt, "ids")
		for step := range rapid.IntRange(1, 400).Draw(rt, "steps") {
			id := "id" + strconv.Itoa(rapid.IntRange(0, ids-1).Draw(rt, "id"))
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0, 1: // set: new id or a newer record of a known one
				r := &record{answer: Answer{ID: id}}
				x.set(r, hashID(id))
				model[id] = r
				all = append(all, r)
			case 2: // remove a record ever set: only the current one goes
				if len(all) == 0 {
					continue
				}
				r := all[rapid.IntRange(0, len(all)-1).Draw(rt, "which")]
				want := model[r.answer.ID] == r
				if got := x.remove(r, r.h); got != want {
					rt.Fatalf("step %d: remove(%s) = %v, want %v", step, r.answer.ID, got, want)
				}
				if want {
					delete(model, r.answer.ID)
				}
			}
			if x.len() != len(model) {
				rt.Fatalf("step %d: %d indexed, model %d", step, x.len(), len(model))
			}
			if 2*x.len() > len(x.slots) {
				rt.Fatalf("step %d: %d of %d slots used", step, x.len(), len(x.slots))
			}
			for i := range ids {
				id := "id" + strconv.Itoa(i)
				if got := x.get(id, hashID(id)); got != model[id] {
					rt.Fatalf("step %d: get(%s) = %p, want %p", step, id, got, model[id])
				}
			}
		}
		n := 0
		x.each(func(r *record) {
			n++
			if model[r.answer.ID] != r {
				rt.Fatalf("each yields %s, not its current record", r.answer.ID)
			}
		})
		if n != len(model) {
			rt.Fatalf("each yields %d records, model has %d", n, len(model))
		}
	})
}

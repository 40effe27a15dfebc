package actors

import "testing"

func TestMailboxOrderBoundAndMemory(t *testing.T) {
	m := newMailbox(1000)
	offer := func(n int) {
		t.Helper()
		for i := range n {
			if !m.offer(request{cmd: Reserve{ID: testID(i)}}) {
				t.Fatalf("offer %d refused below the bound", i)
			}
		}
	}
	// FIFO across a wrap of the ring, and drain's limit.
	offer(6)
	b := m.drain(nil, 4)
	offer(5)
	b = m.drain(b, 100)
	for i, r := range b {
		want := testID(i)
		if i >= 6 {
			want = testID(i - 6)
		}
		if got := RequestID(r.cmd); got != want {
			t.Fatalf("drained #%d = %s, want %s", i, got, want)
		}
	}
	// Full is an answer, not a wait.
	offer(1000)
	if m.offer(request{cmd: Reserve{ID: "over"}}) {
		t.Fatal("offer past the bound accepted")
	}
	// A drained 1,024-slot ring is given back; a busy 64-slot one is kept,
	// and given back once a drain uses little of it.
	if m.drain(nil, 2000); m.ring != nil {
		t.Fatalf("drained ring of %d slots kept", len(m.ring))
	}
	offer(64)
	if m.drain(nil, 100); len(m.ring) != 64 {
		t.Fatalf("busy ring: %d slots kept, want 64", len(m.ring))
	}
	offer(3)
	if m.drain(nil, 100); m.ring != nil {
		t.Fatalf("quiet ring of %d slots kept", len(m.ring))
	}
}

// testID names test request i.
func testID(i int) string { return "r" + itoa(i) }

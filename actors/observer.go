package actors

import "time"

// Observer receives the runtime's measurements; the metrics layer
// implements it. Calls come from actor goroutines, on the hot path: an
// implementation must be cheap and must not block (atomic counters,
// Prometheus collectors). The default does nothing.
type Observer interface {
	// Batch: an actor decided size requests; depth were still queued.
	Batch(size, depth int)
	// Appended: a journal append of events finished after d (err nil: it
	// landed and its replies go out now).
	Appended(d time.Duration, events []Event, err error)
	// Activated and Passivated: a wallet entered or left memory with this
	// many open holds.
	Activated(openHolds int)
	Passivated(openHolds int)
	// Panicked: deciding a batch panicked (a bug); the batch failed.
	Panicked()
	// ForgotYoungIDs: a wallet forgot n ids younger than their retention
	// because of the count bound (operators size the bound from it).
	ForgotYoungIDs(n uint64)
	// Loaded: a wallet was rebuilt in took, from a snapshot and the journal
	// after it (fromSnapshot) or from its whole journal, replaying this
	// many events — the age of its snapshot, in events.
	Loaded(replayed int, took time.Duration, fromSnapshot bool)
}

type noObserver struct{}

func (noObserver) Batch(int, int)                         {}
func (noObserver) Appended(time.Duration, []Event, error) {}
func (noObserver) Activated(int)                          {}
func (noObserver) Passivated(int)                         {}
func (noObserver) Panicked()                              {}
func (noObserver) ForgotYoungIDs(uint64)                  {}
func (noObserver) Loaded(int, time.Duration, bool)        {}

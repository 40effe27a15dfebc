// Package journal implements actors.Journal on a NATS JetStream stream.
//
// Layout: stream PURSER_JOURNAL, subjects purser.journal.<partition>.<wallet>,
// partition = FNV-1a 32(wallet) mod P, P fixed at creation in the stream's
// metadata. File storage, DenyDelete and DenyPurge: a wallet's state is the
// fold of its subject, so nothing may ever be removed. One actor batch is
// one message; its position is the message's stream sequence.
//
// Fencing: every message carries Nats-Expected-Last-Subject-Sequence = prev,
// so the server stores it only if the wallet's subject still ends at prev.
// A node that lost a wallet can never append to it (actors.ErrFenced).
//
// Group commit: with fsync on every write the server syncs once per stored
// message. Append only queues; one sender goroutine takes up to MaxBatch
// queued appends (one per wallet) and publishes them as one JetStream atomic
// batch, which nats-server (2.15.2, as pinned) commits with one coalesced fsync, each
// message on its own subject with its own fence. With fewer than MinBatch
// waiting, it sends one plain fenced publish instead (an atomic batch has a
// fixed cost; docs/journal.md has the figures). Up to MaxInflight batches
// are unsettled at once, so the next one fills while the server commits.
//
// That fixed cost is the server staging each R1 file-backed batch in a new
// on-disk file store before committing it; an embedded server started
// with embedded.Config.BatchStagingDir on a tmpfs stages this stream's
// batches there instead, which makes a batch cost little more than its
// one fsync. Nothing changes here: the commit is still fsynced before
// the ack, and a commit cut short by a power loss can only leave some of
// an unacknowledged batch's messages stored — each valid alone, and
// resolved like any unknown outcome. The server's other batch mode, the
// non-atomic "fast" batch, stores and fsyncs one message at a time, so
// it shares nothing; neither do pipelined async publishes.
//
// Group sync (ModeGroupSync, what `purser serve` runs on its embedded
// server): the server is started without per-write fsync, each append is
// a plain fenced publish, and an acknowledged publish only counts once
// Config.Sync (embedded.StreamSync: fsync of the stream's block files,
// which the server writes before it acks) has returned after its ack.
// One fsync covers every append acknowledged while the previous one ran,
// with no atomic batch and its staging in the way; the fence and the
// resolution below are unchanged. A failed fsync fails the journal for
// good (ErrNotDurable).
//
// Failure: the server checks every fence of an atomic batch before storing
// any of it and refuses the whole batch if one is stale, without saying
// which. Any batch without a clean ack — refused, timed out, cut off — is
// resolved by reading each wallet's last message from the stream leader and
// comparing its Purser-Append-Id header (unique per append): ours → acked at
// that position; still prev → not landed, resent with the same fence and id
// (so the first send and the resend can never both land); else → fenced.
// So only stale wallets fail; the others are resent, never lost or doubled,
// and no outcome is ever guessed.
//
// Reads walk a wallet's messages back from its subject's last one, each
// message's fence naming the one before it, with direct gets by sequence;
// a dense or long tail is read forwards with batched direct gets filtered
// on the wallet's subject (readback.go). No core subscription is ever
// placed on journal subjects.
package journal
